"""Calls that wait for an earlier call (`at: done:NAME`, journeys/calls.py) and a journey's
`progress` blocks, on the shipped account-opening journey: pure, no partner, no store; and
what validation says of a `done:` naming no call and of a progress placeholder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from wayline.journeys import calls, engine
from wayline.journeys.engine import JourneyState
from wayline.journeys.loader import Journey, check_directory, load_directory

JOURNEYS = Path(__file__).resolve().parents[2] / "journeys"


@pytest.fixture(scope="module")
def opening() -> Journey:
    return load_directory(JOURNEYS)["account-opening"]


def decided(journey: Journey, now) -> JourneyState:
    """An approved application whose customer call was queued: what follows its answer."""
    state = engine.start(
        journey, journey_id="jrn-acc1", customer_id="visitor-x", data={}, now=now
    ).state
    answers = {"first_name": "Sam", "account_type": "everyday"}
    state = replace(state, answers=answers, reference="ACC-TEST01")
    state, _ = engine.queue(journey, state, "decided", now)
    return state


def test_the_account_and_login_wait_for_the_customer_and_read_its_id(opening, shell):
    now = shell.now
    state = decided(opening, now)
    customer = calls.declared(opening, "customer")
    response = {"customer_id": "CUS-10000001", "created_at": now.isoformat()}
    done = calls.record_result(opening, state, customer, "k:customer", calls.DONE, now, response)
    assert sorted(str(e.params["effect"]) for e in done.effects) == ["account", "login"]
    assert done.state.effects["account"]["status"] == "pending"
    account = calls.declared(opening, "account")
    request = calls.request_for(opening, done.state, account, now)
    assert request == {"customer_id": "CUS-10000001", "product": "everyday"}
    # Partner keys come from the journey: the same however often the customer's answer is
    # recorded, so core banking opens one account.
    keys = [e.params["idempotency_key"] for e in done.effects]
    assert keys == ["jrn-acc1:account", "jrn-acc1:login"]


def test_a_call_that_failed_or_was_refused_queues_nothing_after_it(opening, shell):
    state = decided(opening, shell.now)
    customer = calls.declared(opening, "customer")
    for status in (calls.FAILED, calls.REFUSED):
        outcome = calls.record_result(opening, state, customer, "k", status, shell.now)
        assert outcome.effects == ()


def test_progress_shows_the_account_only_once_it_is_open(opening, shell):
    from wayline.runtime.presenter import present

    state = decided(opening, shell.now)
    state = replace(state, submitted_at=shell.now)
    before = " ".join(b["text"] for b in present(opening, state, 5, None, shell.now)["progress"])
    assert "Reload this page" in before and "account number" not in before
    state = replace(
        state,
        effects={
            **state.effects,
            "account": {
                "status": "done",
                "response": {"sort_code": "20-00-00", "account_number": "60000001"},
            },
        },
    )
    view = present(opening, state, 6, None, shell.now)
    assert view["progress"][0]["title"] == "Your account is open"
    assert view["progress"][0]["text"] == "Sort code 20-00-00, account number 60000001"


TINY = """\
journey: tiny
title: A tiny journey
reference_prefix: TNY
steps:
  - name: about
    title: About you
    fields:
      - name: full_name
        type: text
        label: Full name
        classification: personal
declaration:
  text: It is all true
"""


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            "effects:\n  - kind: run_checks\n    at: done:nothing\n",
            "no call effect named 'nothing'",
        ),
        (
            "progress:\n  - type: text\n    text: Hello {data.x}\n",
            "placeholder {data.x} must start with answers, effects, journey or computed",
        ),
        (
            "progress:\n  - type: text\n    text: Hello {computed.nope}\n",
            "no computed value named 'nope'",
        ),
        (
            "progress:\n  - type: text\n    text: Hello\n    when: answers.ful_name == 'x'\n",
            "ful_name",
        ),
    ],
)
def test_validation_refuses_a_done_without_its_call_and_a_bad_progress_block(
    tmp_path: Path, extra: str, message: str
):
    folder = tmp_path / "journeys"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY + extra, encoding="utf-8")
    journeys, errors = check_directory(folder)
    assert journeys == {} and len(errors) == 1, errors
    assert message in str(errors[0])
