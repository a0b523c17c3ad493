"""The workbench's pages in Chromium, with the demo's staff: the queues, the cases list with
its filters and saved views, and the case page with every action and every error state, each
page checked with axe-core (zero violations) and worked with the keyboard alone where a handler
would. Claims are made by customers through the real API and taken to referral by the system's
own check-and-decide command, on the app served here (SQLite; one pass on PostgreSQL).

Riley (fraud investigator) works Jordan's claim referred for the fraud bureau's marker; Casey
(handler) and Morgan (senior handler) work Alex's large cash claims in the claims queue.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from browser_journey import Keyboard, check_page, focused
from conftest import REPO, _free_port, _Server, new_context
from playwright.sync_api import Browser, BrowserContext, Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from cases_kit import FRAUD_REASON, OVER_3000, check_and_decide, sent_claim  # noqa: E402
from journey_api import Api  # noqa: E402

from wayline.bootstrap import Components, build  # noqa: E402
from wayline.config import Settings  # noqa: E402
from wayline.sandbox.wiring import demo_options  # noqa: E402
from wayline.store import cases as case_rows  # noqa: E402
from wayline.store import tables  # noqa: E402
from wayline.web.app import create_app  # noqa: E402

CASE_URL = re.compile(r"/workbench/cases/([0-9a-z]+)")


@dataclass
class Bench:
    """The app served on loopback, with its parts (to take claims to referral)."""

    url: str
    components: Components

    def customer(self, name: str) -> Api:
        return Api(httpx.Client(base_url=self.url, timeout=30)).sign_in(name)

    def referred(self, customer: str, **claim: str) -> str:
        """A claim by `customer` sent and referred: its case's id."""
        api = self.customer(customer)
        try:
            sent = sent_claim(api, **claim)
        finally:
            api.http.close()
        state = check_and_decide(self.components, sent["id"])
        assert state.status.value == "in_review", state.outcome
        with self.components.store.read() as connection:
            case = case_rows.open_case_of(connection, sent["id"])
        assert case is not None
        return case.id

    def case(self, case_id: str) -> case_rows.CaseRow:
        with self.components.store.read() as connection:
            found = case_rows.get(connection, case_id)
        assert found is not None
        return found

    def journey_status(self, case_id: str) -> str:
        journey_id = self.case(case_id).journey_id
        with self.components.store.read() as connection:
            row = connection.execute(
                tables.journeys.select().where(tables.journeys.c.id == journey_id)
            ).one()
        return str(row.status)


@contextmanager
def serve(home: Path, database_url: str | None = None) -> Iterator[Bench]:
    settings = Settings(
        home=home,
        demo=True,
        secret_key="workbench-browser-tests",
        journeys_dir=REPO / "journeys",
        rate_limits=False,
        **({"database_url": database_url} if database_url else {}),
    )
    components = build(settings, migrate=True, **demo_options())
    app = create_app(components)
    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="workbench-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    try:
        yield Bench(f"http://127.0.0.1:{port}", components)
    finally:
        server.should_exit = server.force_exit = True
        thread.join(timeout=10)
        components.store.engine.dispose()


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    with serve(tmp_path_factory.mktemp("workbench")) as served:
        yield served


@pytest.fixture
def staff_page(browser: Browser, bench: Bench) -> Iterator:
    """staff_page("riley") → a page in a fresh context signed in as that member of staff."""
    opened: list[BrowserContext] = []

    def make(name: str, method: str = "password", base: str | None = None) -> Page:
        context = new_context(browser, base or bench.url)
        opened.append(context)
        response = context.request.post("/auth/demo", data={"staff": name, "method": method})
        assert response.status == 204, response.text()
        return context.new_page()

    yield make
    for context in opened:
        context.close()


