"""Computed values: worked out in dependency order, kept with the journey, checked at load."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wayline.journeys import engine
from wayline.journeys.computed import Cycle, compute, order, shown
from wayline.journeys.expressions import holds
from wayline.journeys.loader import Journey, check_path
from wayline.journeys.schema import Computed
from wayline.journeys.searches import search

NOW = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)

DEFINITION = """\
journey: cash-out
title: Take money from your pension
reference_prefix: CSH
computed:
  tax_free:
    type: money
    currency: GBP
    label: Tax-free part
    explanation: A quarter of what you take is free of tax.
    expression: round_half_even(percent_of("25", answers.amount), 2)
  taxable:
    type: money
    currency: GBP
    label: Taxed part
    expression: subtract(answers.amount, computed.tax_free)
  tax:
    type: money
    currency: GBP
    label: Estimated tax
    explanation: The taxed part at the basic rate of 20%.
    expression: round_half_even(percent_of("20", computed.taxable), 2)
  large:
    type: boolean
    label: A large amount
    expression: compare(answers.amount, "10000") > 0
steps:
  - name: amount
    title: How much?
    fields:
      - name: amount
        type: money
        currency: GBP
        label: Amount
        classification: internal
        required: Enter an amount
  - name: choice
    title: Your choice
    show: [tax_free, tax]
    fields:
      - name: go_ahead
        type: single_choice
        label: Go ahead?
        classification: internal
        required: Choose one
        options:
          - {{value: "yes", label: "Yes"}}
          - {{value: "no", label: "No"}}
