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
from typing_extensions import TypeAliasType

from wayline.journeys.currencies import CURRENCIES

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
    FINANCIAL = "financial"  # bank details, amounts held: personal, and a fraud target
    SENSITIVE = "sensitive"


class Option(Strict):
    value: Annotated[str, Field(min_length=1, max_length=100)]
    label: Annotated[str, Field(min_length=1)]
    hint: str | None = None


class NoOptions(Strict):
    """What happens when a data source answers but offers no options (no accounts, no
    repairers nearby): the customer types the answer instead, seeing `message`."""

    message: Annotated[str, Field(min_length=1)] = Field(
        description="What the customer is told, shown as the hint of the field they type in "
        "(e.g. 'We found no accounts in your name: enter the account number')."
    )


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
    when_none: NoOptions | None = Field(
        None,
        description="When the source answers with no options: what the customer sees, and "
        "that they type the answer instead. A required choice with only these options needs it.",
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
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = Field(
        None,
        description="For money fields (which need it): the ISO 4217 code of the amount, "
        "such as GBP or EUR. Pages show its symbol or code.",
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
        if self.currency is not None and self.type != FieldType.MONEY:
            raise ValueError("currency belongs to money fields only")
        if self.currency is not None and self.currency not in CURRENCIES:
            raise ValueError(f"'{self.currency}' is not an ISO 4217 currency code (such as GBP)")
        values = [option.value for option in self.options]
        if len(values) != len(set(values)):
            raise ValueError("option values must be unique")
        return self


class StepUpSpec(Strict):
    """A stronger or fresher proof of identity before a step is answered (new payee details,
    a payment over a threshold): a sign-in of at least `level`, given within `within`.

    Without `when` the step needs it to be shown and answered at all; with `when` (CEL over
    the answers, those being submitted included, and partner data) only to be answered, and
    only when the condition holds for what is submitted. Levels are the identity layer's:
    1 a password, 2 a password and a second factor."""

    level: int = Field(
        strict=True, description="The least level of sign-in: 1 password, 2 two factors."
    )
    within: str = Field(
        description="How recent that sign-in must be: an ISO 8601 duration such as PT5M."
    )
    when: str | None = Field(
        None, description="CEL condition over answers and data: ask for it only when true."
    )

    @field_validator("level")
    @classmethod
    def _a_level(cls, level: int) -> int:
        if level < 1:
            raise ValueError("level must be 1 (a password) or more (2: a second factor)")
        return level

    @field_validator("within")
    @classmethod
    def _positive_duration(cls, within: str) -> str:
        if not re.fullmatch(DURATION_PATTERN, within):
            raise ValueError(
                f"'{within}' is not an ISO 8601 duration: write one such as PT5M or PT1H"
            )
        if not re.search(r"[1-9]", within):
            raise ValueError("within must be longer than zero, such as PT5M")
        return within


class GroupRule(Strict):
    """A rule across a group's items: CEL over `items` (the list of items, each a map of its
    fields), `answers`, `data` and `today`, with the few functions dates need
    (journeys/group_functions.py), and the exact message customers see when it is false."""

    expression: str = Field(description="CEL: true when the items together are acceptable.")
    message: Annotated[str, Field(min_length=1)]
    when: str | None = Field(None, description="CEL condition: check the rule only when true.")


class GroupSpec(Strict):
    """A step whose fields are asked once per item ("add another"): the answers are a list
    of items, each a map of the step's fields, kept under `name`.

    The customer adds, changes and removes items on pages of their own, and sees a summary
    of what they added; the step is complete when they go on from the summary with between
    `min` and `max` items that each pass their fields' rules and pass the group's `rules`.
    With `for_each`, the items are made from a selection instead: one per value chosen in an
    earlier multiple-choice field, labelled with that option's label; they are changed but
    never added or removed by hand."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)] = Field(
        description="The answer the items are kept under (conditions read answers.NAME)."
    )
    min: int = Field(0, ge=0, description="The fewest items the step accepts.")
    max: int = Field(ge=1, description="The most items the step accepts.")
    min_message: str | None = Field(
        None, description="Shown when there are fewer than `min` items (needed when min > 0)."
    )
    max_message: Annotated[str, Field(min_length=1)] = Field(
        description="Shown when the customer tries to add more than `max` items."
    )
    item_label: str | None = Field(
        None,
        description="How an item is named on the summary and check-answers: a template with "
        "{field} placeholders (the fields' answers in words), such as "
        "'{first_name} {last_name}'. For for_each groups, {label} is the chosen option's.",
    )
    summary_title: Annotated[str, Field(min_length=1)] = Field(
        description="The summary page's heading, with {count}: 'You have added {count} names'."
    )
    summary_title_one: str | None = Field(
        None, description="The heading for exactly one item: 'You have added 1 name'."
    )
    add_another: str = Field(
        "Do you need to add another?", description="The summary's yes/no question."
    )
    add_another_required: str = Field(
        "Select yes if you need to add another",
        description="Shown when the add-another question is not answered.",
    )
    item_title: str | None = Field(
        None, description="The add and change pages' heading; the step's title by default."
    )
    rules: list[GroupRule] = Field(default_factory=list)
    for_each: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        None,
        description="A multiple-choice field of an earlier step: one item per value chosen.",
    )

    @model_validator(mode="after")
    def _bounds(self) -> GroupSpec:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not be more than max ({self.max})")
        if self.min > 0 and not self.min_message:
            raise ValueError("a group with min above 0 needs min_message")
        if self.item_label is None and self.for_each is None:
            raise ValueError("a group needs item_label: how the summary names each item")
        return self


class Content(Strict):
    """A block of words on a step: a panel (an outcome, such as "Your card is frozen"), a
    warning, an inset (set apart) or plain text. `text` may hold {placeholders}: a dotted
    path into answers, effects or journey, such as {effects.freeze.response.frozen_at}."""

    type: Literal["panel", "warning", "inset", "text"]
    title: str | None = Field(None, description="For a panel: its heading.")
    text: Annotated[str, Field(min_length=1)]
    when: str | None = Field(
        None,
        description="CEL over answers, data, effects and journey: show the block only when "
        "true (effects.freeze.status == 'done').",
    )
    regulated: bool | None = Field(
        None,
        description="Words the law or the regulator requires (a risk or scam warning): no "
        "experiment may change, move or remove them.",
    )


class StepSpec(Strict):
    name: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    hint: str | None = None
    when: str | None = Field(None, description="CEL condition: the step applies only when true.")
    content: list[Content] = Field(
        default_factory=list, description="Words shown above the step's fields (if any)."
    )
    fields: list[FieldSpec] = Field(
        default_factory=list,
        description="The questions; none makes an information step (it needs content).",
    )
    check_answers_title: str | None = None
    step_up: StepUpSpec | None = Field(
        None,
        description="A stronger or more recent sign-in this step needs (sensitive changes).",
    )
    group: GroupSpec | None = Field(
        None,
        description='Ask the step\'s fields once per item, with a summary ("add another").',
    )
    show: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        default_factory=list,
        description="Computed values shown above the step's questions (a tax estimate "
        "before the choice it informs), each with its label and explanation.",
    )
    optional: bool | None = Field(
        None,
        description="A step the journey can do without: a variant may leave it out or move "
        "it (nothing else may depend on its answers being there).",
    )

    @model_validator(mode="after")
    def _asks_or_tells(self) -> StepSpec:
        if not self.fields and not self.content:
            raise ValueError("a step needs fields, or content for an information step")
        return self


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

TRIGGER = (
    r"^(submitted|decided|paid|completed|declined|withdrawn|expired"
    r"|step:[a-z][a-z0-9-]*|done:[a-z][a-z0-9_]*)$"
)


class Schedule(Strict):
    """A recurring instruction handed to a partner as data (a standing order): the partner
    keeps the recurrence; Wayline sends it once."""

    first: str = Field(description="CEL giving the first date (YYYY-MM-DD).")
    every: Literal["week", "two_weeks", "four_weeks", "month", "quarter", "year"]
    until: str | None = Field(None, description="CEL giving the last date; none: until stopped.")


class Pays(Strict):
    """What a successful call means for the journey: it paid the customer `amount`."""

    amount: str = Field(
        description="CEL: the amount paid, in pounds (a decimal such as the answer to a "
        "money field); kept exactly, never as a float."
    )


# A request value: CEL, or a mapping of request values (a nested object such as an account).
RequestValue = TypeAliasType("RequestValue", "str | dict[str, RequestValue]")


class Effect(Strict):
    """Work the journey causes outside itself, queued in the same transaction as its cause.

    Either a platform `kind` (run_checks, notify, ...) or a `call` of a declared partner
    operation (`partner.operation`, partners/<partner>.yaml), whose result is kept with the
    journey as effects.NAME: status (pending, done, refused, failed), response and at."""

    kind: Annotated[str, Field(pattern=NAME_PATTERN)] | None = None
    call: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")] | None = Field(
        None, description="A declared partner operation: partner.operation."
    )
    name: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        None, description="For a call: its result is kept as effects.NAME."
    )
    at: Annotated[str, Field(pattern=TRIGGER)] = Field(
        "submitted",
        description="When: submitted, decided (after the decision), paid (once a payout is "
        "confirmed), step:NAME each time that step is submitted, done:NAME once the call "
        "NAME has succeeded (so a call can use an earlier call's response), or when the "
        "journey ends: completed, declined, withdrawn or expired.",
    )
    deadline: Annotated[str, Field(pattern=DURATION_PATTERN)] | None = Field(
        None, description="What the organisation owes the customer: done within this time."
    )
    when: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    key: str | None = Field(
        None,
        description="For a call: CEL, the idempotency key (needed when the operation changes "
        "something). The same key takes effect once at the partner, however often it runs.",
    )
    request: dict[str, RequestValue] = Field(
        default_factory=dict,
        description="For a call: the request, each value CEL over answers, data, journey, "
        "effects and decision (or a mapping of such values).",
    )
    before_continuing: Annotated[str, Field(pattern=DURATION_PATTERN)] | None = Field(
        None,
        description="For a call at a step: run it at once and wait up to this long before "
        "the customer goes on (the outbox retries it if it has not finished).",
    )
    pays: Pays | None = Field(
        None, description="For a call: its success pays the customer (the `paid` trigger)."
    )

    after: Annotated[str, Field(pattern=DURATION_PATTERN)] | None = Field(
        None,
        description="A hold: run this long after the trigger (PT30M), not before. The "
        "customer sees the hold and may cancel it until it runs.",
    )
    not_before: str | None = Field(
        None,
        description="A hold until a moment: CEL giving an ISO 8601 date or date-time "
        "(a date means its start, UTC), such as a future-dated payment's date.",
    )
    cancellable: bool = Field(
        True, description="Whether the customer may cancel a held effect before it runs."
    )
    title: str | None = Field(
        None,
        description="For a held effect: what the customer is told is waiting, such as "
        "'Your payment to the new payee'.",
    )
    schedule: Schedule | None = Field(
        None,
        description="A recurrence the partner keeps (a standing order), given to the "
        "effect's handler as params.schedule: {first, every, until}.",
    )

    @model_validator(mode="after")
    def _kind_or_call(self) -> Effect:
        if (self.kind is None) == (self.call is None):
            raise ValueError("an effect has either a kind or a call (partner.operation)")
        if self.call is None:
            extra = [
                name
                for name in ("name", "key", "before_continuing", "pays")
                if getattr(self, name) is not None
            ] + (["request"] if self.request else [])
            if extra:
                raise ValueError(f"{', '.join(extra)} belong to a call, not a kind")
            return self
        if self.name is None:
            raise ValueError("a call needs a name: its result is kept as effects.NAME")
        if self.params:
            raise ValueError("a call takes a request, not params")
        if self.before_continuing is not None and not self.at.startswith("step:"):
            raise ValueError("before_continuing applies to a call at a step (at: step:NAME)")
        return self

    @property
    def label(self) -> str:
        """What the effect is, in a word: its kind, or `call` for a partner operation."""
        return self.kind or "call"

    @model_validator(mode="after")
    def _one_hold(self) -> Effect:
        if self.after is not None and self.not_before is not None:
            raise ValueError("an effect is held by 'after' or by 'not_before', not both")
        if self.schedule is not None and self.call is not None:
            raise ValueError("a call gives its partner a schedule in its request, not schedule")
        return self


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
    next_steps: Annotated[str, Field(min_length=1)] | None = Field(
        None,
        description="What the customer can do next, shown on the status page under this "
        "outcome; {reference} stands for the journey's reference.",
    )


class ModelUse(Strict):
    """A model scored beside the rules when the journey is decided (docs/models.md): its
    score and reasons are kept with the journey, and rules read the score as
    scores.NAME.score. A `shadow` version is scored and recorded too, never acted on."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)] = Field(
        description="What rules call it: scores.NAME.score."
    )
    model: Annotated[str, Field(pattern=SLUG_PATTERN)] = Field(
        description="The model's folder under models/."
    )
    version: Annotated[int, Field(ge=1)]
    shadow: Annotated[int, Field(ge=1)] | None = Field(
        None, description="A version scored and compared on the insight pages, not acted on."
    )
    when: str | None = Field(None, description="CEL: score only when true (all journeys: none).")

    @model_validator(mode="after")
    def _shadow_differs(self) -> ModelUse:
        if self.shadow == self.version:
            raise ValueError("the shadow version must differ from the version acted on")
        return self


class Decision(Strict):
    """Rules that decide a submitted journey once its checks are done: the first outcome with
    a reason that holds is chosen, with every reason of it that holds; otherwise `otherwise`."""

    models: list[ModelUse] = Field(
        default_factory=list,
        description="Models scored before the rules, which may read their scores.",
    )
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


class Recipient(Strict):
    """Who a journey's notifications go to, and through which partner operation: the
    platform renders the templates; the definition says where they are sent."""

    send_with: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")] = Field(
        "notification_provider.send_message",
        description="A declared operation taking channel, to, body and subject.",
    )
    source: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        None,
        description="The data source that knows the recipient: asked again before sending "
        "when it could not answer earlier, so no message is dropped.",
    )
    name: str = Field("'customer'", description="CEL: the name for {name} in templates.")
    email: str | None = Field(None, description="CEL: the email address; none: no email.")
    sms: str | None = Field(None, description="CEL: the mobile number; none: no SMS.")


