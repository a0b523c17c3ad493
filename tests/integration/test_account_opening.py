"""The account-opening journey (journeys/account-opening.yaml) through the API and the effect
worker, on SQLite and PostgreSQL, with every partner a real HTTP service on loopback (the
sandbox): a visitor starts without signing in, saves by verifying their email, comes back by
the emailed link, adds previous addresses covering three years, passes the identity check
and screening, and sees the account core banking opened; the journey passes to the customer
it created. The branches: referrals by the applicant's last name (the sandbox's situations),
an email core banking knows, the branch or video route, and an identity partner that is down.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from canary_kit import (
    assert_home_clean_and_private,
    assert_logs_clean,
    assert_nothing_at_rest,
    assert_sealing_on,
)
from fastapi.testclient import TestClient
from journey_api import CSRF_COOKIE, CSRF_HEADER, Api, jpeg_bytes

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.identity.audit import AuditLog
from wayline.runtime.clock import FixedClock
from wayline.sandbox.server import Sandbox
from wayline.sandbox.wiring import demo_options
from wayline.store import answers as answer_rows
from wayline.store import events as event_log
from wayline.web.app import create_app

JOURNEY = "account-opening"
REFERRED = "Application received. We will email you within 2 working days."


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox().start()
    # Identity checks finish at once, so a test need not wait the simulator's 3 seconds.
    url = running.urls()["identity_verification"]
    assert httpx.put(f"{url}/_sandbox/settings", json={"check_seconds": 0}).status_code == 200
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def calm(sandbox: Sandbox) -> Iterator[None]:
    for url in sandbox.urls().values():
        httpx.put(f"{url}/_sandbox/faults", json={})
    yield
    for url in sandbox.urls().values():
        httpx.put(f"{url}/_sandbox/faults", json={})


@pytest.fixture
def system(
    make_settings: Callable[..., Settings], sandbox: Sandbox, tmp_path: Path
) -> Iterator[Components]:
    connectors = tmp_path / "connectors.yaml"
    connectors.write_text(
        yaml.safe_dump(
            {
                "defaults": {"retries": 1, "backoff_base": 0.001, "backoff_max": 0.005},
                "partners": {name: {"base_url": url} for name, url in sandbox.urls().items()},
            }
        )
    )
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    components = build(
        make_settings(connectors=connectors),
        migrate=True,
        clock=clock,
        **demo_options(in_process_sources=False),
    )
    yield components
    components.store.engine.dispose()
    if components.partners:
        components.partners.close()


@pytest.fixture
def browser(system: Components) -> Iterator[Callable[[], TestClient]]:
    """browser() → a new client with no cookies: a new person."""
    app = create_app(system)
    opened: list[TestClient] = []

    def make() -> TestClient:
        http = TestClient(app)
        opened.append(http)
        return http

    yield make
    for http in opened:
        http.close()


def drain(system: Components, rounds: int = 40) -> None:
    worker = system.worker(base_delay=0.001)
    for _ in range(rounds):
        if worker.run_due() == 0:
            return


def carry_csrf(http: TestClient) -> None:
    http.headers[CSRF_HEADER] = http.cookies.get(CSRF_COOKIE) or ""


def months_ago(months: int) -> str:
    today = date.today()
    index = today.year * 12 + today.month - 1 - months
    return f"{index // 12}-{index % 12 + 1:02d}-01"


def unique_name() -> str:
    return "Sam" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))


def new_email() -> str:
    return f"applicant-{uuid.uuid4().hex[:10]}@example.com"


def start(http: TestClient) -> dict[str, Any]:
    response = http.post("/api/v1/visitor/journeys", json={"type": JOURNEY})
    assert response.status_code == 201, response.text
    carry_csrf(http)
    return response.json()


def sent_to(sandbox: Sandbox, email: str) -> list[dict[str, Any]]:
    messages = httpx.get(f"{sandbox.urls()['notification_provider']}/messages").json()
    return [message for message in messages if message["to"] == email]


def found(sandbox: Sandbox, email: str, pattern: str) -> str:
    matches = [re.search(pattern, m["body"]) for m in sent_to(sandbox, email)]
    values = [match.group(1) for match in matches if match]
    assert values, f"nothing like {pattern} was sent"
    return values[-1]


def items_url(journey: dict[str, Any], step: str) -> str:
    return f"/api/v1/journeys/{journey['id']}/steps/{step}/items"


def step_with_call(api: Api, journey: dict[str, Any], step: str, answers: dict) -> dict:
    """A step whose partner call runs before the applicant goes on: its result is a second
    revision, so the answer's revision is one or two on."""
    response = api.post_step(journey["id"], step, answers, journey["revision"])
    assert response.status_code == 200, f"{step}: {response.status_code} {response.text}"
    return dict(response.json())


