"""The web side of visitors (identity/visitors.py): where the service is, and the session a
visitor gets when they start a journey without signing in or come back by a resume link.

A visitor's session is an ordinary server-side session (web/auth.py) for a principal of kind
`visitor`; the journeys they start are owned by its subject, so every ownership check (another
person's journey is "not found") holds for them exactly as for customers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response

from wayline.errors import Conflict
from wayline.identity.visitors import LinkVerdict, Visitors, new_subject
from wayline.journeys.answer_text import long_date
from wayline.journeys.loader import Journey
from wayline.journeys.schema import Audience

STAFF_CANNOT = "You are signed in as staff: sign out to start a journey as a visitor"
# What the API and the pages say, in the same words.
CODE_SHAPE = "The code must be 6 numbers"
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com"
WRONG = "The code is not correct"
EXPIRED = "The code has expired or was already used. Ask for a new code."
LINK_WORDS = {
    LinkVerdict.TAMPERED: "This link is not valid. Check it was copied in full.",
    LinkVerdict.USED: "This link has already been used. Each link works once.",
    LinkVerdict.EXPIRED: "This link has expired.",
}


async def visitors(request: Request) -> Visitors:
    found: Visitors = request.app.state.visitors  # Starlette's State is untyped; the app set it
    return found


VisitorsDep = Annotated[Visitors, Depends(visitors)]


def anyone_may_start(journey: Journey) -> bool:
    return journey.definition.who is Audience.ANYONE


def owner_or_new_visitor(request: Request, response: Response) -> str:
    """Who a journey started here belongs to: the signed-in customer, the visitor already
    browsing, or a new visitor (whose session, and a CSRF token for it, go on `response`).
    Staff start no journeys (Conflict). Runs in the thread pool: it may write a session."""
    sessions = request.app.state.sessions
    principal = sessions.principal(request)
    if principal is not None:
        if not principal.owns_journeys:
            raise Conflict(STAFF_CANNOT)
        return str(principal.subject)
    subject = new_subject()
    become(request, response, subject)
    return subject


def become(request: Request, response: Response, subject: str) -> None:
    """Give the browser a new session as the visitor `subject` (its other sessions end), and
    a CSRF token bound to it (API clients send it back in X-CSRF-Token)."""
    session_id = request.app.state.sessions.start_visitor(request, response, subject)
    request.state.csrf_token = request.app.state.csrf.issue(session_id)
    request.app.state.csrf.remember(request, response)


def until_words(until: datetime) -> str:
    """When a lock ends, in words for the customer (UTC, to the minute)."""
    return f"{until:%H:%M} UTC on {long_date(until.date().isoformat())}"
