"""AES-256-GCM envelopes: a compact, self-describing ciphertext bound to where it belongs.

The format (version 1), all of it authenticated:

    0x01 | subject length (1 byte) | subject (UTF-8) | data key version (4 bytes, big-endian)
         | classification (1 byte) | nonce (12 bytes) | ciphertext and GCM tag

The header names everything a reader needs to find the key (the data subject and the version
of their data key) and how sensitive the value is. The associated data is the header followed
by the journey and the field the value belongs to, which the reader supplies from where it
found the value (the row, the column, the key in the JSON): a ciphertext copied into another
journey's row, or under another field, fails to decrypt instead of reading as that field.

In text (JSON values, text columns) an envelope is `wl1:` and its bytes in unpadded base64url.
"""

from __future__ import annotations

import base64
import functools
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
TEXT_PREFIX = "wl1:"
KEY_BYTES = 32
NONCE_BYTES = 12
# Codes for the classifications that are encrypted (the others are never sealed).
CLASSIFICATIONS = ("public", "internal", "personal", "sensitive", "financial")


class NotAnEnvelope(ValueError):
    """Bytes or text that are not an envelope of a version this code reads."""


class WrongPlace(ValueError):
    """An envelope that does not decrypt here: moved from another row or field, altered, or
    under a key that is not the one its header names."""


@dataclass(frozen=True)
class Header:
    """What an envelope says about itself, in clear (and authenticated)."""

    subject: str
    key_version: int
    classification: str

    def to_bytes(self) -> bytes:
        subject = self.subject.encode()
        if not subject or len(subject) > 255:
            raise ValueError("a data subject's id is 1 to 255 bytes of UTF-8")
        code = CLASSIFICATIONS.index(self.classification)
        return (
            bytes((FORMAT_VERSION, len(subject)))
            + subject
            + struct.pack(">IB", self.key_version, code)
        )


@functools.lru_cache(maxsize=1024)
def _cipher(key: bytes) -> AESGCM:
    """The AES-GCM instance of a data key, built once: building one costs as much as sealing a
    small value. Bounded; `forget_ciphers` empties it (a subject's keys deleted)."""
    return AESGCM(key)


def forget_ciphers() -> None:
    _cipher.cache_clear()


def _associated(header: bytes, journey: str, field: str) -> bytes:
    # Lengths first, so that ("ab", "c") and ("a", "bc") never give the same bytes.
    place = f"{len(journey)}:{journey}|{len(field)}:{field}".encode()
    return header + place


def seal(key: bytes, header: Header, journey: str, field: str, plaintext: bytes) -> bytes:
    """Encrypt `plaintext` for `field` of `journey` under `key` (the data key the header
    names), with a fresh random nonce."""
    head = header.to_bytes()
    nonce = os.urandom(NONCE_BYTES)
    return head + nonce + _cipher(key).encrypt(nonce, plaintext, _associated(head, journey, field))


def header_of(blob: bytes) -> Header:
    """The header of an envelope; NotAnEnvelope when `blob` is not one."""
    _, header = _split(blob)
    return header


def open_sealed(key: bytes, blob: bytes, journey: str, field: str) -> bytes:
    """The plaintext of an envelope found at `field` of `journey`; WrongPlace when it was not
    sealed there (or under this key)."""
    end, _ = _split(blob)
    nonce, body = blob[end : end + NONCE_BYTES], blob[end + NONCE_BYTES :]
    try:
        return _cipher(key).decrypt(nonce, body, _associated(blob[:end], journey, field))
    except InvalidTag as error:
        raise WrongPlace(f"an envelope that does not belong to {field}") from error


def _split(blob: bytes) -> tuple[int, Header]:
    """Where the header ends, and the header."""
    if len(blob) < 2 or blob[0] != FORMAT_VERSION:
        raise NotAnEnvelope("not a version 1 envelope")
    end = 2 + blob[1]
    if len(blob) < end + 5 + NONCE_BYTES + 16:
        raise NotAnEnvelope("an envelope too short to hold its header, nonce and tag")
    try:
        subject = blob[2:end].decode()
        key_version, code = struct.unpack(">IB", blob[end : end + 5])
        classification = CLASSIFICATIONS[code]
    except (UnicodeDecodeError, IndexError) as error:
        raise NotAnEnvelope("an envelope with a header that cannot be read") from error
    return end + 5, Header(subject, key_version, classification)


def to_text(blob: bytes) -> str:
    return TEXT_PREFIX + base64.urlsafe_b64encode(blob).rstrip(b"=").decode()


def from_text(text: str) -> bytes:
    if not text.startswith(TEXT_PREFIX):
        raise NotAnEnvelope("text that is not an envelope")
    body = text[len(TEXT_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as error:
        raise NotAnEnvelope("an envelope that is not base64url") from error


def is_text_envelope(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TEXT_PREFIX)
