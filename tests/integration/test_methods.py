"""Every route, asked with a method it does not take (OPTIONS included), answers 405 with an
`Allow` header naming exactly the methods its path takes, as problem details for the API and an
error page for a browser; HEAD works wherever GET does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from journey_api import PROBLEM, threaded_server

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
TRIED = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW"]
ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def _routes(app: Any) -> dict[str, set[str]]:
    """Each path template of the app (API, pages, operations, docs) and the methods its routes
    declare, read from the routing table itself so that a new route is covered too."""
    paths: dict[str, set[str]] = {}
    for route in iter_route_contexts(app.routes):
        if route.path and route.methods:
            paths.setdefault(route.path, set()).update(route.methods)
    return paths


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "01hzzzzzzzzzzzzzzzzzzzzzzz", template)


def _expected(methods: set[str]) -> str:
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())
    return ", ".join(m for m in ORDER if m in allowed)


def test_every_route_answers_other_methods_with_405_and_its_allow_header(app: Any) -> None:
    routes = _routes(app)
    assert len(routes) > 20  # API, pages, operations and docs are all in the table
    with TestClient(app) as http:
        for template, methods in routes.items():
            path = _concrete(template)
            for method in TRIED:
                if method in methods:
                    continue
                response = http.request(method, path)
                where = f"{method} {template}"
                assert response.status_code == 405, f"{where}: {response.status_code}"
                assert response.headers["allow"] == _expected(methods), where
                assert response.headers["x-request-id"], where


def test_a_path_served_by_two_routes_allows_both(app: Any) -> None:
    """PATCH saves a draft of a step and POST submits it: same path, two routes."""
    with TestClient(app) as http:
        response = http.options("/api/v1/journeys/01hzzzzzzzzzzzzzzzzzzzzzzz/steps/incident")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST, PATCH"
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["status"] == 405


def test_a_page_answers_405_with_an_error_page_and_the_allow_header(app: Any) -> None:
    with TestClient(app) as http:
        response = http.delete("/journeys", headers={"Accept": "text/html"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.headers["content-type"].startswith("text/html")
    assert "Sorry, there is a problem" in response.text


def test_static_files_answer_405_with_the_allow_header(app: Any) -> None:
    with TestClient(app) as http:
        response = http.put("/static/app.css", content=b"body{}")
        assert (response.status_code, response.headers["allow"]) == (405, "GET, HEAD")
        assert http.head("/static/app.css").status_code == 200


def test_head_works_wherever_get_does_and_sends_no_body(app: Any) -> None:
    with TestClient(app) as http:
        for template, methods in _routes(app).items():
            if "GET" not in methods:
                continue
            path = _concrete(template)
            get = http.get(path, follow_redirects=False)
            head = http.head(path, follow_redirects=False)
            assert head.status_code == get.status_code, template
            assert head.content == b"", template
            assert head.headers.get("content-type") == get.headers.get("content-type"), template


@pytest.mark.parametrize("http_parser", ["httptools", "h11"])
def test_head_on_a_real_server_keeps_the_connection_usable(app: Any, http_parser: str) -> None:
    """Over a real uvicorn, a HEAD answers with GET's status and headers and no body, and the
    same keep-alive connection then serves the next request (the server used to see GET while
    sending, expect the announced body and break the connection)."""
    import http.client
    from urllib.parse import urlsplit

    with threaded_server(app, http=http_parser) as base_url:
        port = urlsplit(base_url).port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for path in ("/healthz", "/sign-in", "/healthz"):
            connection.request("HEAD", path)
            response = connection.getresponse()
            assert response.status == 200, path
            assert int(response.headers["content-length"]) > 0, path
            assert response.read() == b"", path
            assert response.headers["x-request-id"], path
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        connection.close()
