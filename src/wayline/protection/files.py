"""Stored files sealed at rest: a `Storage` (documents/storage.py) that seals what it puts
and opens what it hands back, with the envelope scheme of the fields.

A file under `journeys/<journey id>/...` is sealed with its journey's owner's data key (erasing
the subject makes their files unreadable too), bound to its journey and its storage key: a
file copied under another key does not open. The size and SHA-256 returned are those of the
file as given, as the documents table records them. Files are sealed whole, in memory: an
upload is at most WAYLINE_MAX_UPLOAD_BYTES.
"""

from __future__ import annotations

import hashlib
import io
from typing import IO, BinaryIO

from wayline.documents.storage import Storage, Stored
from wayline.protection import envelope
from wayline.protection.keys import DataKeys
from wayline.store import Store, journeys

FILES_SUBJECT = "wayline:files"  # files outside any journey's folder


class SealedStorage:
    def __init__(self, inner: Storage, keys: DataKeys, store: Store):
        self.inner = inner
        self.keys = keys
        self.store = store

    def put(self, key: str, stream: IO[bytes]) -> Stored:
        content = stream.read()
        journey = _journey_of(key)
        with self.store.write() as connection:
            subject = (journeys.owner_of(connection, journey) if journey else None) or FILES_SUBJECT
            version, data_key = self.keys.for_sealing(connection, subject)
        header = envelope.Header(subject, version, "personal")
        sealed = envelope.seal(data_key, header, journey or "", key, content)
        self.inner.put(key, io.BytesIO(sealed))
        return Stored(key, len(content), hashlib.sha256(content).hexdigest())

    def open(self, key: str) -> BinaryIO:
        with self.inner.open(key) as stored:
            blob = stored.read()
        try:
            header = envelope.header_of(blob)
        except envelope.NotAnEnvelope:
            return io.BytesIO(blob)  # stored before files were sealed
        with self.store.read() as connection:
            data_key = self.keys.for_opening(connection, header.subject, header.key_version)
        return io.BytesIO(envelope.open_sealed(data_key, blob, _journey_of(key) or "", key))

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def _journey_of(key: str) -> str | None:
    parts = key.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "journeys" else None
