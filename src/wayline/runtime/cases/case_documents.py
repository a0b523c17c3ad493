"""A document of a case's journey, for staff who may see the case: the record the web layer
serves its display copy or original from. Only documents of that case's journey are found
(any other id is NotFound, as is a case the caller may not see), and every document opened is
in the audit log (`case.document_viewed`, with the document's id and which copy). A copy that
cannot be served (removed, held for the virus scan, or a display copy that does not exist) is
refused before the audit entry, so the log records only documents that were opened."""

from __future__ import annotations

from typing import Any

from wayline.errors import Conflict, NotFound
from wayline.runtime.cases import records
from wayline.runtime.cases.access import Staff
from wayline.runtime.cases.records import Origin
from wayline.runtime.cases.working import CaseDeps, may_see
from wayline.store import cases as case_rows
from wayline.store import documents as document_rows

DOCUMENT_VIEWED = "case.document_viewed"
DISPLAY = "display"


def document(
    cd: CaseDeps,
    staff: Staff,
    case_id: str,
    document_id: str,
    copy: str,
    origin: Origin | None = None,
) -> dict[str, Any]:
    """The record of `document_id` in the journey of `case_id`, with its storage keys, when
    its `copy` ("display" or "original") can be served (servable()); `copy` is named in the
    audit entry, written only then."""
    now = cd.deps.clock.now()
    with cd.deps.uow.reading() as connection:
        case = case_rows.get(connection, case_id)
        if case is None or not may_see(cd, staff, case):
            raise NotFound(f"There is no case '{case_id}'")
        found = document_rows.record(connection, case.journey_id, document_id)
    if found is None:
        raise NotFound(f"There is no document '{document_id}' in this case")
    servable(found, copy)
    details: dict[str, records.Detail] = {
        "journey_id": case.journey_id,
        "document": document_id,
        "copy": copy,
    }
    with cd.deps.uow.writing() as connection:
        records.audit(
            connection, DOCUMENT_VIEWED, case.id, staff.subject, now, details, origin=origin
        )
    return found


def servable(record: dict[str, Any], copy: str) -> None:
    """NotFound when the document was removed (replaced before the journey was sent) or
    `copy` is a display copy it lacks (a PDF: ask for the original); Conflict while it waits
    for the virus scan."""
    if record["status"] == document_rows.REMOVED:
        raise NotFound("This file was replaced before the journey was sent, and is not kept")
    if record["status"] == document_rows.HELD:
        raise Conflict("This file has not been checked for viruses yet, so it cannot be opened")
    if copy == DISPLAY and not record.get("display_key"):
        raise NotFound("This document has no display copy: download the original")
