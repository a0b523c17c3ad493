"""Personalisation in the journey language: segments decided from governed customer data,
experiment arms assigned by a stable hash in the declared shares, variants applied to the
journey, and the load-time checks that refuse what a personalisation may not do."""

from __future__ import annotations

import json
import math
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from wayline.journeys import personalise
from wayline.journeys.loader import DefinitionError, check_directory
from wayline.journeys.personalise import (
    BUCKETS,
    apply,
    arm_for,
    bucket,
    choose,
    decide_segments,
)
from wayline.journeys.schema import Classification, ExperimentSpec
from wayline.sandbox.dataset import profile

REPO = Path(__file__).resolve().parents[2]
JOURNEYS_DIR = REPO / "journeys"
SCHEMAS_DIR = REPO / "schemas"
SOURCE = "core_banking_customer_profile"
TODAY = date(2026, 3, 27)
IDS = [f"subject-{index}" for index in range(10_000)]


def entry(customer_id: str) -> dict[str, dict[str, Any]]:
    """Core banking's profile of a demo customer, as the partner answers it."""
    return {SOURCE: {"value": profile(customer_id, TODAY)}}


UNAVAILABLE = {SOURCE: {"value": None, "error": "unavailable"}}


def experiment(name: str, shares: list[int]) -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        {
            "name": name,
            "title": "A synthetic experiment",
            "arms": [{"name": f"arm-{i}", "share": share} for i, share in enumerate(shares)],
            "metric": "completion",
        }
    )


def within_four_sigma(count: int, n: int, share: int) -> None:
    """Assignment is a hash: each id falls in an arm like an independent Bernoulli(p) draw,
    so a count is Binomial(n, p). Four standard deviations from the mean is wrong for a
    uniform hash about once in 16,000 arms, while a wrong split (say 45/55 instead of 50/50,
    500 off over 10,000) is ten sigma away and fails."""
    p = share / 100
    sigma = math.sqrt(n * p * (1 - p))
    assert abs(count - n * p) <= 4 * sigma, (count, n * p, sigma)


# --- 1. experiment assignment ----------------------------------------------------------------


def test_bucket_is_stable_and_in_range():
    values = [bucket("photo-guidance", subject) for subject in IDS[:500]]
    assert values == [bucket("photo-guidance", subject) for subject in IDS[:500]]
    assert all(0 <= value < BUCKETS for value in values)
    assert len(set(values)) > 450  # spread, not a constant


def test_photo_guidance_assigns_the_same_arm_twice_and_splits_50_50(journeys):
    (photo,) = personalise.experiments(journeys["motor-claim"])
    assert photo.name == "photo-guidance"
    assert [(arm.name, arm.share) for arm in photo.arms] == [("control", 50), ("examples", 50)]
    first = [arm_for(photo, subject) for subject in IDS]
    assert first == [arm_for(photo, subject) for subject in IDS]
    assert set(first) == {"control", "examples"}
    for arm in photo.arms:
        within_four_sigma(first.count(arm.name), len(IDS), arm.share)


def test_a_20_30_50_experiment_splits_as_declared():
    spec = experiment("three-ways", [20, 30, 50])
    arms = [arm_for(spec, subject) for subject in IDS]
    assert arms == [arm_for(spec, subject) for subject in IDS]
    counts = {name: arms.count(name) for name in ("arm-0", "arm-1", "arm-2")}
    assert sum(counts.values()) == len(IDS)
    for arm in spec.arms:
        within_four_sigma(counts[arm.name], len(IDS), arm.share)
    # Not just any order: the smallest arm is clearly the smallest.
    assert counts["arm-0"] < counts["arm-1"] < counts["arm-2"]


def test_two_experiments_assign_independently():
    one, two = experiment("first-test", [50, 50]), experiment("second-test", [50, 50])
    arms_one = [arm_for(one, subject) for subject in IDS]
    arms_two = [arm_for(two, subject) for subject in IDS]
    assert arms_one != arms_two
    # Independent 50/50 draws agree half the time (Binomial(10,000, 0.5): sigma 50).
    agree = sum(a == b for a, b in zip(arms_one, arms_two, strict=True))
    within_four_sigma(agree, len(IDS), 50)


# --- 2. deciding segments --------------------------------------------------------------------


