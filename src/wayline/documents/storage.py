"""Object storage chosen by URL. `file://` keeps files under a folder; the documents issue adds
`s3://`. Keys are made by the server, never from a customer's file name."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Stored:
    key: str
    size: int
    sha256: str


class Storage(Protocol):
    def put(self, key: str, stream: BinaryIO) -> Stored: ...

    def open(self, key: str) -> BinaryIO: ...


class LocalStorage:
    def __init__(self, root: Path):
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("storage key escapes the storage folder")
        return path

    def put(self, key: str, stream: BinaryIO) -> Stored:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as out:
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


def storage_from_url(url: str) -> Storage:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(url2pathname(parsed.path)))
    raise ValueError(f"unsupported storage URL scheme '{parsed.scheme}' (supported: file://)")
