"""Declared partner operations (partners/*.yaml): the format, calls through the PartnerClient
(placeholders, query or body, idempotency keys, refusals, shapes checked both ways), and the
loader's checks of `call:` effects against them, with file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from wayline.connectors.http import PartnerClient, PartnerConfig, PartnerError
from wayline.connectors.operations import (
    Operations,
    OperationsError,
    Refusal,
    RequestInvalid,
    json_schema,
    load_operations,
)
from wayline.journeys.loader import check_directory

ROOT = Path(__file__).resolve().parents[2]

CARDS = """\
partner: card_issuer
title: Card issuer
operations:
  freeze_card:
    title: Freeze a card
    method: POST
    path: /cards/{card_id}/freeze
    changes: true
    request:
      type: object
      required: [card_id, reason]
      properties:
        card_id: {type: string}
        reason: {type: string, enum: [lost, stolen]}
      additionalProperties: false
    response:
      type: object
      required: [frozen_at]
      properties:
        frozen_at: {type: string}
    refusals:
      409: card_cancelled
  card:
    title: A card
    method: GET
    path: /cards/{card_id}
    request:
      type: object
      required: [card_id]
      properties:
        card_id: {type: string}
        detail: {type: string}
    response: {type: object}
"""


def declared(tmp_path: Path, text: str = CARDS, name: str = "card_issuer.yaml") -> Path:
    folder = tmp_path / "partners"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


class Recorder:
    """A partner on an httpx transport: records each request, answers with `reply`."""

    def __init__(self, status: int = 200, body: Any = None):
        self.status, self.body = status, body if body is not None else {"frozen_at": "now"}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)

    def client(self) -> PartnerClient:
        config = PartnerConfig("card_issuer", "http://cards.test", retries=1, backoff_base=0)
        return PartnerClient(config, transport=httpx.MockTransport(self), sleep=lambda _: None)


@pytest.fixture
def operations(tmp_path: Path) -> Operations:
    return Operations.from_directory(declared(tmp_path))


def test_the_shipped_declarations_load_and_the_schema_for_editors_is_current():
    shipped = load_operations(ROOT / "partners")
    assert {"payment_provider", "repairer_network", "notification_provider"} <= set(shipped)
    committed = json.loads((ROOT / "schemas" / "partner.schema.json").read_text("utf-8"))
    assert committed == json_schema(), "run wayline journeys schema --out schemas"


def test_a_change_goes_with_its_key_and_placeholders_leave_the_body(operations):
    partner = Recorder()
    answer = operations.call(
        partner.client(), "freeze_card", {"card_id": "c/1", "reason": "lost"}, "key-12345678"
    )
    assert answer == {"frozen_at": "now"}
    [request] = partner.requests
    assert request.method == "POST"
    assert request.url.raw_path == b"/cards/c%2F1/freeze"  # a placeholder cannot add a path
    assert request.headers["Idempotency-Key"] == "key-12345678"
    assert json.loads(request.content) == {"reason": "lost"}


def test_a_read_sends_the_rest_as_its_query_and_no_key(operations):
    partner = Recorder(body={"status": "active"})
    operations.call(partner.client(), "card", {"card_id": "c1", "detail": "full"}, None)
    [request] = partner.requests
    assert (request.method, request.url.path, request.url.params["detail"]) == (
        "GET",
        "/cards/c1",
        "full",
    )
    assert "Idempotency-Key" not in request.headers


def test_a_request_of_the_wrong_shape_is_never_sent_and_names_no_value(operations):
    partner = Recorder()
    with pytest.raises(RequestInvalid) as wrong:
        operations.call(partner.client(), "freeze_card", {"card_id": "c1", "reason": "x9"}, "k")
    assert partner.requests == []
    assert "reason fails 'enum'" in str(wrong.value) and "x9" not in str(wrong.value)
    with pytest.raises(RequestInvalid, match="needs a key"):
        operations.call(partner.client(), "freeze_card", {"card_id": "c1", "reason": "lost"}, None)


def test_a_declared_refusal_is_a_final_answer_and_another_4xx_is_an_error(operations):
    refused = operations.call(
        Recorder(409, {"detail": "cancelled"}).client(),
        "freeze_card",
        {"card_id": "c1", "reason": "lost"},
        "key-12345678",
    )
    assert refused == Refusal(409, "card_cancelled")
    with pytest.raises(PartnerError, match="rejected"):
        operations.call(
            Recorder(404, {}).client(),
            "freeze_card",
            {"card_id": "c1", "reason": "lost"},
            "key-12345678",
        )


def test_an_answer_of_another_shape_is_a_partner_error_retried_under_the_same_key(operations):
    partner = Recorder(body={"unexpected": True})
    with pytest.raises(PartnerError, match="bad_response"):
        operations.call(
            partner.client(), "freeze_card", {"card_id": "c1", "reason": "lost"}, "key-12345678"
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("path: /cards/{card_id}/freeze", "path: /cards/{card}/freeze"), "placeholder {card}"),
        (("409: card_cancelled", "500: card_cancelled"), "only a 4xx"),
        (("type: object\n      required: [card_id, reason]", "type: array"), "type: object"),
        (("reason: {type: string,", "reason: {type: strang,"), "not a valid JSON Schema"),
    ],
)
def test_a_declaration_that_cannot_be_used_is_refused_with_its_file(tmp_path, change, message):
    with pytest.raises(OperationsError) as refused:
        load_operations(declared(tmp_path, CARDS.replace(*change, 1)))
    assert "card_issuer.yaml" in str(refused.value) and message in str(refused.value)


def test_a_file_named_for_another_partner_is_refused(tmp_path):
    with pytest.raises(OperationsError, match="name the file card_issuer.yaml"):
        load_operations(declared(tmp_path, name="cards.yaml"))


# --- call: effects, checked when a definition loads ---------------------------------------------

JOURNEY = """\
journey: lost-card
title: Report a lost card
reference_prefix: LST
steps:
  - name: reason
    title: What happened?
    fields:
      - name: card_reason
        type: single_choice
        label: What happened?
        classification: internal
        options:
          - {value: lost, label: Lost}
          - {value: stolen, label: Stolen}
