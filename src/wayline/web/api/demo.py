"""Signing in and out through the API, under /auth.

`POST /auth/sign-out` is served in every mode: it ends the caller's session on the server and
clears both cookies. `POST /auth/demo`, the demo sign-in, exists only in demo mode, until the
identity issue brings real accounts.

Who may sign in comes from `app.state.demo_customers`, which the edge that runs the demo wired
in (bootstrap.Components.demo_customers): the web layer never imports the sandbox.
"""

# No `from __future__ import annotations`: FastAPI reads the route's annotations at runtime, and
# the request model is local to `_demo_sign_in`.
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import Field, JsonValue

from wayline.bootstrap import DemoCustomer
from wayline.web.api.models import Body
from wayline.web.auth import current_customer
from wayline.web.security import require_csrf_header

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def router(customers: Mapping[str, DemoCustomer], demo: bool) -> APIRouter:
    """The /auth routes: sign-out always; in demo mode the demo sign-in too, its schema listing
    these customers' ids."""
    routes = APIRouter(tags=["auth"])

    @routes.post(
        "/auth/sign-out",
        status_code=204,
        # 422: a query string that is not UTF-8 is refused (web/strict_input.py), as anywhere.
        responses={401: PROBLEM, 422: PROBLEM},
        # Like every API state change: the CSRF cookie's value in the X-CSRF-Token header.
        dependencies=[Depends(require_csrf_header), Depends(current_customer)],
        summary="Sign out: end this session and clear its cookies",
    )
    def sign_out(request: Request, response: Response) -> Response:
        request.app.state.sessions.sign_out(request, response)
        response.status_code = 204
        return response

    if demo:
        _demo_sign_in(routes, customers)
    return routes


def _demo_sign_in(routes: APIRouter, customers: Mapping[str, DemoCustomer]) -> None:
    ids = list(customers)

    class DemoSignIn(Body):
        customer: str = Field(
            min_length=1,
            max_length=100,
            examples=ids[:1],
            json_schema_extra={"enum": list[JsonValue](ids)},
        )

    @routes.post("/auth/demo", status_code=204, summary="Sign in as a demo customer")
    def demo_sign_in(body: DemoSignIn, request: Request, response: Response) -> Response:
        if body.customer not in customers:
            known = ", ".join(customers)
            raise HTTPException(
                422, f"There is no demo customer '{body.customer}' (choose {known})"
            )
        session_id = request.app.state.sessions.sign_in(request, response, body.customer)
        # API clients send this cookie's value back in the X-CSRF-Token header.
        request.state.csrf_token = request.app.state.csrf.issue(session_id)
        request.app.state.csrf.remember(request, response)
        response.status_code = 204
        return response
