"""The session service against the real store (SQLite and PostgreSQL), with a clock the test
moves: what starts, resolves, ends and is forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from wayline.bootstrap import Components
from wayline.identity.principal import Principal
from wayline.identity.sessions import SessionPolicy, SessionService, stored_id
from wayline.runtime.clock import FixedClock
from wayline.store import tables

START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def _customer(subject: str) -> Principal:
    return Principal.customer(subject, 1, START, "demo")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def service(components: Components, clock: FixedClock) -> SessionService:
    return SessionService(components.store, clock, SessionPolicy())


def test_a_started_session_resolves_to_its_subject_until_it_ends(
    service: SessionService, clock: FixedClock
) -> None:
    started = service.start(_customer("alex"))
    assert started.session.id == stored_id(started.token)
    assert started.session.expires_at == START + timedelta(hours=12)
    assert service.resolve(started.token) == started.session
    assert service.end(started.token) is True
    assert service.resolve(started.token) is None
    assert service.end(started.token) is False  # already ended


def test_tokens_that_are_not_ours_resolve_to_nobody_and_end_nothing(
    service: SessionService,
) -> None:
    service.start(_customer("alex"))
    for token in (None, "", "x" * 43, "not a token", "\x00" * 43):
        assert service.resolve(token) is None
        assert service.end(token) is False


def test_starting_a_session_ends_the_one_it_replaces(service: SessionService) -> None:
    first = service.start(_customer("alex"))
    second = service.start(_customer("sam"), replacing=first.token)
    assert service.resolve(first.token) is None
    assert service.resolve(second.token) is not None and second.token != first.token


def test_resolve_records_activity_only_when_it_is_a_minute_old(
    service: SessionService, clock: FixedClock, components: Components
) -> None:
    started = service.start(_customer("alex"))
    clock.advance(timedelta(seconds=30))
    service.resolve(started.token)
    assert _last_seen(components) == START
    clock.advance(timedelta(seconds=30))
    service.resolve(started.token)
    assert _last_seen(components) == START + timedelta(minutes=1)
    # An ended session is not revived, nor its activity recorded.
    service.end(started.token)
    clock.advance(timedelta(minutes=5))
    assert service.resolve(started.token) is None
    assert _last_seen(components) == START + timedelta(minutes=1)


def test_end_all_ends_one_subjects_live_sessions_and_counts_them(
    service: SessionService, clock: FixedClock
) -> None:
    expired = service.start(_customer("alex"))
    clock.advance(timedelta(hours=13))  # past its lifetime: nothing to end
    phone, laptop = service.start(_customer("alex")), service.start(_customer("alex"))
    signed_out = service.start(_customer("alex"))
    service.end(signed_out.token)
    sam = service.start(_customer("sam"))
    assert service.end_all("alex") == 2
    for token in (expired.token, phone.token, laptop.token, signed_out.token):
        assert service.resolve(token) is None
    assert service.resolve(sam.token) is not None
    assert service.end_all("alex") == 0
    assert service.end_all("nobody") == 0


def test_purge_forgets_sessions_past_their_lifetime_only(
    service: SessionService, clock: FixedClock, components: Components
) -> None:
    old, ended = service.start(_customer("alex")), service.start(_customer("sam"))
    service.end(ended.token)
    clock.advance(timedelta(hours=11))
    recent = service.start(_customer("jordan"))
    clock.advance(timedelta(hours=1, seconds=1))
    assert service.purge() == 2
    with components.store.read() as connection:
        ids = connection.execute(select(tables.sessions.c.id)).scalars().all()
    assert ids == [recent.session.id]
    assert service.resolve(old.token) is None


def _last_seen(components: Components) -> datetime:
    with components.store.read() as connection:
        (seen,) = connection.execute(select(tables.sessions.c.last_seen_at)).scalars().all()
    return seen if seen.tzinfo else seen.replace(tzinfo=UTC)
