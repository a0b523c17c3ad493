"""The questions insights answer, as SQL over the warehouse, per journey type and version.

Every question reads a cohort: the journeys of a type and version (either may be left open)
that started within a date range. Its answers are grouped by journey type and definition
version, so two versions can be put side by side and the export holds them all.

The funnel reads where each journey was sent next (`data.next` of `journey.started`,
`step.completed` and `answer.changed`): a step is *reached* when a journey was sent to it or
completed it, *completed* when the journey completed it (`check-answers` when it was
submitted), and *dropped* when it is where an unsubmitted journey last stood and the journey
ended without being sent (expired, withdrawn) or has been quiet for longer than its
abandonment window. A journey still inside its window counts as neither: it is in progress.

Times are in seconds; medians and 90th percentiles are DuckDB's `quantile_cont`.

The experiment questions give, per experiment and arm (from `experiment.assigned`, every
version of the type together), the rows each primary metric needs: journeys and how many were
sent, with the minutes to send (`experiment_arms`), and the funnel's numbers per step
(`experiment_steps`). Their statistics are in insights/experiments/.

The model questions read `model.scored` (model as `name`, the version acted on as `status`, a
shadow version as `outcome`, scores to two places), the last scoring of each journey by each
model, every version of the type together: per model and version, live or in shadow, how many
were scored, the mean score and how many scored over the threshold (`model_versions`); and per
model and live and shadow pair, how often the two fell on the same side of the threshold and
how many only one put over it (`model_agreement`). The threshold is the scope's
`model_threshold` (0.8, the motor claim's rule, unless told).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from wayline.insights.warehouse import Warehouse

CHECK_ANSWERS = "check-answers"  # the engine's name for the page before sending
ENDED_UNSENT = ("journey.expired", "journey.withdrawn", "journey.abandoned")
_EARLIEST = datetime(1970, 1, 1)
_LATEST = datetime(9999, 1, 1)
MODEL_THRESHOLD = 0.8  # the score over which the motor claim's rule refers a claim


@dataclass(frozen=True)
class Terms:
    """A journey type's own times: how long a quiet draft may wait before it counts as
    dropped (its definition's `abandon_after`), and the deadline of its payment, if any."""

    abandon_after: timedelta
    payment_deadline: timedelta | None = None


@dataclass(frozen=True)
class Scope:
    """Which journeys to count: a type and version (None: all), started from `since` to
    `until` (whole UTC days, both included), judged at `as_of`. `terms` by journey type;
    `default_abandon_after` for a type without terms; `model_threshold` is the score the model
    questions count journeys over."""

    as_of: datetime
    default_abandon_after: timedelta
    journey: str | None = None
    version: str | None = None
    since: date | None = None
    until: date | None = None
    terms: dict[str, Terms] = field(default_factory=dict)
    model_threshold: float = MODEL_THRESHOLD

    def params(self) -> dict[str, Any]:
        since = datetime.combine(self.since, time()) if self.since else _EARLIEST
        until = datetime.combine(self.until + timedelta(days=1), time()) if self.until else _LATEST
        as_of = self.as_of.astimezone(UTC).replace(tzinfo=None) if self.as_of.tzinfo else self.as_of
        return {
            "journey": self.journey,
            "version": self.version,
            "since": since,
            "until": until,
            "as_of": as_of,
            "default_window": self.default_abandon_after.total_seconds(),
            "threshold": self.model_threshold,
        }


_COHORT = """
cohort AS (
    SELECT journey_id, any_value(journey) AS journey, any_value(version) AS version,
           min(ts) AS started
    FROM events
    WHERE type = 'journey.started'
      AND ($journey IS NULL OR journey = $journey)
      AND ($version IS NULL OR version = $version)
    GROUP BY journey_id
    HAVING min(ts) >= $since AND min(ts) < $until
),
ev AS MATERIALIZED (
    SELECT e.* FROM events e SEMI JOIN cohort c ON e.journey_id = c.journey_id
)"""

# Per journey and step, in one pass: when it was first reached (sent there, or completed it)
# and first completed (`check-answers`: sent).
_STEPS = """,
touch AS MATERIALIZED (
    SELECT journey_id, step, min(ts) AS reached_at, min(ts) FILTER (WHERE done) AS done_at
    FROM (
        SELECT journey_id, next_step AS step, ts, false AS done FROM ev
        WHERE next_step IS NOT NULL
        UNION ALL
        SELECT journey_id, step, ts, true FROM ev WHERE type = 'step.completed'
        UNION ALL
        SELECT journey_id, 'check-answers', ts, true FROM ev WHERE type = 'journey.submitted'
    ) GROUP BY ALL
)"""

# Per journey that has not been sent: the step it was dropped at, when it was dropped (it
# ended unsent, or has been quiet longer than its abandonment window).
_DROPPED = """,
fate AS (
    SELECT ev.journey_id,
           arg_max(next_step, event_id) FILTER (WHERE next_step IS NOT NULL) AS last_step,
           max(ts) AS last_at,
           bool_or(type = 'journey.submitted') AS submitted,
           bool_or(type IN ('journey.expired', 'journey.withdrawn', 'journey.abandoned'))
               AS ended
    FROM ev GROUP BY ev.journey_id
),
dropped AS (
    SELECT f.journey_id, f.last_step AS step
    FROM fate f JOIN cohort c USING (journey_id)
    LEFT JOIN terms t ON t.journey = c.journey
    WHERE NOT f.submitted AND f.last_step IS NOT NULL
      AND (f.ended OR f.last_at < $as_of - to_seconds(coalesce(t.abandon_s, $default_window)))
)"""

FUNNEL = (
    "WITH"
    + _COHORT
    + _STEPS
    + _DROPPED
    + """
SELECT c.journey, c.version, r.step,
       count(*) AS reached, count(r.done_at) AS completed, count(x.journey_id) AS dropped,
       median(epoch(r.reached_at - c.started)) AS position
FROM touch r JOIN cohort c USING (journey_id)
LEFT JOIN dropped x USING (journey_id, step)
GROUP BY ALL
ORDER BY c.journey, c.version, position, r.step"""
)

STEP_TIMES = (
    "WITH"
    + _COHORT
    + _STEPS
    + """
SELECT c.journey, c.version, r.step, count(*) AS journeys,
       quantile_cont(epoch(r.done_at - r.reached_at), 0.5) AS median_s,
       quantile_cont(epoch(r.done_at - r.reached_at), 0.9) AS p90_s,
       median(epoch(r.reached_at - c.started)) AS position
FROM touch r JOIN cohort c USING (journey_id)
WHERE r.done_at IS NOT NULL
GROUP BY ALL
ORDER BY c.journey, c.version, position, r.step"""
)

FIELD_ERRORS = (
    "WITH"
    + _COHORT
    + """
SELECT c.journey, c.version, f.step, f.field, f.message,
       count(*) AS errors, count(DISTINCT f.journey_id) AS journeys
FROM field_errors f JOIN cohort c USING (journey_id)
GROUP BY ALL
ORDER BY c.journey, c.version, errors DESC, f.field, f.message"""
)

COMPLETION = (
    "WITH"
    + _COHORT
    + """,
sent AS (SELECT journey_id, min(ts) AS ts FROM ev WHERE type = 'journey.submitted' GROUP BY ALL),
fulfilled AS (SELECT DISTINCT journey_id FROM ev WHERE type = 'journey.completed')
SELECT c.journey, c.version, count(*) AS started, count(s.journey_id) AS submitted,
       count(f.journey_id) AS fulfilled,
       quantile_cont(epoch(s.ts - c.started), 0.5) AS median_s,
       quantile_cont(epoch(s.ts - c.started), 0.9) AS p90_s
FROM cohort c LEFT JOIN sent s USING (journey_id) LEFT JOIN fulfilled f USING (journey_id)
GROUP BY ALL
ORDER BY c.journey, c.version"""
)

PARTNER_FAILURES = (
    "WITH"
    + _COHORT
    + """
SELECT c.journey, c.version, ev.type, coalesce(ev.name, 'unnamed') AS name,
       coalesce(ev.status, 'failed') AS status,
       count(*) AS failures, count(DISTINCT ev.journey_id) AS journeys
FROM ev JOIN cohort c USING (journey_id)
WHERE (ev.type = 'check.completed' AND ev.status = 'unavailable')
   OR ev.type IN ('effect.failed', 'effect.refused')
GROUP BY ALL
ORDER BY c.journey, c.version, failures DESC, name"""
)

OUTCOMES = (
    "WITH"
    + _COHORT
    + """
SELECT c.journey, c.version, coalesce(ev.outcome, 'none') AS outcome,
       unnest(coalesce(ev.reasons, ['(no reason given)'])) AS reason
FROM ev JOIN cohort c USING (journey_id)
WHERE ev.type = 'decision.made'"""
)
OUTCOMES = f"""SELECT journey, version, outcome, reason, count(*) AS journeys
FROM ({OUTCOMES}) GROUP BY ALL ORDER BY journey, version, journeys DESC, outcome, reason"""

TIMINGS = (
    "WITH"
    + _COHORT
    + """,
sent AS (SELECT journey_id, min(ts) AS ts FROM ev WHERE type = 'journey.submitted' GROUP BY ALL),
decided AS (SELECT journey_id, min(ts) AS ts FROM ev WHERE type = 'decision.made' GROUP BY ALL),
paid AS (SELECT journey_id, min(ts) AS ts FROM ev WHERE type = 'payment.sent' GROUP BY ALL),
breached AS (
    SELECT journey_id, count(*) AS n FROM ev WHERE type = 'deadline.breached' GROUP BY ALL
)
SELECT c.journey, c.version,
       count(d.journey_id) AS decided,
       quantile_cont(epoch(d.ts - s.ts), 0.5) AS decision_median_s,
       quantile_cont(epoch(d.ts - s.ts), 0.9) AS decision_p90_s,
       count(p.journey_id) AS paid,
       quantile_cont(epoch(p.ts - d.ts), 0.5) AS payment_median_s,
       quantile_cont(epoch(p.ts - d.ts), 0.9) AS payment_p90_s,
       any_value(t.payment_s) AS payment_deadline_s,
       count(*) FILTER (WHERE epoch(p.ts - d.ts) > t.payment_s) AS paid_late,
       coalesce(sum(b.n), 0) AS breaches
FROM cohort c
LEFT JOIN sent s USING (journey_id)
LEFT JOIN decided d USING (journey_id)
LEFT JOIN paid p USING (journey_id)
LEFT JOIN breached b USING (journey_id)
LEFT JOIN terms t ON t.journey = c.journey
GROUP BY ALL
ORDER BY c.journey, c.version"""
)

BREACHES = (
    "WITH"
    + _COHORT
    + """
SELECT c.journey, c.version, coalesce(ev.name, 'unnamed') AS deadline, count(*) AS breaches
FROM ev JOIN cohort c USING (journey_id)
WHERE ev.type = 'deadline.breached'
GROUP BY ALL
ORDER BY c.journey, c.version, breaches DESC, deadline"""
)

# Per journey of the cohort and experiment it was assigned in: its arm. A journey assigned
# twice in one experiment (a second assignment, not a redelivery: those the warehouse keeps
# once) stays in the arm of its first.
_ASSIGNED = """,
assigned AS (
    SELECT journey_id, name AS experiment, arg_min(status, event_id) AS arm
    FROM ev
    WHERE type = 'experiment.assigned' AND name IS NOT NULL AND status IS NOT NULL
    GROUP BY journey_id, name
)"""

# Per experiment and arm, every version of the type together: the journeys assigned, how
# many were sent (completion, as the completion question counts it), and the minutes from
# start to sending of those sent (time to complete).
EXPERIMENT_ARMS = (
    "WITH"
    + _COHORT
    + _ASSIGNED
    + """,
sent AS (SELECT journey_id, min(ts) AS ts FROM ev WHERE type = 'journey.submitted' GROUP BY ALL)
SELECT c.journey, a.experiment, a.arm, count(*) AS journeys, count(s.journey_id) AS submitted,
       avg(epoch(s.ts - c.started) / 60) AS mean_minutes,
       var_samp(epoch(s.ts - c.started) / 60) AS variance_minutes,
       quantile_cont(epoch(s.ts - c.started) / 60, 0.5) AS median_minutes
FROM assigned a JOIN cohort c USING (journey_id) LEFT JOIN sent s USING (journey_id)
GROUP BY ALL
ORDER BY c.journey, a.experiment, a.arm"""
)

# Per experiment, arm and step: the funnel's reached, completed and dropped (drop-off).
EXPERIMENT_STEPS = (
    "WITH"
    + _COHORT
    + _STEPS
    + _DROPPED
    + _ASSIGNED
    + """
SELECT c.journey, a.experiment, a.arm, r.step,
       count(*) AS reached, count(r.done_at) AS completed, count(x.journey_id) AS dropped
FROM assigned a JOIN cohort c USING (journey_id) JOIN touch r USING (journey_id)
LEFT JOIN dropped x USING (journey_id, step)
GROUP BY ALL
ORDER BY c.journey, a.experiment, a.arm, r.step"""
)

# Per journey of the cohort and model: its last scoring (a journey decided again is counted
# once, as last scored), with the versions as numbers.
_SCORED = """,
last_scored AS (
    SELECT max(event_id) AS event_id FROM ev
    WHERE type = 'model.scored' AND name IS NOT NULL AND try_cast(status AS INTEGER) IS NOT NULL
    GROUP BY journey_id, name
),
scored AS (
    SELECT e.journey_id, e.name AS model, try_cast(e.status AS INTEGER) AS version, e.score,
           try_cast(e.outcome AS INTEGER) AS shadow_version, e.shadow_score
    FROM ev e SEMI JOIN last_scored l ON e.event_id = l.event_id
)"""

# Per model and version, acted on (`live`) or in shadow: journeys scored by it, how many had a
# score (the rest could not be scored), their mean and how many were over the threshold.
MODEL_VERSIONS = (
    "WITH"
    + _COHORT
    + _SCORED
    + """
SELECT c.journey, s.model, 'live' AS role, s.version, count(*) AS journeys,
       count(s.score) AS scored, avg(s.score) AS mean_score,
       count(*) FILTER (WHERE s.score > $threshold) AS over
FROM scored s JOIN cohort c USING (journey_id)
GROUP BY ALL
UNION ALL
SELECT c.journey, s.model, 'shadow' AS role, s.shadow_version, count(*),
       count(s.shadow_score), avg(s.shadow_score),
       count(*) FILTER (WHERE s.shadow_score > $threshold)
FROM scored s JOIN cohort c USING (journey_id)
WHERE s.shadow_version IS NOT NULL
GROUP BY ALL
ORDER BY journey, model, role, version"""
)

# Per model and pair of live and shadow versions, over the journeys both scored: how many fell
# on the same side of the threshold, and how many only the shadow, or only live, put over it.
MODEL_AGREEMENT = (
    "WITH"
    + _COHORT
    + _SCORED
    + """
SELECT c.journey, s.model, s.version, s.shadow_version, count(*) AS paired,
       count(*) FILTER (WHERE (s.score > $threshold) = (s.shadow_score > $threshold)) AS agree,
       count(*) FILTER (WHERE s.shadow_score > $threshold AND s.score <= $threshold)
           AS shadow_only,
       count(*) FILTER (WHERE s.score > $threshold AND s.shadow_score <= $threshold)
           AS live_only
FROM scored s JOIN cohort c USING (journey_id)
WHERE s.shadow_version IS NOT NULL AND s.score IS NOT NULL AND s.shadow_score IS NOT NULL
GROUP BY ALL
ORDER BY c.journey, s.model, s.version, s.shadow_version"""
)

VERSIONS = """
SELECT journey, version, count(*) AS journeys, min(ts) AS first_started, max(ts) AS last_started
FROM events WHERE type = 'journey.started'
GROUP BY ALL ORDER BY journey, first_started, version"""

# Every question by name: the export writes one Parquet file each.
QUESTIONS = {
    "funnel": FUNNEL,
    "step_times": STEP_TIMES,
    "field_errors": FIELD_ERRORS,
    "completion": COMPLETION,
    "partner_failures": PARTNER_FAILURES,
    "outcomes": OUTCOMES,
    "timings": TIMINGS,
    "breaches": BREACHES,
    "experiment_arms": EXPERIMENT_ARMS,
    "experiment_steps": EXPERIMENT_STEPS,
    "model_versions": MODEL_VERSIONS,
    "model_agreement": MODEL_AGREEMENT,
}


@dataclass(frozen=True)
class Row:
    """One answer row: its columns by name."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def prepare(warehouse: Warehouse, scope: Scope) -> None:
    """Load the scope's terms into this connection (a temporary table the questions join)."""
    db = warehouse.connection
    db.execute(
        "CREATE OR REPLACE TEMP TABLE terms (journey VARCHAR, abandon_s DOUBLE, payment_s DOUBLE)"
    )
    rows = [
        (
            name,
            terms.abandon_after.total_seconds(),
            terms.payment_deadline.total_seconds() if terms.payment_deadline else None,
        )
        for name, terms in scope.terms.items()
    ]
    if rows:
        db.executemany("INSERT INTO terms VALUES (?, ?, ?)", rows)


def ask(warehouse: Warehouse, question: str, scope: Scope) -> list[Row]:
    """One question's answer rows (call `prepare` first on this connection)."""
    sql = QUESTIONS[question]
    result = warehouse.connection.execute(sql, _used(sql, scope.params()))
    names = [column[0] for column in result.description]
    return [Row(dict(zip(names, row, strict=True))) for row in result.fetchall()]


def versions(warehouse: Warehouse) -> list[Row]:
    """Each journey type's versions seen, oldest first, with how many journeys started."""
    result = warehouse.connection.execute(VERSIONS)
    names = [column[0] for column in result.description]
    return [Row(dict(zip(names, row, strict=True))) for row in result.fetchall()]


def export_params(question: str, scope: Scope) -> dict[str, Any]:
    """The parameters `question` uses, for the export's COPY."""
    return _used(QUESTIONS[question], scope.params())


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    # DuckDB refuses named parameters a statement does not use.
    return {name: value for name, value in params.items() if f"${name}" in sql}
