"""The hostile-input suite (issue 8): every route of the app, with each class of bad value.

The classes (hostile_kit.BAD_VALUES, BAD_REVISIONS, BAD_IDS): non-finite numbers (NaN,
Infinity, 1e999), text that is not valid Unicode (lone surrogates, bytes that are not UTF-8),
Unicode digits, numbers of thousands of digits, control and bidi characters, wrong types,
oversized strings, bad revisions and bad ids in paths. They go into every slot of every route:
JSON fields and answer names, form fields (urlencoded and multipart) and file names, query
strings and path parameters.

For every request the suite asserts:
- never a 500;
- a value that must be refused is: a 4xx naming the field (problem+json on the API), or for
  a page the step again with the error beside the field;
- a refused request changed nothing: every row of every table is as it was;
- whatever was kept (a draft keeps what was typed), the journeys still read: the API view and
  their pages answer 200.

The routes are read from the app: a route this file does not walk fails
`test_every_route_is_walked`, so a new route cannot go untested. The suite runs on SQLite here
and on PostgreSQL in test_hostile_input_on_postgres.py (the same tests: two files, so that the
two halves can run in two test processes at once), each in a fresh database kept for the module
(building the claims under attack takes a few seconds; the probes change nothing, which the
suite checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import httpx
import pytest
from cases_kit import case_of, casey, referred
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hostile_kit import (
    BAD_IDS,
    BAD_REVISIONS,
    BAD_VALUES,
    CONTROL,
    EVERY_FIELD,
    FORM,
    LONG_NUMBER,
    NON_FINITE,
    NOT_UNICODE,
    OVERSIZED,
    WRONG_TYPE,
    Bad,
    Claim,
    alexs_theft,
    answered_fields,
    as_form,
    changes,
    database,
    form_body,
    in_path,
    json_body,
    multipart_body,
    refused_as_draft,
    refused_on_submit,
    sams_collision,
)
from journey_api import CSRF_COOKIE, CSRF_HEADER, JOURNEYS_DIR, PROBLEM, Api, jpeg_bytes

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.journeys.schema import FieldType
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

# This module's half: SQLite (module_database_url's other param is the PostgreSQL file's).
pytestmark = pytest.mark.parametrize(
    "module_database_url", ["sqlite"], indirect=True, scope="module"
)

REFUSED = "refused"  # a 4xx (or the page again with its error), and nothing changed
UNCHANGED = "unchanged"  # any answer under 500, and nothing changed
MAY_KEEP = "may keep"  # any answer under 500; if something was kept, everything still reads
# A workbench form refused, the case page shown again with the error beside `field`: a view of
# the case, so its audit entry (case.viewed) is the one row it may add.
REFUSED_SEEN = "refused, the case shown again"
# A page's revision that reads as a number but is not the journey's (0): the page is shown
# again as it is now, or the journey's own page; a bad one is a 400. Nothing changes.
STALE_OR_REFUSED = UNCHANGED

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Probe:
    what: str
    send: Callable[[], httpx.Response]
    expect: str
    field: str | None = None  # the field a refusal must name


class World:
    """The app on one database, with two claims under attack and the clients that own them."""

    def __init__(
        self,
        app: Any,
        engine: Any,
        sam: Api,
        alex: Api,
        anonymous: TestClient,
        components: Any = None,
    ):
        self.app = app
        self.components = components  # to refer a claim for the staff API's walks
        self.engine = engine
        self.sam = sam
        self.alex = alex
        self.anonymous = anonymous
        self.collision = sams_collision(sam)
        self.theft = alexs_theft(alex)
        self.claims = [self.collision, self.theft]
        self._unchanged: dict[str, list[tuple]] | None = None  # the database as last read

    # --- what the database holds ---------------------------------------------------------------

    def current(self, claim: Claim) -> tuple[int, dict[str, Any]]:
        """The claim's revision and answers now, read through the API: the stored state keeps
        classified answers sealed (field-level encryption), so the database shows them not."""
        view = claim.view()
        return view["revision"], view["answers"]

    def revision(self, claim: Claim) -> bytes:
        return str(self.current(claim)[0]).encode()

    # --- running probes --------------------------------------------------------------------

    def run(self, probes: Iterator[Probe]) -> list[str]:
        self._unchanged = None  # another walk ran since: read the database afresh
        failures: list[str] = []
        count = 0
        for probe in probes:
            count += 1
            failures += [f"{probe.what}: {problem}" for problem in self._check(probe)]
        assert count, "the walk sent nothing"
        for claim in self.claims:
            failures += [f"afterwards: {p}" for p in self.unreadable(claim, every_page=True)]
        return failures

    def _check(self, probe: Probe) -> list[str]:
        # The last probe's "after" is this one's "before": the walks prepare their probes
        # without writing, and a stale snapshot could only report a change that is not there,
        # never hide one. Reading the claims back (unreadable) starts afresh. Halves the reads
        # of every table.
        before = self._unchanged if self._unchanged is not None else database(self.engine)
        self._unchanged = None
        response = probe.send()
        raw = database(self.engine)
        self._unchanged = raw
        after = raw
        problems = []
        status = response.status_code
        if status >= 500:
            problems.append(f"answered {status}: {response.text[:300]}")
        elif probe.expect == REFUSED:
            problems += _not_refused(response, probe.field)
        elif probe.expect == REFUSED_SEEN:
            problems += _not_refused_page(response, probe.field)
            after = _views_left_out(before, after)
        if after != before:
            if probe.expect != MAY_KEEP:
                problems.append(f"answered {status} but changed {changes(before, after)}")
            for claim in self.claims:
                problems += self.unreadable(claim)
        return problems

    def unreadable(self, claim: Claim, every_page: bool = False) -> list[str]:
        """Why the claim does not read back through the API and its pages (nothing: it does)."""
        self._unchanged = None  # reading pages back may touch the database: snapshot afresh
        problems = []
        view = claim.api.http.get(f"/api/v1/journeys/{claim.id}")
        if view.status_code != 200:
            return [f"the API view of {claim.id} answers {view.status_code}: {view.text[:200]}"]
        pages = [f"/journeys/{claim.id}"]
        if every_page:
            steps = [s["name"] for s in view.json()["steps"] if s["name"] != "check-answers"]
            pages += [f"/journeys/{claim.id}/steps/{s}" for s in steps]
            pages += [f"/journeys/{claim.id}/check-answers", f"/journeys/{claim.id}/status"]
        for page in pages:
            answer = claim.api.http.get(page, headers={"accept": "text/html"})
            if answer.status_code != 200:
                problems.append(f"{page} answers {answer.status_code}")
        return problems


def _not_refused_page(response: httpx.Response, field: str | None) -> list[str]:
    """Why a workbench page's answer is not a refusal shown beside `field`, if it is not."""
    if not 400 <= response.status_code < 500:
        return [f"answered {response.status_code}, not a refusal: {response.text[:200]}"]
    if field and f'id="{field}-error"' not in response.text:
        return [f"answered {response.status_code}, but no error beside {field}"]
    return []


def _views_left_out(before: dict[str, list[tuple]], after: dict[str, list[tuple]]):
    """`after` without the audit entries of case views added since `before`."""
    kept = before.get("audit_log", [])
    audit = [
        row
        for row in after.get("audit_log", [])
        if row in kept or all("case.viewed" not in str(value) for value in row)
    ]
    return {**after, "audit_log": audit}


def _not_refused(response: httpx.Response, field: str | None) -> list[str]:
    """Why a response is not a refusal (naming `field`), if it is not."""
    status = response.status_code
    body = response.text
    if status == 200 and "<title>Error: " in body:  # the page again, with its errors
        if field and f'id="{field}-error"' not in body:
            return [f"the page shows errors, but none beside {field}"]
        return []
    if not 400 <= status < 500:
        return [f"answered {status}, not a refusal: {body[:200]}"]
    if field and status == 409:
        return [f"409 ({body[:120]}): the value was never looked at"]
    if field and status == 422 and response.headers.get("content-type", "").startswith(PROBLEM):
        named = [e.get("field", "") for e in response.json().get("errors", [])]
        if not any(field in name.split(".") for name in named):
            return [f"422 naming {named}, not {field}"]
    return []


