"""JMESPath over partner data (options, prefills), with the one function Wayline adds:
`money(minor_units, currency)`, an amount a partner gives in minor units (pence) in words, as
the customer reads money everywhere else ("£2,450.00"), so an option's hint can say what is
available without Python per partner.

Data missing, or not of the shape the expression expects, finds nothing: a partner's odd
answer must not break a customer's journey."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.functions

from wayline.journeys.currencies import CURRENCIES, prefix


class _Functions(jmespath.functions.Functions):
    @jmespath.functions.signature({"types": ["number"]}, {"types": ["string"]})
    def _func_money(self, minor: int | float, currency: str) -> str:
        """Whole minor units (2 decimals) in words; a fraction of a penny or an unknown
        currency is not money."""
        if isinstance(minor, float) and not minor.is_integer():
            raise jmespath.exceptions.JMESPathTypeError("money", minor, "float", ["integer"])
        if currency not in CURRENCIES:
            raise jmespath.exceptions.JMESPathTypeError("money", currency, "string", ["ISO 4217"])
        return f"{prefix(currency)}{Decimal(int(minor)) / 100:,.2f}"


_OPTIONS = jmespath.Options(custom_functions=_Functions())


def search(expression: str, data: Any) -> Any:
    """`expression` over `data`; None when there is no data or the expression cannot read
    it."""
    if data is None:
        return None
    try:
        return jmespath.search(expression, data, options=_OPTIONS)
    except jmespath.exceptions.JMESPathError:
        return None