def add_item(api: Api, journey: dict[str, Any], step: str, item: dict[str, Any]) -> dict:
    body = {"answers": item, "revision": journey["revision"]}
    response = api.http.post(items_url(journey, step), json=body)
    assert response.status_code == 200, response.text
    return response.json()


def about(last_name: str = "Walker", **overrides: Any) -> dict[str, Any]:
    return {
        "salutation": "mx",
        "first_name": "Sam",
        "last_name": last_name,
        "date_of_birth": "1968-05-14",
        "nationality": "british",
        "known_by_other_name": False,
        "tax_elsewhere": False,
        **overrides,
    }


def until_contact(api: Api, last_name: str = "Walker") -> dict[str, Any]:
    journey = start(api.http)
    journey = api.step(journey, "eligibility", {"is_adult": True, "uk_resident": True})
    # A first name of its own: the identity simulator counts each person's attempts.
    return api.step(journey, "about-you", about(last_name, first_name=unique_name()))


def from_address(
    api: Api,
    journey: dict[str, Any],
    *,
    route: str = "photo_check",
    moved_in: str | None = None,
) -> dict[str, Any]:
    """The rest of the application, from the home address to the overdraft (sam's story)."""
    home = {
        "address_line_1": "12 Harbour Road",
        "town": "Bristol",
        "home_postcode": "BS1 4RN",
        "home_moved_in": moved_in or months_ago(8),
    }
    journey = api.step(journey, "address", home)
    if journey["current_step"]["name"] == "previous-addresses":
        for line, town, postcode, months in (
            ("3 Abbey Street", "Bath", "BA1 1SU", 18),
            ("40 Queen Street", "Cardiff", "CF10 2GP", 30),
            ("7 Stonegate", "York", "YO1 7HH", 50),
        ):
            journey = add_item(
                api,
                journey,
                "previous-addresses",
                {
                    "in_uk": True,
                    "previous_line_1": line,
                    "previous_town": town,
                    "previous_postcode": postcode,
                    "previous_moved_in": months_ago(months),
                },
            )
        journey = api.step(journey, "previous-addresses", {})
    journey = api.step(
        journey,
        "employment",
        {
            "employment_status": "employed",
            "occupation_group": "soc2",
            "annual_income": "48000",
            "monthly_pay_in": "up_to_3000",
            "source_of_funds": ["pay"],
        },
    )
    identity: dict[str, Any] = {"document_type": "passport", "identity_route": route}
    if route == "photo_check":
        identity["document_front"] = [api.upload(journey, "document_front", jpeg_bytes(), "p.jpg")]
        identity["selfie"] = [api.upload(journey, "selfie", jpeg_bytes(), "me.jpg")]
    journey = step_with_call(api, journey, "identity", identity)
    journey = api.step(journey, "choose-account", {"account_type": "everyday"})
    return api.step(journey, "overdraft", {"wants_overdraft": False})


def apply(
    browser: Callable[[], TestClient], last_name: str, email: str | None = None, **kw: Any
) -> tuple[Api, dict[str, Any]]:
    api = Api(browser())
    journey = until_contact(api, last_name)
    contact = {"email_address": email or new_email(), "mobile": "07700 900982"}
    journey = step_with_call(api, journey, "contact", contact)
    return api, from_address(api, journey, **kw)


def texts(journey: dict[str, Any]) -> str:
    return " ".join(block["text"] for block in journey["progress"])


# --- the "done when" ------------------------------------------------------------


