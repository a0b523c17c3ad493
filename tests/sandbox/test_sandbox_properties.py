"""Properties of the simulators' rules, for any input: keyed answers, new card numbers,
emergency tax and working days."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from wayline.sandbox.card_issuer import next_number
from wayline.sandbox.idempotency import KeyedAnswers
from wayline.sandbox.wealth_platform import emergency_tax
from wayline.sandbox.working_days import add_working_days, is_working_day

calls = st.lists(
    st.tuples(st.sampled_from(["key-aaaaaaaa", "key-bbbbbbbb", "key-cccccccc"]),
              st.integers(0, 2)),
    max_size=30,
)  # fmt: skip


@given(calls)
def test_work_runs_once_per_key_and_other_requests_are_refused(sequence) -> None:
    answers, done = KeyedAnswers(), []
    first: dict[str, tuple[int, dict]] = {}
    for key, body in sequence:

        def work(body: int = body) -> tuple[int, dict]:
            done.append(body)
            return 201, {"n": len(done)}

        response = answers.answer("op", key, {"body": body}, work)
        sent = json.loads(response.body)
        if key not in first:
            first[key] = (body, sent)
            assert response.status_code == 201
        elif first[key][0] == body:
            assert (response.status_code, sent) == (200, first[key][1])
        else:
            assert response.status_code == 409
    assert len(done) == len(first)


@given(st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_ten_replacements_come_back_to_the_same_number(last_four: str) -> None:
    number = last_four
    for _ in range(10):
        number = next_number(number)
        assert len(number) == 4
    assert number == last_four
    assert next_number(last_four) != last_four


@given(st.decimals(min_value=0, max_value=1_000_000, places=2),
       st.decimals(min_value=0, max_value=1_000, places=2))  # fmt: skip
def test_emergency_tax_never_falls_as_pay_rises_and_never_takes_it_all(
    pay: Decimal, more: Decimal
) -> None:
    assert emergency_tax(pay) <= emergency_tax(pay + more)
    assert Decimal(0) <= emergency_tax(pay) < max(pay, Decimal("0.01"))


@given(st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 12, 1)), st.integers(1, 10))
def test_working_days_skip_weekends_and_bank_holidays(start: date, count: int) -> None:
    end = add_working_days(start, count)
    assert is_working_day(end)
    between = [start + timedelta(days=d) for d in range(1, (end - start).days + 1)]
    assert sum(is_working_day(day) for day in between) == count
