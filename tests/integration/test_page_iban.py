"""A field type added through the registry alone works end to end: an `iban` question in a
small journey of its own (the motor claim asks none), asked on its page, read from the posted
form, checked, kept in capitals without spaces, shown in groups of four on check-answers, and
described in the API. On SQLite and PostgreSQL, over the real app."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import pytest
from journey_api import CSRF_HEADER, Api, field_of

from wayline.web.app import create_app

PAYOUT = """\
journey: payout-details
title: Tell us where to pay you
reference_prefix: PAY
steps:
  - name: bank
    title: Your bank account
    fields:
      - name: payout_iban
        type: iban
        label: IBAN
        hint: It is on your bank statement
        classification: sensitive
        required: Enter the IBAN of the account to pay into
declaration:
  text: The account is mine
"""
WRONG_CHECK_DIGITS = (
    "Check the IBAN for a mistyped character: its check digits (the 2 numbers after the "
    "country code) do not match the rest of it"
)


@pytest.fixture
def payout(tmp_path: Path, make_components: Any, sign_in: Any) -> tuple[Api, dict[str, Any]]:
    """Alex, signed in to an app that serves only the payout-details journey, started."""
    journeys = tmp_path / "payout-journeys"
    journeys.mkdir()
    (journeys / "payout-details.yaml").write_text(PAYOUT, encoding="utf-8")
    app = create_app(make_components(journeys_dir=journeys))
    alex = sign_in("alex", app=app)
    return alex, alex.start("payout-details")


def post_page(api: Api, journey: dict[str, Any], typed: str) -> Any:
    data = {
        "csrf_token": api.http.headers[CSRF_HEADER],
        "revision": str(journey["revision"]),
        "payout_iban": typed,
        "action": "continue",
    }
    return api.http.post(f"/journeys/{journey['id']}/steps/bank", data=data, follow_redirects=False)


def test_the_iban_page_asks_with_one_box_in_capitals(payout):
    api, journey = payout
    assert field_of(journey, "payout_iban")["type"] == "iban"
    page = api.http.get(f"/journeys/{journey['id']}/steps/bank")
    assert page.status_code == 200
    box = re.search(r'<input[^>]* id="payout_iban"[^>]*>', page.text)
    assert box is not None, page.text
    assert "input-upper" in box.group() and 'name="payout_iban"' in box.group()
    assert 'aria-describedby="payout_iban-hint"' in box.group()


def test_an_iban_typed_with_spaces_is_kept_without_them_and_read_back_in_fours(payout):
    api, journey = payout
    response = post_page(api, journey, "gb82 west 1234 5698 7654 32")
    assert response.status_code == 303, response.text[:300]
    kept = api.journey(journey["id"])
    assert kept["answers"]["payout_iban"] == "GB82WEST12345698765432"
    check = api.http.get(f"/journeys/{journey['id']}/check-answers")
    assert check.status_code == 200
    assert "GB82 WEST 1234 5698 7654 32" in html.unescape(check.text)


def test_a_mistyped_iban_gets_the_page_again_with_its_message(payout):
    api, journey = payout
    response = post_page(api, journey, "GB82 WEST 1234 5698 7654 33")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert f"Error:</span> {WRONG_CHECK_DIGITS}" in page
    assert '<a href="#payout_iban">' in page  # the error summary links to the box
    assert 'value="GB82 WEST 1234 5698 7654 33"' in page  # as typed, to correct
    assert api.journey(journey["id"])["revision"] == journey["revision"]


def test_the_api_takes_the_same_iban_the_same_way(payout):
    api, journey = payout
    refused = api.refused(journey, "bank", {"payout_iban": "GB83WEST12345698765432"})
    assert refused == {"payout_iban": WRONG_CHECK_DIGITS}
    kept = api.step(journey, "bank", {"payout_iban": "DE89 3704 0044 0532 0130 00"})
    assert kept["answers"]["payout_iban"] == "DE89370400440532013000"
