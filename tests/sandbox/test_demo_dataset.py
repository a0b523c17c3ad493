"""The demo dataset's shared facts: every journey explains every demo customer, and times are
relative to today."""

from __future__ import annotations

from datetime import date

from wayline.sandbox import dataset


def test_every_journey_explains_every_demo_customer() -> None:
    assert set(dataset.SITUATIONS) >= {
        "motor-claim",
        "account-opening",
        "card-replacement",
        "payment",
        "investment-cashout",
    }
    for journey, situations in dataset.SITUATIONS.items():
        assert set(situations) == set(dataset.CUSTOMERS), journey
        assert all(situations.values()), journey


def test_sam_is_58_and_90_days_old_whatever_the_day() -> None:
    for today in (date(2026, 12, 2), date(2028, 2, 29), date(2027, 1, 1)):
        born = dataset.birth_date("sam", today)
        assert born is not None
        years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        assert years == 58


def test_home_addresses_are_held_for_alex_and_jordan_only() -> None:
    today = date(2026, 12, 2)
    alex = dataset.home_address("alex", today)
    assert alex == {
        "line_1": "1 Acacia Avenue",
        "town": "London",
        "postcode": "SW1A 1AA",
        "since": "2020-12-02",
    }
    assert dataset.home_address("jordan", today)["postcode"] == "LS1 4AP"  # type: ignore[index]
    assert dataset.home_address("sam", today) is None


def test_saved_payees_are_dated_from_today() -> None:
    jane, gas = dataset.payees("alex", date(2026, 12, 2))
    assert (jane["last_paid_on"], jane["last_paid_pence"]) == ("2026-11-20", 4000)
    assert gas["last_paid_on"] is None and gas["reference_rule"] == "^[0-9]{12}$"
    assert dataset.payees("sam", date(2026, 12, 2)) == []
