"""Demo sign-in: exists only in demo mode, until the identity issue brings real accounts.

Who may sign in comes from `app.state.demo_customers`, which the edge that runs the demo wired
in (bootstrap.Components.demo_customers): the web layer never imports the sandbox.
"""

# No `from __future__ import annotations`: FastAPI reads the route's annotations at runtime, and
# the request model is local to `router`.
from collections.abc import Mapping

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import Field, JsonValue

from wayline.bootstrap import DemoCustomer
from wayline.web.api.models import Body


def router(customers: Mapping[str, DemoCustomer]) -> APIRouter:
    """The demo sign-in route, its schema listing these customers' ids."""
    ids = list(customers)
    routes = APIRouter(tags=["demo"])

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

    return routes