class Notification(Strict):
    """A message by template. Placeholders in braces: {name}, {reference}, {title},
    {outcome}, {reasons}, {amount}, {status_url}, and {computed.NAME} for a computed value
    in words (£12.34)."""

    email: MessageTemplate | None = None
    sms: str | None = None


# --- review: the workbench's rules for cases (journeys/review.py reads them) -----------------

Priority = Literal["low", "normal", "high", "urgent"]


class Queue(Strict):
    """A queue of cases: who may see and work it, and which cases go to it. Queues are tried
    in order and the first whose `when` holds takes the case; the last has no `when`."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    roles: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        min_length=1, description="The staff roles that see and work this queue."
    )
    priority: Priority = "normal"
    when: str | None = Field(
        None, description="CEL over answers, data, checks and decision: take the case when true."
    )
    within: Annotated[str, Field(pattern=DURATION_PATTERN)] | None = Field(
        None, description="This queue's SLA, instead of the review's `within`."
    )


class ReviewReason(Strict):
    """A reason a handler may give for a decision: a code, what staff read, and what the
    customer is told (the customer never sees the label or the handler's own words)."""

    code: Annotated[str, Field(pattern=NAME_PATTERN)]
    label: Annotated[str, Field(min_length=1)]
    tell: Annotated[str, Field(min_length=1)] = Field(
        description="The reason as the customer reads it (status page, notifications)."
    )


class InformationRequest(Strict):
    """A request for more information a handler can pick: a question answered in words, or
    files to upload, with the prompt the customer sees."""

    code: Annotated[str, Field(pattern=NAME_PATTERN)]
    kind: Literal["question", "upload"]
    prompt: Annotated[str, Field(min_length=1, max_length=500)]
    accept: list[str] = Field(
        default_factory=list, description="For uploads: MIME types, decided by content."
    )

    @model_validator(mode="after")
    def _accept_for_uploads(self) -> InformationRequest:
        if self.kind == "question" and self.accept:
            raise ValueError("accept belongs to upload requests only")
        return self


class FourEyes(Strict):
    """An approval whose amount is over `over` is a proposal until a second person (a senior
    handler, never the proposer, with a step-up) approves it."""

    amount: str = Field(description="CEL over answers and data: the amount paid on approval.")
    over: float = Field(ge=0, description="The limit: an amount above it needs four eyes.")
    when: str | None = Field(
        None, description="CEL: the rule applies only when true (a cash settlement)."
    )


class OpenWhen(Strict):
    """A case opened by rule, besides referral: when the condition holds for a submitted
    journey (once per rule and journey)."""

    when: str
    queue: Annotated[str, Field(pattern=NAME_PATTERN)]
    reason: Annotated[str, Field(min_length=1)] = Field(
        description="Why the case was opened, for staff."
    )
    priority: Priority | None = None


class Review(Strict):
    """How referred journeys are worked: queues, SLA, the reasons handlers may give, the
    information they may ask for, four-eyes approval and cases opened by rule."""

    within: Annotated[str, Field(pattern=DURATION_PATTERN)] = Field(
        description="The SLA: a case is due this long after it opens (ISO 8601, such as P2D)."
    )
    queues: list[Queue] = Field(min_length=1)
    fraud_queue: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        None, description="The queue 'refer to fraud' moves a case to."
    )
    approve_outcome: Annotated[str, Field(pattern=NAME_PATTERN)] = "approved"
    decline_outcome: Annotated[str, Field(pattern=NAME_PATTERN)] = "declined"
    approve_reasons: list[ReviewReason] = Field(min_length=1)
    decline_reasons: list[ReviewReason] = Field(min_length=1)
    information_requests: list[InformationRequest] = Field(default_factory=list)
    information_template: Annotated[str, Field(pattern=NAME_PATTERN)] | None = Field(
        None, description="The notification sent when more information is asked for."
    )
    four_eyes: FourEyes | None = None
    open_when: list[OpenWhen] = Field(default_factory=list)


