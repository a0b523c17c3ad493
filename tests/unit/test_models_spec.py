"""Model specs: the shipped one loads, and a spec that could not explain itself does not."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from wayline.models import Kind, SpecError, load_spec
from wayline.models.spec import spec_from_document

SPEC = Path(__file__).resolve().parents[2] / "models" / "claim-triage" / "spec.yaml"


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


def _feature(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in document["features"] if f["name"] == name)
    return found


def test_the_shipped_spec_loads_with_every_kind_and_its_words() -> None:
    spec = load_spec(SPEC)
    assert spec.name == "claim-triage"
    assert {f.kind for f in spec.features} == {Kind.NUMBER, Kind.CATEGORY, Kind.FLAG}
    assert spec.feature("injuries").classification.value == "sensitive"
    assert spec.feature("incident_type").words.values["theft"] == "the car was stolen"
    assert all(f.expression.strip() for f in spec.features)
    assert set(spec.segments) == {"existing_customer", "new_to_digital", "possibly_vulnerable"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: _feature(d, "incident_type")["words"].pop("values"), "needs words.values"),
        (lambda d: _feature(d, "photos_count")["words"].pop("lower"), "needs words.higher and"),
        (
            lambda d: _feature(d, "photos_count")["words"].update(higher="{count} photos"),
            "only {value}, {label}",
        ),
        (lambda d: _feature(d, "injuries").update(reads=["claim.injuries"]), "not a path under"),
        (lambda d: _feature(d, "injuries").update(expression="  "), "expression"),
        (lambda d: _feature(d, "injuries").update(classification="secret"), "classification"),
        (lambda d: d["features"].append(_feature(d, "injuries")), "declared twice"),
        (lambda d: d["segments"].append("injuries"), "segment 'injuries' is also a feature"),
        (lambda d: d.update(colour="blue"), "colour"),
    ],
)
def test_a_spec_with_a_problem_is_refused_naming_it(change: Any, problem: str) -> None:
    document = _document()
    change(document)
    with pytest.raises(SpecError) as refused:
        spec_from_document(document, "spec.yaml")
    assert problem in str(refused.value)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "spec.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="spec.yaml"):
        load_spec(broken)