def test_a_new_applicant_leaves_comes_back_by_the_link_and_sees_their_account_number(
    browser, sandbox, system
):
    first = Api(browser())
    journey = until_contact(first)
    email = new_email()
    journey = step_with_call(
        first, journey, "contact", {"email_address": email, "mobile": "07700 900982"}
    )
    assert journey["answers"]["mobile"] == "+447700900982"
    # They verify their email with the six-digit code, and leave.
    code_url = f"/api/v1/journeys/{journey['id']}/email"
    assert first.http.post(f"{code_url}/code", json={"email": email}).status_code == 202
    code = found(sandbox, email, r"code is (\d{6})")
    verify = first.http.post(f"{code_url}/verify", json={"email": email, "code": code})
    assert verify.status_code == 200, verify.text
    link = found(sandbox, email, r"/resume/(\S+)")

    # Later, in another browser, by the emailed link: their answers are there.
    later = browser()
    resumed = later.post("/api/v1/visitor/resume", json={"link": link})
    assert resumed.status_code == 200, resumed.text
    carry_csrf(later)
    api = Api(later)
    journey = api.journey(journey["id"])
    assert journey["answers"]["last_name"] == "Walker"
    assert journey["current_step"]["name"] == "address"

    journey = from_address(api, journey)
    addresses = journey["answers"]["previous_addresses"]
    assert [a["previous_postcode"] for a in addresses] == ["BA1 1SU", "CF10 2GP", "YO1 7HH"]
    assert journey["effects"]["identity"]["status"] == "done"
    sent = api.submit(journey)
    assert sent["status"] == "submitted" and sent["reference"].startswith("ACC-")
    drain(system)

    # The journey passed to the customer core banking created: the visitor keeps the status page.
    assert later.get(f"/api/v1/journeys/{journey['id']}").status_code == 404
    status = later.get(f"/journeys/{journey['id']}/status")
    assert status.status_code == 200
    opened = httpx.get(f"{sandbox.urls()['core_banking']}/customers", params={"email": email})
    customer_id = opened.json()["customers"][0]["customer_id"]
    entries = AuditLog(system.store, system.clock).entries(action="owner_changed")
    assert [e.details["to"] for e in entries if e.target_id == journey["id"]] == [customer_id]
    number = re.search(r"account number\s+(\d{8})", status.text)
    assert number, status.text
    assert "Your account is open" in status.text and "Sort code 20-00-00" in status.text
    assert "Completed" in status.text or "completed" in status.text


# --- branches ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "last_name", ["Refer", "Fail", "Retake", "Mismatch", "Politico", "Sanction"]
)
def test_an_applicant_the_checks_cannot_clear_is_referred_and_told_it_was_received(
    browser, system, last_name
):
    api, journey = apply(browser, last_name)
    api.submit(journey)
    drain(system)
    after = api.journey(journey["id"])
    assert after["status"] == "in_review"
    assert after["outcome"]["outcome"] == "referred"
    # The applicant is never told which check referred them (tipping off).
    assert after["outcome"]["reasons"] == ["We need to look at your application more closely"]
    assert REFERRED in texts(after)
    # Nothing was created in core banking.
    assert after["effects"].get("customer", {}).get("status", "none") == "none"


def test_a_clear_applicant_is_approved_and_sees_the_account_in_the_api(browser, system):
    api, journey = apply(browser, "Clearwater")
    api.submit(journey)
    drain(system)
    # The journey passed to its customer: read it as them through the store's view.
    assert api.http.get(f"/api/v1/journeys/{journey['id']}").status_code == 404
    page = api.http.get(f"/journeys/{journey['id']}/status")
    assert "Your account is open" in page.text


def test_an_email_core_banking_knows_is_told_and_referred(browser, system):
    api = Api(browser())
    journey = until_contact(api)
    journey = step_with_call(
        api, journey, "contact", {"email_address": "alex@example.com", "mobile": "07700900982"}
    )
    assert journey["current_step"]["name"] == "address"
    words = [block["text"] for block in journey["current_step"]["content"]]
    assert any("You already bank with us" in text for text in words)
    journey = from_address(api, journey)
    api.submit(journey)
    drain(system)
    assert api.journey(journey["id"])["outcome"]["outcome"] == "referred"