def test_the_demo_profiles_are_what_the_segments_expect():
    sam, alex = profile("sam", TODAY), profile("alex", TODAY)
    assert sam is not None and alex is not None
    assert sam["vulnerability"]["flagged"] is True
    assert sam["invested_pence"] >= 5_000_000 > alex["invested_pence"]
    assert alex["vulnerability"]["flagged"] is False


def test_sam_is_possibly_vulnerable_and_alex_is_not(journeys):
    cashout = journeys["investment-cashout"]
    assert [s.name for s in personalise.segments(cashout)] == ["possibly_vulnerable"]
    assert personalise.segment_sources(cashout) == [SOURCE]
    assert decide_segments(cashout, entry("sam")) == (("possibly_vulnerable",), ())
    assert decide_segments(cashout, entry("alex")) == ((), ())


def test_sam_is_a_high_value_investor_and_alex_only_an_existing_customer(journeys):
    opening = journeys["account-opening"]
    assert decide_segments(opening, entry("sam")) == (
        ("high_value_investor", "existing_customer"),
        (),
    )
    assert decide_segments(opening, entry("alex")) == (("existing_customer",), ())


def test_payment_segments_for_sam_and_alex(journeys):
    payment = journeys["payment"]
    # Sam signed in online 21 days ago and has no current account; Alex banks with us.
    assert decide_segments(payment, entry("sam")) == (("new_to_digital",), ())
    assert decide_segments(payment, entry("alex")) == (("banks_with_us",), ())


def test_an_unavailable_source_leaves_its_segments_undecided_and_not_held(journeys):
    opening = journeys["account-opening"]
    inside, undecided = decide_segments(opening, UNAVAILABLE)
    assert inside == ()
    assert undecided == ("high_value_investor", "existing_customer")
    cashout = journeys["investment-cashout"]
    assert decide_segments(cashout, UNAVAILABLE) == ((), ("possibly_vulnerable",))
    # An entry without a value at all counts as unanswered too.
    assert decide_segments(cashout, {SOURCE: {}}) == ((), ("possibly_vulnerable",))


def test_a_missing_value_does_not_hold(journeys):
    sam = profile("sam", TODAY)
    assert sam is not None
    without_investments = {k: v for k, v in sam.items() if k != "invested_pence"}
    opening = journeys["account-opening"]
    inside, undecided = decide_segments(opening, {SOURCE: {"value": without_investments}})
    assert inside == ("existing_customer",)
    assert undecided == ()
    # A null vulnerability record: not flagged, so not in the segment, and not an error.
    no_record = {**sam, "vulnerability": None}
    cashout = journeys["investment-cashout"]
    assert decide_segments(cashout, {SOURCE: {"value": no_record}}) == ((), ())
    # A source the journey reads but nobody fetched: nothing holds, nothing fails.
    assert decide_segments(opening, {}) == ((), ())


def test_new_to_digital_tolerates_a_missing_digital_days(journeys):
    jordan = profile("jordan", TODAY)
    assert jordan is not None
    value = {k: v for k, v in jordan.items() if k != "digital_days"}
    assert decide_segments(journeys["payment"], {SOURCE: {"value": value}}) == (
        ("banks_with_us",),
        (),
    )


# --- 3. choosing variants --------------------------------------------------------------------


def test_a_vulnerable_customer_gets_more_support(journeys):
    cashout = journeys["investment-cashout"]
    chosen = choose(cashout, entry("sam"), customer_id="sam", journey_id="j-1")
    assert chosen.segments == ("possibly_vulnerable",)
    assert chosen.undecided == ()
    assert chosen.arms == {}
    assert chosen.variants == ("more-support",)
    alex = choose(cashout, entry("alex"), customer_id="alex", journey_id="j-2")
    assert alex.segments == () and alex.variants == ()


def test_an_unavailable_profile_chooses_no_variant(journeys):
    cashout = journeys["investment-cashout"]
    chosen = choose(cashout, UNAVAILABLE, customer_id="sam", journey_id="j-1")
    assert chosen.segments == ()
    assert chosen.undecided == ("possibly_vulnerable",)
    assert chosen.variants == ()


