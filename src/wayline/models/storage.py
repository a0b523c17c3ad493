"""Model files: skops, reproducible to the byte, loaded only with an explicit list of types.

A model file is a skops archive (a zip holding `schema.json` and one `.npy` per array). skops
never unpickles: it rebuilds objects from their declared type and state, and refuses any type
it is not told to trust. Pickle and joblib are never used to save or load a model (decision
0019).

Loading checks first, before skops reads anything but the schema, that every type the file
names is in TRUSTED_TYPES (the types training produces, spelt out below), and raises
UntrustedModel naming the others; then skops loads with that same list, never `trusted=True`.

skops names arrays by the object's `id()` and stamps zip entries with the time of writing, so
two dumps of one model differ. `to_bytes` rewrites the archive canonically: object ids and
array files numbered in order of appearance in the schema, entries in that order, stored
without compression (no zlib version in the bytes) and dated 1980-01-01. The same model gives
the same bytes.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

SCHEMA = "schema.json"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)

# Every type a trained model's file holds: the bundle (a dict of the pipeline, the mean
# prepared row and the column names), the pipeline's steps and the numpy values inside them.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.bool",
    "builtins.dict",
    "builtins.float",
    "builtins.int",
    "builtins.list",
    "builtins.slice",
    "builtins.str",
    "builtins.tuple",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "numpy.ndarray",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
)


class UntrustedModel(ValueError):
    """A model file naming types outside TRUSTED_TYPES; nothing of it was loaded."""

    def __init__(self, untrusted: list[str]) -> None:
        self.untrusted = untrusted
        super().__init__(f"the model file holds types that are not trusted: {untrusted}")


def to_bytes(obj: Any) -> bytes:
    """`obj` as a skops archive, canonical: the same object gives the same bytes."""
    import skops.io

    return canonical(skops.io.dumps(obj))


def from_bytes(data: bytes, trusted: tuple[str, ...] = TRUSTED_TYPES) -> Any:
    """The object in a skops archive whose types are all in `trusted`.

    Raises UntrustedModel (before anything is constructed) when the file names any other."""
    untrusted = sorted(types_in(data) - set(trusted))
    if untrusted:
        raise UntrustedModel(untrusted)
    import skops.io

    return skops.io.loads(data, trusted=list(trusted))


def types_in(data: bytes) -> set[str]:
    """Every `module.Class` named in a skops archive's schema (read as JSON, nothing built)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read(SCHEMA))
    return {f"{node['__module__']}.{node['__class__']}" for node in _nodes(schema)}


def canonical(data: bytes) -> bytes:
    """A skops archive rewritten so that its bytes depend on its content alone."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read(SCHEMA))
        ids: dict[int, int] = {}
        files: dict[str, str] = {}
        _renumber(schema, ids, files)
        blobs = [(new, archive.read(old)) for old, new in files.items()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        _write(archive, SCHEMA, json.dumps(schema, separators=(",", ":")).encode())
        for name, blob in blobs:
            _write(archive, name, blob)
    return out.getvalue()


def _renumber(node: Any, ids: dict[int, int], files: dict[str, str]) -> None:
    """Replace object ids and array file names by their order of first appearance."""
    if isinstance(node, list):
        for item in node:
            _renumber(item, ids, files)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("__id__"), int):
        node["__id__"] = ids.setdefault(node["__id__"], len(ids) + 1)
    if "__loader__" in node and isinstance(node.get("file"), str):
        suffix = node["file"].rpartition(".")[2]
        node["file"] = files.setdefault(node["file"], f"{len(files) + 1}.{suffix}")
    for value in node.values():
        _renumber(value, ids, files)


def _write(archive: zipfile.ZipFile, name: str, blob: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    archive.writestr(info, blob)


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _nodes(item)
    elif isinstance(node, dict):
        if isinstance(node.get("__class__"), str) and isinstance(node.get("__module__"), str):
            yield node
        for value in node.values():
            yield from _nodes(value)
