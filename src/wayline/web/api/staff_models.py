"""Request bodies and query values of the staff API (web/api/staff_cases.py). Unknown keys
and wrongly typed values are refused with 422 naming the field; what a value means (a reason
the definition declares, a request's code, text that is blank or holds control characters)
is checked by the service layer, which names the field too."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from wayline.journeys import text as words
from wayline.journeys.engine import FieldError, InvalidAnswers
from wayline.journeys.review import PRIORITIES
from wayline.runtime.cases.deciding import MAX_NOTE
from wayline.runtime.cases.information import MAX_PROMPT
from wayline.runtime.cases.working import MAX_TEXT
from wayline.store.cases import STATUSES
from wayline.web.api.models import Body

NAME = 100  # staff ids, queue and journey type names, reason and request codes, view ids
# The service's own limits, so that the document says what the commands enforce.
NOTE = MAX_TEXT
DECISION_NOTE = MAX_NOTE
PROMPT = MAX_PROMPT
MEDIA_TYPE = r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$"
MediaType = Annotated[str, Field(pattern=MEDIA_TYPE, max_length=NAME, examples=["image/png"])]

Status = Literal["open", "awaiting_customer", "awaiting_approval", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
assert set(STATUSES) == set(Status.__args__)  # type: ignore[attr-defined]
assert set(PRIORITIES) == set(Priority.__args__)  # type: ignore[attr-defined]


class Filters(Body):
    """A saved view's filters, as GET /staff/cases takes them."""

    journey: str | None = Field(None, min_length=1, max_length=NAME, examples=["motor-claim"])
    queue: str | None = Field(None, min_length=1, max_length=NAME, examples=["fraud"])
    status: Status | None = None
    assignee: str | None = Field(
        None,
        min_length=1,
        max_length=NAME,
        description="A member of staff's id, `me` or `nobody`.",
        examples=["me"],
    )
    priority: Priority | None = None
    overdue: StrictBool = False


class SaveView(Body):
    name: str = Field(min_length=1, max_length=NAME, examples=["My fraud cases"])
    filters: Filters = Field(default_factory=Filters)


class Reassign(Body):
    to: str = Field(min_length=1, max_length=NAME, examples=["morgan"])


class Note(Body):
    note: str = Field(min_length=1, max_length=NOTE, examples=["Spoke to the garage"])


class ReturnToQueue(Body):
    queue: str = Field(
        min_length=1,
        max_length=NAME,
        description="A queue of the definition's review that the caller works, not the case's.",
        examples=["claims"],
    )
    note: str = Field(
        min_length=1,
        max_length=NOTE,
        description="What was found, kept as a note for staff.",
        examples=["Bureau marker is for a different vehicle; photos are the customer's own"],
    )


class CloseAs(Body):
    as_: Literal["completed", "declined", "withdrawn"] = Field(
        alias="as", description="How the journey ends."
    )
    reason: str = Field(
        min_length=1,
        max_length=NOTE,
        description="Why, for staff (kept as a case note; the customer is not told it).",
        examples=["The customer asked by letter to withdraw"],
    )


class Decide(Body):
    verdict: Literal["approve", "decline"]
    reason: str = Field(
        min_length=1,
        max_length=NAME,
        description="A code of the definition's approve_reasons or decline_reasons.",
        examples=["verified"],
    )
    note: str | None = Field(None, max_length=DECISION_NOTE, description="For staff only.")


class RequestInformation(Body):
    """Either `code` (one of the definition's information_requests), or `kind` and `prompt`
    (and, for an upload, the media types it takes in `accept`)."""

    code: str | None = Field(None, min_length=1, max_length=NAME, examples=["parked_where"])
    kind: Literal["question", "upload"] | None = None
    prompt: str | None = Field(None, min_length=1, max_length=PROMPT)
    accept: list[MediaType] | None = Field(None, min_length=1, max_length=10)


def plain(value: str | None, field: str) -> str | None:
    """`value` unless it holds a character no one-line text may (journeys/text.py: controls,
    line breaks, direction overrides): InvalidAnswers naming `field`, before the value reaches
    the database."""
    if value is None:
        return None
    try:
        words.clean(value)
    except words.BadCharacter as bad:
        raise InvalidAnswers(bad.describe(), [FieldError(field, bad.describe())]) from None
    return value


def only_the_view(filters: dict[str, Any]) -> None:
    """A saved view lists its own filters: others given with `view` are refused (422)."""
    given = [key for key, value in filters.items() if value is not None]
    if given:
        message = "Leave this out when listing a saved view"
        errors = [FieldError(key, message) for key in given]
        raise InvalidAnswers("List a saved view, or filter the queues, not both", errors)


def one_kind_of_request(code: str | None, kind: str | None) -> None:
    """A request is one the definition declares (`code`) or the handler's own (`kind` and
    `prompt`), not both (422 naming `code`)."""
    if code is not None and kind is not None:
        message = "Send either code, or kind and prompt"
        raise InvalidAnswers(message, [FieldError("code", message)])
