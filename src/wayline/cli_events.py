"""`wayline events`: the relay that publishes journey events, replays, and their contracts
(docs/events.md)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from wayline.config import Settings
from wayline.events.buses import Bus, PublishFailed, UnknownBus, open_bus
from wayline.events.envelope import Naming
from wayline.store import Store

events_app = typer.Typer(help="Publish journey events as CloudEvents.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

DEFAULT_SCHEMAS = Path("schemas/events")


def _naming(settings: Settings) -> Naming:
    return Naming(settings.event_deployment, settings.event_schema_base)


@contextmanager
def _bus(settings: Settings, url: str) -> Iterator[Bus | None]:
    try:
        bus = open_bus(
            url,
            settings.event_stream,
            settings.event_publish_timeout_seconds,
            settings.event_subject_prefix,
        )
    except UnknownBus as error:
        errors.print(f"[bold red]{error}[/]", highlight=False)
        raise typer.Exit(2) from None
    try:
        yield bus
    finally:
        if bus is not None:
            bus.close()


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    """The database alone (the relay needs no partners or definitions); exit 2 when it was
    never migrated."""
    from wayline.store.database import make_engine
    from wayline.store.migrate import is_migrated

    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url())
    try:
        if not is_migrated(engine):
            errors.print("[bold red]Run `wayline migrate` first[/]", highlight=False)
            raise typer.Exit(2)
        yield Store(engine)
    finally:
        engine.dispose()


def _moment(text: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors.print(f"[bold red]{option} is not an ISO 8601 time:[/] {text!r}", highlight=False)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@events_app.command("relay")
def relay(
    once: Annotated[bool, typer.Option(help="Publish what waits now, then stop.")] = False,
) -> None:
    """Publish the events' outbox to WAYLINE_EVENT_BUS, in order per journey (several relays
    may run on PostgreSQL; one on SQLite). With no bus, do nothing."""
    from wayline.events.relay import Relay
    from wayline.observability.logging import configure
    from wayline.runtime.clock import SystemClock

    settings = Settings()
    configure(settings.log_level)
    with _bus(settings, settings.event_bus) as bus, _store(settings) as store:
        if bus is None:
            console.print("No event bus (WAYLINE_EVENT_BUS=none): events stay in the database.")
            return
        runner = Relay(
            store,
            bus,
            SystemClock(),
            _naming(settings),
            bus_name=settings.event_bus.split("://", 1)[0],
            batch=settings.event_relay_batch,
            lease=timedelta(seconds=settings.event_relay_lease_seconds),
        )
        if once:
            console.print(f"Published {runner.run_once()} events")
            return
        from wayline.observability.exposition import serve_metrics

        serve_metrics(settings)  # on WAYLINE_METRICS_PORT, when set
        stop = threading.Event()
        for stopping in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stopping, lambda *_: stop.set())
        runner.run_forever(stop, settings.event_relay_poll_seconds)


@events_app.command("replay")
def replay(
    since: Annotated[str, typer.Option(help="From this time (ISO 8601; UTC if no offset).")],
    to: Annotated[str, typer.Option(help="The bus: nats://… or eventbridge://bus-name.")],
    until: Annotated[str | None, typer.Option(help="Up to this time (excluded).")] = None,
) -> None:
    """Publish a range of stored events again, oldest first, for a new consumer (ids kept)."""
    from wayline.events.relay import replay as replay_range

    settings = Settings()
    start = _moment(since, "--since")
    end = None if until is None else _moment(until, "--until")
    with _bus(settings, to) as bus, _store(settings) as store:
        if bus is None:
            errors.print("[bold red]--to names no bus[/]", highlight=False)
            raise typer.Exit(2)
        try:
            count = replay_range(store, bus, _naming(settings), start, end)
        except PublishFailed as failure:
            errors.print(f"[bold red]Replay stopped:[/] {failure}", highlight=False)
            raise typer.Exit(1) from None
    console.print(f"Replayed {count} events")


@events_app.command("schemas")
def schemas(
    out: Annotated[Path, typer.Option(help="The schemas folder.")] = DEFAULT_SCHEMAS,
    asyncapi: Annotated[
        Path | None, typer.Option(help="The AsyncAPI file (default: asyncapi.yaml beside out).")
    ] = None,
) -> None:
    """Write each event type's JSON Schema and the AsyncAPI document, from the catalogue."""
    from wayline.events.contracts import BreakingChanges, asyncapi_yaml, write_schemas

    naming = _naming(Settings())
    try:
        written = write_schemas(out, naming)
    except BreakingChanges as refused:
        for change in refused.changes:
            errors.print(str(change), markup=False, highlight=False)
        errors.print("[bold red]Breaking changes: give the event type a new version[/]")
        raise typer.Exit(1) from None
    document = asyncapi or out.parent / "asyncapi.yaml"
    document.write_text(asyncapi_yaml(naming))
    console.print(f"Wrote {len(written)} schemas under {out} and {document}")


@events_app.command("check")
def check(
    published: Annotated[Path, typer.Option(help="The published schemas.")] = DEFAULT_SCHEMAS,
) -> None:
    """Fail (exit 1) if the catalogue breaks a published schema."""
    from wayline.events.contracts import breaking_changes, read_schemas, schemas

    found = breaking_changes(read_schemas(published), schemas(_naming(Settings())))
    for change in found:
        errors.print(str(change), markup=False, highlight=False)
    if found:
        raise typer.Exit(1)
    console.print("Compatible")


@events_app.command("status")
def status() -> None:
    """How many events wait to be published."""
    from wayline.store import event_outbox

    settings = Settings()
    with _store(settings) as store, store.read() as connection:
        waiting = event_outbox.unpublished_count(connection)
    sys.stdout.write(f"{waiting} events waiting\n")
