"""Observability of real processes: `wayline serve` and `wayline worker`, with the standard
OTEL_EXPORTER_OTLP_ENDPOINT set, export their spans over OTLP/HTTP to a receiver on loopback
(decoded here with opentelemetry-proto), the JSON logs carry the ids of those spans, and the
worker serves its effect, queue, deadline and breaker metrics on WAYLINE_METRICS_PORT.

One claim is filed over HTTP against the partner simulators; the worker pays it. Three rows
are added to the outbox by hand: an effect that always fails (dead-lettered after its one
attempt), an effect of a kind no worker runs, due ten minutes ago (the queue's age), and a
payout deadline due in a minute whose payout is not done (at risk).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families
from reliability_kit import (
    WorkerProcess,
    effect_rows,
    file_cash_claim,
    payouts,
    wait_for,
    worker_env,
)

# isort: split
# (reliability_kit puts the integration tests' helpers on the path: it comes first.)
from journey_api import Api, ServerProcess, free_port

from wayline.journeys.engine import EffectRequest
from wayline.runtime.clock import SystemClock
from wayline.store import outbox

ERROR = 2  # the OTLP status code of a span that failed


class OtlpReceiver:
    """A minimal OTLP/HTTP trace receiver: POST /v1/traces with a protobuf body."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []  # (service.name, span)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.path != "/v1/traces":
                    self.send_response(404)
                    self.end_headers()
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.keep(request)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def keep(self, request: ExportTraceServiceRequest) -> None:
        with self.lock:
            for resource_spans in request.resource_spans:
                service = next(
                    a.value.string_value
                    for a in resource_spans.resource.attributes
                    if a.key == "service.name"
                )
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend((service, span) for span in scope_spans.spans)

    def named(self, prefix: str) -> list[Any]:
        with self.lock:
            return [span for _, span in self.spans if span.name.startswith(prefix)]


def attributes(span: Any) -> dict[str, Any]:
    values = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value"))
    return values


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    running = OtlpReceiver()
    running.thread.start()
    yield running
    running.server.shutdown()


class RecordingApi(Api):
    """The customer's API client, keeping every answer it sends (to look for in the spans)."""

    sent: list[dict[str, Any]]

    def step(self, journey: dict[str, Any], step: str, answers: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(answers)
        return super().step(journey, step, answers)


def test_serve_and_worker_export_spans_logs_and_metrics(
    sandbox, make_components, sqlite_url, connectors: Path, home: Path, tmp_path: Path, receiver
) -> None:
    components = make_components(sqlite_url)  # migrated; the processes share its database
    otlp = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # milliseconds: spans leave while the test waits
    }
    metrics_port = free_port()
    server_env = worker_env(home, sqlite_url, connectors, **otlp)
    server = ServerProcess(["serve"], server_env, tmp_path, tmp_path / "serve.log").start()
    worker: WorkerProcess | None = None
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            alex = RecordingApi(http).sign_in("alex")
            alex.sent = []
            claim = file_cash_claim(alex)
        _queue_by_hand(components, claim["id"])
        env = worker_env(
            home,
            sqlite_url,
            connectors,
            WAYLINE_METRICS_PORT=str(metrics_port),
            WAYLINE_EFFECT_MAX_ATTEMPTS="1",
            **otlp,
        )
        worker = WorkerProcess(env, tmp_path, tmp_path / "worker.log").start()
        wait_for(lambda: len(payouts(sandbox)) == 1, 60, "the claim is paid", worker=worker)
        wait_for(lambda: _poison_dead(components), 30, "the poison effect is dead", worker=worker)
        wait_for(
            lambda: receiver.named("effect call") and receiver.named("payment_provider POST"),
            30,
            "the worker's spans arrive",
            worker=worker,
        )
        wait_for(lambda: receiver.named("command submit_step"), 30, "the server's spans arrive")
        metrics = _scrape(metrics_port)
    finally:
        if worker is not None:
            worker.stop()
        server.stop()

    _assert_spans(receiver, alex.sent)
    _assert_logs_carry_span_ids(receiver, server.log(), worker.log())
    _assert_worker_metrics(metrics)


