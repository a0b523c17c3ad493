"""The `wayline` command: run the demo, serve, work the queue, migrate, inspect journeys."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from wayline.config import Settings

if TYPE_CHECKING:
    from wayline.bootstrap import Components
    from wayline.identity.sessions import SessionService
    from wayline.journeys.loader import Journey
    from wayline.store import Store

app = typer.Typer(help="Wayline: digital customer journeys declared as code.", no_args_is_help=True)
journeys_app = typer.Typer(help="Inspect and check journey definitions.", no_args_is_help=True)
app.add_typer(journeys_app, name="journeys")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

ABANDON_SWEEP_SECONDS = 60.0
Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


def _settings(**overrides: object) -> Settings:
    settings = Settings()
    return settings.model_copy(update=overrides) if overrides else settings


def _build(
    settings: Settings, migrate: bool, partner_urls: dict[str, str] | None = None
) -> Components:
    """The application's parts. Demo mode is wired in here, at the edge: its sign-in choices,
    and the in-process dataset when no partner (simulator or connector) is configured."""
    from wayline.bootstrap import NoPartners, NotMigrated, build
    from wayline.connectors.operations import OperationsError
    from wayline.journeys.loader import DefinitionErrors

    options: dict[str, Any] = {}
    if settings.demo:
        from wayline.sandbox.wiring import demo_options

        options = demo_options(in_process_sources=not (partner_urls or settings.connectors))
    try:
        return build(settings, migrate=migrate, partner_urls=partner_urls, **options)
    except DefinitionErrors as failure:
        errors.print("[bold red]Journey definitions have errors; not starting.[/]")
        for error in failure.errors:
            errors.print(f"  {error}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except OperationsError as failure:
        errors.print("[bold red]Partner operations (partners/) have errors; not starting.[/]")
        errors.print(f"  {failure}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    except (NotMigrated, NoPartners) as failure:
        errors.print(f"[bold red]Not starting:[/] {failure}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def _serve(
    settings: Settings,
    host: str,
    port: int,
    migrate: bool,
    banner: bool,
    in_process_worker: bool = False,
    partner_urls: dict[str, str] | None = None,
    seed: Callable[[Components], object] | None = None,
) -> None:
    import uvicorn

    from wayline.observability import tracing
    from wayline.observability.exposition import serve_metrics
    from wayline.observability.logging import configure
    from wayline.web.app import create_app
    from wayline.web.connections import server_options
    from wayline.web.theme import ThemeError

    configure(settings.log_level)
    tracing.configure(settings.resolved_tracing())
    components = _build(settings, migrate, partner_urls)
    try:
        application = create_app(components)
    except (ThemeError, RuntimeError) as failure:
        errors.print(f"[bold red]Not starting:[/] {failure}")
        raise typer.Exit(2) from None
    if seed is not None:
        seed(components)  # before the worker starts: the demo's cases, on a fresh database
    if in_process_worker:
        _start_in_process_worker(components)
    if settings.reload_journeys:
        components.reloader().start()
        console.print(f"Watching {settings.journeys_dir} for changed journey definitions")
    if banner:
        _print_demo_banner(host, port, partner_urls or {})
    serve_metrics(settings)
    # log_config=None: uvicorn's records go to our JSON handler, not its own text one.
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        log_config=None,
        **server_options(settings),  # web/connections.py: timeouts and connection limits
    )


def _work(components: Components, poll: float, once: bool = False) -> None:
    """Run due effects and abandon stale drafts until stopped (or, with once, until idle)."""
    import threading

    from wayline.cli_subjects import RetentionSchedule
    from wayline.runtime.worker import Wakeup

    runner = components.worker()
    if once:
        while runner.run_due() + components.system.abandon_stale():
            pass
        _analyse_releases(components)
        return
    swept = [0.0]
    retention = RetentionSchedule(components)

    def sweep() -> None:
        if time.monotonic() - swept[0] > ABANDON_SWEEP_SECONDS:
            components.system.abandon_stale()
            _analyse_releases(components)
            retention.run_if_due()
            swept[0] = time.monotonic()

    wakeup = Wakeup(components.store)
    try:
        runner.run_forever(wakeup, threading.Event(), poll=poll, on_idle=sweep)
    finally:
        wakeup.close()


def _analyse_releases(components: Components) -> None:
    """Analyse the open releases whose interval has passed (docs/releases.md). A failure is
    logged and the worker goes on: effects must not wait on an analysis."""
    if not components.settings.release_analysis:
        return
    try:
        components.releases().analyse_due()
    except Exception:  # the next sweep tries again; the error is logged with its trace
        from wayline.observability.logging import get_logger

        get_logger("wayline.releases").exception("releases.analysis_failed")


def _start_in_process_worker(components: Components) -> None:
    """On SQLite the demo runs its one worker inside the server process."""
    import threading

    from wayline.observability.logging import get_logger

    def loop() -> None:
        while True:
            try:
                _work(components, poll=1.0)
            except Exception:  # keep the demo's worker alive; the error is logged
                get_logger("wayline.worker").exception("worker.crashed")
                time.sleep(1.0)

    threading.Thread(target=loop, name="wayline-worker", daemon=True).start()


def _print_demo_banner(host: str, port: int, partners: dict[str, str]) -> None:
    from wayline.sandbox.dataset import APPLICANT_LAST_NAMES, CUSTOMERS, SITUATIONS

    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    console.print(f"[bold]Wayline demo[/] on http://{shown}:{port}/")
    console.print(f"  Open http://{shown}:{port}/ and sign in as Alex, Sam or Jordan.")
    console.print(
        f"  Staff: http://{shown}:{port}/staff/sign-in as Casey (handler), Morgan (senior"
        " handler), Riley (fraud investigator), Avery (analyst), Harper (auditor) or Sasha"
        " (admin)."
    )
    console.print(f"  API: http://{shown}:{port}/docs  (OpenAPI: /openapi.json)")
    console.print(
        '  API sign-in: POST /auth/demo {"customer": "alex"} (or {"staff": "casey"}; add'
        ' "method": "one_time_code" for step-up); then send the wayline_csrf'
    )
    console.print("  cookie's value as the X-CSRF-Token header on every change.")
    table = Table("sign-in id", "name", "journey", "situation")
    for customer in CUSTOMERS.values():
        for journey, situations in SITUATIONS.items():
            table.add_row(customer.id, customer.name, journey, situations.get(customer.id, ""))
    console.print(table)
    if "notification_provider" in partners:
        console.print(f"  Messages sent to customers: {partners['notification_provider']}/")
    if "payment_provider" in partners:
        console.print(f"  Payouts made: {partners['payment_provider']}/payouts")
    console.print(
        "  Opening an account: any name; these last names pick a partner's answer: "
        + "; ".join(f"{name}: {what}" for name, what in APPLICANT_LAST_NAMES.items())
    )
    if "card_issuer" in partners:
        console.print(
            "  Activate a new card: POST"
            f" {partners['card_issuer']}/_sandbox/cards/{{card_id}}/activate"
        )


@app.command()
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    reload_journeys: Annotated[
        bool,
        typer.Option(
            "--reload-journeys",
            help="Deploy each changed definition as a new version while the demo runs.",
        ),
    ] = False,
    seed_history: Annotated[
        int,
        typer.Option(
            "--seed-history",
            min=0,
            help="Make this many past claims first (for /insights), on a fresh database.",
        ),
    ] = 0,
) -> None:
    """Run everything in one process on embedded defaults (SQLite, local files, demo data)."""
    from wayline.cli_insights import with_history
    from wayline.sandbox.demo_cases import seed as seed_cases
    from wayline.sandbox.server import Sandbox

    settings = _settings(demo=True, public_url=f"http://localhost:{port}")
    if reload_journeys:
        settings = settings.model_copy(update={"reload_journeys": True})
    seed = with_history(seed_cases, settings, seed_history)
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
def sandbox(
    host: Host = "127.0.0.1",
    base_port: Annotated[
        int, typer.Option(help="The first partner's port; the rest follow.")
    ] = 8101,
    faults: Annotated[
        str | None,
        typer.Option(
            help='Faults by partner as JSON, e.g. {"payment_provider": {"error_rate": 0.5}}.'
        ),
    ] = None,
) -> None:
    """Run the partner simulators alone (the ports connectors.yaml expects)."""
    from wayline.sandbox.faults import FaultSettings
    from wayline.sandbox.server import Sandbox

    chosen = {
        name: FaultSettings.model_validate(value)
        for name, value in json.loads(faults or "{}").items()
    }
    running = Sandbox(host=host, base_port=base_port, faults=chosen).start()
    for name, url in running.urls().items():
        console.print(f"{name:24} {url}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        running.stop()


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Serve the web journey and API (run `wayline migrate` first)."""
    _serve(_settings(), host, port, migrate=False, banner=False)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from wayline.store.database import make_engine
    from wayline.store.migrate import upgrade

    settings = _settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(make_engine(settings.resolved_database_url()))
    console.print("Database is up to date.")


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="Drain what is due, then stop.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 0.5,
) -> None:
    """Run queued effects (the outbox) with retries and a dead-letter state, and abandon
    drafts past their time limit."""
    from wayline.observability import tracing
    from wayline.observability.exposition import serve_metrics
    from wayline.observability.logging import configure

    settings = _settings()
    configure(settings.log_level)
    tracing.configure(settings.resolved_tracing())
    components = _build(settings, migrate=False)
    if not once:
        serve_metrics(settings)
    _work(components, poll=poll, once=once)


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    """Just the database, for the operations commands that need nothing else: no partners,
    scanner or definitions (so they run where `serve` would refuse to start, and say nothing
    of a scanner)."""
    from wayline.store import Store
    from wayline.store.database import make_engine
    from wayline.store.migrate import is_migrated

    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    try:
        if not is_migrated(engine):
            errors.print(
                "[bold red]The database has no Wayline tables:[/] run `wayline migrate` first",
                highlight=False,
            )
            raise typer.Exit(2)
        yield Store(engine)
    finally:
        engine.dispose()


