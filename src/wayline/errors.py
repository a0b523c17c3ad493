"""Wayline's one exception hierarchy: what the service layer, the store and the guards raise to
their callers, each a kind the web layer maps to one HTTP answer (web/problems.py).

It sits at the top of the package, importing nothing of Wayline, because the store and the
connectors raise members of it too and they sit below the service layer (runtime/). The
engine's own refusals (`journeys.engine.Refused`) and a file's (`documents.intake.Rejected`)
are not here: the pure core imports nothing of Wayline, and a refused file is an answer, not a
failure.

    WaylineError
    ├── NotFound                  no such thing for this caller
    ├── Conflict                  the journey changed, or cannot take this now
    ├── Forbidden                 the caller may see it, but may not do this to it
    ├── IdempotencyMismatch       a key reused with another request
    ├── StepUpRequired            a stronger or more recent sign-in is needed first
    ├── Unavailable               a dependency could not answer; nothing changed
    │   ├── StoreUnavailable      the database
    │   └── PartnerUnavailable    a partner the system needed
    └── PartnerCallInTransaction  a bug: a partner was called with a transaction open
"""

from __future__ import annotations

from datetime import timedelta


class WaylineError(Exception):
    """The base of every error Wayline raises on purpose."""


class NotFound(WaylineError):
    """No such thing for this customer (another customer's journey is 'not found' too)."""


class Conflict(WaylineError):
    """The journey changed since the caller read it (reload and try again), or it can no
    longer take what was asked (files for a journey already sent)."""


class Forbidden(WaylineError):
    """The caller may see the thing but may not do this to it: four-eyes refusals (the
    proposer approving their own proposal; a handler approving over the limit)."""


class IdempotencyMismatch(WaylineError):
    """An idempotency key reused with a different request."""


class StepUpRequired(WaylineError):
    """What was asked needs a sign-in of at least `level` given within `within` (a step's
    `step_up`), and the caller's falls short. Nothing was changed: sign in again, then retry."""

    def __init__(self, level: int, within: timedelta):
        super().__init__("Confirm it's you: this needs a stronger or more recent sign-in")
        self.level = level
        self.within = within


class Unavailable(WaylineError):
    """A dependency could not answer. Nothing was changed: the caller may try again."""


class StoreUnavailable(Unavailable):
    """The database could not be reached or could not finish the transaction."""


class PartnerUnavailable(Unavailable):
    """A partner the system needed could not answer; the effect will be tried again."""

    def __init__(self, source: str):
        super().__init__(source)
        self.source = source


class PartnerCallInTransaction(WaylineError):
    """A partner was called while a database transaction was open (wayline.guards): a bug.
    A slow partner would hold the transaction, and on SQLite the one writer lock, with it."""
