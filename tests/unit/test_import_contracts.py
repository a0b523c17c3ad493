"""The import contracts in pyproject.toml bite: each one, on a copy of the package with one
import that breaks it, makes lint-imports fail and name that contract; the package as it is
keeps them all.

lint-imports runs on the copy because a broken import must never be written to the real tree,
even for the length of a test that other processes may be reading.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(source_root: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports with the project's contracts over the `wayline` package in `source_root`
    (first on the path, ahead of the editable install), without a cache."""
    environment = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def package_copy(tmp_path: Path) -> Path:
    """A copy of src/wayline's Python sources under tmp_path/src; returns tmp_path/src."""
    source_root = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "wayline",
        source_root / "wayline",
        ignore=shutil.ignore_patterns("__pycache__", "*.html", "*.css", "*.js", "*.json"),
    )
    return source_root


def with_import(source_root: Path, module: str, statement: str) -> None:
    """Append `statement` to a module of the copy (a path relative to the package)."""
    path = source_root / "wayline" / module
    assert path.is_file(), f"no module {module} to break: the test needs a new target"
    path.write_text(path.read_text() + f"\n{statement}\n")


def test_the_package_keeps_every_contract(tmp_path: Path) -> None:
    result = lint_imports(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "statement", "contract"),
    [
        (
            "journeys/engine.py",
            "import wayline.web  # noqa",
            "The journey engine is pure: journeys imports nothing else of Wayline",
        ),
        (
            "journeys/values.py",
            "import wayline.store.journeys  # noqa",
            "The journey engine is pure: journeys imports nothing else of Wayline",
        ),
        (
            "runtime/presenter.py",
            "import wayline.web.problems  # noqa",
            "Nothing below the web layer imports wayline.web (only the CLI sits above it)",
        ),
        (
            "bootstrap.py",
            "import wayline.sandbox  # noqa",
            "Production code never imports the demo (only the CLI wires it)",
        ),
        (
            "documents/intake.py",
            "import wayline.store.documents  # noqa",
            "Documents are processed without the service layer or the database",
        ),
        (
            "runtime/presenter.py",
            "import sqlalchemy  # noqa",
            "All SQL lives in the store: no sqlalchemy elsewhere",
        ),
        (
            "store/journeys.py",
            "import wayline.runtime.presenter  # noqa",
            "No import cycles between Wayline's packages",
        ),
    ],
)
def test_an_import_that_breaks_a_contract_fails(
    tmp_path: Path, module: str, statement: str, contract: str
) -> None:
    source_root = package_copy(tmp_path)
    with_import(source_root, module, statement)
    result = lint_imports(source_root, tmp_path)
    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout, result.stdout
