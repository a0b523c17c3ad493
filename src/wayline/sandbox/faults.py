"""Fault injection for the partner simulators: added latency, an error rate, outage windows.

Real partners fail in more than one way, so the simulators do too. A failed call either never
reaches the partner's logic (503, nothing done) or fails after it (502, the work done but the
answer lost): the second kind is what makes idempotency keys necessary, so tests meet it.
Faults are set from configuration at start and changed at run time through `/_sandbox/faults`.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Outage(BaseModel):
    start: datetime
    end: datetime


class FaultSettings(BaseModel):
    latency_ms: float = Field(0, ge=0, le=60_000, description="Added to every call.")
    jitter_ms: float = Field(0, ge=0, le=60_000, description="Random extra latency, up to this.")
    error_rate: float = Field(0, ge=0, le=1, description="Share of calls that fail.")
    after_effect_share: float = Field(
        0.5, ge=0, le=1, description="Of the failures, the share that fail after doing the work."
    )
    outages: list[Outage] = Field(default_factory=list)
    outage_seconds: float | None = Field(
        None, ge=0, description="Shortcut: an outage from now for this many seconds."
    )


@dataclass
class Faults:
    settings: FaultSettings = field(default_factory=FaultSettings)
    calls: int = 0
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _random: random.Random = field(default_factory=random.Random)

    def update(self, settings: FaultSettings) -> None:
        if settings.outage_seconds:
            now = datetime.now(UTC)
            window = Outage(start=now, end=now + timedelta(seconds=settings.outage_seconds))
            settings = settings.model_copy(
                update={"outages": [*settings.outages, window], "outage_seconds": None}
            )
        with self._lock:
            self.settings = settings

    def in_outage(self, now: datetime) -> bool:
        return any(window.start <= now < window.end for window in self.settings.outages)

    def draw(self) -> tuple[float, str | None]:
        """The delay for this call, and whether it fails: None, 'before' or 'after'."""
        with self._lock:
            self.calls += 1
            s = self.settings
            delay = (s.latency_ms + self._random.uniform(0, s.jitter_ms)) / 1000
            if self.in_outage(datetime.now(UTC)):
                self.failures += 1
                return delay, "before"
            if s.error_rate and self._random.random() < s.error_rate:
                self.failures += 1
                after = self._random.random() < s.after_effect_share
                return delay, "after" if after else "before"
            return delay, None


class FaultInjection:
    """ASGI middleware applying a simulator's faults to every call but its control routes."""

    def __init__(self, app: ASGIApp, faults: Faults):
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _inspection(scope):
            await self.app(scope, receive, send)
            return
        delay, failure = self.faults.draw()
        if delay:
            await asyncio.sleep(delay)
        if failure == "before":
            await _fail(send, 503, b'{"error": "service unavailable (simulated)"}')
            return
        if failure == "after":
            # Do the work, then lose the answer: the caller cannot tell whether it happened.
            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
            await _fail(send, 502, b'{"error": "bad gateway (simulated)"}')
            return
        await self.app(scope, receive, send)


INSPECTION_PATHS = {"/", "/messages", "/payouts", "/bookings"}


def _inspection(scope: Scope) -> bool:
    """Control routes and the read-only views people use to see what a partner holds (the
    messages page in the demo) are not the partner's API: faults never touch them."""
    path = scope["path"]
    if path.startswith(("/_sandbox", "/healthz")):
        return True
    return scope["method"] == "GET" and path in INSPECTION_PATHS


async def _fail(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