ComputedType = Literal["money", "number", "percent", "boolean", "text", "date"]


class Computed(Strict):
    """A named value worked out from answers, data and other computed values (a tax
    estimate, a fee, an eligibility). Money is exact: a decimal string made with the decimal
    functions (add, percent_of, round_half_even...), never a CEL double."""

    expression: str = Field(description="CEL over answers, data and computed.")
    type: ComputedType
    label: Annotated[str, Field(min_length=1)]
    explanation: str | None = Field(
        None, description="How it was worked out, in words the customer understands."
    )
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = Field(
        None, description="For money: the ISO 4217 currency, such as GBP."
    )

    @model_validator(mode="after")
    def _currency_for_money(self) -> Computed:
        if self.type == "money" and self.currency is None:
            raise ValueError("a money value needs a currency, such as currency: GBP")
        if self.type != "money" and self.currency is not None:
            raise ValueError("only money values take a currency")
        return self


Withdrawable = Literal["in_progress", "submitted", "in_review"]


class Fulfilment(Strict):
    """How a sent journey ends. After each effect's result (and partner event), and after the
    customer cancels a hold, the conditions are read, in this order; the first that holds
    ends the journey. A customer
    may withdraw while the journey is in one of `withdraw_while`."""

    completed_when: str | None = Field(None, description="CEL: the journey is completed.")
    declined_when: str | None = Field(None, description="CEL: the journey is declined.")
    withdrawn_when: str | None = Field(
        None,
        description="CEL: the journey is withdrawn (read last; a call's hold the customer "
        "cancelled reads as effects.NAME.status == 'cancelled').",
    )
    withdraw_while: list[Withdrawable] = Field(
        default_factory=lambda: list[Withdrawable](["in_progress"]),
        description="Where the customer may withdraw (a draft always; a sent journey only "
        "when listed).",
    )