def test_the_branch_or_video_route_is_referred_with_that_reason(browser, system):
    api, journey = apply(browser, "Walker", route="in_person")
    assert "document_front" not in journey["answers"]
    api.submit(journey)
    drain(system)
    after = api.journey(journey["id"])
    assert after["outcome"]["reasons"] == [
        "You chose to prove your identity in a branch or on a video call"
    ]


def test_an_identity_partner_that_is_down_lets_them_go_on_and_the_outbox_finishes(
    browser, sandbox, system
):
    url = sandbox.urls()["identity_verification"]
    httpx.put(f"{url}/_sandbox/faults", json={"error_rate": 1.0})
    api, journey = apply(browser, "Walker")
    assert journey["current_step"]["name"] == "check-answers"
    assert journey["effects"]["identity"]["status"] == "pending"
    httpx.put(f"{url}/_sandbox/faults", json={})
    drain(system)
    assert api.journey(journey["id"])["effects"]["identity"]["status"] == "done"


def test_a_home_address_older_than_three_years_asks_for_no_previous_address(browser):
    api = Api(browser())
    journey = until_contact(api)
    journey = step_with_call(
        api, journey, "contact", {"email_address": new_email(), "mobile": "07700900982"}
    )
    journey = api.step(
        journey,
        "address",
        {
            "address_line_1": "1 Long Lane",
            "town": "Leeds",
            "home_postcode": "LS1 4AP",
            "home_moved_in": months_ago(40),
        },
    )
    assert journey["current_step"]["name"] == "employment"


# --- what is refused, with the spec's words -------------------------------------------------


def test_answers_are_refused_with_what_to_fix(browser):
    api = Api(browser())
    journey = start(api.http)
    assert api.refused(journey, "eligibility", {"is_adult": False, "uk_resident": True})[
        "is_adult"
    ].startswith("You must be 18 or over")
    journey = api.step(journey, "eligibility", {"is_adult": True, "uk_resident": True})
    young = about(date_of_birth=f"{date.today().year - 17}-01-01")
    assert api.refused(journey, "about-you", young) == {
        "date_of_birth": "You must be 18 or over to open this account"
    }
    long = about(last_name="A" * 51)
    assert api.refused(journey, "about-you", long) == {
        "last_name": "Last name must be 50 characters or fewer"
    }
    assert api.refused(journey, "about-you", about(first_name=""))["first_name"] == (
        "Enter your first name"
    )
    journey = api.step(journey, "about-you", about())
    bad = {"email_address": "not-an-email", "mobile": "12"}
    assert api.refused(journey, "contact", bad) == {
        "email_address": "Enter an email address in the correct format, like name@example.com",
        "mobile": "Enter a mobile number, like 07700 900 982 or +44 7700 900 982",
    }


def test_previous_addresses_must_cover_three_years(browser):
    api = Api(browser())
    journey = until_contact(api)
    journey = step_with_call(
        api, journey, "contact", {"email_address": new_email(), "mobile": "07700900982"}
    )
    journey = api.step(
        journey,
        "address",
        {
            "address_line_1": "12 Harbour Road",
            "town": "Bristol",
            "home_postcode": "BS1 4RN",
            "home_moved_in": months_ago(8),
        },
    )
    assert api.refused(journey, "previous-addresses", {}) == {
        "previous_addresses": "Add your previous address"
    }
    item = {
        "in_uk": False,
        "previous_line_1": "Rue 1",
        "previous_town": "Lyon",
        "previous_country": "France",
        "previous_moved_in": months_ago(18),
    }
    journey = add_item(api, journey, "previous-addresses", item)
    assert api.refused(journey, "previous-addresses", {}) == {
        "previous_addresses": "Add your addresses until they cover the last 3 years"
    }
    later = {**item, "previous_moved_in": months_ago(2)}
    body = {"answers": later, "revision": journey["revision"]}
    response = api.http.post(items_url(journey, "previous-addresses"), json=body)
    assert response.status_code == 422
    assert "before you moved to your home address" in response.text


