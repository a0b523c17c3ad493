"""The workbench in words, for staff: case statuses, ages, where an answer came from, a
journey's events (the case's own among them) and photo fraud signals.

Everything here is pure: plain values in, short phrases out. Ids and codes from the record are
shown as they are (a staff member may need to quote them); nothing here reads free text a
customer or a handler wrote.
"""

from __future__ import annotations

from typing import Any

CASE_STATUS_WORDS = {
    "open": "Open",
    "awaiting_customer": "Waiting for the customer",
    "awaiting_approval": "Waiting for a second approval",
    "closed": "Closed",
}
PRIORITY_WORDS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
JOURNEY_STATUS_WORDS = {
    "in_progress": "Not sent yet",
    "submitted": "Sent",
    "in_review": "In review",
    "decided": "Decided",
    "completed": "Completed",
    "declined": "Declined",
    "withdrawn": "Withdrawn",
    "expired": "Expired",
    "closed": "Closed",
    "abandoned": "Abandoned",
}
CHECK_STATUS_WORDS = {"passed": "Passed", "failed": "Failed", "unavailable": "Not available"}
SOURCE_WORDS = {"customer": "Given by the customer"}
SIGNAL_WORDS = {
    "taken_before_policy": "Taken before the policy started",
    "taken_before_incident": "Taken well before the incident",
    "edited": "Edited with photo software",
    "far_from_incident": "Taken far from where the incident happened",
    "reused_photo": "Matches a photo in another claim",
    "reused_own_photo": "Matches a photo in another of this customer's claims",
    "no_metadata": "No camera details",
    "low_resolution": "Low resolution",
}
SIGNAL_STATUS_WORDS = {"fired": "Found", "clear": "Clear", "unknown": "Not known"}
EVENT_WORDS = {
    "journey.started": "The customer started",
    "step.saved": "Answers saved as a draft",
    "step.completed": "A step answered",
    "answer.changed": "Answers changed",
    "journey.submitted": "Sent by the customer",
    "review.started": "Review started",
    "decision.made": "Decision made",
    "journey.closed": "Closed",
    "journey.abandoned": "Abandoned",
    "journey.completed": "Completed",
    "journey.declined": "Declined",
    "journey.withdrawn": "Withdrawn",
    "journey.expired": "Expired: not finished in time",
    "effect.cancelled": "The customer cancelled a held action",
    "case.closed_as": "Closed by hand",
    "check.completed": "Check completed",
    "payment.sent": "Payment sent",
    "notification.sent": "Message sent to the customer",
    "booking.made": "Repair booked",
    "deadline.breached": "A deadline was missed",
    "document.received": "Document received",
    "document.held": "Document held",
    "document.rejected": "Document rejected",
    "case.opened": "Case opened",
    "case.claimed": "Case claimed",
    "case.released": "Case released",
    "case.reassigned": "Case reassigned",
    "case.note_added": "Note added",
    "case.referred_to_fraud": "Referred to fraud",
    "case.returned": "Sent to another queue",
    "case.information_requested": "More information asked for",
    "case.information_received": "The customer answered",
    "case.proposed": "Approval proposed",
    "case.decided": "Case decided",
    "case.resolved": "Case resolved",
}
# What of an event's data is shown beside its words: ids and codes, never free text.
EVENT_DETAILS = (
    ("by", "by"),
    ("queue", "queue"),
    ("priority", "priority"),
    ("check", "check"),
    ("status", "status"),
    ("outcome", "outcome"),
    ("verdict", "verdict"),
    ("code", "reason"),
    ("amount", "amount £"),
    ("kind", "kind"),
    ("channel", "channel"),
)


def case_status(status: str) -> str:
    return CASE_STATUS_WORDS.get(status, status)


def priority(value: str) -> str:
    return PRIORITY_WORDS.get(value, value)


def journey_status(status: str) -> str:
    return JOURNEY_STATUS_WORDS.get(status, status)


def check_status(status: str) -> str:
    return CHECK_STATUS_WORDS.get(status, status)


def age(seconds: int) -> str:
    """How long ago, in the largest whole unit: "3 days", "1 hour", "under a minute"."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        count = max(seconds, 0) // size
        if count:
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return "under a minute"


def source(found: dict[str, Any]) -> str:
    """Where an answer came from: the customer, or the prefill source that gave it."""
    name = str(found.get("source", "customer"))
    if name in SOURCE_WORDS:
        return SOURCE_WORDS[name]
    return f"Prefilled from {name}"


def signal(found: dict[str, Any]) -> str:
    code = str(found.get("code", ""))
    return SIGNAL_WORDS.get(code, code.replace("_", " ").capitalize() or "A signal")


def signal_status(status: str) -> str:
    return SIGNAL_STATUS_WORDS.get(status, status)


def event(found: dict[str, Any]) -> str:
    """An event of the journey's log, with the ids and codes its data carries."""
    kind = str(found.get("type", ""))
    words = EVENT_WORDS.get(kind, kind.replace(".", " ").replace("_", " ").capitalize())
    data = found.get("data") or {}
    details = [
        f"{label} {data[key]}"
        for key, label in EVENT_DETAILS
        if isinstance(data.get(key), (str, int, float)) and not isinstance(data.get(key), bool)
    ]
    if found.get("step"):
        details.insert(0, f"step {found['step']}")
    return f"{words} ({', '.join(details)})" if details else words
