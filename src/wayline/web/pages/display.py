"""Answers, statuses and events in plain words, for people rather than programs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wayline.journeys.computed import shown
from wayline.journeys.loader import Journey

STATUS_WORDS = {
    "in_progress": "Not sent yet",
    "submitted": "Sent",
    "in_review": "Being reviewed",
    "decided": "Decided",
    "completed": "Completed",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "expired": "Not finished in time",
    "closed": "Closed",
    "abandoned": "Not finished in time",
}

# How a journey ended, in words, by who ended it.
ENDED_WORDS = {
    ("completed", "effect"): "It is done.",
    ("completed", "staff"): "We have finished dealing with it.",
    ("declined", "effect"): "We could not go ahead with it.",
    ("declined", "staff"): "We could not go ahead with it.",
    ("withdrawn", "customer"): "You withdrew it.",
    ("withdrawn", "staff"): "We withdrew it, as you asked.",
    ("expired", "time"): "It was not finished in time, so it was closed.",
}


def computed_text(entry: dict[str, Any]) -> str:
    """A computed value of the journey view as a person reads it: £1,851.85, 20%, Yes."""
    if entry.get("value") is None:
        return "Not known yet"
    return shown(str(entry.get("type")), entry["value"], entry.get("currency"))


OUTCOME_WORDS = {
    "approved": "approved",
    "referred": "passed to a claims handler",
    "not_covered": "not covered by your policy",
    "no_policy": "we could not find your policy",
}


def moment(text: str) -> str:
    at = datetime.fromisoformat(text)
    hour = at.hour % 12 or 12
    return f"{at.day} {at:%B %Y} at {hour}:{at:%M}{'am' if at.hour < 12 else 'pm'} (UTC)"


def event_words(journey: Journey, event: dict[str, Any]) -> str:
    kind = str(event["type"])
    step = journey.step(event.get("step", "")) if event.get("step") else None
    title = f"‘{step.title}’" if step else "a step"
    noun = journey.title[0].lower() + journey.title[1:]
    words = {
        "journey.started": f"You started: {noun}",
        "step.saved": f"Your answers to {title} were saved",
        "step.completed": f"You answered {title}",
        "answer.changed": f"You changed your answers to {title}",
        "item.added": f"You added to {title}",
        "item.changed": f"You changed something you added to {title}",
        "item.removed": f"You removed something from {title}",
        "journey.submitted": "You sent it to us",
        "review.started": "We started reviewing it",
        "decision.made": "We made a decision",
        "journey.closed": "It was closed",
        "journey.abandoned": "It was not finished in time and was closed",
        "journey.completed": "It was completed",
        "journey.declined": "We could not go ahead with it",
        "journey.withdrawn": "It was withdrawn",
        "journey.expired": "It was not finished in time and was closed",
        "effect.cancelled": "You cancelled something we were holding",
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