declaration:
  text: It is all true
{extra}"""


def write(folder: Path, definition: str) -> Path:
    (folder / "journeys" / "fragments").mkdir(parents=True, exist_ok=True)
    path = folder / "journeys" / "cash-out.yaml"
    path.write_text(definition, encoding="utf-8")
    return path


def load(folder: Path, definition: str = DEFINITION.format(extra="")) -> Journey:
    journeys, errors = check_path(write(folder, definition))
    assert not errors, errors
    return journeys["cash-out"]


def errors_for(folder: Path, definition: str) -> list[str]:
    _, errors = check_path(write(folder, definition))
    return [str(error) for error in errors]


def started(journey: Journey) -> engine.JourneyState:
    return engine.start(journey, journey_id="j1", customer_id="c1", data={}, now=NOW).state


def test_values_follow_the_answers_exactly(tmp_path):
    journey = load(tmp_path)
    state = started(journey)
    assert state.computed == {"tax_free": None, "taxable": None, "tax": None, "large": None}
    state = engine.submit_step(journey, state, "amount", {"amount": "12345.67"}, NOW).state
    assert state.computed == {
        "tax_free": "3086.42",  # 3086.4175 rounded half-even
        "taxable": "9259.25",
        "tax": "1851.85",
        "large": True,
    }
    state = engine.submit_step(journey, state, "amount", {"amount": "100"}, NOW).state
    assert state.computed["tax"] == "15.00" and state.computed["large"] is False


def test_values_are_kept_with_the_journey_and_read_by_conditions(tmp_path):
    journey = load(tmp_path)
    state = engine.submit_step(journey, started(journey), "amount", {"amount": "20000"}, NOW).state
    again = engine.JourneyState.from_dict(state.to_dict())
    assert again.computed == state.computed
    scope = engine.context(journey, again, again.answers, NOW)
    assert engine.holds('computed.large && computed.tax == "3000.00"', scope)


def test_a_journey_stored_before_computed_values_loads():
    body = {
        "id": "j1",
        "journey": "old",
        "version": "v1",
        "customer_id": "c1",
        "status": "abandoned",
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }
    state = engine.JourneyState.from_dict(body)
    assert state.computed == {} and state.ended is None
    assert state.status in engine.ENDED


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_the_chain_rounds_as_decimal_does(amount):
    specs = {
        "tax": Computed(
            type="money",
            currency="GBP",
            label="Tax",
            expression='round_half_even(percent_of("20", computed.taxable), 2)',
        ),
        "taxable": Computed(
            type="money",
            currency="GBP",
            label="Taxed",
            expression='subtract(answers.amount, round_half_even(percent_of("25", '
            "answers.amount), 2))",
        ),
    }
    found = compute(specs, {"answers": {"amount": str(amount)}})
    cent = Decimal("0.01")
    taxable = amount - (amount * 25 / 100).quantize(cent, ROUND_HALF_EVEN)
    assert Decimal(found["taxable"]) == taxable
    assert Decimal(found["tax"]) == (taxable * 20 / 100).quantize(cent, ROUND_HALF_EVEN)


names = st.sampled_from(["a", "b", "c", "d", "e", "f"])


@given(st.dictionaries(names, st.sets(names, max_size=3), min_size=1))
def test_order_puts_every_value_after_what_it_reads_or_finds_the_circle(graph):
    specs = {
        name: Computed(
            type="number",
            label=name,
            expression=" + ".join([f"computed.{read}" for read in sorted(needs)] or ["1"]),
        )
        for name, needs in graph.items()
    }
    try:
        ordered = order(specs)
    except Cycle as cycle:
        path = cycle.path
        assert path[0] == path[-1]
        for here, there in zip(path, path[1:], strict=False):
            assert there in graph[here]
        return
    assert sorted(ordered) == sorted(graph)
    for name, needs in graph.items():
        for needed in needs & graph.keys():
            assert ordered.index(needed) < ordered.index(name)


def test_a_value_of_the_wrong_type_is_none():
    spec = Computed(type="money", currency="GBP", label="x", expression="1.5 * 2.0")
    assert compute({"x": spec}, {}) == {"x": None}
    spec = Computed(type="date", label="d", expression='"2026-05-01T10:00:00Z"')
    assert compute({"d": spec}, {}) == {"d": "2026-05-01"}


def test_an_unknown_computed_value_is_refused_with_its_line(tmp_path):
    definition = DEFINITION.format(extra="").replace("computed.tax_free)", "computed.nope)")
    found = errors_for(tmp_path, definition)
    line = definition.splitlines().index("    expression: subtract(answers.amount, computed.nope)")
    assert found == [
        f"journeys/cash-out.yaml:{line + 1}: computed.nope: no computed value named 'nope' "
        "(known: large, tax, tax_free, taxable)"
    ]


def test_a_circle_is_refused_with_its_line(tmp_path):
    definition = DEFINITION.format(extra="").replace(
        'percent_of("25", answers.amount)', 'percent_of("25", computed.tax)'
    )
    found = errors_for(tmp_path, definition)
    line = definition.splitlines().index("  tax_free:") + 2  # the value's own mapping
    assert found == [
        f"journeys/cash-out.yaml:{line}: computed values read each other in a circle: "
        "tax_free -> tax -> taxable -> tax_free"
    ]


def test_a_step_shows_only_values_that_exist(tmp_path):
    definition = DEFINITION.format(extra="").replace("[tax_free, tax]", "[tax_free, tac]")
    found = errors_for(tmp_path, definition)
    line = definition.splitlines().index("    show: [tax_free, tac]") + 1
    assert found == [
        f"journeys/cash-out.yaml:{line}: no computed value named 'tac' "
        "(known: large, tax, tax_free, taxable)"
    ]


def test_money_needs_a_currency(tmp_path):
    definition = DEFINITION.format(extra="").replace(
        "    currency: GBP\n    label: Tax-free", "    label: Tax-free", 1
    )
    found = errors_for(tmp_path, definition)
    line = definition.splitlines().index("  tax_free:") + 2
    assert len(found) == 1 and "a money value needs a currency" in found[0]
    assert found[0].startswith(f"journeys/cash-out.yaml:{line}: ")


@pytest.mark.parametrize(
    ("kind", "value", "currency", "words"),
    [
        ("money", "1851.855", "GBP", "£1,851.86"),
        ("money", "3.5", "CHF", "3.50 CHF"),
        ("percent", "20.50", None, "20.5%"),
        ("boolean", False, None, "No"),
        ("date", "2026-04-02", None, "2 April 2026"),
        ("money", None, "GBP", ""),
    ],
)
def test_values_in_words(kind, value, currency, words):
    assert shown(kind, value, currency) == words


def test_the_first_of_an_empty_list_is_not_known_yet():
    """A lookup in a partner's list before the customer chose (`filter(...)[0]` of nothing)
    is a value not there yet, as a missing key is: None, never an error."""
    spec = Computed(type="text", label="Payee", expression="data.items.filter(i, i.id == 'x')[0]")
    assert compute({"payee": spec}, {"data": {"items": []}}) == {"payee": None}
    holds_first = "data.items[0] == 'a'"
    assert holds(holds_first, {"data": {"items": []}}) is False
    assert holds(holds_first, {"data": {"items": ["a"]}}) is True


def test_money_from_minor_units_in_a_partners_data():
    assert search("money(available_pence, 'GBP')", {"available_pence": 245000}) == "£2,450.00"
    assert search("money(`5`, 'CHF')", {}) == "CHF 0.05"
    assert search("money(`1.5`, 'GBP')", {}) is None  # a fraction of a penny is not money
    assert search("money(`100`, 'XYZ')", {}) is None
