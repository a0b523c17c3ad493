"""A broken version released as a canary rolls back by itself (SQLite and PostgreSQL).

The motor claim's branch version refuses every incident postcode. An admin releases it to
half of new claims through the API; customers start claims through the API and land on the
version their id's bucket picks; the canary's customers are refused at the incident step while
stable's go on. The worker's analysis (run here as the worker runs it, on a moved clock) sees
the canary's step error rate fail its threshold in two intervals in a row and rolls back: new
claims go to stable again, the canary's claims in flight stay on their version, and the
decision is in the release log and the audit log as the analysis's own.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from journey_api import JOURNEYS_DIR, Api, incident
from prometheus_client import REGISTRY

from wayline.bootstrap import Components, DemoCustomer, build
from wayline.config import Settings
from wayline.connectors.sources import DataSource
from wayline.identity.roles import STAFF_ROLES
from wayline.journeys.loader import check_path
from wayline.runtime.clock import FixedClock
from wayline.runtime.effects import KINDS
from wayline.runtime.releases.assignment import in_canary
from wayline.runtime.releases.service import Releases
from wayline.sandbox.wiring import demo_options
from wayline.store import audit as audit_store
from wayline.store import releases as release_store
from wayline.web.app import create_app

POSTCODE = "        invalid: Enter a real postcode, like SW1A 1AA\n"
REFUSE_EVERY_POSTCODE = (
    POSTCODE + "        rules:\n"
    "          - rule: expression\n"
    '            expression: value == "no postcode is this"\n'
    "            message: Enter a real postcode, like SW1A 1AA\n"
)
STRATEGY = {
    "name": "test",
    "interval": "1m",
    "minimum_sample": 4,
    "rollback_after": 2,
    "stages": [{"percent": 50, "bake": "10m"}, {"percent": 100, "bake": "10m"}],
}
PER_ARM = 4


class AsAlex:
    """A demo data source answering for every test customer as it does for Alex."""

    def __init__(self, source: DataSource):
        self.source = source

    def fetch(self, customer_id: str, params: dict[str, Any], today: date) -> dict[str, Any]:
        return self.source.fetch("alex", params, today)


def customers() -> tuple[list[str], list[str]]:
    """Customer ids the hash puts in the canary at 50%, and ids it leaves on stable."""
    ids = [f"cust-{n}" for n in range(40)]
    canary = [i for i in ids if in_canary("motor-claim", i, 50)]
    stable = [i for i in ids if not in_canary("motor-claim", i, 50)]
    return canary[: PER_ARM + 1], stable[: PER_ARM + 1]


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[tuple[Components, FixedClock, str]]:
    """The app on stable definitions, and the branch's broken motor claim kept in the store."""
    branch = tmp_path / "branch"
    shutil.copytree(JOURNEYS_DIR, branch)
    path = branch / "motor-claim.yaml"
    text = path.read_text()
    assert text.count(POSTCODE) == 1
    path.write_text(text.replace(POSTCODE, REFUSE_EVERY_POSTCODE))
    options = demo_options()
    options["sources"] = {name: AsAlex(s) for name, s in options["sources"].items()}
    canary_ids, stable_ids = customers()
    options["demo_customers"] |= {i: DemoCustomer(i, "Test") for i in canary_ids + stable_ids}
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    settings = Settings(
        home=tmp_path / "home",
        database_url=database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
        rate_limits=False,
    )
    components = build(settings, migrate=True, clock=clock, **options)
    found, problems = check_path(
        path, effect_kinds=KINDS, roles={r.value for r in STAFF_ROLES}, operations=None
    )
    assert not problems, problems
    broken = Releases(components.store, clock).register(found["motor-claim"])
    yield components, clock, broken
    components.store.engine.dispose()


def signed_in(app: Any, who: str, staff: bool = False) -> Api:
    api = Api(TestClient(app))
    if staff:
        body = {"staff": who, "method": "one_time_code"}
        assert api.http.post("/auth/demo", json=body).status_code == 204
        api.http.headers["X-CSRF-Token"] = api.http.cookies["wayline_csrf"]
        return api
    return api.sign_in(who)


def refused_without_a_trace(admin: Api, broken: str) -> None:
    """Bad requests to start a release: 4xx problem details naming what is wrong."""
    bad_strategy = {"stages": [{"percent": 10, "bake": "5m"}]}
    cases = [
        ({"journey": "motor-claim", "version": "abcdef"}, "version"),
        ({"journey": "motor-claim", "version": broken, "strategy": bad_strategy}, "strategy"),
        ({"journey": "motor-claim", "version": broken, "strategy": "/etc/passwd"}, "strategy"),
        ({"journey": "motor-claim", "version": broken, "canary": 0}, None),
    ]
    for body, field in cases:
        response = admin.http.post("/api/v1/admin/releases", json=body)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        if field:
            assert response.json()["errors"][0]["field"] == field
    assert admin.http.get("/api/v1/admin/releases").json() == {"releases": []}


