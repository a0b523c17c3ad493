"""Insights' questions against a hand-built event history, on DuckDB in memory: the funnel
(reached, completed, dropped; a journey inside its abandonment window is in progress, not
dropped), time per step, field errors, completion, partner failures, outcomes, decision and
payment times, and the date range."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from wayline.insights import queries
from wayline.insights.queries import Scope, Terms
from wayline.insights.records import EventRecord
from wayline.insights.warehouse import Warehouse, open_warehouse

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
AS_OF = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
WINDOW = timedelta(days=30)


class History:
    """Events in the engine's shapes, numbered as written."""

    def __init__(self) -> None:
        self.records: list[EventRecord] = []

    def add(
        self,
        journey_id: str,
        type_: str,
        at: datetime,
        version: str = "v1",
        step: str | None = None,
        **data: Any,
    ) -> None:
        body: dict[str, Any] = {"type": type_, "at": at.isoformat()}
        if step:
            body["step"] = step
        if data:
            body["data"] = data
        number = len(self.records) + 1
        self.records.append(EventRecord(number, journey_id, "claim", version, type_, at, body))

    def walk(self, journey_id: str, start: datetime, *seconds: float, version: str = "v1") -> None:
        """Started, then steps a, b, c completed after these seconds each (as many as given)."""
        steps = ["a", "b", "c", "check-answers"]
        self.add(journey_id, "journey.started", start, version, next="a")
        at = start
        for i, wait in enumerate(seconds):
            at += timedelta(seconds=wait)
            self.add(journey_id, "step.completed", at, version, steps[i], next=steps[i + 1])


def hand_built() -> History:
    h = History()
    # J1 goes all the way: sent, checked (one partner unavailable), approved, paid late.
    h.walk("j1", T0, 60, 120, 30)
    sent = T0 + timedelta(minutes=10)
    h.add("j1", "journey.submitted", sent, reference="CLM-1")
    h.add("j1", "check.completed", sent, check="cover", status="unavailable", passed=None)
    h.add("j1", "decision.made", sent + timedelta(minutes=5), outcome="approved", reasons=["ok"])
    h.add("j1", "payment.sent", sent + timedelta(minutes=25), payout_id="p1")
    h.add("j1", "deadline.breached", sent + timedelta(minutes=20), effect="payout")
    # J2 completes a, is refused twice on b, and has been quiet beyond its window: dropped at b.
    h.walk("j2", T0 + timedelta(hours=1), 30)
    refused_at = T0 + timedelta(hours=1, minutes=2)
    errors = [{"field": "amount", "message": "Enter the amount"}]
    h.add("j2", "answers.refused", refused_at, step="b", errors=errors)
    h.add("j2", "answers.refused", refused_at, step="b", errors=errors)
    # J3 started inside the window and stands at b: in progress, not dropped.
    h.walk("j3", AS_OF - timedelta(days=5), 90)
    # J4 withdrew on the first step: dropped at a, whatever the window.
    h.add("j4", "journey.started", T0 + timedelta(days=1), next="a")
    h.add("j4", "journey.withdrawn", T0 + timedelta(days=1, hours=1), by="customer")
    # J5 runs on version 2, refused on a, then completes it; declined after sending.
    h.add("j5", "journey.started", T0, "v2", next="a")
    h.add("j5", "answers.refused", T0, "v2", "a", errors=errors)
    h.add("j5", "step.completed", T0 + timedelta(seconds=10), "v2", "a", next="check-answers")
    h.add("j5", "journey.submitted", T0 + timedelta(seconds=20), "v2")
    h.add("j5", "effect.failed", T0 + timedelta(seconds=30), "v2", effect="screen", status="failed")
    h.add("j5", "decision.made", T0 + timedelta(hours=1), "v2", outcome="declined", reasons=["x"])
    return h


@pytest.fixture(scope="module")
def warehouse() -> Iterator[Warehouse]:
    with open_warehouse(":memory:") as held:
        held.add("test", hand_built().records)
        yield held


def scope(**overrides: Any) -> Scope:
    values: dict[str, Any] = {
        "as_of": AS_OF,
        "default_abandon_after": timedelta(days=90),
        "journey": "claim",
        "terms": {"claim": Terms(WINDOW, timedelta(minutes=15))},
    }
    return Scope(**(values | overrides))


def answer(warehouse: Warehouse, question: str, **overrides: Any) -> list[dict[str, Any]]:
    chosen = scope(**overrides)
    queries.prepare(warehouse, chosen)
    return [row.values for row in queries.ask(warehouse, question, chosen)]


def by_step(rows: list[dict[str, Any]], *columns: str) -> dict[str, tuple[Any, ...]]:
    return {row["step"]: tuple(row[c] for c in columns) for row in rows}


