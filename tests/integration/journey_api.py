"""Helpers for the integration tests: a thin client for the JSON API, answers that walk the
motor claim, small but real files to upload, and a real server (in a thread or a process).

Everything here speaks HTTP only: the `Api` wrapper works the same over a FastAPI TestClient
and over an httpx.Client pointed at a real server.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from pypdf import PdfWriter

REPO = Path(__file__).resolve().parents[2]
JOURNEYS_DIR = REPO / "journeys"
WAYLINE = Path(sys.executable).parent / "wayline"
PROBLEM = "application/problem+json"
CSRF_COOKIE = "wayline_csrf"
CSRF_HEADER = "X-CSRF-Token"
REFERENCE = r"^CLM-[A-Z2-9]{6}$"

DESCRIPTION = "Reversing out of a parking space, another car drove into my rear bumper."
ACTIVE_POLICY = {"alex": "MTR-100001", "sam": "MTR-100002", "jordan": "MTR-100004"}
REPAIRER_NAMES = {"Northside Motor Repairs", "Crown Accident Centre", "Parkway Body Shop"}


# --- dates (the server's clock is the real one: answers are relative to today, in UTC) -------


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def days_from_today(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


# --- answers ---------------------------------------------------------------------------------


def incident(incident_type: str = "glass", **overrides: Any) -> dict[str, Any]:
    """Valid answers for the `incident` step (driveable is not asked for theft)."""
    answers: dict[str, Any] = {
        "incident_date": days_from_today(-7),
        "incident_time": "14:30",
        "incident_type": incident_type,
        "incident_postcode": "sw1a1aa",
        "description": DESCRIPTION,
    }
    if incident_type != "theft":
        answers["driveable"] = True
    answers.update(overrides)
    return {k: v for k, v in answers.items() if v is not None}


OTHER_VEHICLE = {
    "other_driver_name": "Pat Jones",
    "other_registration": "xy21 zzz",
    "other_insurer": "Acme Insurance",
    "injuries": False,
}


# --- files: small, but real enough to decode and parse -------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size (grey pixels)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def jpeg_bytes(width: int = 8, height: int = 8) -> bytes:
    """A real JPEG (Pillow): the upload pipeline decodes every photo."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (128, 96, 64)).save(out, "JPEG")
    return out.getvalue()


def pdf_bytes() -> bytes:
    """A real one-page PDF (pypdf): the upload pipeline parses every PDF."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def elf_bytes() -> bytes:
    """The start of a Linux executable (ELF 64-bit, x86-64)."""
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


# --- the API client ----------------------------------------------------------------------------


class Api:
    """One signed-in customer (or nobody) talking to the JSON API."""

    def __init__(self, http: httpx.Client, customer: str | None = None):
        self.http = http
        self.customer = customer

    def sign_in(self, customer: str, method: str = "password") -> Api:
        """Sign in through the demo; `method` "one_time_code" is the stronger sign-in (level 2)
        that steps asking for a step-up need."""
        response = self.http.post("/auth/demo", json={"customer": customer, "method": method})
        assert response.status_code == 204, response.text
        self.customer = customer
        # API clients send the CSRF cookie's value back in a header on state changes.
        token = self.http.cookies.get(CSRF_COOKIE)
        if token:
            self.http.headers[CSRF_HEADER] = token
        return self

    # raw calls, returning the response

    def post_journey(self, journey_type: str = "motor-claim", **kwargs: Any) -> httpx.Response:
        return self.http.post("/api/v1/journeys", json={"type": journey_type}, **kwargs)

    def get_journey(self, journey_id: str) -> httpx.Response:
        return self.http.get(f"/api/v1/journeys/{journey_id}")

    def patch_step(
        self, journey_id: str, step: str, answers: Any, revision: Any, **kwargs: Any
    ) -> httpx.Response:
        body = {"answers": answers, "revision": revision}
        return self.http.patch(f"/api/v1/journeys/{journey_id}/steps/{step}", json=body, **kwargs)

    def post_step(
        self, journey_id: str, step: str, answers: Any, revision: Any, **kwargs: Any
    ) -> httpx.Response:
        body = {"answers": answers, "revision": revision}
        return self.http.post(f"/api/v1/journeys/{journey_id}/steps/{step}", json=body, **kwargs)

    def post_submit(
        self, journey_id: str, revision: Any, declaration: Any = True, **kwargs: Any
    ) -> httpx.Response:
        body = {"revision": revision, "declaration": declaration}
        return self.http.post(f"/api/v1/journeys/{journey_id}/submit", json=body, **kwargs)

    def post_document(
        self,
        journey_id: str,
        field: str,
        content: bytes,
        filename: str = "photo.png",
        content_type: str = "application/octet-stream",
    ) -> httpx.Response:
        return self.http.post(
            f"/api/v1/journeys/{journey_id}/documents",
            data={"field": field},
            files={"file": (filename, content, content_type)},
        )

    # checked calls, returning the journey

    def start(self, journey_type: str = "motor-claim") -> dict[str, Any]:
        response = self.post_journey(journey_type)
        assert response.status_code == 201, response.text
        return response.json()

    def journey(self, journey_id: str) -> dict[str, Any]:
        response = self.get_journey(journey_id)
        assert response.status_code == 200, response.text
        return response.json()

    def list(self) -> list[dict[str, Any]]:
        response = self.http.get("/api/v1/journeys")
        assert response.status_code == 200, response.text
        return response.json()

    def step(self, journey: dict[str, Any], step: str, answers: dict[str, Any]) -> dict[str, Any]:
        """Submit a step at the journey's revision; it must be accepted."""
        response = self.post_step(journey["id"], step, answers, journey["revision"])
        assert response.status_code == 200, f"{step}: {response.status_code} {response.text}"
        body = response.json()
        assert body["revision"] == journey["revision"] + 1
        return body

    def refused(
        self, journey: dict[str, Any], step: str, answers: dict[str, Any], status: int = 422
    ) -> dict[str, str]:
        """Submit a step that must be refused; return {field: message}. Nothing changes."""
        response = self.post_step(journey["id"], step, answers, journey["revision"])
        assert response.status_code == status, f"{step}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith(PROBLEM)
        after = self.journey(journey["id"])
        assert after["revision"] == journey["revision"]
        assert after["answers"] == journey["answers"]
        return {error["field"]: error["message"] for error in response.json().get("errors", [])}

    def draft(self, journey: dict[str, Any], step: str, answers: dict[str, Any]) -> dict[str, Any]:
        response = self.patch_step(journey["id"], step, answers, journey["revision"])
        assert response.status_code == 200, f"{step}: {response.status_code} {response.text}"
        return response.json()

    def submit(self, journey: dict[str, Any]) -> dict[str, Any]:
        response = self.post_submit(journey["id"], journey["revision"], True)
        assert response.status_code == 200, response.text
        return response.json()

    def upload(
        self,
        journey: dict[str, Any],
        field: str,
        content: bytes | None = None,
        filename: str = "photo.png",
    ) -> str:
        response = self.post_document(
            journey["id"], field, png_bytes() if content is None else content, filename
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]


