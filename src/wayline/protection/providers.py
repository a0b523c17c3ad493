"""Key-encryption key (KEK) providers: they wrap and unwrap data keys, and never hand out a
KEK itself.

- `LocalKeyring`: a JSON file in WAYLINE_HOME (created 0600) holding every KEK version, the
  demo's default and a single machine's. Fine for a laptop; in production use a KMS.
- `KmsProvider`: AWS KMS through boto3 (GenerateDataKey, Encrypt, Decrypt), with the data
  subject as the EncryptionContext, so a wrapped key moved to another subject does not unwrap.

A KEK version is a string: `local-N` for the keyring, the key's id (or ARN) for KMS. Rotation
makes a new version current; wrapped keys keep naming the version that wrapped them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wayline.protection.envelope import KEY_BYTES, NONCE_BYTES


class KeyProviderError(RuntimeError):
    """The provider cannot do what was asked (an unknown or retired version, a KMS refusal)."""


@dataclass(frozen=True)
class Wrapped:
    """A data key as stored: wrapped, and the KEK version that wrapped it."""

    blob: bytes
    kek_version: str


class KeyProvider(Protocol):
    """Wraps data keys under the current KEK, unwraps under any version still kept."""

    def current_version(self) -> str: ...

    def generate(self, subject: str) -> tuple[bytes, Wrapped]:
        """A new random data key for `subject`, and it wrapped under the current KEK."""
        ...

    def wrap(self, key: bytes, subject: str) -> Wrapped: ...

    def unwrap(self, wrapped: Wrapped, subject: str) -> bytes: ...

    def new_version(self) -> str:
        """Make a new KEK version current (for KMS: the key the setting names now)."""
        ...

    def retire(self, version: str) -> None:
        """Forget a KEK version: what it wrapped no longer unwraps."""
        ...


def _subject_bytes(subject: str) -> bytes:
    return f"wayline-data-key|{subject}".encode()


class LocalKeyring:
    """KEK versions in a JSON file: {"current": "local-2", "keys": {"local-1": b64, ...}}.

    The file is written whole to a temporary file (0600) and renamed over the old one, so a
    crash never leaves half a keyring."""

    def __init__(self, path: Path):
        self.path = path
        self._keys: dict[str, bytes] = {}
        self._current = ""
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            self._keys = {"local-1": secrets.token_bytes(KEY_BYTES)}
            self._current = "local-1"
            self._save()
            return
        body = json.loads(self.path.read_text())
        self._keys = {name: base64.b64decode(value) for name, value in body["keys"].items()}
        self._current = body["current"]

    def _save(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = {
            "current": self._current,
            "keys": {name: base64.b64encode(key).decode() for name, key in self._keys.items()},
        }
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(body, file)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.path)

    def current_version(self) -> str:
        return self._current

    def versions(self) -> list[str]:
        return sorted(self._keys, key=lambda name: int(name.split("-")[1]))

    def generate(self, subject: str) -> tuple[bytes, Wrapped]:
        key = secrets.token_bytes(KEY_BYTES)
        return key, self.wrap(key, subject)

    def wrap(self, key: bytes, subject: str) -> Wrapped:
        nonce = secrets.token_bytes(NONCE_BYTES)
        kek = AESGCM(self._keys[self._current])
        return Wrapped(nonce + kek.encrypt(nonce, key, _subject_bytes(subject)), self._current)

    def unwrap(self, wrapped: Wrapped, subject: str) -> bytes:
        kek = self._keys.get(wrapped.kek_version)
        if kek is None:
            self._load()  # another process may have rotated since this one read the file
            kek = self._keys.get(wrapped.kek_version)
        if kek is None:
            raise KeyProviderError(f"KEK version {wrapped.kek_version} is not in the keyring")
        nonce, body = wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:]
        try:
            return AESGCM(kek).decrypt(nonce, body, _subject_bytes(subject))
        except InvalidTag as error:
            raise KeyProviderError("a wrapped data key that does not unwrap here") from error

    def new_version(self) -> str:
        self._load()
        number = max(int(name.split("-")[1]) for name in self._keys) + 1
        self._current = f"local-{number}"
        self._keys[self._current] = secrets.token_bytes(KEY_BYTES)
        self._save()
        return self._current

    def retire(self, version: str) -> None:
        self._load()
        if version == self._current:
            raise KeyProviderError("the current KEK version cannot be retired")
        self._keys.pop(version, None)
        self._save()


class KmsProvider:
    """AWS KMS: the current KEK is the key the setting names (kms://KEY-ID); any key that
    wrapped a data key still unwraps it, as long as KMS lets us use it."""

    def __init__(self, key_id: str, client: Any):
        self.key_id = key_id
        self.client = client

    def _context(self, subject: str) -> dict[str, str]:
        return {"wayline:subject": subject}

    def current_version(self) -> str:
        return self.key_id

    def generate(self, subject: str) -> tuple[bytes, Wrapped]:
        answer = self.client.generate_data_key(
            KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=self._context(subject)
        )
        return answer["Plaintext"], Wrapped(answer["CiphertextBlob"], self.key_id)

    def wrap(self, key: bytes, subject: str) -> Wrapped:
        answer = self.client.encrypt(
            KeyId=self.key_id, Plaintext=key, EncryptionContext=self._context(subject)
        )
        return Wrapped(answer["CiphertextBlob"], self.key_id)

    def unwrap(self, wrapped: Wrapped, subject: str) -> bytes:
        try:
            answer = self.client.decrypt(
                KeyId=wrapped.kek_version,
                CiphertextBlob=wrapped.blob,
                EncryptionContext=self._context(subject),
            )
        except Exception as error:  # botocore's ClientError and its kin: the reason is KMS's
            raise KeyProviderError(f"KMS refused to unwrap: {type(error).__name__}") from error
        plaintext: bytes = answer["Plaintext"]
        return plaintext

    def new_version(self) -> str:
        # KMS keys are rotated in KMS (or a new key is named in the setting); rotation here
        # rewraps every data key under the key the setting names now.
        return self.key_id

    def retire(self, version: str) -> None:
        # Disabling or scheduling the deletion of a KMS key is for its owners, in KMS.
        return None


def provider_from_setting(setting: str, home: Path, kms_endpoint: str | None = None) -> Any:
    """`local` (the keyring file in `home`), or `kms://KEY-ID` (AWS KMS; the endpoint is for
    a KMS-compatible server such as a test's)."""
    if setting == "local":
        return LocalKeyring(home / "keyring.json")
    if setting.startswith("kms://") and len(setting) > len("kms://"):
        import boto3

        client = boto3.client("kms", endpoint_url=kms_endpoint)
        return KmsProvider(setting[len("kms://") :], client)
    raise ValueError("WAYLINE_KEY_PROVIDER is local or kms://KEY-ID")
