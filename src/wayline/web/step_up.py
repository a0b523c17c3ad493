"""Step-up between the web and the service layer: the caller's proof of identity handed to
commands (runtime/proof.py), and what a command's StepUpRequired asks of the sign-in.

Routes build the proof from the session's principal, so the commands never read sessions; a
request without a session has no proof (NONE), which meets no step-up.
"""

from __future__ import annotations

from fastapi import Request

from wayline.errors import StepUpRequired
from wayline.identity.assurance import StepUp
from wayline.runtime.proof import NONE, Proof


def proof_of(request: Request) -> Proof:
    """The proof the request's session carries: its sign-in level and when it was given.
    Call after the session was loaded (a route's access check loads it)."""
    principal = request.app.state.sessions.principal(request)
    if principal is None:
        return NONE
    return Proof(principal.assurance, principal.authenticated_at)


def asked(error: StepUpRequired) -> StepUp:
    """What the refused command asks of the sign-in, as the identity layer says it."""
    return StepUp(error.level, error.within)