def press(page: Page, name: str) -> None:
    """Press a button by its text and wait for the page that answers."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).press("Enter")


def errors_shown(page: Page, field_id: str, message: str) -> None:
    """The GOV.UK error pattern: the summary focused and linking to the field, the message
    beside it, "Error:" in the title, and no axe violations."""
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator(f'a[href="#{field_id}"]')).to_contain_text(message)
    expect(page.locator(f"#{field_id}-error")).to_contain_text(message)
    check_page(page)


# --- the queues and the list ---------------------------------------------------------------


def test_riley_finds_jordans_claim_in_the_fraud_queue_with_the_keyboard_alone(
    bench: Bench, staff_page
) -> None:
    case_id = bench.referred("jordan")
    page = staff_page("riley")
    keys = Keyboard(page)
    keys.go("/staff")
    keys.follow('a[href="/workbench"]')
    expect(page.locator("h1")).to_have_text("Workbench")
    fraud = page.locator("tbody tr", has_text="Fraud")
    expect(fraud).to_be_visible()
    expect(page.locator("tbody tr", has_text="Claims")).to_be_visible()
    assert int(fraud.locator("td").nth(1).inner_text()) >= 1

    keys.follow('a[href="/workbench/cases?journey=motor-claim&queue=fraud"]')
    expect(page.locator("h1")).to_have_text("Cases")
    expect(page.locator("#queue")).to_have_value("fraud")
    row = page.locator("tbody tr", has=page.locator(f'a[href="/workbench/cases/{case_id}"]'))
    expect(row).to_contain_text("High")
    expect(row).to_contain_text("Nobody")
    expect(row).to_contain_text("Open")
    keys.follow(f'a[href="/workbench/cases/{case_id}"]')
    expect(page.locator("h1")).to_contain_text("Case CLM-")
    expect(page.locator("#staff-reasons")).to_contain_text(FRAUD_REASON)
    expect(page.locator("#source-fraud_history")).to_contain_text("Risk marker")
    expect(page.locator("#source-fraud_history")).to_contain_text("high")
    keys.assert_no_pointer()


def test_the_case_page_shows_everything_on_one_page(bench: Bench, staff_page) -> None:
    case_id = bench.referred("jordan")
    page = staff_page("riley")
    page.goto(f"/workbench/cases/{case_id}")
    check_page(page)
    headings = page.locator("h2[data-section]").all_inner_texts()
    assert headings == [
        "Summary and reasons",
        "Answers",
        "Documents",
        "Photo signals and fraud evidence",
        "Checks and decision",
        "Timeline",
        "Notes",
        "Requests to the customer",
        "Actions",
    ]
    # Every heading is reached from the page's own contents.
    for link in page.locator("nav.contents a").all():
        target = link.get_attribute("href")
        assert target and page.locator(target).count() == 1
    answers = page.locator("section", has=page.locator("#answers"))
    expect(answers.locator("h3")).to_have_text(
        [
            "Which car is the claim for?",
            "What happened?",
            "Photos of the damage",
            "How would you like to settle your claim?",
        ]
    )
    expect(answers).to_contain_text("Prefilled from policies")
    expect(answers).to_contain_text("Given by the customer")
    documents = page.locator("section", has=page.locator("#documents"))
    expect(documents.locator("img")).to_have_count(1)
    expect(documents.locator("img")).to_have_attribute("alt", re.compile(r"damage_photos"))
    download = documents.get_by_role("link", name=re.compile("Download the original"))
    expect(download).to_have_count(1)
    # The display copy is really shown (served by the staff API), the original downloads.
    image = documents.locator("img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    original = page.context.request.get(download.get_attribute("href") or "")
    assert original.ok and "attachment" in original.headers.get("content-disposition", "")
    checks = page.locator("section", has=page.locator("#checks"))
    expect(checks.locator("tr", has_text="Fraud bureau history")).to_contain_text("Failed")
    expect(checks).to_contain_text("referred")
    timeline = page.locator("section", has=page.locator("#timeline"))
    expect(timeline).to_contain_text("Sent by the customer")
    expect(timeline).to_contain_text("Case opened (by system, queue fraud, priority high)")


def test_the_handler_works_a_case_with_the_keyboard_alone(bench: Bench, staff_page) -> None:
    """Queue → case → claim → decide, by Tab, Enter, arrows and typing."""
    case_id = bench.referred("alex", settlement="cash", amount="4000")
    page = staff_page("casey")
    keys = Keyboard(page)
    keys.go("/workbench")
    keys.follow('a[href="/workbench/cases?journey=motor-claim&queue=claims"]')
    keys.follow(f'a[href="/workbench/cases/{case_id}"]')
    expect(page.locator("#staff-reasons")).to_contain_text(OVER_3000)
    # Casey is no fraud investigator: the fraud data stays hidden.
    expect(page.locator("main")).to_contain_text("Only fraud investigators and senior handlers")
    expect(page.locator("[id^=source-]")).to_have_count(0)
    keys.follow("button#claim")
    expect(page.locator("[role=status]")).to_have_text("You are now working on this case.")
    expect(page.locator("#assignee")).to_have_text("You (casey)")

    keys.tab_to("#approve-reason")
    page.keyboard.press("ArrowDown")  # the first declared reason: Checked and verified
    assert page.locator("#approve-reason").input_value() == "verified"
    keys.type_into("#approve-note", "Estimate checked against the garage's invoice.")
    keys.follow('form.decide-form:has(input[value="approve"]) button[type=submit]')
    expect(page.locator("[role=status]")).to_contain_text("The case is decided")
    expect(page.locator("main")).to_contain_text("This case is closed.")
    expect(page.locator("main")).to_contain_text("Estimate checked against the garage's invoice.")
    keys.assert_no_pointer()
    assert bench.case(case_id).status == "closed"
    assert bench.journey_status(case_id) == "decided"


def test_shortcuts_move_through_the_list_and_the_case_and_can_be_turned_off(
    bench: Bench, staff_page
) -> None:
    bench.referred("jordan")
    bench.referred("jordan")  # two rows to move between
    page = staff_page("riley")
    page.goto("/workbench/cases?queue=fraud")
    expect(page.locator("#shortcuts")).to_be_visible()
    page.keyboard.press("j")
    first = page.locator("[data-row-link]").first
    expect(first).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator("[data-row-link]").nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(first).to_be_focused()
    page.keyboard.press("f")
    assert focused(page)["id"] == "journey"
    page.keyboard.type("q")  # typed into a field: no shortcut
    assert "/workbench/cases" in page.url
    first.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.keyboard.press("j")
    expect(page.locator("#summary")).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator("#answers")).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator("#actions")).to_be_focused()
    check_page(page)
    switch = page.locator("[data-shortcuts-switch]")
    switch.focus()
    page.keyboard.press("Enter")
    expect(switch).to_have_attribute("aria-pressed", "false")
    page.locator("#summary").focus()
    page.keyboard.press("j")
    expect(page.locator("#summary")).to_be_focused()  # off: nothing moved


# --- actions and their error states --------------------------------------------------------


def test_a_decision_without_a_reason_is_shown_beside_the_field(bench: Bench, staff_page) -> None:
    case_id = bench.referred("alex", settlement="cash", amount="4000")
    page = staff_page("casey")
    page.goto(f"/workbench/cases/{case_id}")
    press(page, "Claim this case")
    page.locator("#decline-note").fill("Kept when the page comes back")
    press(page, "Decline")
    assert page.title().startswith("Error: ")
    errors_shown(page, "decline-reason", "Choose a reason to decline from the list")
    expect(page.locator("#decline-note")).to_have_value("Kept when the page comes back")
    assert bench.case(case_id).status == "open"


def test_a_note_too_long_and_a_note_added(bench: Bench, staff_page) -> None:
    case_id = bench.referred("jordan")
    page = staff_page("riley")
    page.goto(f"/workbench/cases/{case_id}")
    page.locator("#note").fill("x" * 5001)
    press(page, "Add note")
    errors_shown(page, "note", "Use 5,000 characters or fewer")
    page.locator("#note").fill("Called the bureau: the marker is from 2024.")
    press(page, "Add note")
    expect(page.locator("[role=status]")).to_have_text("Your note was added.")
    expect(page.locator(".note")).to_contain_text("Called the bureau: the marker is from 2024.")
    expect(page.locator(".note")).to_contain_text("riley")
    check_page(page)


def test_a_lost_claim_says_who_holds_the_case(bench: Bench, staff_page) -> None:
    case_id = bench.referred("alex", settlement="cash", amount="4000")
    casey, morgan = staff_page("casey"), staff_page("morgan")
    casey.goto(f"/workbench/cases/{case_id}")
    morgan.goto(f"/workbench/cases/{case_id}")
    press(casey, "Claim this case")
    press(morgan, "Claim this case")  # the page Morgan had open still offered it
    errors_shown(morgan, "claim", "casey is working on this case")
    expect(morgan.locator("#assignee")).to_have_text("casey is working on this case")
    assert bench.case(case_id).assignee == "casey"


def test_release_and_reassign(bench: Bench, staff_page) -> None:
    case_id = bench.referred("alex", settlement="cash", amount="4000")
    page = staff_page("casey")
    page.goto(f"/workbench/cases/{case_id}")
    press(page, "Claim this case")
    press(page, "Release it to the queue")
    expect(page.locator("[role=status]")).to_contain_text("back in its queue")
    expect(page.locator("#assignee")).to_have_text("Nobody")
    press(page, "Give it to them")
    errors_shown(page, "reassign-to", "Enter who to give the case to")
    staff_page("morgan")  # Morgan has signed in: Wayline knows them as a senior handler
    page.locator("#reassign-to").fill("morgan")
    press(page, "Give it to them")
    expect(page.locator("#assignee")).to_have_text("morgan is working on this case")
    check_page(page)
    # Casey may not take it back from Morgan: only Morgan or a senior handler can.
    press(page, "Release it to the queue")
    errors_shown(page, "release", "only they or a senior handler can hand it over")
    assert bench.case(case_id).assignee == "morgan"


def test_refer_to_fraud_moves_the_case_out_of_the_handlers_queue(bench: Bench, staff_page) -> None:
    case_id = bench.referred("alex", settlement="cash", amount="4000")
    page = staff_page("casey")
    page.goto(f"/workbench/cases/{case_id}")
    press(page, "Claim this case")
    press(page, "Refer to fraud")
    assert urlsplit(page.url).path == "/workbench/cases"
    expect(page.locator("[role=status]")).to_have_text("The case was referred to the fraud queue.")
    check_page(page)
    assert bench.case(case_id).queue == "fraud"
    page.goto(f"/workbench/cases/{case_id}")  # Casey does not work the fraud queue
    expect(page.locator("h1")).to_have_text("Page not found")
    check_page(page)
    riley = staff_page("riley")
    riley.goto(f"/workbench/cases/{case_id}")
    expect(riley.locator("h1")).to_contain_text("Case CLM-")


def test_riley_clears_a_fraud_case_back_to_the_claims_queue_by_keyboard(
    bench: Bench, staff_page
) -> None:
    case_id = bench.referred("jordan")
    page = staff_page("riley")
    keys = Keyboard(page)
    keys.go(f"/workbench/cases/{case_id}")
    keys.follow("#claim")
    # Sent with nothing chosen: both errors, the summary focused, what was typed kept.
    keys.follow("form.return-form button[type=submit]")
    errors_shown(page, "return-queue", "Choose the queue to send the case to")
    expect(page.locator("#return-note-error")).to_contain_text("Say what you found")
    keys.type_into("#return-note", "The marker is for another car")
    keys.follow("form.return-form button[type=submit]")
    errors_shown(page, "return-queue", "Choose the queue to send the case to")
    expect(page.locator("#return-note")).to_have_value("The marker is for another car")
    assert bench.case(case_id).queue == "fraud"
    # The fraud queue is where it is: only Claims is offered.
    options = page.locator("#return-queue option").all_inner_texts()
    assert options == ["Choose a queue", "Claims"]
    keys.tab_to("#return-queue")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#return-queue")).to_have_value("claims")
    keys.follow("form.return-form button[type=submit]")
    expect(page.locator("[role=status]")).to_contain_text("sent to the queue you chose")
    expect(page.locator(".note")).to_contain_text("The marker is for another car")
    expect(page.locator("#assignee")).to_have_text("Nobody")
    keys.assert_no_pointer()
    returned = bench.case(case_id)
    assert (returned.queue, returned.assignee, returned.priority) == ("claims", None, "normal")
    casey = staff_page("casey")  # a handler now sees it, and decides it
    casey.goto(f"/workbench/cases/{case_id}")
    expect(casey.locator("h1")).to_contain_text("Case CLM-")
    press(casey, "Claim this case")
    casey.locator("#approve-reason").select_option("verified")
    press(casey, "Approve")
    expect(casey.locator("[role=status]")).to_contain_text("The case is decided")


def test_four_eyes_morgan_steps_up_and_approves_what_casey_proposed(
    bench: Bench, staff_page
) -> None:
    case_id = bench.referred("alex", settlement="cash", amount="6000")
    casey = staff_page("casey")
    casey.goto(f"/workbench/cases/{case_id}")
    press(casey, "Claim this case")
    casey.locator("#approve-reason").select_option("verified")
    press(casey, "Approve")
    expect(casey.locator("[role=status]")).to_contain_text("a senior handler must give")
    expect(casey.locator("main")).to_contain_text("You proposed this approval")
    expect(casey.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    check_page(casey)
    assert bench.case(case_id).status == "awaiting_approval"

    morgan = staff_page("morgan")  # by password: the second approval asks for more
    keys = Keyboard(morgan)
    keys.go(f"/workbench/cases/{case_id}")
    expect(morgan.locator("main")).to_contain_text("proposed by casey for £6000.00")
    keys.tab_to("#approve-reason")
    morgan.keyboard.press("ArrowDown")
    keys.follow('form.decide-form:has(input[value="approve"]) button[type=submit]')
    location = urlsplit(morgan.url)
    assert location.path == "/staff/sign-in"
    query = parse_qs(location.query)
    assert query["level"] == ["2"] and query["max_age"] == ["300"]
    assert query["next"][0].startswith(f"/workbench/cases/{case_id}?")
    assert bench.case(case_id).status == "awaiting_approval"  # nothing was decided
    expect(morgan.locator("h1")).to_have_text("Confirm it's you")
    keys.follow("main button[type=submit]")
    assert urlsplit(morgan.url).path == f"/workbench/cases/{case_id}"
    expect(morgan.locator("[role=status]")).to_contain_text("You have confirmed it's you")
    expect(morgan.locator("#approve-reason")).to_have_value("verified")
    keys.follow('form.decide-form:has(input[value="approve"]) button[type=submit]')
    expect(morgan.locator("[role=status]")).to_contain_text("The case is decided")
    expect(morgan.locator("main")).to_contain_text("proposed by casey")
    keys.assert_no_pointer()
    assert bench.case(case_id).status == "closed"
    assert bench.journey_status(case_id) == "decided"


def test_more_information_round_trip_through_the_customers_pages(
    bench: Bench, staff_page, browser: Browser
) -> None:
    case_id = bench.referred("jordan")
    riley = staff_page("riley")
    riley.goto(f"/workbench/cases/{case_id}")
    press(riley, "Claim this case")
    press(riley, "Ask the customer")
    errors_shown(riley, "request", "Choose what to ask for, or write your own request")
    riley.get_by_label("Write your own request").check()
    press(riley, "Ask the customer")
    errors_shown(riley, "kind", "")
    riley.get_by_label("Write your own request").check()
    riley.get_by_label("In words (a question)").check()
    riley.locator("#prompt").fill("Where was the car parked?")
    press(riley, "Ask the customer")
    expect(riley.locator("[role=status]")).to_contain_text("asked for more information")
    expect(riley.locator(".task")).to_contain_text("Waiting for the customer")
    assert bench.case(case_id).status == "awaiting_customer"

    jordan_context = new_context(browser, bench.url)
    try:
        response = jordan_context.request.post("/auth/demo", data={"customer": "jordan"})
        assert response.status == 204
        jordan = jordan_context.new_page()
        journey_id = bench.case(case_id).journey_id
        jordan.goto(f"/journeys/{journey_id}/status")
        with jordan.expect_navigation():
            jordan.get_by_role("link", name="Where was the car parked?").click()
        jordan.locator("#answer").fill("On the street outside my house.")
        press(jordan, "Send answer")
    finally:
        jordan_context.close()
    assert bench.case(case_id).status == "open"
    riley.goto(f"/workbench/cases/{case_id}")
    expect(riley.locator(".task")).to_contain_text("On the street outside my house.")
    expect(riley.locator("#timeline")).to_be_visible()
    expect(riley.locator("section", has=riley.locator("#timeline"))).to_contain_text(
        "The customer answered"
    )
    check_page(riley)


# --- saved views and filters ---------------------------------------------------------------


def test_filters_and_saved_views(bench: Bench, staff_page) -> None:
    bench.referred("jordan")
    page = staff_page("riley")
    keys = Keyboard(page)
    keys.go("/workbench/cases?status=sleeping")
    errors_shown(page, "status", "Choose a status")
    assert page.locator("tbody tr").count() == 0

    keys.go("/workbench/cases")
    page.locator("#queue").select_option("fraud")
    page.locator("#status").select_option("open")
    press(page, "Show cases")
    assert parse_qs(urlsplit(page.url).query)["queue"] == ["fraud"]
    press(page, "Save view")
    errors_shown(page, "view-name", "Enter a name for the view")
    page.locator("#view-name").fill("Open fraud cases")
    press(page, "Save view")
    expect(page.locator("[role=status]")).to_contain_text("Your view is saved")
    expect(page.locator("#queue")).to_have_value("fraud")
    expect(page.locator("#status")).to_have_value("open")
    view_link = page.get_by_role("link", name="Open fraud cases")
    expect(view_link).to_have_attribute("aria-current", "page")
    check_page(page)
    page.locator("#view-name").fill("Open fraud cases")
    press(page, "Save view")
    errors_shown(page, "view-name", "You already have a view called 'Open fraud cases'")
    press(page, "Delete the view Open fraud cases")
    expect(page.locator("[role=status]")).to_have_text("The view was deleted.")
    expect(page.get_by_role("link", name="Open fraud cases")).to_have_count(0)
    check_page(page)


# --- who may not ---------------------------------------------------------------------------


def test_who_may_not_see_the_workbench(bench: Bench, staff_page, browser: Browser) -> None:
    analyst = staff_page("avery")
    analyst.goto("/workbench")
    expect(analyst.locator("h1")).to_have_text("You do not have access to this page")
    check_page(analyst)
    analyst.goto("/staff")
    expect(analyst.locator('a[href="/workbench"]')).to_have_count(0)
    casey = staff_page("casey")
    casey.goto("/workbench/cases/no-such-case")
    expect(casey.locator("h1")).to_have_text("Page not found")
    check_page(casey)
    nobody = new_context(browser, bench.url)
    try:
        page = nobody.new_page()
        page.goto("/workbench")
        assert urlsplit(page.url).path == "/staff/sign-in"
    finally:
        nobody.close()


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_whole_flow_on_postgresql(browser: Browser, postgres_url: str, tmp_path: Path) -> None:
    with serve(tmp_path / "home", postgres_url) as pg:
        case_id = pg.referred("alex", settlement="cash", amount="4000")
        context = new_context(browser, pg.url)
        try:
            assert context.request.post("/auth/demo", data={"staff": "casey"}).status == 204
            page = context.new_page()
            keys = Keyboard(page)
            keys.go("/workbench")
            keys.follow('a[href="/workbench/cases?journey=motor-claim&queue=claims"]')
            keys.follow(f'a[href="/workbench/cases/{case_id}"]')
            keys.follow("button#claim")
            keys.tab_to("#approve-reason")
            page.keyboard.press("ArrowDown")
            keys.follow('form.decide-form:has(input[value="approve"]) button[type=submit]')
            expect(page.locator("[role=status]")).to_contain_text("The case is decided")
            keys.assert_no_pointer()
        finally:
            context.close()
        assert pg.case(case_id).status == "closed"