def test_an_overdraft_is_asked_in_steps_of_50_pounds(browser):
    api, journey = apply(browser, "Walker")
    refused = api.refused(
        journey, "overdraft", {"wants_overdraft": True, "overdraft_requested": "125"}
    )
    assert refused == {"overdraft_requested": "Enter an amount in steps of £50"}
    refused = api.refused(
        journey, "overdraft", {"wants_overdraft": True, "overdraft_requested": "3000"}
    )
    assert refused == {"overdraft_requested": "Enter an amount between £50 and £2,500"}
    premier = api.refused(journey, "choose-account", {"account_type": "premier"})
    assert premier == {"account_type": "The premier account is for incomes of £75,000 or more"}


# --- data protection: what an applicant types is sealed everywhere it is kept -----------------

CANARY_ABOUT = {
    "middle_names": "Quillonby",
    "last_name": "Canarywood",
    "date_of_birth": "1961-07-23",
    "known_by_other_name": True,
    "tax_elsewhere": True,
}
CANARY_PREVIOUS_NAME = {
    "previous_first_name": "Ottolinde",
    "previous_last_name": "Featherquill",
    "used_until": "1999-03-17",
}
CANARY_TAX = {"tax_country": "Zemblanova", "tax_id": "ZMX-99-QV-7731"}
CANARY_MOBILE = ("07700 900417", "+447700900417")
CANARY_HOME = {
    "address_line_1": "44 Vantablack Row",
    "address_line_2": "Xanthicombe Mews",
    "town": "Wyvernholt Canary",
    "home_postcode": "ZX9 4QJ",
}
CANARY_PREVIOUS_UK = {
    "in_uk": True,
    "previous_line_1": "9 Ottermoor Drift",
    "previous_town": "Quenchwell",
    "previous_postcode": "QZ3 7WX",
}
CANARY_PREVIOUS_ABROAD = {
    "in_uk": False,
    "previous_line_1": "Rue Canaryvelle 12",
    "previous_town": "Lyonnaxe",
    "previous_country": "Zembla Canaria",
}
CANARY_INCOME = "48213.77"  # as kept: five figures before the point, unlike any time of day


