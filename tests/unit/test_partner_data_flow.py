"""Partner data is fetched before a command's transaction and a view's options after its
commit: never inside a transaction (runtime/partner_data.py). A recording source notes, for
every fetch, whether the thread asking had a transaction open; each source a command needs is
asked once (no transaction abandoned and run again to fetch what it found missing)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shell_kit import components, recorded_sources

from wayline.bootstrap import Components
from wayline.journeys.engine import DataNeed, JourneyState, Transition
from wayline.journeys.loader import Journey


@pytest.fixture
def fetches() -> list[tuple[str, bool]]:
    return []


@pytest.fixture
def built(tmp_path: Path, fetches: list[tuple[str, bool]]) -> Iterator[Components]:
    parts = components(tmp_path, recorded_sources(fetches))
    yield parts
    parts.store.dispose()


def _incident() -> dict[str, Any]:
    last_week = (datetime.now(UTC).date() - timedelta(days=7)).isoformat()
    return {
        "incident_date": last_week,
        "incident_time": "14:30",
        "incident_type": "glass",
        "incident_postcode": "sw1a1aa",
        "description": "A stone cracked the windscreen on the motorway.",
        "driveable": True,
    }


def _photo(built: Components, journey_id: str) -> str:
    """A photo's record, as the upload pipeline would keep it."""
    document = {
        "id": "doc-photo-1",
        "field": "damage_photos",
        "filename": "photo.jpg",
        "content_type": "image/jpeg",
        "size": 1234,
        "sha256": "0" * 64,
        "storage_key": f"journeys/{journey_id}/doc-photo-1",
    }
    built.documents.record("alex", journey_id, document)
    return document["id"]


def _asked(fetches: list[tuple[str, bool]], since: int) -> list[str]:
    return [source for source, _ in fetches[since:]]


def test_every_fetch_of_a_claim_happens_outside_any_transaction(
    built: Components, fetches: list[tuple[str, bool]]
) -> None:
    do, read = built.commands, built.queries
    started = do.start("alex", "motor-claim")
    assert sorted(_asked(fetches, 0)) == ["customer", "policies"]  # what prefills read

    journey_id = started.journey_id
    changed = do.submit_step("alex", journey_id, "policy", {"policy_number": "MTR-100001"}, 1)
    changed = do.submit_step("alex", journey_id, "incident", _incident(), changed.revision)
    photo = _photo(built, journey_id)
    mark = len(fetches)
    changed = do.submit_step(
        "alex", journey_id, "photos", {"damage_photos": [photo]}, changed.revision
    )
    assert changed.position.current == "settlement"
    assert _asked(fetches, mark) == []  # the photos step needs no partner
    view = read.view_of(changed)  # after the commit: the settlement step's options
    assert _asked(fetches, mark) == ["repairers"]
    repairer = next(f for f in view["current_step"]["fields"] if f["name"] == "repairer_id")
    chosen = repairer["options"][0]["value"]

    mark = len(fetches)
    answers = {"settlement": "repairer", "repairer_id": chosen}
    changed = do.submit_step("alex", journey_id, "settlement", answers, changed.revision)
    # Shown options are not kept: submitting fetches them once, then records them.
    assert _asked(fetches, mark) == ["repairers"]
    assert changed.state.data["repairers"]["params"] == {"postcode": "SW1A 1AA"}

    read.journey_view("alex", journey_id)
    assert fetches and not [source for source, open_ in fetches if open_], fetches


def test_a_system_command_fetches_what_it_needs_before_its_transaction(
    built: Components, fetches: list[tuple[str, bool]]
) -> None:
    journey_id = built.commands.start("alex", "motor-claim").journey_id
    mark = len(fetches)

    def needs(journey: Journey, state: JourneyState, now: datetime) -> list[DataNeed]:
        return [DataNeed("fraud_history", {})]

    def decide(journey: Journey, state: JourneyState, now: datetime) -> Transition:
        assert "fraud_history" in state.data  # fetched before, recorded for the decision
        return Transition(state)

    changed = built.system.apply(journey_id, decide, needs, strict=True)
    assert fetches[mark:] == [("fraud_history", False)]
    assert changed.revision == 2
