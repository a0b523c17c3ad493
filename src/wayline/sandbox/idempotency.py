"""Idempotency keys at the partner: a changing call carries an `Idempotency-Key`; the same key
with the same request returns the first answer and changes nothing; the same key with another
request is refused (409) and changes nothing. Keys are kept per operation, as a partner keeps
them per endpoint."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse

IdempotencyKey = Annotated[str, Header(min_length=8, max_length=200)]
OptionalIdempotencyKey = Annotated[str | None, Header(min_length=8, max_length=200)]

Answer = tuple[int, dict[str, Any]]


def fingerprint(request: Any) -> str:
    """A stable digest of a request (path values and body), whatever its keys' order."""
    text = json.dumps(request, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class KeyedAnswers:
    """First answers by (operation, key). `answer` runs `work` at most once per key, under one
    lock, so two concurrent calls with a key cannot both do the work."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._answers: dict[tuple[str, str], tuple[str, Answer]] = {}

    def answer(
        self, operation: str, key: str | None, request: Any, work: Callable[[], Answer]
    ) -> JSONResponse:
        if key is None:  # a read-like call made without a key: nothing to remember
            status, body = work()
            return JSONResponse(body, status_code=status)
        digest = fingerprint(request)
        with self.lock:
            kept = self._answers.get((operation, key))
            if kept is not None:
                if kept[0] != digest:
                    return JSONResponse(
                        {
                            "error": "idempotency_key_reused",
                            "detail": "this Idempotency-Key was used with a different request",
                        },
                        status_code=409,
                    )
                status, body = kept[1]
                return JSONResponse(body, status_code=200 if status == 201 else status)
            status, body = work()
            self._answers[(operation, key)] = (digest, (status, body))
            return JSONResponse(body, status_code=status)
