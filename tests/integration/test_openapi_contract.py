"""The OpenAPI document matches what the server does: schemathesis, every check enabled, run
against /openapi.json of a real `wayline serve` (demo mode, a fresh SQLite database, rate
limits off), signed in as a demo customer, with a bounded number of examples per operation.

Six runs: the API signed in as Alex; the staff API (/api/v1/staff) signed in as Morgan, a
senior handler, who sees every queue; then the demo sign-in itself, which ends the session it is
called with (so it cannot share the first run's cookie); then the API sign-out, which ends the
session it is called with too, signed in as Alex in a session of its own (its first call signs
out, the rest are answered 401); last the audit log as Harper, an auditor, and the admin's
session revocation and the releases as Sasha with a second factor (last, as revoking may end
anyone's sessions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from journey_api import ServerProcess, run_cli, server_env

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).with_name("schemathesis.toml")
# Enough to cover every operation's boundaries and invalid cases in a couple of minutes on a
# small machine; a fixed seed so that a failure is the same on every run (set
# WAYLINE_SCHEMATHESIS_SEED to explore further).
MAX_EXAMPLES = "40"
# Routes a customer may not call: each has a run of its own, as someone whose role may.
STAFF_ONLY = "^/api/v1/(staff/|audit$|admin/)"
SEED = os.environ.get("WAYLINE_SCHEMATHESIS_SEED", "20261202")


def _session(base_url: str, person: dict[str, str] | None = None) -> dict[str, str]:
    """Sign in as Alex (or `person`, the demo sign-in's body): the headers an API client sends
    (the session cookie, and the CSRF cookie's value in X-CSRF-Token)."""
    response = httpx.post(f"{base_url}/auth/demo", json=person or {"customer": "alex"})
    assert response.status_code == 204, response.text
    cookies = dict(response.cookies)
    token = next(value for name, value in cookies.items() if name.endswith("wayline_csrf"))
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": token}


def _as_options(headers: dict[str, str]) -> list[str]:
    return [option for name, value in headers.items() for option in ("-H", f"{name}: {value}")]


def _sign_in(base_url: str) -> tuple[dict[str, str], str]:
    """Sign in as Alex and start a journey: the session's headers, and the journey's id."""
    headers = _session(base_url)
    started = httpx.post(
        f"{base_url}/api/v1/journeys", json={"type": "motor-claim"}, headers=headers
    )
    assert started.status_code == 201, started.text
    return headers, started.json()["id"]


def _staff_ids(base_url: str, headers: dict[str, str]) -> dict[str, str]:
    """The ids the staff API's operations are called with: a case of the demo's when there is
    one (and one of its documents), else ids of nothing (404)."""
    cases = httpx.get(f"{base_url}/api/v1/staff/cases", headers=headers)
    assert cases.status_code == 200, cases.text
    ids = {"case": "zz-no-such-case", "document": "zz-no-such-document"}
    if cases.json():
        ids["case"] = cases.json()[0]["id"]
        page = httpx.get(f"{base_url}/api/v1/staff/cases/{ids['case']}", headers=headers).json()
        ids["document"] = next((d["id"] for d in page["documents"]), ids["document"])
    return {
        "WAYLINE_CONTRACT_CASE_ID": ids["case"],
        "WAYLINE_CONTRACT_DOCUMENT_ID": ids["document"],
    }


def _schemathesis(
    base_url: str, cwd: Path, journey_id: str, *options: str, staff: dict[str, str]
) -> subprocess.CompletedProcess:
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        MAX_EXAMPLES,
        "--seed",
        SEED,
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--output-sanitize",
        "false",  # test data only; the failures are easier to read
        *options,
    ]
    env = {**os.environ, "WAYLINE_CONTRACT_JOURNEY_ID": journey_id, **staff}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_api_does_what_its_openapi_document_says(database_url: str, tmp_path: Path) -> None:
    env = server_env(tmp_path / "home", database_url, WAYLINE_RATE_LIMITS="false")
    run_cli(["migrate"], env, tmp_path)
    server = ServerProcess(["serve"], env, tmp_path, tmp_path / "serve.log").start()
    try:
        headers, journey_id = _sign_in(server.base_url)
        morgan = _session(server.base_url, {"staff": "morgan"})
        ids = _staff_ids(server.base_url, morgan)
        api = _schemathesis(
            server.base_url,
            tmp_path,
            journey_id,
            *_as_options(headers),
            "--exclude-path",
            "/auth/demo",
            "--exclude-path",
            "/auth/sign-out",
            "--exclude-path-regex",
            STAFF_ONLY,
            staff=ids,
        )
        staff_api = _schemathesis(
            server.base_url,
            tmp_path,
            journey_id,
            *_as_options(morgan),
            "--include-path-regex",
            "^/api/v1/staff/(?!subjects/)",  # a subject's export is the auditor's, below
            staff=ids,
        )
        sign_in = _schemathesis(
            server.base_url, tmp_path, journey_id, "--include-path", "/auth/demo", staff=ids
        )
        # A session of its own: signing out must not end the session of the checks below.
        ending = _session(server.base_url)
        sign_out = _schemathesis(
            server.base_url,
            tmp_path,
            journey_id,
            *_as_options(ending),
            "--include-path",
            "/auth/sign-out",
            staff=ids,
        )
        ended = httpx.get(f"{server.base_url}/api/v1/journeys", headers=ending)
        # Whatever was sent, the journey can still be read.
        after = httpx.get(f"{server.base_url}/api/v1/journeys/{journey_id}", headers=headers)
        assert after.status_code == 200, after.text
        # Last, since revoking may end anyone's sessions: the auditor's log, the admin's revoke.
        audit = _schemathesis(
            server.base_url,
            tmp_path,
            journey_id,
            # A subject's export needs a second factor: Harper signs in with one.
            *_as_options(_session(server.base_url, {"staff": "harper", "method": "one_time_code"})),
            "--include-path-regex",
            "^/api/v1/(audit|staff/subjects/)",
            staff=ids,
        )
        revoke = _schemathesis(
            server.base_url,
            tmp_path,
            journey_id,
            # Releases need a second factor: Sasha signs in with one.
            *_as_options(_session(server.base_url, {"staff": "sasha", "method": "one_time_code"})),
            "--include-path-regex",
            "^/api/v1/admin/",
            staff=ids,
        )
    finally:
        server.stop()
    for run in (api, staff_api, sign_in, sign_out, audit, revoke):
        assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    for run in (api, staff_api, audit, revoke):
        assert "Authentication failed" not in run.stdout, run.stdout[-5000:]
    assert "Selected: 2/" in audit.stdout, audit.stdout[-5000:]  # the log and a subject's export
    # The session revocation and the three release operations.
    assert "Selected: 4/" in revoke.stdout, revoke.stdout[-5000:]
    assert "Selected: 17/" in staff_api.stdout, staff_api.stdout[-5000:]
    # The sign-out run was one: it signed its session out, and only its own.
    assert "Selected: 1/" in sign_out.stdout and "Tested: 1" in sign_out.stdout, sign_out.stdout
    assert ended.status_code == 401, ended.text


def test_every_error_in_the_document_is_problem_details(app: Any) -> None:
    """What the run checks, in short: each documented 4xx (and each API 5xx) is problem
    details with the Problem schema; FastAPI's own validation-error schema is gone."""
    document = app.openapi()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            if method in ("post", "patch"):
                assert {"400", "403", "413", "422", "429"} <= responses.keys(), (method, path)
            for status, response in responses.items():
                if status[0] == "4" or (status[0] == "5" and path.startswith("/api/")):
                    assert response["content"] == problem, (method, path, status)
    assert "HTTPValidationError" not in json.dumps(document)
