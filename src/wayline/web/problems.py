"""RFC 9457 problem details for every error the API returns, with field-level errors."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from wayline.documents.intake import Rejected
from wayline.errors import Conflict, Forbidden, IdempotencyMismatch, NotFound, Unavailable
from wayline.journeys.engine import Refused
from wayline.runtime.cases import HeldBy
from wayline.web.malformed import MalformedInput
from wayline.web.methods import allowed_methods
from wayline.web.pages.forms import TamperedForm
from wayline.web.uploads import Held

log = structlog.get_logger("wayline.http")
TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def wants_html(request: Request) -> bool:
    """Pages get an error page; the API and scripts get problem details."""
    path = request.url.path
    if path.startswith(("/api/", "/auth/")) or path.endswith("/draft"):
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "POST"


def error_response(
    request: Request,
    status: int,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    heading: str | None = None,
) -> Response:
    """An error page for a page request (under `heading`, or the status's usual one),
    problem details for the API and scripts."""
    if wants_html(request):
        from wayline.web.pages.render import render

        heading = heading or {404: "Page not found", 403: "Your session has expired"}.get(
            status, "Sorry, there is a problem"
        )
        response = render(request, "error.html", heading, status, heading=heading, message=detail)
        response.headers.update(headers or {})  # a page's 405 names Allow, its 401 the scheme
        return response
    return problem(status, detail, errors, headers)


def _location(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    issues = error.errors()
    if any(issue.get("type") == "json_invalid" for issue in issues):
        return problem(400, "The request body is not valid JSON")
    errors = []
    for issue in issues:
        field = _location(tuple(issue.get("loc", ())))
        message = issue.get("msg", "is not valid")
        if issue.get("type") == "extra_forbidden":
            message = "is not a field this request takes"
        elif issue.get("type") == "missing":
            message = "is required"
        errors.append({"field": field, "message": message})
    return problem(422, "The request has fields that are missing or not valid", errors)


def _refused(request: Request, error: Exception) -> Response:
    assert isinstance(error, Refused)
    errors = [{"field": e.field, "message": e.message} for e in error.errors]
    return error_response(request, error.status, error.detail, errors)


def _http(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    # Typed str by Starlette, but FastAPI's HTTPException takes any detail (a dict, say).
    raw_detail: object = error.detail
    detail = raw_detail if isinstance(raw_detail, str) else TITLES.get(error.status_code, "")
    if error.status_code == 404 and detail == "Not Found":
        detail = f"There is nothing at {request.url.path}"
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Every method of every route at this path, not only the first route's (web/methods).
        allowed = allowed_methods(request.app.router.routes, request.scope)
        headers["Allow"] = ", ".join(allowed)
        detail = f"{request.url.path} answers {', '.join(allowed)}, not {request.method}"
    return error_response(request, error.status_code, detail, headers=headers or None)


def _unavailable(request: Request, error: Exception) -> Response:
    """The database (or another dependency we cannot work without) is down: 503, retry later.
    Nothing was changed, since the transaction could not commit."""
    log.error("dependency.unavailable", error=type(error).__name__)
    response = error_response(
        request,
        503,
        "The service is busy or down for a moment. Nothing was changed; please try again shortly.",
    )
    response.headers["Retry-After"] = "5"
    return response


def _held(request: Request, error: Exception) -> Response:
    """An upload the scanner could not look at: kept but held, not usable; try again later."""
    assert isinstance(error, Held)
    return problem(
        503,
        error.reason,
        [{"field": "file", "message": error.reason}],
        headers={"Retry-After": "60"},
        document=error.document,
    )


def _forbidden(request: Request, error: Exception) -> Response:
    """The caller may see the thing but may not do this to it (a four-eyes refusal): 403 with
    the reason, which is not about the session (a CSRF 403 is)."""
    return error_response(request, 403, str(error), heading="You cannot do this")


def _held_by(request: Request, error: Exception) -> Response:
    """Someone else holds the case: 409 naming them, in `holder` too for the API."""
    assert isinstance(error, HeldBy)
    if wants_html(request):
        return error_response(request, 409, str(error))
    return problem(409, str(error), holder=error.holder)


def server_error(request: Request) -> Response:
    """The answer to an unhandled exception (a bug): an error page or problem details. The
    exception itself is caught and logged by web/server_errors.ServerErrors."""
    return error_response(request, 500, "Something went wrong on our side. Please try again.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(Unavailable, _unavailable)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(
        MalformedInput, lambda r, e: error_response(r, e.status_code, e.detail, e.errors)
    )
    app.add_exception_handler(NotFound, lambda r, e: error_response(r, 404, str(e)))
    app.add_exception_handler(Conflict, lambda r, e: error_response(r, 409, str(e)))
    app.add_exception_handler(HeldBy, _held_by)  # a Conflict: its own handler comes first
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(TamperedForm, lambda r, e: error_response(r, 400, str(e)))
    app.add_exception_handler(IdempotencyMismatch, lambda r, e: problem(422, str(e)))
    app.add_exception_handler(
        Rejected,
        lambda r, e: problem(422, str(e), [{"field": "file", "message": str(e)}], code=e.code),
    )
    app.add_exception_handler(Held, _held)
