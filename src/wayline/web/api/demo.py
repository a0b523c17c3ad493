"""Demo sign-in: exists only in demo mode, until the identity issue brings real accounts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from wayline.sandbox.dataset import CUSTOMERS
from wayline.web.api.models import DemoSignIn

router = APIRouter(tags=["demo"])


@router.post("/auth/demo", status_code=204, summary="Sign in as a demo customer")
def demo_sign_in(body: DemoSignIn, request: Request, response: Response) -> Response:
    if body.customer not in CUSTOMERS:
        known = ", ".join(CUSTOMERS)
        raise HTTPException(422, f"There is no demo customer '{body.customer}' (choose {known})")
    session_id = request.app.state.sessions.sign_in(request, response, body.customer)
    # API clients send this cookie's value back in the X-CSRF-Token header.
    request.state.csrf_token = request.app.state.csrf.issue(session_id)
    request.app.state.csrf.remember(request, response)
    response.status_code = 204
    return response
