"""Retention rules in the definition language: the shorthand, the mapping, which rule a
journey falls under and when it expires, and the loader refusing an outcome a journey cannot
end with."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from wayline.journeys.loader import check_directory
from wayline.journeys.schema import Retention
from wayline.runtime.lifecycle import expiry, rules_of
from wayline.store.lifecycle import JourneyFacts

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"
AT = datetime(2026, 1, 1, tzinfo=UTC)
RULES = Retention(default="P7Y", drafts="P30D", outcomes={"declined": "P5Y", "not_covered": "P1Y"})


def facts(status: str, outcome: str | None = None, submitted: bool = True) -> JourneyFacts:
    return JourneyFacts(
        "j1", "motor-claim", "v1", "alex", status, outcome, AT, AT if submitted else None
    )


def test_the_shorthand_is_the_default_and_a_mapping_is_read_whole() -> None:
    assert rules_of("P6Y") == Retention(default="P6Y")
    assert rules_of({"drafts": "P30D", "outcomes": {"declined": "P5Y"}}).default == "P7Y"
    with pytest.raises(ValidationError):
        rules_of({"drafts": "thirty days"})


@pytest.mark.parametrize(
    ("journey", "rule", "after"),
    [
        (facts("in_progress", submitted=False), "drafts P30D", timedelta(days=30)),
        (facts("abandoned", submitted=False), "drafts P30D", timedelta(days=30)),
        (facts("declined"), "outcomes.declined P5Y", timedelta(days=5 * 365)),
        (facts("decided", outcome="not_covered"), "outcomes.not_covered P1Y", timedelta(days=365)),
        (facts("closed", outcome="approved"), "default P7Y", timedelta(days=7 * 365)),
    ],
)
def test_which_rule_and_when(journey: JourneyFacts, rule: str, after: timedelta) -> None:
    assert expiry(journey, RULES) == (rule, AT + after)


def test_a_journey_in_flight_never_expires() -> None:
    assert expiry(facts("submitted"), RULES) is None
    assert expiry(facts("in_review"), RULES) is None


def test_the_loader_refuses_an_outcome_the_journey_cannot_end_with(tmp_path: Path) -> None:
    copy = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, copy)
    path = copy / "account-opening.yaml"
    path.write_text(path.read_text().replace("{declined: P5Y}", "{declind: P5Y}"))
    journeys, errors = check_directory(copy)
    assert "account-opening" not in journeys
    assert len(errors) == 1
    assert "no outcome or ending status 'declind'" in errors[0].message
    assert errors[0].line is not None
