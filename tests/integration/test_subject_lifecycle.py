"""A journey's end of life on SQLite and PostgreSQL: retention removes exactly what expired on
a moved clock (an abandoned draft after 30 days, not before; a held one never; a claim in
flight never), an export holds the customer's answers and original files with a manifest that
checks, and an erasure crypto-shreds: the canaries cannot be opened again even with the old
keyring file, while a legal hold keeps what it names."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from canary_kit import everything_stored
from fastapi.testclient import TestClient
from journey_api import ACTIVE_POLICY, CSRF_COOKIE, CSRF_HEADER, PROBLEM, Api
from lifecycle_kit import TEXTS, claim_with_canaries, gps_photo, hits
from sqlalchemy import select
from typer.testing import CliRunner

from wayline.bootstrap import Components, build
from wayline.cli import app as cli
from wayline.config import Settings
from wayline.protection.codec import FieldCodec
from wayline.protection.keys import UnknownKey
from wayline.protection.wiring import data_keys
from wayline.runtime.clock import FixedClock
from wayline.sandbox.wiring import demo_options
from wayline.store import answers, lifecycle, tables


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def components(make_settings: Callable[..., Settings], clock: FixedClock) -> Iterator[Components]:
    built = build(make_settings(), migrate=True, clock=clock, **demo_options())
    yield built
    built.store.engine.dispose()


def _journey_ids(components: Components) -> set[str]:
    with components.store.read() as connection:
        return {row.id for row in connection.execute(select(tables.journeys.c.id))}


def _draft(api: Api, customer: str) -> str:
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": ACTIVE_POLICY[customer]})
    return str(journey["id"])


def test_retention_removes_exactly_what_expired(
    components: Components, sign_in: Callable[..., Api], clock: FixedClock
) -> None:
    alex = sign_in("alex")
    expiring, held = _draft(alex, "alex"), _draft(alex, "alex")
    in_flight = claim_with_canaries(
        sign_in("sam").sign_in("sam", method="one_time_code"), "sam", gps_photo()
    )["id"]
    lifecycle_ = components.lifecycle()
    lifecycle_.hold("journey", held, "Matter 2026-041", by="test")

    clock.advance(timedelta(days=29))
    assert lifecycle_.run_retention().removed == []
    clock.advance(timedelta(days=2))
    planned = lifecycle_.run_retention(dry_run=True)
    assert [r.journey_id for r in planned.removed] == [expiring]
    assert _journey_ids(components) == {expiring, held, in_flight}  # a dry run removes nothing

    report = lifecycle_.run_retention()
    assert [(r.journey_id, r.rule) for r in report.removed] == [(expiring, "drafts P30D")]
    assert report.held == [held]
    assert _journey_ids(components) == {held, in_flight}
    with components.store.read() as connection:
        left = connection.execute(
            select(tables.answers.c.field).where(tables.answers.c.journey_id == expiring)
        ).all()
        events_kept = connection.execute(
            select(tables.events.c.type).where(tables.events.c.journey_id == expiring)
        ).all()
        logged = lifecycle.logged(connection)
    assert left == []
    assert events_kept  # names and ids only: the history stays whole
    assert [(e["journey_id"], e["action"], e["rule"]) for e in logged] == [
        (expiring, "retention", "drafts P30D")
    ]
    assert logged[0]["removed"]["journeys"] == 1 and logged[0]["removed"]["answers"] >= 1

    # Released, the held draft goes at the next run; the claim in flight never does.
    assert lifecycle_.release("journey", held, by="test") == 1
    clock.advance(timedelta(days=3650))
    assert [r.journey_id for r in lifecycle_.run_retention().removed] == [held]
    assert _journey_ids(components) == {in_flight}


def _manifest_checks(archive: zipfile.ZipFile) -> dict[str, Any]:
    manifest = json.loads(archive.read("manifest.json"))
    for entry in manifest["files"]:
        body = archive.read(entry["path"])
        assert len(body) == entry["size"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    assert {e["path"] for e in manifest["files"]} | {"manifest.json"} == set(archive.namelist())
    return dict(manifest)


def test_export_then_erase_shreds_the_canaries_and_holds_keep(
    components: Components, sign_in: Callable[..., Api], tmp_path: Path
) -> None:
    alex = sign_in("alex").sign_in("alex", method="one_time_code")
    photo = gps_photo()
    claim = claim_with_canaries(alex, "alex", photo)
    draft = _draft(alex, "alex")
    parts = components.lifecycle()

    # Export: his answers opened, the photo's original, a manifest that checks.
    with zipfile.ZipFile(io.BytesIO(parts.export("alex").zipped())) as archive:
        manifest = _manifest_checks(archive)
        record = json.loads(archive.read(f"journeys/{claim['id']}.json"))
        originals = [archive.read(e["path"]) for e in manifest["files"]]
    assert manifest["journeys"] == 2
    assert record["answers"]["description"] == TEXTS["description"]
    assert record["events"]
    assert photo in originals

    # Keep what opening needs later: a sealed value, and the keyring file as it is now.
    keyring = components.settings.home / "keyring.json"
    saved_keyring = keyring.read_bytes()
    with components.store.engine.connect() as connection:
        sealed = connection.execute(
            select(tables.answers.c.value).where(
                tables.answers.c.journey_id == claim["id"], tables.answers.c.field == "description"
            )
        ).scalar_one()

    # A hold on the draft keeps it, and the keys its sealed values need.
    parts.hold("journey", draft, "Complaint 77", by="test")
    kept = parts.erase("alex")
    assert kept.kept == {draft: "legal hold"} and kept.data_keys_deleted == 0
    assert _journey_ids(components) == {draft}

    parts.release("journey", draft, by="test")
    erased = parts.erase("alex")
    assert erased.kept == {} and erased.data_keys_deleted >= 1
    assert "alex" in erased.subjects_forgotten
    assert _journey_ids(components) == set()
    with components.store.read() as connection:
        last = lifecycle.logged(connection)[-1]
    assert (last["action"], last["subject"], last["journey_id"]) == ("erasure", "alex", None)
    assert hits(everything_stored(components)) == []
    stored_files = [p for p in (components.settings.home / "files").rglob("*") if p.is_file()]
    assert stored_files == []

    # The old keyring file does not bring them back: the data keys it wrapped are gone.
    keyring.write_bytes(saved_keyring)
    keys = data_keys(components.settings)
    assert keys is not None
    assert isinstance(components.store.codec, FieldCodec)
    codec = FieldCodec(keys, components.store.codec.classifier)
    with components.store.read() as connection, pytest.raises(UnknownKey):
        codec.open_value(connection, claim["id"], answers.field_of("description"), sealed)


def test_the_commands(components: Components, sign_in: Callable[..., Api], tmp_path: Path) -> None:
    draft = _draft(sign_in("alex"), "alex")
    env = {
        "WAYLINE_HOME": str(components.settings.home),
        "WAYLINE_DATABASE_URL": components.settings.resolved_database_url(),
    }
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), env=env)
        assert result.exit_code == code, result.output
        return result.output

    assert "Name exactly one" in run("subject", "hold", "--reason", "x", code=2)
    assert "placed on customer alex" in run(
        "subject", "hold", "--customer", "alex", "--reason", "Matter 9"
    )
    assert "Matter 9" in run("retention", "status")
    assert "Would remove 0 journeys" in run("retention", "run", "--dry-run")
    out = tmp_path / "export"
    assert "Wrote 2 files" in run("subject", "export", "--customer", "alex", "--out", str(out))
    assert json.loads((out / "manifest.json").read_text())["journeys"] == 1
    assert f"Kept {draft}: legal hold" in run("subject", "erase", "--customer", "alex")
    assert "Released 1 hold" in run("subject", "release-hold", "--customer", "alex")
    assert "No hold" in run("subject", "release-hold", "--customer", "alex", code=1)
    planned = run("subject", "erase", "--customer", "alex", "--dry-run")
    assert f"Would remove motor-claim {draft}" in planned and "nothing removed" in planned
    assert _journey_ids(components) == {draft}
    assert f"Removed motor-claim {draft}" in run("subject", "erase", "--customer", "alex")
    assert _journey_ids(components) == set()


def _staff(app: Any, who: str, method: str = "one_time_code") -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    assert client.post("/auth/demo", json={"staff": who, "method": method}).status_code == 204
    client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
    return client


def test_an_auditor_exports_a_customer_through_the_api_and_it_is_audited(
    app: Any, sign_in: Callable[..., Api]
) -> None:
    alex = sign_in("alex").sign_in("alex", method="one_time_code")
    claim = claim_with_canaries(alex, "alex", gps_photo())
    path = "/api/v1/staff/subjects/export"

    harper = _staff(app, "harper")
    answer = harper.post(path, json={"customer": "alex"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert "attachment" in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
        manifest = _manifest_checks(archive)
        record = json.loads(archive.read(f"journeys/{claim['id']}.json"))
    assert manifest["customer_id"] == "alex" and manifest["journeys"] == 1
    assert record["answers"]["description"] == TEXTS["description"]
    entry = harper.get("/api/v1/audit", params={"action": "subject_exported"}).json()["entries"]
    assert [(e["actor"], e["target_id"], e["details"]["journeys"]) for e in entry] == [
        ("harper", "alex", 1)
    ]

    # Nothing kept of Jordan: 404, and nothing recorded. A bad id: 422 naming it.
    nobody = harper.post(path, json={"customer": "jordan"})
    assert nobody.status_code == 404 and nobody.headers["content-type"].startswith(PROBLEM)
    bad = harper.post(path, json={"customer": "al\u202eex"})
    assert bad.status_code == 422 and "customer" in bad.text
    assert (
        len(harper.get("/api/v1/audit", params={"action": "subject_exported"}).json()["entries"])
        == 1
    )

    # A handler may not; an auditor without a fresh second factor is asked for one (RFC 9470);
    # the customer's own session is no staff session at all.
    assert _staff(app, "casey").post(path, json={"customer": "alex"}).status_code == 403
    weak = _staff(app, "harper", method="password").post(path, json={"customer": "alex"})
    assert (
        weak.status_code == 401
        and "insufficient_user_authentication" in weak.headers["www-authenticate"]
    )
    assert alex.http.post(path, json={"customer": "alex"}).status_code == 403
