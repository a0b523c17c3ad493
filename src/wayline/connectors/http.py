"""Calling partners reliably: timeouts, retries with jittered exponential backoff for calls that
are safe to repeat, a circuit breaker per partner, schema-checked answers, and a metric, a trace
span and a log line for every call. Never inside a database transaction (wayline.guards).
"""

from __future__ import annotations

import inspect
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import structlog
from prometheus_client import Counter, Gauge, Histogram
from pydantic import BaseModel, TypeAdapter, ValidationError

from wayline import guards, strict_json
from wayline.observability.tracing import start_span

log = structlog.get_logger("wayline.partners")

CALLS = Counter(
    "wayline_partner_calls_total", "Partner calls by partner and outcome.", ["partner", "outcome"]
)
DURATION = Histogram(
    "wayline_partner_call_duration_seconds",
    "Partner call duration.",
    ["partner"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BREAKER_OPEN = Gauge(
    "wayline_partner_breaker_open", "1 while a partner's breaker is open.", ["partner"]
)

T = TypeVar("T")


class PartnerError(Exception):
    """A partner could not give a usable answer. `reason` says why, in a word."""

    retry_after: float = 0.0

    def __init__(self, partner: str, reason: str, detail: str = ""):
        super().__init__(f"{partner}: {reason}{': ' + detail if detail else ''}")
        self.partner = partner
        self.reason = reason

    @property
    def postpone_seconds(self) -> float | None:
        """For the effect worker: a call refused by an open breaker did not reach the partner,
        so it should be tried later without using up one of its attempts."""
        return self.retry_after if self.reason == "circuit_open" else None


class PartnerRejected(PartnerError):
    """The partner answered, and said no (a 4xx): repeating the call will not help.

    The partner's answer is kept as `body` but left out of the message: the message is stored
    as an effect's last error and logged, and a partner may echo what it was sent (a
    validation error naming the account number it refused)."""

    def __init__(self, partner: str, status: int, body: str = ""):
        super().__init__(partner, f"rejected ({status})")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class PartnerConfig:
    name: str
    base_url: str
    connect_timeout: float = 1.0
    read_timeout: float = 3.0
    retries: int = 3
    backoff_base: float = 0.05
    backoff_max: float = 1.0
    breaker_failures: int = 5
    breaker_reset: float = 5.0
    token: str | None = None


class CircuitBreaker:
    """Closed: calls flow. After `threshold` failures in a row it opens and calls fail fast for
    `reset` seconds; then one trial call is let through (half-open): success closes it."""

    def __init__(
        self, name: str, threshold: int, reset: float, clock: Callable[[], float] = time.monotonic
    ):
        self.name = name
        self.threshold = threshold
        self.reset = reset
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial = False
        self._lock = threading.Lock()
        # Every configured partner has its series from the start (closed): a dashboard shows
        # it, and an alert on it is never blind for want of a first call.
        BREAKER_OPEN.labels(name).set(0)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self.opened_at >= self.reset else "open"

    def remaining(self) -> float:
        """Seconds until a trial call will be let through (0 when it may go now)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.reset - (self.clock() - self.opened_at)) + 0.05

    def allow(self) -> bool:
        with self._lock:
            state = self.state
            if state == "closed":
                return True
            if state == "half_open" and not self.trial:
                self.trial = True
                return True
            return False

    def succeeded(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self.trial = False
            BREAKER_OPEN.labels(self.name).set(0)

    def failed(self) -> None:
        with self._lock:
            self.failures += 1
            if self.trial or self.failures >= self.threshold:
                if self.opened_at is None:
                    log.warning("partner.breaker_opened", partner=self.name)
                self.opened_at = self.clock()
                self.trial = False
                BREAKER_OPEN.labels(self.name).set(1)


class PartnerClient:
    def __init__(
        self,
        config: PartnerConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.breaker = CircuitBreaker(config.name, config.breaker_failures, config.breaker_reset)
        headers = {"User-Agent": "wayline/0.1"}
        if config.token:
            headers["Authorization"] = f"Bearer {config.token}"
        self._client = httpx.Client(
            base_url=config.base_url,
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            headers=headers,
            transport=transport,
        )
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, schema: type[T], params: dict[str, Any] | None = None) -> T:
        return self.call("GET", path, schema, params=params, repeatable=True)

    def post(
        self,
        path: str,
        schema: type[T],
        body: Any,
        idempotency_key: str | None = None,
        repeatable: bool | None = None,
    ) -> T:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        safe = repeatable if repeatable is not None else idempotency_key is not None
        return self.call("POST", path, schema, json=body, headers=headers, repeatable=safe)

    def call(
        self, method: str, path: str, schema: type[T], *, repeatable: bool, **options: Any
    ) -> T:
        """One logical call: retried (when repeatable) until it succeeds or attempts run out.
        Never with a database transaction open in this thread (PartnerCallInTransaction: see
        wayline.guards): a slow partner would hold the transaction for as long."""
        guards.refuse_partner_call(self.config.name)
        attempts = self.config.retries + 1 if repeatable else 1
        last: PartnerError | None = None
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(method, path, schema, attempt, **options)
            except PartnerRejected:
                raise
            except PartnerError as error:
                last = error
                if error.reason == "circuit_open" or attempt == attempts:
                    break
                self._sleep(self._backoff(attempt))
        assert last is not None
        raise last

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.config.backoff_max, self.config.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # "full jitter": retries from many callers spread out

    def _attempt(self, method: str, path: str, schema: type[T], attempt: int, **options: Any) -> T:
        name = self.config.name
        if not self.breaker.allow():
            CALLS.labels(name, "circuit_open").inc()
            refused = PartnerError(name, "circuit_open")
            refused.retry_after = self.breaker.remaining()
            raise refused
        started = time.perf_counter()
        outcome = "ok"
        with start_span("wayline.connectors", f"{name} {method}") as span:
            span.set_attribute("wayline.partner", name)
            span.set_attribute("wayline.attempt", attempt)
            try:
                response = self._client.request(method, path, **options)
                span.set_attribute("http.status_code", response.status_code)
                result = self._read(response, schema)
            except PartnerRejected:
                outcome = "rejected"
                self.breaker.succeeded()  # it answered: the partner is up
                raise
            except PartnerError as error:
                outcome = error.reason
                self.breaker.failed()
                raise
            except httpx.TimeoutException:
                outcome = "timeout"
                self.breaker.failed()
                raise PartnerError(name, "timeout") from None
            except httpx.TransportError as error:
                outcome = "unreachable"
                self.breaker.failed()
                raise PartnerError(name, "unreachable", type(error).__name__) from None
            finally:
                elapsed = time.perf_counter() - started
                span.set_attribute("wayline.outcome", outcome)
                CALLS.labels(name, outcome).inc()
                DURATION.labels(name).observe(elapsed)
                log.info(
                    "partner.call",
                    partner=name,
                    method=method,
                    attempt=attempt,
                    outcome=outcome,
                    duration_ms=round(elapsed * 1000, 1),
                )
        self.breaker.succeeded()
        return result

    def _read(self, response: httpx.Response, schema: type[T]) -> T:
        """The answer's body as `schema` (a model, or any type pydantic reads: `dict`); a
        PartnerError when the partner is unavailable, or its answer is not what we expect."""
        name = self.config.name
        status = response.status_code
        if status == 429 or status >= 500:
            raise PartnerError(name, f"unavailable ({status})")
        if status >= 400:
            raise PartnerRejected(name, status, response.text[:200])
        try:
            # Strict: a NaN or a lone surrogate would be recorded in the journey and break it.
            body = strict_json.loads(response.content)
        except strict_json.UnsafeJson as unsafe:
            raise PartnerError(name, "bad_response", f"{unsafe.where} {unsafe.reason}") from None
        except ValueError:
            raise PartnerError(name, "bad_response", "not JSON") from None
        try:
            # A typing form (Model | None, Literal[...]) is read by TypeAdapter too, but is no
            # class: issubclass would raise on it, hence isclass first.
            if inspect.isclass(schema) and issubclass(schema, BaseModel):
                return schema.model_validate(body)
            return TypeAdapter(schema).validate_python(body)
        except ValidationError as error:
            detail = f"{error.error_count()} schema errors"
            raise PartnerError(name, "bad_response", detail) from None