def test_the_funnel_counts_reached_completed_and_dropped(warehouse: Warehouse) -> None:
    rows = answer(warehouse, "funnel", version="v1")
    assert [row["step"] for row in rows] == ["a", "b", "c", "check-answers"]
    assert by_step(rows, "reached", "completed", "dropped") == {
        "a": (4, 3, 1),  # j4 withdrew there
        "b": (3, 1, 1),  # j2 dropped; j3 is in progress inside its window
        "c": (1, 1, 0),
        "check-answers": (1, 1, 0),
    }


def test_a_longer_window_keeps_a_quiet_journey_in_progress(warehouse: Warehouse) -> None:
    longer = {"claim": Terms(timedelta(days=60))}
    rows = answer(warehouse, "funnel", version="v1", terms=longer)
    assert by_step(rows, "dropped")["b"] == (0,)
    assert by_step(rows, "dropped")["a"] == (1,)  # a withdrawal is a drop at any age


def test_versions_are_counted_apart(warehouse: Warehouse) -> None:
    rows = answer(warehouse, "funnel")
    assert {
        (row["version"], row["step"]): row["reached"] for row in rows if row["step"] == "a"
    } == {
        ("v1", "a"): 4,
        ("v2", "a"): 1,
    }
    assert [row.values["version"] for row in queries.versions(warehouse)] == ["v1", "v2"]


def test_time_per_step_median_and_p90(warehouse: Warehouse) -> None:
    rows = answer(warehouse, "step_times", version="v1")
    a = next(row for row in rows if row["step"] == "a")
    assert a["journeys"] == 3  # 60, 30 and 90 seconds
    assert a["median_s"] == pytest.approx(60)
    assert a["p90_s"] == pytest.approx(84)
    check = next(row for row in rows if row["step"] == "check-answers")
    assert check["median_s"] == pytest.approx(600 - 210)  # reached at 210 s, sent at 600 s


def test_field_errors_name_fields_and_messages(warehouse: Warehouse) -> None:
    rows = answer(warehouse, "field_errors")
    assert [
        (r["version"], r["step"], r["field"], r["message"], r["errors"], r["journeys"])
        for r in rows
    ] == [
        ("v1", "b", "amount", "Enter the amount", 2, 1),
        ("v2", "a", "amount", "Enter the amount", 1, 1),
    ]


def test_completion_and_time_to_complete(warehouse: Warehouse) -> None:
    (v1,) = answer(warehouse, "completion", version="v1")
    assert (v1["started"], v1["submitted"]) == (4, 1)
    assert v1["median_s"] == pytest.approx(600)


def test_partner_failures_outcomes_and_timings(warehouse: Warehouse) -> None:
    failures = answer(warehouse, "partner_failures")
    assert [(r["version"], r["type"], r["name"], r["failures"]) for r in failures] == [
        ("v1", "check.completed", "cover", 1),
        ("v2", "effect.failed", "screen", 1),
    ]
    outcomes = answer(warehouse, "outcomes")
    assert [(r["version"], r["outcome"], r["reason"], r["journeys"]) for r in outcomes] == [
        ("v1", "approved", "ok", 1),
        ("v2", "declined", "x", 1),
    ]
    (v1,) = answer(warehouse, "timings", version="v1")
    assert v1["decision_median_s"] == pytest.approx(300)
    assert v1["payment_median_s"] == pytest.approx(1200)
    assert (v1["paid"], v1["paid_late"], v1["breaches"]) == (1, 1, 1)
    assert answer(warehouse, "breaches", version="v1")[0]["deadline"] == "payout"


def test_the_date_range_picks_journeys_by_their_start(warehouse: Warehouse) -> None:
    rows = answer(warehouse, "funnel", version="v1", since=date(2026, 7, 1))
    assert by_step(rows, "reached", "completed", "dropped") == {"a": (1, 1, 0), "b": (1, 0, 0)}
    inclusive = answer(warehouse, "funnel", version="v1", until=date(2026, 6, 1))
    assert by_step(inclusive, "reached")["a"] == (2,)  # j1 and j2 started on 1 June


def test_adding_the_same_records_again_adds_nothing(tmp_path: Path) -> None:
    records = hand_built().records
    with open_warehouse(tmp_path / "insights.duckdb") as held:
        assert held.add("test", records[:10]) == 10
        assert held.add("test", records) == len(records) - 10
        assert held.add("test", records) == 0
        assert held.cursor("test") == len(records)
        count = held.connection.execute("SELECT count(*) FROM events").fetchone()
        assert count == (len(records),)


def test_export_writes_each_question_to_parquet(warehouse: Warehouse, tmp_path: Path) -> None:
    chosen = scope(journey=None)
    queries.prepare(warehouse, chosen)
    target = tmp_path / "funnel.parquet"
    warehouse.export_parquet(queries.FUNNEL, queries.export_params("funnel", chosen), target)
    rows = duckdb.sql(f"SELECT step, reached FROM '{target}' WHERE version = 'v1'").fetchall()
    assert ("a", 4) in rows
