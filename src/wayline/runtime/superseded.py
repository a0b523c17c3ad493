"""Removing superseded files: when a journey is sent, the files stored for it that no answer
names (taken out, replaced, or for a question that no longer applies) are deleted.

Sending queues one effect of this kind in the sending's own transaction (the outbox), so the
removal is never lost and never holds a transaction open while files are deleted. The worker
runs it: first the rows are marked removed in one transaction (commands/documents.py
`remove_superseded`, which also takes them out of the photo reuse index and records a
documents.removed event), then the files are deleted. A run interrupted between the two is run
again, and deletes the files of every removed document of the journey once more; deleting a
file that is already gone is not an error, so running it twice is the same as once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from wayline.documents.storage import Storage
from wayline.journeys.engine import EffectRequest

if TYPE_CHECKING:
    from wayline.runtime.worker import Effect, Handler

log = structlog.get_logger("wayline.documents")
KIND = "remove_superseded_files"
# Marks a sent journey's unnamed documents removed (commands/documents.py remove_superseded);
# returns the storage keys of all its removed documents.
RemoveRows = Callable[[str], list[str]]


def request(journey_id: str) -> EffectRequest:
    """The effect to queue when a journey is sent (one per journey: its key says so)."""
    return EffectRequest(KIND, f"{journey_id}:{KIND}", {})


class RemoveSuperseded:
    """The worker's handler for KIND."""

    def __init__(self, remove: RemoveRows, storage: Storage):
        self.remove = remove
        self.storage = storage

    def __call__(self, effect: Effect) -> None:
        keys = self.remove(effect.journey_id)
        for key in keys:
            self.storage.delete(key)
        log.info("documents.removed", journey_id=effect.journey_id, files=len(keys))


def handlers(remove: RemoveRows, storage: Storage) -> dict[str, Handler]:
    """The handlers this module gives the worker (they need no partner)."""
    return {KIND: RemoveSuperseded(remove, storage)}