def test_preview_segments_override_the_data_and_unknown_names_are_ignored(journeys):
    cashout = journeys["investment-cashout"]
    chosen = choose(
        cashout,
        entry("alex"),
        customer_id="alex",
        journey_id="j-1",
        preview_segments=["no_such_segment", "possibly_vulnerable"],
    )
    assert chosen.segments == ("possibly_vulnerable",)
    assert chosen.undecided == ()
    assert chosen.variants == ("more-support",)
    # Previewing nobody's segments hides Sam's variant.
    sam = choose(cashout, entry("sam"), customer_id="sam", journey_id="j", preview_segments=[])
    assert sam.segments == () and sam.variants == ()
    # A segment of another journey is not this journey's.
    other = choose(
        cashout, {}, customer_id="a", journey_id="j", preview_segments=["high_value_investor"]
    )
    assert other.segments == () and other.variants == ()


def test_the_experiment_arm_chooses_the_motor_claims_variant(journeys):
    motor = journeys["motor-claim"]
    (photo,) = personalise.experiments(motor)
    by_arm: dict[str, str] = {}
    for index in range(1000):
        journey_id = f"journey-{index}"
        by_arm.setdefault(arm_for(photo, journey_id), journey_id)
        if len(by_arm) == 2:
            break
    assert set(by_arm) == {"control", "examples"}

    examples = choose(motor, {}, customer_id="alex", journey_id=by_arm["examples"])
    assert examples.arms == {"photo-guidance": "examples"}
    assert examples.variants == ("photo-examples",)
    assert examples.segments == ()

    control = choose(motor, {}, customer_id="alex", journey_id=by_arm["control"])
    assert control.arms == {"photo-guidance": "control"}
    assert control.variants == ()

    # Assigned by journey: another customer with the same journey id gets the same arm.
    other = choose(motor, {}, customer_id="sam", journey_id=by_arm["examples"])
    assert other.arms == examples.arms


def test_personalised_round_trips_through_a_dict(journeys):
    chosen = choose(journeys["investment-cashout"], entry("sam"), customer_id="s", journey_id="j")
    body = json.loads(json.dumps(chosen.to_dict()))
    assert personalise.Personalised.from_dict(body) == chosen
    assert personalise.Personalised.from_dict(None) == personalise.Personalised()


# --- 4. applying variants --------------------------------------------------------------------


def test_more_support_shows_guidance_a_hint_and_more_time(journeys):
    cashout = journeys["investment-cashout"]
    holding_before = cashout.step("holding").model_dump()
    shown = apply(cashout, ["more-support"])
    assert shown is not cashout
    assert shown.version == cashout.version
    assert shown.name == cashout.name
    holding = shown.step("holding")
    assert holding.content[0].type == "inset"
    assert holding.content[0].title == "We're here to help"
    assert "0800 015 4321" in holding.content[0].text
    assert "If anything is not clear" in shown.step("consequences").hint
    # The consequences step keeps its own content after the new hint.
    assert shown.step("consequences").content == cashout.step("consequences").content
    assert shown.definition.abandon_after == "P90D"
    # The journey as loaded is untouched.
    assert cashout.definition.abandon_after == "P30D"
    assert cashout.step("holding").model_dump() == holding_before
    assert all(b.title != "We're here to help" for b in cashout.step("holding").content)
    assert cashout.step("consequences").hint != shown.step("consequences").hint
    assert [s.name for s in shown.steps] == [s.name for s in cashout.steps]


def test_premier_first_moves_the_option_and_explains_it(journeys):
    opening = journeys["account-opening"]
    shown = apply(opening, ["premier-first"])
    field = shown.fields["account_type"]
    assert [o.value for o in field.options] == ["premier", "everyday", "student"]
    assert field.options[0].hint is not None and "Recommended for you" in field.options[0].hint
    assert field.options[1].hint is None
    assert shown.step("choose-account").content[0].title == "Recommended for you"
    assert shown.step_of_field["account_type"] == "choose-account"
    base = opening.fields["account_type"]
    assert [o.value for o in base.options] == ["everyday", "student", "premier"]
    assert all(o.hint is None for o in base.options)


def test_photo_examples_changes_the_photo_step(journeys):
    motor = journeys["motor-claim"]
    shown = apply(motor, ["photo-examples"])
    photos = shown.step("photos")
    assert photos.hint == motor.step("photos").hint  # guidance added, the hint kept
    assert photos.content[0].title == "The photos that help us most"
    assert "Three photos are usually enough" in photos.content[0].text
    assert motor.step("photos").content == []
    assert shown.definition.abandon_after == motor.definition.abandon_after