class Audience(StrEnum):
    SIGNED_IN = "signed_in"
    ANYONE = "anyone"


class Words(Strict):
    """How the platform's own pages name what the customer sends."""

    noun: Annotated[str, Field(min_length=1, pattern=r"^[a-z][a-z ]*$")] = Field(
        "application",
        description="What the customer sends, in lower case: 'claim', 'order', 'payment'.",
    )


class ConfirmationPage(Strict):
    """The page shown once the journey is sent; its defaults suit any journey."""

    title: Annotated[str, Field(min_length=1)] = "Received"
    next: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=lambda: [
            "We will check the details you gave us and tell you by email and text message "
            "as soon as there is news."
        ],
        description="What happens next, one paragraph each.",
    )
    status_link: Annotated[str, Field(min_length=1)] | None = Field(
        None,
        description="The words of the link to the status page; by default "
        "'Follow the progress of your' and the journey's noun.",
    )


class Retention(Strict):
    """How long a journey's data is kept (docs/data-protection.md#retention): `default` after
    the journey ended, `drafts` after the last change of one never sent, and per outcome (or
    ending status) a period that replaces `default`. `retention: P7Y` is short for
    `retention: {default: P7Y}`."""

    default: Annotated[str, Field(pattern=DURATION_PATTERN)] = "P7Y"
    drafts: Annotated[str, Field(pattern=DURATION_PATTERN)] | None = Field(
        None, description="After an abandoned draft's last change; by default `default`."
    )
    outcomes: dict[
        Annotated[str, Field(pattern=NAME_PATTERN)], Annotated[str, Field(pattern=DURATION_PATTERN)]
    ] = Field(
        default_factory=dict,
        description="By decision outcome or ending status (declined, completed, ...): "
        "kept this long after the journey ended instead of `default`.",
    )