effects_app = typer.Typer(help="Look at and retry queued effects.", no_args_is_help=True)
app.add_typer(effects_app, name="effects")


class EffectStatus(StrEnum):
    """The states of an effect (store/outbox.py)."""

    pending = "pending"
    running = "running"
    done = "done"
    dead = "dead"


@effects_app.command("list")
def effects_list(
    status: Annotated[
        EffectStatus, typer.Option(help="Which effects: pending, running, done or dead.")
    ] = EffectStatus.dead,
) -> None:
    """List effects in a state (by default the dead-lettered ones, each with why: its last
    attempt's error, or that it was still failing at the maximum age)."""
    from wayline.runtime.worker import effects_in

    with _store(_settings()) as store:
        rows = effects_in(store, status.value)
    # The id is what `wayline effects retry ID` takes: never cut short, however narrow.
    width = max((len(row["id"]) for row in rows), default=2)
    effect_id = Column("id", no_wrap=True, overflow="fold", min_width=width)
    table = Table(effect_id, "journey", "kind", "attempts", "first attempt", "last error")
    for row in rows:
        first = row["started_at"].isoformat(timespec="seconds") if row["started_at"] else ""
        table.add_row(
            row["id"],
            row["journey_id"],
            row["kind"],
            str(row["attempts"]),
            first,
            row["last_error"] or "",
        )
    console.print(table)


