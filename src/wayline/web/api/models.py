"""Request bodies of the JSON API. Unknown keys and wrongly typed values are refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

# Revisions count a journey's writes; the bound keeps a client's number within what every
# database compares (SQLite's INTEGER is 64-bit), so a huge one is a 422, not a driver error.
# 2**53 - 1 rather than 2**63 - 1: the OpenAPI document writes bounds as JSON numbers, which
# clients (JavaScript, schemathesis) read as doubles, and 2**63 - 1 does not survive that.
MAX_REVISION = 2**53 - 1


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartJourney(Body):
    type: str = Field(min_length=1, max_length=100, examples=["motor-claim"])


class StepAnswers(Body):
    answers: dict[str, Any] = Field(
        examples=[{"date_of_event": "2026-11-20", "what_happened": "glass"}]
    )
    revision: StrictInt = Field(
        ge=1, le=MAX_REVISION, description="The revision the answers were based on."
    )


class AtRevision(Body):
    revision: StrictInt = Field(
        ge=1, le=MAX_REVISION, description="The revision the request was based on."
    )


class CancelHold(AtRevision):
    key: str = Field(
        min_length=1, max_length=300, description="The key of one of the journey's `holds`."
    )


class SubmitJourney(Body):
    revision: StrictInt = Field(ge=1, le=MAX_REVISION)
    # Only true is accepted (the service says why false is refused); the schema says so.
    declaration: StrictBool = Field(json_schema_extra={"const": True})


class ItemAnswers(Body):
    """One item of a repeating group: its fields' answers."""

    answers: dict[str, Any] = Field(examples=[{"name_used": "Sam Jones", "until": "2015-06-01"}])
    revision: StrictInt = Field(
        ge=1, le=MAX_REVISION, description="The revision the change was based on."
    )


class Revision(Body):
    revision: StrictInt = Field(
        ge=1, le=MAX_REVISION, description="The revision the change was based on."
    )