# --- personalisation: segments, variants, experiments ----------------------------------------

DEFAULT_MAY_USE = (Classification.PUBLIC, Classification.INTERNAL, Classification.PERSONAL)


class SegmentSpec(Strict):
    """A named group of customers, decided when a journey starts from governed customer data
    (systems of record, read as `data.SOURCE`). Only the segment's name is kept: the data it
    was decided from is not."""

    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    reads: dict[str, Classification] = Field(
        min_length=1,
        description="Every value the condition reads, as SOURCE.PATH, with its "
        "classification: `core_banking_customer_profile.vulnerability: sensitive`.",
    )
    when: Annotated[str, Field(min_length=1)] = Field(
        description="CEL over data.SOURCE: true when the customer is in the segment."
    )

    @property
    def sources(self) -> list[str]:
        return sorted({read.split(".", 1)[0] for read in self.reads})


class SegmentsFile(Strict):
    """journeys/segments.yaml: the segments every journey may name."""

    segments: list[SegmentSpec] = Field(min_length=1)


class FieldChange(Strict):
    """How a variant shows one field differently."""

    hint: str | None = None
    options_first: list[str] = Field(
        default_factory=list,
        description="These options' values first, in this order (a recommended product).",
    )
    option_hints: dict[str, str] = Field(
        default_factory=dict,
        description="Words under an option, by its value: why it is recommended.",
    )