@effects_app.command("retry")
def effects_retry(
    effect_id: Annotated[
        str | None, typer.Argument(help="One effect; all dead ones if none.")
    ] = None,
) -> None:
    """Put dead-lettered effects back in the queue."""
    from wayline.runtime.clock import SystemClock
    from wayline.runtime.worker import retry_dead

    with _store(_settings()) as store:
        count = retry_dead(store, SystemClock(), effect_id)
    if effect_id is not None and count == 0:
        errors.print(f"No dead-lettered effect with id {effect_id}", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(f"{count} effect(s) queued again.")


sessions_app = typer.Typer(help="End customers' sessions.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")


def _sessions(act: Callable[[SessionService], int]) -> int:
    """Run `act` on the session service over just the database (see `_store`)."""
    from wayline.identity.sessions import SessionPolicy, SessionService
    from wayline.runtime.clock import SystemClock

    settings = _settings()
    with _store(settings) as store:
        return act(SessionService(store, SystemClock(), SessionPolicy.from_settings(settings)))


@sessions_app.command("revoke")
def sessions_revoke(
    customer: Annotated[str, typer.Option(help="The customer whose sessions end.")],
) -> None:
    """End every session of one customer, at once, on every server (a lost phone, a
    compromised account). Their next request needs a new sign-in. Recorded in the audit log."""
    from wayline.identity.audit import Action, AuditLog, Entry, Outcome
    from wayline.identity.sessions import SessionPolicy, SessionService
    from wayline.runtime.clock import SystemClock

    settings, clock = _settings(), SystemClock()
    with _store(settings) as store:
        service = SessionService(store, clock, SessionPolicy.from_settings(settings))
        count = service.end_all(customer)
        # No one signed in acted: the entry has no actor, and says it came from here.
        AuditLog(store, clock).record(
            Entry(
                Action.SESSION_REVOKED,
                Outcome.SUCCESS,
                target_type="subject",
                target_id=customer,
                details={"count": count, "source": "cli"},
            )
        )
    console.print(f"{count} session(s) ended.")


@sessions_app.command("purge")
def sessions_purge() -> None:
    """Forget sessions past their absolute lifetime (none of them can be used again), and
    sign-ins begun at an identity provider more than ten minutes ago and never finished."""
    from wayline.identity.sessions import SessionPolicy, SessionService
    from wayline.identity.sign_in import SignInService
    from wayline.runtime.clock import SystemClock

    settings, clock = _settings(), SystemClock()
    with _store(settings) as store:
        count = SessionService(store, clock, SessionPolicy.from_settings(settings)).purge()
        # No provider is asked: purging needs only the table, so none is configured here.
        requests = SignInService(store, clock, providers={}).purge()
    console.print(f"{count} expired session(s) forgotten.")
    console.print(f"{requests} unfinished sign-in(s) forgotten.")


audit_app = typer.Typer(help="Read the audit log of identity events.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("list")
def audit_list(
    actor: Annotated[str | None, typer.Option(help="Only what this subject did.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. sign_in.")] = None,
    target: Annotated[
        str | None,
        typer.Option(help="Only entries about TYPE:ID (subject:alex), a TYPE or an :ID."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only from this ISO 8601 time on (UTC if no zone).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many entries (1 to 500).")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
) -> None:
    """Entries of the audit log, newest first (only the database is needed). Reading it here
    is not recorded: whoever runs this has the database already."""
    from wayline.identity.audit_query import AuditQuery, InvalidFilters, entry_json
    from wayline.store import audit as audit_store

    kind, _, target_id = (target or "").partition(":")
    try:
        query = AuditQuery.parse(
            actor=actor,
            action=action,
            target_type=kind if target else None,
            target_id=target_id if target else None,
            since=since,
            limit=limit,
        )
    except InvalidFilters as invalid:
        for error in invalid.errors:
            errors.print(f"--{_option(error.field)}: {error.message}", markup=False)
        raise typer.Exit(2) from None
    with _store(_settings()) as store, store.read() as connection:
        rows = audit_store.entries(
            connection,
            actor=query.actor,
            action=query.action,
            target=query.target,
            since=query.since,
            limit=query.limit,
        )
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(entry_json(row), sort_keys=True) + "\n")
        return
    # One tab-separated line an entry, never wrapped or cut to the terminal's width: an audit
    # trail is read whole, grepped and pasted into reports. Stored text is written as it is.
    sys.stdout.write("\t".join(("at", "actor", "action", "outcome", "ip", "target", "details")))
    sys.stdout.write("\n")
    for row in rows:
        cells = (
            row.at.isoformat(timespec="seconds"),
            f"{row.actor} ({row.actor_kind})" if row.actor else "",
            row.action,
            row.outcome,
            row.ip or "",
            f"{row.target_type}:{row.target_id}" if row.target_type else "",
            ", ".join(f"{key}={value}" for key, value in sorted(row.details.items())),
        )
        sys.stdout.write("\t".join(_one_line(cell) for cell in cells) + "\n")


def _one_line(cell: str) -> str:
    """A cell that cannot break the line or the columns (a user agent with a tab in it)."""
    return cell.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _option(field: str) -> str:
    """The option a filter's field came from (`target_type` and `target_id` are --target)."""
    return "target" if field.startswith("target") else field


@journeys_app.command("list")
def journeys_list() -> None:
    """List the journeys in the definitions folder."""
    from wayline.journeys.loader import load_directory

    table = Table("journey", "title", "version", "steps")
    for journey in _load(load_directory).values():
        table.add_row(journey.name, journey.title, journey.version, str(len(journey.steps)))
    console.print(table)


@journeys_app.command("validate")
def journeys_validate(
    path: Annotated[Path | None, typer.Argument(help="A definition file or folder.")] = None,
    partners: Annotated[
        Path | None, typer.Option(help="The declared partner operations (partners/*.yaml).")
    ] = None,
) -> None:
    """Check definitions; print every error with its file and line; exit 1 on any error."""
    from wayline.connectors.operations import Operations, OperationsError
    from wayline.identity.roles import STAFF_ROLES
    from wayline.journeys.loader import check_path
    from wayline.models.facts import facts as model_facts
    from wayline.runtime.effects import KINDS

    settings = _settings()
    target = path or settings.journeys_dir
    roles = {role.value for role in STAFF_ROLES}
    try:
        operations = Operations.from_directory(partners or settings.resolved_partners_dir())
    except OperationsError as unusable:
        errors.print(str(unusable), markup=False, highlight=False)
        raise typer.Exit(1) from None
    journeys, found = check_path(
        target,
        effect_kinds=KINDS,
        roles=roles,
        operations=operations.signatures(),
        models=model_facts(settings.resolved_models_dir()),
    )
    for error in found:
        errors.print(str(error), markup=False, highlight=False)
    if found:
        errors.print(f"[bold red]{len(found)} error(s)[/]")
        raise typer.Exit(1)
    for journey in journeys.values():
        console.print(f"ok {journey.name} (version {journey.version}, {len(journey.steps)} steps)")


@journeys_app.command("show")
def journeys_show(
    name: str,
    segment: Annotated[
        list[str] | None,
        typer.Option(help="Show the journey as a customer in this segment sees it (repeatable)."),
    ] = None,
    variant: Annotated[
        list[str] | None,
        typer.Option(help="Show it with this variant applied, such as an experiment's arm."),
    ] = None,
) -> None:
    """Print a journey's steps and branches as a Mermaid flowchart; with --segment or
    --variant, its steps in words as those customers see them."""
    from wayline.journeys import personalise
    from wayline.journeys.loader import load_directory
    from wayline.journeys.mermaid import flowchart
    from wayline.journeys.outline import outline

    journeys = _load(load_directory)
    if name not in journeys:
        errors.print(f"No journey named '{name}'. Known: {', '.join(sorted(journeys))}")
        raise typer.Exit(1)
    journey = journeys[name]
    if not segment and not variant:
        sys.stdout.write(flowchart(journey))
        return
    known_segments = {s.name for s in personalise.segments(journey)}
    unknown = [s for s in segment or [] if s not in known_segments]
    unknown += [v for v in variant or [] if personalise.variant(journey, v) is None]
    if unknown:
        errors.print(
            f"{name} has no segment or variant {', '.join(unknown)}. Segments: "
            f"{', '.join(sorted(known_segments)) or 'none'}; variants: "
            f"{', '.join(personalise.variant_names(journey)) or 'none'}"
        )
        raise typer.Exit(1)
    # In declaration order, as a journey applies them: the segments' and those named.
    wanted = set(personalise.variants_for(journey, segment or [], {})) | set(variant or [])
    chosen = tuple(name for name in personalise.variant_names(journey) if name in wanted)
    console.print(f"Variants applied: {', '.join(chosen) or 'none (the journey as it is)'}")
    sys.stdout.write(outline(personalise.apply(journey, chosen)))


@journeys_app.command("schema")
def journeys_schema(
    out: Annotated[Path | None, typer.Option(help="Write to this folder.")] = None,
) -> None:
    """Export the definition language as JSON Schema for editors."""
    from wayline.connectors.operations import json_schema as partner_json_schema
    from wayline.journeys.schema import fragment_json_schema, json_schema, segments_json_schema

    if out is None:
        sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
        return
    out.mkdir(parents=True, exist_ok=True)
    (out / "journey.schema.json").write_text(json.dumps(json_schema(), indent=2) + "\n")
    (out / "fragment.schema.json").write_text(json.dumps(fragment_json_schema(), indent=2) + "\n")
    (out / "segments.schema.json").write_text(json.dumps(segments_json_schema(), indent=2) + "\n")
    (out / "partner.schema.json").write_text(json.dumps(partner_json_schema(), indent=2) + "\n")
    console.print(
        f"Wrote {out}/journey.schema.json, fragment.schema.json, segments.schema.json and "
        "partner.schema.json"
    )


def _load(loader: Callable[[Path], dict[str, Journey]]) -> dict[str, Journey]:
    from wayline.journeys.loader import DefinitionErrors

    try:
        return loader(_settings().journeys_dir)
    except DefinitionErrors as failure:
        for error in failure.errors:
            errors.print(str(error), markup=False, highlight=False)
        raise typer.Exit(1) from None


from wayline.cli_insights import app as insights_app  # noqa: E402  # registered last, by design

app.add_typer(insights_app, name="insights")
from wayline.cli_release import app as release_commands  # noqa: E402 - after `app` exists

app.add_typer(release_commands)  # release …, preview, dora (cli_release.py)
from wayline.cli_events import events_app  # noqa: E402  (journey events: docs/events.md)

app.add_typer(events_app, name="events")
from wayline.cli_keys import app as keys_app  # noqa: E402  (the `keys` commands)

app.add_typer(keys_app, name="keys")
from wayline.cli_subjects import retention_app, subject_app  # noqa: E402  (data lifecycle)

app.add_typer(retention_app, name="retention")
app.add_typer(subject_app, name="subject")
from wayline.cli_models import app as models_app  # noqa: E402  (models: docs/models.md)

app.add_typer(models_app, name="models")

if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
