"""The release commands (docs/releases.md): `wayline release start|analyse|status|rollback|
promote|pause|resume`, a preview environment (`wayline preview`) and DORA metrics
(`wayline dora`). Registered in cli.py as one sub-app whose commands sit at the top level
(`release` is a group of its own inside it)."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from wayline.cli import Host, Port, _serve, _settings, _store

if TYPE_CHECKING:
    from wayline.config import Settings
    from wayline.journeys.loader import Journey
    from wayline.runtime.releases.dora import Dora
    from wayline.runtime.releases.service import Actor, Releases, Status
    from wayline.store import Store

app = typer.Typer()
release_app = typer.Typer(
    help="Release journey definition versions safely: canary, analysis, rollback.",
    no_args_is_help=True,
)
app.add_typer(release_app, name="release")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)
CLI_ACTOR = "cli"
ANALYSE_POLL_SECONDS = 30.0


def _service(store: Store) -> Releases:
    from wayline.runtime.clock import SystemClock
    from wayline.runtime.releases.service import Releases

    return Releases(store, SystemClock())


def _actor(command: str) -> Actor:
    """Who decided from the command line: the operating system's user, as the audit log's
    actor (`cli:NAME`), since no one signs in here."""
    import getpass

    from wayline.runtime.releases.service import Actor

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (a container): still on record
        user = "unknown"
    return Actor(f"{CLI_ACTOR}:{user}"[:100], CLI_ACTOR, user_agent=f"wayline {command}")


def _fail(message: str, code: int = 2) -> typer.Exit:
    errors.print(message, markup=False, highlight=False)
    return typer.Exit(code)


@release_app.command("start")
def release_start(
    journey: Annotated[str, typer.Argument(help="The journey type, e.g. motor-claim.")],
    version: Annotated[
        str | None,
        typer.Option("--version", help="The canary's version in the store (or its start)."),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            exists=True,
            dir_okay=False,
            help="A definition file: checked, kept in the store, and released.",
        ),
    ] = None,
    canary: Annotated[
        int | None,
        typer.Option("--canary", min=1, max=99, help="The first stage's share, in percent."),
    ] = None,
    strategy: Annotated[
        str | None, typer.Option(help="A strategy file (YAML) or a built-in: default, slow.")
    ] = None,
    stable: Annotated[
        str | None, typer.Option(help="The version to compare with (default: the one in use).")
    ] = None,
) -> None:
    """Release a version of JOURNEY (by --version, or a definition --file) to a share of new
    journeys; the analysis takes it from there."""
    from wayline.errors import Conflict
    from wayline.runtime.releases.service import ReleaseInputError
    from wayline.runtime.releases.strategy import StrategyError, load

    try:
        chosen = load(strategy)
        if canary is not None:
            chosen = chosen.with_first_share(canary)
    except StrategyError as invalid:
        raise _fail(f"--strategy: {invalid}") from None
    if (version is None) == (file is None):
        raise _fail("Name the version to release: --version V or --file PATH (one of them)")
    actor = _actor("release start")
    settings = _settings()
    definition = _checked(file, journey, settings) if file is not None else None
    in_use = _in_use(journey, settings)
    with _store(settings) as store:
        service = _service(store)
        if in_use is not None:  # what servers load: in the store before any of them ran
            service.register(in_use)
        if definition is not None:
            version = service.register(definition)
        assert version is not None  # one of the two was given
        try:
            row = service.start(journey, version, chosen, actor, stable)
        except (ReleaseInputError, Conflict) as refused:
            raise _fail(str(refused)) from None
    console.print(
        f"Release {row.id}: {journey} {row.canary_version} to {row.percent}% of new journeys"
        f" (stable {row.stable_version}, strategy {chosen.name})",
        highlight=False,
    )


def _in_use(journey: str, settings: Settings) -> Journey | None:
    """The journey's definition in the definitions folder (what servers load), when it loads
    without error; None otherwise (the store's versions are used as they are)."""
    from wayline.journeys.loader import DefinitionErrors, load_directory
    from wayline.runtime.effects import KINDS

    try:
        return load_directory(settings.journeys_dir, effect_kinds=KINDS).get(journey)
    except (DefinitionErrors, OSError):
        return None


def _checked(file: Path, journey: str, settings: Settings) -> Journey:
    """The definition in `file`, checked as `journeys validate` checks it; exit 2 on errors."""
    from wayline.connectors.operations import Operations, OperationsError
    from wayline.identity.roles import STAFF_ROLES
    from wayline.journeys.loader import check_path
    from wayline.runtime.effects import KINDS

    try:
        operations = Operations.from_directory(settings.resolved_partners_dir())
    except OperationsError as unusable:
        raise _fail(str(unusable)) from None
    roles = {role.value for role in STAFF_ROLES}
    found, problems = check_path(
        file, effect_kinds=KINDS, roles=roles, operations=operations.signatures()
    )
    for problem in problems:
        errors.print(str(problem), markup=False, highlight=False)
    if problems:
        raise typer.Exit(2)
    if journey not in found:
        raise _fail(f"{file} does not declare the journey {journey}")
    return found[journey]


@release_app.command("analyse")
def release_analyse(
    once: Annotated[bool, typer.Option(help="Analyse what is due once, then stop.")] = False,
) -> None:
    """Analyse each running release whose interval has passed (the worker does this too)."""
    with _store(_settings()) as store:
        service = _service(store)
        while True:
            for done in service.analyse_due():
                console.print(
                    f"{done.release.journey} {done.release.canary_version}:"
                    f" {done.action.value} ({done.reason})",
                    highlight=False,
                )
            if once:
                return
            time.sleep(ANALYSE_POLL_SECONDS)


@release_app.command("status")
def release_status(
    journey: Annotated[str | None, typer.Argument(help="One journey type; all if none.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
) -> None:
    """Each release with the strategy's progress and each KPI per arm."""
    from wayline.runtime.releases.service import release_json

    with _store(_settings()) as store:
        found = _service(store).status(journey)
    if as_json:
        sys.stdout.write(json.dumps([release_json(s) for s in found], indent=2) + "\n")
        return
    if not found:
        console.print("No releases." if journey is None else f"No releases of {journey}.")
        return
    now = datetime.now(UTC)
    for status in found:
        _print_status(status, now)


def _print_status(status: Status, now: datetime) -> None:
    row, strategy = status.release, status.strategy
    stages = " → ".join(f"{stage.percent}%" for stage in strategy.stages)
    console.print(
        f"[bold]{row.journey}[/] {row.canary_version} against {row.stable_version}:"
        f" [bold]{row.status.replace('_', ' ')}[/] at {row.percent}% ({stages})",
        highlight=False,
    )
    baked = (now - row.stage_started_at) / timedelta(seconds=strategy.stages[row.stage].bake)
    done = len(strategy.stages) if row.status == "promoted" else row.stage + min(1.0, baked)
    console.print(
        f"  {_bar(done, len(strategy.stages))} stage {row.stage + 1} of {len(strategy.stages)}",
        highlight=False,
    )
    latest = status.latest
    if latest is None:
        console.print("  not judged yet (below the minimum sample, or not analysed)")
        return
    arms = latest["arms"]
    table = Table("KPI", "canary", "stable", "threshold", "verdict")
    table.add_row("journeys", str(arms["canary"]["sample"]), str(arms["stable"]["sample"]), "", "")
    for verdict in latest["verdicts"]:
        table.add_row(
            verdict["kpi"],
            _number(verdict["canary"]),
            _number(verdict["stable"]),
            verdict["threshold"],
            verdict["outcome"],
        )
    console.print(table)
    console.print(f"  last decision: {latest['decision']} ({latest['reason']})", highlight=False)


BAR_WIDTH = 30


def _bar(done: float, total: int) -> str:
    """The strategy's progress as a bar of characters: the same in a terminal and a CI log."""
    filled = round(BAR_WIDTH * min(done, total) / total)
    return "█" * filled + "░" * (BAR_WIDTH - filled)


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3g}"


def _decide(journey: str, decision: str) -> None:
    from wayline.errors import Conflict, NotFound

    actor = _actor(f"release {decision}")
    with _store(_settings()) as store:
        service = _service(store)
        open_ones = [s.release for s in service.status(journey) if s.release.ended_at is None]
        if not open_ones:
            raise _fail(f"{journey} has no open release", 1)
        try:
            row = service.decide(open_ones[-1].id, decision, actor)
        except (Conflict, NotFound) as refused:
            raise _fail(str(refused), 1) from None
    console.print(f"{journey} {row.canary_version}: {row.status.replace('_', ' ')}")


OpenJourney = Annotated[str, typer.Argument(help="The journey type whose open release it is.")]


@release_app.command("rollback")
def release_rollback(journey: OpenJourney) -> None:
    """New journeys go back to stable now; the canary's journeys finish on their version."""
    _decide(journey, "rollback")


@release_app.command("promote")
def release_promote(journey: OpenJourney) -> None:
    """Every new journey gets the canary now."""
    _decide(journey, "promote")


@release_app.command("pause")
def release_pause(journey: OpenJourney) -> None:
    """Hold the canary's share where it is; the analysis stops deciding."""
    _decide(journey, "pause")


@release_app.command("resume")
def release_resume(journey: OpenJourney) -> None:
    """Resume a paused release: its stage bakes again from now."""
    _decide(journey, "resume")


@app.command()
def preview(
    journeys: Annotated[
        Path,
        typer.Option(exists=True, file_okay=False, help="The branch's definitions folder."),
    ],
    host: Host = "127.0.0.1",
    port: Port = 8000,
    label: Annotated[
        str, typer.Option(help="What the banner names: the branch or pull request.")
    ] = "",
    home: Annotated[
        Path | None, typer.Option(help="The data folder (default: a new temporary one).")
    ] = None,
) -> None:
    """Run a branch's definitions like the demo, in a data folder of their own (a fresh
    SQLite database and files), with the partner simulators, the demo customers and a
    "Preview" banner on every page."""
    from wayline.sandbox.demo_cases import seed
    from wayline.sandbox.server import Sandbox

    folder = home or Path(tempfile.mkdtemp(prefix="wayline-preview-"))
    if home is not None and home.exists() and any(home.iterdir()):
        raise _fail(f"--home {home} is not empty: a preview starts from nothing")
    settings = _settings(
        demo=True,
        home=folder,
        database_url=None,  # never the shared database a WAYLINE_DATABASE_URL may name
        storage_url=None,
        journeys_dir=journeys.resolve(),
        reload_journeys=False,
        public_url=f"http://localhost:{port}",
        preview_banner=(label or journeys.resolve().name)[:100],
    )
    console.print(f"Preview data folder: {folder}", highlight=False)
    sandbox = Sandbox().start()
    try:
        _serve(
            settings,
            host,
            port,
            migrate=True,
            banner=True,
            in_process_worker=True,
            partner_urls=sandbox.urls(),
            seed=seed,
        )
    finally:
        sandbox.stop()


@app.command()
def dora(
    journey: Annotated[str | None, typer.Option(help="One journey type; all if none.")] = None,
) -> None:
    """The four DORA metrics per journey: deployment frequency, lead time for changes (git
    log of the journey's file to release start), change failure rate and time to restore."""
    from wayline.runtime.releases import dora as metrics
    from wayline.runtime.releases.git import commit_times, definition_file

    settings = _settings()
    with _store(settings) as store:
        releases, log = _service(store).history(journey)
    names = sorted({r.journey for r in releases} | ({journey} if journey else set()))
    if not names:
        console.print("No releases yet: nothing to measure.")
        return
    now = datetime.now(UTC)
    # One line a metric (not a table): read whole in a narrow terminal or a CI log.
    for name in names:
        commits = commit_times(definition_file(settings.journeys_dir, name))
        found = metrics.compute(name, releases, log, commits, now)
        console.print(f"[bold]{name}[/]", highlight=False)
        for label, value in zip(DORA_LABELS, _dora_cells(found), strict=True):
            console.print(f"  {label:<24}{value}", highlight=False)
        if found.lead_time_note:
            console.print(f"  (no lead time: {found.lead_time_note})", highlight=False)


DORA_LABELS = (
    "deployment frequency",
    "lead time for changes",
    "change failure rate",
    "time to restore",
)


def _dora_cells(found: Dora) -> tuple[str, str, str, str]:
    frequency = (
        "–" if found.per_week is None else f"{found.per_week:.2f}/week ({found.deployments})"
    )
    rate = "–" if found.change_failure_rate is None else f"{found.change_failure_rate:.0%}"
    return (
        frequency,
        _duration(found.lead_time),
        rate,
        _duration(found.time_to_restore),
    )


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
