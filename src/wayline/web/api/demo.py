"""Signing in and out through the API, under /auth.

`POST /auth/sign-out` is served in every mode: it ends the caller's session on the server and
clears both cookies. `POST /auth/demo`, the demo sign-in, exists only in demo mode, for each kind
of person (customers, staff) that no identity provider signs in (web/demo_accounts.py): a
demo customer or member of staff, and how they "proved" it (a password: level 1; a one-time
code: level 2, for step-up).

Who may sign in comes from bootstrap.Components (demo_customers, demo_staff), which the edge
that runs the demo wired in: the web layer never imports the sandbox.
"""

# No `from __future__ import annotations`: FastAPI reads the route's annotations at runtime, and
# the request model is local to `_demo_sign_in`.
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ConfigDict, Field, JsonValue

from wayline.identity.permissions import Permission
from wayline.identity.principal import Kind, Principal
from wayline.web.access import PUBLIC, allow
from wayline.web.api.models import Body
from wayline.web.demo_accounts import DemoAccounts, Method
from wayline.web.problems import problem
from wayline.web.security import require_csrf_header

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def router(accounts: DemoAccounts) -> APIRouter:
    """The /auth routes: sign-out always; the demo sign-in too when the demo offers anyone, its
    schema listing the ids of the people it offers."""
    routes = APIRouter(tags=["auth"])

    @routes.post(
        "/auth/sign-out",
        status_code=204,
        # 422: a query string that is not UTF-8 is refused (web/strict_input.py), as anywhere.
        responses={401: PROBLEM, 422: PROBLEM},
        # Like every API state change: the CSRF cookie's value in the X-CSRF-Token header.
        dependencies=[Depends(require_csrf_header), allow(Permission.SIGNED_IN)],
        summary="Sign out: end this session and clear its cookies",
    )
    def sign_out(request: Request, response: Response) -> Response:
        request.app.state.sessions.sign_out(request, response)
        response.status_code = 204
        return response

    if accounts.offers(Kind.CUSTOMER) or accounts.offers(Kind.STAFF):
        _demo_sign_in(routes, accounts)
    return routes


def _demo_sign_in(routes: APIRouter, accounts: DemoAccounts) -> None:
    class DemoSignIn(Body):
        """Send exactly one of `customer` and `staff`; `method` is a password unless given."""

        model_config = ConfigDict(json_schema_extra=_offered_schema(accounts))

        customer: str | None = _person_field(list(accounts.customers), "customer")
        staff: str | None = _person_field(list(accounts.staff), "member of staff")
        method: Method = Field(
            Method.PASSWORD,
            description="How the person proves who they are: a password (assurance level 1) "
            "or a one-time code (level 2, which step-up asks for).",
        )

    @routes.post(
        "/auth/demo",
        status_code=204,
        responses={422: PROBLEM},
        dependencies=[PUBLIC],
        summary="Sign in as a demo customer or member of staff",
    )
    def demo_sign_in(body: DemoSignIn, request: Request, response: Response) -> Response:
        sent = {name: getattr(body, name) for name in FIELDS if name in body.model_fields_set}
        chosen = _chosen(accounts, sent)
        if isinstance(chosen, Response):
            return chosen
        kind, person = chosen
        sessions = request.app.state.sessions
        principal = accounts.principal(kind, person, body.method, sessions.service.now())
        session_id = sessions.sign_in(
            request,
            response,
            principal,
            step_up=_same_person(sessions.principal(request), principal),
        )
        # API clients send this cookie's value back in the X-CSRF-Token header.
        request.state.csrf_token = request.app.state.csrf.issue(session_id)
        request.app.state.csrf.remember(request, response)
        response.status_code = 204
        return response


def _person_field(ids: list[str], what: str) -> Any:
    """A person's id. Checked against the people offered by the route (any other text, empty
    or long, is a 422 naming the field), so the field itself only has to be text."""
    return Field(
        None,
        description=f"The demo {what} to sign in as.",
        examples=ids[:1],
        json_schema_extra={"enum": list[JsonValue](ids), "minLength": 1, "maxLength": 100},
    )


def _offered_schema(accounts: DemoAccounts) -> Callable[[dict[str, Any]], None]:
    """Edits the request's JSON schema: only the kinds offered, exactly one of them, and no
    `null` (a person is named, or the field is left out)."""
    offered = [name for name, kind in FIELDS.items() if accounts.offers(kind)]

    def edit(schema: dict[str, Any]) -> None:
        properties = schema.get("properties", {})
        for name in FIELDS:
            if name not in offered:
                properties.pop(name, None)
            elif name in properties:
                properties[name] = _without_null(properties[name])
        if len(offered) == 1:
            schema["required"] = offered
        else:
            schema["oneOf"] = [{"required": [name]} for name in offered]

    return edit


def _without_null(field: dict[str, Any]) -> dict[str, Any]:
    """A `str | None` field's schema as a plain string: `null` is never a person."""
    branches = [branch for branch in field.pop("anyOf", []) if branch.get("type") != "null"]
    field.pop("default", None)
    return {**field, **(branches[0] if branches else {})}


FIELDS = {"customer": Kind.CUSTOMER, "staff": Kind.STAFF}


def _chosen(accounts: DemoAccounts, given: dict[str, str | None]) -> tuple[Kind, str] | Response:
    """The kind and id of the person asked for (`given`: the person fields the body sent, null
    or empty ones too, which are wrong), or the 422 that says what is wrong."""
    if len(given) != 1:
        both = len(given) > 1
        message = "send only one of customer and staff" if both else "is required (or staff)"
        field = "staff" if both else "customer"
        detail = "Sign in as one person: a customer or a member of staff"
        return problem(422, detail, [{"field": field, "message": message}])
    ((field, person),) = given.items()
    kind = FIELDS[field]
    known = accounts.people(kind)
    if not known:
        message = "is signed in by the organisation's identity service"
        return problem(
            422, f"There is no demo {field} sign-in", [{"field": field, "message": message}]
        )
    if person is None or person not in known:
        choices = ", ".join(known)
        return problem(
            422,
            f"There is no such demo {field} (choose {choices})",
            [{"field": field, "message": f"is not one of {choices}"}],
        )
    return kind, person


def _same_person(before: Principal | None, after: Principal) -> bool:
    """A sign-in by the person already signed in proves who they are again: a step-up."""
    return before is not None and (before.kind, before.subject) == (after.kind, after.subject)
