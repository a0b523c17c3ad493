"""The card-replacement journey's freeze, a call at the reason step that must finish before
the customer goes on: a crash between the issuer freezing the card and Wayline recording it
freezes the card once. The process doing the call in the request dies right after the
issuer's answer (the record is never written); the outbox, which holds the call since the
answer was committed, runs it again under the same key, and the issuer changes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from reliability_kit import customer_api, drain, events_of

from wayline.runtime import effects
from wayline.web.app import create_app

DATABASES = [
    pytest.param("sqlite_url", id="sqlite"),
    pytest.param("postgres_url", id="postgres", marks=pytest.mark.postgres),
]
CARD = "card-alex-4821"


class Crash(BaseException):
    """The process dying: not an error anything catches (as SIGKILL would be)."""


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param))


def spy_on_freezes(sandbox) -> Counter[str]:
    """How often the issuer's cards were really frozen, by card (its ledger, not its replies)."""
    issuer = sandbox.partners["card_issuer"].app.state.issuer
    original = issuer.freeze
    frozen: Counter[str] = Counter()

    def freeze(card_id: str, reason: str) -> Any:
        frozen[card_id] += 1
        return original(card_id, reason)

    issuer.freeze = freeze
    return frozen


# The request's call thread dies of the crash, as intended: pytest reports that as a warning.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_crash_between_the_freeze_and_its_record_freezes_once(
    sandbox, make_components, database_url, monkeypatch
):
    components = make_components(database_url)
    frozen = spy_on_freezes(sandbox)
    record = effects.EffectHandlers._record

    def dies_before_recording(self, effect, spec, status, **kwargs):
        raise Crash

    # The request's call: the issuer freezes the card, then the process dies before the record.
    monkeypatch.setattr(effects.EffectHandlers, "_record", dies_before_recording)
    with customer_api(create_app(components)) as alex:
        journey = alex.start("card-replacement")
        journey = alex.step(journey, "card", {"card_id": CARD})
        response = alex.post_step(journey["id"], "reason", {"card_reason": "stolen"}, 2)
        assert response.status_code == 200, response.text
        assert frozen[CARD] == 1
        # Wayline never heard: the customer is told it is not done yet.
        assert response.json()["effects"]["freeze"]["status"] == "pending"
        card_url = f"{sandbox.urls()['card_issuer']}/cards/{CARD}"
        first = httpx.get(card_url, timeout=5).json()
        assert first["status"] == "frozen"

        # A worker after the restart runs the queued call again, under the same key.
        monkeypatch.setattr(effects.EffectHandlers, "_record", record)
        worker = components.worker(max_attempts=3, base_delay=0.01)

        def recorded() -> bool:
            status = alex.journey(journey["id"])["effects"]["freeze"]["status"]
            return bool(status == "done")

        drain(worker, recorded, 20)
        assert frozen[CARD] == 1
        again = httpx.get(card_url, timeout=5).json()
        assert again["frozen_at"] == first["frozen_at"]
        assert len(events_of(alex, journey["id"], "effect.done")) == 1
        page = alex.http.get(f"/journeys/{journey['id']}/steps/card-frozen")
        assert "Your card is frozen" in page.text
