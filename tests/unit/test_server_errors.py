"""The last resort of web/server_errors.py: when even the error page cannot be built (it needs
the session, which may be what is broken), the answer is still a 500 with problem details."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from wayline.web.server_errors import ServerErrors


async def _failing_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("a bug")


def _broken_error_page(request: Request) -> Response:
    raise LookupError("the session store is down too")


def test_a_500_is_answered_even_when_its_error_page_fails() -> None:
    app = ServerErrors(_failing_app, respond=_broken_error_page)
    http = TestClient(app)  # no lifespan: this app is only the middleware and a failing route
    response = http.get("/anything", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal server error",
        "status": 500,
        "detail": "Something went wrong on our side. Please try again.",
    }