def test_no_variants_and_unknown_variants_give_the_journey_itself(journeys):
    cashout = journeys["investment-cashout"]
    assert apply(cashout, []) is cashout
    assert apply(cashout, ["no-such-variant"]) is cashout
    assert apply(journeys["card-replacement"], ["more-support"]) is journeys["card-replacement"]
    with_unknown = apply(cashout, ["no-such-variant", "more-support"])
    assert with_unknown is apply(cashout, ["more-support"])  # skipped, then the same cached view
    assert with_unknown.definition.abandon_after == "P90D"


# --- small journeys in a temporary folder ----------------------------------------------------

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
  - name: extras
    title: Extras
    optional: true
    fields:
      - name: colour
        type: single_choice
        label: Favourite colour
        classification: internal
        options:
          - {value: red, label: Red}
          - {value: blue, label: Blue}
          - {value: green, label: Green}
  - name: middle
    title: In the middle
    content:
      - type: text
        text: Not optional.
  - name: notes
    title: Notes
    optional: true
    content:
      - type: text
        text: Anything else you would like to say.
  - name: terms
    title: Terms
    content:
      - type: text
        text: Read these.
      - type: warning
        regulated: true
        text: Your capital is at risk.
declaration:
  text: It is all true
"""

GOOD_PERSONALISATION = """\
personalisation:
  segments: [existing_customer, long_standing]
  variants:
    - name: shorter
      title: Without the optional steps
      segments: [existing_customer]
      leave_out: [extras]
    - name: notes-first
      title: Notes before extras
      segments: [long_standing]
      order: [notes, extras]
"""


def tiny(tmp_path: Path, personalisation: str, journey: str = TINY) -> Path:
    """A folder with the tiny journey (and the given personalisation) beside the shared
    segments."""
    journeys = tmp_path / "journeys"
    (journeys / "segments").mkdir(parents=True)
    shutil.copy(JOURNEYS_DIR / "segments" / "customers.yaml", journeys / "segments")
    (journeys / "tiny.yaml").write_text(journey + personalisation, encoding="utf-8")
    return journeys


def line_of(text: str, snippet: str) -> int:
    found = [number for number, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert found, f"{snippet!r} not in the test definition"
    return found[0]


def errors_of(folder: Path) -> list[DefinitionError]:
    journeys, errors = check_directory(folder)
    assert errors, "expected the definition to be refused"
    assert "tiny" not in journeys
    return errors


def only_error(folder: Path) -> DefinitionError:
    errors = errors_of(folder)
    assert len(errors) == 1, errors
    return errors[0]


def test_the_tiny_journey_loads(tmp_path):
    journeys, errors = check_directory(tiny(tmp_path, GOOD_PERSONALISATION))
    assert errors == []
    spec = journeys["tiny"].definition.personalisation
    assert spec is not None
    # Shared names are resolved to their declarations, kept with the version.
    assert [s.name for s in spec.segments] == ["existing_customer", "long_standing"]
    assert all(not isinstance(s, str) for s in spec.segments)


def test_leave_out_drops_an_optional_step(tmp_path):
    journeys, errors = check_directory(tiny(tmp_path, GOOD_PERSONALISATION))
    assert errors == []
    journey = journeys["tiny"]
    shown = apply(journey, ["shorter"])
    assert [s.name for s in shown.steps] == ["about", "middle", "notes", "terms"]
    assert "colour" not in shown.fields
    assert shown.step("extras") is None
    assert [s.name for s in journey.steps] == ["about", "extras", "middle", "notes", "terms"]
    assert journey.fields["colour"].name == "colour"


def test_order_swaps_optional_steps_in_the_places_they_held(tmp_path):
    journeys, errors = check_directory(tiny(tmp_path, GOOD_PERSONALISATION))
    assert errors == []
    journey = journeys["tiny"]
    shown = apply(journey, ["notes-first"])
    assert [s.name for s in shown.steps] == ["about", "notes", "middle", "extras", "terms"]
    assert shown.step_of_field["colour"] == "extras"
    # Both: left out first, then the remaining one stays in its own place.
    both = apply(journey, ["shorter", "notes-first"])
    assert [s.name for s in both.steps] == ["about", "middle", "notes", "terms"]


def test_a_customer_in_both_segments_gets_both_variants_in_declaration_order(tmp_path):
    journeys, errors = check_directory(tiny(tmp_path, GOOD_PERSONALISATION))
    assert errors == []
    chosen = choose(journeys["tiny"], entry("alex"), customer_id="alex", journey_id="j")
    assert chosen.segments == ("existing_customer", "long_standing")
    assert chosen.variants == ("shorter", "notes-first")
    sam = choose(journeys["tiny"], entry("sam"), customer_id="sam", journey_id="j")
    assert sam.segments == ("existing_customer",)  # a customer since 2023
    assert sam.variants == ("shorter",)


# --- 5. what the loader refuses --------------------------------------------------------------


def test_the_shipped_journeys_load_with_their_personalisation():
    journeys, errors = check_directory(JOURNEYS_DIR)
    assert errors == []
    for name in ("motor-claim", "account-opening", "investment-cashout", "payment"):
        assert journeys[name].definition.personalisation is not None, name


def copy_journeys(tmp_path: Path) -> Path:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, folder)
    return folder


def test_a_segment_may_not_read_what_the_journey_may_not_use(tmp_path):
    folder = copy_journeys(tmp_path)
    path = folder / "investment-cashout.yaml"
    text = path.read_text(encoding="utf-8")
    old = "may_use: [public, internal, personal, financial, sensitive]"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "may_use: [public, internal, personal, financial]"))
    journeys, errors = check_directory(folder)
    assert "investment-cashout" not in journeys
    assert "motor-claim" in journeys  # the others still load
    assert len(errors) == 1, errors
    error = errors[0]
    assert error.file.endswith("investment-cashout.yaml")
    assert "possibly_vulnerable" in error.message
    assert "sensitive" in error.message
    assert "core_banking_customer_profile.vulnerability.flagged" in error.message
    assert "may_use" in error.message
    assert error.line > 0


def test_the_default_may_use_refuses_financial_data(tmp_path):
    error = only_error(tiny(tmp_path, "personalisation:\n  segments: [high_value_investor]\n"))
    assert "high_value_investor" in error.message
    assert "financial" in error.message
    assert "public, internal, personal" in error.message


def test_a_segment_reads_only_what_it_declares(tmp_path):
    personalisation = """\
