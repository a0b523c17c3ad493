"""Visitors: people who start a journey anyone may start (`who: anyone`) without signing in.

A visitor is known only by a random subject (`visitor-…`) that their session and their
journeys carry. To save and come back, they verify an email address with a six-digit code sent
through the notification provider; then a resume link brings them back to the journey.

The rules, each enforced here and tested with a fixed clock:
- a code is random (`secrets`), kept only as a keyed hash (HMAC-SHA256 with the server's key:
  a million codes are easily tried against a plain hash), expires (`code_lifetime`), and works
  once; asking again replaces it;
- wrong codes are counted per journey and per email address (its blind index: a keyed hash
  under a rotatable index key, protection/blind_index.py): the fifth locks verification for
  `lock_for`, in both scopes; the lock outlives any new code;
- a resume link is a random part and its HMAC signature: a tampered link is refused before the
  store is read; a link works once, until `link_lifetime`; following it starts a new session
  (services in web/visitors.py) and ends the visitor's others.

The email address is personal data: it is stored sealed once verified (to send links to), with
its blind index beside it, and never logged; the logs carry the journey's id only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from wayline.errors import Conflict, NotFound, Unavailable
from wayline.ids import new_id
from wayline.protection.blind_index import EMAIL, BlindIndex, BlindIndexes
from wayline.runtime.clock import Clock
from wayline.runtime.ownership import VISITOR_PREFIX, is_visitor
from wayline.store import Connection, Store
from wayline.store import journeys as journey_rows
from wayline.store import visitors as rows
from wayline.store.visitors import CodeRow, LinkRow, LockRow

log = structlog.get_logger("wayline.visitors")
CODE_DIGITS = 6
MAX_EMAIL = 254  # RFC 5321's longest path, less the angle brackets
# Deliberately plain: one @, something before it, a dotted domain, no spaces. Whether the
# address receives mail is what the code proves.
EMAIL_FORMAT = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
CODE_FORMAT = re.compile(r"^[0-9]{6}$")
LINK_FORMAT = re.compile(r"^[A-Za-z0-9_-]{32}\.[A-Za-z0-9_-]{43}$")

# What sends an email: (idempotency key, to, subject, body). None: no provider is configured.
Send = Callable[[str, str, str, str], object]


def new_subject() -> str:
    """A new visitor's subject: random, and recognisably not a customer's id."""
    return VISITOR_PREFIX + secrets.token_hex(16)


def new_code() -> str:
    """Six random digits, leading zeros included."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalised_email(email: str) -> str | None:
    """The address as it is compared and sent to (trimmed, lower case), or None when it is not
    an address."""
    address = email.strip().lower()
    if len(address) > MAX_EMAIL or not EMAIL_FORMAT.match(address):
        return None
    return address


def keyed_hash(key: bytes, purpose: str, text: str) -> str:
    return hmac.new(key, f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class VerificationPolicy:
    """How long a code and a link last, and how many wrong codes lock verification for how
    long (settings: WAYLINE_VISITOR_*)."""

    code_lifetime: timedelta = timedelta(minutes=10)
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)
    link_lifetime: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if min(self.code_lifetime, self.lock_for, self.link_lifetime) <= timedelta(0):
            raise ValueError("Code, lock and link lifetimes must be positive")
        if self.max_failures < 1:
            raise ValueError("At least one wrong code must be allowed")

    # --- pure rules (the tests run them with any clock) ----------------------------------

    def locked_until(self, locks: list[LockRow], now: datetime) -> datetime | None:
        """When the latest lock among `locks` ends, or None when none holds at `now`."""
        ends = [row.locked_until for row in locks if row.locked_until and row.locked_until > now]
        return max(ends) if ends else None

    def after_wrong(self, scope: str, before: LockRow | None, now: datetime) -> LockRow:
        """A scope's count after one more wrong code: the `max_failures`-th locks it for
        `lock_for` and starts the count again."""
        failures = (before.failures if before else 0) + 1
        if failures >= self.max_failures:
            return LockRow(scope, 0, now + self.lock_for)
        return LockRow(scope, failures, before.locked_until if before else None)

    def usable(self, code: CodeRow, now: datetime) -> bool:
        return code.used_at is None and now < code.expires_at


class Verdict(StrEnum):
    SENT = "sent"
    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"  # expired, used, or none asked for
    LOCKED = "locked"


@dataclass(frozen=True)
class Verification:
    """What asking for or checking a code came to. `until`: when a lock ends; `left`: wrong
    codes left before it locks; `link`: the resume link made on success (sent too)."""

    verdict: Verdict
    until: datetime | None = None
    left: int | None = None
    link: str | None = None
    retry_after: int = 0  # whole seconds until a lock ends


