"""The insights warehouse: a DuckDB file holding the event log flattened for analysis.

Two tables and a cursor:

- `events`: one row per event, with the parts the questions read pulled out of its body
  (step, the step it pointed to next, the check or effect it names, a status, an outcome and
  its reasons); an `experiment.assigned` event keeps its experiment as `name`, its arm as
  `status` and its variant as `outcome`; a `model.scored` event keeps its model as `name`, the
  version acted on as `status`, a shadow version as `outcome` and the two scores in `score`
  and `shadow_score` (columns added to a file made before them when it is opened);
- `field_errors`: one row per field error of a refused submission (field name and message
  template; never what was typed);
- `cursors`: per source, the highest event id taken in;
- `model_drift`: each drift check's PSI per model, version and feature (written by
  insights/drift_log.py; names and numbers, never a feature's value).

Adding is idempotent: a record whose id is already held (or came earlier in the same batch)
is skipped, so a source may hand the same events again (a re-read overlap, a bus
redelivery) without counting them twice. Records and the cursor are written in one DuckDB
transaction.

DuckDB lets one process write a file at a time: `open` holds it only for as long as the caller
does, so the CLI and the web app take turns (`Busy` when the other holds it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from wayline.insights.records import EventRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    event_id BIGINT NOT NULL,
    journey_id VARCHAR NOT NULL,
    journey VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    step VARCHAR,
    next_step VARCHAR,
    name VARCHAR,
    status VARCHAR,
    outcome VARCHAR,
    reasons VARCHAR[]
);
CREATE TABLE IF NOT EXISTS field_errors (
    event_id BIGINT NOT NULL,
    journey_id VARCHAR NOT NULL,
    journey VARCHAR NOT NULL,
    version VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    step VARCHAR,
    field VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS cursors (
    source VARCHAR PRIMARY KEY,
    last_event_id BIGINT NOT NULL
);
ALTER TABLE events ADD COLUMN IF NOT EXISTS score DOUBLE;
ALTER TABLE events ADD COLUMN IF NOT EXISTS shadow_score DOUBLE;
CREATE TABLE IF NOT EXISTS model_drift (
    checked_at TIMESTAMP NOT NULL,
    model VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    scored_rows INTEGER NOT NULL,
    threshold DOUBLE NOT NULL,
    feature VARCHAR NOT NULL,
    psi DOUBLE NOT NULL,
    status VARCHAR NOT NULL
);
"""

# Each table's columns and their DuckDB types, in order: the shape rows are read in with.
_EVENT_COLUMNS = {
    "event_id": "BIGINT",
    "journey_id": "VARCHAR",
    "journey": "VARCHAR",
    "version": "VARCHAR",
    "type": "VARCHAR",
    "ts": "TIMESTAMP",
    "step": "VARCHAR",
    "next_step": "VARCHAR",
    "name": "VARCHAR",
    "status": "VARCHAR",
    "outcome": "VARCHAR",
    "reasons": "VARCHAR[]",
    "score": "DOUBLE",
    "shadow_score": "DOUBLE",
}
_ERROR_COLUMNS = {
    "event_id": "BIGINT",
    "journey_id": "VARCHAR",
    "journey": "VARCHAR",
    "version": "VARCHAR",
    "ts": "TIMESTAMP",
    "step": "VARCHAR",
    "field": "VARCHAR",
    "message": "VARCHAR",
}


EXPERIMENT_ASSIGNED = "experiment.assigned"  # a journey put in an arm of an experiment
MODEL_SCORED = "model.scored"  # a decision's model (and its shadow version) scored a journey


class Busy(Exception):
    """Another process holds the warehouse file (DuckDB allows one writer)."""


