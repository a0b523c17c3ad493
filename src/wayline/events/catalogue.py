"""The event catalogue: each stored event type, its CloudEvents type and its data model.

A published event's data is built from its model, field by field, from the stored event
(`data_of`): what a model does not declare is never published. Models carry ids, names,
outcomes and classifications, never an answer's value, a name or an email address. A model
that changes incompatibly gets a new version (`EventKind.version`) and schema file; the
compatibility test (tests/unit/test_event_contracts.py) refuses breaking changes to a
published version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class EventData(BaseModel):
    """What every event's data carries: which journey, of which type, and when."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    journey_id: str = Field(description="The journey's id (also the CloudEvent's subject).")
    journey_type: str = Field(description="The journey definition's name, e.g. motor-claim.")
    at: datetime = Field(description="When it happened (the journey's clock).")


_NEXT = Field(
    None,
    description="The step the journey goes to next, where the event moved it (null: none).",
)


class JourneyStarted(EventData):
    """A journey was started."""

    next: str | None = _NEXT


class StepEvent(EventData):
    """A step's answers were saved as a draft, completed, or changed after completion."""

    step: str = Field(description="The step's name.")
    fields: list[str] = Field(description="The names of the fields concerned (never values).")
    next: str | None = _NEXT


class ItemEvent(EventData):
    """An item of a repeating group was added, changed or removed."""

    step: str = Field(description="The step's name.")
    group: str | None = Field(None, description="The repeating group's name.")
    item: int | None = Field(None, description="The item's number, from 1.")


class RefusedAnswer(BaseModel):
    """One field a refused submission was refused for, with the message's template."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    field: str = Field(description="The field's name.")
    message: str = Field(description="The error message's template (never the value typed).")


class AnswersRefused(StepEvent):
    """A step's submission was refused for its answers: where customers struggle."""

    errors: list[RefusedAnswer] = Field(description="Each field in error and its message.")


class JourneySegmented(EventData):
    """The segments a journey's customer was found in when it started: names only, never the
    data they were decided from."""

    segments: list[str] = Field(description="The segments' names, as the definition has them.")
    undecided: list[str] = Field(
        default_factory=list,
        description="Segments whose data could not be read (treated as not in them).",
    )


class ExperimentAssigned(EventData):
    """A journey was assigned an arm of an A/B experiment when it started."""

    experiment: str = Field(description="The experiment's name.")
    arm: str = Field(description="The arm assigned.")
    variant: str | None = Field(None, description="The variant the arm shows (null: as is).")
    by: Literal["customer", "journey"] = Field(description="Whose id the assignment hashes.")


class ModelScored(EventData):
    """A decision's model scored the journey before its rules ran (and its shadow version,
    scored beside it and never acted on). Scores only: never the features or the reasons."""

    name: str = Field(description="What the decision calls the model (scores.NAME).")
    model: str = Field(description="The model's name.")
    version: int = Field(description="The version acted on.")
    score: float | None = Field(
        description="Its score, 0 to 1, to two places (null: it could not score)."
    )
    shadow_version: int | None = Field(None, description="A version scored in shadow.")
    shadow_score: float | None = Field(None, description="The shadow's score, to two places.")


class JourneySubmitted(EventData):
    """The customer sent the journey."""

    reference: str = Field(description="The journey's reference, as the customer sees it.")


class StatusChanged(EventData):
    """The journey moved to another status (review started)."""


class JourneyEnded(EventData):
    """The journey ended (completed, declined, withdrawn, expired; closed and abandoned in
    journeys stored before fulfilment existed)."""

    by: str | None = Field(None, description="What ended it: effect, customer, staff or time.")


class DecisionMade(EventData):
    """A decision was made on the journey."""

    outcome: str = Field(description="The outcome's name, e.g. approved, referred, declined.")
    reasons: list[str] = Field(
        default_factory=list, description="The declared reasons (the definition's words)."
    )


class CheckCompleted(EventData):
    """A declared check ran."""

    check: str = Field(description="The check's name.")
    status: Literal["passed", "failed", "unavailable"] = Field(description="Its result.")
    passed: bool | None = Field(None, description="Whether it counts as passed (null: unknown).")


class PaymentSent(EventData):
    """A payout was accepted by the payment provider."""

    payout_id: str = Field(description="The provider's payout id.")


class NotificationSent(EventData):
    """A notification was accepted by the provider."""

    template: str = Field(description="The notification template's name.")
    channel: str = Field(description="email or sms.")
    message_id: str = Field(description="The provider's message id.")


class DeadlineBreached(EventData):
    """Something owed by a deadline was not done in time."""

    effect: str = Field(description="The kind of effect that was owed.")


class EffectCancelled(EventData):
    """A held effect was cancelled before it ran."""

    kind: str = Field(description="The effect's kind.")


class EffectResult(EventData):
    """A declared partner call (a `call:` effect) finished: done, refused or failed."""

    effect: str = Field(description="The effect's name in the definition.")
    call: str = Field(description="The partner operation called, partner.operation.")
    status: str = Field(description="done, refused or failed.")
    outcome: str | None = Field(None, description="The outcome the definition names, if any.")


class DocumentEvent(EventData):
    """An upload was received or held for review."""

    document: str = Field(description="The document's id.")
    field: str = Field(description="The file field it answers.")
    step: str | None = Field(None, description="The step of that field.")
    reason: str | None = Field(None, description="Why it is held (held documents).")


class DocumentRejected(EventData):
    """An upload was refused, with the reason."""

    field: str = Field(description="The file field it was sent for.")
    step: str | None = Field(None, description="The step of that field.")
    reason: str = Field(description="Why it was refused, in words.")
    code: str | None = Field(None, description="The refusal's code.")


class DocumentsRemoved(EventData):
    """Documents no answer named were removed when the journey was sent."""

    documents: list[str] = Field(description="The removed documents' ids.")
    fields: list[str] = Field(description="The fields they had been sent for.")


class CaseFields(BaseModel):
    """A case's tracked fields, as before or after a change (only those that changed)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    queue: str | None = None
    status: str | None = None
    assignee: str | None = None
    priority: str | int | None = None


class CaseEvent(EventData):
    """Staff worked the journey's case (opened, claimed, decided, closed ...)."""

    case: str = Field(description="The case's id.")
    by: str = Field(description="The staff member's id, or the system.")
    before: CaseFields | None = Field(None, description="Tracked fields before the change.")
    after: CaseFields | None = Field(None, description="Tracked fields after the change.")


@dataclass(frozen=True)
class EventKind:
    """One stored event type as published: its CloudEvents type, data model and version."""

    stored: str
    model: type[EventData]
    version: int = 1

    @property
    def cloud_type(self) -> str:
        """com.wayline.<area>.<name>: events of a journey's own progress (steps, answers,
        items, review) sit in the journey area."""
        area = self.stored.split(".", 1)[0]
        prefix = "" if area in _AREAS else "journey."
        return f"com.wayline.{prefix}{self.stored}"

    @property
    def schema_name(self) -> str:
        return f"{self.cloud_type}/v{self.version}"


_AREAS = {
    "journey", "experiment", "model", "document", "documents", "check", "decision", "payment",
    "notification", "deadline", "effect", "case",
}  # fmt: skip

_CASE_ACTIONS = (
    "opened", "viewed", "claimed", "released", "reassigned", "note_added", "referred_to_fraud",
    "returned", "resolved", "document_viewed", "proposed", "decided",
    "information_requested", "information_received", "closed_as",
)  # fmt: skip

_KINDS = (
    EventKind("journey.started", JourneyStarted),
    EventKind("step.saved", StepEvent),
    EventKind("step.completed", StepEvent),
    EventKind("answer.changed", StepEvent),
    EventKind("answers.refused", AnswersRefused),
    EventKind("journey.segmented", JourneySegmented),
    EventKind("experiment.assigned", ExperimentAssigned),
    EventKind("model.scored", ModelScored),
    EventKind("item.added", ItemEvent),
    EventKind("item.changed", ItemEvent),
    EventKind("item.removed", ItemEvent),
    EventKind("journey.submitted", JourneySubmitted),
    EventKind("review.started", StatusChanged),
    EventKind("decision.made", DecisionMade),
    *(
        EventKind(f"journey.{end}", JourneyEnded)
        for end in ("closed", "abandoned", "completed", "declined", "withdrawn", "expired")
    ),
    EventKind("effect.cancelled", EffectCancelled),
    EventKind("effect.done", EffectResult),
    EventKind("effect.refused", EffectResult),
    EventKind("effect.failed", EffectResult),
    EventKind("check.completed", CheckCompleted),
    EventKind("payment.sent", PaymentSent),
    EventKind("notification.sent", NotificationSent),
    EventKind("deadline.breached", DeadlineBreached),
    EventKind("document.received", DocumentEvent),
    EventKind("document.held", DocumentEvent),
    EventKind("document.rejected", DocumentRejected),
    EventKind("documents.removed", DocumentsRemoved),
    *(EventKind(f"case.{action}", CaseEvent) for action in _CASE_ACTIONS),
)
CATALOGUE: dict[str, EventKind] = {kind.stored: kind for kind in _KINDS}
_STORED_BY_CLOUD_TYPE = {kind.cloud_type: kind.stored for kind in _KINDS}


class UnknownEventType(KeyError):
    """A stored event type the catalogue does not describe: it is not published."""


def kind_of(stored_type: str) -> EventKind:
    """The kind of a stored event type; UnknownEventType when it is not published."""
    try:
        return CATALOGUE[stored_type]
    except KeyError:
        raise UnknownEventType(stored_type) from None


def stored_type_of(cloud_type: str) -> str:
    """The stored event type a CloudEvents type was published from (a consumer reading the
    bus); UnknownEventType for a type this catalogue does not publish."""
    try:
        return _STORED_BY_CLOUD_TYPE[cloud_type]
    except KeyError:
        raise UnknownEventType(cloud_type) from None


def data_of(kind: EventKind, journey_id: str, journey_type: str, body: dict[str, Any]) -> EventData:
    """The event's published data: the stored body's step, fields and data, read through the
    kind's model (which keeps only what it declares)."""
    fields = list(body.get("fields") or [])
    data = dict(body.get("data") or {})
    source: dict[str, Any] = {
        **data,
        "journey_id": journey_id,
        "journey_type": journey_type,
        "at": body["at"],
        "step": body.get("step"),
        "fields": fields,
        "group": fields[0] if fields else None,
    }
    if kind.model is CaseEvent:
        source["before"] = _dotted(data, "before.")
        source["after"] = _dotted(data, "after.")
    return kind.model.model_validate(source)


def _dotted(data: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    found = {key[len(prefix) :]: value for key, value in data.items() if key.startswith(prefix)}
    return found or None
