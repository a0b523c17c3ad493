"""What the workbench keeps: the audit entries of cases cannot be changed or deleted by
anything (the database refuses), an auditor reads one case's or one person's, saved views
per member of staff, and the migration makes exactly the tables the code describes. On SQLite
and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cases_kit import audit_of, casey, morgan, referred, riley
from sqlalchemy.exc import DBAPIError

from wayline.errors import Conflict, NotFound
from wayline.identity.audit import AuditLog
from wayline.journeys.engine import InvalidAnswers
from wayline.runtime.cases import CaseFilters
from wayline.store import cases as case_rows
from wayline.store import tables


def _case(components, journey_id):
    with components.store.read() as connection:
        return case_rows.open_case_of(connection, journey_id)


def test_case_audit_entries_cannot_be_changed_or_deleted(components, alex):
    case = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    components.cases.claim(casey(), case.id)
    before = audit_of(components, case.id)
    assert [e["action"] for e in before] == ["case.opened", "case.claimed"]
    audit = tables.audit_log
    for statement in (
        audit.update().where(audit.c.target_id == case.id).values(actor="someone-else"),
        audit.delete().where(audit.c.target_id == case.id),
    ):
        with pytest.raises(DBAPIError), components.store.engine.begin() as connection:
            connection.execute(statement)
    assert audit_of(components, case.id) == before


def test_an_auditor_reads_one_case_and_one_person(components, alex):
    case = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    components.cases.claim(casey(), case.id)
    components.cases.case(casey(), case.id)
    components.cases.release(casey(), case.id)
    log = AuditLog(components.store, components.clock)
    of_case = log.entries(target=("case", case.id))
    assert [e.action for e in reversed(of_case)] == [
        "case.opened",
        "case.claimed",
        "case.viewed",
        "case.released",
    ]
    of_casey = log.entries(actor="casey")
    assert {e.action for e in of_casey} == {"case.claimed", "case.viewed", "case.released"}
    released = of_case[0]
    assert released.details["before.assignee"] == "casey"
    assert released.details["after.assignee"] is None
    assert released.details["journey_id"] == case.journey_id


def test_saved_views_are_each_staff_member_s_own(components, alex, jordan):
    referred(components, alex, settlement="cash", amount="4000")
    fraud = _case(components, referred(components, jordan))
    view = components.cases.save_view(
        riley(), "Fraud, nobody on it", {"queue": "fraud", "assignee": "nobody"}
    )
    assert view.filters == {"queue": "fraud", "assignee": "nobody"}
    assert [c["id"] for c in components.cases.view_cases(riley(), view.id)] == [fraud.id]
    components.cases.claim(riley(), fraud.id)
    assert components.cases.view_cases(riley(), view.id) == []
    assert [v.name for v in components.cases.views(riley())] == ["Fraud, nobody on it"]
    assert components.cases.views(morgan()) == []
    with pytest.raises(NotFound):
        components.cases.view_cases(morgan(), view.id)
    with pytest.raises(Conflict):
        components.cases.save_view(riley(), "Fraud, nobody on it", {})
    with pytest.raises(InvalidAnswers) as refused:
        components.cases.save_view(riley(), "Bad", {"status": "sleeping", "colour": "red"})
    assert {error.field for error in refused.value.errors} == {"status", "colour"}
    components.cases.delete_view(riley(), view.id)
    assert components.cases.views(riley()) == []


def test_filters_narrow_the_queues(components, alex, jordan):
    claims = _case(components, referred(components, alex, settlement="cash", amount="4000"))
    fraud = _case(components, referred(components, jordan))
    components.cases.claim(morgan(), claims.id)
    listed = lambda **f: [c["id"] for c in components.cases.cases(morgan(), CaseFilters(**f))]  # noqa: E731
    assert set(listed()) == {claims.id, fraud.id}
    assert listed(assignee="me") == [claims.id]
    assert listed(assignee="nobody") == [fraud.id]
    assert listed(priority="high") == [fraud.id]
    assert listed(queue="claims") == [claims.id]
    assert listed(overdue=True) == []
    assert listed(status="closed") == []
    [summary] = components.cases.cases(morgan(), CaseFilters(queue="fraud"))
    assert summary["age_seconds"] >= 0 and summary["overdue"] is False
    queues = {q["queue"]: q for q in components.cases.queues(morgan())}
    assert queues["fraud"]["unassigned"] == 1 and queues["claims"]["counts"]["open"] == 1


def test_the_migration_makes_the_tables_the_code_describes(components):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with components.store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), tables.metadata)
    names = ("cases", "case_notes", "case_tasks", "case_views")
    assert [d for d in differences if any(f"'{n}'" in repr(d) for n in names)] == []
    with components.store.engine.connect() as connection:
        assert set(names) <= set(sa.inspect(connection).get_table_names())