declaration:
  text: It is all true
effects:
  - call: card_issuer.freeze_card
    name: freeze
    at: step:reason
    before_continuing: PT5S
    key: "'freeze:' + journey.id"
    request:
      card_id: journey.id
      reason: answers.card_reason
"""


def errors_of(tmp_path: Path, text: str, operations: Operations) -> list[str]:
    folder = tmp_path / "journeys"
    folder.mkdir(exist_ok=True)
    (folder / "lost-card.yaml").write_text(text, encoding="utf-8")
    _, errors = check_directory(folder, operations=operations.signatures())
    return [str(error) for error in errors]


def test_a_well_formed_call_loads(tmp_path, operations):
    assert errors_of(tmp_path, JOURNEY, operations) == []


@pytest.mark.parametrize(
    ("change", "line_of", "message"),
    [
        (
            ("call: card_issuer.freeze_card", "call: card_issuer.freeze"),
            "call: card_issuer.freeze",
            "no partner operation 'card_issuer.freeze' is declared (known: card_issuer.card, "
            "card_issuer.freeze_card)",
        ),
        (
            ("      reason: answers.card_reason\n", ""),
            "card_id: journey.id",  # a mapping's line is its first entry's
            "the request needs 'reason' (card_issuer.freeze_card)",
        ),
        (
            (
                "      reason: answers.card_reason\n",
                "      reason: answers.card_reason\n      why: '1'\n",
            ),
            "why:",
            "card_issuer.freeze_card has no request property 'why' (it has: card_id, reason)",
        ),
        (
            ("    key: \"'freeze:' + journey.id\"\n", ""),
            "- call: card_issuer.freeze_card",
            "card_issuer.freeze_card changes something: give the call a key",
        ),
        (
            ("reason: answers.card_reason", "reason: answers.card_reason +"),
            "reason: answers.card_reason +",
            "invalid CEL expression",
        ),
        (
            ("card_id: journey.id", "card_id: customer.card"),
            "card_id: customer.card",
            "unknown variable customer",
        ),
    ],
)
def test_a_call_that_does_not_fit_its_operation_is_an_error_at_its_line(
    tmp_path, operations, change, line_of, message
):
    text = JOURNEY.replace(*change, 1)
    [error] = errors_of(tmp_path, text, operations)
    line = next(n for n, content in enumerate(text.splitlines(), 1) if line_of in content)
    assert error.startswith(f"journeys/lost-card.yaml:{line}: "), error
    assert message in error


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("    name: freeze\n", ""), "a call needs a name"),
        (("at: step:reason", "at: submitted"), "before_continuing applies to a call at a step"),
        (
            ("call: card_issuer.freeze_card", "kind: notify\n    call: card_issuer.freeze_card"),
            "either a kind or a call",
        ),
    ],
)
def test_the_language_refuses_a_call_without_its_parts(tmp_path, operations, change, message):
    [error] = errors_of(tmp_path, JOURNEY.replace(*change, 1), operations)
    assert message in error
