"""Who a visitor's journey passes to (runtime/ownership.new_owner): the definition's `owner`
over answers and partner data, only once the journey is no longer in progress, only from a
visitor, and only to a usable customer id."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from wayline.journeys.engine import JourneyState, Status
from wayline.journeys.loader import Journey, check_directory
from wayline.runtime.ownership import new_owner

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
DEFINITION = """\
journey: open
title: Open something
who: anyone
owner: >-
  has(data.core) && has(data.core.customer_id)
  ? data.core.customer_id : answers.customer_number
reference_prefix: OPN
steps:
  - name: about
    title: About you
    fields:
      - name: customer_number
        type: text
        label: Customer number
        classification: internal
declaration:
  text: True enough
checks:  # the partner data `owner` reads comes from a source the journey names
  - name: known_customer
    title: Known to core banking
    source: core
    passes: "true"
    reason: We could not find you
"""


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Journey:
    folder = tmp_path_factory.mktemp("ownership")
    (folder / "open.yaml").write_text(DEFINITION, encoding="utf-8")
    journeys, errors = check_directory(folder)
    assert errors == []
    return journeys["open"]


def state(journey: Journey, **changes: object) -> JourneyState:
    base = JourneyState(
        id="j1",
        journey="open",
        version=journey.version,
        customer_id="visitor-0123",
        status=Status.SUBMITTED,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_partner_data_names_the_customer(journey: Journey) -> None:
    data = {"core": {"value": {"customer_id": "CUS-10000001"}}}
    assert new_owner(journey, state(journey, data=data), NOW) == "CUS-10000001"


def test_answers_name_the_customer_when_the_data_does_not(journey: Journey) -> None:
    answers = {"customer_number": " CUS-10000002 "}
    assert new_owner(journey, state(journey, answers=answers), NOW) == "CUS-10000002"


@pytest.mark.parametrize(
    "changes",
    [
        {"status": Status.IN_PROGRESS, "answers": {"customer_number": "CUS-1"}},  # not yet
        {"customer_id": "alex", "answers": {"customer_number": "CUS-1"}},  # a customer's own
        {"answers": {}},  # null: no customer yet
        {"answers": {"customer_number": "   "}},
        {"answers": {"customer_number": "x" * 101}},
        {"answers": {"customer_number": "visitor-999"}},  # never to another visitor
        {"answers": {"customer_number": "CUS\n1"}},
    ],
)
def test_no_owner_until_there_is_a_usable_customer_id(
    journey: Journey, changes: dict[str, object]
) -> None:
    assert new_owner(journey, state(journey, **changes), NOW) is None
