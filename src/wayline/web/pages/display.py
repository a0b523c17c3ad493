"""Answers, statuses and events in plain words, for people rather than programs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from wayline.journeys import engine
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldSpec, FieldType

STATUS_WORDS = {
    "in_progress": "Not sent yet",
    "submitted": "Sent",
    "in_review": "Being reviewed",
    "decided": "Decided",
    "closed": "Closed",
    "abandoned": "Not finished in time",
}


OUTCOME_WORDS = {
    "approved": "approved",
    "referred": "passed to a claims handler",
    "not_covered": "not covered by your policy",
    "no_policy": "we could not find your policy",
}


def long_date(text: str) -> str:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return text
    return f"{day.day} {day:%B %Y}"


def moment(text: str) -> str:
    at = datetime.fromisoformat(text)
    hour = at.hour % 12 or 12
    return f"{at.day} {at:%B %Y} at {hour}:{at:%M}{'am' if at.hour < 12 else 'pm'} (UTC)"


def answer_text(
    journey: Journey,
    state: engine.JourneyState,
    spec: FieldSpec,
    value: Any,
    documents: dict[str, dict],
) -> str:
    if value is None or value == [] or value == "":
        return "Not given"
    if spec.type == FieldType.YES_NO:
        return "Yes" if value else "No"
    if spec.type == FieldType.DATE:
        return long_date(value)
    if spec.type == FieldType.MONEY:
        return f"£{Decimal(value):,.2f}"
    if spec.type in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE):
        labels = {o.value: o.label for o in engine.options_for(journey, state, spec)}
        values = value if isinstance(value, list) else [value]
        return ", ".join(labels.get(v, v) for v in values)
    if spec.type == FieldType.FILE:
        names = [documents.get(v, {}).get("filename", "a file") for v in value]
        count = f"{len(names)} file{'s' if len(names) != 1 else ''}"
        return f"{count}: " + ", ".join(names)
    return str(value)


def event_words(journey: Journey, event: dict[str, Any]) -> str:
    kind = event["type"]
    step = journey.step(event.get("step", "")) if event.get("step") else None
    title = f"‘{step.title}’" if step else "a step"
    noun = journey.title[0].lower() + journey.title[1:]
    words = {
        "journey.started": f"You started: {noun}",
        "step.saved": f"Your answers to {title} were saved",
        "step.completed": f"You answered {title}",
        "answer.changed": f"You changed your answers to {title}",
        "journey.submitted": "You sent it to us",
        "review.started": "We started reviewing it",
        "decision.made": "We made a decision",
        "journey.closed": "It was closed",
        "journey.abandoned": "It was not finished in time and was closed",
        "check.completed": "We completed a check",
        "payment.sent": "We sent your payment",
        "notification.sent": "We sent you a message",
        "booking.made": "We booked your car in with the repairer",
        "deadline.breached": "We are late: we have asked our team to deal with it urgently",
    }
    data = event.get("data") or {}
    if kind == "decision.made" and data.get("outcome"):
        return f"We made a decision: {OUTCOME_WORDS.get(data['outcome'], data['outcome'])}"
    if kind == "notification.sent" and data.get("channel"):
        return (
            "We sent you an email" if data["channel"] == "email" else "We sent you a text message"
        )
    return words.get(kind, kind.replace(".", " ").replace("_", " ").capitalize())
