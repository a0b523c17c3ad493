"""A customer's data as a machine-readable archive (docs/data-protection.md#export): one JSON
document per journey (its state and answers opened, events, cases with their notes and tasks,
documents' records), the documents' original files opened, and a manifest naming every file
with its size and SHA-256. Written to a folder, or to a `.zip` when the name ends so."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wayline.store import documents, lifecycle

if TYPE_CHECKING:
    from wayline.documents.storage import Storage
    from wayline.runtime.clock import Clock
    from wayline.store import Store

MANIFEST = "manifest.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Archive:
    """The archive's files by path, manifest included."""

    files: dict[str, bytes]

    def write(self, out: Path) -> Path:
        """Write to `out`: a zip if it ends in `.zip`, else a folder (made if missing)."""
        if out.suffix == ".zip":
            out.parent.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for path, body in self.files.items():
                    archive.writestr(path, body)
            return out
        for path, body in self.files.items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        return out

    def zipped(self) -> bytes:
        """The archive as the bytes of a zip (for the API)."""
        import io

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path, body in self.files.items():
                archive.writestr(path, body)
        return buffer.getvalue()


def _json(body: Any) -> bytes:
    return json.dumps(body, indent=2, sort_keys=True, default=str).encode()


def export(store: Store, storage: Storage, clock: Clock, customer_id: str) -> Archive:
    """Everything kept of the customer, opened; read in one read transaction."""
    files: dict[str, bytes] = {}
    with store.read() as connection:
        owned = lifecycle.journeys_of_customer(connection, customer_id)
        for facts in owned:
            body = lifecycle.journey_record(connection, facts)
            files[f"journeys/{facts.id}.json"] = _json(body)
            for document in body["documents"]:
                record = documents.record(connection, facts.id, document["id"])
                if record is None:
                    continue
                name = _UNSAFE.sub("_", str(record["filename"]))[:100]
                with storage.open(record["storage_key"]) as stream:
                    files[f"documents/{facts.id}/{record['id']}-{name}"] = stream.read()
    manifest = {
        "customer_id": customer_id,
        "exported_at": clock.now().isoformat(),
        "journeys": len(owned),
        "files": [
            {"path": path, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for path, body in sorted(files.items())
        ],
    }
    return Archive({**files, MANIFEST: _json(manifest)})