@pytest.fixture(scope="module")
def world(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The app on a fresh database of its own (SQLite or PostgreSQL) for the module, and Sam's
    and Alex's claims under attack."""
    settings = Settings(
        home=tmp_path_factory.mktemp("hostile"),
        database_url=module_database_url,
        demo=True,
        secret_key="test",
        journeys_dir=JOURNEYS_DIR,
        rate_limits=False,  # thousands of requests from one client: limits have their own tests
    )
    components = build(settings, migrate=True, **demo_options())
    app = create_app(components)
    clients = [TestClient(app, raise_server_exceptions=False) for _ in range(3)]
    try:
        # Sam pays his claim to new payee details, which ask for a one-time code (step-up).
        sam = Api(clients[0]).sign_in("sam", "one_time_code")
        alex = Api(clients[1]).sign_in("alex")
        yield World(app, components.store.engine, sam, alex, clients[2], components)
    finally:
        for client in clients:
            client.close()
        components.store.engine.dispose()


# --- the walks, one per route -------------------------------------------------------------------

Walk = Callable[[World], Iterator[Probe]]
WALKS: dict[tuple[str, str], Walk] = {}


def walks(method: str, path: str) -> Callable[[Walk], Walk]:
    def register(walk: Walk) -> Walk:
        WALKS[(method, path)] = walk
        return walk

    return register


def send_json(api: Api | TestClient, method: str, path: str, body: Callable[[], bytes]):
    http = api.http if isinstance(api, Api) else api
    return http.request(method, path, content=body(), headers={"content-type": "application/json"})


def get(http: httpx.Client | TestClient, path: str) -> httpx.Response:
    return http.get(path, headers={"accept": "text/html"}, follow_redirects=False)


def query_probes(http: Any, path: str, names: tuple[str, ...] = ()) -> Iterator[Probe]:
    """Each bad value in each of the route's query parameters, and as a parameter's name."""
    for bad in EVERY_FIELD + BAD_IDS:
        if bad.text is None or len(bad.text) > 4000:
            continue
        expect = REFUSED if bad.kind == NOT_UNICODE else UNCHANGED
        for name in (*names, "x"):
            url = f"{path}?{form_body([(name, bad.text)]).decode()}"
            yield Probe(f"GET {path}?{name}= {bad}", partial(get, http, url), expect)
        url = f"{path}?{form_body([(bad.text, '1')]).decode()}"
        yield Probe(f"GET {path}?({bad})=1", partial(get, http, url), expect)


def id_probes(
    method: str, template: str, ids: dict[str, str], send: Callable[[str], httpx.Response]
) -> Iterator[Probe]:
    """Each bad id in each of the route's path parameters (the others good): a 4xx."""
    for name in ids:
        for bad in BAD_IDS:
            path = template.format(**{**ids, name: in_path(bad.text or b"")})
            yield Probe(f"{method} {template} {name}= {bad}", partial(send, path), REFUSED)


# Routes that take no input but their URL: bad query strings only.
for _path in (
    "/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/assets/swagger-ui.css",
    "/docs/assets/swagger-ui-bundle.js",
    "/docs/assets/favicon-32x32.png",
    "/theme.css",
    "/brand/logo",
    "/api/v1/journey-types",
    "/api/v1/journeys",
):
    walks("GET", _path)(lambda world, path=_path: query_probes(world.sam.http, path))


@walks("GET", "/static/{path}")
def _static(world: World) -> Iterator[Probe]:
    yield from query_probes(world.sam.http, "/static/app.css")
    yield from id_probes("GET", "/static/{path}", {"path": "app.css"}, partial(get, world.sam.http))


@walks("GET", "/journeys")
def _journeys_page(world: World) -> Iterator[Probe]:
    yield from query_probes(world.sam.http, "/journeys", ("saved",))


# --- the journey API -----------------------------------------------------------------------------


@walks("POST", "/api/v1/journeys")
def _start(world: World) -> Iterator[Probe]:
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        body = partial(json_body, {"type": "<<v>>"}, {"v": bad.json})
        send = partial(send_json, world.sam, "POST", "/api/v1/journeys", body)
        yield Probe(f"start type= {bad}", send, REFUSED)
    for raw in (b"NaN", b'"\\ud800"', b"[]", b'{"type": "motor-claim", "type": "x"}'):
        send = partial(send_json, world.sam, "POST", "/api/v1/journeys", lambda raw=raw: raw)
        yield Probe(f"start body {raw!r}", send, REFUSED)


@walks("GET", "/api/v1/journeys/{journey_id}")
def _view(world: World) -> Iterator[Probe]:
    path = f"/api/v1/journeys/{world.collision.id}"
    yield from query_probes(world.sam.http, path)
    ids = {"journey_id": world.collision.id}
    yield from id_probes("GET", "/api/v1/journeys/{journey_id}", ids, world.sam.http.get)


def _api_step_probes(world: World, method: str) -> Iterator[Probe]:
    """Every answered field of every step of both claims, with every bad value: submitted
    (the step's other answers as they are) or saved as a draft (the field alone)."""
    submit = method == "POST"
    for claim in world.claims:
        answers = world.current(claim)[1]
        for step in claim.steps:
            path = f"/api/v1/journeys/{claim.id}/steps/{step}"
            for name, kind in answered_fields(answers, step):
                for bad in [b for b in EVERY_FIELD if b.json is not None]:
                    refuse = (
                        refused_on_submit(bad, kind, as_json=True)
                        if submit
                        else refused_as_draft(bad, as_json=True)
                    )
                    body = partial(_step_body, world, claim, step, name, bad.json, submit)
                    yield Probe(
                        f"{method} {step}: {name}= {bad}",
                        partial(send_json, claim.api, method, path, body),
                        REFUSED if refuse else MAY_KEEP,
                        name,
                    )
    claim = world.collision
    path = f"/api/v1/journeys/{claim.id}/steps/incident"
    for bad in BAD_REVISIONS:
        body = partial(
            lambda raw: json_body({"answers": {}, "revision": "<<r>>"}, {"r": raw}), bad.json
        )
        yield Probe(
            f"{method} revision= {bad}", partial(send_json, claim.api, method, path, body), REFUSED
        )
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        body = partial(_named_body, world, claim, bad.json or b"")
        yield Probe(
            f"{method} an answer named {bad}",
            partial(send_json, claim.api, method, path, body),
            REFUSED,
        )
    for raw in (
        b"NaN",
        b'"\\ud800"',
        b"[]",
        b'{"answers": NaN, "revision": 1}',
        b'{"answers": {"description": "x", "description": "y"}, "revision": 1}',
        b'{"answers": {"description": "' + b"x" * (1024 * 1024) + b'"}, "revision": 1}',
    ):
        yield Probe(
            f"{method} body {raw[:60]!r}",
            partial(send_json, claim.api, method, path, lambda raw=raw: raw),
            REFUSED,
        )
    template = "/api/v1/journeys/{journey_id}/steps/{step}"
    ids = {"journey_id": claim.id, "step": "incident"}
    # At the journey's revision: a stale one would be refused before the path is looked at.
    body = partial(_revision_body, world, claim, {"answers": {}})
    yield from id_probes(method, template, ids, partial(_send_to, claim.api, method, body))


def _send_to(api: Api, method: str, body: Callable[[], bytes], path: str) -> httpx.Response:
    return send_json(api, method, path, body)


def _step_body(world: World, claim: Claim, step: str, name: str, raw: bytes, submit: bool) -> bytes:
    revision, answers = world.current(claim)
    fields = [n for n, _ in answered_fields(answers, step)]
    given = {n: answers[n] for n in fields if n in answers} if submit else {}
    template = {"answers": {**given, name: "<<v>>"}, "revision": "<<r>>"}
    return json_body(template, {"v": raw, "r": str(revision).encode()})


def _revision_body(world: World, claim: Claim, template: dict[str, Any]) -> bytes:
    return json_body({**template, "revision": "<<r>>"}, {"r": world.revision(claim)})


def _named_body(world: World, claim: Claim, raw_name: bytes) -> bytes:
    revision = world.revision(claim)
    return b'{"answers": {' + raw_name + b': "x"}, "revision": ' + revision + b"}"


@walks("POST", "/api/v1/journeys/{journey_id}/steps/{step}")
def _api_submit_step(world: World) -> Iterator[Probe]:
    yield from _api_step_probes(world, "POST")


@walks("PATCH", "/api/v1/journeys/{journey_id}/steps/{step}")
def _api_save_draft(world: World) -> Iterator[Probe]:
    yield from _api_step_probes(world, "PATCH")


@walks("POST", "/api/v1/journeys/{journey_id}/submit")
def _api_submit(world: World) -> Iterator[Probe]:
    claim = world.collision
    path = f"/api/v1/journeys/{claim.id}/submit"
    for bad in BAD_REVISIONS:
        body = partial(json_body, {"revision": "<<r>>", "declaration": True}, {"r": bad.json})
        send = partial(send_json, claim.api, "POST", path, body)
        yield Probe(f"submit revision= {bad}", send, REFUSED)
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        body = partial(_submit_body, world, claim, bad.json)
        send = partial(send_json, claim.api, "POST", path, body)
        yield Probe(f"submit declaration= {bad}", send, REFUSED, "declaration")
    template = "/api/v1/journeys/{journey_id}/submit"
    body = partial(_revision_body, world, claim, {"declaration": True})
    ids = {"journey_id": claim.id}
    yield from id_probes("POST", template, ids, partial(_send_to, claim.api, "POST", body))


def _submit_body(world: World, claim: Claim, raw: bytes) -> bytes:
    template = {"revision": "<<r>>", "declaration": "<<d>>"}
    return json_body(template, {"r": world.revision(claim), "d": raw})


# --- documents -----------------------------------------------------------------------------------


@walks("POST", "/api/v1/journeys/{journey_id}/documents")
def _upload(world: World) -> Iterator[Probe]:
    claim = world.collision
    path = f"/api/v1/journeys/{claim.id}/documents"
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        body, kind = multipart_body([("field", bad.text)], [("file", "car.jpg", jpeg_bytes())])
        send = partial(_post_raw, claim.api, path, body, kind)
        yield Probe(f"upload field= {bad}", send, REFUSED)  # the error names the file
        body, kind = multipart_body(
            [("field", "damage_photos")], [("file", bad.text, jpeg_bytes())]
        )
        send = partial(_post_raw, claim.api, path, body, kind)
        expect = REFUSED if bad.kind == NOT_UNICODE else MAY_KEEP  # a name is made safe, kept
        yield Probe(f"upload file name= {bad}", send, expect)
    for raw in (b'{"field": NaN}', b'{"field": "\\ud800"}'):
        send = partial(send_json, claim.api, "POST", path, lambda raw=raw: raw)
        yield Probe(f"upload as JSON {raw!r}", send, REFUSED)
    body, kind = multipart_body([("field", "damage_photos")], [("file", "car.jpg", jpeg_bytes())])
    template = "/api/v1/journeys/{journey_id}/documents"
    ids = {"journey_id": claim.id}
    yield from id_probes("POST", template, ids, lambda p: _post_raw(claim.api, p, body, kind))


def _post_raw(api: Api, path: str, body: bytes, content_type: str) -> httpx.Response:
    return api.http.post(path, content=body, headers={"content-type": content_type})


@walks("GET", "/api/v1/journeys/{journey_id}/documents")
def _documents(world: World) -> Iterator[Probe]:
    claim = world.collision
    yield from query_probes(claim.api.http, f"/api/v1/journeys/{claim.id}/documents")
    template = "/api/v1/journeys/{journey_id}/documents"
    yield from id_probes("GET", template, {"journey_id": claim.id}, claim.api.http.get)


def _document_walk(world: World, suffix: str) -> Iterator[Probe]:
    claim = world.collision
    document = claim.documents["damage_photos"]
    path = f"/api/v1/journeys/{claim.id}/documents/{document}{suffix}"
    yield from query_probes(claim.api.http, path)
    template = "/api/v1/journeys/{journey_id}/documents/{document_id}" + suffix
    ids = {"journey_id": claim.id, "document_id": document}
    yield from id_probes("GET", template, ids, claim.api.http.get)


@walks("GET", "/api/v1/journeys/{journey_id}/documents/{document_id}")
def _document(world: World) -> Iterator[Probe]:
    yield from _document_walk(world, "")


@walks("GET", "/api/v1/journeys/{journey_id}/documents/{document_id}/content")
def _document_content(world: World) -> Iterator[Probe]:
    yield from _document_walk(world, "/content")


# --- signing in and out --------------------------------------------------------------------------


@walks("POST", "/auth/demo")
def _demo_sign_in(world: World) -> Iterator[Probe]:
    templates = ({"customer": "<<v>>"}, {"staff": "<<v>>"}, {"staff": "casey", "method": "<<v>>"})
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        for template in templates:
            body = partial(json_body, template, {"v": bad.json})
            send = partial(send_json, world.anonymous, "POST", "/auth/demo", body)
            slot = next(name for name, value in template.items() if value == "<<v>>")
            yield Probe(f"demo sign-in {slot}= {bad}", send, REFUSED)
    for raw in (b"NaN", b'{"customer": "sam", "customer": "alex"}', b'"\\udc00"'):
        send = partial(send_json, world.anonymous, "POST", "/auth/demo", lambda raw=raw: raw)
        yield Probe(f"demo sign-in body {raw!r}", send, REFUSED)


def _token(http: Any) -> str:
    """The CSRF token a page form carries (signing-in pages issue one to anybody)."""
    page = http.get("/sign-in", headers={"accept": "text/html"})
    found = CSRF_FIELD.search(page.text)
    assert found, page.text[:300]
    return found.group(1)


def _post_page(http: Any, path: str, pairs: Callable[[], list], multipart: bool = False):
    body, kind = multipart_body(pairs()) if multipart else (form_body(pairs()), FORM)
    headers = {"content-type": kind, "accept": "text/html"}
    return http.post(path, content=body, headers=headers, follow_redirects=False)


# The demo's sign-in pages: the field naming the person, and a good person to name.
SIGN_IN_PAGES = {"/sign-in": ("customer", "sam"), "/staff/sign-in": ("staff", "casey")}


def _sign_in_page(path: str) -> Walk:
    def walk(world: World) -> Iterator[Probe]:
        yield from query_probes(world.anonymous, path, ("next", "level", "max_age"))

    return walk


def _sign_in(path: str) -> Walk:
    field, person = SIGN_IN_PAGES[path]

    def walk(world: World) -> Iterator[Probe]:
        http = world.anonymous
        for bad in [b for b in BAD_VALUES if b.text is not None]:
            for name in (field, "method", "level", "max_age"):
                good = [(field, person)] if name != field else []
                pairs = partial(
                    lambda v, n=name, g=good: [("csrf_token", _token(http)), *g, (n, v)], bad.text
                )
                send = partial(_post_page, http, path, pairs)
                yield Probe(f"sign in {name}= {bad}", send, REFUSED)
        for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
            pairs = partial(
                lambda v: [("csrf_token", _token(http)), (field, person), ("next", v)], bad.text
            )
            yield Probe(f"sign in next= {bad}", partial(_post_page, http, path, pairs), REFUSED)
            pairs = partial(lambda v: [("csrf_token", v), (field, person)], bad.text)
            yield Probe(f"sign in token= {bad}", partial(_post_page, http, path, pairs), REFUSED)

    return walk


for _path in SIGN_IN_PAGES:
    walks("GET", _path)(_sign_in_page(_path))
    walks("POST", _path)(_sign_in(_path))


@walks("POST", "/sign-out")
def _sign_out(world: World) -> Iterator[Probe]:
    http = world.sam.http
    token = world.collision.token
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        pairs = partial(lambda v: [("csrf_token", v)], bad.text)
        yield Probe(
            f"sign out token= {bad}", partial(_post_page, http, "/sign-out", pairs), REFUSED
        )
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        for multipart in (False, True):
            pairs = partial(lambda v: [("csrf_token", token()), ("x", v)], bad.text)
            send = partial(_post_page, http, "/sign-out", pairs, multipart)
            yield Probe(f"sign out, a field= {bad} (multipart {multipart})", send, REFUSED)


def _api_sign_out(http: Any, token: bytes | None, query: str = ""):
    """POST /auth/sign-out with `token` as X-CSRF-Token (None: the client's own header). The
    route takes no body (one sent is never read), so only the token and the query are walked."""
    headers: dict[str, Any] = {} if token is None else {"x-csrf-token": token}
    return http.post(f"/auth/sign-out{query}", headers=headers)


@walks("POST", "/auth/sign-out")
def _sign_out_api(world: World) -> Iterator[Probe]:
    """Bad tokens and bad query strings never sign Sam out (nothing changes)."""
    http = world.sam.http
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        if any(c in bad.text for c in b"\r\n\0") or len(bad.text) > 4000:
            continue  # not a header value a client can send
        send = partial(_api_sign_out, http, bad.text)
        yield Probe(f"API sign-out X-CSRF-Token: {bad}", send, REFUSED)
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        query = f"?{form_body([('x', bad.text)]).decode()}"
        send = partial(_api_sign_out, http, None, query=query)
        yield Probe(f"API sign-out ?x= {bad}", send, REFUSED)


# --- starting, and the journey's pages -----------------------------------------------------------


@walks("GET", "/start/{journey_type}")
def _start_page(world: World) -> Iterator[Probe]:
    yield from query_probes(world.sam.http, "/start/motor-claim")
    ids = {"journey_type": "motor-claim"}
    yield from id_probes("GET", "/start/{journey_type}", ids, partial(get, world.sam.http))


@walks("POST", "/start/{journey_type}")
def _start_form(world: World) -> Iterator[Probe]:
    http = world.sam.http
    token = world.collision.token
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        pairs = partial(lambda v: [("csrf_token", v)], bad.text)
        send = partial(_post_page, http, "/start/motor-claim", pairs)
        yield Probe(f"start token= {bad}", send, REFUSED)
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        pairs = partial(lambda v: [("csrf_token", token()), ("x", v)], bad.text)
        send = partial(_post_page, http, "/start/motor-claim", pairs)
        yield Probe(f"start, a field= {bad}", send, REFUSED)
    pairs = lambda: [("csrf_token", token())]  # noqa: E731
    ids = {"journey_type": "motor-claim"}
    send = lambda path: _post_page(http, path, pairs)  # noqa: E731
    yield from id_probes("POST", "/start/{journey_type}", ids, send)


def _page_get_walk(world: World, template: str, names: tuple[str, ...] = ()) -> Iterator[Probe]:
    claim = world.collision
    ids = {"journey_id": claim.id, "step": "incident"}
    ids = {k: v for k, v in ids.items() if "{" + k + "}" in template}
    yield from query_probes(claim.api.http, template.format(**ids), names)
    yield from id_probes("GET", template, ids, partial(get, claim.api.http))


for _template, _names in (
    ("/journeys/{journey_id}", ()),
    ("/journeys/{journey_id}/steps/{step}", ("change",)),
    ("/journeys/{journey_id}/check-answers", ()),
    ("/journeys/{journey_id}/confirmation", ()),
    ("/journeys/{journey_id}/status", ()),
):
    walks("GET", _template)(
        lambda world, t=_template, n=_names: _page_get_walk(world, t, n)  # type: ignore[misc]
    )


def _page_pairs(
    world: World, claim: Claim, step: str, name: str, value: bytes, part: str | None
) -> list[tuple[str | bytes, str | bytes]]:
    """The step's form as its page posts it, with `value` in field `name` (or in one part
    of a date), at the claim's revision."""
    revision, answers = world.current(claim)
    fields = dict(answered_fields(answers, step))
    pairs: list[tuple[str | bytes, str | bytes]] = [
        ("csrf_token", claim.token()),
        ("revision", str(revision)),
    ]
    target = f"{name}-{part}" if part else name
    for key, text in as_form({n: answers[n] for n in fields}, fields):
        if key != target:
            pairs.append((key, text))
    return [*pairs, (target, value)]


def _page_step_probes(world: World, draft: bool) -> Iterator[Probe]:
    for claim in world.claims:
        answers = world.current(claim)[1]
        for step in claim.steps:
            path = f"/journeys/{claim.id}/steps/{step}" + ("/draft" if draft else "")
            multipart = step == "photos" or step == "settlement"  # pages with file inputs
            for name, kind in answered_fields(answers, step):
                parts = ("day",) if kind == FieldType.DATE else (None,)
                for bad in [b for b in EVERY_FIELD if b.text is not None]:
                    if draft:
                        refuse = refused_as_draft(bad, as_json=False)
                    else:
                        refuse = refused_on_submit(bad, kind, as_json=False)
                    for part in parts:
                        pairs = partial(_page_pairs, world, claim, step, name, bad.text, part)
                        yield Probe(
                            f"page {'draft' if draft else 'continue'} {step}: "
                            f"{name}{'-' + part if part else ''}= {bad}",
                            partial(_post_page, claim.api.http, path, pairs, multipart),
                            REFUSED if refuse else MAY_KEEP,
                            None if draft or bad.kind == NOT_UNICODE else name,
                        )
    claim = world.collision
    path = f"/journeys/{claim.id}/steps/incident" + ("/draft" if draft else "")
    for bad in [b for b in BAD_REVISIONS if b.text is not None]:
        pairs = partial(lambda v: [("csrf_token", claim.token()), ("revision", v)], bad.text)
        yield Probe(
            f"page revision= {bad}",
            partial(_post_page, claim.api.http, path, pairs),
            STALE_OR_REFUSED,
        )
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        for key in ("action", "change", "remove", bad.text):
            pairs = partial(_control_pairs, world, claim, key, bad.text)
            send = partial(_post_page, claim.api.http, path, pairs)
            yield Probe(f"page {key!r}= {bad}", send, REFUSED)
    template = "/journeys/{journey_id}/steps/{step}" + ("/draft" if draft else "")
    ids = {"journey_id": claim.id, "step": "incident"}
    pairs = partial(_control_pairs, world, claim, "action", "save")
    send = lambda path: _post_page(claim.api.http, path, pairs)  # noqa: E731
    yield from id_probes("POST", template, ids, send)


def _control_pairs(
    world: World, claim: Claim, key: str | bytes, value: str | bytes
) -> list[tuple[str | bytes, str | bytes]]:
    return [("csrf_token", claim.token()), ("revision", world.revision(claim)), (key, value)]


@walks("POST", "/journeys/{journey_id}/steps/{step}")
def _page_submit_step(world: World) -> Iterator[Probe]:
    yield from _page_step_probes(world, draft=False)
    # A no-JavaScript upload whose file name is not valid text, with the step.
    claim = world.collision
    path = f"/journeys/{claim.id}/steps/photos"
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        send = partial(_photos_with_file, world, claim, path, bad.text or b"")
        yield Probe(f"page photos, a file named {bad}", send, REFUSED)


def _photos_with_file(world: World, claim: Claim, path: str, filename: bytes) -> httpx.Response:
    pairs = [("csrf_token", claim.token()), ("revision", world.revision(claim))]
    body, kind = multipart_body(pairs, [("damage_photos", filename, jpeg_bytes())])
    headers = {"content-type": kind, "accept": "text/html"}
    return claim.api.http.post(path, content=body, headers=headers, follow_redirects=False)


@walks("POST", "/journeys/{journey_id}/steps/{step}/draft")
def _page_autosave(world: World) -> Iterator[Probe]:
    yield from _page_step_probes(world, draft=True)


@walks("POST", "/journeys/{journey_id}/check-answers")
def _page_send(world: World) -> Iterator[Probe]:
    claim = world.collision
    path = f"/journeys/{claim.id}/check-answers"
    for bad in [b for b in BAD_REVISIONS if b.text is not None]:
        pairs = partial(
            lambda v: [("csrf_token", claim.token()), ("revision", v), ("declaration", "yes")],
            bad.text,
        )
        yield Probe(
            f"send revision= {bad}",
            partial(_post_page, claim.api.http, path, pairs),
            STALE_OR_REFUSED,
        )
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        pairs = partial(_declaration_pairs, world, claim, bad.text)
        send = partial(_post_page, claim.api.http, path, pairs)
        yield Probe(f"send declaration= {bad}", send, REFUSED)
    template = "/journeys/{journey_id}/check-answers"
    pairs = partial(_declaration_pairs, world, claim, "no")
    send = lambda path: _post_page(claim.api.http, path, pairs)  # noqa: E731
    yield from id_probes("POST", template, {"journey_id": claim.id}, send)


def _declaration_pairs(world: World, claim: Claim, value: bytes | str) -> list:
    return [
        ("csrf_token", claim.token()),
        ("revision", world.revision(claim)),
        ("declaration", value),
    ]


# --- the customer's requests for more information ------------------------------------------------


@dataclass(frozen=True)
class TaskWorld:
    """Alex's referred claim, with Casey asking a question and for a photo (both left open)."""

    journey_id: str
    question: str
    upload: str


_TASK_WORLDS: dict[int, TaskWorld] = {}
TASK_REFUSED = {NOT_UNICODE, CONTROL, OVERSIZED}  # in the words of an answer ("NaN" is words)


def task_world(world: World) -> TaskWorld:
    """Built once per world, on the first task walk (before its first probe is measured)."""
    if id(world) not in _TASK_WORLDS:
        journey_id = referred(world.components, world.alex, settlement="cash", amount="4000")
        case_id = str(case_of(world.components, journey_id)["id"])
        cases = world.components.cases
        cases.claim(casey(), case_id)
        question = cases.request_information(casey(), case_id, code="parked_where").id
        upload = cases.request_information(casey(), case_id, code="other_plate").id
        _TASK_WORLDS[id(world)] = TaskWorld(journey_id, question, upload)
    return _TASK_WORLDS[id(world)]


def _task_path(world: World, task: str | None = None, suffix: str = "", page: bool = False) -> str:
    tasks = task_world(world)
    path = f"{'' if page else '/api/v1'}/journeys/{tasks.journey_id}/tasks"
    return path + (f"/{task}" if task else "") + suffix


def _refused_in_words(bad: Bad) -> bool | None:
    """Whether an answer's words refuse `bad` (None: fair text, which would answer the
    request under attack, and is not sent)."""
    if bad.json is not None and not bad.json.startswith(b'"'):
        return True  # not a string at all
    return True if bad.kind in TASK_REFUSED else None


@walks("GET", "/api/v1/journeys/{journey_id}/tasks")
def _api_tasks(world: World) -> Iterator[Probe]:
    yield from query_probes(world.alex.http, _task_path(world))
    ids = {"journey_id": task_world(world).journey_id}
    template = "/api/v1/journeys/{journey_id}/tasks"
    yield from id_probes("GET", template, ids, world.alex.http.get)


@walks("POST", "/api/v1/journeys/{journey_id}/tasks/{task_id}")
def _api_answer(world: World) -> Iterator[Probe]:
    tasks = task_world(world)
    question, upload = _task_path(world, tasks.question), _task_path(world, tasks.upload)
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        if _refused_in_words(bad):
            body = partial(json_body, {"answer": "<<v>>"}, {"v": bad.json})
            named = None if bad.kind == NOT_UNICODE else "answer"
            send = partial(send_json, world.alex, "POST", question, body)
            yield Probe(f"answer answer= {bad}", send, REFUSED, named)
        body = partial(json_body, {"documents": ["<<v>>"]}, {"v": bad.json})
        named = None if bad.kind == NOT_UNICODE else "documents"
        send = partial(send_json, world.alex, "POST", upload, body)
        yield Probe(f"answer documents= [{bad}]", send, REFUSED, named)
    for raw in (b"NaN", b'"\\ud800"', b"[]", b'{"answer": "x", "answer": "y"}'):
        send = partial(send_json, world.alex, "POST", question, lambda raw=raw: raw)
        yield Probe(f"answer body {raw!r}", send, REFUSED)
    template = "/api/v1/journeys/{journey_id}/tasks/{task_id}"
    ids = {"journey_id": tasks.journey_id, "task_id": tasks.question}
    empty = partial(json_body, {"answer": " "}, {})
    yield from id_probes("POST", template, ids, partial(_send_to, world.alex, "POST", empty))


@walks("POST", "/api/v1/journeys/{journey_id}/tasks/{task_id}/documents")
def _api_task_upload(world: World) -> Iterator[Probe]:
    tasks = task_world(world)
    path = _task_path(world, tasks.upload, "/documents")
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        body, kind = multipart_body([], [("file", bad.text, jpeg_bytes())])
        expect = REFUSED if bad.kind == NOT_UNICODE else MAY_KEEP  # a name is made safe, kept
        yield Probe(
            f"task upload file name= {bad}",
            partial(_post_raw, world.alex, path, body, kind),
            expect,
        )
        body, kind = multipart_body([("file", bad.text)])
        yield Probe(
            f"task upload file= {bad} as text",
            partial(_post_raw, world.alex, path, body, kind),
            REFUSED,
        )
    body, kind = multipart_body([], [("file", "car.jpg", jpeg_bytes())])
    to_question = _task_path(world, tasks.question, "/documents")
    yield Probe(
        "a photo for a question", partial(_post_raw, world.alex, to_question, body, kind), REFUSED
    )
    for raw in (b'{"file": NaN}', b'{"file": "\\ud800"}'):
        send = partial(send_json, world.alex, "POST", path, lambda raw=raw: raw)
        yield Probe(f"task upload as JSON {raw!r}", send, REFUSED)
    template = "/api/v1/journeys/{journey_id}/tasks/{task_id}/documents"
    ids = {"journey_id": tasks.journey_id, "task_id": tasks.question}
    yield from id_probes("POST", template, ids, lambda p: _post_raw(world.alex, p, body, kind))


def _task_page_walk(world: World, suffix: str) -> Iterator[Probe]:
    tasks = task_world(world)
    http = world.alex.http
    yield from query_probes(http, _task_path(world, tasks.question, suffix, page=True))
    template = "/journeys/{journey_id}/tasks/{task_id}" + suffix
    ids = {"journey_id": tasks.journey_id, "task_id": tasks.question}
    yield from id_probes("GET", template, ids, partial(get, http))


@walks("GET", "/journeys/{journey_id}/tasks/{task_id}")
def _task_page(world: World) -> Iterator[Probe]:
    yield from _task_page_walk(world, "")


@walks("GET", "/journeys/{journey_id}/tasks/{task_id}/answered")
def _task_answered_page(world: World) -> Iterator[Probe]:
    yield from _task_page_walk(world, "/answered")


@walks("POST", "/journeys/{journey_id}/tasks/{task_id}")
def _task_answer_page(world: World) -> Iterator[Probe]:
    tasks = task_world(world)
    http, token = world.alex.http, world.alex.http.headers[CSRF_HEADER]
    question = _task_path(world, tasks.question, page=True)
    upload = _task_path(world, tasks.upload, page=True)
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        if bad.kind in TASK_REFUSED:
            pairs = partial(lambda v: [("csrf_token", token), ("answer", v)], bad.text)
            yield Probe(f"page answer= {bad}", partial(_post_page, http, question, pairs), REFUSED)
        pairs = partial(lambda v: [("csrf_token", token), (v, "x")], bad.text)
        yield Probe(f"page field named {bad}", partial(_post_page, http, question, pairs), REFUSED)
        files = [("files", bad.text, b"%PDF-1.4\n%%EOF\n")]
        body, kind = multipart_body([("csrf_token", token)], files)
        send = partial(_post_raw, world.alex, upload, body, kind)
        yield Probe(f"page files named {bad}, not a photo", send, REFUSED)
    pairs = lambda: [("csrf_token", token), ("files", "an-id")]  # noqa: E731
    yield Probe("page files as text", partial(_post_page, http, upload, pairs, True), REFUSED)
    template = "/journeys/{journey_id}/tasks/{task_id}"
    ids = {"journey_id": tasks.journey_id, "task_id": tasks.question}
    pairs = lambda: [("csrf_token", token), ("answer", " ")]  # noqa: E731
    yield from id_probes("POST", template, ids, lambda p: _post_page(http, p, pairs))


# --- who is signed in, the audit log, revoking sessions, the staff home -----------------------

AUDIT_FILTERS = ("actor", "action", "target_type", "target_id", "since", "limit")
_STAFF_CLIENTS: dict[tuple[int, str], TestClient] = {}


def staff_client(world: World, who: str) -> TestClient:
    """A demo member of staff signed in through the API, with the CSRF header (once a world)."""
    key = (id(world), who)
    if key not in _STAFF_CLIENTS:
        client = TestClient(world.app, raise_server_exceptions=False)
        assert client.post("/auth/demo", json={"staff": who}).status_code == 204
        client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
        _STAFF_CLIENTS[key] = client
    return _STAFF_CLIENTS[key]


walks("GET", "/api/v1/me")(lambda world: query_probes(world.sam.http, "/api/v1/me"))
walks("GET", "/staff")(lambda world: query_probes(staff_client(world, "casey"), "/staff"))


def _audit_reads(path: str) -> Walk:
    """Every bad value in every filter: refused, or read (and the read is recorded: the one
    row it may add)."""

    def walk(world: World) -> Iterator[Probe]:
        harper = staff_client(world, "harper")
        for probe in query_probes(harper, path, AUDIT_FILTERS):
            yield probe if probe.expect == REFUSED else replace(probe, expect=MAY_KEEP)

    return walk


for _path in ("/api/v1/audit", "/staff/audit"):
    walks("GET", _path)(_audit_reads(_path))

# The analysts' page: every bad value in every filter is refused or read; the page takes in
# events into its own DuckDB file, never writing the database.
walks("GET", "/insights")(
    lambda world: query_probes(
        staff_client(world, "avery"), "/insights", ("journey", "version", "since", "until")
    )
)


@walks("POST", "/api/v1/admin/sessions/revoke")
def _revoke(world: World) -> Iterator[Probe]:
    """A bad subject is refused; one that is only odd ends nobody's session but is recorded."""
    sasha = staff_client(world, "sasha")
    path = "/api/v1/admin/sessions/revoke"
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        body = partial(json_body, {"subject": "<<v>>"}, {"v": bad.json})
        send = partial(send_json, sasha, "POST", path, body)
        refuse = bad.kind in (NOT_UNICODE, CONTROL, OVERSIZED, WRONG_TYPE, NON_FINITE)
        yield Probe(f"revoke subject= {bad}", send, REFUSED if refuse else MAY_KEEP)
    for raw in (b"NaN", b'{"subject": "zz", "subject": "yy"}', b"[]", b'{"subject": "x", "y": 1}'):
        send = partial(send_json, sasha, "POST", path, lambda raw=raw: raw)
        yield Probe(f"revoke body {raw!r}", send, REFUSED)


# --- releases (/api/v1/admin/releases): Sasha, an admin, with the second factor they need ----

RELEASES = "/api/v1/admin/releases"


def strong_admin(world: World, who: str = "sasha") -> TestClient:
    """A member of staff (Sasha, an admin, by default) signed in with a second factor."""
    key = (id(world), f"{who}:one_time_code")
    if key not in _STAFF_CLIENTS:
        client = TestClient(world.app, raise_server_exceptions=False)
        body = {"staff": who, "method": "one_time_code"}
        assert client.post("/auth/demo", json=body).status_code == 204
        client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
        _STAFF_CLIENTS[key] = client
    return _STAFF_CLIENTS[key]


# One value of each class the admin's fields must refuse: the admin API is small and rarely
# called, so it is walked with these (each probe compares the whole database twice).
ADMIN_BAD = [
    bad
    for bad in EVERY_FIELD
    if bad.label in {"NaN", "a lone high surrogate", "superscript two", "NUL", "a list in a list"}
] + [b for b in BAD_VALUES if b.label == "20,000 characters"]


@walks("POST", "/api/v1/staff/subjects/export")
def _export_subject(world: World) -> Iterator[Probe]:
    """Harper, an auditor with a second factor: a customer id that is not one line of text is
    refused; an odd one is nobody (404). Only a real export is recorded (the audit log)."""
    harper = strong_admin(world, "harper")
    path = "/api/v1/staff/subjects/export"
    for bad in ADMIN_BAD:
        body = partial(json_body, {"customer": "<<v>>"}, {"v": bad.json})
        send = partial(send_json, harper, "POST", path, body)
        refuse = bad.kind in (NOT_UNICODE, CONTROL, OVERSIZED, WRONG_TYPE, NON_FINITE)
        yield Probe(f"export customer= {bad}", send, REFUSED if refuse else UNCHANGED)
    for raw in (b"NaN", b'{"customer": "alex", "customer": "sam"}', b"[]", b'{"customer": 1}'):
        send = partial(send_json, harper, "POST", path, lambda raw=raw: raw)
        yield Probe(f"export body {raw!r}", send, REFUSED)
    alex = partial(send_json, harper, "POST", path, lambda: b'{"customer": "alex"}')
    yield Probe("export alex (recorded)", alex, MAY_KEEP)


@walks("GET", RELEASES)
def _list_releases(world: World) -> Iterator[Probe]:
    """A journey filter that is not a journey's name is refused; nothing is read."""
    sasha = strong_admin(world)
    for bad in ADMIN_BAD:
        if bad.text is None or len(bad.text) > 4000:
            continue
        url = f"{RELEASES}?{form_body([('journey', bad.text)]).decode()}"
        yield Probe(f"GET {RELEASES}?journey= {bad}", partial(get, sasha, url), REFUSED)


@walks("POST", RELEASES)
def _start_release(world: World) -> Iterator[Probe]:
    """Every bad value in each field of a release is refused; nothing starts."""
    sasha = strong_admin(world)
    good = {"journey": "motor-claim", "version": "abcdef", "canary": 10, "strategy": "default"}
    for name in ("journey", "version", "canary", "strategy"):
        for bad in ADMIN_BAD:
            body = partial(json_body, {**good, name: "<<v>>"}, {"v": bad.json})
            send = partial(send_json, sasha, "POST", RELEASES, body)
            yield Probe(f"release {name}= {bad}", send, REFUSED)
    for raw in (b"NaN", b"[]", b'{"journey": "x", "x": 1}'):
        send = partial(send_json, sasha, "POST", RELEASES, lambda raw=raw: raw)
        yield Probe(f"release body {raw!r}", send, REFUSED)


@walks("POST", RELEASES + "/{release_id}/decisions")
def _decide_release(world: World) -> Iterator[Probe]:
    """A bad release id or decision is refused; no release exists to decide on."""
    sasha = strong_admin(world)
    template = RELEASES + "/{release_id}/decisions"

    def send(path: str) -> httpx.Response:
        return send_json(sasha, "POST", path, lambda: b'{"decision": "pause"}')

    yield from id_probes("POST", template, {"release_id": "zzNoSuchRelease"}, send)
    path = template.format(release_id="zzNoSuchRelease")
    for bad in ADMIN_BAD:
        body = partial(json_body, {"decision": "<<v>>"}, {"v": bad.json})
        yield Probe(f"decision= {bad}", partial(send_json, sasha, "POST", path, body), REFUSED)


# --- the staff API (/api/v1/staff) ------------------------------------------------------------

STAFF_API = "/api/v1/staff"
# Classes of bad value every text field of the staff API refuses (fair text such as "²" is a
# name or a note like any other, and is kept).
STAFF_REFUSED = {NON_FINITE, NOT_UNICODE, CONTROL, OVERSIZED, WRONG_TYPE}


@dataclass(frozen=True)
class StaffWorld:
    """Riley (a fraud investigator) signed in, holding the case of Jordan's referred claim,
    with a photo of that claim and a saved view."""

    riley: TestClient
    case_id: str
    document_id: str
    view_id: str


_STAFF_WORLDS: dict[int, StaffWorld] = {}


def staff_world(world: World) -> StaffWorld:
    """Built once per world, on the first staff walk (before its first probe is measured)."""
    if id(world) not in _STAFF_WORLDS:
        jordan = Api(TestClient(world.app, raise_server_exceptions=False)).sign_in("jordan")
        journey_id = referred(world.components, jordan)
        case_id = str(case_of(world.components, journey_id)["id"])
        riley = TestClient(world.app, raise_server_exceptions=False)
        assert riley.post("/auth/demo", json={"staff": "riley"}).status_code == 204
        riley.headers[CSRF_HEADER] = riley.cookies[CSRF_COOKIE]
        assert riley.post(f"{STAFF_API}/cases/{case_id}/claim").status_code == 200
        page = riley.get(f"{STAFF_API}/cases/{case_id}").json()
        photo = next(d["id"] for d in page["documents"] if d["field"] == "damage_photos")
        view = riley.post(f"{STAFF_API}/views", json={"name": "Mine", "filters": {}}).json()
        _STAFF_WORLDS[id(world)] = StaffWorld(riley, case_id, photo, view["id"])
    return _STAFF_WORLDS[id(world)]


def staff_refuses(bad: Bad, limit: int) -> bool:
    """Whether a staff API text field of at most `limit` characters must refuse `bad`."""
    if bad.text is None or bad.kind in STAFF_REFUSED:
        return True
    return bad.kind == LONG_NUMBER and limit < len(bad.text)


def _staff_field_probes(
    world: World,
    path: str,
    template: dict[str, Any],
    field: str,
    limit: int | None,
    fair: str | None,
) -> Iterator[Probe]:
    """Each bad value in `field` of `template` (its slot "<<v>>"): refused, naming the field,
    when it must be (`limit` None: every value is, the field being a choice); what is fair
    text is sent only when `fair` says what to expect of it (None: it would change the case
    under attack, and is left out)."""
    staff = staff_world(world)
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        refuse = limit is None or staff_refuses(bad, limit)
        if not refuse and fair is None:
            continue
        body = partial(json_body, template, {"v": bad.json})
        send = partial(send_json, staff.riley, "POST", path, body)
        named = None if bad.kind == NOT_UNICODE else field
        yield Probe(f"POST {path} {field}= {bad}", send, REFUSED if refuse else fair, named)


def _staff_bodies(world: World, path: str) -> Iterator[Probe]:
    """Bodies that are not an object of the fields the route takes."""
    staff = staff_world(world)
    for raw in (b"NaN", b'"\\ud800"', b"[]", b'{"note": "x", "note": "y"}'):
        send = partial(send_json, staff.riley, "POST", path, lambda raw=raw: raw)
        yield Probe(f"POST {path} body {raw!r}", send, REFUSED)


def _staff_ids(
    world: World, method: str, template: str, names: tuple[str, ...], body: Any = None
) -> Iterator[Probe]:
    """Bad ids in the path (the others good): 404 or another 4xx, and nothing changes."""
    staff = staff_world(world)
    good = {"case_id": staff.case_id, "document_id": staff.document_id, "view_id": staff.view_id}
    ids = {name: good[name] for name in names}

    def send(path: str) -> httpx.Response:
        return staff.riley.request(method, path, json=body)

    yield from id_probes(method, template, ids, send)


def _staff_unicode_query(world: World, method: str, path: str) -> Iterator[Probe]:
    """A query string that is not UTF-8: refused before the route acts."""
    staff = staff_world(world)
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        url = f"{path}?{form_body([('x', bad.text or b'')]).decode()}"
        yield Probe(f"{method} {path}?x= {bad}", partial(staff.riley.request, method, url), REFUSED)


for _path in ("/queues", "/views"):
    walks("GET", STAFF_API + _path)(
        lambda world, path=STAFF_API + _path: query_probes(staff_world(world).riley, path)
    )


@walks("GET", f"{STAFF_API}/cases")
def _staff_cases(world: World) -> Iterator[Probe]:
    names = ("queue", "journey", "status", "assignee", "priority", "overdue", "view")
    yield from query_probes(staff_world(world).riley, f"{STAFF_API}/cases", names)


@walks("GET", f"{STAFF_API}/cases/{{case_id}}")
def _staff_case(world: World) -> Iterator[Probe]:
    staff = staff_world(world)
    path = f"{STAFF_API}/cases/{staff.case_id}"
    for bad in [b for b in EVERY_FIELD + BAD_IDS if b.text is not None and len(b.text) < 4000]:
        url = f"{path}?{form_body([('x', bad.text)]).decode()}"
        # Read, and the read is audited (case.viewed): the one row it may add.
        expect = REFUSED if bad.kind == NOT_UNICODE else MAY_KEEP
        yield Probe(f"GET {path}?x= {bad}", partial(get, staff.riley, url), expect)
    yield from _staff_ids(world, "GET", f"{STAFF_API}/cases/{{case_id}}", ("case_id",))


@walks("GET", f"{STAFF_API}/cases/{{case_id}}/documents/{{document_id}}/content")
def _staff_document(world: World) -> Iterator[Probe]:
    staff = staff_world(world)
    path = f"{STAFF_API}/cases/{staff.case_id}/documents/{staff.document_id}/content"
    for bad in [b for b in EVERY_FIELD + BAD_IDS if b.text is not None and len(b.text) < 4000]:
        url = f"{path}?{form_body([('copy', bad.text)]).decode()}"
        named = None if bad.kind == NOT_UNICODE else "copy"
        yield Probe(f"GET {path}?copy= {bad}", partial(get, staff.riley, url), REFUSED, named)
    template = f"{STAFF_API}/cases/{{case_id}}/documents/{{document_id}}/content"
    yield from _staff_ids(world, "GET", template, ("case_id", "document_id"))


def _staff_plain_action(action: str) -> Walk:
    """claim, release, refer-to-fraud: no body; only their ids and query can be bad."""

    def walk(world: World) -> Iterator[Probe]:
        path = f"{STAFF_API}/cases/{staff_world(world).case_id}/{action}"
        yield from _staff_unicode_query(world, "POST", path)
        yield from _staff_ids(
            world, "POST", f"{STAFF_API}/cases/{{case_id}}/{action}", ("case_id",)
        )

    return walk


for _action in ("claim", "release", "refer-to-fraud"):
    walks("POST", f"{STAFF_API}/cases/{{case_id}}/{_action}")(_staff_plain_action(_action))


def _staff_action(
    action: str,
    fields: list[tuple[dict[str, Any], str, int | None, str | None]],
    good: dict[str, Any],
) -> Walk:
    """An action with a body: each field's bad values, bad bodies, bad ids (with `good`)."""

    def walk(world: World) -> Iterator[Probe]:
        path = f"{STAFF_API}/cases/{staff_world(world).case_id}/{action}"
        for template, field, limit, fair in fields:
            yield from _staff_field_probes(world, path, template, field, limit, fair)
        yield from _staff_bodies(world, path)
        yield from _staff_unicode_query(world, "POST", path)
        template = f"{STAFF_API}/cases/{{case_id}}/{action}"
        yield from _staff_ids(world, "POST", template, ("case_id",), good)

    return walk


walks("POST", f"{STAFF_API}/cases/{{case_id}}/reassign")(
    _staff_action("reassign", [({"to": "<<v>>"}, "to", 100, None)], {"to": "riley"})
)
walks("POST", f"{STAFF_API}/cases/{{case_id}}/notes")(
    _staff_action("notes", [({"note": "<<v>>"}, "note", 5000, MAY_KEEP)], {"note": "x"})
)
# The journey waits for a decision: a note that is fair text is answered 409, nothing changes.
walks("POST", f"{STAFF_API}/cases/{{case_id}}/resolve")(
    _staff_action("resolve", [({"note": "<<v>>"}, "note", 5000, UNCHANGED)], {"note": "x"})
)
# Every queue named is refused (one not declared, or not a name at all); the note's fair text
# goes with the case's own queue, answered 409, so nothing moves.
walks("POST", f"{STAFF_API}/cases/{{case_id}}/return")(
    _staff_action(
        "return",
        [
            ({"queue": "<<v>>", "note": "x"}, "queue", None, None),
            ({"queue": "fraud", "note": "<<v>>"}, "note", 5000, UNCHANGED),
        ],
        {"queue": "claims", "note": "x"},
    )
)
walks("POST", f"{STAFF_API}/cases/{{case_id}}/decide")(
    _staff_action(
        "decide",
        [
            ({"verdict": "<<v>>", "reason": "not_covered"}, "verdict", None, None),
            ({"verdict": "decline", "reason": "<<v>>"}, "reason", None, None),
            ({"verdict": "decline", "reason": "not_covered", "note": "<<v>>"}, "note", 2000, None),
        ],
        {"verdict": "decline", "reason": "not_covered"},
    )
)
walks("POST", f"{STAFF_API}/cases/{{case_id}}/request-information")(
    _staff_action(
        "request-information",
        [
            ({"code": "<<v>>"}, "code", None, None),
            ({"kind": "<<v>>", "prompt": "Where?"}, "kind", None, None),
            ({"kind": "question", "prompt": "<<v>>"}, "prompt", 500, None),
            ({"kind": "upload", "prompt": "Plate", "accept": ["<<v>>"]}, "accept", None, None),
            ({"kind": "upload", "prompt": "Plate", "accept": "<<v>>"}, "accept", None, None),
        ],
        {"code": "parked_where"},
    )
)


@walks("POST", f"{STAFF_API}/views")
def _staff_save_view(world: World) -> Iterator[Probe]:
    path = f"{STAFF_API}/views"
    fields: list[tuple[dict[str, Any], str, int | None]] = [
        ({"name": "<<v>>"}, "name", 100),
        ({"name": "V", "filters": {"status": "<<v>>"}}, "status", None),
        ({"name": "V", "filters": {"priority": "<<v>>"}}, "priority", None),
        ({"name": "V", "filters": {"overdue": "<<v>>"}}, "overdue", None),
        ({"name": "V", "filters": {"queue": "<<v>>"}}, "queue", 100),
        ({"name": "V", "filters": {"journey": "<<v>>"}}, "journey", 100),
        ({"name": "V", "filters": {"assignee": "<<v>>"}}, "assignee", 100),
        ({"name": "V", "filters": "<<v>>"}, "filters", None),
    ]
    for template, field, limit in fields:
        yield from _staff_field_probes(world, path, template, field, limit, None)
    yield from _staff_bodies(world, path)
    yield from _staff_unicode_query(world, "POST", path)


@walks("DELETE", f"{STAFF_API}/views/{{view_id}}")
def _staff_delete_view(world: World) -> Iterator[Probe]:
    yield from _staff_unicode_query(
        world, "DELETE", f"{STAFF_API}/views/{staff_world(world).view_id}"
    )
    yield from _staff_ids(world, "DELETE", f"{STAFF_API}/views/{{view_id}}", ("view_id",))


# --- the workbench's pages (/workbench) -----------------------------------------------------

WORKBENCH = "/workbench"
# Bad form values a page's text field refuses; the rest is fair text, like any other.
PAGE_REFUSED = {NOT_UNICODE, CONTROL, OVERSIZED}


def page_refuses(bad: Bad, limit: int | None) -> bool:
    """Whether a workbench form's text field (`limit` None: a choice) must refuse `bad`."""
    if limit is None or bad.kind in PAGE_REFUSED:
        return True
    return len(bad.text or b"") > limit


def _riley_token(world: World) -> str:
    return str(staff_world(world).riley.cookies[CSRF_COOKIE])


def _workbench_form(
    world: World,
    path: str,
    fields: dict[str, str | bytes],
    slot: str | None = None,
    value: bytes | None = None,
    token: bytes | str | None = None,
):
    """Riley posts a workbench form: its fields, `slot` holding `value`, with her CSRF token
    (or `token`)."""
    pairs = [("csrf_token", token if token is not None else _riley_token(world))]
    pairs += [(name, value if name == slot else good) for name, good in fields.items()]
    return _post_page(staff_world(world).riley, path, lambda: pairs)


def _workbench_field_probes(
    world: World,
    path: str,
    fields: dict[str, str | bytes],
    slot: str,
    limit: int | None,
    fair: str | None,
    shown_beside: str,
) -> Iterator[Probe]:
    """Each bad value in form field `slot`: refused beside `shown_beside` when it must be (a
    case page shown again is a view of the case: REFUSED_SEEN); fair text only when `fair`
    says what to expect of it (None: it would change the case under attack)."""
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        refuse = page_refuses(bad, limit)
        if not refuse and fair is None:
            continue
        send = partial(_workbench_form, world, path, fields, slot, bad.text)
        named = None if bad.kind == NOT_UNICODE else shown_beside
        yield Probe(f"POST {path} {slot}= {bad}", send, REFUSED_SEEN if refuse else fair, named)


def _workbench_plumbing(
    world: World, template: str, fields: dict[str, str | bytes], names: tuple[str, ...]
) -> Iterator[Probe]:
    """A form's CSRF token and unknown fields (never acted on), and bad ids in its path."""
    staff = staff_world(world)
    good = {"case_id": staff.case_id, "view_id": staff.view_id}
    path = template.format(**good)
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        send = partial(_workbench_form, world, path, fields, token=bad.text)
        yield Probe(f"POST {path} csrf_token= {bad}", send, REFUSED)
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        send = partial(_workbench_form, world, path, {**fields, "x": ""}, "x", bad.text)
        yield Probe(f"POST {path} a field x= {bad}", send, REFUSED)
    send = partial(_workbench_form, world, path, {**fields, "zz": "1"})
    yield Probe(f"POST {path} a field the form does not have", send, REFUSED)

    def post_to(bad_path: str) -> httpx.Response:
        return _workbench_form(world, bad_path, fields)

    yield from id_probes("POST", template, {name: good[name] for name in names}, post_to)


def _workbench_action(
    action: str,
    fields: dict[str, str | bytes],
    slots: list[tuple[str, dict[str, str | bytes], int | None, str | None, str]],
) -> Walk:
    """A case's form: each slot's bad values (slot, the other fields, limit, what fair text
    does, where its error shows), its token, unknown fields and bad ids."""

    def walk(world: World) -> Iterator[Probe]:
        path = f"{WORKBENCH}/cases/{staff_world(world).case_id}/{action}"
        for slot, others, limit, fair, beside in slots:
            yield from _workbench_field_probes(
                world, path, {**others, slot: ""}, slot, limit, fair, beside
            )
        template = WORKBENCH + "/cases/{case_id}/" + action
        yield from _workbench_plumbing(world, template, fields, ("case_id",))

    return walk


walks("GET", WORKBENCH)(lambda world: query_probes(staff_world(world).riley, WORKBENCH))


@walks("GET", f"{WORKBENCH}/cases")
def _workbench_cases(world: World) -> Iterator[Probe]:
    names = ("queue", "journey", "status", "assignee", "priority", "overdue", "view")
    yield from query_probes(staff_world(world).riley, f"{WORKBENCH}/cases", names)


@walks("GET", f"{WORKBENCH}/cases/{{case_id}}")
def _workbench_case(world: World) -> Iterator[Probe]:
    staff = staff_world(world)
    path = f"{WORKBENCH}/cases/{staff.case_id}"
    for bad in [b for b in EVERY_FIELD + BAD_IDS if b.text is not None and len(b.text) < 4000]:
        for name in ("x", "done", "verdict", "reason", "confirmed"):
            url = f"{path}?{form_body([(name, bad.text)]).decode()}"
            # Shown, and the view is audited (case.viewed): the one row it may add.
            expect = REFUSED if bad.kind == NOT_UNICODE else MAY_KEEP
            yield Probe(f"GET {path}?{name}= {bad}", partial(get, staff.riley, url), expect)
    ids = {"case_id": staff.case_id}
    yield from id_probes("GET", WORKBENCH + "/cases/{case_id}", ids, partial(get, staff.riley))


for _action in ("claim", "release", "refer-to-fraud"):
    walks("POST", WORKBENCH + "/cases/{case_id}/" + _action)(_workbench_action(_action, {}, []))
walks("POST", WORKBENCH + "/cases/{case_id}/reassign")(
    _workbench_action("reassign", {"to": "riley"}, [("to", {}, 100, None, "reassign-to")])
)
walks("POST", WORKBENCH + "/cases/{case_id}/notes")(
    _workbench_action("notes", {"note": "x"}, [("note", {}, 5000, MAY_KEEP, "note")])
)
# The journey waits for a decision: fair text is refused (409), the case shown again.
walks("POST", WORKBENCH + "/cases/{case_id}/resolve")(
    _workbench_action("resolve", {"note": "x"}, [("note", {}, 5000, REFUSED_SEEN, "resolve-note")])
)
# The good form names the case's own queue (409 if it were ever acted on): nothing moves.
walks("POST", WORKBENCH + "/cases/{case_id}/return")(
    _workbench_action(
        "return",
        {"queue": "fraud", "note": "x"},
        [
            ("queue", {"note": "x"}, None, None, "return-queue"),
            ("note", {"queue": "fraud"}, 5000, None, "return-note"),
        ],
    )
)
_DECLINE = {"verdict": "decline", "reason": "not_covered", "note": ""}
walks("POST", WORKBENCH + "/cases/{case_id}/decide")(
    _workbench_action(
        "decide",
        _DECLINE,
        [
            ("verdict", {"reason": "not_covered", "note": ""}, None, None, "approve-reason"),
            ("reason", {"verdict": "decline", "note": ""}, None, None, "decline-reason"),
            ("note", {"verdict": "decline", "reason": "not_covered"}, 2000, None, "decline-note"),
        ],
    )
)
_OWN = {"request": "own", "kind": "question", "prompt": "Where?"}
walks("POST", WORKBENCH + "/cases/{case_id}/request-information")(
    _workbench_action(
        "request-information",
        _OWN,
        [
            ("request", {"kind": "", "prompt": ""}, None, None, "request"),
            ("kind", {"request": "own", "prompt": "Where?"}, None, None, "kind"),
            ("prompt", {"request": "own", "kind": "question"}, 500, None, "prompt"),
        ],
    )
)


@walks("POST", f"{WORKBENCH}/views")
def _workbench_save_view(world: World) -> Iterator[Probe]:
    path = f"{WORKBENCH}/views"
    empty = {"name": "V", "journey": "", "queue": "", "status": "", "assignee": ""}
    empty |= {"priority": "", "overdue": ""}
    for slot, limit, beside in [
        ("name", 100, "view-name"),
        ("status", None, "status"),
        ("priority", None, "priority"),
        ("overdue", None, "overdue"),
        ("queue", 100, "queue"),
        ("journey", 100, "journey"),
        ("assignee", 100, "assignee"),
    ]:
        for probe in _workbench_field_probes(world, path, empty, slot, limit, MAY_KEEP, beside):
            # The cases page again shows no case: nothing is viewed.
            yield probe if probe.expect != REFUSED_SEEN else replace(probe, expect=REFUSED)
    yield from _workbench_plumbing(world, path, empty, ())


@walks("POST", WORKBENCH + "/views/{view_id}/delete")
def _workbench_delete_view(world: World) -> Iterator[Probe]:
    # Only what is never acted on: the view itself is kept for the other walks.
    template = WORKBENCH + "/views/{view_id}/delete"
    staff = staff_world(world)
    path = template.format(view_id=staff.view_id)
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        send = partial(_workbench_form, world, path, {}, token=bad.text)
        yield Probe(f"POST {path} csrf_token= {bad}", send, REFUSED)
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        send = partial(_workbench_form, world, path, {"x": ""}, "x", bad.text)
        yield Probe(f"POST {path} a field x= {bad}", send, REFUSED)

    def post_to(bad_path: str) -> httpx.Response:
        return _workbench_form(world, bad_path, {})

    yield from id_probes("POST", template, {"view_id": staff.view_id}, post_to)


# --- visitors (journeys anyone may start) --------------------------------------------------------
# The shipped journeys are all for signed-in customers, and Sam is one: what he sends to the
# visitors' routes is refused (a customer's claim has nothing to verify: 409), and so is any
# bad value, id or token, without a change.


@walks("POST", "/api/v1/visitor/journeys")
def _visitor_start(world: World) -> Iterator[Probe]:
    for client in (world.sam, world.anonymous):
        for bad in [b for b in BAD_VALUES if b.json is not None]:
            body = partial(json_body, {"type": "<<v>>"}, {"v": bad.json})
            send = partial(send_json, client, "POST", "/api/v1/visitor/journeys", body)
            yield Probe(f"visitor start type= {bad}", send, REFUSED)
    body = partial(json_body, {"type": "motor-claim"}, {})
    send = partial(send_json, world.anonymous, "POST", "/api/v1/visitor/journeys", body)
    yield Probe("visitor start of a journey for customers", send, REFUSED)


@walks("POST", "/api/v1/visitor/resume")
def _visitor_resume(world: World) -> Iterator[Probe]:
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        body = partial(json_body, {"link": "<<v>>"}, {"v": bad.json})
        send = partial(send_json, world.anonymous, "POST", "/api/v1/visitor/resume", body)
        yield Probe(f"resume link= {bad}", send, REFUSED)


def _email_walk(tail: str, fields: dict[str, str]) -> Walk:
    def walk(world: World) -> Iterator[Probe]:
        claim = world.collision
        path = f"/api/v1/journeys/{claim.id}/email/{tail}"
        for name in fields:
            for bad in [b for b in BAD_VALUES if b.json is not None]:
                body = partial(json_body, {**fields, name: "<<v>>"}, {"v": bad.json})
                send = partial(send_json, claim.api, "POST", path, body)
                yield Probe(f"email {tail} {name}= {bad}", send, REFUSED)
        template = "/api/v1/journeys/{journey_id}/email/" + tail
        body = partial(json_body, fields, {})
        ids = {"journey_id": claim.id}
        yield from id_probes("POST", template, ids, partial(_send_to, claim.api, "POST", body))

    return walk


walks("POST", "/api/v1/journeys/{journey_id}/email/code")(
    _email_walk("code", {"email": "sam@example.com"})
)
walks("POST", "/api/v1/journeys/{journey_id}/email/verify")(
    _email_walk("verify", {"email": "sam@example.com", "code": "123456"})
)
walks("POST", "/api/v1/journeys/{journey_id}/email/save")(_email_walk("save", {}))


@walks("POST", "/start/{journey_type}/visitor")
def _visitor_start_form(world: World) -> Iterator[Probe]:
    http = world.anonymous
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        pairs = partial(lambda v: [("csrf_token", v)], bad.text)
        send = partial(_post_page, http, "/start/motor-claim/visitor", pairs)
        yield Probe(f"visitor start token= {bad}", send, REFUSED)
    pairs = lambda: [("csrf_token", _token(http))]  # noqa: E731
    send = lambda path: _post_page(http, path, pairs)  # noqa: E731
    ids = {"journey_type": "motor-claim"}
    yield from id_probes("POST", "/start/{journey_type}/visitor", ids, send)


walks("GET", "/journeys/{journey_id}/save")(
    lambda world: _page_get_walk(world, "/journeys/{journey_id}/save")
)


def _visitor_form_walk(tail: str, fields: tuple[str, ...]) -> Walk:
    def walk(world: World) -> Iterator[Probe]:
        claim = world.collision
        path = f"/journeys/{claim.id}/{tail}"
        for name in fields:
            for bad in [b for b in BAD_VALUES if b.text is not None]:
                pairs = partial(
                    lambda n, v: [("csrf_token", claim.token()), (n, v)], name, bad.text
                )
                send = partial(_post_page, claim.api.http, path, pairs)
                yield Probe(f"page {tail} {name}= {bad}", send, REFUSED)
        pairs = lambda: [("csrf_token", claim.token())]  # noqa: E731
        send = lambda p: _post_page(claim.api.http, p, pairs)  # noqa: E731
        ids = {"journey_id": claim.id}
        yield from id_probes("POST", "/journeys/{journey_id}/" + tail, ids, send)

    return walk


walks("POST", "/journeys/{journey_id}/save")(_visitor_form_walk("save", ()))
walks("POST", "/journeys/{journey_id}/email")(_visitor_form_walk("email", ("email",)))
walks("POST", "/journeys/{journey_id}/email/code")(
    _visitor_form_walk("email/code", ("email", "code"))
)


@walks("GET", "/resume/{link}")
def _resume_page(world: World) -> Iterator[Probe]:
    yield from query_probes(world.anonymous, "/resume/x")
    ids = {"link": "x"}
    yield from id_probes("GET", "/resume/{link}", ids, partial(get, world.anonymous))


@walks("POST", "/resume/{link}")
def _resume_form(world: World) -> Iterator[Probe]:
    http = world.anonymous
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        pairs = partial(lambda v: [("csrf_token", v)], bad.text)
        yield Probe(f"resume token= {bad}", partial(_post_page, http, "/resume/x", pairs), REFUSED)
    pairs = lambda: [("csrf_token", _token(http))]  # noqa: E731
    send = lambda path: _post_page(http, path, pairs)  # noqa: E731
    yield from id_probes("POST", "/resume/{link}", {"link": "x"}, send)


# --- a journey's own actions (withdraw, cancel a hold) and a repeating group's items ------------

JOURNEY_API = "/api/v1/journeys/{journey_id}"
JOURNEY_PAGE = "/journeys/{journey_id}"
# The item routes are walked on a step of Sam's claim: their ids are bad, or their bodies. The
# step is not a repeating group, so a page of its items sends the customer to the step itself
# (a 303, whatever the form or a number that parses holds): nothing may change.
ITEM_IDS = {"step": "policy", "number": "1"}


def _nothing_changes(probes: Iterator[Probe]) -> Iterator[Probe]:
    for probe in probes:
        yield replace(probe, expect=UNCHANGED)


# A revision the journey is never at: no walk may withdraw the claim it walks.
NEVER = 99999


def _api_journey_action(
    method: str, suffix: str, fields: dict[str, Any], slots: tuple[str, ...], names=()
) -> Walk:
    """A journey's API action on Sam's claim: each bad value in each of `slots` (the others
    good, the revision one the journey is never at unless the revision is the slot), bodies
    that are not an object of its fields, and bad ids in its path."""
    template = JOURNEY_API + suffix

    def walk(world: World) -> Iterator[Probe]:
        claim = world.collision
        ids = {"journey_id": claim.id, **{name: ITEM_IDS[name] for name in names}}
        path = template.format(**ids)
        for slot in slots:
            bads = BAD_VALUES + (BAD_REVISIONS if slot == "revision" else [])
            for bad in [b for b in bads if b.json is not None]:
                body = partial(json_body, {**fields, slot: "<<v>>"}, {"v": bad.json})
                send = partial(send_json, claim.api, method, path, body)
                yield Probe(f"{method} {path} {slot}= {bad}", send, REFUSED)
        for raw in (b"NaN", b'"\\ud800"', b"[]", b'{"revision": 1, "revision": 2}'):
            send = partial(send_json, claim.api, method, path, lambda raw=raw: raw)
            yield Probe(f"{method} {path} body {raw!r}", send, REFUSED)
        good = partial(json_body, fields, {})
        yield from id_probes(
            method, template, ids, lambda bad_path: send_json(claim.api, method, bad_path, good)
        )

    return walk


_ITEM = {"answers": {}, "revision": NEVER}
walks("POST", "/api/v1/journeys/{journey_id}/withdraw")(
    _api_journey_action("POST", "/withdraw", {"revision": NEVER}, ("revision",))
)
walks("POST", "/api/v1/journeys/{journey_id}/holds/cancel")(
    _api_journey_action(
        "POST", "/holds/cancel", {"revision": NEVER, "key": "zz"}, ("revision", "key")
    )
)
walks("POST", "/api/v1/journeys/{journey_id}/steps/{step}/items")(
    _api_journey_action("POST", "/steps/{step}/items", _ITEM, ("revision", "answers"), ("step",))
)
walks("PUT", "/api/v1/journeys/{journey_id}/steps/{step}/items/{number}")(
    _api_journey_action(
        "PUT", "/steps/{step}/items/{number}", _ITEM, ("revision", "answers"), ("step", "number")
    )
)
walks("POST", "/api/v1/journeys/{journey_id}/steps/{step}/items/{number}/remove")(
    _api_journey_action(
        "POST",
        "/steps/{step}/items/{number}/remove",
        {"revision": NEVER},
        ("revision",),
        ("step", "number"),
    )
)


@walks("GET", "/api/v1/journeys/{journey_id}/steps/{step}/items")
def _api_items(world: World) -> Iterator[Probe]:
    claim = world.collision
    ids = {"journey_id": claim.id, "step": ITEM_IDS["step"]}
    template = JOURNEY_API + "/steps/{step}/items"
    yield from query_probes(claim.api.http, template.format(**ids))
    yield from id_probes("GET", template, ids, partial(get, claim.api.http))


def _item_page(suffix: str, names: tuple[str, ...]) -> Walk:
    """A repeating group's page: bad query strings, bad ids."""
    template = JOURNEY_PAGE + suffix

    def walk(world: World) -> Iterator[Probe]:
        claim = world.collision
        ids = {"journey_id": claim.id, **{name: ITEM_IDS[name] for name in names}}
        yield from query_probes(claim.api.http, template.format(**ids))
        yield from _nothing_changes(id_probes("GET", template, ids, partial(get, claim.api.http)))

    return walk


def _journey_form(suffix: str, fields: dict[str, str], slots: tuple[str, ...], names=()) -> Walk:
    """A journey's page form on Sam's claim: each bad value in each of `slots`, its CSRF
    token, a field it does not have, and bad ids in its path."""
    template = JOURNEY_PAGE + suffix

    def walk(world: World) -> Iterator[Probe]:
        claim = world.collision
        http = claim.api.http
        ids = {"journey_id": claim.id, **{name: ITEM_IDS[name] for name in names}}
        path = template.format(**ids)

        def post(to: str, slot: str | None = None, value: Any = None, token: Any = None):
            pairs = [("csrf_token", token if token is not None else _token(http))]
            pairs += [(name, value if name == slot else good) for name, good in fields.items()]
            return _post_page(http, to, lambda: pairs)

        for slot in slots:
            bads = BAD_VALUES + (BAD_REVISIONS if slot == "revision" else [])
            for bad in [b for b in bads if b.text is not None]:
                expect = REFUSED if bad.kind == NOT_UNICODE else UNCHANGED
                send = partial(post, path, slot, bad.text)
                yield Probe(f"POST {path} {slot}= {bad}", send, expect)
        for bad in [b for b in BAD_VALUES if b.text is not None]:
            send = partial(post, path, token=bad.text)
            yield Probe(f"POST {path} csrf_token= {bad}", send, REFUSED)
        yield from id_probes("POST", template, ids, post)

    return walk


_NEVER = {"revision": str(NEVER)}


def _item_form(suffix: str, names: tuple[str, ...]) -> Walk:
    """A repeating group's form on a step that is not one: nothing changes, whatever is sent."""
    fields, slots = (
        (_NEVER, ("revision",)) if "remove" in suffix else ({**_NEVER, "x": "1"}, ("revision", "x"))
    )
    walk = _journey_form(suffix, fields, slots, names)
    return lambda world: _nothing_changes(walk(world))


for _suffix, _names in (
    ("/steps/{step}/items/new", ("step",)),
    ("/steps/{step}/items/{number}", ("step", "number")),
    ("/steps/{step}/items/{number}/remove", ("step", "number")),
):
    walks("GET", JOURNEY_PAGE + _suffix)(_item_page(_suffix, _names))
    walks("POST", JOURNEY_PAGE + _suffix)(_item_form(_suffix, _names))
walks("POST", "/journeys/{journey_id}/withdraw")(_journey_form("/withdraw", _NEVER, ("revision",)))
walks("POST", "/journeys/{journey_id}/holds/cancel")(
    _journey_form("/holds/cancel", {**_NEVER, "key": "zz"}, ("revision", "key"))
)

# Closing a case's journey by hand: every end named is refused unless it is one (a choice);
# a reason's fair text would close the case under attack, and is left out.
walks("POST", f"{STAFF_API}/cases/{{case_id}}/close-as")(
    _staff_action(
        "close-as",
        [
            ({"as": "<<v>>", "reason": "W"}, "as", None, None),
            ({"as": "withdrawn", "reason": "<<v>>"}, "reason", 5000, None),
        ],
        {"as": "withdrawn", "reason": "W"},
    )
)
walks("POST", WORKBENCH + "/cases/{case_id}/close-as")(
    _workbench_action(
        "close-as",
        {"as": "withdrawn", "reason": "W"},
        [
            ("as", {"reason": "W"}, None, None, "close-as"),
            ("reason", {"as": "withdrawn"}, 5000, None, "close-reason"),
        ],
    )
)


# --- the tests -----------------------------------------------------------------------------------


def served_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves (HEAD is GET's; a mount serves GET)."""
    found = set()
    for route in iter_route_contexts(app.routes):
        methods = route.methods or {"GET"}  # a mount (static files)
        path = route.path if route.methods else f"{route.path}/{{path}}"
        found |= {(method, path) for method in methods if method != "HEAD"}
    return found


def test_every_route_is_walked(world: World) -> None:
    assert served_routes(world.app) == set(WALKS)


@pytest.mark.parametrize("route", sorted(WALKS), ids=lambda r: f"{r[0]} {r[1]}")
def test_bad_input_is_refused_and_changes_nothing(world: World, route: tuple[str, str]) -> None:
    failures = world.run(WALKS[route](world))
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:60])


def test_the_claims_were_attacked_where_it_matters(world: World) -> None:
    """The walks reach every field type of the definition through both claims."""
    reached = {
        kind
        for claim in world.claims
        for step in claim.steps
        for _, kind in answered_fields(world.current(claim)[1], step)
    }
    assert reached >= {
        FieldType.SINGLE_CHOICE,
        FieldType.DATE,
        FieldType.TIME,
        FieldType.UK_POSTCODE,
        FieldType.LONG_TEXT,
        FieldType.YES_NO,
        FieldType.TEXT,
        FieldType.UK_VEHICLE_REGISTRATION,
        FieldType.NUMBER,
        FieldType.FILE,
        FieldType.MONEY,
        FieldType.SORT_CODE,
        FieldType.ACCOUNT_NUMBER,
    }