def test_what_an_applicant_types_is_nowhere_in_clear_at_rest_or_in_the_logs(
    browser, sandbox, system, capfd, production_logs
):
    """The canaries (docs/data-protection.md): an applicant's names (and a previous one), birth
    date, tax residence, email and mobile, home and previous addresses and income, sent to
    the identity, screening and core banking partners, read back through the API, yet found in
    no table, no SQLite file, no file of the data folder and no log line, before and after the
    journey passed to the customer core banking created."""
    assert_sealing_on(system)
    # Each run an address of its own: core banking refers an email it already knows.
    email = f"zephyrine.canarywood.{uuid.uuid4().hex[:10]}@canary-mail.example"
    first_name = "Zephyrine" + "".join(random.choice(string.ascii_lowercase) for _ in range(6))
    api = Api(browser())
    journey = start(api.http)
    journey = api.step(journey, "eligibility", {"is_adult": True, "uk_resident": True})
    journey = api.step(journey, "about-you", about(first_name=first_name, **CANARY_ABOUT))
    journey = add_item(api, journey, "previous-names", CANARY_PREVIOUS_NAME)
    journey = api.step(journey, "previous-names", {})
    journey = add_item(api, journey, "tax-residency", CANARY_TAX)
    journey = api.step(journey, "tax-residency", {})
    contact = {"email_address": email, "mobile": CANARY_MOBILE[0]}
    journey = step_with_call(api, journey, "contact", contact)
    # Saved by verifying the email: journey_emails and email_codes hold it too.
    code_url = f"/api/v1/journeys/{journey['id']}/email"
    assert api.http.post(f"{code_url}/code", json={"email": email}).status_code == 202
    code = found(sandbox, email, r"code is (\d{6})")
    verify = api.http.post(f"{code_url}/verify", json={"email": email, "code": code})
    assert verify.status_code == 200, verify.text
    journey = api.step(journey, "address", {**CANARY_HOME, "home_moved_in": months_ago(8)})
    for item, months in ((CANARY_PREVIOUS_UK, 18), (CANARY_PREVIOUS_ABROAD, 40)):
        item = {**item, "previous_moved_in": months_ago(months)}
        journey = add_item(api, journey, "previous-addresses", item)
    journey = api.step(journey, "previous-addresses", {})
    work = {
        "employment_status": "employed",
        "occupation_group": "soc2",
        "annual_income": CANARY_INCOME,
        "monthly_pay_in": "up_to_3000",
        "source_of_funds": ["pay"],
    }
    journey = api.step(journey, "employment", work)
    identity: dict[str, Any] = {"document_type": "passport", "identity_route": "photo_check"}
    identity["document_front"] = [api.upload(journey, "document_front", jpeg_bytes(), "p.jpg")]
    identity["selfie"] = [api.upload(journey, "selfie", jpeg_bytes(), "me.jpg")]
    journey = step_with_call(api, journey, "identity", identity)
    journey = api.step(journey, "choose-account", {"account_type": "everyday"})
    journey = api.step(journey, "overdraft", {"wants_overdraft": False})
    sent = api.submit(journey)

    # Read back whole through the API, while the journey is still the applicant's.
    given = api.journey(journey["id"])["answers"]
    assert given["first_name"] == first_name
    assert {name: given[name] for name in CANARY_ABOUT} == CANARY_ABOUT
    assert given["email_address"] == email and given["mobile"] == CANARY_MOBILE[1]
    assert {name: given[name] for name in CANARY_HOME} == CANARY_HOME
    assert given["annual_income"] == CANARY_INCOME
    assert given["tax_residencies"][0] == {**given["tax_residencies"][0], **CANARY_TAX}
    assert given["previous_names"][0] == {**given["previous_names"][0], **CANARY_PREVIOUS_NAME}
    lived = given["previous_addresses"]
    assert [a["previous_line_1"] for a in lived] == ["9 Ottermoor Drift", "Rue Canaryvelle 12"]
    assert lived[1]["previous_country"] == CANARY_PREVIOUS_ABROAD["previous_country"]
    drain(system)

    # Approved and opened: the journey passed to the customer core banking created, whose
    # name, email, mobile and address it holds (so the canaries really went out).
    status = api.http.get(f"/journeys/{journey['id']}/status")
    assert "Your account is open" in status.text
    opened = httpx.get(f"{sandbox.urls()['core_banking']}/customers", params={"email": email})
    assert opened.json()["customers"][0]["name"] == f"{first_name} Canarywood"
    with system.store.read() as connection:  # the rows still open after the handover
        stored = answer_rows.values_of(connection, journey["id"])
    assert stored["last_name"] == "Canarywood" and stored["town"] == CANARY_HOME["town"]

    canaries = [
        "Zephyrine",
        "Canarywood",
        "canarywood",
        "canary-mail",
        email,
        *(value for value in CANARY_ABOUT.values() if isinstance(value, str)),
        *CANARY_PREVIOUS_NAME.values(),
        *CANARY_TAX.values(),
        *CANARY_MOBILE,
        CANARY_MOBILE[1][1:],  # 447700900417, however it is written
        *CANARY_HOME.values(),
        *(v for v in CANARY_PREVIOUS_UK.values() if isinstance(v, str)),
        *(v for v in CANARY_PREVIOUS_ABROAD.values() if isinstance(v, str)),
        CANARY_INCOME,
    ]
    # The reference is kept in clear (journeys.reference): the search finds what is there.
    assert_nothing_at_rest(system, canaries, known=[sent["reference"]])
    assert_home_clean_and_private(system.settings.home, canaries)
    assert_logs_clean(capfd, canaries, known=[journey["id"]])


# --- personalisation: the premier account recommended to high-value investors ----------------

RECOMMENDED = "Recommended for you"


def signed_in(browser: Callable[[], TestClient], name: str) -> Api:
    return Api(browser()).sign_in(name)


