"""`wayline events relay|replay|schemas|check|status` against a real database and NATS."""

from __future__ import annotations

from pathlib import Path

import pytest
from events_kit import T0, new_journey, record, step_events, stream_messages
from typer.testing import CliRunner

from wayline.cli import app as cli

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def environment(monkeypatch, tmp_path, module_database_url, stream, nats_url) -> None:
    monkeypatch.setenv("WAYLINE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WAYLINE_DATABASE_URL", module_database_url)
    monkeypatch.setenv("WAYLINE_EVENT_STREAM", stream[0])
    monkeypatch.setenv("WAYLINE_EVENT_SUBJECT_PREFIX", stream[1])
    monkeypatch.chdir(ROOT)


def test_relay_status_and_replay(store, environment, monkeypatch, nats_url, stream, jid):
    new_journey(store, jid("j1"))
    record(store, jid("j1"), step_events(jid("j1"), 3, start=2000))

    monkeypatch.setenv("WAYLINE_EVENT_BUS", "none")
    idle = runner.invoke(cli, ["events", "relay", "--once"])
    assert idle.exit_code == 0 and "No event bus" in idle.output
    assert runner.invoke(cli, ["events", "status"]).output == "3 events waiting\n"

    monkeypatch.setenv("WAYLINE_EVENT_BUS", nats_url)
    published = runner.invoke(cli, ["events", "relay", "--once"])
    assert published.exit_code == 0, published.output
    assert "Published 3 events" in published.output
    assert runner.invoke(cli, ["events", "status"]).output == "0 events waiting\n"

    since = (T0.replace(tzinfo=None)).isoformat()  # no offset: read as UTC
    replayed = runner.invoke(cli, ["events", "replay", "--since", since, "--to", nats_url])
    assert replayed.exit_code == 0, replayed.output
    assert "Replayed 3 events" in replayed.output  # the module's database holds these alone
    assert len(stream_messages(nats_url, stream[0])) == 6


def test_bad_options_are_refused_by_name(environment, nats_url):
    late = runner.invoke(cli, ["events", "replay", "--since", "yesterday", "--to", nats_url])
    assert late.exit_code == 2 and "--since is not an ISO 8601 time" in late.output
    unknown = runner.invoke(cli, ["events", "replay", "--since", "2026-01-01", "--to", "kafka://x"])
    assert unknown.exit_code == 2 and "Unknown event bus" in unknown.output


def test_schemas_are_written_and_checked(tmp_path):
    out = tmp_path / "events"
    written = runner.invoke(cli, ["events", "schemas", "--out", str(out)])
    assert written.exit_code == 0, written.output
    assert len(list(out.rglob("*.json"))) == len(list((ROOT / "schemas/events").rglob("*.json")))
    assert (tmp_path / "asyncapi.yaml").is_file()
    checked = runner.invoke(cli, ["events", "check", "--published", str(out)])
    assert checked.exit_code == 0 and "Compatible" in checked.output
