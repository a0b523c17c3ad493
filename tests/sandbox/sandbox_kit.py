"""Helpers for the simulators' tests: keyed calls and fault settings."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


def key() -> str:
    return f"test-{uuid.uuid4().hex}"


def post(client: httpx.Client, path: str, body: Any = None, key_: str | None = None):
    """A changing call with an Idempotency-Key (a new one unless given)."""
    return client.post(path, json=body, headers={"Idempotency-Key": key_ or key()})


def faults(client: httpx.Client, **settings: Any) -> None:
    answer = client.put("/_sandbox/faults", json=settings)
    assert answer.status_code == 200, answer.text


def settings(client: httpx.Client, **chosen: Any) -> None:
    answer = client.put("/_sandbox/settings", json=chosen)
    assert answer.status_code == 200, answer.text
