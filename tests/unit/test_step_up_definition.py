"""A step's `step_up` in the definition language: what `wayline journeys validate` refuses (with
the file, the line and what to fix), and when the pure rule says a submission needs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wayline.cli import app
from wayline.journeys import step_up
from wayline.journeys.loader import Journey, check_path
from wayline.journeys.step_up import Rule

DEFINITION = """\
journey: payee
title: Change who we pay
reference_prefix: PAY
steps:
  - name: about
    title: About you
    fields:
      - name: full_name
        type: text
        label: Full name
        classification: personal
        required: Enter your full name
  - name: payee
    title: Who should we pay?
    step_up:
{step_up}
    fields:
      - name: amount
        type: number
        label: Amount
        classification: internal
        required: Enter an amount
declaration:
  text: It is all true
"""

NOW = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)


def write(folder: Path, step_up_yaml: str) -> Path:
    (folder / "journeys" / "fragments").mkdir(parents=True)
    path = folder / "journeys" / "payee.yaml"
    path.write_text(DEFINITION.format(step_up=step_up_yaml), encoding="utf-8")
    return path


def errors_for(tmp_path: Path, step_up_yaml: str) -> list[str]:
    _, errors = check_path(write(tmp_path, step_up_yaml))
    return [str(error) for error in errors]


STEP_UP_LINE = DEFINITION.splitlines().index("    step_up:") + 1


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (
            "      level: 0\n      within: PT5M",
            STEP_UP_LINE + 1,
            "steps.1.step_up.level: level must be 1 (a password) or more",
        ),
        (
            "      level: true\n      within: PT5M",
            STEP_UP_LINE + 1,
            "steps.1.step_up.level: Input should be a valid integer",
        ),
        (
            "      level: 2\n      within: PT0M",
            STEP_UP_LINE + 2,
            "steps.1.step_up.within: within must be longer than zero",
        ),
        (
            "      level: 2\n      within: five minutes",
            STEP_UP_LINE + 2,
            "steps.1.step_up.within: 'five minutes' is not an ISO 8601 duration",
        ),
        (
            "      level: 2\n      within: -PT5M",
            STEP_UP_LINE + 2,
            "steps.1.step_up.within: '-PT5M' is not an ISO 8601 duration",
        ),
        (
            "      level: 2",
            STEP_UP_LINE + 1,
            "steps.1.step_up.within: 'within' is required here",
        ),
        (
            "      level: 2\n      within: PT5M\n      when: answers.amount >",
            STEP_UP_LINE + 3,
            "invalid CEL expression",
        ),
        (
            "      level: 2\n      within: PT5M\n      when: answers.amount > limit",
            STEP_UP_LINE + 3,
            "unknown variable limit",
        ),
        (
            "      level: 2\n      within: PT5M\n      whom: answers.amount > 10",
            STEP_UP_LINE + 3,
            "unknown key 'whom'",
        ),
    ],
)
def test_a_bad_step_up_is_refused_with_its_line(tmp_path, lines, line, message):
    found = errors_for(tmp_path, lines)
    assert len(found) == 1, found
    assert found[0].startswith(f"journeys/payee.yaml:{line}: ")
    assert message in found[0]


def test_a_good_step_up_loads_with_its_rule(tmp_path):
    lines = "      level: 2\n      within: PT1H30M\n      when: answers.amount > 1000"
    journeys, errors = check_path(write(tmp_path, lines))
    assert errors == []
    step = journeys["payee"].step("payee")
    assert step is not None
    assert step_up.declared(step) == Rule(2, timedelta(hours=1, minutes=30), conditional=True)
    assert step_up.to_show(step) is None  # conditional: the page may be shown
    about = journeys["payee"].step("about")
    assert about is not None and step_up.declared(about) is None


def test_wayline_journeys_validate_refuses_a_bad_step_up(tmp_path):
    path = write(tmp_path, "      level: 2\n      within: PT0S")
    result = CliRunner().invoke(app, ["journeys", "validate", str(path)])
    assert result.exit_code != 0
    assert f"payee.yaml:{STEP_UP_LINE + 2}" in result.output
    assert "within must be longer than zero" in result.output


def test_the_shipped_payment_details_ask_for_level_2_within_5_minutes(motor: Journey):
    step = motor.step("payment-details")
    assert step is not None
    assert step_up.declared(step) == Rule(2, timedelta(minutes=5), conditional=True)
    assert Rule(2, timedelta(minutes=5)).max_age == 300


def test_the_json_schemas_for_editors_describe_step_up():
    import json

    root = Path(__file__).resolve().parents[2] / "schemas"
    for name in ("journey.schema.json", "fragment.schema.json"):
        document = json.loads((root / name).read_text(encoding="utf-8"))
        spec = document["$defs"]["StepUpSpec"]
        assert set(spec["properties"]) == {"level", "within", "when"}
        assert spec["required"] == ["level", "within"]
        assert "step_up" in document["$defs"]["StepSpec"]["properties"]


# --- when a submission needs it (pure) -------------------------------------------------------


def test_a_rule_is_met_at_its_level_within_its_window():
    rule = Rule(2, timedelta(minutes=5))
    assert rule.met(2, NOW - timedelta(minutes=5), NOW)
    assert rule.met(3, NOW, NOW)
    assert not rule.met(1, NOW, NOW)  # too weak
    assert not rule.met(2, NOW - timedelta(minutes=5, seconds=1), NOW)  # too old


@pytest.fixture
def at_payment(shell):
    """Alex's glass claim paid in cash, at the payment details (Alex holds one account)."""
    from test_engine import cash_settlement, with_photos

    state = cash_settlement(shell, with_photos(shell, shell.through_incident("alex", "glass")))
    assert shell.current(state) == "payment-details"
    return state


