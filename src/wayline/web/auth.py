"""Who is asking: a signed session cookie naming the customer. The identity issue replaces the
demo sign-in with real accounts and OIDC; everything else depends only on `current_customer`."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "wayline_session"
MAX_AGE = 12 * 60 * 60
ANONYMOUS = "anonymous"


class Sessions:
    def __init__(self, secret: str, secure: bool = False):
        self._serializer = URLSafeTimedSerializer(secret, salt="wayline.session")
        self.secure = secure

    def sign_in(self, response: Response, customer_id: str) -> str:
        """Start a new session (a new id, so tokens of any earlier session stop working)."""
        session_id = secrets.token_urlsafe(16)
        token = self._serializer.dumps({"customer": customer_id, "sid": session_id})
        response.set_cookie(
            COOKIE,
            token,
            max_age=MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )
        return session_id

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")

    def _session(self, request: Request) -> dict[str, Any] | None:
        cached = request.scope.get("wayline.session", False)
        if cached is not False:
            return cached
        body = None
        token = request.cookies.get(COOKIE)
        if token:
            try:
                loaded = self._serializer.loads(token, max_age=MAX_AGE)
                body = loaded if isinstance(loaded, dict) else None
            except BadSignature:
                body = None
        request.scope["wayline.session"] = body
        return body

    def customer(self, request: Request) -> str | None:
        session = self._session(request)
        return session.get("customer") if session else None

    def session_id(self, request: Request) -> str:
        session = self._session(request)
        return str(session.get("sid")) if session else ANONYMOUS


async def current_customer(request: Request) -> str:
    # Dependencies that do no I/O are async so FastAPI runs them inline, not in the threadpool.
    customer = request.app.state.sessions.customer(request)
    if customer is None:
        raise HTTPException(401, "Sign in to continue", headers={"WWW-Authenticate": "Cookie"})
    return customer
