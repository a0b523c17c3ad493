"""Review findings 1 and 8, through the service layer, on SQLite and PostgreSQL: while a case
awaits a second approval its holder can neither ask the customer for information nor resolve
it (either would drop the pending approval), a decline refused to a non-approver says so in
words about deciding, and a request for files keeps no more than a file field may."""

from __future__ import annotations

import pytest
from cases_kit import audit_of, case_of, casey, referred, riley, staff

from wayline.documents.intake import Rejected
from wayline.errors import Conflict, Forbidden
from wayline.identity.roles import Role
from wayline.runtime import file_room
from wayline.store import cases as case_rows


@pytest.fixture
def proposed(components, alex) -> str:
    """Alex's cash claim over the limit, which Casey proposes to approve: its case id."""
    case_id = case_of(components, referred(components, alex, settlement="cash", amount="6000"))[
        "id"
    ]
    components.cases.claim(casey(), case_id)
    assert components.cases.decide(casey(), case_id, "approve", "verified").status == (
        "awaiting_approval"
    )
    return str(case_id)


def test_a_case_awaiting_a_second_approval_cannot_ask_the_customer_or_be_resolved(
    components, proposed
):
    before = audit_of(components, proposed)
    with pytest.raises(Conflict, match="waiting for a second approval"):
        components.cases.request_information(casey(), proposed, code="parked_where")
    with pytest.raises(Conflict, match="waiting for a second approval"):
        components.cases.resolve(casey(), proposed, "Nothing more to do")
    with components.store.read() as connection:
        case = case_rows.get(connection, proposed)
        assert case is not None
        assert case_rows.tasks_of_case(connection, [proposed]) == []
    assert case.status == "awaiting_approval" and case.proposal["by"] == "casey"
    assert audit_of(components, proposed) == before


def test_a_decline_refused_to_a_handler_speaks_of_deciding_not_approving(components, proposed):
    with pytest.raises(Forbidden) as refused:
        components.cases.decide(staff("drew", Role.HANDLER), proposed, "decline", "not_covered")
    assert "approve" not in str(refused.value)
    assert "only a senior handler can decide it" in str(refused.value)


def test_a_request_for_files_keeps_no_more_than_a_file_field_may(components, jordan):
    journey_id = referred(components, jordan)
    case_id = case_of(components, journey_id)["id"]
    components.cases.claim(riley(), case_id)
    task = components.cases.request_information(riley(), case_id, code="other_plate")
    limit = file_room.stored_limit(None, components.settings.file_replacements)

    def upload(number: int) -> None:
        components.cases.record_task_upload(
            "jordan",
            journey_id,
            task.id,
            {
                "id": f"doc-plate-{number}",
                "filename": "plate.jpg",
                "content_type": "image/jpeg",
                "size": 1234,
                "sha256": "0" * 64,
                "storage_key": f"k/plate-{number}",
            },
        )

    for number in range(limit):
        upload(number)
    with pytest.raises(Rejected) as refused:
        upload(limit)
    assert refused.value.code == file_room.TOO_MANY_STORED
    assert case_of(components, journey_id)["status"] == "awaiting_customer"
    done = components.cases.answer_task("jordan", journey_id, task.id, documents=["doc-plate-0"])
    assert done.documents == ["doc-plate-0"]
