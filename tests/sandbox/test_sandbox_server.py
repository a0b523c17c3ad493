"""`Sandbox`: the simulators started as real servers, all of them or some."""

from __future__ import annotations

import httpx
import pytest

from wayline.sandbox.server import Sandbox


def test_some_partners_can_be_started_alone() -> None:
    running = Sandbox(only=frozenset({"card_issuer", "wealth_platform"})).start()
    try:
        assert set(running.urls()) == {"card_issuer", "wealth_platform"}
        for name, url in running.urls().items():
            assert httpx.get(f"{url}/healthz").json()["status"] == "ok", name
        cards = httpx.get(f"{running.urls()['card_issuer']}/customers/alex/cards").json()
        assert len(cards["cards"]) == 2
    finally:
        running.stop()


def test_an_unknown_partner_is_refused() -> None:
    with pytest.raises(ValueError, match="no such partner: card_isuer"):
        Sandbox(only=frozenset({"card_isuer"})).start()
