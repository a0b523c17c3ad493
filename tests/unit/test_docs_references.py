"""The docs stay true to the code: every test that docs/security.md names as the proof of a
property exists, and no document points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
TEST_REFERENCE = re.compile(r"(tests/[\w/]+\.py)(?:::(\w+))?")


def _references(document: Path) -> list[tuple[str, str | None]]:
    return [(m.group(1), m.group(2)) for m in TEST_REFERENCE.finditer(document.read_text())]


@pytest.mark.parametrize("document", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_named_test_exists(document: Path) -> None:
    missing = []
    for path, name in _references(document):
        source = ROOT / path
        if not source.is_file():
            missing.append(path)
        elif name and not re.search(rf"^(async )?def {name}\b", source.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, f"{document.name} names tests that do not exist: {missing}"


def test_the_security_model_names_its_proofs() -> None:
    assert len(_references(ROOT / "docs" / "security.md")) >= 40


@pytest.mark.parametrize("document", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_document_points_outside_the_repository(document: Path) -> None:
    assert "../shared" not in document.read_text()
