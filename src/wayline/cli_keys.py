"""`wayline keys`: the data-protection keys' operations (docs/data-protection.md).

- `rotate`: a new key-encryption key (KEK) version, then every data key rewrapped under it in
  batches, online (readers and writers go on), resumable (run it again after a crash);
- `status`: what each KEK version still wraps;
- `retire VERSION`: forget a KEK version, refused while anything still uses it;
- `rotate-index`: a new blind index key, then every stored blind index (a verified email's
  look-up key) recomputed under it from the value opened again, in batches, resumable;
- `retire-index VERSION`: forget an old blind index key once nothing still uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from wayline.config import Settings

if TYPE_CHECKING:
    from wayline.protection.keys import DataKeys
    from wayline.store import Store

app = typer.Typer(
    help="Data-protection keys: rotate, status, retire; blind index keys likewise.",
    no_args_is_help=True,
)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)


@contextmanager
def _sealing_store() -> Iterator[tuple[Store, DataKeys]]:
    """The store with its sealing codec (blind indexes are recomputed from opened values)."""
    from wayline.cli_subjects import lifecycle_parts

    with lifecycle_parts() as parts:
        if parts.keys is None:
            errors.print("WAYLINE_KEY_PROVIDER is none: there are no keys to manage")
            raise typer.Exit(2)
        yield parts.store, parts.keys


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
    """How many keys each KEK version still wraps, and how many stored indexes each blind
    index key made."""
    from wayline.protection.reindex import index_use

    with _keys() as (store, keys):
        with store.read() as connection:
            usage = keys.usage(connection)
        current = keys.provider.current_version()
        table = Table("KEK version", "keys wrapped", "current")
        for version in sorted(set(usage) | {current}):
            table.add_row(version, str(usage.get(version, 0)), "yes" if version == current else "")
        console.print(table)
        indexes = index_use(store, keys, datetime.now(UTC))
        newest = max((v for v in indexes if v is not None), default=None)
        table = Table("index key", "indexes made with it", "current")
        for made_with, count in sorted(indexes.items(), key=lambda item: item[0] or 0):
            name = "none (before versions)" if made_with is None else str(made_with)
            table.add_row(name, str(count), "yes" if made_with == newest else "")
        console.print(table)


@app.command("rotate-index")
def rotate_index(
    batch: Annotated[int, typer.Option(min=1, help="Indexes recomputed per transaction.")] = 500,
    resume: Annotated[
        bool, typer.Option(help="Recompute what is left under the current key, without a new one.")
    ] = False,
) -> None:
    """Make a new blind index key current and recompute every stored index under it."""
    from wayline.protection import reindex

    with _sealing_store() as (store, keys):
        with Progress(
            TextColumn("recomputing indexes"), BarColumn(), MofNCompleteColumn(), console=console
        ) as bar:
            task = bar.add_task("reindex", total=None)
            done = reindex.rotate_index(
                store,
                keys,
                batch=batch,
                resume=resume,
                on_batch=lambda at: bar.update(task, completed=at.done, total=at.done + at.left),
            )
        with store.read() as connection:
            current = max(version for version, _ in keys.index_keys(connection))
        console.print(f"Done: {done.done} indexes now made with index key {current}")


@app.command("retire-index")
def retire_index(
    version: Annotated[int, typer.Argument(help="The blind index key version to forget.")],
) -> None:
    """Forget an old blind index key; refused while it is current or anything uses it."""
    from wayline.protection.keys import KeyInUse
    from wayline.protection.reindex import retire_index as retire

    with _keys() as (store, keys):
        try:
            retire(store, keys, version, datetime.now(UTC))
        except KeyInUse as refusal:
            errors.print(f"Refused: {refusal}", highlight=False)
            raise typer.Exit(1) from None
        console.print(f"Index key {version} retired")


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
