"""Content blocks name computed values by name ({computed.tax_now}) and read them in words
("£5,128.10"); the loader refuses a name that is not a computed value; and an expression that
indexes past a list's end (`filter(...)[0]` on no match) is a value not known yet, never an
error that escapes."""

from __future__ import annotations

from pathlib import Path

from wayline.journeys import content
from wayline.journeys.computed import compute, in_words
from wayline.journeys.expressions import holds
from wayline.journeys.loader import check_path
from wayline.journeys.schema import Computed, Content

TAX = Computed(type="money", currency="GBP", label="Tax", expression='multiply(answers.x, "2")')
WHEN = Computed(type="date", label="When", expression='"2026-12-04"')


def test_a_computed_value_reads_in_words():
    words = in_words({"tax": TAX, "when": WHEN}, {"tax": "5128.10", "when": "2026-12-04"})
    block = Content(type="text", text="Tax now: {computed.tax}, by {computed.when}.")
    assert content.shown([block], {}, words) == [
        {"type": "text", "text": "Tax now: £5,128.10, by 4 December 2026."}
    ]


def test_an_unknown_or_nested_computed_placeholder_reads_as_nothing():
    block = Content(type="text", text="[{computed.missing}] [{computed.tax.deeper}]")
    assert content.shown([block], {}, {"tax": "£1.00"})[0]["text"] == "[] []"
    assert content.shown([block], {})[0]["text"] == "[] []"


def test_a_value_not_known_yet_reads_as_nothing():
    assert in_words({"tax": TAX}, {"tax": None}) == {"tax": ""}


def test_an_index_past_the_end_is_not_known_yet():
    first = Computed(type="text", label="First", expression="answers.items.filter(i, i == 'b')[0]")
    assert compute({"first": first}, {"answers": {"items": ["a"]}}) == {"first": None}
    assert holds("answers.items[3] == 'a'", {"answers": {"items": ["a"]}}) is False


def test_the_loader_refuses_a_placeholder_naming_no_computed_value(tmp_path: Path):
    (tmp_path / "journeys" / "fragments").mkdir(parents=True)
    path = tmp_path / "journeys" / "j.yaml"
    path.write_text(
        """\
journey: j
title: J
reference_prefix: JJ
steps:
  - name: one
    title: One
    content:
      - type: text
        text: "You get {computed.you_gets} and pay {computed.fee}."
declaration:
  text: It is all true
computed:
  you_get: {type: money, currency: GBP, label: You get, expression: '"1.00"'}
  fee: {type: money, currency: GBP, label: Fee, expression: '"0.50"'}
""",
        encoding="utf-8",
    )
    _, errors = check_path(path)
    assert [(e.line, e.message) for e in errors] == [
        (9, "no computed value named 'you_gets' (known: fee, you_get)")
    ]
