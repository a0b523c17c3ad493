"""The AWS KMS key provider against moto's KMS server on loopback: data keys made by
GenerateDataKey, bound to their subject by the EncryptionContext, and rotation from one KMS
key to another (the setting names the new key; `rotate` rewraps)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from journey_api import free_port
from moto.server import ThreadedMotoServer

from wayline.protection.keys import DataKeys
from wayline.protection.providers import KeyProviderError, KmsProvider, provider_from_setting
from wayline.store import Store
from wayline.store.database import make_engine
from wayline.store.migrate import upgrade

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-2",
}


@pytest.fixture(scope="module")
def kms() -> Iterator[tuple[str, Any]]:
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield endpoint, boto3.client("kms", endpoint_url=endpoint)
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def test_kms_wraps_per_subject_and_rotation_moves_to_a_new_key(
    kms: tuple[str, Any], tmp_path: Path
) -> None:
    endpoint, client = kms
    first = client.create_key(Description="wayline test KEK 1")["KeyMetadata"]["KeyId"]
    second = client.create_key(Description="wayline test KEK 2")["KeyMetadata"]["KeyId"]
    provider = provider_from_setting(f"kms://{first}", tmp_path, endpoint)
    assert isinstance(provider, KmsProvider) and provider.current_version() == first

    key, wrapped = provider.generate("alex")
    assert len(key) == 32 and key not in wrapped.blob
    assert provider.unwrap(wrapped, "alex") == key
    with pytest.raises(KeyProviderError):
        provider.unwrap(wrapped, "sam")  # the context binds the subject

    engine = make_engine(f"sqlite:///{tmp_path / 'kms.db'}")
    upgrade(engine)
    store = Store(engine)
    keys = DataKeys(provider)
    with store.write() as connection:
        version, alexs = keys.for_sealing(connection, "alex")
        keys.for_sealing(connection, "sam")
        assert keys.usage(connection) == {first: 2}

    # The setting now names the second key: rotation rewraps every data key under it.
    moved = DataKeys(KmsProvider(second, client))
    assert moved.rotate(store, batch=1).done == 2
    with store.read() as connection:
        assert moved.usage(connection) == {second: 2}
        assert moved.for_opening(connection, "alex", version) == alexs
    client.disable_key(KeyId=first)  # the old key is no longer needed to read
    with store.read() as connection:
        assert DataKeys(KmsProvider(second, client)).for_opening(connection, "alex", 1) == alexs
    engine.dispose()
