"""Insights as the CLI and the pages use them: take in new events, answer an analyst's
filters as a report per version, and export every question to Parquet.

Each operation opens the warehouse file and closes it again, so the CLI and a web process take
turns (DuckDB allows one writer per file; `Busy` when the other holds it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from wayline.insights import drift_log, queries
from wayline.insights.drift_log import DriftCheck
from wayline.insights.experiments import ExperimentsOf, no_experiments
from wayline.insights.experiments.results import ExperimentResult, experiment_results
from wayline.insights.filters import MAX_VERSIONS, Asked
from wayline.insights.ingest import Feed, FeedUnavailable, Ingested
from wayline.insights.model_versions import ModelComparison, model_comparisons
from wayline.insights.queries import MODEL_THRESHOLD, Row, Scope
from wayline.insights.terms import terms_of
from wayline.insights.warehouse import Warehouse, open_warehouse
from wayline.journeys.loader import Journey

log = structlog.get_logger("wayline.insights")

TOP_FIELDS = 10  # the fields with the most errors, per version


@dataclass(frozen=True)
class VersionReport:
    """Every answer for one version of the journey type."""

    version: str
    funnel: list[Row] = field(default_factory=list)
    step_times: list[Row] = field(default_factory=list)
    field_errors: list[Row] = field(default_factory=list)
    completion: Row | None = None
    partner_failures: list[Row] = field(default_factory=list)
    outcomes: list[Row] = field(default_factory=list)
    timings: Row | None = None
    breaches: list[Row] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """The journey type shown (None when nothing was taken in yet), the versions there are
    for each type, the chosen versions' answers, oldest version first, the type's
    experiments and models found in the events (every version together), and the latest drift
    check of each model version (every journey type: a check reads the model's last scored
    journeys, whatever their type)."""

    journey: str | None
    versions: dict[str, list[Row]]
    shown: list[VersionReport]
    experiments: list[ExperimentResult] = field(default_factory=list)
    models: list[ModelComparison] = field(default_factory=list)
    drift: list[DriftCheck] = field(default_factory=list)


class Insights:
    """`experiments_of` names a journey type's declared experiments (their metric, arms and
    minimum sample); an experiment found in the events but not named is read on completion.
    `model_threshold` is the score the Models section counts journeys over (and where a live
    and a shadow version agree or not)."""

    def __init__(
        self,
        path: Path,
        feed: Feed,
        journeys: Callable[[], Iterable[Journey]],
        default_abandon_after: timedelta,
        now: Callable[[], datetime],
        experiments_of: ExperimentsOf = no_experiments,
        model_threshold: float = MODEL_THRESHOLD,
    ):
        self.path = path
        self.feed = feed
        self.journeys = journeys
        self.default_abandon_after = default_abandon_after
        self.now = now
        self.experiments_of = experiments_of
        self.model_threshold = model_threshold

    def refresh(self, progress: Callable[[int], None] | None = None) -> Ingested:
        """Take in the events written since the last run."""
        with open_warehouse(self.path) as warehouse:
            return self.feed.into(warehouse, progress)

    def _refresh_quietly(self, warehouse: Warehouse) -> None:
        """Take in what is new before answering; when the feed cannot be read, answer from
        what the warehouse holds (a page must not fail because the bus is down)."""
        try:
            self.feed.into(warehouse)
        except FeedUnavailable as error:
            log.warning("insights.feed_unavailable", error=str(error))

    def scope(self, asked: Asked, journey: str | None = None) -> Scope:
        return Scope(
            as_of=self.now(),
            default_abandon_after=self.default_abandon_after,
            journey=journey,
            since=asked.since,
            until=asked.until,
            terms=terms_of(self.journeys()),
            model_threshold=self.model_threshold,
        )

    def report(self, asked: Asked, refresh: bool = False) -> Report:
        """The answers for the asked journey type (else the first with journeys) and versions
        (else its latest two)."""
        with open_warehouse(self.path) as warehouse:
            if refresh:
                self._refresh_quietly(warehouse)
            by_type: dict[str, list[Row]] = {}
            for row in queries.versions(warehouse):
                by_type.setdefault(row.journey, []).append(row)
            journey = asked.journey or next(iter(by_type), None)
            drift = drift_log.latest(warehouse)
            if journey is None:
                return Report(None, by_type, [], drift=drift)
            known = [row.version for row in by_type.get(journey, [])]
            chosen = [v for v in asked.versions if v in known] or known[-MAX_VERSIONS:]
            scope = self.scope(asked, journey)
            queries.prepare(warehouse, scope)
            answers = {name: queries.ask(warehouse, name, scope) for name in queries.QUESTIONS}
        experiments = experiment_results(
            self.experiments_of(journey), answers["experiment_arms"], answers["experiment_steps"]
        )
        models = model_comparisons(
            answers["model_versions"], answers["model_agreement"], self.model_threshold
        )
        return Report(
            journey,
            by_type,
            [_version(v, answers) for v in chosen],
            experiments,
            models,
            drift,
        )

    def record_drift(self, checks: list[DriftCheck]) -> None:
        """Keep a drift check's findings for the page (`wayline insights ingest` runs it)."""
        with open_warehouse(self.path) as warehouse:
            drift_log.record(warehouse, checks)

    def export(self, directory: Path, asked: Asked) -> list[Path]:
        """One Parquet file per question, every journey type and version, in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        with open_warehouse(self.path) as warehouse:
            scope = self.scope(asked)
            queries.prepare(warehouse, scope)
            for name, sql in queries.QUESTIONS.items():
                target = directory / f"{name}.parquet"
                warehouse.export_parquet(sql, queries.export_params(name, scope), target)
                written.append(target)
        return written


def _version(version: str, answers: dict[str, list[Row]]) -> VersionReport:
    def of(name: str) -> list[Row]:
        return [row for row in answers[name] if row.version == version]

    return VersionReport(
        version=version,
        funnel=of("funnel"),
        step_times=of("step_times"),
        field_errors=of("field_errors")[:TOP_FIELDS],
        completion=next(iter(of("completion")), None),
        partner_failures=of("partner_failures"),
        outcomes=of("outcomes"),
        timings=next(iter(of("timings")), None),
        breaches=of("breaches"),
    )
