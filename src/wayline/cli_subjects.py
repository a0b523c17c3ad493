"""`wayline retention` and `wayline subject`: a journey's end of life
(docs/data-protection.md#retention).

- `retention run [--dry-run]`: remove what the definitions' retention rules say has expired;
- `retention status`: the legal holds in force and the latest removals;
- `subject hold|release-hold --customer ID | --journey ID`: legal holds;
- `subject find --email ADDRESS`: the journeys verified with an address (found by its blind
  index), and the subject each belongs to;
- `subject export --customer ID --out DIR|FILE.zip`: the customer's data, opened, with a
  manifest;
- `subject erase --customer ID`: remove the customer's journeys and crypto-shred their keys,
  but what a legal hold keeps.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import structlog
import typer
from rich.console import Console
from rich.table import Table

from wayline.config import Settings

if TYPE_CHECKING:
    from wayline.bootstrap import Components
    from wayline.runtime.lifecycle import Lifecycle

log = structlog.get_logger("wayline.retention")

retention_app = typer.Typer(help="Retention of journeys' data.", no_args_is_help=True)
subject_app = typer.Typer(
    help="A data subject's legal holds, export and erasure.", no_args_is_help=True
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

Customer = Annotated[str | None, typer.Option(help="A customer's id.")]
JourneyId = Annotated[str | None, typer.Option("--journey", help="A journey's id.")]


@contextmanager
def lifecycle_parts() -> Iterator[Lifecycle]:
    """Retention's, erasure's and the keys' parts for a command (exit 2 when the database
    is not migrated)."""
    from wayline.bootstrap import NotMigrated, build_lifecycle

    try:
        parts = build_lifecycle(Settings())
    except NotMigrated as failure:
        errors.print(f"Refused: {failure}", highlight=False)
        raise typer.Exit(2) from None
    try:
        yield parts
    finally:
        parts.store.dispose()


class RetentionSchedule:
    """The worker's retention run: at most once each `WAYLINE_RETENTION_INTERVAL_HOURS`,
    the first an interval after the worker starts (so a restart loop does not run it each
    time). Every worker runs it; removals are idempotent, each in its own transaction."""

    def __init__(self, components: Components, now: Callable[[], float] = time.monotonic):
        self.components = components
        self.interval = components.settings.retention_interval_hours * 3600
        self.now = now
        self.last = now()

    def run_if_due(self) -> None:
        if not self.interval or self.now() - self.last < self.interval:
            return
        self.last = self.now()
        try:
            self.components.lifecycle().run_retention()
        except Exception:  # the worker's other duties go on; the next interval tries again
            log.exception("retention.failed")


def _target(customer: str | None, journey: str | None) -> tuple[str, str]:
    if bool(customer) == bool(journey):
        errors.print("Name exactly one of --customer ID and --journey ID")
        raise typer.Exit(2)
    return ("customer", customer) if customer else ("journey", journey or "")


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option(help="Say what would go; remove nothing.")] = False,
) -> None:
    """Remove every journey whose retention has expired (held ones stay)."""
    with lifecycle_parts() as lifecycle:
        report = lifecycle.run_retention(dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for removal in report.removed:
        console.print(f"{verb} {removal.journey} {removal.journey_id} ({removal.rule})")
    console.print(
        f"{verb} {len(report.removed)} journeys; {len(report.held)} expired but held",
        highlight=False,
    )


@retention_app.command("status")
def retention_status() -> None:
    """The legal holds in force."""
    with lifecycle_parts() as lifecycle:
        holds = lifecycle.holds()
    table = Table("scope", "target", "placed", "by", "reason")
    for hold in holds:
        table.add_row(
            hold.scope, hold.target, hold.placed_at.isoformat(), hold.placed_by, hold.reason
        )
    console.print(table)


@subject_app.command()
def hold(
    reason: Annotated[str, typer.Option(help="Why (a case or matter reference).")],
    customer: Customer = None,
    journey: JourneyId = None,
) -> None:
    """Place a legal hold: nothing it names is removed or erased until it is released."""
    scope, target = _target(customer, journey)
    with lifecycle_parts() as lifecycle:
        try:
            hold_id = lifecycle.hold(scope, target, reason, by=getpass.getuser())
        except ValueError as refusal:
            errors.print(f"Refused: {refusal}", highlight=False)
            raise typer.Exit(2) from None
    console.print(f"Hold {hold_id} placed on {scope} {target}", highlight=False)


@subject_app.command("release-hold")
def release_hold(customer: Customer = None, journey: JourneyId = None) -> None:
    """Release the legal holds on a customer or a journey."""
    scope, target = _target(customer, journey)
    with lifecycle_parts() as lifecycle:
        released = lifecycle.release(scope, target, by=getpass.getuser())
    if not released:
        errors.print(f"No hold on {scope} {target}", highlight=False)
        raise typer.Exit(1)
    console.print(f"Released {released} hold(s) on {scope} {target}", highlight=False)


@subject_app.command()
def find(
    email: Annotated[str, typer.Option(help="The address a visitor verified.")],
) -> None:
    """The journeys verified with an email address, and whose they are now: the subject to
    export or erase for someone who applied without an account."""
    from wayline.identity.visitors import normalised_email
    from wayline.protection.reindex import journeys_of_email

    address = normalised_email(email)
    if address is None:
        errors.print("--email: not an email address")
        raise typer.Exit(2)
    with lifecycle_parts() as lifecycle:
        if lifecycle.keys is None:
            errors.print("WAYLINE_KEY_PROVIDER is none: addresses are not indexed")
            raise typer.Exit(2)
        found = journeys_of_email(lifecycle.store, lifecycle.keys, address)
    if not found:
        console.print("No journey was verified with that address")
        return
    table = Table("journey", "type", "subject")
    for journey in found:
        table.add_row(journey.journey_id, journey.journey, journey.owner)
    console.print(table)


@subject_app.command()
def export(
    customer: Annotated[str, typer.Option(help="The customer's id.")],
    out: Annotated[Path, typer.Option(help="A folder, or a file ending in .zip.")],
) -> None:
    """Write everything kept of a customer, opened, with a manifest of sizes and SHA-256."""
    with lifecycle_parts() as lifecycle:
        archive = lifecycle.export(customer)
    written = archive.write(out)
    console.print(f"Wrote {len(archive.files)} files to {written}", highlight=False)


@subject_app.command()
def erase(
    customer: Annotated[str, typer.Option(help="The customer's id.")],
    dry_run: Annotated[bool, typer.Option(help="Say what would go; remove nothing.")] = False,
) -> None:
    """Remove the customer's journeys and crypto-shred their data keys, but what a legal
    hold keeps (named, with why)."""
    with lifecycle_parts() as lifecycle:
        report = lifecycle.erase(customer, dry_run=dry_run)
    verb = "Would remove" if dry_run else "Removed"
    for removal in report.removed:
        console.print(f"{verb} {removal.journey} {removal.journey_id}", highlight=False)
    for journey_id, why in report.kept.items():
        console.print(f"Kept {journey_id}: {why}", highlight=False)
    if dry_run:
        console.print("Dry run: nothing removed, no key deleted")
    elif report.kept:
        console.print("Data keys kept: the held journeys' sealed values need them")
    else:
        console.print(
            f"Deleted {report.data_keys_deleted} data keys of "
            f"{len(report.subjects_forgotten)} subject(s)",
            highlight=False,
        )
