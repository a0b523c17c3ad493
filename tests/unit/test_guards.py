"""The guard (wayline.guards): no partner is ever called while a database transaction is open,
whether through a partner client (connectors/http.py) or a data source (runtime/partner_data).
A refused call raises, and is recorded for the test suite, which fails on any (tests/conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from shell_kit import components

from wayline import guards
from wayline.connectors.http import PartnerClient, PartnerConfig
from wayline.errors import PartnerCallInTransaction
from wayline.journeys.engine import DataNeed
from wayline.runtime.partner_data import PartnerData
from wayline.sandbox.sources import demo_sources

NOW = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)


@pytest.fixture
def calls() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(calls: list[httpx.Request]) -> PartnerClient:
    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"ok": True})

    config = PartnerConfig("fraud_bureau", "http://partner.test", retries=0)
    return PartnerClient(config, transport=httpx.MockTransport(answer))


@pytest.fixture(autouse=True)
def _forget_violations() -> Iterator[None]:
    """These tests cause violations on purpose: the suite's check must not count them."""
    yield
    guards.violations.clear()


def test_a_partner_called_in_a_write_transaction_is_refused_before_any_request(
    tmp_path: Path, client: PartnerClient, calls: list[httpx.Request]
) -> None:
    built = components(tmp_path, demo_sources())
    try:
        with built.store.write(), pytest.raises(PartnerCallInTransaction, match="fraud_bureau"):
            client.get("/subjects/alex/history", dict)
        with built.store.read(), pytest.raises(PartnerCallInTransaction):
            client.get("/subjects/alex/history", dict)
    finally:
        built.store.dispose()
    assert calls == []  # refused before the request was sent
    assert guards.violations == ["fraud_bureau", "fraud_bureau"]


def test_outside_a_transaction_the_same_call_goes_through(
    tmp_path: Path, client: PartnerClient, calls: list[httpx.Request]
) -> None:
    built = components(tmp_path, demo_sources())
    try:
        with built.store.write():
            pass
        assert client.get("/subjects/alex/history", dict) == {"ok": True}
    finally:
        built.store.dispose()
    assert len(calls) == 1
    assert not guards.in_transaction()


def test_a_data_source_asked_in_a_transaction_raises_although_failures_are_tolerated(
    tmp_path: Path,
) -> None:
    """A source that fails is recorded as unavailable and the journey goes on; a source asked
    inside a transaction is a bug, and is never swallowed that way."""
    built = components(tmp_path, demo_sources())
    partners = PartnerData(demo_sources())
    try:
        with built.store.write(), pytest.raises(PartnerCallInTransaction, match="policies"):
            partners.fetch("alex", DataNeed("policies", {}), NOW)
        fetched = partners.fetch("alex", DataNeed("policies", {}), NOW)
    finally:
        built.store.dispose()
    assert "error" not in fetched and fetched["value"]["policies"]


def test_the_mark_is_the_thread_s_own_and_nests() -> None:
    import threading

    seen: list[bool] = []
    with guards.transaction_open():
        with guards.transaction_open():
            assert guards.in_transaction()
        assert guards.in_transaction()
        other = threading.Thread(target=lambda: seen.append(guards.in_transaction()))
        other.start()
        other.join()
    assert seen == [False]  # another thread's work is not inside this transaction
    assert not guards.in_transaction()
