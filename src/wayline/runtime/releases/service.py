"""Releases: start one, analyse the open ones at each interval, and decide.

Every decision (started, advanced, paused, resumed, rolled back, promoted) and every judged
analysis is a row of the release log with the KPIs it saw, and an entry of the audit log
naming who made it: a member of staff, the command line, or the release analysis itself
(actor `release-analysis`). The release's row, its log row and its audit entry are written in
one transaction, compare-and-set on the release's revision: two workers analysing at once
never both decide.

Audit rows are built here from store/audit.py, as the workbench's are (runtime/cases/
records.py): identity/ uses the runtime, so the runtime cannot use identity.audit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from wayline.errors import Conflict, NotFound
from wayline.ids import new_id
from wayline.journeys.loader import Journey
from wayline.observability import metrics
from wayline.runtime.clock import Clock
from wayline.runtime.releases import analysis, kpis
from wayline.runtime.releases.analysis import Action
from wayline.runtime.releases.strategy import Strategy, parse
from wayline.store import Connection, DuplicateKey, Store, definitions
from wayline.store import audit as audit_store
from wayline.store import releases as release_store
from wayline.store.releases import LogRow, ReleaseRow

log = structlog.get_logger("wayline.releases")

RUNNING, PAUSED, ROLLED_BACK, PROMOTED = "running", "paused", "rolled_back", "promoted"
# What a person may decide, and the status each leaves.
DECISIONS = {"rollback": ROLLED_BACK, "promote": PROMOTED, "pause": PAUSED, "resume": RUNNING}
# The log's kind for each action the analysis takes (WAIT and CONTINUE are "analysed").
_KIND = {
    Action.ADVANCE: "advanced",
    Action.PROMOTE: "promoted",
    Action.PAUSE: "paused",
    Action.ROLLBACK: "rolled_back",
}


class ReleaseInputError(ValueError):
    """A release that cannot be started as asked: the message names what is wrong (422)."""


@dataclass(frozen=True)
class Actor:
    """Who decided: a member of staff (with the request's address and user agent), the
    command line, or the analysis (`SYSTEM`)."""

    subject: str
    kind: str  # staff, cli or system
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor("release-analysis", "system")


@dataclass(frozen=True)
class Analysed:
    release: ReleaseRow
    action: Action
    reason: str


@dataclass(frozen=True)
class Status:
    """A release as `release status` shows it: its row and its latest judged analysis."""

    release: ReleaseRow
    strategy: Strategy
    latest: dict[str, Any] | None


def release_json(status: Status) -> dict[str, Any]:
    """A release as the API and `release status --json` show it (no personal data: versions,
    shares, times, the KPIs' figures)."""
    row = status.release
    return {
        "id": row.id,
        "journey": row.journey,
        "stable_version": row.stable_version,
        "canary_version": row.canary_version,
        "status": row.status,
        "stage": row.stage,
        "percent": row.percent,
        "stages": [stage.model_dump() for stage in status.strategy.stages],
        "strategy": status.strategy.name,
        "started_at": row.started_at.isoformat(),
        "started_by": row.started_by,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "failing_intervals": row.failing_intervals,
        "latest_analysis": status.latest,
    }


class Releases:
    def __init__(self, store: Store, clock: Clock):
        self.store = store
        self.clock = clock

    # -- starting ---------------------------------------------------------------------------

    def register(self, journey: Journey) -> str:
        """Keep a checked definition as a version in the store without making it the one new
        journeys start on (a release can then name it); its version."""
        with self.store.write() as connection:
            definitions.save(connection, journey, self.clock.now())
        return journey.version

    def start(
        self,
        journey: str,
        version: str,
        strategy: Strategy,
        actor: Actor,
        stable: str | None = None,
    ) -> ReleaseRow:
        """Release `version` (a version in the store, or a unique start of one) of `journey`
        as a canary against `stable` (by default what new journeys start on now: see
        `_stable`). ReleaseInputError for an unknown journey or version; Conflict when the
        journey already has an open release."""
        now = self.clock.now()
        with self.store.read() as connection:
            known = release_store.versions(connection, journey)
            previous = release_store.latest(connection, journey)
        if not known:
            raise ReleaseInputError(f"journey '{journey}' has no version in the store")
        canary = _one_version(known, version, "version")
        if stable:
            chosen = _one_version(known, stable, "stable")
        else:
            chosen = _stable(known, canary, previous)
        if chosen == canary:
            raise ReleaseInputError(f"version {canary} is already the stable version")
        release = ReleaseRow(
            id=new_id(),
            journey=journey,
            stable_version=chosen,
            canary_version=canary,
            strategy=strategy.model_dump(),
            status=RUNNING,
            stage=0,
            percent=strategy.stages[0].percent,
            stage_started_at=now,
            started_at=now,
            started_by=actor.subject,
            ended_at=None,
            failing_intervals=0,
            last_analysed_at=None,
            revision=1,
        )
        body = {"stable": chosen, "canary": canary, "percent": release.percent}
        try:
            with self.store.write() as connection:
                release_store.insert_release(connection, release)
                self._record(connection, release, now, "started", actor, body)
        except DuplicateKey:
            raise Conflict(f"journey '{journey}' already has an open release") from None
        log.info("release.started", journey=journey, version=canary, percent=release.percent)
        return release

    # -- analysing --------------------------------------------------------------------------

    def analyse_due(self) -> list[Analysed]:
        """Analyse each running release whose interval has passed since its last analysis."""
        now = self.clock.now()
        with self.store.read() as connection:
            found = release_store.open_releases(connection)
        return [self.analyse(r) for r in found if r.status == RUNNING and _due(r, now)]

    def analyse(self, release: ReleaseRow) -> Analysed:
        """Judge one interval of `release` and act on it (read, then one write)."""
        now = self.clock.now()
        strategy = parse(release.strategy)
        canary, stable = self._arms(release, strategy, now)
        judgement = analysis.judge(strategy, canary, stable)
        decision = analysis.decide(
            strategy,
            release.stage,
            release.stage_started_at,
            release.failing_intervals,
            judgement,
            now,
        )
        values = _after(release, strategy, decision, now)
        body = {
            "stage": release.stage,
            "percent": release.percent,
            "decision": decision.action.value,
            "reason": decision.reason,
            "arms": {"canary": canary.to_dict(), "stable": stable.to_dict()},
            "verdicts": [v.to_dict() for v in judgement.verdicts],
        }
        with self.store.write() as connection:
            if not release_store.change(connection, release, **values):
                return Analysed(release, Action.WAIT, "analysed elsewhere meanwhile")
            if judgement.sampled:
                release_store.log(connection, release, now, "analysed", SYSTEM.subject, body)
            if decision.action in _KIND:
                self._record(connection, release, now, _KIND[decision.action], SYSTEM, body)
        gauge = metrics.RELEASE_ANALYSIS_FAILING.labels(release.journey, release.canary_version)
        ended = decision.action in (Action.ROLLBACK, Action.PROMOTE)
        gauge.set(1 if judgement.failing and not ended else 0)
        log.info(
            "release.analysed",
            journey=release.journey,
            version=release.canary_version,
            decision=decision.action.value,
            reason=decision.reason,
        )
        return Analysed(replace(release, **values), decision.action, decision.reason)

    def _arms(
        self, release: ReleaseRow, strategy: Strategy, now: datetime
    ) -> tuple[kpis.ArmKpis, kpis.ArmKpis]:
        after = timedelta(seconds=strategy.drop_off_after)
        arms = []
        with self.store.read() as connection:
            for version in (release.canary_version, release.stable_version):
                journeys = release_store.arm_journeys(
                    connection, release.journey, version, release.started_at
                )
                events = release_store.arm_events(
                    connection, release.journey, version, release.started_at
                )
                arms.append(kpis.compute(journeys, events, now, after))
        return arms[0], arms[1]

    # -- a person's decisions ---------------------------------------------------------------

    def decide(self, release_id: str, decision: str, actor: Actor) -> ReleaseRow:
        """Roll back, promote, pause or resume an open release. NotFound for no such release;
        Conflict when it is closed, or the decision does not fit its status."""
        if decision not in DECISIONS:
            raise ReleaseInputError(f"decision must be one of {', '.join(DECISIONS)}")
        now = self.clock.now()
        with self.store.write() as connection:
            release = release_store.get(connection, release_id)
            if release is None:
                raise NotFound(f"There is no release {release_id}")
            values = _decided(release, DECISIONS[decision], now)
            if not release_store.change(connection, release, **values):
                raise Conflict("The release changed meanwhile: look again")
            kind = {"rollback": "rolled_back", "promote": "promoted"}.get(decision)
            body = {"percent": values.get("percent", release.percent), "by": actor.kind}
            self._record(connection, release, now, kind or f"{decision}d", actor, body)
        if values["status"] in (ROLLED_BACK, PROMOTED):
            metrics.RELEASE_ANALYSIS_FAILING.labels(release.journey, release.canary_version).set(0)
        return replace(release, **values)

    # -- reading ----------------------------------------------------------------------------

    def status(self, journey: str | None = None) -> list[Status]:
        """The journey's releases (or every journey's), oldest first, each with its latest
        judged analysis."""
        with self.store.read() as connection:
            rows = release_store.listed(connection, journey)
            entries = release_store.log_of(connection, journey=journey)
        latest: dict[str, dict[str, Any]] = {}
        for entry in entries:
            if entry.kind == "analysed":
                latest[entry.release_id] = entry.body
        return [Status(row, parse(row.strategy), latest.get(row.id)) for row in rows]

    def history(self, journey: str | None = None) -> tuple[list[ReleaseRow], list[LogRow]]:
        """Releases and their log, for DORA metrics."""
        with self.store.read() as connection:
            return (
                release_store.listed(connection, journey),
                release_store.log_of(connection, journey=journey),
            )

    def _record(
        self,
        connection: Connection,
        release: ReleaseRow,
        now: datetime,
        kind: str,
        actor: Actor,
        body: dict[str, Any],
    ) -> None:
        """The decision's log row and audit entry, in the caller's transaction."""
        release_store.log(connection, release, now, kind, actor.subject, body)
        details: dict[str, audit_store.Detail] = {
            "journey": release.journey,
            "version": release.canary_version,
            "percent": int(body.get("percent", release.percent)),
        }
        audit_store.append(
            connection,
            audit_store.AuditRow(
                id=new_id(),
                at=now,
                actor=actor.subject,
                actor_kind=actor.kind,
                action=f"release_{kind}",
                outcome="success",
                ip=actor.ip,
                user_agent=audit_store.short_user_agent(actor.user_agent),
                target_type="release",
                target_id=release.id,
                details=audit_store.short_details(details),
            ),
        )


def _one_version(known: list[str], given: str, what: str) -> str:
    """The version `given` names (all of it, or a start only one version has)."""
    found = [v for v in known if v == given] or [v for v in known if v.startswith(given)]
    if len(found) != 1:
        problem = "is not a version of this journey" if not found else "names more than one"
        raise ReleaseInputError(f"{what} '{given}' {problem} (known: {', '.join(known)})")
    return found[0]


def _stable(known: list[str], canary: str, previous: ReleaseRow | None) -> str:
    """What new journeys start on now: after a release, the version it left in use;
    otherwise the newest version in the store other than the canary."""
    if previous is not None and previous.status in (RUNNING, PAUSED):
        raise Conflict(f"journey '{previous.journey}' already has an open release")
    if previous is not None:
        return previous.canary_version if previous.status == PROMOTED else previous.stable_version
    others = [v for v in known if v != canary]
    if not others:
        raise ReleaseInputError("there is no other version to compare with: name --stable")
    return others[-1]


def _due(release: ReleaseRow, now: datetime) -> bool:
    if release.last_analysed_at is None:
        return True
    interval = timedelta(seconds=int(release.strategy["interval"]))
    return now - release.last_analysed_at >= interval


def _after(
    release: ReleaseRow, strategy: Strategy, decision: analysis.Decision, now: datetime
) -> dict[str, Any]:
    """The release's columns after the analysis decided."""
    values: dict[str, Any] = {
        "last_analysed_at": now,
        "failing_intervals": decision.failing_intervals,
    }
    if decision.action is Action.ADVANCE:
        stage = release.stage + 1
        values.update(stage=stage, percent=strategy.stages[stage].percent, stage_started_at=now)
    elif decision.action is Action.PROMOTE:
        values.update(status=PROMOTED, percent=100, ended_at=now)
    elif decision.action is Action.ROLLBACK:
        values.update(status=ROLLED_BACK, ended_at=now)
    elif decision.action is Action.PAUSE:
        values.update(status=PAUSED)
    return values


def _decided(release: ReleaseRow, status: str, now: datetime) -> dict[str, Any]:
    """The release's columns after a person's decision; Conflict when it does not fit."""
    if release.status not in (RUNNING, PAUSED):
        raise Conflict(f"The release is {release.status.replace('_', ' ')}: it is over")
    if status == release.status:
        raise Conflict(f"The release is {release.status} already")
    values: dict[str, Any] = {"status": status}
    if status in (ROLLED_BACK, PROMOTED):
        values["ended_at"] = now
    if status == PROMOTED:
        values["percent"] = 100
    if status == RUNNING:  # resumed: the stage bakes again from now, its count cleared
        values.update(stage_started_at=now, failing_intervals=0)
    return values
