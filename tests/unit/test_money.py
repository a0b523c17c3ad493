"""Exact decimal arithmetic in CEL: sums, percentages and rounding agree with Decimal."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wayline.journeys import money
from wayline.journeys.expressions import evaluate, holds

amounts = st.decimals(
    min_value=Decimal("-1000000000"),
    max_value=Decimal("1000000000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
percents = st.decimals(
    min_value=Decimal(0), max_value=Decimal(100), places=3, allow_nan=False, allow_infinity=False
)


def run(source: str, **answers) -> object:
    """`source` with the names it uses read from answers (write a, not answers.a)."""
    for name in answers:
        source = re.sub(rf"\b{name}\b", f"answers.{name}", source)
    return evaluate(source, {"answers": answers})


@given(st.lists(amounts, max_size=20))
def test_a_sum_in_cel_is_the_decimal_sum(values):
    found = run("sum_of(xs)", xs=[str(v) for v in values])
    assert Decimal(found) == sum(values, Decimal(0))


@given(amounts, amounts)
def test_add_and_subtract_are_exact(a, b):
    assert Decimal(run("add(a, b)", a=str(a), b=str(b))) == a + b
    assert Decimal(run("subtract(a, b)", a=str(a), b=str(b))) == a - b


@given(percents, amounts, st.integers(min_value=0, max_value=4))
def test_a_rounded_percentage_is_decimals_half_even(percent, amount, places):
    found = run("round_half_even(percent_of(p, a), n)", p=str(percent), a=str(amount), n=places)
    expected = (amount * percent / 100).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)
    assert found == f"{expected:f}" or (expected == 0 and Decimal(found) == 0)


@given(amounts, amounts)
def test_minimum_maximum_and_compare_order_amounts_as_decimal_does(a, b):
    assert Decimal(run("minimum(a, b)", a=str(a), b=str(b))) == min(a, b)
    assert Decimal(run("maximum(a, b)", a=str(a), b=str(b))) == max(a, b)
    assert run("compare(a, b)", a=str(a), b=str(b)) == (a > b) - (a < b)


def test_the_famous_float_sum_is_exact():
    assert run('add("0.1", "0.2")') == "0.3"
    assert holds('compare(add("0.1", "0.2"), "0.3") == 0', {})


def test_ties_round_to_the_even_digit_or_up():
    assert run('round_half_even("2.345", 2)') == "2.34"
    assert run('round_half_even("2.355", 2)') == "2.36"
    assert run('round_half_up("2.345", 2)') == "2.35"
    assert run('divide("10", "3", 2)') == "3.33"


def test_results_are_never_in_exponent_form():
    assert run('multiply("100", "100")') == "10000"
    assert run('subtract("1.00", "1.00")') == "0.00"


@pytest.mark.parametrize(
    "source",
    [
        "add(1.5, 2)",  # a double is already inexact
        'add("12,50", "1")',
        'add("NaN", "1")',
        'add(true, "1")',
        'divide("1", "0", 2)',
        'round_half_even("1.5", 11)',
        'sum_of("1")',
    ],
)
def test_what_is_not_an_exact_amount_fails_the_expression(source):
    with pytest.raises((RuntimeError, ValueError)):
        run(source)
    assert not holds(f'compare({source}, "0") >= 0', {})


def test_to_decimal_refuses_floats():
    with pytest.raises(ValueError):
        money.to_decimal(0.1)