class Warehouse:
    """The DuckDB connection and what is done with it. Use `open`."""

    def __init__(self, connection: duckdb.DuckDBPyConnection):
        self.connection = connection
        connection.execute(SCHEMA)

    def cursor(self, source: str) -> int:
        """The highest event id taken in from `source` (0 before the first)."""
        row = self.connection.execute(
            "SELECT last_event_id FROM cursors WHERE source = ?", [source]
        ).fetchone()
        return int(row[0]) if row else 0

    def add(self, source: str, records: Sequence[EventRecord]) -> int:
        """Keep `records` not already held and move `source`'s cursor to the highest id seen,
        in one transaction. Returns how many were new."""
        if not records:
            return 0
        records = _first_of_each(records)  # a bus may deliver an event twice in one batch
        events, errors = _flatten(records)
        lowest = min(r.event_id for r in records)
        highest = max(r.event_id for r in records)
        db = self.connection
        db.execute("BEGIN TRANSACTION")
        try:
            held = {
                row[0]
                for row in db.execute(
                    "SELECT event_id FROM events WHERE event_id BETWEEN ? AND ?", [lowest, highest]
                ).fetchall()
            }
            new = _insert(db, "events", _EVENT_COLUMNS, _without(events, held))
            _insert(db, "field_errors", _ERROR_COLUMNS, _without(errors, held))
            db.execute(
                "INSERT INTO cursors VALUES (?, ?) ON CONFLICT (source) DO UPDATE "
                "SET last_event_id = greatest(cursors.last_event_id, excluded.last_event_id)",
                [source, highest],
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return new

    def export_parquet(self, sql: str, params: dict[str, Any], target: Path) -> None:
        """Write one query's result to a Parquet file (DuckDB's own writer)."""
        escaped = str(target).replace("'", "''")
        self.connection.execute(f"COPY ({sql}) TO '{escaped}' (FORMAT parquet)", params)


@contextmanager
def open_warehouse(path: Path | str) -> Iterator[Warehouse]:
    """The warehouse at `path` (":memory:" for a throwaway one), created when missing, closed
    after. Busy when another process holds the file."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise Busy(str(path)) from None
        raise
    try:
        yield Warehouse(connection)
    finally:
        connection.close()


Row = dict[str, Any]


def _flatten(records: Sequence[EventRecord]) -> tuple[list[Row], list[Row]]:
    """The records as rows of `events` and of `field_errors` (times as ISO text)."""
    events: list[Row] = []
    errors: list[Row] = []
    for record in records:
        data = record.body.get("data") or {}
        at = record.at_utc.isoformat()
        step = record.body.get("step")
        events.append(
            {
                "event_id": record.event_id,
                "journey_id": record.journey_id,
                "journey": record.journey,
                "version": record.version,
                "type": record.type,
                "ts": at,
                "step": step,
                "next_step": _text(data.get("next")),
                **_named(record.type, data),
                "reasons": [str(r) for r in data.get("reasons") or ()] or None,
                **_scores(record.type, data),
            }
        )
        if record.type != "answers.refused":
            continue
        for error in data.get("errors") or ():
            errors.append(
                {
                    "event_id": record.event_id,
                    "journey_id": record.journey_id,
                    "journey": record.journey,
                    "version": record.version,
                    "ts": at,
                    "step": step,
                    "field": str(error.get("field", "")),
                    "message": str(error.get("message", "")),
                }
            )
    return events, errors


def _named(type_: str, data: dict[str, Any]) -> Row:
    """The `name`, `status` and `outcome` columns of an event: what it names (a check, an
    effect; an experiment), its status (an arm) and its outcome (a variant)."""
    if type_ == EXPERIMENT_ASSIGNED:
        return {
            "name": _text(data.get("experiment")),
            "status": _text(data.get("arm")),
            "outcome": _text(data.get("variant")),
        }
    if type_ == MODEL_SCORED:
        return {
            "name": _text(data.get("model")),
            "status": _text(data.get("version")),
            "outcome": _text(data.get("shadow_version")),
        }
    return {
        "name": _text(data.get("check") or data.get("effect") or data.get("kind")),
        "status": _text(data.get("status") or data.get("by")),
        "outcome": _text(data.get("outcome")),
    }


def _scores(type_: str, data: dict[str, Any]) -> Row:
    """The `score` and `shadow_score` columns: a model's scores (None for other events, and
    for a model that could not score)."""
    if type_ != MODEL_SCORED:
        return {"score": None, "shadow_score": None}
    return {"score": _number(data.get("score")), "shadow_score": _number(data.get("shadow_score"))}


def _number(value: Any) -> float | None:
    """A score as a float; None for anything that is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _first_of_each(records: Sequence[EventRecord]) -> list[EventRecord]:
    """The records with each event id once (its first copy), in their order."""
    seen: set[int] = set()
    kept = []
    for record in records:
        if record.event_id not in seen:
            seen.add(record.event_id)
            kept.append(record)
    return kept


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _without(rows: list[Row], held: set[int]) -> list[Row]:
    """The rows whose event id is not in `held`."""
    return [row for row in rows if row["event_id"] not in held] if held else rows


def _insert(
    db: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], rows: list[Row]
) -> int:
    """Insert rows in one statement: handed to DuckDB as one JSON text and read there with
    the table's types (many times faster than converting Python values one by one)."""
    if not rows:
        return 0
    shape = json.dumps([columns])
    db.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        "SELECT unnest(from_json($rows, $shape), recursive := true)",
        {"rows": json.dumps(rows), "shape": shape},
    )
    return len(rows)
