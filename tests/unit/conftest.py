"""Shared fixtures for the unit tests: the shipped journeys, a fixed clock, and a tiny "shell"
that drives the pure engine the way the runtime does (fetch what the engine asks for, record
it, call one command)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wayline.journeys import engine
from wayline.journeys.engine import JourneyState
from wayline.journeys.loader import Journey, load_directory
from wayline.sandbox.sources import demo_sources

JOURNEYS_DIR = Path(__file__).resolve().parents[2] / "journeys"

# A fixed, timezone-aware "now": the engine never reads the clock.
NOW = datetime(2026, 3, 27, 10, 30, tzinfo=UTC)
TODAY = NOW.date().isoformat()
LAST_WEEK = (NOW.date() - timedelta(days=7)).isoformat()
TOMORROW = (NOW.date() + timedelta(days=1)).isoformat()

DESCRIPTION = "Reversing out of a parking space, another car drove into my rear bumper."


def incident_answers(incident_type: str = "glass", **overrides: Any) -> dict[str, Any]:
    """Valid answers for the `incident` step (driveable only when the type is not theft)."""
    answers: dict[str, Any] = {
        "incident_date": LAST_WEEK,
        "incident_time": "14:30",
        "incident_type": incident_type,
        "incident_postcode": "sw1a1aa",
        "description": DESCRIPTION,
    }
    if incident_type != "theft":
        answers["driveable"] = True
    answers.update(overrides)
    return answers


OTHER_VEHICLE = {
    "other_driver_name": "Pat Jones",
    "other_registration": "xy21 zzz",
    "other_insurer": "Acme Insurance",
    "injuries": False,
}


# Each demo customer's active policy (Sam also has a lapsed one, MTR-100003).
ACTIVE_POLICY = {"alex": "MTR-100001", "sam": "MTR-100002", "jordan": "MTR-100004"}


class Shell:
    """Drives the engine like runtime/commands: data in, one command, state out."""

    today = TODAY
    last_week = LAST_WEEK
    tomorrow = TOMORROW
    other_vehicle = OTHER_VEHICLE
    active_policy = ACTIVE_POLICY

    def __init__(self, journey: Journey, now: datetime):
        self.journey = journey
        self.now = now
        self.sources = demo_sources()

    def _fetch(self, customer_id: str, source: str, params: dict[str, Any]) -> Any:
        return self.sources[source].fetch(customer_id, params, self.now.date())

    def start(self, customer_id: str, journey_id: str = "jrn-0001") -> JourneyState:
        data = {
            name: {
                "params": {},
                "value": self._fetch(customer_id, name, {}),
                "fetched_at": self.now.isoformat(),
            }
            for name in sorted(engine.sources_used(self.journey))
        }
        outcome = engine.start(
            self.journey, journey_id=journey_id, customer_id=customer_id, data=data, now=self.now
        )
        return outcome.state

    def fetch_for(
        self, state: JourneyState, step: str, answers: dict | None = None
    ) -> JourneyState:
        """Fetch every source the step needs for these answers, record it, refresh prefills."""
        for need in engine.data_needs(self.journey, state, step, answers or {}, self.now):
            value = self._fetch(state.customer_id, need.source, need.params)
            state = engine.record_data(state, need.source, need.params, value, self.now)
        return engine.with_data(self.journey, state)

    def submit_step(self, state: JourneyState, step: str, answers: dict) -> JourneyState:
        state = self.fetch_for(state, step, answers)
        return engine.submit_step(self.journey, state, step, answers, self.now).state

    def upload(self, state: JourneyState, field: str, *document_ids: str) -> JourneyState:
        """Simulate uploads: documents the runtime stored for a file field."""
        documents = dict(state.documents)
        for document_id in document_ids:
            documents[document_id] = {"field": field, "media_type": "image/jpeg"}
        return replace(state, documents=documents)

    def through_incident(
        self, customer_id: str, incident_type: str = "glass", **overrides: Any
    ) -> JourneyState:
        """A journey with the policy and incident steps answered."""
        state = self.start(customer_id)
        state = self.submit_step(state, "policy", {"policy_number": ACTIVE_POLICY[customer_id]})
        return self.submit_step(state, "incident", incident_answers(incident_type, **overrides))

    @staticmethod
    def incident(incident_type: str = "glass", **overrides: Any) -> dict[str, Any]:
        return incident_answers(incident_type, **overrides)

    def current(self, state: JourneyState) -> str | None:
        return engine.current_step(self.journey, state, self.now)

    def applicable(self, state: JourneyState) -> list[str]:
        return [step.name for step in engine.applicable_steps(self.journey, state, self.now)]


@pytest.fixture(scope="session")
def journeys() -> dict[str, Journey]:
    return load_directory(JOURNEYS_DIR)


@pytest.fixture(scope="session")
def motor(journeys: dict[str, Journey]) -> Journey:
    return journeys["motor-claim"]


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def shell(motor: Journey) -> Shell:
    return Shell(motor, NOW)