class StepChange(Strict):
    """How a variant shows one step differently."""

    title: str | None = None
    hint: str | None = None
    content: list[Content] | None = Field(None, description="Replaces the step's content blocks.")
    add_content: list[Content] = Field(
        default_factory=list,
        description="Blocks shown before the step's own content: guidance, a callback offer.",
    )
    fields: dict[str, FieldChange] = Field(default_factory=dict)


class VariantSpec(Strict):
    """A version of the journey's content and path for some customers: those in its
    `segments`, or those an experiment's arm assigns it to."""

    name: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    segments: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        default_factory=list,
        description="Shown to customers in any of these segments (none: only through an "
        "experiment's arm).",
    )
    steps: dict[str, StepChange] = Field(default_factory=dict)
    leave_out: list[str] = Field(
        default_factory=list, description="Optional steps this variant does without."
    )
    order: list[str] = Field(
        default_factory=list,
        description="Optional steps in this order, in the places they held.",
    )
    abandon_after: Annotated[str, Field(pattern=DURATION_PATTERN)] | None = Field(
        None, description="More (or less) time before an untouched journey is abandoned."
    )


class Arm(Strict):
    name: Annotated[str, Field(pattern=SLUG_PATTERN)]
    share: Annotated[int, Field(ge=1, le=100)] = Field(
        description="Percent of journeys (or customers) assigned to this arm."
    )
    variant: str | None = Field(None, description="The variant this arm shows (none: as is).")


