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
`test_every_route_is_walked`, so a new route cannot go untested. The suite runs on SQLite and
on PostgreSQL, each in a fresh database kept for the module (building the claims under attack
takes a few seconds; the probes change nothing, which the suite checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hostile_kit import (
    BAD_IDS,
    BAD_REVISIONS,
    BAD_VALUES,
    EVERY_FIELD,
    FORM,
    NOT_UNICODE,
    Claim,
    alexs_theft,
    answered_fields,
    as_form,
    changes,
    database,
    form_body,
    in_path,
    journey_row,
    json_body,
    multipart_body,
    refused_as_draft,
    refused_on_submit,
    sams_collision,
)
from journey_api import JOURNEYS_DIR, PROBLEM, Api, jpeg_bytes

from wayline.bootstrap import build
from wayline.config import Settings
from wayline.journeys.schema import FieldType
from wayline.sandbox.wiring import demo_options
from wayline.web.app import create_app

REFUSED = "refused"  # a 4xx (or the page again with its error), and nothing changed
UNCHANGED = "unchanged"  # any answer under 500, and nothing changed
MAY_KEEP = "may keep"  # any answer under 500; if something was kept, everything still reads
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

    def __init__(self, app: Any, engine: Any, sam: Api, alex: Api, anonymous: TestClient):
        self.app = app
        self.engine = engine
        self.sam = sam
        self.alex = alex
        self.anonymous = anonymous
        self.collision = sams_collision(sam)
        self.theft = alexs_theft(alex)
        self.claims = [self.collision, self.theft]

    # --- what the database holds ---------------------------------------------------------------

    def current(self, claim: Claim) -> tuple[int, dict[str, Any]]:
        """The claim's revision and answers as stored now."""
        return journey_row(self.engine, claim.id)

    def revision(self, claim: Claim) -> bytes:
        return str(self.current(claim)[0]).encode()

    # --- running probes --------------------------------------------------------------------

    def run(self, probes: Iterator[Probe]) -> list[str]:
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
        before = database(self.engine)
        response = probe.send()
        after = database(self.engine)
        problems = []
        status = response.status_code
        if status >= 500:
            problems.append(f"answered {status}: {response.text[:300]}")
        elif probe.expect == REFUSED:
            problems += _not_refused(response, probe.field)
        if after != before:
            if probe.expect != MAY_KEEP:
                problems.append(f"answered {status} but changed {changes(before, after)}")
            for claim in self.claims:
                problems += self.unreadable(claim)
        return problems

    def unreadable(self, claim: Claim, every_page: bool = False) -> list[str]:
        """Why the claim does not read back through the API and its pages (nothing: it does)."""
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
        sam, alex = Api(clients[0]).sign_in("sam"), Api(clients[1]).sign_in("alex")
        yield World(app, components.store.engine, sam, alex, clients[2])
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
    for bad in [b for b in BAD_VALUES if b.json is not None]:
        body = partial(json_body, {"customer": "<<v>>"}, {"v": bad.json})
        send = partial(send_json, world.anonymous, "POST", "/auth/demo", body)
        yield Probe(f"demo sign-in customer= {bad}", send, REFUSED)
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


@walks("GET", "/sign-in")
def _sign_in_page(world: World) -> Iterator[Probe]:
    yield from query_probes(world.anonymous, "/sign-in", ("next",))


@walks("POST", "/sign-in")
def _sign_in(world: World) -> Iterator[Probe]:
    http = world.anonymous
    for bad in [b for b in BAD_VALUES if b.text is not None]:
        pairs = partial(lambda v: [("csrf_token", _token(http)), ("customer", v)], bad.text)
        yield Probe(
            f"sign in customer= {bad}", partial(_post_page, http, "/sign-in", pairs), REFUSED
        )
    for bad in [b for b in BAD_VALUES if b.kind == NOT_UNICODE]:
        pairs = partial(
            lambda v: [("csrf_token", _token(http)), ("customer", "sam"), ("next", v)], bad.text
        )
        yield Probe(f"sign in next= {bad}", partial(_post_page, http, "/sign-in", pairs), REFUSED)
        pairs = partial(lambda v: [("csrf_token", v), ("customer", "sam")], bad.text)
        yield Probe(f"sign in token= {bad}", partial(_post_page, http, "/sign-in", pairs), REFUSED)


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
