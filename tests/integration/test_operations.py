"""What operators see: liveness and readiness, Prometheus metrics by route template, step and
field, and JSON logs that carry ids but never what a customer typed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from journey_api import Api, ServerProcess, incident, run_cli, server_env, through_incident
from prometheus_client.parser import text_string_to_metric_families

from wayline.store import Store
from wayline.store.database import make_engine
from wayline.web.app import create_app


def test_health_and_readiness(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_not_ready_when_the_database_is_unreachable(
    components, is_postgres: bool, tmp_path: Path
) -> None:
    if is_postgres:
        bad_url = "postgresql://postgres@127.0.0.1:1/wayline_nowhere?connect_timeout=2"
    else:
        folder = tmp_path / "gone"
        folder.mkdir()
        bad_url = f"sqlite:///{folder / 'wayline.db'}"
        shutil.rmtree(folder)
    broken = dataclasses.replace(components, store=Store(make_engine(bad_url)))
    with TestClient(create_app(broken)) as http:
        response = http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert http.get("/healthz").status_code == 200  # alive, just not ready
    broken.store.engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_not_ready_while_the_postgres_database_is_gone(
    app, database_url: str, postgres_server: str
) -> None:
    """A running app whose database disappears under it reports 503 until it is back."""
    name = database_url.rsplit("/", 1)[1]
    with TestClient(app) as http:
        assert http.get("/readyz").status_code == 200
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        assert http.get("/readyz").status_code == 503
        assert http.get("/healthz").status_code == 200
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        assert http.get("/readyz").status_code == 200


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_api_answers_503_problem_json_while_the_database_is_gone(
    app, database_url: str, postgres_server: str, sign_in
) -> None:
    """Not a bare 500: a problem+json 503 with Retry-After, and nothing half-written."""
    alex = sign_in("alex", raise_server_exceptions=False)
    journey = alex.start()
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    try:
        response = alex.post_step(
            journey["id"], "policy", {"policy_number": "MTR-100001"}, journey["revision"]
        )
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["retry-after"] == "5"
        assert "Nothing was changed" in response.json()["detail"]
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')


def _samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def _value(samples, name: str, **labels: str) -> float:
    return sum(
        value
        for sample_name, sample_labels, value in samples
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items())
    )


def test_metrics(alex: Api, client: TestClient, components) -> None:
    before = _samples(client.get("/metrics").text)
    journey = alex.start()
    journey = alex.step(journey, "policy", {"policy_number": "MTR-100001"})
    alex.refused(journey, "incident", incident("glass", incident_postcode="nowhere"))
    alex.refused(journey, "incident", incident("glass", incident_postcode="nowhere"))
    journey = alex.step(journey, "incident", incident("theft"))
    journey = alex.step(journey, "police", {"crime_reference": "ABC123"})
    journey = alex.submit(alex.step(journey, "photos", {}))
    alex.journey(journey["id"])

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    after = _samples(text)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("wayline_journeys_started_total", journey="motor-claim") == 1
    # Per-journey metrics carry the definition version the journey runs on.
    version = components.catalog.get("motor-claim").version
    assert grew("wayline_journeys_started_total", journey="motor-claim", version=version) == 1
    submitted = "wayline_journeys_submitted_total"
    assert grew(submitted, journey="motor-claim", version=version) == 1
    assert grew("wayline_validation_errors_total", version=version) == 2
    assert grew("wayline_step_submissions_total", version=version) == 6
    assert grew("wayline_journeys_submitted_total", journey="motor-claim") == 1
    submissions = "wayline_step_submissions_total"
    assert grew(submissions, journey="motor-claim", step="policy", outcome="accepted") == 1
    assert grew(submissions, journey="motor-claim", step="incident", outcome="invalid") == 2
    assert grew(submissions, journey="motor-claim", step="incident", outcome="accepted") == 1
    errors = "wayline_validation_errors_total"
    assert grew(errors, journey="motor-claim", step="incident", field="incident_postcode") == 2
    assert grew(errors, journey="motor-claim", step="incident", field="description") == 0

    durations = "wayline_http_request_duration_seconds_count"
    assert grew(durations, method="GET", route="/api/v1/journeys/{journey_id}", status="200") >= 1
    assert grew(durations, method="POST", route="/api/v1/journeys/{journey_id}/steps/{step}") == 6
    # Labels are templates and names, never ids or values.
    assert journey["id"] not in text
    assert journey["reference"] not in text
    assert "nowhere" not in text


def test_logs_carry_ids_never_answers(database_url: str, tmp_path: Path) -> None:
    env = server_env(tmp_path / "home", database_url)
    run_cli(["migrate"], env, tmp_path)
    server = ServerProcess(["serve"], env, tmp_path, tmp_path / "server.log").start()
    secrets = {
        "description": "Zebra crossing marmalade incident, quite unforgettable",
        "postcode": "QX9 9ZZ",
        "bad_postcode": "LEAKY-POSTCODE",
        "draft": "Half typed osprey",
        "driver": "Bartholomew Quince",
        "registration": "QQ99 QQQ",
        "crime": "OSPREY/777",
    }
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            alex = Api(http).sign_in("alex")
            journey = alex.step(alex.start(), "policy", {"policy_number": "MTR-100001"})
            journey = alex.draft(journey, "incident", {"description": secrets["draft"]})
            alex.refused(journey, "incident", incident(incident_postcode=secrets["bad_postcode"]))
            journey = alex.step(
                alex.journey(journey["id"]),
                "incident",
                incident(
                    "collision_vehicle",
                    description=secrets["description"],
                    incident_postcode=secrets["postcode"],
                ),
            )
            journey = alex.step(
                journey,
                "other-vehicle",
                {
                    "other_driver_name": secrets["driver"],
                    "other_registration": secrets["registration"],
                    "injuries": False,
                },
            )
            other = through_incident(alex, "theft")
            other = alex.step(other, "police", {"crime_reference": secrets["crime"]})
            alex.submit(alex.step(other, "photos", {}))
    finally:
        server.stop()
    log = server.log()
    for name, value in secrets.items():
        for form in {value, value.upper(), value.lower(), json.dumps(value)[1:-1]}:
            assert form not in log, f"the {name} answer appears in the logs"

    # One JSON object a line, each with the request id; journey lines name the journey.
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [r for r in records if r.get("event") == "request"]
    assert len(requests) >= 10
    assert all(r.get("request_id") for r in requests)
    routes = {r["route"] for r in requests}
    assert "/api/v1/journeys/{journey_id}/steps/{step}" in routes
    assert not any(journey["id"] in route for route in routes)
    steps = [r for r in requests if r["route"] == "/api/v1/journeys/{journey_id}/steps/{step}"]
    assert {r.get("journey_id") for r in steps} >= {journey["id"], other["id"]}
    assert any(r.get("event") == "journey.submitted" for r in records)
