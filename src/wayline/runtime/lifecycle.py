"""A journey's end of life (docs/data-protection.md#retention): retention by the rules its
definition declares, legal holds that stop it, a customer's export, and erasure by
crypto-shredding.

- Retention: a draft never sent expires `drafts` after its last change; an ended (or decided)
  journey expires its outcome's period, else `default`, after its last change; one in flight
  (submitted, in review) never expires. Expiry is measured on the components' clock.
- A held journey, or any journey of a held customer, is never removed or erased.
- What goes: every row the journey left (store/lifecycle.py) and its stored files. What stays:
  its events (names and ids, no answer) and the append-only audit log. Each removal is logged
  (kinds and counts, never data) in the removal's own transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from wayline.journeys.engine import ENDED, Status, parse_duration
from wayline.journeys.schema import Retention
from wayline.observability.logging import get_logger
from wayline.runtime.export import Archive, export
from wayline.store import lifecycle
from wayline.store.lifecycle import CUSTOMER, JOURNEY, Hold, JourneyFacts

if TYPE_CHECKING:
    from wayline.documents.storage import Storage
    from wayline.protection.keys import DataKeys
    from wayline.runtime.clock import Clock
    from wayline.store import Store

log = get_logger("wayline.lifecycle")
# Decided journeys are over for retention: nothing more is asked of the customer.
_OVER = frozenset({*ENDED, Status.DECIDED})
# Never sent: in progress, or abandoned by the stale-draft sweep (a change of its own: the
# period runs from it), withdrawn or expired before sending.
_DRAFTS = frozenset({Status.IN_PROGRESS, Status.ABANDONED, Status.WITHDRAWN, Status.EXPIRED})
# Sent and not yet decided: never expires (read in SQL, so the sweep skips them).
_IN_FLIGHT = frozenset({Status.SUBMITTED.value, Status.IN_REVIEW.value})
# No rule can be shorter than this: the sweep reads only journeys unchanged for as long.
_SHORTEST = timedelta(days=1)


@dataclass(frozen=True)
class Removal:
    journey_id: str
    journey: str
    rule: str
    removed: dict[str, int] = field(default_factory=dict)


@dataclass
class RetentionReport:
    removed: list[Removal] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # expired but held: journey ids


@dataclass
class ErasureReport:
    removed: list[Removal] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)  # journey id: why
    subjects_forgotten: list[str] = field(default_factory=list)
    data_keys_deleted: int = 0


def rules_of(written: Any) -> Retention:
    """A definition's `retention` as stored (a duration or a mapping) read as its rules."""
    if isinstance(written, dict):
        return Retention.model_validate(written)
    return Retention(default=str(written))


def expiry(facts: JourneyFacts, rules: Retention) -> tuple[str, datetime] | None:
    """Which rule applies to the journey and when it expires; None while it is in flight."""
    if facts.submitted_at is None and facts.status in _DRAFTS:
        period = rules.drafts or rules.default
        return f"drafts {period}", facts.updated_at + parse_duration(period)
    if facts.status not in _OVER:  # in flight: submitted or in review (_IN_FLIGHT)
        return None
    for name in (facts.outcome, facts.status):
        if name and name in rules.outcomes:
            period = rules.outcomes[name]
            return f"outcomes.{name} {period}", facts.updated_at + parse_duration(period)
    return f"default {rules.default}", facts.updated_at + parse_duration(rules.default)