class ExperimentSpec(Strict):
    """An A/B test of variants: each journey (or customer) is assigned an arm by a hash of
    its id, in the declared shares, and the primary metric is compared per arm."""

    name: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    hypothesis: str | None = None
    assign_by: Literal["customer", "journey"] = "customer"
    arms: list[Arm] = Field(min_length=2)
    metric: Literal["completion", "drop_off", "time_to_complete"]
    step: str | None = Field(None, description="For drop_off: the step it is measured at.")
    minimum_sample: Annotated[int, Field(ge=10)] = Field(
        100, description="Journeys per arm below which the result is too small to tell."
    )
    running: bool = Field(True, description="False: no new journey is assigned.")

    @model_validator(mode="after")
    def _shares(self) -> ExperimentSpec:
        if sum(arm.share for arm in self.arms) != 100:
            raise ValueError("the arms' shares must add up to 100")
        names = [arm.name for arm in self.arms]
        if len(names) != len(set(names)):
            raise ValueError("arm names must be unique")
        if (self.metric == "drop_off") != (self.step is not None):
            raise ValueError("give `step` with the drop_off metric, and only with it")
        return self


class Personalisation(Strict):
    """How the journey adapts to who the customer is: segments, variants, experiments."""

    may_use: list[Classification] = Field(
        default_factory=lambda: list(DEFAULT_MAY_USE),
        description="The classifications segments and model features may read.",
    )
    segments: list[Annotated[str, Field(pattern=NAME_PATTERN)] | SegmentSpec] = Field(
        default_factory=list,
        description="The segments decided at start: a shared segment's name, or one declared here.",
    )
    variants: list[VariantSpec] = Field(default_factory=list)
    experiments: list[ExperimentSpec] = Field(default_factory=list)


class JourneyDefinition(Strict):
    """A whole journey: who may start it, its steps, and what it keeps and does."""

    journey: Annotated[str, Field(pattern=SLUG_PATTERN)]
    title: Annotated[str, Field(min_length=1)]
    description: str | None = None
    who: Audience = Audience.SIGNED_IN
    owner: str | None = Field(
        None,
        description="CEL over answers, data and decision giving the customer id that comes to "
        "own a journey started without sign-in (`who: anyone`), once it yields one: evaluated "
        "whenever the journey is sent, decided or completed (docs/journey-authoring.md).",
    )
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,5}$")]
    abandon_after: Annotated[str, Field(pattern=DURATION_PATTERN)] = "P30D"
    retention: Annotated[str, Field(pattern=DURATION_PATTERN)] | Retention = Field(
        "P7Y",
        description="How long its data is kept: one duration after the journey ended, or "
        "`default`, `drafts` and `outcomes` (docs/data-protection.md#retention).",
    )

    def retention_rules(self) -> Retention:
        """The retention rules, the shorthand duration read as `{default: ...}`."""
        if isinstance(self.retention, Retention):
            return self.retention
        return Retention(default=self.retention)

    steps: list[StepEntry] = Field(min_length=1)
    check_answers_title: str = "Check your answers"
    declaration: Declaration
    progress: list[Content] = Field(
        default_factory=list,
        description="Blocks shown once the journey is sent, on its confirmation and status "
        "pages and in the API as `progress`, each when its `when` holds (what a partner "
        "call gave: an account number, a payment's reference).",
    )
    words: Words = Field(default_factory=Words)
    confirmation: ConfirmationPage = Field(default_factory=ConfirmationPage)
    effects: list[Effect] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    decision: Decision | None = None
    notifications: dict[str, Notification] = Field(default_factory=dict)
    recipient: Recipient | None = Field(
        None, description="Who notifications go to and how: needed by any notify effect."
    )
    review: Review | None = Field(
        None, description="How staff work referred journeys (docs/workbench.md)."
    )
    computed: dict[str, Computed] = Field(
        default_factory=dict, description="Named values worked out from the answers."
    )
    fulfilment: Fulfilment | None = Field(
        None, description="How a sent journey ends (without it: when a handler closes it)."
    )
    personalisation: Personalisation | None = Field(
        None, description="Segments, variants and experiments (docs/personalisation.md)."
    )

    @field_validator("computed")
    @classmethod
    def _computed_names(cls, computed: dict[str, Computed]) -> dict[str, Computed]:
        for name in computed:
            if not re.fullmatch(NAME_PATTERN, name):
                raise ValueError(f"'{name}' is not a name: use lower case, digits and _")
        return computed

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


def segments_json_schema() -> dict[str, Any]:
    schema = SegmentsFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://wayline.dev/schemas/segments.schema.json"
    return schema
