"""Which blind index a transaction gets: the index keys read again only after the refresh
time, the server's own key (version 0) when protection is off, and what an index says of
the key that made it."""

from __future__ import annotations

from typing import Any

from wayline.protection.blind_index import BlindIndex, BlindIndexes, version_of


class Source:
    def __init__(self) -> None:
        self.keys = [(1, b"k" * 32)]
        self.reads = 0

    def index_keys(self, connection: Any) -> list[tuple[int, bytes]]:
        self.reads += 1
        return list(self.keys)


def test_keys_are_read_again_only_after_the_refresh_time() -> None:
    now = [100.0]
    source = Source()
    indexes = BlindIndexes(source, b"s" * 32, refresh_seconds=60, clock=lambda: now[0])
    first = indexes.current(None)  # type: ignore[arg-type]
    assert first.version == 1 and source.reads == 1
    source.keys = [(2, b"n" * 32), (1, b"k" * 32)]  # another process made key 2
    now[0] += 59
    assert indexes.current(None).version == 1  # type: ignore[arg-type]
    now[0] += 1
    assert indexes.current(None).version == 2 and source.reads == 2  # type: ignore[arg-type]


def test_without_protection_the_server_key_serves_as_version_0() -> None:
    indexes = BlindIndexes(None, b"s" * 32)
    index = indexes.current(None)  # type: ignore[arg-type]
    assert index.of("email", "a@b.example").startswith("0.")


def test_an_old_index_still_matches_and_names_its_key() -> None:
    old = BlindIndex([(1, b"k" * 32)]).of("email", "a@b.example")
    both = BlindIndex([(2, b"n" * 32), (1, b"k" * 32)])
    assert both.matches(old, "email", "a@b.example")
    assert not both.matches(old, "email", "c@d.example")
    assert not both.matches(old, "payee_account", "a@b.example")  # another purpose
    assert version_of(old) == 1 and version_of(both.of("email", "x")) == 2
    assert version_of("ab" * 32) is None  # made before versions
