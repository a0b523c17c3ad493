"""State changes from another site are refused with 403, even with a valid CSRF token; the
site's own pages and clients that send no Origin (curl, API clients) pass as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from journey_api import (
    CSRF_COOKIE,
    PROBLEM,
    Api,
    png_bytes,
    through_incident,
    without_events,
)

FOREIGN = [
    {"Origin": "https://evil.example"},
    {"Origin": "http://testserver.evil.example"},
    {"Origin": "http://evil.example@testserver"},  # not an origin at all: refused
    {"Origin": "https://testserver"},  # another scheme is another origin
    {"Origin": "http://testserver:8080"},  # and another port
    {"Origin": "null"},  # sandboxed frames, cross-site redirects
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://testserver"},
]
OWN = [
    {},  # curl and API clients send neither header
    {"Origin": "http://testserver"},
    {"Origin": "HTTP://TESTSERVER:80"},  # the same origin, written otherwise
    {"Origin": "http://localhost:8000"},  # WAYLINE_PUBLIC_URL (a proxy in front)
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"},
    {"Sec-Fetch-Site": "none"},  # typed in the address bar
]


@pytest.mark.parametrize(
    "headers", FOREIGN, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items())
)
def test_the_api_refuses_cross_site_state_changes_even_with_a_valid_token(
    sign_in: Callable[..., Api], headers: dict[str, str]
) -> None:
    alex = sign_in("alex")
    journey = through_incident(alex)
    attempts = [
        alex.post_journey(headers=headers),
        alex.patch_step(journey["id"], "other-vehicle", {}, journey["revision"], headers=headers),
        alex.post_step(journey["id"], "other-vehicle", {}, journey["revision"], headers=headers),
        alex.post_submit(journey["id"], journey["revision"], headers=headers),
        alex.http.post(
            f"/api/v1/journeys/{journey['id']}/documents",
            data={"field": "photos"},
            files={"file": ("photo.png", png_bytes(), "image/png")},
            headers=headers,
        ),
        alex.http.delete(f"/api/v1/journeys/{journey['id']}", headers=headers),
        alex.http.put(f"/api/v1/journeys/{journey['id']}", headers=headers),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert "another website" in response.json()["detail"]
    assert without_events(alex.journey(journey["id"])) == journey
    assert len(alex.list()) == 1


@pytest.mark.parametrize("headers", OWN, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_same_origin_and_origin_less_requests_pass(
    sign_in: Callable[..., Api], headers: dict[str, str]
) -> None:
    alex = sign_in("alex")
    created = alex.post_journey(headers=headers)
    assert created.status_code == 201, created.text
    # CSRF still applies to them: the same request without the token is refused.
    without = alex.post_journey(headers={**headers, "X-CSRF-Token": ""})
    assert without.status_code == 403
    assert "security token" in without.json()["detail"]


def test_pages_refuse_cross_site_forms_with_an_error_page(
    sign_in: Callable[..., Api], client: TestClient
) -> None:
    alex = sign_in("alex")
    journey = through_incident(alex)
    token = alex.http.cookies[CSRF_COOKIE]
    foreign = {"Origin": "https://evil.example", "Accept": "text/html"}
    posts: list[tuple[str, dict[str, Any]]] = [
        (f"/journeys/{journey['id']}/steps/incident", {"incident_postcode": "E1 6AN"}),
        ("/start/motor-claim", {}),
        ("/sign-out", {}),
    ]
    for path, form in posts:
        response = alex.http.post(
            path, data={**form, "csrf_token": token}, headers=foreign, follow_redirects=False
        )
        assert response.status_code == 403, f"{path}: {response.text}"
        assert response.headers["content-type"].startswith("text/html")
        assert "This request was refused" in response.text
    # Nothing changed, and the cross-site sign-out did not sign Alex out.
    assert without_events(alex.journey(journey["id"])) == journey
    assert len(alex.list()) == 1
    # A cross-site sign-in (login CSRF) is refused too.
    page = client.get("/sign-in")
    assert page.status_code == 200
    response = client.post(
        "/sign-in",
        data={"customer": "jordan", "csrf_token": client.cookies[CSRF_COOKIE]},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/api/v1/journeys").status_code == 401


def test_reads_from_another_site_are_not_refused(sign_in: Callable[..., Api]) -> None:
    """Only state changes are checked: a link from another site still opens our pages."""
    alex = sign_in("alex")
    response = alex.http.get("/journeys", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200
