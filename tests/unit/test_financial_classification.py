"""`financial` (bank details, money held): declared in a definition, sealed like personal data,
and ranked the same way by the definitions and the codec."""

from __future__ import annotations

import os

from wayline.journeys.loader import SENSITIVITY
from wayline.journeys.schema import Classification
from wayline.protection import envelope
from wayline.protection.codec import ORDER, PLAIN_CLASSES


def test_financial_ranks_between_personal_and_sensitive_everywhere() -> None:
    assert [c.value for c in SENSITIVITY] == list(ORDER)
    assert ORDER.index("personal") < ORDER.index("financial") < ORDER.index("sensitive")


def test_financial_values_are_sealed_and_say_so_in_their_envelope() -> None:
    assert Classification("financial") not in PLAIN_CLASSES
    key = os.urandom(envelope.KEY_BYTES)
    header = envelope.Header("alex", 1, "financial")
    sealed = envelope.seal(key, header, "j-1", "sort_code", b"60-70-80")
    assert b"60-70-80" not in sealed
    assert envelope.header_of(sealed).classification == "financial"
    assert envelope.open_sealed(key, sealed, "j-1", "sort_code") == b"60-70-80"