def _queue_by_hand(components: Any, journey_id: str) -> None:
    now = SystemClock().now()
    queued = (
        EffectRequest("notify", f"{journey_id}:notify:poison", {"template": "nope"}),
        EffectRequest("no_worker_runs_this", f"{journey_id}:stuck", {}),
        EffectRequest(
            "deadline",
            f"{journey_id}:owed:deadline",
            {"for": f"{journey_id}:owed", "kind": "payout", "due": now.isoformat()},
            not_before=now + timedelta(minutes=1),
        ),
    )
    with components.store.write() as connection:
        outbox.enqueue(connection, journey_id, queued[:2], now - timedelta(minutes=10))
        outbox.enqueue(connection, journey_id, queued[2:], now)


def _poison_dead(components: Any) -> bool:
    rows = effect_rows(components.store)
    return any(r["key"].endswith(":notify:poison") and r["status"] == "dead" for r in rows)


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _assert_spans(receiver: OtlpReceiver, sent: list[dict[str, Any]]) -> None:
    # A span per request, named by its route template, with the command as its child.
    (request,) = [
        s
        for s in receiver.named("POST /api/v1/journeys/{journey_id}/steps/{step}")
        if attributes(s)["http.response.status_code"] == 200
        and any(
            c.parent_span_id == s.span_id and attributes(c).get("wayline.step") == "incident"
            for c in receiver.named("command submit_step")
        )
    ]
    assert attributes(request)["http.route"] == "/api/v1/journeys/{journey_id}/steps/{step}"
    command = next(
        c for c in receiver.named("command submit_step") if c.parent_span_id == request.span_id
    )
    assert attributes(command)["wayline.command"] == "submit_step"
    assert len(attributes(command)["wayline.journey_id"]) == 26
    # The worker's effect and, inside it, the payout's partner call.
    effects = {s.span_id: s for s in receiver.named("effect call")}
    (payout,) = [s for s in receiver.named("payment_provider POST") if s.parent_span_id in effects]
    assert attributes(payout)["wayline.outcome"] == "ok"
    effect = effects[payout.parent_span_id]
    assert attributes(effect)["wayline.effect.kind"] == "call"
    assert attributes(effect)["wayline.effect.attempt"] == 1
    # The dead-lettered effect's span says it failed, by the error's type alone.
    (poison,) = [s for s in receiver.named("effect notify") if s.status.code == ERROR]
    assert attributes(poison)["error.type"] == "LookupError"
    # No answer the customer gave is in any span's attributes, nor any exception text.
    typed = {value for answers in sent for value in strings_in(answers) if len(value) >= 4}
    assert "sw1a1aa" in typed  # the incident postcode, say
    with receiver.lock:
        for _, span in receiver.spans:
            assert not [e for e in span.events if e.name == "exception"], span.name
            for key, value in attributes(span).items():
                leaked = [t for t in typed if isinstance(value, str) and t in value]
                assert not leaked, (span.name, key, value)


def _assert_logs_carry_span_ids(receiver: OtlpReceiver, serve_log: str, worker_log: str) -> None:
    with receiver.lock:
        spans = {(s.trace_id.hex(), s.span_id.hex()) for _, s in receiver.spans}
    for log in (serve_log, worker_log):
        lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        traced = [(line["trace_id"], line["span_id"]) for line in lines if "trace_id" in line]
        assert traced, log[-2000:]
        assert all(
            re.fullmatch("[0-9a-f]{32}", t) and re.fullmatch("[0-9a-f]{16}", s) for t, s in traced
        )
        assert set(traced) & spans, "no log line names a span that was exported"
    # The server stopped gracefully, so every span was flushed: each line names one of them.
    serve_lines = [json.loads(line) for line in serve_log.splitlines() if line.startswith("{")]
    assert all(
        (line["trace_id"], line["span_id"]) in spans for line in serve_lines if "trace_id" in line
    )
    requests = [json.loads(line) for line in serve_log.splitlines() if '"request"' in line]
    assert requests and all("trace_id" in line for line in requests)


def _assert_worker_metrics(samples: dict) -> None:
    def value(name: str, **labels: str) -> float | None:
        return samples.get((name, tuple(sorted(labels.items()))))

    assert value("wayline_effects_total", kind="call", result="done") >= 1
    assert value("wayline_effects_total", kind="notify", result="dead") == 1
    # The kind nobody runs has waited ten minutes (and more by the time of the scrape).
    age = value("wayline_effect_queue_age_seconds")
    assert age is not None and 600 <= age < 900, age
    assert value("wayline_deadlines_at_risk", kind="payout") == 1
    assert value("wayline_partner_breaker_open", partner="payment_provider") == 0