personalisation:
  segments:
    - name: loyal
      title: Loyal
      reads: {core_banking_customer_profile.products: internal}
      when: data.core_banking_customer_profile.tenure_years > 3
  variants:
    - {name: loyal-view, title: Loyal, segments: [loyal], leave_out: [extras]}
"""
    folder = tiny(tmp_path, personalisation)
    error = only_error(folder)
    assert "loyal" in error.message
    assert "data.core_banking_customer_profile.tenure_years" in error.message
    assert "reads" in error.message
    text = (folder / "tiny.yaml").read_text()
    assert error.line == line_of(text, "when: data.core_banking_customer_profile.tenure_years")


@pytest.mark.parametrize(
    "condition",
    [
        'data["core_banking_customer_profile"]["vulnerability"]["flagged"] == true',
        "dyn(data).core_banking_customer_profile.vulnerability.flagged == true",
        'data.core_banking_customer_profile["vulnerability"]["flagged"] == true',
    ],
)
def test_a_segment_cannot_read_undeclared_data_by_indexing(tmp_path, condition):
    """Indexing reads what a dotted path would: it may not get round `reads`."""
    personalisation = f"""\
personalisation:
  segments:
    - name: loyal
      title: Loyal
      reads: {{core_banking_customer_profile.products: internal}}
      when: '{condition}'
  variants:
    - {{name: loyal-view, title: Loyal, segments: [loyal], leave_out: [extras]}}
