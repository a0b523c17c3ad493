"""Hot reload (`wayline demo --reload-journeys`): a changed definition becomes a new version for
journeys started from then on, journeys in flight stay on theirs, and a definition with errors
is logged with its file and line while the version before it stays in use."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from journey_api import JOURNEYS_DIR, Api
from structlog.testing import capture_logs

from wayline.bootstrap import Components

OLD_TITLE = "    title: Which car is the claim for?\n"
NEW_TITLE = "    title: Which car was involved?\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copied = tmp_path / "journeys"
    shutil.copytree(JOURNEYS_DIR, copied)
    return copied


@pytest.fixture
def components(make_components: Callable[..., Components], folder: Path) -> Components:
    return make_components(journeys_dir=folder)


def edit(folder: Path, old: str, new: str) -> int:
    """Change the motor claim's file; the line of the change."""
    path = folder / "motor-claim.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return text[: text.index(old)].count("\n") + 1


def test_a_changed_definition_is_a_new_version_for_new_journeys_only(
    components: Components, folder: Path, alex: Api
):
    in_flight = alex.start()
    assert in_flight["current_step"]["title"] == "Which car is the claim for?"
    edit(folder, OLD_TITLE, NEW_TITLE)

    assert components.reloader().reload() == ["motor-claim"]

    started = alex.start()
    assert started["version"] != in_flight["version"]
    assert started["current_step"]["title"] == "Which car was involved?"
    # The journey in flight keeps its version, and goes on on it.
    kept = alex.step(in_flight, "policy", {"policy_number": "MTR-100001"})
    assert kept["version"] == in_flight["version"]
    assert alex.journey(in_flight["id"])["steps"][0]["title"] == "Which car is the claim for?"
    # Nothing changed: nothing is deployed again.
    assert components.reloader().reload() == []


def test_a_definition_with_errors_is_logged_and_the_version_before_stays(
    components: Components, folder: Path, alex: Api
):
    before = alex.start()["version"]
    line = edit(
        folder, 'when: answers.incident_type != "theft"', 'when: answers.incident_typ != "theft"'
    )

    with capture_logs() as logs:
        assert components.reloader().reload() == []

    invalid = [entry for entry in logs if entry["event"] == "definitions.invalid"]
    assert [(entry["file"], entry["line"]) for entry in invalid] == [
        ("journeys/motor-claim.yaml", line)
    ]
    assert "answers.incident_typ: no field named 'incident_typ'" in invalid[0]["error"]
    assert invalid[0]["log_level"] == "error"
    assert alex.start()["version"] == before
    # Fixed, it deploys.
    edit(folder, "answers.incident_typ ", "answers.incident_type ")
    edit(folder, OLD_TITLE, NEW_TITLE)
    assert components.reloader().reload() == ["motor-claim"]
    assert alex.start()["version"] != before


@pytest.fixture
def watching(components: Components) -> Iterator[threading.Event]:
    stop = components.reloader().start()
    yield stop
    stop.set()


def test_the_watcher_deploys_a_saved_change(
    components: Components, folder: Path, watching: threading.Event
):
    before = components.catalog.get("motor-claim")
    assert before is not None
    deployed = threading.Event()
    original = components.catalog.deploy

    def noticed(journey):  # the watcher's deploy, observed
        original(journey)
        deployed.set()

    components.catalog.deploy = noticed  # type: ignore[method-assign]
    # The watcher may need a moment to begin watching: save until it notices.
    edit(folder, OLD_TITLE, NEW_TITLE)
    for _ in range(50):
        if deployed.wait(0.2):
            break
        (folder / "motor-claim.yaml").touch()
    assert deployed.is_set()
    after = components.catalog.get("motor-claim")
    assert after is not None and after.version != before.version
    assert after.steps[0].title == "Which car was involved?"
