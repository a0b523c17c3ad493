"""Everything a handler needs on one case, drawn in the caller's read transaction: the
answers grouped by step as the customer gave them (with where each prefilled answer came
from), the documents (their originals and display copies by id), every photo fraud signal
with its evidence, every check, the decision's model scores with their reasons in words, and
the decision's reasons, the notes and the tasks.

Fraud-only evidence (the data of the sources staff-only checks read, such as the fraud
bureau's markers, and the photo reuse signals with their matches) is drawn only for those
who may see it. A reuse match names the other claim and its photo only when the viewer may
see a case of that claim; otherwise it says only how close the match is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from wayline.documents import similarity
from wayline.journeys.engine import JourneyState
from wayline.journeys.loader import Journey
from wayline.runtime.queries.step_view import answer_words
from wayline.runtime.results import Position
from wayline.store import Connection, photo_index
from wayline.store import cases as case_rows
from wayline.store import documents as document_rows
from wayline.store.cases import CaseRow

CUSTOMER = "customer"
REUSE_SIGNALS = ("reused_photo", "reused_own_photo")  # fraud-only: they tell of other claims


def case_page(
    connection: Connection,
    journey: Journey,
    state: JourneyState,
    case: CaseRow,
    now: datetime,
    *,
    fraud: bool,
    may_see_other: Callable[[CaseRow], bool],
) -> dict[str, Any]:
    documents = _documents(connection, state.id)
    page: dict[str, Any] = {
        "journey": {
            "id": state.id,
            "type": journey.name,
            "title": journey.title,
            "reference": state.reference,
            "status": state.status.value,
            "customer_id": state.customer_id,
            "submitted_at": state.submitted_at.isoformat() if state.submitted_at else None,
        },
        "answers": _answers(journey, state, documents, now),
        "documents": [_document(d, fraud) for d in documents.values()],
        "checks": _checks(journey, state),
        "scores": model_scores(state),
        "decision": state.outcome,
        "payments": list(state.payments.values()),
        "notes": [
            {"id": n.id, "at": n.at.isoformat(), "author": n.author, "text": n.text}
            for n in case_rows.notes_of(connection, [case.id])
        ],
        "tasks": [_task(t) for t in case_rows.tasks_of_case(connection, [case.id])],
        "fraud_evidence": None,
    }
    if fraud:
        page["fraud_evidence"] = {
            "sources": _staff_sources(journey, state),
            "reuse_matches": _reuse_matches(connection, state.id, documents, may_see_other),
        }
    return page


def model_scores(state: JourneyState) -> list[dict[str, Any]]:
    """Each model the decision scored, with its top reasons in words, and its shadow version
    (scored beside it, never acted on) after it. For staff only: no customer view holds it."""
    shown = []
    for name, entry in state.scores.items():
        for scored, shadow in ((entry, False), (entry.get("shadow"), True)):
            if not scored:
                continue
            shown.append(
                {
                    "name": name,
                    "model": scored["model"],
                    "version": scored["version"],
                    "shadow": shadow,
                    "score": scored.get("score"),
                    "reasons": [reason["text"] for reason in scored.get("reasons", [])],
                }
            )
    return shown


def _answers(
    journey: Journey, state: JourneyState, documents: dict[str, dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The applicable steps in order, each with the answers given to its fields."""
    grouped = []
    for step in Position.of(journey, state, now).applicable:
        given = [spec for spec in step.fields if spec.name in state.answers]
        answers = [
            {
                "field": spec.name,
                "label": spec.label,
                "classification": spec.classification.value,
                "value": state.answers[spec.name],
                "words": answer_words(journey, state, spec, state.answers[spec.name], documents),
                "source": state.answer_sources.get(spec.name, {"source": CUSTOMER}),
            }
            for spec in given
        ]
        grouped.append({"step": step.name, "title": step.title, "answers": answers})
    return grouped


def _documents(connection: Connection, journey_id: str) -> dict[str, dict[str, Any]]:
    found = {}
    for document_id in document_rows.listed(connection, journey_id):
        record = document_rows.record(connection, journey_id, document_id)
        if record is not None:
            found[document_id] = record
    return found


def _document(record: dict[str, Any], fraud: bool) -> dict[str, Any]:
    """A document by id: its original is always there to download; its display copy (a
    re-encoded image without metadata) where one was made. Never where it is stored."""
    signals = [
        signal
        for signal in record.get("signals") or []
        if fraud or signal.get("code") not in REUSE_SIGNALS
    ]
    return {
        "id": record["id"],
        "field": record["field"],
        "filename": record["filename"],
        "content_type": record["content_type"],
        "size": record["size"],
        "status": record["status"],
        "reason": record["reason"],
        "created_at": record["created_at"].isoformat(),
        "has_display_copy": bool(record.get("display_key")),
        "display_content_type": record.get("display_content_type"),
        "signals": signals,
    }


def _checks(journey: Journey, state: JourneyState) -> list[dict[str, Any]]:
    """Every check made, in the definition's order, with who may be told of it."""
    audience = {check.name: check.audience for check in journey.definition.checks}
    return [
        {"name": name, "audience": audience.get(name, "staff"), **result}
        for name, result in sorted(
            state.checks.items(),
            key=lambda item: (
                list(audience).index(item[0]) if item[0] in audience else len(audience)
            ),
        )
    ]


def _staff_sources(journey: Journey, state: JourneyState) -> dict[str, Any]:
    """What the sources of staff-only checks answered (the fraud bureau's markers)."""
    sources = {c.source for c in journey.definition.checks if c.audience == "staff" and c.source}
    return {name: state.data[name].get("value") for name in sorted(sources) if name in state.data}


def _reuse_matches(
    connection: Connection,
    journey_id: str,
    documents: dict[str, dict[str, Any]],
    may_see_other: Callable[[CaseRow], bool],
) -> list[dict[str, Any]]:
    """For each photo of this claim, the similar photos in other claims, nearest first."""
    found = []
    for document_id, record in documents.items():
        evidence = record.get("evidence") or {}
        if not evidence.get("phash") or not similarity.comparable(evidence):
            continue
        matches = photo_index.near(connection, evidence["phash"], exclude_document_id=document_id)
        others = [m for m in matches if m.journey_id != journey_id]
        cases = case_rows.cases_of(connection, [m.journey_id for m in others])
        for match in others:
            seen = [c for c in cases if c.journey_id == match.journey_id and may_see_other(c)]
            entry: dict[str, Any] = {"document_id": document_id, "distance": match.distance}
            if seen:
                entry.update(
                    {
                        "other_journey_id": match.journey_id,
                        "other_document_id": match.document_id,
                        "other_case_id": seen[-1].id,
                    }
                )
            found.append(entry)
    return found


def _task(task: case_rows.TaskRow) -> dict[str, Any]:
    return {
        "id": task.id,
        "kind": task.kind,
        "prompt": task.prompt,
        "accept": list(task.accept),
        "status": task.status,
        "requested_by": task.requested_by,
        "requested_at": task.requested_at.isoformat(),
        "answered_at": task.answered_at.isoformat() if task.answered_at else None,
        "answer": task.answer,
        "documents": list(task.documents),
    }
