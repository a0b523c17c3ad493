"""strict_json: what Wayline reads from a request body and writes to a JSON column.

The property that matters: whatever `loads` accepts, `dumps` can write, and it reads back as
the same value; whatever `dumps` refuses would have been unreadable (or unanswerable) later.
"""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wayline import strict_json
from wayline.connectors.http import PartnerClient, PartnerConfig, PartnerError
from wayline.strict_json import UnsafeJson


@pytest.mark.parametrize(
    ("body", "where", "reason"),
    [
        (b'{"a": NaN}', "a", strict_json.NOT_FINITE),
        (b'{"a": Infinity}', "a", strict_json.NOT_FINITE),
        (b'{"a": [1, -Infinity]}', "a.1", strict_json.NOT_FINITE),
        (b'{"a": 1e999}', "a", strict_json.TOO_LARGE),
        (b'{"a": -1e400}', "a", strict_json.TOO_LARGE),
        (b'{"a": ' + b"9" * 310 + b"}", "a", strict_json.TOO_LARGE),
        (b'{"a": ' + b"9" * 5000 + b"}", "a", strict_json.TOO_LARGE),
        (b'{"a": {"b": "\\ud800"}}', "a.b", strict_json.NOT_UNICODE),
        (b'{"a": "x\\udfff"}', "a", strict_json.NOT_UNICODE),
        (b'{"a": "caf\xe9"}', "a", strict_json.NOT_UNICODE),  # Latin-1, not UTF-8
        (b'{"a": "\xed\xa0\x80"}', "a", strict_json.NOT_UNICODE),  # a surrogate as UTF-8
        (b'{"\\ud800": 1}', "body", strict_json.BAD_NAME),
        (b'{"a": 1, "a": 2}', "a", strict_json.NAMED_TWICE),
        (b'"\\udc80"', "body", strict_json.NOT_UNICODE),
    ],
)
def test_loads_refuses_values_and_says_where(body: bytes, where: str, reason: str) -> None:
    with pytest.raises(UnsafeJson) as refused:
        strict_json.loads(body)
    assert refused.value.where == where
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "body",
    [b"", b"\xff\xfe", b"\xef\xbb\xbf{}", '{"a": 1}'.encode("utf-16"), b"{'a': 1}", b"[1,]"],
)
def test_loads_refuses_what_is_not_utf8_json_text(body: bytes) -> None:
    with pytest.raises(json.JSONDecodeError):
        strict_json.loads(body)


def test_loads_keeps_what_json_means() -> None:
    body = '{"a": [1.5, -0.0, 1e308, 12345678901234567890, "café ☃ 𝄞", null, true]}'
    assert strict_json.loads(body.encode()) == json.loads(body)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        ({"a": math.nan}, "a"),
        ({"a": [math.inf]}, "a.0"),
        ({"a": {"b": -math.inf}}, "a.b"),
        ({"a": ["ok", "\ud800"]}, "a.1"),
        ({"\udfff": 1}, "body"),
    ],
)
def test_dumps_refuses_what_could_not_be_read_back(value: Any, where: str) -> None:
    with pytest.raises(UnsafeJson) as refused:
        strict_json.dumps(value)
    assert refused.value.where == where
    assert isinstance(refused.value, ValueError)


# Any JSON-ish value, with the values Python's json lets through: non-finite floats, lone
# surrogates, huge integers.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(exclude_categories=[]), max_size=8)
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_whatever_loads_accepts_dumps_writes_and_reads_back(value: Any) -> None:
    # ensure_ascii lets lone surrogates and huge numbers through as text; allow_nan the rest.
    try:
        body = json.dumps(value, allow_nan=True).encode()
    except ValueError:
        return  # an integer Python itself will not write (over 4,300 digits)
    try:
        taken = strict_json.loads(body)
    except UnsafeJson:
        return
    assert json.loads(strict_json.dumps(taken)) == taken


@pytest.mark.parametrize("raw", [b'{"distance": NaN}', b'{"name": "\\ud800"}', b'{"n": 1e999}'])
def test_a_partner_answer_json_should_not_carry_is_a_failed_call(raw: bytes) -> None:
    """Partner data is recorded in the journey: a NaN or a lone surrogate in a partner's
    answer makes the call a failure (the journey goes on without it), not a value to keep."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=raw))
    config = PartnerConfig(name="geocoder", base_url="http://partner", retries=0)
    client = PartnerClient(config, transport=transport)
    try:
        with pytest.raises(PartnerError) as failure:
            client.get("/anything", dict)
        assert failure.value.reason == "bad_response"
    finally:
        client.close()