def _locked(until: datetime, now: datetime) -> Verification:
    wait = max(1, math.ceil((until - now).total_seconds()))
    return Verification(Verdict.LOCKED, until=until, retry_after=wait)


class LinkVerdict(StrEnum):
    GOOD = "good"
    TAMPERED = "tampered"  # not one of ours: a changed or made-up link
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Redeemed:
    verdict: LinkVerdict
    journey_id: str | None = None
    owner: str | None = None


class Visitors:
    """Email verification and resume links for visitors' journeys. Each method is one short
    transaction; emails are sent after it commits (never with a transaction open)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        key: bytes,
        send: Send | None,
        public_url: str,
        policy: VerificationPolicy | None = None,
        indexes: BlindIndexes | None = None,
    ):
        self._store = store
        self._clock = clock
        self._key = key
        # The email's lookup key is a blind index (protection/blind_index.py): under the data
        # keys' index keys when protection is on, else under a key of the server's secret.
        self._indexes = indexes or BlindIndexes(None, key)
        self._send = send
        self._public_url = public_url.rstrip("/")
        self.policy = policy or VerificationPolicy()

    # --- codes ----------------------------------------------------------------------------

    def request_code(self, owner: str, journey_id: str, email: str) -> Verification:
        """Send a new code for `email` (already normalised) to the owner's journey, replacing
        any earlier one; LOCKED (nothing sent) while the journey or the address is locked."""
        if self._send is None:
            raise Unavailable("Email cannot be sent just now: no notification provider")
        now = self._clock.now()
        code = new_code()
        with self._store.write() as connection:
            _owned(connection, owner, journey_id)
            index = self._indexes.current(connection)
            until = self.policy.locked_until(
                rows.locks(connection, _lookup_scopes(journey_id, index, email)), now
            )
            if until is not None:
                return _locked(until, now)
            row = CodeRow(
                id=new_id(),
                journey_id=journey_id,
                email_hash=index.of(EMAIL, email),
                code_hash=keyed_hash(self._key, f"code:{journey_id}", code),
                created_at=now,
                expires_at=now + self.policy.code_lifetime,
                used_at=None,
            )
            rows.replace_code(connection, row)
        minutes = int(self.policy.code_lifetime.total_seconds() // 60)
        self._send(
            f"visitor-code:{row.id}",
            email,
            "Your code",
            f"Your code is {code}. It expires in {minutes} minutes.\n\n"
            "If you did not ask for a code, you can ignore this email.",
        )
        log.info("visitor.code_sent", journey_id=journey_id)
        return Verification(Verdict.SENT)

    def check_owner(self, owner: str, journey_id: str) -> None:
        """NotFound unless `owner` owns the journey; Conflict when they are a customer (their
        journeys are saved to their account as they go: there is nothing to verify)."""
        with self._store.read() as connection:
            _owned(connection, owner, journey_id)
        if not is_visitor(owner):
            raise Conflict("This journey is saved to your account as you go: nothing to verify")

    def check_code(self, owner: str, journey_id: str, email: str, code: str) -> Verification:
        """Check a code for the owner's journey. Right: the journey belongs to `email` from
        now, and a resume link is made and sent there. Wrong: counted (per journey and per
        address). Expired, used, none asked for, or locked: nothing changes."""
        now = self._clock.now()
        with self._store.write() as connection:
            _owned(connection, owner, journey_id)
            index = self._indexes.current(connection)
            email_index = index.of(EMAIL, email)
            scopes = _scopes(journey_id, email_index)
            found = rows.locks(connection, _lookup_scopes(journey_id, index, email))
            until = self.policy.locked_until(found, now)
            if until is not None:
                return _locked(until, now)
            latest = rows.latest_code(connection, journey_id)
            if latest is None or not index.matches(latest.email_hash, EMAIL, email):
                return Verification(Verdict.EXPIRED)
            if not self.policy.usable(latest, now):
                return Verification(Verdict.EXPIRED)
            expected = keyed_hash(self._key, f"code:{journey_id}", code.strip())
            if not hmac.compare_digest(expected, latest.code_hash):
                return self._wrong(connection, scopes, found, now)
            if not rows.use_code(connection, latest.id, now):
                return Verification(Verdict.EXPIRED)
            rows.clear_locks(connection, _lookup_scopes(journey_id, index, email))
            rows.set_email(connection, journey_id, email, email_index, now)
            link = self._issue(connection, journey_id, now)
        log.info("visitor.email_verified", journey_id=journey_id)
        self._send_link(email, link, "verified")
        return Verification(Verdict.VERIFIED, link=link)

    def _wrong(
        self, connection: Connection, scopes: list[str], found: list[LockRow], now: datetime
    ) -> Verification:
        by_scope = {row.scope: row for row in found}
        after = [self.policy.after_wrong(scope, by_scope.get(scope), now) for scope in scopes]
        for row in after:
            rows.save_lock(connection, row, now)
        log.info("visitor.wrong_code")
        until = self.policy.locked_until(after, now)
        if until is not None:
            return _locked(until, now)
        left = self.policy.max_failures - max(row.failures for row in after)
        return Verification(Verdict.WRONG, left=left)

    def verified_email(self, owner: str, journey_id: str) -> bool:
        with self._store.read() as connection:
            _owned(connection, owner, journey_id)
            return rows.email_of(connection, journey_id) is not None

    # --- resume links ---------------------------------------------------------------------

    def save_for_later(self, owner: str, journey_id: str) -> bool:
        """ "Save and come back later": a new resume link, sent to the journey's verified
        email. False (nothing sent) when no email is verified yet."""
        if self._send is None:
            raise Unavailable("Email cannot be sent just now: no notification provider")
        now = self._clock.now()
        with self._store.write() as connection:
            _owned(connection, owner, journey_id)
            email = rows.email_of(connection, journey_id)
            if email is None:
                return False
            link = self._issue(connection, journey_id, now)
        self._send_link(email, link, "saved")
        log.info("visitor.saved_for_later", journey_id=journey_id)
        return True

    def signed(self, link: str) -> bool:
        """Whether `link` is one this server signed (used, expired or not): no store read."""
        return self._nonce(link) is not None

    def redeem(self, link: str) -> Redeemed:
        """Follow a resume link: GOOD (once) with the journey and its owner while the journey
        is still a visitor's; otherwise why not."""
        nonce = self._nonce(link)
        if nonce is None:
            return Redeemed(LinkVerdict.TAMPERED)
        now = self._clock.now()
        with self._store.write() as connection:
            found = rows.find_link(connection, _link_id(nonce))
            if found is None:
                return Redeemed(LinkVerdict.TAMPERED)
            if found.used_at is not None:
                return Redeemed(LinkVerdict.USED)
            if now >= found.expires_at:
                return Redeemed(LinkVerdict.EXPIRED)
            owner = journey_rows.owner_of(connection, found.journey_id)
            if owner is None or not is_visitor(owner):
                return Redeemed(LinkVerdict.USED)  # the journey passed to a customer
            if not rows.use_link(connection, found.id, now):
                return Redeemed(LinkVerdict.USED)
        log.info("visitor.resumed", journey_id=found.journey_id)
        return Redeemed(LinkVerdict.GOOD, found.journey_id, owner)

    def _issue(self, connection: Connection, journey_id: str, now: datetime) -> str:
        nonce = secrets.token_urlsafe(24)
        expires_at = now + self.policy.link_lifetime
        rows.insert_link(connection, LinkRow(_link_id(nonce), journey_id, expires_at, None), now)
        return f"{nonce}.{self._signature(nonce)}"

    def _signature(self, nonce: str) -> str:
        digest = hmac.new(self._key, f"resume:{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _nonce(self, link: str) -> str | None:
        """The link's random part when its signature is ours; None for anything else."""
        if not LINK_FORMAT.match(link):
            return None
        nonce, signature = link.split(".")
        return nonce if hmac.compare_digest(signature, self._signature(nonce)) else None

    def link_url(self, link: str) -> str:
        return f"{self._public_url}/resume/{link}"

    def _send_link(self, email: str, link: str, why: str) -> None:
        assert self._send is not None
        hours = int(self.policy.link_lifetime.total_seconds() // 3600)
        self._send(
            f"visitor-link:{_link_id(link.split('.')[0])}",
            email,
            "Continue your application",
            "Your answers are saved. To carry on where you left off, follow this link:\n\n"
            f"{self.link_url(link)}\n\nThe link works once, for {hours} hours. "
            "If it has expired, start again and ask for a new code with the same email address.",
        )
        log.info("visitor.link_sent", why=why)


def _scopes(journey_id: str, email_index: str) -> list[str]:
    """Where a wrong code is counted: the journey, and the address (by its current index)."""
    return [f"journey:{journey_id}", f"email:{email_index}"]


def _lookup_scopes(journey_id: str, index: BlindIndex, email: str) -> list[str]:
    """Where locks are looked for: the journey, and the address under every index key still
    kept (a lock made before a new index key still holds)."""
    emails = [f"email:{candidate}" for candidate in index.candidates(EMAIL, email)]
    return [f"journey:{journey_id}", *emails]


def _link_id(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("ascii")).hexdigest()


def _owned(connection: Connection, owner: str, journey_id: str) -> None:
    """NotFound unless `owner` owns the journey (anyone else is told it does not exist)."""
    if journey_rows.owner_of(connection, journey_id) != owner:
        raise NotFound(f"There is no journey '{journey_id}'")
