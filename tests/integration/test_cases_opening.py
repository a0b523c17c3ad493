"""Cases open in the same transaction as the referral that calls for them, in the queue the
definition's rules choose, with the SLA due time and the reasons staff read; never for a
journey decided automatically; at most one open case per journey. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cases_kit import (
    FRAUD_REASON,
    OVER_3000,
    audit_of,
    case_of,
    check_and_decide,
    journey_events,
    referred,
    sent_claim,
)

from wayline.store import DuplicateKey
from wayline.store import cases as case_rows


def test_jordan_s_referred_claim_opens_a_case_in_the_fraud_queue(components, jordan):
    journey_id = referred(components, jordan)
    case = case_of(components, journey_id)
    assert case["queue"] == "fraud"
    assert case["status"] == "open"
    assert case["priority"] == "high"
    assert case["assignee"] is None
    assert case["rule"] == "referral"
    assert case["reasons"] == [FRAUD_REASON]
    assert case["reference"] and case["reference"].startswith("CLM-")
    opened = case["opened_at"]
    assert case["due_at"] - opened == timedelta(days=2)
    # The case.opened event is in the journey's log right after the decision that referred it.
    types = [event["type"] for event in journey_events(components, journey_id)]
    assert types[types.index("decision.made") + 1] == "case.opened"
    [entry] = audit_of(components, case["id"])
    assert (entry["action"], entry["actor"], entry["target_type"]) == (
        "case.opened",
        "system",
        "case",
    )
    assert entry["details"]["queue"] == "fraud"


def test_a_claim_over_3000_goes_to_the_claims_queue(components, alex):
    journey_id = referred(components, alex, settlement="cash", amount="6000")
    case = case_of(components, journey_id)
    assert (case["queue"], case["priority"], case["reasons"]) == ("claims", "normal", [OVER_3000])


def test_an_automatically_approved_claim_opens_no_case(components, alex):
    sent = sent_claim(alex)
    state = check_and_decide(components, sent["id"])
    assert state.outcome["outcome"] == "approved"
    with components.store.read() as connection:
        assert case_rows.cases_of(connection, [sent["id"]]) == []


def test_a_journey_has_at_most_one_open_case(components, jordan):
    journey_id = referred(components, jordan)
    with components.store.read() as connection:
        [case] = case_rows.cases_of(connection, [journey_id])
    second = case_rows.CaseRow(**{**case.__dict__, "id": "another"})
    with pytest.raises(DuplicateKey), components.store.write() as connection:
        case_rows.insert_case(connection, second)
    with components.store.read() as connection:
        assert [c.id for c in case_rows.cases_of(connection, [journey_id])] == [case.id]


def test_the_customer_never_sees_the_case_or_its_reasons(components, jordan):
    journey_id = referred(components, jordan)
    view = jordan.journey(journey_id)
    assert not [e for e in view["events"] if e["type"].startswith("case.")]
    assert "fraud" not in str(view).lower()
    assert view["outcome"]["reasons"] == ["We need to look at your claim more closely"]
