"""The journey definition language: pydantic models, also exported as JSON Schema for editors.

A definition is data. Everything a journey team can say lives here; the engine reads these
models and nothing else. Extra keys are refused so that a typo is an error, not a silent no-op.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

# FieldType is the registry's: the names it has entries for are the types a definition may
# use. Imported under its own name so `schema.FieldType` stays part of this module's API.
from wayline.journeys.field_types import FieldType as FieldType
from wayline.journeys.field_types import a_field_of, field_type

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
SLUG_PATTERN = r"^[a-z][a-z0-9-]*$"
DURATION_PATTERN = r"^P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Classification(StrEnum):
    """How sensitive a field is; drives redaction, encryption at rest and retention."""

    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


class Option(Strict):
    value: Annotated[str, Field(min_length=1, max_length=100)]
    label: Annotated[str, Field(min_length=1)]
    hint: str | None = None


class DynamicOptions(Strict):
    """Options that come from a data source at run time (cars, accounts, repairers...).

    `items` is a JMESPath expression over the source's data that yields a list; `value`,
    `label` and `hint` are JMESPath expressions evaluated on each item.
    """

    source: Annotated[str, Field(pattern=NAME_PATTERN)]
    items: str
    value: str
    label: str
    hint: str | None = None
    params: dict[str, str] = Field(
        default_factory=dict,
        description="Parameters for the source, each a CEL expression over answers.",
    )
    unavailable: str | None = Field(
        None,
        description="When the source cannot answer, the customer types the answer instead "
        "and sees this hint (e.g. 'We cannot show your policies just now: enter the number').",
    )


class Prefill(Strict):
    """Bind a field to known data: a named data source and a JMESPath expression."""

    source: Annotated[str, Field(pattern=NAME_PATTERN)]
    expression: str
    editable: bool = Field(
        True, description="Whether the customer may correct the prefilled value."
    )


class Rule(Strict):
    """One validation rule with the exact message a customer sees when it fails."""

    rule: Literal[
        "integer",
        "min",
        "max",
        "min_length",
        "max_length",
        "pattern",
        "not_future",
        "not_past",
        "min_items",
        "max_items",
        "expression",
    ]
    message: Annotated[str, Field(min_length=1)]
    value: int | float | str | None = Field(
        None, description="The bound: a number, a length, a count or a regular expression."
    )
    expression: str | None = Field(
        None, description="For rule: expression, a CEL expression over value, answers and today."
    )
    when: str | None = Field(None, description="CEL condition: check the rule only when true.")

    @model_validator(mode="after")
    def _check_arguments(self) -> Rule:
        needs_value = {
            "min",
            "max",
            "min_length",
            "max_length",
            "pattern",
            "min_items",
            "max_items",
        }
        if self.rule in needs_value and self.value is None:
            raise ValueError(f"rule '{self.rule}' needs a value")
        if self.rule == "expression" and not self.expression:
            raise ValueError("rule 'expression' needs an expression")
        if self.rule == "pattern":
            try:
                re.compile(str(self.value))
            except re.error as error:
                raise ValueError(f"pattern is not a valid regular expression: {error}") from None
        return self


class FieldSpec(Strict):
    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    type: FieldType
    label: Annotated[str, Field(min_length=1)]
    classification: Classification
    hint: str | None = None
    required: str | None = Field(
        None, description="The message shown when the field is left empty; absent means optional."
    )
    invalid: str | None = Field(
        None, description="The message shown when the value is not of the field's type."
    )
    rules: list[Rule] = Field(default_factory=list)
    when: str | None = Field(None, description="CEL condition: ask the field only when true.")
    options: list[Option] = Field(default_factory=list)
    options_from: DynamicOptions | None = None
    prefill: Prefill | None = None
    accept: list[str] = Field(
        default_factory=list,
        description="For file fields: allowed MIME types, decided by content.",
    )
    max_size_mb: float | None = Field(
        None, gt=0, description="For file fields: per-file size limit."
    )

    @model_validator(mode="after")
    def _check_type_specifics(self) -> FieldSpec:
        kind = field_type(self)
        if kind.takes_options and not (self.options or self.options_from):
            raise ValueError(f"{a_field_of(self.type)} needs options or options_from")
        if not kind.takes_options and (self.options or self.options_from):
            raise ValueError(f"only choice fields take options, not {a_field_of(self.type)}")
        if not kind.holds_files and (self.accept or self.max_size_mb):
            raise ValueError("accept and max_size_mb belong to file fields only")
        values = [option.value for option in self.options]
        if len(values) != len(set(values)):
            raise ValueError("option values must be unique")
        return self


class StepSpec(Strict):
    name: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    hint: str | None = None
    when: str | None = Field(None, description="CEL condition: the step applies only when true.")
    fields: list[FieldSpec] = Field(min_length=1)
    check_answers_title: str | None = None


class Include(Strict):
    """Splice a reusable fragment's steps in at this point."""

    include: Annotated[str, Field(pattern=SLUG_PATTERN)]