def without_events(journey: dict[str, Any]) -> dict[str, Any]:
    """A journey read back (GET) as a command answers it: without the event log."""
    return {key: value for key, value in journey.items() if key != "events"}


def field_of(journey: dict[str, Any], name: str) -> dict[str, Any]:
    """A field of the journey's current step, as the API presents it."""
    assert journey["current_step"] is not None, "the journey has no current step"
    for spec in journey["current_step"]["fields"]:
        if spec["name"] == name:
            return spec
    raise AssertionError(f"no field {name} on step {journey['current_step']['name']}")


# The event types this issue defines; later issues add others (check.completed, decision.made,
# payment.sent, ...) between them, which the comparisons here leave out.
CORE_EVENTS = {
    "journey.started",
    "step.saved",
    "step.completed",
    "answer.changed",
    "journey.submitted",
}


def core_events(journey: dict[str, Any]) -> list[dict[str, Any]]:
    return [event for event in journey["events"] if event["type"] in CORE_EVENTS]


def event_types(journey: dict[str, Any]) -> list[str]:
    return [event["type"] for event in core_events(journey)]


def event_trail(journey: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(event["type"], event.get("step")) for event in core_events(journey)]


def through_incident(api: Api, incident_type: str = "glass", **overrides: Any) -> dict:
    """A new journey with the policy and incident steps answered."""
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": ACTIVE_POLICY[api.customer or ""]})
    return api.step(journey, "incident", incident(incident_type, **overrides))


# --- real servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(base_url: str, timeout: float, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before it was up")
        try:
            response = httpx.get(f"{base_url}/healthz", timeout=1.0)
            if response.status_code == 200:
                return
        except httpx.HTTPError as error:
            last = error
        time.sleep(0.05)
    raise AssertionError(f"{base_url}/healthz did not answer within {timeout}s: {last!r}")


@contextlib.contextmanager
def threaded_server(app: Any, **options: Any) -> Iterator[str]:
    """A real uvicorn server for `app` on a free loopback port, in a background thread;
    `options` go to uvicorn.Config (for instance `http="h11"`)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive(), "the uvicorn thread died while starting"
            assert time.monotonic() < deadline, "uvicorn did not start within 10s"
            time.sleep(0.01)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def server_env(home: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAYLINE_")}
    env.update(
        WAYLINE_HOME=str(home),
        WAYLINE_DEMO="true",
        WAYLINE_SECRET_KEY="x",
        WAYLINE_DATABASE_URL=database_url,
        WAYLINE_JOURNEYS_DIR=str(JOURNEYS_DIR),
        WAYLINE_RATE_LIMITS="off",  # limits have tests of their own
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


class ServerProcess:
    """`wayline serve` (or `wayline demo`) as a real process, its output kept in a file."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path, output: Path):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.args = [str(WAYLINE), *args, "--host", "127.0.0.1", "--port", str(self.port)]
        self.env = env
        self.cwd = cwd
        self.output = output
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> ServerProcess:
        with open(self.output, "ab") as out:
            self.process = subprocess.Popen(
                self.args, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_until_healthy(self.base_url, timeout, self.process)
        except AssertionError:
            self.stop()
            raise AssertionError(self.output.read_text(errors="replace")[-4000:]) from None
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, nothing graceful."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.output.read_text(errors="replace")


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(WAYLINE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result
