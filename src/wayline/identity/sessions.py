"""Server-side sessions: started at sign-in, ended by sign-out, by revocation, by the absolute
lifetime or by the idle timeout, whichever comes first.

The customer's cookie holds a random token (256 bits) and nothing else. The store keeps only
the token's SHA-256 as the session's id, so a copy of the database yields no cookie that works;
because the token is random and long, an unkeyed hash is enough (there is nothing to guess).
The id is what other parts bind to the session (CSRF tokens are signed with it).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from wayline.config import Settings
from wayline.identity.principal import Kind, Principal
from wayline.identity.roles import Role
from wayline.runtime.clock import Clock
from wayline.store import Store
from wayline.store import sessions as session_store
from wayline.store.sessions import SessionRow

TOKEN_BYTES = 32
# What secrets.token_urlsafe(32) makes: anything else is not ours and never reaches the store.
TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_-]{43}$")
# Activity is recorded at most this often per session (or a tenth of the idle timeout, when
# that is shorter): recording every request would turn every read into a write, and on SQLite
# queue every request behind the one writer. The idle timeout is then exact to within this.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Session:
    """A live session: its stored id (the token's hash) and who signed in."""

    id: str
    principal: Principal
    expires_at: datetime

    @property
    def subject(self) -> str:
        return self.principal.subject


@dataclass(frozen=True)
class StartedSession:
    """A new session and the token that names it, for the cookie (shown once, never stored)."""

    token: str
    session: Session


@dataclass(frozen=True)
class SessionPolicy:
    """When a session ends on its own: `lifetime` after sign-in, or `idle` after the last
    recorded activity. Pure: the caller passes the time."""

    lifetime: timedelta = timedelta(hours=12)
    idle: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.lifetime <= timedelta(0) or self.idle <= timedelta(0):
            raise ValueError("A session's lifetime and idle timeout must be positive")

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(
            lifetime=timedelta(hours=settings.session_max_hours),
            idle=timedelta(minutes=settings.session_idle_minutes),
        )

    @property
    def touch_every(self) -> timedelta:
        return min(TOUCH_EVERY, self.idle / 10)

    def live(self, row: SessionRow, now: datetime) -> bool:
        """Not revoked, before its absolute deadline, and active within the idle timeout."""
        return (
            row.revoked_at is None and now < row.expires_at and now - row.last_seen_at < self.idle
        )

    def needs_touch(self, row: SessionRow, now: datetime) -> bool:
        return now - row.last_seen_at >= self.touch_every


def stored_id(token: str | None) -> str | None:
    """The id a token is stored under, or None for anything that is not one of our tokens."""
    if token is None or not TOKEN_FORMAT.match(token):
        return None
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class SessionService:
    """Starts, resolves and ends sessions in the store. Every method is one or two short
    transactions; none keeps state between calls, so any replica can serve any request."""

    def __init__(self, store: Store, clock: Clock, policy: SessionPolicy):
        self._store = store
        self._clock = clock
        self.policy = policy

    def now(self) -> datetime:
        """The service's clock: sign-ins stamp their proof with it."""
        return self._clock.now()

    def start(self, principal: Principal, replacing: str | None = None) -> StartedSession:
        """A new session for `principal`. The session named by `replacing` (the cookie the
        browser had) ends in the same transaction: signing in, and stepping up, never reuse a
        session id."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._clock.now()
        row = SessionRow(
            id=stored_id(token) or "",
            subject=principal.subject,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.policy.lifetime,
            revoked_at=None,
            kind=principal.kind.value,
            roles=tuple(sorted(role.value for role in principal.roles)),
            assurance=principal.assurance,
            authenticated_at=principal.authenticated_at,
            issuer=principal.issuer,
        )
        old = stored_id(replacing)
        with self._store.write() as connection:
            if old is not None:
                session_store.revoke_session(connection, old, now)
            session_store.insert_session(connection, row)
        return StartedSession(token, Session(row.id, principal, row.expires_at))

    def resolve(self, token: str | None) -> Session | None:
        """The live session a token names, or None (unknown, revoked, expired or idle).
        Records activity when the last record is older than `policy.touch_every`."""
        session_id = stored_id(token)
        if session_id is None:
            return None
        with self._store.read() as connection:
            row = session_store.find_session(connection, session_id)
        now = self._clock.now()
        if row is None or not self.policy.live(row, now):
            return None
        if self.policy.needs_touch(row, now):
            with self._store.write() as connection:
                session_store.touch_session(
                    connection, session_id, now, seen_before=now - self.policy.touch_every
                )
        return Session(row.id, _principal(row), row.expires_at)

    def end(self, token: str | None) -> bool:
        """Sign-out: the session a token names ends now. True when it was live until now."""
        session_id = stored_id(token)
        if session_id is None:
            return False
        with self._store.write() as connection:
            return session_store.revoke_session(connection, session_id, self._clock.now())

    def end_all(self, subject: str) -> int:
        """Every session of one subject ends now (a lost phone, a compromised account)."""
        with self._store.write() as connection:
            return session_store.revoke_subject(connection, subject, self._clock.now())

    def purge(self) -> int:
        """Forget sessions past their absolute deadline (they can never be used again)."""
        with self._store.write() as connection:
            return session_store.delete_expired(connection, self._clock.now())


def _principal(row: SessionRow) -> Principal:
    """The principal a stored session speaks for. Role names the code no longer knows are
    dropped (a role removed from Wayline grants nothing to sessions that still name it)."""
    known = {role.value: role for role in Role}
    return Principal(
        subject=row.subject,
        kind=Kind(row.kind),
        roles=frozenset(known[name] for name in row.roles if name in known),
        assurance=row.assurance,
        authenticated_at=row.authenticated_at or row.created_at,
        issuer=row.issuer,
    )
