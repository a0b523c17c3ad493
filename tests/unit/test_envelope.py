"""The envelope format: what it binds, what it refuses, and what it says about itself."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wayline.protection import envelope
from wayline.protection.envelope import Header, NotAnEnvelope, WrongPlace
from wayline.protection.providers import KeyProviderError, LocalKeyring

KEY = bytes(range(32))
HEADER = Header("alex", 3, "sensitive")


def test_a_sealed_value_opens_where_it_was_sealed_and_names_its_key() -> None:
    blob = envelope.seal(KEY, HEADER, "j1", "answers.account_number", b'"12345678"')
    assert envelope.header_of(blob) == HEADER
    assert envelope.open_sealed(KEY, blob, "j1", "answers.account_number") == b'"12345678"'
    assert blob[0] == envelope.FORMAT_VERSION
    assert b"12345678" not in blob


@pytest.mark.parametrize(
    ("journey", "field"),
    [
        ("j2", "answers.account_number"),
        ("j1", "answers.sort_code"),
        ("j", "1answers.account_number"),
    ],
)
def test_a_sealed_value_copied_to_another_row_or_field_does_not_open(
    journey: str, field: str
) -> None:
    blob = envelope.seal(KEY, HEADER, "j1", "answers.account_number", b'"12345678"')
    with pytest.raises(WrongPlace):
        envelope.open_sealed(KEY, blob, journey, field)


def test_an_altered_header_or_body_does_not_open() -> None:
    blob = envelope.seal(KEY, HEADER, "j1", "f", b"secret")
    # The classification byte sits right after the key version: claim it is public.
    at = 2 + len("alex") + 4
    lowered = blob[:at] + bytes([0]) + blob[at + 1 :]
    assert envelope.header_of(lowered).classification == "public"
    with pytest.raises(WrongPlace):
        envelope.open_sealed(KEY, lowered, "j1", "f")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(WrongPlace):
        envelope.open_sealed(KEY, flipped, "j1", "f")
    with pytest.raises(WrongPlace):
        envelope.open_sealed(bytes(32), blob, "j1", "f")


def test_text_form_round_trips_and_refuses_what_is_not_an_envelope() -> None:
    blob = envelope.seal(KEY, HEADER, "j1", "f", b"x")
    text = envelope.to_text(blob)
    assert text.startswith("wl1:") and envelope.from_text(text) == blob
    for bad in (b"", b"\x02abc", b"\x01\x04alex"):
        with pytest.raises(NotAnEnvelope):
            envelope.header_of(bad)
    with pytest.raises(NotAnEnvelope):
        envelope.from_text("plain words")


def test_two_seals_of_one_value_differ() -> None:
    one = envelope.seal(KEY, HEADER, "j1", "f", b"same")
    two = envelope.seal(KEY, HEADER, "j1", "f", b"same")
    assert one != two  # a fresh nonce each time


def test_the_local_keyring_is_private_and_keeps_every_version(tmp_path: Path) -> None:
    path = tmp_path / "home" / "keyring.json"
    keyring = LocalKeyring(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    key, wrapped = keyring.generate("alex")
    assert wrapped.kek_version == "local-1"
    assert keyring.new_version() == "local-2"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert keyring.unwrap(wrapped, "alex") == key  # the old version still unwraps
    again = keyring.wrap(key, "alex")
    assert again.kek_version == "local-2"
    with pytest.raises(KeyProviderError):
        keyring.unwrap(wrapped, "sam")  # a wrapped key moved to another subject
    with pytest.raises(KeyProviderError):
        keyring.retire("local-2")  # the current one
    keyring.retire("local-1")
    with pytest.raises(KeyProviderError):
        keyring.unwrap(wrapped, "alex")
    assert keyring.unwrap(again, "alex") == key


def test_blind_indexes_match_by_value_and_purpose_and_follow_a_new_key() -> None:
    from wayline.protection.blind_index import BlindIndex

    old = BlindIndex([(1, b"k" * 32)])
    both = BlindIndex([(1, b"k" * 32), (2, b"n" * 32)])
    index = old.of("email", "sam@example.com")
    assert index == old.of("email", "sam@example.com") and index.startswith("1.")
    assert "sam@example.com" not in index
    assert old.of("payee_account", "sam@example.com") != index
    assert both.of("email", "sam@example.com").startswith("2.")
    assert index in both.candidates("email", "sam@example.com")
    assert both.needs_recomputing(index) and not both.needs_recomputing(both.of("email", "x"))
