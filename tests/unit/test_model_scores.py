"""How model features computed by CEL are kept: plain JSON, and no value that JSON (or the
store) cannot carry."""

from __future__ import annotations

import math

from wayline.runtime.model_scores import _plain


def test_values_are_kept_as_plain_json_and_non_finite_numbers_as_none():
    assert _plain(2.5) == 2.5 and _plain("glass") == "glass" and _plain(True) is True
    assert _plain(math.inf) is None and _plain(-math.inf) is None and _plain(math.nan) is None
    assert _plain([1, math.inf, {"a": math.nan}]) == [1, None, {"a": None}]