class Fragment(Strict):
    """A file under journeys/fragments/: steps shared by several journeys."""

    fragment: Annotated[str, Field(pattern=SLUG_PATTERN)]
    description: str | None = None
    steps: list[StepSpec] = Field(min_length=1)


class Declaration(Strict):
    text: str
    required: str = "Confirm that the information you have given is true and complete"
    button: str = "Send"


# Who may be told of a check or a reason: the customer, or staff only (fraud and risk).
Told = Literal["customer", "staff"]

TRIGGER = r"^(submitted|decided|paid|step:[a-z][a-z0-9-]*)$"


class Effect(Strict):
    """Work the journey causes outside itself, queued in the same transaction as its cause."""

    kind: Annotated[str, Field(pattern=NAME_PATTERN)]
    at: Annotated[str, Field(pattern=TRIGGER)] = Field(
        "submitted",
        description="When: submitted, decided (after the decision), paid (once a payout is "
        "confirmed), or step:NAME each time that step is submitted.",
    )
    deadline: Annotated[str, Field(pattern=DURATION_PATTERN)] | None = Field(
        None, description="What the organisation owes the customer: done within this time."
    )
    when: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


def _step_or_include(entry: Any) -> str:
    if isinstance(entry, dict):
        return "include" if "include" in entry else "step"
    return "include" if isinstance(entry, Include) else "step"


StepEntry = Annotated[
    Annotated[StepSpec, Tag("step")] | Annotated[Include, Tag("include")],
    Discriminator(_step_or_include),
]


class Check(Strict):
    """A check on the customer's situation, run at a step or after submission.

    `source` names a data source (a partner call) whose answer the check reads as
    `data.<source>`; `passes` is CEL over answers and data. A check that does not pass either
    lets the journey go on (`warn`, shown to the customer) or ends it with `outcome`. A check
    whose source could not answer is `unavailable`: never a failure, so never a false verdict.
    """

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: str
    at: Annotated[str, Field(pattern=r"^(submitted|step:[a-z][a-z0-9-]*)$")] = "submitted"
    when: str | None = Field(None, description="CEL: run the check only when true.")
    source: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None
    params: dict[str, str] = Field(default_factory=dict, description="CEL over answers, data.")
    passes: str = Field(description="CEL: true when the check passes.")
    reason: str = Field(description="Why it did not pass, in words the customer understands.")
    on_fail: Literal["warn", "continue", "end"] = "continue"
    outcome: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        None, description="For on_fail: end, the outcome the journey ends with."
    )
    unavailable: Literal["pass", "unknown"] = Field(
        "unknown",
        description="When the source cannot answer, the check is `unavailable`, never failed: "
        "its reason is not given and on_fail does not apply. `pass` counts it as passed "
        "(checks.NAME.passed is true), `unknown` as neither (passed is null). Either way "
        "checks.NAME.unavailable is true, and a check made at a step is made again after "
        "submission. (`fail`, its former name, reads as `unknown`.)",
    )
    unavailable_reason: str = Field(
        "We could not complete a check just now. We will complete it before we decide.",
        description="What the customer is told when the source could not answer.",
    )
    audience: Told = Field(
        "customer",
        description="Who may learn of the check: `staff` for fraud and risk checks, which "
        "are never shown to the customer (telling them would be tipping off).",
    )

    @field_validator("unavailable", mode="before")
    @classmethod
    def _former_name(cls, value: Any) -> Any:
        # Versions stored before `unknown` say `fail`; a journey in flight must still load.
        return "unknown" if value == "fail" else value

    @model_validator(mode="after")
    def _end_needs_outcome(self) -> Check:
        if self.on_fail == "end" and not self.outcome:
            raise ValueError("a check with on_fail: end needs an outcome")
        if self.audience == "staff" and self.on_fail != "continue":
            raise ValueError(
                f"a staff check cannot use on_fail: {self.on_fail}: that tells the customer; "
                "use on_fail: continue and a decision reason with audience: staff"
            )
        return self