class Lifecycle:
    """Retention, holds, export and erasure over one store and its storage."""

    def __init__(self, store: Store, storage: Storage, clock: Clock, keys: DataKeys | None = None):
        self.store = store
        self.storage = storage
        self.clock = clock
        self.keys = keys

    # Legal holds

    def hold(self, scope: str, target: str, reason: str, by: str) -> str:
        """Place a hold on a customer or a journey; returns the hold's id."""
        if scope not in (CUSTOMER, JOURNEY):
            raise ValueError(f"a hold is on a customer or a journey, not {scope!r}")
        if not target.strip() or not reason.strip():
            raise ValueError("a hold needs a target and a reason")
        with self.store.write() as connection:
            return lifecycle.place_hold(connection, scope, target, reason, by, self.clock.now())

    def release(self, scope: str, target: str, by: str) -> int:
        """Release the holds on a customer or a journey; returns how many were active."""
        with self.store.write() as connection:
            return lifecycle.release_holds(connection, scope, target, by, self.clock.now())

    def holds(self) -> list[Hold]:
        with self.store.read() as connection:
            return lifecycle.active_holds(connection)

    # Retention

    def run_retention(self, dry_run: bool = False) -> RetentionReport:
        """Remove every journey whose retention has expired, but held ones; with `dry_run`,
        only say what would go."""
        now = self.clock.now()
        report = RetentionReport()
        with self.store.read() as connection:
            written = lifecycle.definition_retention(connection)
            candidates = lifecycle.journeys_changed_before(connection, now - _SHORTEST, _IN_FLIGHT)
        for facts in candidates:
            found = expiry(facts, rules_of(written.get((facts.journey, facts.version), "P7Y")))
            if found is None or found[1] > now:
                continue
            removal = self._remove(facts, found[0], "retention", dry_run)
            if removal is None:
                report.held.append(facts.id)
            else:
                report.removed.append(removal)
        log.info(
            "retention.run", removed=len(report.removed), held=len(report.held), dry_run=dry_run
        )
        return report

    def _remove(self, facts: JourneyFacts, rule: str, action: str, dry_run: bool) -> Removal | None:
        """Remove one journey in its own transaction, its files after it commits (a crash
        between leaves sealed files no row names, which `wayline retention run` cannot
        reach; erasure shreds their key). None if the journey is held."""
        with self.store.write() as connection:
            if lifecycle.is_held(connection, facts.id, facts.customer_id):
                return None
            if dry_run:
                return Removal(facts.id, facts.journey, rule)
            files = lifecycle.files_of(connection, facts.id)
            removed = lifecycle.remove_journey(connection, facts.id)
            if files:
                removed["files"] = len(files)
            lifecycle.log(connection, self.clock.now(), action, rule, removed, facts)
        for key in files:
            self.storage.delete(key)
        return Removal(facts.id, facts.journey, rule, removed)

    # Export

    def export(self, customer_id: str) -> Archive:
        """Everything kept of the customer, opened, with its manifest (runtime/export.py)."""
        return export(self.store, self.storage, self.clock, customer_id)

    # Erasure

    def erase(self, customer_id: str, dry_run: bool = False) -> ErasureReport:
        """Erase a customer: every journey not held goes, then (if nothing of theirs is
        held) their data keys and those of the visitors their journeys passed from are
        deleted, so whatever is left sealed for them anywhere (backups, leftover files) can
        never be opened, with or without the keyring. A hold keeps the journey and the keys
        its sealed values need."""
        report = ErasureReport()
        with self.store.read() as connection:
            owned = lifecycle.journeys_of_customer(connection, customer_id)
            subjects = {customer_id} | lifecycle.former_owners(
                connection, [facts.id for facts in owned]
            )
        for facts in owned:
            removal = self._remove(facts, "erasure request", "erasure", dry_run)
            if removal is None:
                report.kept[facts.id] = "legal hold"
            else:
                report.removed.append(removal)
        if report.kept or dry_run:
            return report
        with self.store.write() as connection:
            if lifecycle.is_held(connection, "", customer_id):
                return report
            for subject in sorted(subjects):
                if self.keys is not None:
                    report.data_keys_deleted += self.keys.forget_subject(connection, subject)
                lifecycle.remove_sessions(connection, subject)
                report.subjects_forgotten.append(subject)
            lifecycle.log(
                connection,
                self.clock.now(),
                "erasure",
                "erasure request",
                {"data_keys": report.data_keys_deleted, "subjects": len(subjects)},
                subject=customer_id,
            )
        log.info("erasure.done", journeys=len(report.removed), data_keys=report.data_keys_deleted)
        return report


def report_json(report: RetentionReport | ErasureReport) -> str:
    """A report as JSON, for the CLI's `--json` and the logs of operators."""
    body: dict[str, Any] = {"removed": [vars(removal) for removal in report.removed]}
    if isinstance(report, RetentionReport):
        body["held"] = report.held
    else:
        body |= {
            "kept": report.kept,
            "subjects_forgotten": report.subjects_forgotten,
            "data_keys_deleted": report.data_keys_deleted,
        }
    return json.dumps(body, indent=2)
