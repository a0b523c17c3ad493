"""The demo's sign-in pages: `/sign-in` for customers, `/staff/sign-in` for staff.

They keep the sign-in contract every sign-in shares (web/access.py): `GET <path>?next=<local
path>&level=<int>&max_age=<seconds>`, where `level` or `max_age` asks for a step-up; after
signing in the browser lands on `next` (a local path only). Choosing "a one-time code" stands
in for the stronger level (identity/assurance.py's SECOND_FACTOR), so the demo goes through
the same sessions, roles and step-up as a real provider.

A kind whose identity provider is configured is signed in by the provider's routes
(web/sign_in.py), and this module adds nothing for it. Outside demo mode, with no provider, the
sign-in page stays a public "not found" page saying that sign-in is the organisation's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from wayline.config import Settings
from wayline.identity.assurance import PASSWORD, SECOND_FACTOR
from wayline.identity.principal import Kind, Principal
from wayline.runtime.commands import FieldError
from wayline.web.access import CUSTOMER_SIGN_IN, PUBLIC, STAFF_SIGN_IN, local_path
from wayline.web.access import parse_ask as access_parse_ask
from wayline.web.demo_accounts import DemoAccounts, Method, has_provider
from wayline.web.pages.common import checked_form, redirect
from wayline.web.pages.render import render

# The longest `max_age` a link may ask for: a year, far beyond any sensible step-up window.
BAD_LINK = "This sign-in link is not valid. Go back and try again."


@dataclass(frozen=True)
class Audience:
    """One kind of person's sign-in page: where it is, the form field naming the person, and
    where the browser goes when `next` is missing or not local."""

    kind: Kind
    path: str
    person_field: str
    home: str
    heading: str
    hint: str


AUDIENCES = (
    Audience(
        Kind.CUSTOMER,
        CUSTOMER_SIGN_IN,
        "customer",
        "/journeys",
        "Sign in to the demo",
        "Choose a demo customer. Each has a different situation to try.",
    ),
    Audience(
        Kind.STAFF,
        STAFF_SIGN_IN,
        "staff",
        "/staff",
        "Staff sign in to the demo",
        "Choose a demo member of staff. Each has one role, and sees what that role allows.",
    ),
)


@dataclass(frozen=True)
class Ask:
    """What the link asks for: `level` None is a plain sign-in; otherwise a step-up to at least
    `level`, given within `max_age` seconds (the demo's proof is always given now)."""

    level: int | None = None
    max_age: int | None = None

    @property
    def step_up(self) -> bool:
        return self.level is not None

    @property
    def needs_code(self) -> bool:
        return self.level is not None and self.level > PASSWORD


def parse_ask(level: str | None, max_age: str | None) -> Ask | None:
    """The step-up a query or form asks for; None when it is not one the demo can give (not a
    whole number, a level above a one-time code's, a non-positive or absurd max_age)."""
    valid, asked = access_parse_ask(level, max_age, SECOND_FACTOR)
    if not valid:
        return None
    return Ask() if asked is None else Ask(asked.level, asked.max_age)


def router(accounts: DemoAccounts, settings: Settings) -> APIRouter:
    """The sign-in pages for each kind no identity provider signs in: the demo's where it offers
    people of that kind, else the public "not found" page."""
    routes = APIRouter(include_in_schema=False)
    for audience in AUDIENCES:
        if has_provider(settings, audience.kind):
            continue
        if accounts.offers(audience.kind):
            _demo_routes(routes, audience, accounts)
        else:
            _not_offered(routes, audience)
    return routes


def _not_offered(routes: APIRouter, audience: Audience) -> None:
    @routes.api_route(
        audience.path,
        methods=["GET", "POST"],
        dependencies=[PUBLIC],
        name=f"{audience.kind}_sign_in_elsewhere",
    )
    def sign_in_elsewhere(request: Request) -> Response:
        return render(
            request,
            "error.html",
            "Sign in",
            404,
            heading="Page not found",
            message="Sign-in is provided by your organisation's identity service.",
        )


def _demo_routes(routes: APIRouter, audience: Audience, accounts: DemoAccounts) -> None:
    @routes.get(audience.path, dependencies=[PUBLIC], name=f"{audience.kind}_demo_sign_in_page")
    def sign_in_page(request: Request) -> Response:
        query = request.query_params
        ask = parse_ask(query.get("level"), query.get("max_age"))
        if ask is None:
            return _bad_link(request)
        target = local_path(query.get("next"), audience.home)
        return _form(request, audience, accounts, ask, target)

    @routes.post(audience.path, dependencies=[PUBLIC], name=f"{audience.kind}_demo_sign_in")
    async def sign_in(request: Request) -> Response:
        form = await checked_form(request)
        ask = parse_ask(_text(form.get("level")), _text(form.get("max_age")))
        if ask is None:
            return _bad_link(request)
        target = local_path(_text(form.get("next")), audience.home)
        person = _text(form.get(audience.person_field))
        # No method at all is a password (forms from before the choice existed); an empty or
        # unknown one is an error.
        method_text = _text(form.get("method", Method.PASSWORD.value))
        method = _method(method_text)
        errors = _errors(audience, accounts, ask, person, method)
        if errors or person is None or method is None:
            chosen = {"person": person, "method": method_text}
            return _form(request, audience, accounts, ask, target, errors, chosen)
        now = request.app.state.sessions.service.now()
        principal = accounts.principal(audience.kind, person, method, now)
        return await _signed_in(request, principal, ask, target)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _method(text: str | None) -> Method | None:
    return Method(text) if text in {m.value for m in Method} else None


def _errors(
    audience: Audience,
    accounts: DemoAccounts,
    ask: Ask,
    person: str | None,
    method: Method | None,
) -> list[FieldError]:
    errors = []
    if person not in accounts.people(audience.kind):
        errors.append(FieldError(audience.person_field, "Select who you want to sign in as"))
    if method is None:
        errors.append(FieldError("method", "Select how you want to sign in"))
    elif ask.needs_code and method.level < (ask.level or PASSWORD):
        errors.append(FieldError("method", "Sign in with a one-time code for this"))
    return errors


async def _signed_in(request: Request, principal: Principal, ask: Ask, target: str) -> Response:
    """Start the principal's session (a new one: the browser's previous session ends, which
    rotates the id on a step-up too) and send the browser on to `target`."""
    response = redirect(target)
    sessions = request.app.state.sessions
    session_id = await run_in_threadpool(
        sessions.sign_in, request, response, principal, step_up=ask.step_up
    )
    request.state.csrf_token = request.app.state.csrf.issue(session_id)
    request.app.state.csrf.remember(request, response)
    return response


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    hint: str = ""
    disabled: bool = False


@dataclass
class FormView:
    """What the sign-in template draws."""

    heading: str
    people: list[Option]
    methods: list[Option]
    current: Option | None = None  # a step-up for the person already signed in
    chosen: dict[str, str | None] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)  # each field's error


