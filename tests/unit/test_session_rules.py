"""The rules of sessions, cookies and origins, without a database or a server."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import Headers

from wayline.config import Settings
from wayline.identity.sessions import SessionPolicy, stored_id
from wayline.store.sessions import SessionRow
from wayline.web.cookies import CookieNames
from wayline.web.origin import foreign, normalised_origin

SIGNED_IN = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
POLICY = SessionPolicy()


def row(
    last_seen: timedelta = timedelta(0),
    revoked: bool = False,
    lifetime: timedelta = POLICY.lifetime,
) -> SessionRow:
    return SessionRow(
        id="0" * 64,
        subject="alex",
        created_at=SIGNED_IN,
        last_seen_at=SIGNED_IN + last_seen,
        expires_at=SIGNED_IN + lifetime,
        revoked_at=SIGNED_IN if revoked else None,
    )


# --- the policy ---------------------------------------------------------------------------------


def test_defaults_are_30_idle_minutes_within_12_hours() -> None:
    assert POLICY.idle == timedelta(minutes=30)
    assert POLICY.lifetime == timedelta(hours=12)
    assert SessionPolicy.from_settings(Settings()) == POLICY
    configured = SessionPolicy.from_settings(
        Settings(session_idle_minutes=5, session_max_hours=1.5)
    )
    assert configured == SessionPolicy(lifetime=timedelta(minutes=90), idle=timedelta(minutes=5))


def test_a_session_is_live_until_idle_for_the_timeout() -> None:
    assert POLICY.live(row(), SIGNED_IN)
    assert POLICY.live(row(), SIGNED_IN + timedelta(minutes=29, seconds=59))
    assert not POLICY.live(row(), SIGNED_IN + timedelta(minutes=30))
    # Activity recorded at 11:00 keeps it live until 11:30.
    later = row(last_seen=timedelta(hours=2))
    assert POLICY.live(later, SIGNED_IN + timedelta(hours=2, minutes=29))
    assert not POLICY.live(later, SIGNED_IN + timedelta(hours=2, minutes=30))


def test_a_session_ends_at_its_lifetime_however_recent_the_activity() -> None:
    busy = row(last_seen=timedelta(hours=11, minutes=59))
    assert POLICY.live(busy, SIGNED_IN + timedelta(hours=11, minutes=59, seconds=59))
    assert not POLICY.live(busy, SIGNED_IN + timedelta(hours=12))


def test_a_revoked_session_is_never_live() -> None:
    assert not POLICY.live(row(revoked=True), SIGNED_IN)


def test_activity_is_recorded_once_a_minute_or_a_tenth_of_a_short_idle_timeout() -> None:
    assert POLICY.touch_every == timedelta(minutes=1)
    assert not POLICY.needs_touch(row(), SIGNED_IN + timedelta(seconds=59))
    assert POLICY.needs_touch(row(), SIGNED_IN + timedelta(minutes=1))
    # With a 2-minute idle timeout, a customer active every 90 seconds must stay signed in.
    short = SessionPolicy(idle=timedelta(minutes=2))
    assert short.touch_every == timedelta(seconds=12)


def test_a_policy_refuses_non_positive_durations() -> None:
    with pytest.raises(ValueError):
        SessionPolicy(idle=timedelta(0))
    with pytest.raises(ValueError):
        SessionPolicy(lifetime=timedelta(minutes=-1))


# --- tokens ---------------------------------------------------------------------------------------


def test_a_token_is_stored_as_its_hash_and_anything_else_is_refused_unread() -> None:
    token = secrets.token_urlsafe(32)
    assert stored_id(token) == hashlib.sha256(token.encode()).hexdigest()
    for other in (
        None,
        "",
        token[:-1],
        token + "A",
        token[:-1] + "=",
        token[:-1] + "\x00",
        "é" * 43,
    ):
        assert stored_id(other) is None


# --- cookie names -------------------------------------------------------------------------------


def test_cookie_names_carry_the_host_prefix_exactly_when_secure() -> None:
    assert CookieNames.for_transport(secure=True) == CookieNames(
        "__Host-wayline_session", "__Host-wayline_csrf", True
    )
    assert CookieNames.for_transport(secure=False) == CookieNames(
        "wayline_session", "wayline_csrf", False
    )


def test_cookies_are_secure_by_default_except_in_demo() -> None:
    assert Settings().cookies_secure() is True
    assert Settings(demo=True).cookies_secure() is False
    assert Settings(demo=True, secure_cookies=True).cookies_secure() is True
    assert Settings(secure_cookies=False).cookies_secure() is False


# --- origins ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Example.COM", "https://example.com"),
        ("https://example.com:443", "https://example.com"),
        ("http://example.com:80", "http://example.com"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("null", None),
        ("", None),
        ("ftp://example.com", None),
        ("https://", None),
        ("https://example.com:99999", None),
        ("https://user@example.com", None),
        ("https://example.com/path", None),
        ("https://example.com?x=1", None),
    ],
)
def test_an_origin_header_is_an_origin_or_nothing(given: str, expected: str | None) -> None:
    assert normalised_origin(given) == expected


def test_a_configured_url_gives_its_origin_whatever_its_path() -> None:
    assert normalised_origin("https://claims.example.com/app/", strict=False) == (
        "https://claims.example.com"
    )


def _foreign(headers: dict[str, str], public: str | None = None) -> bool:
    scope = {"type": "http", "scheme": "http", "server": ("127.0.0.1", 8000)}
    return foreign(scope, Headers(headers), public)


def test_foreign_requests_are_those_the_browser_says_come_from_another_site() -> None:
    own = {"host": "claims.example.com"}
    assert not _foreign(own)
    assert not _foreign({**own, "origin": "http://claims.example.com"})
    assert not _foreign({**own, "sec-fetch-site": "same-site"})
    assert _foreign({**own, "sec-fetch-site": "cross-site"})
    assert _foreign({**own, "sec-fetch-site": "Cross-Site"})
    assert _foreign({**own, "origin": "http://evil.example"})
    assert _foreign({**own, "origin": "null"})
    # Behind a proxy that terminates TLS the request arrives as http: the public URL counts.
    https = {**own, "origin": "https://claims.example.com"}
    assert _foreign(https)
    assert not _foreign(https, public="https://claims.example.com")
    # Without a Host header, the address the server listens on is the request's own.
    assert not _foreign({"origin": "http://127.0.0.1:8000"})
