"""The service layer: each command loads a journey, asks the pure engine, and commits the new
state, its events and its effects in one transaction. Entry points (API, pages, CLI) call this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog

from wayline.connectors.sources import DataSource
from wayline.documents.intake import Rejected
from wayline.errors import Conflict, IdempotencyMismatch, NotFound, PartnerUnavailable
from wayline.ids import new_id, new_reference
from wayline.journeys import engine, follow_up
from wayline.journeys.engine import DataNeed, JourneyState, Refused, Transition
from wayline.journeys.expressions import holds
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldSpec, FieldType, Rule
from wayline.observability import metrics
from wayline.runtime import file_room, strict_json, superseded
from wayline.runtime.catalog import Catalog
from wayline.runtime.clock import Clock
from wayline.runtime.presenter import present
from wayline.store import (
    Connection,
    DuplicateKey,
    StaleRevision,
    Store,
    definitions,
    outbox,
    photo_index,
)
from wayline.store import answers as answer_rows
from wayline.store import documents as document_rows
from wayline.store import events as event_log
from wayline.store import journeys as journey_rows

log = structlog.get_logger("wayline.service")

DOCUMENT_RECEIVED = "document.received"
DOCUMENT_HELD = "document.held"
DOCUMENT_REJECTED = "document.rejected"
DOCUMENTS_REMOVED = "documents.removed"


@dataclass(frozen=True)
class Idempotency:
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Result:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


Command = Callable[[Journey, JourneyState, datetime], Transition]


class JourneyService:
    def __init__(
        self,
        store: Store,
        catalog: Catalog,
        sources: dict[str, DataSource],
        clock: Clock,
        file_replacements: int = 5,
    ):
        self.store = store
        self.catalog = catalog
        self.sources = sources
        self.clock = clock
        # Files a file field may have stored beyond its maximum (runtime/file_room.py).
        self.file_replacements = file_replacements

    # --- queries ---------------------------------------------------------------------------

    def journey_types(self) -> list[dict[str, Any]]:
        return [
            {
                "type": j.name,
                "title": j.title,
                "description": j.definition.description,
                "version": j.version,
                "who": j.definition.who.value,
            }
            for j in (self.catalog.current[name] for name in self.catalog.names())
        ]

    def list(self, customer_id: str) -> list[dict[str, Any]]:
        with self.store.read() as connection:
            rows = journey_rows.list_for(connection, customer_id)
        for row in rows:
            journey = self.catalog.get(row["journey"])
            row["type"] = row.pop("journey")
            row["title"] = journey.title if journey else row["type"]
            for key in ("created_at", "updated_at", "submitted_at"):
                row[key] = row[key].isoformat() if row[key] else None
        return rows

    def get(self, customer_id: str, journey_id: str) -> dict[str, Any]:
        with self.store.read() as connection:
            stored = self._load(connection, journey_id, customer_id)
            journey = self._definition(connection, stored.state)
            events = event_log.of(connection, journey_id)
        return self._view(journey, stored.state, stored.revision, events)

    def find(self, customer_id: str, journey_id: str) -> tuple[Journey, JourneyState, int]:
        """The definition, state and revision of a customer's journey (for the pages)."""
        with self.store.read() as connection:
            stored = self._load(connection, journey_id, customer_id)
            return self._definition(connection, stored.state), stored.state, stored.revision

    # --- commands --------------------------------------------------------------------------

    def start(
        self, customer_id: str, journey_type: str, idempotency: Idempotency | None = None
    ) -> Result:
        journey = self.catalog.get(journey_type)
        if journey is None:
            known = ", ".join(self.catalog.names())
            raise NotFound(f"There is no journey type '{journey_type}' (known: {known})")
        now = self.clock.now()
        data = {
            source: self._fetch(customer_id, DataNeed(source, {}), now)
            for source in sorted(engine.sources_used(journey))
        }
        journey_id = new_id()
        outcome = engine.start(
            journey, journey_id=journey_id, customer_id=customer_id, data=data, now=now
        )
        for attempt in range(2):
            try:
                with self.store.write() as connection:
                    replay = self._replay(connection, customer_id, idempotency)
                    if replay:
                        return replay
                    state = outcome.state
                    current = engine.current_step(journey, state, now)
                    definitions.save(connection, journey, now)
                    journey_rows.insert_journey(connection, state, current)
                    event_log.append(connection, state.id, outcome.events)
                    body = self._view(journey, state, 1, [e.to_dict() for e in outcome.events])
                    strict_json.check(body)  # answerable, or nothing is kept
                    self._remember(connection, customer_id, idempotency, 201, body, now)
                break
            except DuplicateKey:
                # A concurrent request with the same idempotency key committed first: the next
                # attempt replays its response.
                if attempt or idempotency is None:
                    raise
        metrics.JOURNEYS_STARTED.labels(journey.name).inc()
        log.info("journey.started", journey_id=state.id, journey=journey.name)
        return Result(201, body)

    def save_draft(
        self, customer_id: str, journey_id: str, step: str, answers: dict, revision: int
    ) -> Result:
        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            return engine.save_draft(journey, state, step, answers, now)

        return self._run(customer_id, journey_id, revision, None, command, step, answers)

    def submit_step(
        self,
        customer_id: str,
        journey_id: str,
        step: str,
        answers: dict,
        revision: int,
        idempotency: Idempotency | None = None,
    ) -> Result:
        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            try:
                outcome = engine.submit_step(journey, state, step, answers, now)
            except Refused as refused:
                self._count_step(journey, step, refused)
                raise
            self._count_step(journey, step, None)
            return follow_up.after_step(journey, outcome, step, now)

        return self._run(customer_id, journey_id, revision, idempotency, command, step, answers)

    def submit(
        self,
        customer_id: str,
        journey_id: str,
        revision: int,
        declaration: bool,
        idempotency: Idempotency | None = None,
    ) -> Result:
        def command(journey: Journey, state: JourneyState, now: datetime) -> Transition:
            reference = new_reference(journey.definition.reference_prefix)
            outcome = engine.submit(
                journey, state, declaration=declaration, reference=reference, now=now
            )
            # Files no answer names are deleted once it is sent: queued with the sending, and
            # done by the worker after this transaction (deleting files is I/O).
            return replace(outcome, effects=(*outcome.effects, superseded.request(state.id)))

        result = self._run(customer_id, journey_id, revision, idempotency, command)
        if not result.replayed:
            metrics.JOURNEYS_SUBMITTED.labels(result.body["type"]).inc()
            log.info("journey.submitted", journey_id=journey_id, journey=result.body["type"])
        return result

    def file_field(self, customer_id: str, journey_id: str, field: str) -> FieldSpec | None:
        """The file field an upload is for (None when `field` is not one), on a journey that
        still takes files; Rejected when the field already holds as many as it takes."""
        with self.store.read() as connection:
            stored = self._load(connection, journey_id, customer_id)
            if stored.state.status != engine.Status.IN_PROGRESS:
                raise Conflict("Files can no longer be added to this journey")
            journey = self._definition(connection, stored.state)
            spec = journey.fields.get(field)
            if spec is None or spec.type != FieldType.FILE:
                return None
            self._check_room(connection, journey, stored.state, spec)
            return spec

    def record_document(self, customer_id: str, journey_id: str, document: dict[str, Any]) -> None:
        """Keep an uploaded document's record, with a document.received event (document.held
        when the scanner could not look at it) in the same transaction. The journey row does
        not change, so its revision stays: pages and API clients that uploaded a file go on
        with the revision they hold. An accepted document may be named by a file answer."""
        with self.store.write() as connection:
            journey_rows.lock(connection, journey_id)
            stored = self._load(connection, journey_id, customer_id)
            if stored.state.status != engine.Status.IN_PROGRESS:
                raise Conflict("Files can no longer be added to this journey")
            journey = self._definition(connection, stored.state)
            field = document["field"]
            held = document.get("status") == "held"
            self._check_room(connection, journey, stored.state, journey.fields[field], held)
            now = self.clock.now()
            document_rows.insert_document(connection, journey_id, document, now)
            phash = (document.get("evidence") or {}).get("phash")
            if phash and not held:
                # In the reuse index at once, so a later claim anywhere finds this photo.
                photo_index.add(connection, document["id"], journey_id, customer_id, phash)
            data: dict[str, Any] = {"document": document["id"], "field": field}
            if held:
                data["reason"] = document.get("reason")
            event = engine.Event(
                DOCUMENT_HELD if held else DOCUMENT_RECEIVED,
                now,
                _step_of(journey, field),
                (field,),
                data,
            )
            event_log.append(connection, journey_id, (event,))

    def reject_document(
        self, customer_id: str, journey_id: str, field: str, rejected: Rejected
    ) -> None:
        """A document.rejected event with the reason; nothing else changes."""
        with self.store.write() as connection:
            stored = self._load(connection, journey_id, customer_id)
            journey = self._definition(connection, stored.state)
            data = {"field": field, "reason": rejected.reason, "code": rejected.code}
            event = engine.Event(
                DOCUMENT_REJECTED,
                self.clock.now(),
                _step_of(journey, field),
                (field,),
                {**data, **rejected.data},
            )
            event_log.append(connection, journey_id, (event,))

    def document(self, customer_id: str, journey_id: str, document_id: str) -> dict[str, Any]:
        """One of the journey's documents, with its storage keys, evidence and signals."""
        with self.store.read() as connection:
            self._load(connection, journey_id, customer_id)
            record = document_rows.record(connection, journey_id, document_id)
        if record is None:
            raise NotFound(f"There is no document '{document_id}' in this journey")
        return record

    def evidence_of(self, document_id: str) -> dict[str, Any] | None:
        """A document's evidence metadata (the shape is in documents.metadata), for the
        system's own work (signals, the reuse index): no owner check."""
        with self.store.read() as connection:
            return document_rows.evidence_of(connection, document_id)

    def supersede_documents(self, journey_id: str) -> list[str]:
        """On a sent journey, mark the documents no answer names as removed (their rows stay,
        with a documents.removed event, and leave the photo reuse index), in one transaction.
        Returns where every removed document of the journey was stored, for the caller to
        delete after this commits (again if it is run again: deleting is idempotent)."""
        with self.store.write() as connection:
            journey_rows.lock(connection, journey_id)
            owner = journey_rows.owner_of(connection, journey_id)
            if owner is None:
                raise NotFound(f"There is no journey '{journey_id}'")
            state = self._load(connection, journey_id, owner).state
            if state.status == engine.Status.IN_PROGRESS:
                return []  # files may still be put back into answers
            journey = self._definition(connection, state)
            named = {
                document
                for name, spec in journey.fields.items()
                if spec.type == FieldType.FILE
                for document in state.answers.get(name) or []
            }
            stored = document_rows.stored(connection, journey_id)
            unnamed = sorted(d for d in stored if d not in named)
            if unnamed:
                document_rows.mark_removed(connection, unnamed)
                photo_index.remove(connection, unnamed)
                fields = tuple(sorted({stored[d] for d in unnamed}))
                data = {"documents": unnamed, "reason": "not in the answers when it was sent"}
                event = engine.Event(DOCUMENTS_REMOVED, self.clock.now(), None, fields, data)
                event_log.append(connection, journey_id, (event,))
            return document_rows.removed_keys(connection, journey_id)

    def _check_room(
        self,
        connection: Connection,
        journey: Journey,
        state: JourneyState,
        spec: FieldSpec,
        held: bool = False,
    ) -> None:
        """Refuse another file for a field that holds as many as its max_items rule allows.
        Counted: the field's accepted documents that the step's answer or draft names, and
        those uploaded since the journey was last saved (on their way into the answer). A
        file taken out of the answer no longer counts there, but every file stored for the
        field does count against the storage cap of runtime/file_room.py. A held file (not
        usable in an answer) is checked against that cap only."""
        now = self.clock.now()
        scope = engine.context(journey, state, state.answers, now)
        rules = [
            rule
            for rule in spec.rules
            if rule.rule == "max_items" and rule.value is not None and holds(rule.when, scope)
        ]
        rule = min(rules, key=lambda r: int(r.value or 0)) if rules else None
        if rule is not None and not held:
            self._check_answer_room(connection, journey, state, spec, rule)
        limit = file_room.stored_limit(
            int(rule.value or 0) if rule else None, self.file_replacements
        )
        if document_rows.stored_count(connection, state.id, spec.name) >= limit:
            raise file_room.too_many_stored(spec, limit)

    def _check_answer_room(
        self,
        connection: Connection,
        journey: Journey,
        state: JourneyState,
        spec: FieldSpec,
        rule: Rule,
    ) -> None:
        step = journey.step(_step_of(journey, spec.name) or "")
        named = engine.step_values(journey, state, step).get(spec.name) if step else None
        listed = set(named) if isinstance(named, list) else set()
        uploaded = document_rows.field_arrivals(connection, state.id, spec.name)
        counted = [d for d, at in uploaded.items() if d in listed or at >= state.updated_at]
        if len(counted) >= int(rule.value or 0):
            raise Rejected(
                rule.message or f"{spec.label} takes no more than {rule.value} files",
                "too_many_files",
            )

    def abandon_stale(self, limit: int = 100) -> int:
        """Mark drafts left longer than their definition's abandon_after as abandoned."""
        now = self.clock.now()
        abandoned = 0
        for journey in self.catalog.current.values():
            cutoff = now - engine.parse_duration(journey.definition.abandon_after)
            with self.store.read() as connection:
                stale = journey_rows.stale(connection, journey.name, cutoff, limit)
            for journey_id, customer_id, revision in stale:

                def command(definition: Journey, state: JourneyState, at: datetime) -> Transition:
                    return engine.abandon(definition, state, at)

                try:
                    self._run(customer_id, journey_id, revision, None, command)
                except (Conflict, Refused):
                    continue  # touched meanwhile, or its own version allows longer
                abandoned += 1
                log.info("journey.abandoned", journey_id=journey_id, journey=journey.name)
        return abandoned

    def documents(self, customer_id: str, journey_id: str) -> dict[str, dict[str, Any]]:
        """The journey's uploads (id, field, file name, type, size), oldest first."""
        with self.store.read() as connection:
            self._load(connection, journey_id, customer_id)
            return document_rows.listed(connection, journey_id)

    def apply(
        self, journey_id: str, command: Command, needs: Needs | None = None, strict: bool = False
    ) -> dict[str, Any]:
        """Run a command as the system (the effect worker): on the journey as it is now, for
        whichever customer owns it."""
        with self.store.read() as connection:
            owner = journey_rows.owner_of(connection, journey_id)
        if owner is None:
            raise NotFound(f"There is no journey '{journey_id}'")
        return self._run(owner, journey_id, None, None, command, needs=needs, strict=strict).body

    def system_state(self, journey_id: str) -> tuple[Journey, JourneyState]:
        """A journey's definition and state as they are now, for the system's own work."""
        with self.store.read() as connection:
            owner = journey_rows.owner_of(connection, journey_id)
            if owner is None:
                raise NotFound(f"There is no journey '{journey_id}'")
            stored = self._load(connection, journey_id, owner)
            return self._definition(connection, stored.state), stored.state

    def definition_for(self, customer_id: str, journey_id: str) -> Journey:
        with self.store.read() as connection:
            stored = self._load(connection, journey_id, customer_id)
            return self._definition(connection, stored.state)

    # --- the shell around one engine command ------------------------------------------------

    def _run(
        self,
        customer_id: str,
        journey_id: str,
        revision: int | None,
        idempotency: Idempotency | None,
        command: Command,
        step: str | None = None,
        answers: dict | None = None,
        needs: Needs | None = None,
        strict: bool = False,
    ) -> Result:
        """Run one command in one transaction. `revision` None means the journey as it is now
        (the system acting, not a client). Partner data the command needs is fetched outside
        the transaction; with `strict`, a partner that cannot answer fails the command."""
        if needs is None and step is not None:
            needs = _step_needs(step, answers or {})
        fetched: dict[str, dict[str, Any]] = {}
        for _attempt in range(4):
            now = self.clock.now()
            try:
                with self.store.write() as connection:
                    replay = self._replay(connection, customer_id, idempotency)
                    if replay:
                        return replay
                    stored = self._load(connection, journey_id, customer_id)
                    if revision is not None and stored.revision != revision:
                        raise Conflict(
                            f"The journey has changed since revision {revision}: it is now at "
                            f"revision {stored.revision}. Reload it and try again."
                        )
                    journey = self._definition(connection, stored.state)
                    state = replace(
                        stored.state, documents=document_rows.nameable(connection, journey_id)
                    )
                    state = self._with_fetched(journey, state, fetched)
                    # What this call already fetched is used as it came, even a failure.
                    missing = [
                        n
                        for n in (needs(journey, state, now) if needs else [])
                        if n.source not in fetched
                    ]
                    if missing:
                        raise _NeedData(missing)
                    outcome = command(journey, state, now)
                    body = self._commit(connection, journey, stored, outcome, now)
                    self._remember(connection, customer_id, idempotency, 200, body, now)
                    return Result(200, body)
            except _NeedData as need:
                # Fetch partner data outside the transaction, then run the command again.
                for item in need.needs:
                    fetched[item.source] = self._fetch(customer_id, item, now)
                    if strict and fetched[item.source].get("error"):
                        raise PartnerUnavailable(item.source) from None
            except StaleRevision:
                if revision is None:
                    continue  # the system acts on the latest state: read it again
                raise Conflict("The journey was changed by another request. Reload it.") from None
            except DuplicateKey:
                # A concurrent request took the same idempotency key (the next attempt replays
                # its response), or a new reference collided with another journey's (the next
                # attempt draws another).
                continue
        raise Conflict("The journey's data kept changing; try again")

    def _commit(
        self,
        connection: Connection,
        journey: Journey,
        stored: journey_rows.StoredJourney,
        outcome: Transition,
        now: datetime,
    ) -> dict[str, Any]:
        state = outcome.state
        current = engine.current_step(journey, state, now)
        new_revision = journey_rows.update_journey(connection, state, stored.revision, current)
        answer_rows.sync(connection, journey, stored.state, state)
        event_log.append(connection, state.id, outcome.events)
        outbox.enqueue(connection, state.id, outcome.effects, now)
        events = event_log.of(connection, state.id)
        body = self._view(journey, state, new_revision, events)
        # The response is serialised after the commit: a body that cannot be would answer 500
        # for a change already made. Checked here, such a failure rolls the change back.
        strict_json.check(body)
        return body

    def _with_fetched(self, journey: Journey, state: JourneyState, fetched: dict) -> JourneyState:
        if not fetched:
            return state
        for source, entry in fetched.items():
            state = engine.record_data(
                state,
                source,
                entry["params"],
                entry["value"],
                datetime.fromisoformat(entry["fetched_at"]),
                entry.get("error"),
            )
        return engine.with_data(journey, state)

    def _fetch(self, customer_id: str, need: DataNeed, now: datetime) -> dict[str, Any]:
        """Ask a data source; a failure is recorded and counted, and the journey goes on."""
        entry: dict[str, Any] = {"params": need.params, "fetched_at": now.isoformat()}
        source = self.sources.get(need.source)
        try:
            if source is None:
                raise LookupError(f"no data source named '{need.source}' is configured")
            entry["value"] = source.fetch(customer_id, need.params, now.date())
        except Exception as error:  # any partner failure: the journey must go on without it
            metrics.DATA_SOURCE_FAILURES.labels(need.source).inc()
            log.warning("data_source.failed", source=need.source, error=type(error).__name__)
            entry["value"] = None
            entry["error"] = "unavailable"
        return entry

    def _load(self, connection: Connection, journey_id: str, customer_id: str):
        stored = journey_rows.load(connection, journey_id, customer_id)
        if stored is None:
            raise NotFound(f"There is no journey '{journey_id}'")
        structlog.contextvars.bind_contextvars(journey_id=journey_id)
        return stored

    def _definition(self, connection: Connection, state: JourneyState) -> Journey:
        return self.catalog.version(connection, state.journey, state.version)

    def _view(self, journey: Journey, state: JourneyState, revision: int, events: list) -> dict:
        now = self.clock.now()
        state = self._view_data(journey, state, now)
        # The type's current definition too: a reason marked staff since this journey
        # started is hidden from its customer as well.
        return present(journey, state, revision, events, now, self.catalog.get(journey.name))

    def _view_data(self, journey: Journey, state: JourneyState, now: datetime) -> JourneyState:
        current = engine.current_step(journey, state, now)
        return self.with_options(journey, state, current) if current else state

    def with_options(self, journey: Journey, state: JourneyState, step: str) -> JourneyState:
        """Options for a step may need data not yet held (repairers near the incident
        postcode): fetch it for display only; submitting the step records it."""
        now = self.clock.now()
        needs = engine.data_needs(journey, state, step, {}, now)
        if not needs:
            return state
        fetched = {n.source: self._fetch(state.customer_id, n, now) for n in needs}
        return self._with_fetched(journey, state, fetched)

    def _count_step(self, journey: Journey, step: str, refused: Refused | None) -> None:
        if journey.step(step) is None:
            return
        outcome = "accepted" if refused is None else "invalid"
        metrics.STEP_SUBMISSIONS.labels(journey.name, step, outcome).inc()
        for error in refused.errors if refused else []:
            if error.field in journey.fields:
                metrics.VALIDATION_ERRORS.labels(journey.name, step, error.field).inc()

    def _replay(
        self, connection: Connection, customer_id: str, idempotency: Idempotency | None
    ) -> Result | None:
        if idempotency is None:
            return None
        found = idempotency.find(connection, customer_id, idempotency.key)
        if found is None:
            return None
        if found["fingerprint"] != idempotency.fingerprint:
            raise IdempotencyMismatch(
                "This Idempotency-Key was already used for a different request"
            )
        return Result(found["status_code"], found["body"], replayed=True)

    def _remember(
        self,
        connection: Connection,
        customer_id: str,
        idempotency: Idempotency | None,
        status_code: int,
        body: dict,
        now: datetime,
    ) -> None:
        if idempotency is not None:
            idempotency.remember(
                connection,
                customer_id,
                idempotency.key,
                idempotency.fingerprint,
                status_code,
                body,
                now,
            )


Needs = Callable[[Journey, JourneyState, datetime], list[DataNeed]]


def _step_needs(step: str, answers: dict) -> Needs:
    """Data a step's options and its checks need for these answers (repairers near the
    postcode; confirmation of payee for the account given)."""

    def needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
        found = engine.data_needs(journey, state, step, answers, now)
        return found + follow_up.check_needs(
            journey, state, f"step:{step}", answers, now, refetch_failed=True
        )

    return needs


class _NeedData(Exception):
    def __init__(self, needs: list[DataNeed]):
        self.needs = needs


def _step_of(journey: Journey, field: str) -> str | None:
    return next((s.name for s in journey.steps if any(f.name == field for f in s.fields)), None)
