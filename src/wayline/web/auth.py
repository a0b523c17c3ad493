"""Who is asking: the session named by the request's session cookie (see
`wayline.identity.sessions`). The identity issue replaces the demo sign-in with real accounts
and OIDC; everything else depends only on `current_customer`.

A request's session is resolved once, then kept in the ASGI scope for the rest of the request.
Resolving reads the store, so async code awaits `Sessions.load` (which does it in the thread
pool) before anything asks synchronously; synchronous handlers already run in the pool.
"""

from __future__ import annotations

from fastapi import HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from wayline.identity.audit import Action, AuditLog, Detail, Entry, Outcome
from wayline.identity.principal import Kind, Principal
from wayline.identity.sessions import Session, SessionService, StartedSession
from wayline.web.access import origin
from wayline.web.cookies import CookieNames

ANONYMOUS = "anonymous"
SCOPE_KEY = "wayline.session"


class Sessions:
    """The web side of sessions: the cookie in, the session out; sign-in and sign-out."""

    def __init__(self, service: SessionService, cookies: CookieNames, audit: AuditLog):
        self.service = service
        self.cookies = cookies
        self.audit = audit

    async def load(self, request: Request) -> Session | None:
        """Resolve the request's session off the event loop (once per request)."""
        if SCOPE_KEY in request.scope:
            return _kept(request)
        return await run_in_threadpool(self._session, request)

    def _session(self, request: Request) -> Session | None:
        if SCOPE_KEY not in request.scope:
            token = request.cookies.get(self.cookies.session)
            # Nobody until resolved: when the store is down the error goes up once (503), and
            # the error page drawn for it shows a signed-out header instead of asking again
            # (which would fail again, inside the error handler, as a 500).
            request.scope[SCOPE_KEY] = None
            request.scope[SCOPE_KEY] = self.service.resolve(token)
        return _kept(request)

    def customer(self, request: Request) -> str | None:
        """The signed-in customer's id; None for nobody, and for staff."""
        session = self._session(request)
        if session is None or session.principal.kind is not Kind.CUSTOMER:
            return None
        return session.subject

    def principal(self, request: Request) -> Principal | None:
        session = self._session(request)
        return session.principal if session else None

    def session_id(self, request: Request) -> str:
        """The id CSRF tokens are bound to: the session's, or one shared by everyone signed
        out (whose forms, such as sign-in, change nothing of anyone's)."""
        session = self._session(request)
        return session.id if session else ANONYMOUS

    def sign_in(
        self, request: Request, response: Response, principal: Principal, step_up: bool = False
    ) -> str:
        """Start a new session and set its cookie; the browser's previous session ends, so a
        session id is never carried across a sign-in. Recorded in the audit log as `sign_in`,
        or `step_up` when the person proved who they are again for something sensitive.
        Returns the new session's id."""
        started = self.service.start(principal, replacing=request.cookies.get(self.cookies.session))
        action = Action.STEP_UP if step_up else Action.SIGN_IN
        details: dict[str, Detail] = {"assurance": principal.assurance, "issuer": principal.issuer}
        entry = Entry(action, Outcome.SUCCESS, principal, origin(request), details=details)
        self.audit.record(entry)
        return self._keep(request, response, started)

    def start_visitor(self, request: Request, response: Response, subject: str) -> str:
        """A session for a visitor (nobody signed in) known as `subject`, replacing the
        browser's previous one, with its cookie. Every other session of `subject` ends: a
        visitor coming back by a resume link is the only one holding the journey. Returns the
        new session's id (CSRF tokens are bound to it)."""
        principal = Principal.visitor(subject, self.service.now())
        self.service.end_all(subject)
        started = self.service.start(principal, replacing=request.cookies.get(self.cookies.session))
        return self._keep(request, response, started)

    def _keep(self, request: Request, response: Response, started: StartedSession) -> str:
        response.set_cookie(
            self.cookies.session,
            started.token,
            max_age=int(self.service.policy.lifetime.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=self.cookies.secure,
            path="/",
        )
        request.scope[SCOPE_KEY] = started.session
        return started.session.id

    def sign_out(self, request: Request, response: Response) -> None:
        """End the session on the server (a copy of the cookie stops working) and drop both
        cookies: the session's and its CSRF token's (signed with the ended session's id), each
        cleared with the attributes it was set with (or a browser keeps a `__Host-` one)."""
        principal = self.principal(request)
        ended = self.service.end(request.cookies.get(self.cookies.session))
        if ended and principal is not None:
            self.audit.record(Entry(Action.SIGN_OUT, Outcome.SUCCESS, principal, origin(request)))
        response.delete_cookie(
            self.cookies.session,
            path="/",
            secure=self.cookies.secure,
            httponly=True,
            samesite="lax",
        )
        response.delete_cookie(
            self.cookies.csrf,
            path="/",
            secure=self.cookies.secure,
            httponly=False,
            samesite="strict",
        )
        request.scope[SCOPE_KEY] = None


def _kept(request: Request) -> Session | None:
    """The session this request resolved earlier (None: nobody). Only this module writes the
    scope key, always a Session or None."""
    kept = request.scope[SCOPE_KEY]
    return kept if isinstance(kept, Session) else None


async def current_customer(request: Request) -> str:
    """Who owns the journeys the request reads and writes: the signed-in customer, or the
    visitor whose session started them (`who: anyone`)."""
    sessions: Sessions = request.app.state.sessions
    session = await sessions.load(request)
    if session is None:
        raise HTTPException(401, "Sign in to continue", headers={"WWW-Authenticate": "Cookie"})
    if not session.principal.owns_journeys:
        raise HTTPException(403, "This is for customers; staff cannot use it")
    return session.subject
