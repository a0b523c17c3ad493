"""Per-client rate limits (web/rate_limits.py), on SQLite and PostgreSQL: a burst is answered
429 with Retry-After and changes nothing, a person's pace is never refused, one customer does
not use up another's budget, X-Forwarded-For is believed only from trusted proxies, counts are
shared by replicas through Redis, and the limits can be switched off."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cases_kit import case_of, referred, riley
from fastapi.testclient import TestClient
from journey_api import (
    ACTIVE_POLICY,
    OTHER_VEHICLE,
    PROBLEM,
    Api,
    field_of,
    incident,
    png_bytes,
)
from rate_limit_kit import start_redis

from wayline.bootstrap import Components
from wayline.config import Settings
from wayline.web.app import create_app
from wayline.web.rate_limits import RateLimitSettingsError

LimitedApp = Callable[..., Any]


@pytest.fixture
def limited_app(make_components: Callable[..., Components]) -> LimitedApp:
    """limited_app(**settings) → the application with rate limits on (the defaults unless
    overridden)."""

    def make(**overrides: Any) -> Any:
        return create_app(make_components(rate_limits=True, **overrides))

    return make


@pytest.fixture
def clients() -> Iterator[Callable[..., TestClient]]:
    """clients(app, address=...) → a TestClient of its own (own cookies, own address)."""
    opened: list[TestClient] = []

    def make(app: Any, address: str = "192.0.2.10") -> TestClient:
        http = TestClient(app, client=(address, 50000))
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()


def assert_too_many(response: Any, within: int) -> int:
    """A 429 with a Retry-After of whole seconds, 1 to `within`; returns it."""
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= within
    return retry_after


def sign_in_api(http: TestClient, customer: str = "alex") -> Any:
    return http.post("/auth/demo", json={"customer": customer})


# --- bursts are stopped, and change nothing ---------------------------------------------------


def test_a_burst_of_sign_ins_gets_429_with_retry_after(limited_app: LimitedApp, clients) -> None:
    app = limited_app()
    http = clients(app)
    for _ in range(10):  # the default: 10 a minute per address
        assert sign_in_api(http).status_code == 204
    http.cookies.clear()
    refused = sign_in_api(http)
    assert_too_many(refused, 60)
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["status"] == 429
    assert "Wait" in refused.json()["detail"]
    assert "set-cookie" not in refused.headers  # no session was started
    assert refused.headers["x-request-id"]  # the middleware stack still wraps the answer
    assert refused.headers["x-content-type-options"] == "nosniff"
    # The sign-in page shares the budget of the address, and answers with the error page.
    page = http.post("/sign-in", data={"customer": "alex"}, headers={"accept": "text/html"})
    assert_too_many(page, 60)
    assert page.headers["content-type"].startswith("text/html")
    assert "too many times" in page.text
    # Another address is not affected.
    assert sign_in_api(clients(app, "192.0.2.11")).status_code == 204


def test_a_burst_of_journey_starts_is_stopped_and_starts_nothing(
    limited_app: LimitedApp, clients
) -> None:
    app = limited_app()
    alex = Api(clients(app)).sign_in("alex")
    for _ in range(20):  # the default: 20 an hour per customer
        alex.start()
    assert_too_many(alex.post_journey(), 3600)
    # The start page counts against the same budget, and answers with the error page.
    token = alex.http.cookies.get("wayline_csrf")
    page = alex.http.post(
        "/start/motor-claim", data={"csrf_token": token}, headers={"accept": "text/html"}
    )
    assert_too_many(page, 3600)
    assert page.headers["content-type"].startswith("text/html")
    assert len(alex.list()) == 20


def test_step_draft_and_send_writes_share_one_limit(limited_app: LimitedApp, clients) -> None:
    app = limited_app(rate_limit_step_writes="4/minute")
    alex = Api(clients(app)).sign_in("alex")
    journey = alex.start()
    journey = alex.step(journey, "policy", {"policy_number": ACTIVE_POLICY["alex"]})
    draft = alex.draft(journey, "incident", {"description": "Reversing"})
    token = alex.http.cookies.get("wayline_csrf")
    # The page's autosave and the page's step post are the same kind of write.
    autosave = alex.http.post(
        f"/journeys/{journey['id']}/steps/incident/draft",
        data={"csrf_token": token, "revision": str(draft["revision"]), "description": "Rev"},
    )
    assert autosave.status_code == 200, autosave.text
    page_step = alex.http.post(
        f"/journeys/{journey['id']}/steps/incident",
        data={
            "csrf_token": token,
            "revision": str(autosave.json()["revision"]),
            "action": "save",
        },
        follow_redirects=False,
    )
    assert page_step.status_code == 303, page_step.text
    before = alex.journey(journey["id"])
    refused = alex.patch_step(journey["id"], "incident", {"description": "x"}, before["revision"])
    assert_too_many(refused, 60)
    assert_too_many(alex.post_step(journey["id"], "incident", incident(), before["revision"]), 60)
    assert_too_many(alex.post_submit(journey["id"], before["revision"]), 60)
    page = alex.http.post(
        f"/journeys/{journey['id']}/steps/incident",
        data={"csrf_token": token, "revision": str(before["revision"])},
        headers={"accept": "text/html"},
    )
    assert_too_many(page, 60)
    assert page.headers["content-type"].startswith("text/html")
    assert alex.journey(journey["id"]) == before  # nothing refused was written


def test_uploads_through_the_api_and_the_pages_share_one_limit(
    limited_app: LimitedApp, clients
) -> None:
    app = limited_app(rate_limit_uploads="3/minute")
    alex = Api(clients(app)).sign_in("alex")
    journey = through_photos(alex)
    kept = [alex.upload(journey, "damage_photos") for _ in range(2)]
    token = alex.http.cookies.get("wayline_csrf")
    # Without JavaScript, a step page sends its files with the form.
    page = alex.http.post(
        f"/journeys/{journey['id']}/steps/photos",
        data={"csrf_token": token, "revision": str(journey["revision"]), "action": "save"},
        files={"damage_photos": ("car.png", png_bytes(), "image/png")},
        follow_redirects=False,
    )
    assert page.status_code == 303, page.text
    refused = alex.post_document(journey["id"], "damage_photos", png_bytes())
    assert_too_many(refused, 60)
    page = alex.http.post(
        f"/journeys/{journey['id']}/steps/photos",
        data={"csrf_token": token, "revision": "0"},
        files={"damage_photos": ("car.png", png_bytes(), "image/png")},
        headers={"accept": "text/html"},
    )
    assert_too_many(page, 60)
    documents = alex.http.get(f"/api/v1/journeys/{journey['id']}/documents").json()
    assert len(documents) == 3 and {d["id"] for d in documents} >= set(kept)


def test_uploads_for_a_request_for_more_information_share_the_upload_limit(
    clients, make_components
) -> None:
    components = make_components(rate_limits=True, rate_limit_uploads="3/minute")
    app = create_app(components)
    jordan = Api(clients(app)).sign_in("jordan")
    journey_id = referred(components, jordan)  # one upload: a photo of the damage
    case_id = case_of(components, journey_id)["id"]
    components.cases.claim(riley(), case_id)
    task = components.cases.request_information(riley(), case_id, code="other_plate").id
    path = f"/api/v1/journeys/{journey_id}/tasks/{task}/documents"
    files = {"file": ("plate.png", png_bytes(), "image/png")}
    assert jordan.http.post(path, files=files).status_code == 201
    token = jordan.http.cookies.get("wayline_csrf")
    page = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{task}",
        data={"csrf_token": token},
        files={"files": ("plate.png", png_bytes(), "image/png")},
        follow_redirects=False,
    )
    assert page.status_code == 303, page.text
    second = components.cases.request_information(riley(), case_id, code="other_plate").id
    assert_too_many(
        jordan.http.post(f"/api/v1/journeys/{journey_id}/tasks/{second}/documents", files=files),
        60,
    )
    page = jordan.http.post(
        f"/journeys/{journey_id}/tasks/{second}",
        data={"csrf_token": token},
        files={"files": ("plate.png", png_bytes(), "image/png")},
        headers={"accept": "text/html"},
    )
    assert_too_many(page, 60)


def test_head_counts_as_get(limited_app: LimitedApp, clients) -> None:
    app = limited_app(rate_limit_sign_in_start="2/minute")
    http = clients(app)
    assert http.head("/staff/sign-in").status_code == 200
    assert http.get("/staff/sign-in").status_code == 200
    assert_too_many(http.head("/staff/sign-in"), 60)
    assert_too_many(http.get("/sign-in"), 60)


# --- whose budget -------------------------------------------------------------------------


def test_one_customer_does_not_use_up_anothers_budget(limited_app: LimitedApp, clients) -> None:
    app = limited_app(rate_limit_journey_start="2/hour")
    alex = Api(clients(app)).sign_in("alex")
    sam = Api(clients(app)).sign_in("sam")  # the same address: an office, a mobile NAT
    alex.start()
    alex.start()
    assert_too_many(alex.post_journey(), 3600)
    assert sam.post_journey().status_code == 201
    assert sam.post_journey().status_code == 201
    assert_too_many(sam.post_journey(), 3600)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(
    limited_app: LimitedApp, clients
) -> None:
    # Not trusted: whatever X-Forwarded-For says, the peer's address is what counts.
    app = limited_app(rate_limit_sign_in="2/minute")
    http = clients(app, "198.51.100.7")
    for n in range(2):
        forwarded = {"x-forwarded-for": f"203.0.113.{n}"}
        assert http.post("/auth/demo", json={"customer": "sam"}, headers=forwarded).is_success
    spoofed = http.post(
        "/auth/demo", json={"customer": "sam"}, headers={"x-forwarded-for": "203.0.113.99"}
    )
    assert_too_many(spoofed, 60)

    # Trusted (the proxy's network): each forwarded client has a budget of its own.
    app = limited_app(rate_limit_sign_in="2/minute", trusted_proxies="198.51.100.0/24")
    proxy = clients(app, "198.51.100.7")
    for _ in range(2):
        assert proxy.post(
            "/auth/demo", json={"customer": "sam"}, headers={"x-forwarded-for": "203.0.113.1"}
        ).is_success
    one = proxy.post(
        "/auth/demo", json={"customer": "sam"}, headers={"x-forwarded-for": "203.0.113.1"}
    )
    assert_too_many(one, 60)
    other = proxy.post(
        "/auth/demo", json={"customer": "sam"}, headers={"x-forwarded-for": "203.0.113.2"}
    )
    assert other.status_code == 204


# --- a person's pace ----------------------------------------------------------------------


def test_a_person_making_a_claim_is_never_refused(limited_app: LimitedApp, clients) -> None:
    """A claim with everything a careful person does, all within a minute (a person takes
    longer): mistakes, autosaves as they type, ten photos and two replaced; then a second claim
    started and signing in again. The default limits are on."""
    app = limited_app()
    http = clients(app)
    alex = Api(http).sign_in("alex")
    journey = alex.start()
    alex.refused(journey, "policy", {"policy_number": ""})
    journey = alex.step(journey, "policy", {"policy_number": ACTIVE_POLICY["alex"]})
    for typed in range(1, 16):  # autosave while typing the description
        alex.draft(journey, "incident", {"description": "Reversing out"[:typed]})
        journey = alex.journey(journey["id"])
    alex.refused(journey, "incident", incident("collision_vehicle", incident_postcode="?"))
    journey = alex.step(journey, "incident", incident("collision_vehicle"))
    journey = alex.step(journey, "other-vehicle", OTHER_VEHICLE)
    photos = [alex.upload(journey, "damage_photos") for _ in range(10)]
    alex.draft(journey, "photos", {"damage_photos": photos[2:]})  # two taken out
    journey = alex.journey(journey["id"])
    replaced = photos[2:] + [alex.upload(journey, "damage_photos") for _ in range(2)]
    journey = alex.step(journey, "photos", {"damage_photos": replaced})
    repairer = field_of(journey, "repairer_id")["options"][0]["value"]
    journey = alex.step(journey, "settlement", {"settlement": "repairer", "repairer_id": repairer})
    alex.submit(journey)
    alex.start()
    http.cookies.clear()
    Api(http).sign_in("alex")


# --- configuration ------------------------------------------------------------------------


def test_limits_switch_off_with_an_environment_variable(
    monkeypatch: pytest.MonkeyPatch, make_components: Callable[..., Components], clients
) -> None:
    monkeypatch.setenv("WAYLINE_RATE_LIMITS", "off")
    assert Settings().rate_limits is False
    app = create_app(make_components(rate_limits=Settings().rate_limits))
    http = clients(app)
    for _ in range(30):
        assert sign_in_api(http).status_code == 204


@pytest.mark.parametrize(
    "setting",
    [
        {"rate_limit_sign_in": "ten a minute"},
        {"rate_limit_uploads": "5/fortnight"},
        {"rate_limit_storage": "carrier-pigeon://loft"},
        {"rate_limit_storage": "async+memory://"},
    ],
)
def test_a_rate_or_store_that_cannot_be_used_stops_the_server(
    make_components: Callable[..., Components], setting: dict[str, str]
) -> None:
    components = make_components(rate_limits=True, **setting)
    with pytest.raises(RateLimitSettingsError, match="WAYLINE_RATE_LIMIT_"):
        create_app(components)


def test_replicas_share_counts_through_redis(limited_app: LimitedApp, clients, tmp_path) -> None:
    redis = start_redis(tmp_path / "redis")
    try:
        store = f"redis://127.0.0.1:{redis.port}"
        first = limited_app(rate_limit_storage=store, rate_limit_sign_in="3/minute")
        second = limited_app(rate_limit_storage=store, rate_limit_sign_in="3/minute")
        assert sign_in_api(clients(first)).status_code == 204
        assert sign_in_api(clients(second)).status_code == 204
        assert sign_in_api(clients(first)).status_code == 204
        assert_too_many(sign_in_api(clients(second)), 60)
        assert_too_many(sign_in_api(clients(first)), 60)
        # Each address has a budget of its own there too.
        assert sign_in_api(clients(second, "192.0.2.99")).status_code == 204
        # The store holds hashes, never an address.
        keys = redis.keys()
        assert keys and not any(re.search(r"192\.0\.2", key) for key in keys)
    finally:
        redis.stop()


def test_a_rate_limit_store_that_is_down_lets_requests_through(
    limited_app: LimitedApp,
    clients,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from journey_api import free_port

    app = limited_app(rate_limit_storage=f"redis://127.0.0.1:{free_port()}")
    http = clients(app)
    for _ in range(12):  # past the default limit, since nothing can be counted
        assert sign_in_api(http).status_code == 204
    # Logged as JSON to stdout, or to pytest's log capture when an earlier test in this
    # process left logging routed there: either way it is said.
    said = capsys.readouterr().out + caplog.text
    assert "rate_limit.storage_failed" in said


def through_photos(api: Api) -> dict[str, Any]:
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": ACTIVE_POLICY[api.customer or ""]})
    journey = api.step(journey, "incident", incident("glass"))
    assert journey["current_step"]["name"] == "photos"
    return journey


def test_a_session_store_that_is_down_is_still_a_503_not_a_500(
    limited_app: LimitedApp, clients, make_components: Callable[..., Components], tmp_path
) -> None:
    """Counting by customer looks the session up; when that fails, the request is counted by
    address and the route answers as it does without limits (503, retry later)."""
    import dataclasses
    import shutil

    from wayline.store import Store
    from wayline.store.database import make_engine

    components = make_components(rate_limits=True)
    alex = Api(clients(create_app(components))).sign_in("alex")
    folder = tmp_path / "gone"
    folder.mkdir()
    down = dataclasses.replace(
        components, store=Store(make_engine(f"sqlite:///{folder / 'wayline.db'}"))
    )
    shutil.rmtree(folder)
    try:
        copied = clients(create_app(down))
        copied.cookies.update(alex.http.cookies)
        copied.headers.update(alex.http.headers)
        answer = copied.post("/api/v1/journeys", json={"type": "motor-claim"})
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM)
    finally:
        down.store.engine.dispose()
