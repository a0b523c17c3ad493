"""A money field's currency: the prefix its box shows and how its answer reads in words."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from wayline.journeys.answer_text import Shown, money
from wayline.journeys.currencies import CURRENCIES, prefix
from wayline.journeys.field_types import FieldType
from wayline.journeys.schema import FieldSpec
from wayline.runtime.queries import FieldView
from wayline.web.pages.render import TEMPLATES


def amount(currency: str | None) -> FieldSpec:
    return FieldSpec(
        name="amount",
        type=FieldType.MONEY,
        label="Amount",
        classification="internal",
        currency=currency,
    )


def box(spec: FieldSpec) -> str:
    view = FieldView(spec=spec, value=None, error=None, required=True)
    widgets = TEMPLATES.env.get_template("fields/macros.html").module
    return str(widgets.money_input(view, False, {"render_field": None, "journey_id": "J1"}))


@pytest.mark.parametrize(
    ("currency", "shown"), [("GBP", "£"), ("EUR", "€"), ("USD", "$"), ("CHF", "CHF ")]
)
def test_the_box_and_the_words_show_the_fields_currency(currency, shown):
    assert prefix(currency) == shown
    assert f'aria-hidden="true">{shown}</div>' in box(amount(currency))
    assert money("1234.5", Shown(currency=currency)) == f"{shown}1,234.50"


def test_a_version_stored_before_currencies_reads_in_pounds():
    assert 'aria-hidden="true">£</div>' in box(amount(None))
    assert money("850", Shown()) == "£850.00"


def test_a_currency_is_an_iso_4217_code():
    assert {"GBP", "EUR", "USD", "JPY", "CHF"} <= CURRENCIES
    assert all(len(code) == 3 and code.isupper() for code in CURRENCIES)
    with pytest.raises(ValidationError, match="not an ISO 4217 currency code"):
        amount("ABC")
    with pytest.raises(ValidationError, match="String should match pattern"):
        amount("gbp")
