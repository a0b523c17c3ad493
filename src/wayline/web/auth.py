"""Who is asking: a signed session cookie naming the customer. The identity issue replaces the
demo sign-in with real accounts and OIDC; everything else depends only on `current_customer`."""

from __future__ import annotations

from fastapi import HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "wayline_session"
MAX_AGE = 12 * 60 * 60


class Sessions:
    def __init__(self, secret: str, secure: bool = False):
        self._serializer = URLSafeTimedSerializer(secret, salt="wayline.session")
        self.secure = secure

    def sign_in(self, response: Response, customer_id: str) -> None:
        token = self._serializer.dumps({"customer": customer_id})
        response.set_cookie(
            COOKIE,
            token,
            max_age=MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")

    def customer(self, request: Request) -> str | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            body = self._serializer.loads(token, max_age=MAX_AGE)
        except BadSignature:
            return None
        return body.get("customer") if isinstance(body, dict) else None


def current_customer(request: Request) -> str:
    customer = request.app.state.sessions.customer(request)
    if customer is None:
        raise HTTPException(401, "Sign in to continue", headers={"WWW-Authenticate": "Cookie"})
    return customer
