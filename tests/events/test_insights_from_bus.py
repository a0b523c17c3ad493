"""Insights read from the bus, on SQLite and PostgreSQL with the real NATS JetStream: a seeded
history of claims is relayed to a stream, and the insights taken in from the stream through a
durable consumer answer exactly as those taken in from the database do. A second run adds
nothing, a replay is counted once, and a bus that is down says so without a half-taken-in
warehouse."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.events.buses.nats import NatsBus
from wayline.events.envelope import Naming
from wayline.events.insights_feed import JetStreamFeed
from wayline.events.relay import Relay, replay
from wayline.insights.filters import Asked
from wayline.insights.ingest import FeedUnavailable, FromDatabase
from wayline.insights.service import Insights
from wayline.insights.warehouse import open_warehouse
from wayline.runtime.clock import SystemClock
from wayline.sandbox.history import seed_history
from wayline.sandbox.wiring import demo_options
from wayline.store.event_feed import EventFeed

CLAIMS = 8
JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"


@pytest.fixture(scope="module")
def history(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    settings = Settings(
        home=tmp_path_factory.mktemp("bus-insights"),
        database_url=module_database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
    )
    components = build(settings, migrate=True, **demo_options())
    assert len(seed_history(settings, CLAIMS)) == CLAIMS
    yield components
    components.store.engine.dispose()


@pytest.fixture
def published(history: Any, nats_url: str, stream: tuple[str, str]) -> Iterator[NatsBus]:
    """The whole history relayed to this test's stream; the bus it went through."""
    bus = NatsBus(nats_url, stream=stream[0], prefix=stream[1], timeout=2)
    relay = Relay(history.store, bus, SystemClock(), Naming(), batch=2_000)
    replay(history.store, bus, Naming(), since=datetime(2000, 1, 1, tzinfo=UTC))
    relay.run_once()  # and mark what waits, so that other tests' relays find nothing
    yield bus
    bus.close()


def insights_over(history: Any, feed: Any, path: Path) -> Insights:
    return Insights(
        path,
        feed,
        lambda: history.catalog.current.values(),
        timedelta(days=30),
        lambda: datetime.now(UTC),
    )


def bus_feed(nats_url: str, stream: tuple[str, str], durable: str) -> JetStreamFeed:
    return JetStreamFeed(nats_url, stream=stream[0], prefix=stream[1], durable=durable)


def held(path: Path) -> tuple[int, int]:
    with open_warehouse(path) as warehouse:
        events = warehouse.connection.execute("SELECT count(*) FROM events").fetchone()
        errors = warehouse.connection.execute("SELECT count(*) FROM field_errors").fetchone()
    return (events or (0,))[0], (errors or (0,))[0]


def test_the_bus_answers_as_the_database_does(
    history: Any, published: NatsBus, nats_url: str, stream: tuple[str, str], tmp_path: Path
) -> None:
    from_bus = insights_over(history, bus_feed(nats_url, stream, "t-insights"), tmp_path / "b")
    from_database = insights_over(history, FromDatabase(EventFeed(history.store)), tmp_path / "d")

    taken = from_bus.refresh()
    assert taken.added > CLAIMS * 5
    assert from_database.refresh().added == taken.added
    assert held(tmp_path / "b") == held(tmp_path / "d")
    assert held(tmp_path / "b")[1] > 0  # refused answers arrived as field errors

    bus_report, database_report = from_bus.report(Asked()), from_database.report(Asked())
    assert bus_report.journey == database_report.journey == "motor-claim"
    assert len(bus_report.shown) == 2  # two versions, side by side
    assert bus_report.shown == database_report.shown
    funnel = {row.step: row for row in bus_report.shown[0].funnel}
    assert funnel["policy"].reached > 0

    assert from_bus.refresh().added == 0  # the consumer remembers where it was


def test_a_replay_is_counted_once(
    history: Any, published: NatsBus, nats_url: str, stream: tuple[str, str], tmp_path: Path
) -> None:
    insights = insights_over(history, bus_feed(nats_url, stream, "t-replayed"), tmp_path / "w")
    first = insights.refresh().added
    again = replay(history.store, published, Naming(), since=datetime(2000, 1, 1, tzinfo=UTC))
    assert again == first  # every event went on the stream a second time ...
    assert insights.refresh().added == 0  # ... and none was counted twice
    assert held(tmp_path / "w")[0] == first


def test_a_new_consumer_reads_the_stream_from_its_start(
    history: Any, published: NatsBus, nats_url: str, stream: tuple[str, str], tmp_path: Path
) -> None:
    one = insights_over(history, bus_feed(nats_url, stream, "t-one"), tmp_path / "1")
    two = insights_over(history, bus_feed(nats_url, stream, "t-two"), tmp_path / "2")
    assert one.refresh().added == two.refresh().added > 0


def test_a_stream_not_made_yet_gives_nothing(nats_url: str, tmp_path: Path) -> None:
    tag = secrets.token_hex(4)
    feed = JetStreamFeed(nats_url, stream=f"WAYLINE_NONE_{tag}", prefix=f"none{tag}")
    with open_warehouse(tmp_path / "w") as warehouse:
        assert feed.into(warehouse).added == 0


def test_a_bus_that_is_down_says_so_and_takes_nothing_in(history: Any, tmp_path: Path) -> None:
    feed = JetStreamFeed("nats://127.0.0.1:9", timeout=0.5)  # nothing listens on port 9
    insights = insights_over(history, feed, tmp_path / "w")
    with pytest.raises(FeedUnavailable, match="cannot be read"):
        insights.refresh()
    report = insights.report(Asked(), refresh=True)  # a page answers from what is held
    assert report.journey is None
    assert held(tmp_path / "w") == (0, 0)