NEW_PAYEE = {
    "payout_account": "different",
    "account_holder": "Alex Morgan",
    "sort_code": "309457",
    "account_number": "00733445",
}


def kept(shell, state, step: str, answers: dict):
    """What the engine would keep from a submission (the state `needed` judges)."""
    from wayline.journeys import engine

    state = shell.fetch_for(state, step, answers)
    return engine.submit_step(shell.journey, state, step, answers, NOW).state


def test_new_payee_details_need_the_step_up(shell, motor, at_payment):
    submitted = kept(shell, at_payment, "payment-details", NEW_PAYEE)
    rule = step_up.needed(motor, "payment-details", submitted, NOW)
    assert rule == Rule(2, timedelta(minutes=5), conditional=True)


def test_the_account_we_hold_needs_none(shell, motor, at_payment):
    chosen = kept(shell, at_payment, "payment-details", {"payout_account": "acc-alex-9911"})
    assert step_up.needed(motor, "payment-details", chosen, NOW) is None


def test_a_saved_draft_cannot_dodge_the_step_up(shell, motor, at_payment):
    from wayline.journeys import engine

    drafted = engine.save_draft(motor, at_payment, "payment-details", NEW_PAYEE, NOW).state
    submitted = kept(shell, drafted, "payment-details", {})  # the draft is what is submitted
    assert submitted.answers["sort_code"] == "30-94-57"
    assert step_up.needed(motor, "payment-details", submitted, NOW) is not None


def test_with_no_account_on_file_any_payee_is_new(shell, motor):
    from test_engine import cash_settlement, with_photos

    state = cash_settlement(shell, with_photos(shell, shell.through_incident("sam", "glass")))
    answers = {"account_holder": "Sam Patel", "sort_code": "200000", "account_number": "12345678"}
    submitted = kept(shell, state, "payment-details", answers)
    assert step_up.needed(motor, "payment-details", submitted, NOW) is not None


def test_steps_without_step_up_need_none(shell, motor, at_payment):
    assert step_up.needed(motor, "incident", at_payment, NOW) is None
    assert step_up.needed(motor, "no-such-step", at_payment, NOW) is None


def test_the_condition_reads_answers_as_kept_and_errs_towards_asking(tmp_path, shell):
    from wayline.journeys import engine

    lines = "      level: 2\n      within: PT5M\n      when: answers.amount > 1000"
    journeys, errors = check_path(write(tmp_path, lines))
    assert errors == []
    payee = journeys["payee"]
    state = engine.start(payee, journey_id="jrn-1", customer_id="alex", data={}, now=NOW).state
    state = engine.submit_step(payee, state, "about", {"full_name": "Alex"}, NOW).state

    def needs(amount: str) -> bool:
        submitted = engine.submit_step(payee, state, "payee", {"amount": amount}, NOW).state
        return step_up.needed(payee, "payee", submitted, NOW) is not None

    assert not needs("10")  # sent as text, compared as the number it is kept as
    assert needs("5000")
    # A condition that cannot be evaluated (a string compared with a number) asks for it.
    wrong = "      level: 2\n      within: PT5M\n      when: answers.full_name > 1000"
    journeys, _ = check_path(write(tmp_path / "again", wrong))
    submitted = engine.submit_step(journeys["payee"], state, "payee", {"amount": "1"}, NOW).state
    assert step_up.needed(journeys["payee"], "payee", submitted, NOW) is not None
