"""`wayline insights`: take in the event log and export what insights answer.

`ingest` copies the events written since its last run into the insights DuckDB file
(WAYLINE_INSIGHTS_PATH, by default insights.duckdb in WAYLINE_HOME), from the events table
or, with WAYLINE_INSIGHTS_SOURCE=bus, from the JetStream stream the relay publishes to.
After taking events in, `ingest` checks the models in use for drift (the population stability
index of each feature between training and the last WAYLINE_DRIFT_LAST_N scored journeys) and
prints the features above WAYLINE_DRIFT_THRESHOLD, or "no drift"; the page shows the check.
`export --parquet DIR` writes each question's answer (funnel, step times, field errors, ...)
for every journey type and version as one Parquet file. Neither needs partners: only the
database (or the bus) and the journey definitions (for each type's abandonment window and
payment deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from wayline.config import Settings

if TYPE_CHECKING:
    from wayline.bootstrap import Components
    from wayline.insights.drift_log import DriftCheck
    from wayline.insights.service import Insights
    from wayline.runtime.model_drift import ModelDrift

app = typer.Typer(help="Insights: where customers struggle, from the event log.")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def _insights() -> Iterator[Insights]:
    from wayline.bootstrap import insights
    from wayline.journeys.loader import load_directory
    from wayline.runtime.clock import SystemClock
    from wayline.store import Store
    from wayline.store.database import make_engine
    from wayline.store.migrate import is_migrated

    settings = Settings()
    engine = make_engine(settings.resolved_database_url())
    try:
        if not is_migrated(engine):
            errors.print("[bold red]The database has no Wayline tables:[/] run `wayline migrate`")
            raise typer.Exit(2)
        journeys = load_directory(settings.journeys_dir)
        yield insights(settings, Store(engine), journeys.values, SystemClock())
    finally:
        engine.dispose()


def _busy(path: Path) -> typer.Exit:
    errors.print(
        f"[bold red]{path} is in use by another process[/] (one writer at a time): try again"
    )
    return typer.Exit(3)


@app.command()
def ingest(
    fail_on_drift: Annotated[
        bool, typer.Option("--fail-on-drift", help="Exit 1 when a model's feature drifted.")
    ] = False,
) -> None:
    """Take in the events written since the last run (idempotent: again adds nothing), from
    the database or, with WAYLINE_INSIGHTS_SOURCE=bus, from JetStream; then check the models
    in use for drift."""
    from wayline.insights.ingest import FeedUnavailable
    from wayline.insights.warehouse import Busy

    with _insights() as insights:
        with Progress(
            TextColumn("Ingesting events"), BarColumn(), MofNCompleteColumn(), console=console
        ) as progress:
            task = progress.add_task("ingest", total=None)
            try:
                done = insights.refresh(lambda n: progress.advance(task, n))
            except Busy:
                raise _busy(insights.path) from None
            except FeedUnavailable as error:
                errors.print(f"[bold red]{error}[/]: nothing was taken in; try again")
                raise typer.Exit(3) from None
        console.print(f"{done.added} new events; up to event {done.cursor} in {insights.path}")
        checked = _check_drift()
        try:
            insights.record_drift([_as_check(drift) for drift in checked])
        except Busy:
            raise _busy(insights.path) from None
    if fail_on_drift and any(drift.report.drifted for drift in checked):
        raise typer.Exit(1)


def _check_drift() -> list[ModelDrift]:
    """Each model version in use checked for drift, each printed: the features above the
    threshold, or no drift."""
    from wayline.bootstrap import build_lifecycle
    from wayline.runtime.model_drift import check_models

    settings = Settings()
    store = build_lifecycle(settings).store
    try:
        checked = check_models(
            store, settings.resolved_models_dir(), settings.drift_last_n, settings.drift_threshold
        )
    finally:
        store.dispose()
    if not checked:
        console.print("Drift: no scored journeys to check")
    for drift in checked:
        console.print(_drift_line(drift), markup=False, highlight=False)
    return checked


def _drift_line(drift: ModelDrift) -> str:
    """One model version's drift in words: names and PSIs, never a value."""
    report = drift.report
    head = f"Drift of {drift.model} version {drift.version} over {report.rows} journeys: "
    if not report.drifted:
        return head + f"no drift (every feature's PSI at most {report.threshold:g})"
    named = ", ".join(f"{f.feature} (PSI {f.psi:.2f})" for f in report.drifted)
    return head + f"WARNING above {report.threshold:g}: {named}"


def _as_check(drift: ModelDrift) -> DriftCheck:
    """A drift report as the insight pages keep it."""
    from datetime import UTC, datetime

    from wayline.insights.drift_log import DriftCheck, FeatureFinding

    report = drift.report
    return DriftCheck(
        model=drift.model,
        version=drift.version,
        checked_at=datetime.now(UTC),
        rows=report.rows,
        threshold=report.threshold,
        features=tuple(FeatureFinding(f.feature, f.psi, f.status.value) for f in report.features),
    )


@app.command()
def export(
    parquet: Annotated[
        Path, typer.Option("--parquet", help="Write one Parquet file per question here.")
    ],
    since: Annotated[str, typer.Option(help="Journeys started from this day (YYYY-MM-DD).")] = "",
    until: Annotated[str, typer.Option(help="Journeys started up to this day (YYYY-MM-DD).")] = "",
) -> None:
    """Write every question's answer, for every journey type and version, to Parquet."""
    from wayline.insights.filters import Asked, InvalidFilters
    from wayline.insights.warehouse import Busy

    try:
        asked = Asked.parse(since=since, until=until)
    except InvalidFilters as invalid:
        for error in invalid.errors:
            errors.print(f"--{error.field}: {error.message}", markup=False)
        raise typer.Exit(2) from None
    with _insights() as insights:
        try:
            written = insights.export(parquet, asked)
        except Busy:
            raise _busy(insights.path) from None
    for path in written:
        console.print(str(path), markup=False, highlight=False)


def with_history(
    seed: Callable[[Components], object], settings: Settings, count: int
) -> Callable[[Components], object]:
    """The demo's seeding, then `count` history claims with a progress bar (`wayline demo
    --seed-history N`); none when the database has history already (a restart)."""

    def seeded(components: Components) -> object:
        made = seed(components)
        if count:
            seed_history_with_progress(settings, count)
        return made

    return seeded


def seed_history_with_progress(settings: Settings, count: int) -> int:
    """Make `count` history claims, showing progress; how many were made."""
    from wayline.sandbox.history import seed_history

    with Progress(
        TextColumn("Seeding history"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("history", total=count)
        made = seed_history(settings, count, lambda n: progress.advance(task, n))
    console.print(f"{len(made)} past claims made for /insights")
    return len(made)