"""
    error = only_error(tiny(tmp_path, personalisation))
    assert "loyal" in error.message
    assert "other than as data.SOURCE.PATH" in error.message or "does not declare" in error.message


def test_an_unknown_shared_segment_is_refused(tmp_path):
    folder = tiny(tmp_path, "personalisation:\n  segments: [existing_customer, big_spender]\n")
    error = only_error(folder)
    assert "no segment 'big_spender'" in error.message
    assert "existing_customer" in error.message  # the known ones are listed
    assert error.file.endswith("tiny.yaml")


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ("steps: {nowhere: {hint: Hello}}", "no step named 'nowhere'"),
        ("steps: {extras: {fields: {shade: {hint: Hi}}}}", "step 'extras' has no field 'shade'"),
        (
            "steps: {extras: {fields: {colour: {options_first: [purple]}}}}",
            "'purple' is not one of colour's options",
        ),
        (
            "steps: {extras: {fields: {colour: {option_hints: {mauve: Nice}}}}}",
            "'mauve' is not one of colour's options",
        ),
        ("leave_out: [middle]", "step 'middle' is not optional"),
        ("order: [notes, about]", "step 'about' is not optional"),
        ("leave_out: [nowhere]", "no step named 'nowhere'"),
        ("segments: [long_standing], leave_out: [extras]", "no segment 'long_standing'"),
    ],
)
def test_a_variant_must_change_what_exists(tmp_path, variant, message):
    segments = "" if "segments:" in variant else "segments: [existing_customer], "
    personalisation = (
        "personalisation:\n  segments: [existing_customer]\n  variants:\n"
        f"    - {{name: changed, title: Changed, {segments}{variant}}}\n"
    )
    error = only_error(tiny(tmp_path, personalisation))
    assert message in error.message


def test_a_variant_applying_to_nobody_is_refused(tmp_path):
    personalisation = """\
personalisation:
  variants:
    - {name: orphan, title: Nobody sees this, leave_out: [extras]}
"""
    error = only_error(tiny(tmp_path, personalisation))
    assert "variant 'orphan' applies to nobody" in error.message


EXPERIMENT = """\
  experiments:
    - name: test-it
      title: A test
      arms:
        - {{name: control, share: {control}}}
        - {{name: trial, share: {trial}, variant: {variant}}}
      metric: {metric}
"""


def experiment_yaml(
    variant_body: str,
    *,
    arm_variant: str = "trial-view",
    control: int = 50,
    trial: int = 50,
    metric: str = "completion",
) -> str:
    return (
        "personalisation:\n  variants:\n"
        f"    - {{name: trial-view, title: Trial, {variant_body}}}\n"
        + EXPERIMENT.format(control=control, trial=trial, variant=arm_variant, metric=metric)
    )


def test_a_valid_experiment_loads(tmp_path):
    folder = tiny(tmp_path, experiment_yaml("steps: {notes: {hint: Short}}"))
    journeys, errors = check_directory(folder)
    assert errors == []
    (spec,) = personalise.experiments(journeys["tiny"])
    assert spec.assign_by == "customer"


def test_an_arm_naming_an_unknown_variant_is_refused(tmp_path):
    folder = tiny(tmp_path, experiment_yaml("leave_out: [extras]", arm_variant="ghost"))
    errors = errors_of(folder)
    messages = [e.message for e in errors]
    assert any("no variant named 'ghost'" in m and "trial-view" in m for m in messages), messages


def test_shares_must_add_up_to_100(tmp_path):
    folder = tiny(tmp_path, experiment_yaml("leave_out: [extras]", control=40, trial=50))
    error = only_error(folder)
    assert "shares must add up to 100" in error.message
    text = (folder / "tiny.yaml").read_text()
    assert line_of(text, "experiments:") <= error.line


def test_drop_off_needs_a_step(tmp_path):
    folder = tiny(tmp_path, experiment_yaml("leave_out: [extras]", metric="drop_off"))
    error = only_error(folder)
    assert "give `step` with the drop_off metric" in error.message


def test_drop_off_at_an_unknown_step_is_refused(tmp_path):
    text = experiment_yaml("leave_out: [extras]", metric="drop_off") + "      step: nowhere\n"
    error = only_error(tiny(tmp_path, text))
    assert "no step named 'nowhere'" in error.message


def test_an_experiment_may_not_replace_regulated_content(tmp_path):
    folder = tiny(
        tmp_path, experiment_yaml("steps: {terms: {content: [{type: text, text: Relax.}]}}")
    )
    error = only_error(folder)
    assert "may not replace step 'terms''s content" in error.message
    assert "regulated" in error.message


def test_an_experiment_may_not_add_regulated_content(tmp_path):
    body = "steps: {notes: {add_content: [{type: warning, regulated: true, text: Careful.}]}}"
    error = only_error(tiny(tmp_path, experiment_yaml(body)))
    assert "may not add regulated words" in error.message


def test_an_experiment_may_not_leave_out_a_regulated_step(tmp_path):
    terms = "  - name: terms\n    title: Terms\n"
    journey = TINY.replace(terms, terms + "    optional: true\n")
    assert journey != TINY
    error = only_error(tiny(tmp_path, experiment_yaml("leave_out: [terms]"), journey=journey))
    assert "may not leave out or move step 'terms'" in error.message


def test_a_segment_variant_may_change_regulated_content(tmp_path):
    """Only experiments are kept away from regulated words: a segment's variant is a
    deliberate, reviewed version of the journey."""
    personalisation = """\