def to_choose_account(api: Api, journey: dict[str, Any]) -> dict[str, Any]:
    """From the start to the choose-account step: a home of forty months (no previous
    address), identity in a branch (no photos), an income under the premier account's."""
    journey = api.step(journey, "eligibility", {"is_adult": True, "uk_resident": True})
    journey = api.step(journey, "about-you", about(first_name=unique_name()))
    contact = {"email_address": new_email(), "mobile": "07700 900982"}
    journey = step_with_call(api, journey, "contact", contact)
    home = {
        "address_line_1": "12 Harbour Road",
        "town": "Bristol",
        "home_postcode": "BS1 4RN",
        "home_moved_in": months_ago(40),
    }
    journey = api.step(journey, "address", home)
    work = {
        "employment_status": "employed",
        "occupation_group": "soc2",
        "annual_income": "48000",
        "monthly_pay_in": "up_to_3000",
        "source_of_funds": ["pay"],
    }
    journey = api.step(journey, "employment", work)
    identity = {"document_type": "passport", "identity_route": "in_person"}
    journey = step_with_call(api, journey, "identity", identity)
    assert journey["current_step"]["name"] == "choose-account", journey["current_step"]
    return journey


def account_options(journey: dict[str, Any]) -> list[tuple[str, str | None]]:
    field = next(f for f in journey["current_step"]["fields"] if f["name"] == "account_type")
    return [(option["value"], option.get("hint")) for option in field["options"]]


def block_titles(journey: dict[str, Any]) -> list[str | None]:
    return [block.get("title") for block in journey["current_step"]["content"]]


def segmented(system: Components, journey_id: str) -> list[dict[str, Any]]:
    """The journey's journey.segmented events, from its event log (the customer's own view
    of the journey leaves them out)."""
    with system.store.read() as connection:
        stored = event_log.of(connection, journey_id)
    return [
        {k: v for k, v in event["data"].items() if k != "next"}
        for event in stored
        if event["type"] == "journey.segmented"
    ]


def told(api: Api, journey_id: str) -> set[str]:
    """The event types the customer's own view of the journey lists."""
    return {event["type"] for event in api.journey(journey_id)["events"]}


def test_sam_who_invests_over_50000_is_recommended_the_premier_account(browser, system):
    """Core banking's profile says Sam invests £73,700 with us: signed in, his choose-account
    step shows the premier account first, with why, and an inset saying so. Only the
    segments' names are published."""
    sam = signed_in(browser, "sam")
    journey = to_choose_account(sam, sam.start(JOURNEY))
    options = account_options(journey)
    assert [value for value, _ in options] == ["premier", "everyday", "student"]
    assert options[0][1] is not None and options[0][1].startswith(
        "Recommended for you: you invest £50,000 or more with us."
    )
    assert [hint for _, hint in options[1:]] == [None, None]
    [inset] = [b for b in journey["current_step"]["content"] if b.get("title") == RECOMMENDED]
    assert inset["type"] == "inset"
    assert "we recommend the premier account" in inset["text"]
    assert "You can still choose any account" in inset["text"]
    segments = ["high_value_investor", "existing_customer"]
    assert segmented(system, journey["id"]) == [{"segments": segments}]
    assert "journey.segmented" not in told(sam, journey["id"])  # never shown to him
    # Recommended, not decided: the premier account's income rule still applies to him.
    assert sam.refused(journey, "choose-account", {"account_type": "premier"}) == {
        "account_type": "The premier account is for incomes of £75,000 or more"
    }
    journey = sam.step(journey, "choose-account", {"account_type": "everyday"})
    assert journey["current_step"]["name"] == "overdraft"


def test_a_visitor_and_alex_see_the_everyday_account_first_and_no_recommendation(browser, system):
    """A visitor is in no segment; Alex invests £22,400, under the £50,000: the accounts in
    the order the journey declares them, with no recommendation."""
    visitor = Api(browser())
    alex = signed_in(browser, "alex")
    for api, journey, segments in (
        (visitor, start(visitor.http), []),
        (alex, alex.start(JOURNEY), ["existing_customer"]),
    ):
        journey = to_choose_account(api, journey)
        assert account_options(journey) == [
            ("everyday", None),
            ("student", None),
            ("premier", None),
        ]
        assert RECOMMENDED not in block_titles(journey)
        assert RECOMMENDED not in str(journey["current_step"])
        assert segmented(system, journey["id"]) == [{"segments": segments}]
