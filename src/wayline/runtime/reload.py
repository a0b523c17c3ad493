"""Hot reload of journey definitions while the server runs (the demo, and development).

A changed definition file becomes a new version for journeys started from then on; journeys in
flight stay on the version they started on (the catalogue keeps every version, by content
hash, and the store keeps it for other processes). A definition with errors is logged, each
error with its file and line, and the version before it stays in use.

Watching is `watchfiles` (docs/decisions/0012-watchfiles-for-hot-reload.md): one thread waits
for the operating system's notice of a change under the folder, then loads the folder again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import structlog
import watchfiles

from wayline.journeys.loader import check_directory
from wayline.journeys.model_checks import ModelFacts
from wayline.runtime.catalog import Catalog
from wayline.runtime.clock import Clock
from wayline.store import Store, definitions

log = structlog.get_logger("wayline.reload")


class DefinitionReloader:
    """Loads a folder of definitions again into a running catalogue."""

    def __init__(
        self,
        directory: Path,
        catalog: Catalog,
        store: Store,
        clock: Clock,
        effect_kinds: Collection[str] | None = None,
        roles: Collection[str] | None = None,
        models: Callable[[], Mapping[str, ModelFacts]] | None = None,
    ):
        self.directory = Path(directory)
        self.models = models  # read again at each reload: a model may be trained meanwhile
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.effect_kinds = effect_kinds
        self.roles = roles

    def reload(self) -> list[str]:
        """Deploy every definition that changed and has no error; log every error. Returns
        the names of the journeys given a new version. A journey whose file has an error is
        not in what the folder loads, so it keeps its version (as does one whose file was
        removed: journeys are not withdrawn by deleting a file)."""
        models = self.models() if self.models is not None else None
        journeys, errors = check_directory(
            self.directory, self.effect_kinds, self.roles, models=models
        )
        for error in errors:
            log.error("definitions.invalid", error=str(error), file=error.file, line=error.line)
        changed = [
            journey
            for journey in journeys.values()
            if (current := self.catalog.get(journey.name)) is None
            or current.version != journey.version
        ]
        if changed:
            with self.store.write() as connection:  # in the store before anyone starts one
                for journey in changed:
                    definitions.save(connection, journey, self.clock.now())
        for journey in changed:
            self.catalog.deploy(journey)
            log.info("definitions.deployed", journey=journey.name, version=journey.version)
        return [journey.name for journey in changed]

    def watch(self, stop: threading.Event) -> None:
        """Reload after each change under the folder, until `stop` is set."""
        for _changes in watchfiles.watch(
            self.directory, stop_event=stop, watch_filter=_definition_files, debounce=200
        ):
            try:
                self.reload()
            except Exception:  # keep watching: the next save may fix it; the error is logged
                log.exception("definitions.reload_failed")

    def start(self) -> threading.Event:
        """Watch in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        threading.Thread(target=self.watch, args=(stop,), name="reload", daemon=True).start()
        return stop


def _definition_files(change: watchfiles.Change, path: str) -> bool:
    return path.endswith((".yaml", ".yml"))
