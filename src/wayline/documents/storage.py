"""Object storage chosen by URL. `file://` keeps files under a folder; `s3://bucket/prefix`
keeps them in an S3 bucket (or an S3-compatible server), encrypted at rest by the server. Keys
are made by the server, never from a customer's file name, and a key that would leave the
folder or prefix is refused."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

CHUNK = 64 * 1024
# Files up to this size are held in memory on their way to and from S3; larger ones spill to a
# temporary file.
SPOOL = 8 * 1024 * 1024


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def put(self, key: str, stream: IO[bytes]) -> Stored: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None:
        """Remove what `key` holds; a key that holds nothing is not an error."""
        ...


class LocalStorage:
    def __init__(self, root: Path):
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        _check_key(key)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("storage key escapes the storage folder")
        return path

    def put(self, key: str, stream: IO[bytes]) -> Stored:
        path = self._path(key)
        # Private: folders 0700 and files 0600, whatever the process's umask.
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        partial = path.with_suffix(".partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)  # all or nothing: no half-written file under the real key
        return Stored(key, size, digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """Objects in an S3 bucket under a prefix, through boto3, with server-side encryption:
    SSE-S3 (AES256) by default, SSE-KMS (aws:kms) with `kms_key_id`. Credentials and region
    come from boto3's usual chain (environment, shared files, instance role).

    `put` hashes the file while spooling it, then uploads it with its SHA-256 as object
    metadata; `open` hands back a seekable copy (as the local files are), so Pillow and pypdf
    read an S3 object the same way as a file on disk."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        kms_key_id: str | None = None,
        client: Any = None,
    ):
        if not bucket:
            raise ValueError("an s3:// storage URL needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        prefix = prefix.strip("/")
        if prefix:
            _check_key(prefix)
        self.prefix = f"{prefix}/" if prefix else ""
        self.kms_key_id = kms_key_id
        if client is None:
            import boto3  # only when s3:// is configured

            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client

    def object_key(self, key: str) -> str:
        _check_key(key)
        return self.prefix + key

    def encryption(self) -> dict[str, str]:
        if self.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    def put(self, key: str, stream: IO[bytes]) -> Stored:
        name = self.object_key(key)
        digest, size = hashlib.sha256(), 0
        with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                spool.write(chunk)
            spool.seek(0)
            # One object, written whole or not at all: S3 never shows a partial upload.
            self.client.upload_fileobj(
                spool,
                self.bucket,
                name,
                ExtraArgs={**self.encryption(), "Metadata": {"sha256": digest.hexdigest()}},
            )
        return Stored(key, size, digest.hexdigest())

    def open(self, key: str) -> BinaryIO:
        name = self.object_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
        except self.client.exceptions.NoSuchKey:
            raise FileNotFoundError(f"no stored object {key!r}") from None
        body = response["Body"]
        copy = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 (the caller closes)
        try:
            while chunk := body.read(CHUNK):
                copy.write(chunk)
        except BaseException:
            copy.close()
            raise
        finally:
            body.close()
        copy.seek(0)
        # A binary file in all but name: typeshed declares SpooledTemporaryFile an IO[bytes],
        # not a BinaryIO (which only adds `write` overloads no caller here uses).
        return copy  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))


# A key is a relative path of plain segments: letters, digits and - _ . (not . or ..).
_SEGMENT = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")


def _check_key(key: str) -> None:
    """The same rule for every adapter, so a key that works on disk works on S3."""
    if len(key) > 900 or not all(_SEGMENT.fullmatch(s) for s in key.split("/")):
        raise ValueError(f"storage key {key[:100]!r} is not a plain relative path: it could escape")


def storage_from_url(
    url: str,
    *,
    s3_endpoint_url: str | None = None,
    s3_kms_key_id: str | None = None,
    s3_client: Any = None,
) -> Storage:
    """`file:///path/to/folder` or `s3://bucket[/prefix]` (with an S3-compatible server at
    `s3_endpoint_url`, and SSE-KMS with `s3_kms_key_id`)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(url2pathname(parsed.path)))
    if parsed.scheme == "s3":
        if parsed.query or parsed.params or parsed.fragment:
            raise ValueError("an s3:// storage URL is s3://bucket/prefix, without options")
        return S3Storage(
            parsed.netloc,
            parsed.path,
            endpoint_url=s3_endpoint_url,
            kms_key_id=s3_kms_key_id,
            client=s3_client,
        )
    raise ValueError(
        f"unsupported storage URL scheme '{parsed.scheme}' (supported: file://, s3://)"
    )