class Reason(Strict):
    when: str = Field(description="CEL: the reason applies when true.")
    reason: str = Field(description="The reason in words the customer and staff understand.")
    audience: Told = Field(
        "customer",
        description="`staff` for a reason the customer must not be told (fraud, risk): they "
        "see the decision's neutral_reason instead; staff see every reason.",
    )


class DecisionOutcome(Strict):
    outcome: Annotated[str, Field(pattern=NAME_PATTERN)]
    status: Literal["decided", "in_review"] = "decided"
    reasons: list[Reason] = Field(min_length=1)


class Decision(Strict):
    """Rules that decide a submitted journey once its checks are done: the first outcome with
    a reason that holds is chosen, with every reason of it that holds; otherwise `otherwise`."""

    outcomes: list[DecisionOutcome] = Field(min_length=1)
    otherwise: Annotated[str, Field(pattern=NAME_PATTERN)]
    otherwise_reason: str = "Everything we checked was in order"
    neutral_reason: str = Field(
        "We need to look at this more closely",
        description="What the customer is told when every reason that applied is for staff.",
    )


class MessageTemplate(Strict):
    subject: str | None = None
    body: str


class Notification(Strict):
    """A message by template. Placeholders in braces: {name}, {reference}, {title},
    {outcome}, {reasons}, {amount}, {status_url}."""

    email: MessageTemplate | None = None
    sms: str | None = None


class Audience(StrEnum):
    SIGNED_IN = "signed_in"
    ANYONE = "anyone"


class JourneyDefinition(Strict):
    """A whole journey: who may start it, its steps, and what it keeps and does."""

    journey: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    who: Audience = Audience.SIGNED_IN
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,5}$")]
    abandon_after: Annotated[str, Field(pattern=DURATION_PATTERN)] = "P30D"
    retention: Annotated[str, Field(pattern=DURATION_PATTERN)] = "P7Y"
    steps: list[StepEntry] = Field(min_length=1)
    check_answers_title: str = "Check your answers"
    declaration: Declaration
    effects: list[Effect] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    decision: Decision | None = None
    notifications: dict[str, Notification] = Field(default_factory=dict)

    @field_validator("steps")
    @classmethod
    def _steps_present(cls, steps: list[StepEntry]) -> list[StepEntry]:
        if not steps:
            raise ValueError("a journey needs at least one step")
        return steps


def json_schema() -> dict[str, Any]:
    """The JSON Schema of journey definitions, for editors (YAML language servers)."""
    schema = JourneyDefinition.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://wayline.dev/schemas/journey.schema.json"
    return schema


def fragment_json_schema() -> dict[str, Any]:
    schema = Fragment.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://wayline.dev/schemas/fragment.schema.json"
    return schema
