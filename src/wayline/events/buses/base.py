"""What a bus is to the relay: it takes CloudEvents in order and says which it accepted."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Sequence

from wayline.events.envelope import CloudEvent


class PublishFailed(Exception):
    """The bus did not accept every event asked (a replay stops there)."""


class Bus(ABC):
    """A place CloudEvents are published to.

    Contract of `publish`: events of one journey (one subject) are sent in the order given,
    and a journey's later events are not sent once one of its events was refused; the answer
    names the events the bus confirmed it holds. It raises only for a failure before anything
    was sent (the relay then releases the whole batch). `replay` marks a replay run: a bus
    that deduplicates by message id must not drop the replayed events as duplicates.
    """

    @abstractmethod
    def publish(self, events: Sequence[CloudEvent], replay: str | None = None) -> list[str]: ...

    @abstractmethod
    def close(self) -> None: ...


def by_journey(events: Sequence[CloudEvent]) -> list[list[CloudEvent]]:
    """The events grouped by journey, each group in the order given."""
    groups: dict[str, list[CloudEvent]] = defaultdict(list)
    for event in events:
        groups[event.subject].append(event)
    return list(groups.values())


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def token(text: str) -> str:
    """`text` as one subject token: anything but letters, digits, _ and - becomes _."""
    return _UNSAFE.sub("_", text) or "_"
