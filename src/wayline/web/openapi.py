"""The OpenAPI document says what the server does, errors included.

FastAPI documents each route's own answers. What the shared parts of the stack answer for
every route is added here, once, rather than repeated on each route:

- every error is RFC 9457 problem details (`application/problem+json`, schema `Problem`),
  including the 422 that FastAPI would otherwise document as its own `application/json`
  validation error;
- a request with parameters or a body can be refused as not valid (422);
- a state change can be refused for its body (400 malformed, 413 too large), for its origin
  or CSRF token (403), and for its rate (429, with `Retry-After`);
- an API operation can find the database or a partner down (503, with `Retry-After`).

Checked against the running server by the schemathesis run (tests/integration/
test_openapi_contract.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from wayline.web.problems import TITLES

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details, with field-level errors where there are any.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
UNSAFE = {"post", "put", "patch", "delete"}
FASTAPI_VALIDATION = {"HTTPValidationError", "ValidationError"}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json and /docs) return the completed document."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_shared_answers(generate())
        return app.openapi_schema

    # FastAPI's documented way to extend its schema: replace the instance's method.
    app.openapi = openapi  # type: ignore[method-assign]


def with_shared_answers(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with the answers of the shared stack added to each operation."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in _shared_statuses(path, method, operation):
                responses.setdefault(str(status), {"description": TITLES.get(status, "Error")})
            for status, response in responses.items():
                if status[0] in "45":
                    _as_problem(status, response)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    return document


def _shared_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = []
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if method in UNSAFE:
        statuses += [400, 403, 413, 429]
    if path.startswith("/api/"):
        statuses.append(503)
    return statuses


def _as_problem(status: str, response: dict[str, Any]) -> None:
    """An error response documented as problem details (unless it says it is something else,
    as /readyz's JSON 503 does), with Retry-After where the server always sends one."""
    content = response.setdefault("content", {})
    documented = content.get("application/json", {}).get("schema", {}).get("$ref", "")
    if documented.rsplit("/", 1)[-1] in FASTAPI_VALIDATION:
        del content["application/json"]
    if not content or PROBLEM in content:
        content[PROBLEM] = {"schema": PROBLEM_REF}
        response["description"] = TITLES.get(int(status), response.get("description", ""))
    if status in ("429", "503") and PROBLEM in content:
        response.setdefault("headers", {}).update(RETRY_AFTER)
