"""Storage by URL: `s3://bucket/prefix` through boto3 against moto's S3-compatible server on
loopback (a real HTTP server, so boto3 signs, streams and encrypts as it would against AWS),
and the same key rules on `file://`."""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path
from typing import Any

import boto3
import pytest

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.documents.storage import LocalStorage, S3Storage, storage_from_url
from wayline.protection.files import SealedStorage
from wayline.sandbox.wiring import demo_options

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
REGION = "eu-west-2"


@pytest.fixture
def s3(s3_server: str, aws_credentials: None) -> Any:
    return boto3.client("s3", endpoint_url=s3_server, region_name=REGION)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"wayline-{secrets.token_hex(4)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def test_put_then_open_round_trip(s3_server: str, s3: Any, bucket: str) -> None:
    storage = storage_from_url(f"s3://{bucket}/uploads", s3_endpoint_url=s3_server)
    assert isinstance(storage, S3Storage)
    content = os.urandom(3 * 1024 * 1024 + 17)  # past one part's worth of small reads
    stored = storage.put("journeys/01J0ABC/01J0DEF", io.BytesIO(content))
    assert stored.key == "journeys/01J0ABC/01J0DEF"
    assert stored.size == len(content)
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    with storage.open(stored.key) as read:
        assert read.read() == content
        read.seek(0)  # seekable, as a file on disk is: Pillow and pypdf need that
        assert read.read(10) == content[:10]
    # Under the prefix, with its SHA-256 kept beside it.
    head = s3.head_object(Bucket=bucket, Key="uploads/journeys/01J0ABC/01J0DEF")
    assert head["ContentLength"] == len(content)
    assert head["Metadata"]["sha256"] == stored.sha256


def test_objects_are_encrypted_at_rest_with_aes256_by_default(
    s3_server: str, s3: Any, bucket: str
) -> None:
    storage = storage_from_url(f"s3://{bucket}", s3_endpoint_url=s3_server)
    storage.put("journeys/j1/d1", io.BytesIO(b"photo"))
    head = s3.head_object(Bucket=bucket, Key="journeys/j1/d1")
    assert head["ServerSideEncryption"] == "AES256"


def test_objects_are_encrypted_with_the_kms_key_when_one_is_configured(
    s3_server: str, s3: Any, bucket: str
) -> None:
    kms = boto3.client("kms", endpoint_url=s3_server, region_name=REGION)
    key_id = kms.create_key(Description="wayline documents")["KeyMetadata"]["KeyId"]
    storage = storage_from_url(
        f"s3://{bucket}/evidence", s3_endpoint_url=s3_server, s3_kms_key_id=key_id
    )
    storage.put("journeys/j1/d1", io.BytesIO(b"photo"))
    head = s3.head_object(Bucket=bucket, Key="evidence/journeys/j1/d1")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert key_id in head["SSEKMSKeyId"]
    with storage.open("journeys/j1/d1") as read:
        assert read.read() == b"photo"


ESCAPING = [
    "../outside",
    "journeys/../../outside",
    "/absolute",
    "journeys//double",
    "journeys/./here",
    "journeys/..",
    "journeys\\..\\outside",
    "journeys/with space",
    "journeys/nul\x00byte",
    "",
    ".hidden",
]


@pytest.mark.parametrize("key", ESCAPING)
def test_keys_that_could_escape_are_refused_on_s3(
    s3_server: str, s3: Any, bucket: str, key: str
) -> None:
    storage = storage_from_url(f"s3://{bucket}/uploads", s3_endpoint_url=s3_server)
    with pytest.raises(ValueError):
        storage.put(key, io.BytesIO(b"x"))
    with pytest.raises(ValueError):
        storage.open(key)
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.mark.parametrize("key", ESCAPING)
def test_the_same_keys_are_refused_on_disk(tmp_path: Path, key: str) -> None:
    storage = storage_from_url((tmp_path / "files").as_uri())
    assert isinstance(storage, LocalStorage)
    with pytest.raises(ValueError):
        storage.put(key, io.BytesIO(b"x"))
    assert not any(tmp_path.rglob("*x*"))


def test_a_missing_object_is_file_not_found_as_on_disk(
    s3_server: str, bucket: str, tmp_path: Path
) -> None:
    on_s3 = storage_from_url(f"s3://{bucket}", s3_endpoint_url=s3_server)
    on_disk = storage_from_url(tmp_path.as_uri())
    for storage in (on_s3, on_disk):
        with pytest.raises(FileNotFoundError):
            storage.open("journeys/nope/nope")


def test_storage_urls() -> None:
    with pytest.raises(ValueError):
        storage_from_url("s3:///no-bucket")
    with pytest.raises(ValueError):
        storage_from_url("s3://bucket/prefix?sse=none")
    with pytest.raises(ValueError):
        storage_from_url("ftp://host/files")


def test_the_application_stores_on_s3_when_configured(
    s3_server: str, s3: Any, bucket: str, tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        database_url=f"sqlite:///{tmp_path / 'wayline.db'}",
        storage_url=f"s3://{bucket}/wayline",
        s3_endpoint_url=s3_server,
        journeys_dir=JOURNEYS,
        secret_key="test",
    )
    components = build(settings, migrate=True, **demo_options())
    try:
        # Files are sealed by the application (docs/data-protection.md) on top of S3's own
        # encryption: the bucket holds the envelope, and the storage opens it again.
        assert isinstance(components.storage, SealedStorage)
        assert isinstance(components.storage.inner, S3Storage)
        components.storage.put("journeys/j/d", io.BytesIO(b"evidence"))
        held = s3.get_object(Bucket=bucket, Key="wayline/journeys/j/d")["Body"].read()
        assert b"evidence" not in held and len(held) > len(b"evidence")
        with components.storage.open("journeys/j/d") as stored:
            assert stored.read() == b"evidence"
    finally:
        components.store.engine.dispose()


def test_delete_removes_an_object_and_missing_is_fine(
    s3_server: str, s3: Any, bucket: str, tmp_path: Path
) -> None:
    on_s3 = storage_from_url(f"s3://{bucket}/p", s3_endpoint_url=s3_server)
    on_disk = storage_from_url((tmp_path / "files").as_uri())
    for storage in (on_s3, on_disk):
        storage.put("journeys/j/d", io.BytesIO(b"x"))
        storage.delete("journeys/j/d")
        with pytest.raises(FileNotFoundError):
            storage.open("journeys/j/d")
        storage.delete("journeys/j/d")  # again: nothing to remove, no error
        with pytest.raises(ValueError):
            storage.delete("../outside")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
