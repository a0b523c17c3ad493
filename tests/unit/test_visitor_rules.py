"""The rules of visitors' email codes and resume links (identity/visitors.py), with a fixed
clock: codes are six random digits kept as keyed hashes; five wrong codes lock for 15 minutes;
a lock ends on time; links are signed and a changed link is refused before any lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wayline.identity.visitors import (
    CODE_FORMAT,
    VerificationPolicy,
    Visitors,
    keyed_hash,
    new_code,
    new_subject,
    normalised_email,
)
from wayline.runtime.clock import FixedClock
from wayline.runtime.ownership import is_visitor
from wayline.store.visitors import CodeRow, LockRow

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
POLICY = VerificationPolicy()
SCOPE = "journey:j1"


def wrong_codes(times: int, start: LockRow | None = None, at: datetime = NOW) -> LockRow | None:
    row = start
    for _ in range(times):
        row = POLICY.after_wrong(SCOPE, row, at)
    return row


def test_codes_are_six_digits_and_vary() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(CODE_FORMAT.match(code) for code in codes)
    assert len(codes) > 150  # random: 200 draws from a million rarely repeat


def test_a_code_is_kept_only_as_a_keyed_hash() -> None:
    one = keyed_hash(b"k1", "code:j1", "123456")
    assert "123456" not in one
    assert one != keyed_hash(b"k2", "code:j1", "123456")  # a copy of the table is not enough
    assert one != keyed_hash(b"k1", "code:j2", "123456")  # nor a code for another journey


def test_four_wrong_codes_do_not_lock_and_the_fifth_locks_for_15_minutes() -> None:
    four = wrong_codes(4)
    assert four is not None and four.failures == 4
    assert POLICY.locked_until([four], NOW) is None
    five = POLICY.after_wrong(SCOPE, four, NOW)
    assert POLICY.locked_until([five], NOW) == NOW + timedelta(minutes=15)
    assert POLICY.locked_until([five], NOW + timedelta(minutes=14, seconds=59)) is not None
    assert POLICY.locked_until([five], NOW + timedelta(minutes=15)) is None


def test_after_a_lock_the_count_starts_again() -> None:
    locked = wrong_codes(5)
    later = NOW + timedelta(minutes=16)
    again = wrong_codes(4, locked, later)
    assert again is not None and POLICY.locked_until([again], later) is None
    assert POLICY.locked_until([POLICY.after_wrong(SCOPE, again, later)], later) is not None


def test_the_latest_lock_of_either_scope_holds() -> None:
    journey = LockRow("journey:j1", 0, NOW + timedelta(minutes=5))
    email = LockRow("email:x", 0, NOW + timedelta(minutes=12))
    assert POLICY.locked_until([journey, email], NOW) == NOW + timedelta(minutes=12)


@given(st.integers(min_value=0, max_value=30))
def test_a_code_is_usable_until_it_expires_and_never_once_used(minutes: int) -> None:
    code = CodeRow("c", "j", "e", "h", NOW, NOW + POLICY.code_lifetime, None)
    at = NOW + timedelta(minutes=minutes)
    assert POLICY.usable(code, at) is (minutes < 10)
    used = CodeRow("c", "j", "e", "h", NOW, NOW + POLICY.code_lifetime, NOW)
    assert not POLICY.usable(used, NOW)


def test_policies_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError):
        VerificationPolicy(code_lifetime=timedelta(0))
    with pytest.raises(ValueError):
        VerificationPolicy(max_failures=0)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Sam@Example.com ", "sam@example.com"),
        ("a.b+c@mail.example.co.uk", "a.b+c@mail.example.co.uk"),
        ("sam@example", None),
        ("sam example@x.com", None),
        ("@example.com", None),
        ("sam@@example.com", None),
        ("x" * 250 + "@ex.com", None),
    ],
)
def test_email_addresses_are_checked_and_normalised(typed: str, kept: str | None) -> None:
    assert normalised_email(typed) == kept


def test_visitor_subjects_are_random_and_recognisable() -> None:
    one, two = new_subject(), new_subject()
    assert one != two and is_visitor(one) and not is_visitor("alex")


class _NoStore:
    """A store that must not be reached: a tampered link is refused before any lookup."""

    def write(self) -> None:
        raise AssertionError("the store was read for a link that is not ours")


@given(st.text(max_size=120))
def test_a_link_that_is_not_signed_by_us_is_refused_without_a_lookup(link: str) -> None:
    visitors = Visitors(_NoStore(), FixedClock(NOW), b"key", None, "http://x")  # type: ignore[arg-type]
    assert visitors.redeem(link).verdict.value == "tampered"


def test_a_signed_link_with_one_character_changed_is_refused() -> None:
    visitors = Visitors(_NoStore(), FixedClock(NOW), b"key", None, "http://x")  # type: ignore[arg-type]
    nonce = "A" * 32
    good = f"{nonce}.{visitors._signature(nonce)}"
    assert visitors._nonce(good) == nonce
    changed = ("B" if good[0] != "B" else "C") + good[1:]
    assert visitors._nonce(changed) is None
    other_key = Visitors(_NoStore(), FixedClock(NOW), b"other", None, "http://x")  # type: ignore[arg-type]
    assert other_key._nonce(good) is None