personalisation:
  segments: [existing_customer]
  variants:
    - name: plainer
      title: Plainer
      segments: [existing_customer]
      steps: {terms: {add_content: [{type: inset, text: "In short, you could lose money."}]}}
"""
    journeys, errors = check_directory(tiny(tmp_path, personalisation))
    assert errors == []
    shown = apply(journeys["tiny"], ["plainer"])
    assert [b.text for b in shown.step("terms").content][0] == "In short, you could lose money."
    assert shown.step("terms").content[-1].regulated is True


def test_an_experiment_arms_variant_takes_no_segments(tmp_path):
    personalisation = experiment_yaml("leave_out: [extras]").replace(
        "title: Trial, ", "title: Trial, segments: [existing_customer], "
    )
    personalisation = personalisation.replace(
        "personalisation:\n", "personalisation:\n  segments: [existing_customer]\n"
    )
    error = only_error(tiny(tmp_path, personalisation))
    assert "is an experiment's arm" in error.message


# --- 6. the JSON schemas ---------------------------------------------------------------------


def test_the_journey_schema_declares_personalisation():
    schema = json.loads((SCHEMAS_DIR / "journey.schema.json").read_text(encoding="utf-8"))
    definitions = schema["$defs"]
    for name in ("Personalisation", "VariantSpec", "ExperimentSpec", "SegmentSpec", "Arm"):
        assert name in definitions, name
    assert "personalisation" in schema["properties"]
    assert set(definitions["ExperimentSpec"]["properties"]["metric"]["enum"]) == {
        "completion",
        "drop_off",
        "time_to_complete",
    }


def test_the_segments_schema_is_exported_and_current():
    from wayline.journeys.schema import segments_json_schema

    path = SCHEMAS_DIR / "segments.schema.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["$id"] == "https://wayline.dev/schemas/segments.schema.json"
    assert stored == json.loads(json.dumps(segments_json_schema()))


def test_the_shared_segments_validate_against_their_schema():
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = json.loads((SCHEMAS_DIR / "segments.schema.json").read_text(encoding="utf-8"))
    document = yaml.safe_load((JOURNEYS_DIR / "segments" / "customers.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    broken = {"segments": [{**document["segments"][0], "reads": {"x.y": "secret"}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_scores_are_read_only_by_staff_facing_rules(tmp_path):
    """A model's score may decide (a staff reason) but never reach the customer's words."""
    folder = copy_journeys(tmp_path)
    path = folder / "motor-claim.yaml"
    text = path.read_text(encoding="utf-8")
    staff = (
        "          reason: The claim-triage model scored this claim over 0.8, so a handler looks"
        " first\n          audience: staff\n"
    )
    assert staff in text
    told = text.replace(staff, staff.replace("          audience: staff\n", ""))
    told = told.replace(
        "check_answers_title:",
        "progress:\n  - type: inset\n    text: Looked at closely\n"
        "    when: scores.claim_triage.score > 0.8\ncheck_answers_title:",
        1,
    )
    path.write_text(told, encoding="utf-8")
    _, errors = check_directory(folder)
    messages = [e.message for e in errors if e.file.endswith("motor-claim.yaml")]
    assert any("a reason that reads a model's score is for staff" in m for m in messages)
    assert any("only the decision's rules" in m for m in messages), messages


def test_a_model_feature_is_at_least_as_sensitive_as_the_answers_it_reads(tmp_path):
    """A feature declared internal that reads a personal answer would slip past may_use."""
    from wayline.journeys.model_checks import ModelFacts, ModelFeature

    lax = ModelFeature(
        "when", Classification.INTERNAL, "answers.incident_date", ["answers.incident_date"]
    )
    facts = {"claim-triage": ModelFacts("claim-triage", {1: (lax,)})}
    _, errors = check_directory(copy_journeys(tmp_path), models=facts)
    assert [e.message for e in errors] == [
        "claim-triage 1's feature 'when' is declared internal but reads answers.incident_date, "
        "which is personal"
    ]