def _person_words(request: Request, person: Any) -> str:
    """What a demo person is for: a member of staff's roles; a customer's situation in each
    journey the catalogue offers, by its title."""
    roles = getattr(person, "roles", ())
    if roles:
        return _roles_words(roles)
    titles = {kind["type"]: kind["title"] for kind in request.app.state.queries.journey_types()}
    return "; ".join(
        f"{titles[journey]}: {words}"
        for journey, words in getattr(person, "situations", ())
        if journey in titles
    )


def _form(
    request: Request,
    audience: Audience,
    accounts: DemoAccounts,
    ask: Ask,
    target: str,
    errors: list[FieldError] | None = None,
    chosen: dict[str, str | None] | None = None,
) -> Response:
    people = [
        Option(person.id, person.name, _person_words(request, person))
        for person in accounts.people(audience.kind).values()
    ]
    current = _current(request, audience, people) if ask.step_up else None
    view = FormView(
        heading="Confirm it's you" if ask.step_up else audience.heading,
        people=people,
        methods=_methods(ask),
        current=current,
        chosen=chosen or {"method": Method.ONE_TIME_CODE if ask.needs_code else Method.PASSWORD},
        messages={error.field: error.message for error in errors or []},
    )
    return render(
        request,
        "sign_in.html",
        view.heading,
        422 if errors else 200,
        audience=audience,
        view=view,
        ask=ask,
        next=target,
        errors=errors or [],
    )


def _methods(ask: Ask) -> list[Option]:
    password_hint = "Not enough for this: it needs a one-time code" if ask.needs_code else ""
    return [
        Option(Method.PASSWORD, "Sign in with a password", password_hint, ask.needs_code),
        Option(
            Method.ONE_TIME_CODE,
            "Sign in with a one-time code",
            "Stands in for a password and a code sent to your phone",
        ),
    ]


def _current(request: Request, audience: Audience, people: list[Option]) -> Option | None:
    """The person of this page's kind who is signed in, if they are one the demo offers."""
    principal: Principal | None = request.app.state.sessions.principal(request)
    if principal is None or principal.kind is not audience.kind:
        return None
    return next((p for p in people if p.value == principal.subject), None)


def _roles_words(roles: Any) -> str:
    return ", ".join(sorted(str(role).replace("_", " ") for role in roles)).capitalize()


def _bad_link(request: Request) -> Response:
    return render(request, "error.html", "Sign in", 400, heading="Sign in", message=BAD_LINK)
