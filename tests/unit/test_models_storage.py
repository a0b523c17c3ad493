"""Model files: the same model gives the same bytes, and a file holding any type outside the
explicit list is refused before anything in it is built. Nothing in wayline.models unpickles."""

from __future__ import annotations

import ast
import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io
from sklearn.preprocessing import MinMaxScaler
from skops.io.exceptions import UntrustedTypesFoundException

from wayline.models import TRUSTED_TYPES, UntrustedModel
from wayline.models.storage import FIXED_TIME, from_bytes, to_bytes, types_in

MODELS = Path(__file__).resolve().parents[2] / "src" / "wayline" / "models"
built: list[str] = []


class Booby:
    """A type no list trusts: building it records that it was built."""

    def __init__(self) -> None:
        self.armed = True

    def __setstate__(self, state: dict[str, Any]) -> None:
        built.append("Booby")
        self.__dict__.update(state)


def test_the_same_object_gives_the_same_bytes_with_fixed_names_and_dates() -> None:
    bundle = {"weights": np.arange(6, dtype=np.float64), "names": ["a", "b"]}
    first, second = to_bytes(bundle), to_bytes({**bundle, "weights": bundle["weights"].copy()})
    assert first == second
    # skops alone names each array by its id(), which differs from one process to the next.
    raw = zipfile.ZipFile(io.BytesIO(skops.io.dumps(bundle))).namelist()
    assert f"{id(bundle['weights'])}.npy" in raw
    archive = zipfile.ZipFile(io.BytesIO(first))
    assert archive.namelist() == ["schema.json", "1.npy"]
    assert {info.date_time for info in archive.infolist()} == {FIXED_TIME}
    loaded = from_bytes(first)
    assert loaded["names"] == ["a", "b"] and loaded["weights"].tolist() == list(range(6))


def test_a_file_with_an_untrusted_type_is_refused_and_nothing_is_built() -> None:
    data = to_bytes({"weights": np.zeros(2), "extra": Booby()})
    assert any(name.endswith(".Booby") for name in types_in(data))
    built.clear()
    with pytest.raises(UntrustedModel) as refused:
        from_bytes(data)
    assert [t for t in refused.value.untrusted if t.endswith("Booby")]
    assert built == []
    # skops, given the same explicit list, refuses it too (the second line of defence).
    with pytest.raises(UntrustedTypesFoundException):
        skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    assert built == []


def test_a_type_skops_trusts_by_default_is_refused_when_not_in_the_list() -> None:
    scaler = MinMaxScaler().fit([[0.0], [1.0]])
    data = to_bytes({"pipeline": scaler})
    assert skops.io.get_untrusted_types(data=data) == []  # skops alone would load it
    with pytest.raises(UntrustedModel, match="MinMaxScaler"):
        from_bytes(data)


def test_no_module_of_the_models_package_imports_pickle_or_joblib() -> None:
    imported: set[str] = set()
    for path in MODELS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
    assert "skops" in imported  # the scan sees imports inside functions too
    assert not imported & {"pickle", "joblib", "cloudpickle", "dill", "marshal", "shelve"}


def test_a_half_written_version_is_not_a_version(tmp_path: Path) -> None:
    """A folder with a model file and no card (a trainer stopped half way) is passed over by
    the listing and by what journey definitions are checked against, rather than failing
    every process that reads the models."""
    import shutil

    from wayline.models import versions
    from wayline.models.facts import facts

    root = tmp_path / "models"
    shutil.copytree(Path(__file__).resolve().parents[2] / "models", root)
    half = root / "claim-triage" / "2"
    half.mkdir()
    (half / "model.skops").write_bytes((root / "claim-triage" / "1" / "model.skops").read_bytes())
    assert versions(root, "claim-triage") == [1]
    assert set(facts(root)["claim-triage"].features) == {1}
