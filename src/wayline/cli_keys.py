"""`wayline keys`: the data-protection keys' operations (docs/data-protection.md).

- `rotate`: a new key-encryption key (KEK) version, then every data key rewrapped under it in
  batches, online (readers and writers go on), resumable (run it again after a crash);
- `status`: what each KEK version still wraps;
- `retire VERSION`: forget a KEK version, refused while anything still uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from wayline.config import Settings

if TYPE_CHECKING:
    from wayline.protection.keys import DataKeys
    from wayline.store import Store

app = typer.Typer(help="Data-protection keys: rotate, status, retire.", no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def _keys() -> Iterator[tuple[Store, DataKeys]]:
    from wayline.protection.wiring import data_keys
    from wayline.store import Store
    from wayline.store.database import make_engine
    from wayline.store.migrate import is_migrated

    settings = Settings()
    keys = data_keys(settings)
    if keys is None:
        errors.print("WAYLINE_KEY_PROVIDER is none: there are no keys to manage")
        raise typer.Exit(2)
    engine = make_engine(settings.resolved_database_url())
    try:
        if not is_migrated(engine):
            errors.print("The database has no Wayline tables: run `wayline migrate` first")
            raise typer.Exit(2)
        yield Store(engine), keys
    finally:
        engine.dispose()


@app.command()
def rotate(
    batch: Annotated[int, typer.Option(min=1, help="Data keys rewrapped per transaction.")] = 500,
    resume: Annotated[
        bool,
        typer.Option(help="Rewrap what is left under the current version, without a new one."),
    ] = False,
) -> None:
    """Make a new KEK version current and rewrap every data key under it."""
    with _keys() as (store, keys):
        version = keys.provider.current_version() if resume else keys.provider.new_version()
        with store.read() as connection:
            total = sum(n for kek, n in keys.usage(connection).items() if kek != version)
        console.print(f"Rewrapping {total} keys under KEK version {version}")
        with Progress(
            TextColumn("rewrapping"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("rewrap", total=total)
            done = keys.rotate(
                store, batch=batch, on_batch=lambda at: bar.update(task, completed=at.done)
            )
            bar.update(task, completed=done.done)
        console.print(f"Done: {done.done} keys now under {version}")


@app.command()
def status() -> None:
    """How many keys each KEK version still wraps."""
    with _keys() as (store, keys):
        with store.read() as connection:
            usage = keys.usage(connection)
        current = keys.provider.current_version()
        table = Table("KEK version", "keys wrapped", "current")
        for version in sorted(set(usage) | {current}):
            table.add_row(version, str(usage.get(version, 0)), "yes" if version == current else "")
        console.print(table)


@app.command()
def retire(version: Annotated[str, typer.Argument(help="The KEK version to forget.")]) -> None:
    """Forget a KEK version; refused while any key is still wrapped by it."""
    from wayline.protection.keys import KeyInUse
    from wayline.protection.providers import KeyProviderError

    with _keys() as (store, keys):
        try:
            with store.read() as connection:
                keys.retire(connection, version)
        except (KeyInUse, KeyProviderError) as refusal:
            errors.print(f"Refused: {refusal}", highlight=False)
            raise typer.Exit(1) from None
        console.print(f"KEK version {version} retired")
