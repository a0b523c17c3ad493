"""The `review:` block of the definition language: checked at load, every error with its file,
its line and what to fix; role names checked against those the caller passes in."""

from __future__ import annotations

from pathlib import Path

import pytest

from wayline.journeys.loader import check_path

ROLES = {"handler", "senior_handler", "fraud_investigator"}

BASE = """\
journey: tiny
title: A tiny journey
reference_prefix: TNY
steps:
  - name: about
    title: About you
    fields:
      - name: amount
        type: number
        label: Amount
        classification: internal
declaration:
  text: It is all true
notifications:
  more_information:
    sms: "We need more from you for {reference}."
"""

REVIEW = """\
review:
  within: P2D
  queues:
    - {name: fraud, title: Fraud, roles: [fraud_investigator], priority: high,
       when: "answers.amount == '1'"}
    - {name: general, title: General, roles: [handler]}
  fraud_queue: fraud
  approve_reasons: [{code: verified, label: Verified, tell: We will pay you}]
  decline_reasons: [{code: refused, label: Refused, tell: We cannot pay you}]
  information_requests:
    - {code: photo, kind: upload, prompt: Upload a photo, accept: [image/jpeg]}
  information_template: more_information
  four_eyes: {amount: "double(answers.amount)", over: 5000}
  open_when: [{when: "answers.amount == '2'", queue: general, reason: Because}]
"""


def errors_of(tmp_path: Path, review: str, roles: set[str] | None = ROLES) -> list[str]:
    folder = tmp_path / "journeys"
    folder.mkdir(exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(BASE + review)
    _, found = check_path(path, roles=roles)
    return [f"{error.line}: {error.message}" for error in found]


def test_a_complete_review_block_loads(tmp_path: Path) -> None:
    assert errors_of(tmp_path, REVIEW) == []


def test_the_shipped_motor_claim_declares_its_review() -> None:
    journeys = Path(__file__).resolve().parents[2] / "journeys"
    loaded, found = check_path(journeys, roles=ROLES)
    assert found == []
    review = loaded["motor-claim"].definition.review
    assert review is not None
    assert [queue.name for queue in review.queues] == ["fraud", "claims"]
    assert review.four_eyes is not None and review.four_eyes.over == 5000
    assert review.information_template == "more_information"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "roles: [handler]}",
            "22: no role 'nobody' (known: fraud_investigator, handler, senior_handler)",
        ),
        ("name: general", "22: queue name 'fraud' is used twice"),
        ("fraud_queue: fraud", "23: no queue named 'nowhere' (known: fraud, general)"),
        ("queue: general,", "30: no queue named 'elsewhere' (known: fraud, general)"),
        ("information_template: more_information", "28: no notification template 'missing'"),
        ("over: 5000", "29: review.four_eyes.over: Input should be greater than or equal to 0"),
        ('amount: "double(answers.amount)"', "29: invalid CEL expression"),
        ("tell: We cannot pay you}]", "25: code 'refused' is used twice"),
        ("accept: [image/jpeg]", "27: an upload request needs 'accept'"),
        ("tell: We cannot pay you", "25: review.decline_reasons.0.tell: 'tell' is required here"),
    ],
)
def test_each_mistake_is_named_with_its_line(tmp_path: Path, change: str, expected: str) -> None:
    replacement = {
        "roles: [handler]}": "roles: [nobody]}",
        "name: general": "name: fraud",
        "fraud_queue: fraud": "fraud_queue: nowhere",
        "queue: general,": "queue: elsewhere,",
        "information_template: more_information": "information_template: missing",
        "over: 5000": "over: -1",
        'amount: "double(answers.amount)"': 'amount: "double(answers.amount"',
        "tell: We cannot pay you}]": (
            "tell: We cannot pay you}, {code: refused, label: Again, tell: Again}]"
        ),
        "accept: [image/jpeg]": "accept: []",
        "tell: We cannot pay you": "",
    }[change]
    review = REVIEW.replace(change, replacement)
    if change == "tell: We cannot pay you":
        review = review.replace(", tell: }", "}")
    found = errors_of(tmp_path, review)
    assert any(message.startswith(expected) for message in found), found


def test_the_last_queue_must_take_every_other_case(tmp_path: Path) -> None:
    review = REVIEW.replace(
        "roles: [handler]}", "roles: [handler], when: \"answers.amount == '3'\"}"
    )
    assert errors_of(tmp_path, review) == [
        "22: the last queue takes every case the others do not: remove its 'when'"
    ]


def test_roles_are_not_checked_when_the_caller_names_none(tmp_path: Path) -> None:
    assert errors_of(tmp_path, REVIEW.replace("[handler]", "[anyone]"), roles=None) == []


def test_a_question_takes_no_file_types(tmp_path: Path) -> None:
    review = REVIEW.replace("kind: upload", "kind: question")
    [message] = errors_of(tmp_path, review)
    assert "accept belongs to upload requests only" in message


def test_an_unknown_key_in_review_is_an_error(tmp_path: Path) -> None:
    [message] = errors_of(tmp_path, REVIEW.replace("within: P2D", "within: P2D\n  sla: P1D"))
    assert "unknown key 'sla'" in message