def failing(journey: str, version: str) -> float | None:
    labels = {"journey": journey, "version": version}
    return REGISTRY.get_sample_value("wayline_release_analysis_failing", labels)


def test_a_broken_canary_is_rolled_back_by_itself_while_stable_carries_on(
    world: tuple[Components, FixedClock, str],
) -> None:
    components, clock, broken = world
    app = create_app(components)
    stable = components.catalog.get("motor-claim")
    assert stable is not None and stable.version != broken
    admin = signed_in(app, "sasha", staff=True)
    canary_ids, stable_ids = customers()
    refused_without_a_trace(admin, broken)

    started = admin.http.post(
        "/api/v1/admin/releases",
        json={"journey": "motor-claim", "version": broken, "canary": 50, "strategy": STRATEGY},
    )
    assert started.status_code == 201, started.text
    release = started.json()
    assert (release["stable_version"], release["percent"]) == (stable.version, 50)

    twice = admin.http.post(
        "/api/v1/admin/releases", json={"journey": "motor-claim", "version": broken}
    )
    assert twice.status_code == 409
    # Customers may not release.
    alex = signed_in(app, "alex")
    body = {"journey": "motor-claim", "version": broken}
    assert alex.http.post("/api/v1/admin/releases", json=body).status_code == 403

    # Customers start claims: each lands on the version its bucket picks.
    on_canary, on_stable = [], []
    for who in canary_ids[:PER_ARM]:
        api = signed_in(app, who)
        claim = api.step(api.start(), "policy", {"policy_number": "MTR-100001"})
        assert claim["version"] == broken
        refused = api.refused(claim, "incident", incident())
        assert "incident_postcode" in refused
        on_canary.append((api, claim))
    for who in stable_ids[:PER_ARM]:
        api = signed_in(app, who)
        claim = api.step(api.start(), "policy", {"policy_number": "MTR-100001"})
        assert claim["version"] == stable.version
        on_stable.append((api, api.step(claim, "incident", incident())))

    # The worker's analysis, one interval after another.
    releases = components.releases()
    clock.advance(timedelta(minutes=1))
    first = releases.analyse_due()
    assert [a.action.value for a in first] == ["continue"]
    assert first[0].release.failing_intervals == 1
    assert failing("motor-claim", broken) == 1
    assert releases.analyse_due() == []  # not due again within the interval
    clock.advance(timedelta(minutes=1))
    second = releases.analyse_due()
    assert [a.action.value for a in second] == ["rollback"]
    assert failing("motor-claim", broken) == 0

    # New claims go to stable, the canary's customers' too; theirs in flight keep their version.
    again = signed_in(app, canary_ids[PER_ARM])
    assert again.start()["version"] == stable.version
    api, claim = on_canary[0]
    assert api.journey(claim["id"])["version"] == broken
    # Stable's claims carry on.
    api, claim = on_stable[0]
    assert api.journey(claim["id"])["version"] == stable.version
    assert api.journey(claim["id"])["current_step"]["name"] != "incident"

    with components.store.read() as connection:
        log = release_store.log_of(connection, release["id"])
        audit = audit_store.entries(
            connection,
            actor=None,
            action=None,
            target=("release", release["id"]),
            since=None,
            limit=20,
        )
    assert [(e.kind, e.actor) for e in log] == [
        ("started", "sasha"),
        ("analysed", "release-analysis"),
        ("analysed", "release-analysis"),
        ("rolled_back", "release-analysis"),
    ]
    verdicts = {v["kpi"]: v["outcome"] for v in log[-1].body["verdicts"]}
    assert verdicts["step_error_rate"] == "fail"
    assert {(row.action, row.actor) for row in audit} == {
        ("release_started", "sasha"),
        ("release_rolled_back", "release-analysis"),
    }
    listed = admin.http.get("/api/v1/admin/releases", params={"journey": "motor-claim"})
    assert listed.json()["releases"][0]["status"] == "rolled_back"
    # It is over: a person cannot promote it now.
    late = admin.http.post(
        f"/api/v1/admin/releases/{release['id']}/decisions", json={"decision": "promote"}
    )
    assert late.status_code == 409
