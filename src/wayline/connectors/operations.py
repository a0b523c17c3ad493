"""Declared partner operations: what each partner can be asked to do, and the shapes of the
request and the answer (partners/<partner>.yaml, docs/partners.md).

A journey calls an operation by name (`call: payment_provider.payout`); nothing here knows any
journey. An operation is called through the partner's PartnerClient, so it has the client's
timeouts, retries, circuit breaker and idempotency keys. Its request is checked against its
JSON Schema before anything is sent (a request of the wrong shape is our mistake: it is never
sent), and its answer after (an answer of another shape is a partner error, retried like an
outage, never a crash). A status the declaration lists under `refusals` is a final answer: the
call returns it as a Refusal instead of raising.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import jsonschema
import yaml
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from wayline.connectors.http import PartnerClient, PartnerError, PartnerRejected
from wayline.journeys.loader import YAML_LOADER

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
Validator = jsonschema.Draft202012Validator


@functools.lru_cache(maxsize=1024)
def _schema_problem(schema: str) -> str | None:
    """Why a JSON Schema (given as canonical JSON text) is not one, or None. Cached: checking
    against the metaschema is slow, and every start, reload and test reads the same schemas."""
    try:
        Validator.check_schema(json.loads(schema))
    except SchemaError as error:
        return error.message
    return None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Operation(_Strict):
    """One thing a partner can be asked: a method, a path and the shapes of both sides."""

    title: str = Field(min_length=1)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(
        pattern=r"^/",
        description="The path; {name} placeholders are filled from the request (and removed "
        "from the body or query).",
    )
    changes: bool | None = Field(
        None,
        description="true: it changes something at the partner, so it is sent with an "
        "Idempotency-Key and retried only under that key. false: a read, safe to repeat. "
        "Default: false for GET, true otherwise.",
    )
    request: dict[str, Any] = Field(
        description="JSON Schema (draft 2020-12) of the request: placeholders + body or query."
    )
    response: dict[str, Any] = Field(
        description="JSON Schema of a successful answer; any other shape is a partner error."
    )
    refusals: dict[int, str] = Field(
        default_factory=dict,
        description="HTTP statuses that are a final answer, not a fault, and the outcome each "
        "records (409: card_cancelled).",
    )

    @model_validator(mode="after")
    def _check(self) -> Operation:
        for name, schema in (("request", self.request), ("response", self.response)):
            problem = _schema_problem(json.dumps(schema, sort_keys=True))
            if problem:
                raise ValueError(f"{name} is not a valid JSON Schema: {problem}")
        if self.request.get("type") != "object":
            raise ValueError("request must be a JSON Schema of type: object")
        properties = self.request.get("properties", {})
        for placeholder in self.placeholders:
            if placeholder not in properties:
                raise ValueError(f"path placeholder {{{placeholder}}} is not a request property")
        for status, outcome in self.refusals.items():
            if not 400 <= status < 500 or status == 429:
                raise ValueError(f"refusal {status}: only a 4xx other than 429 can be final")
            if not re.fullmatch(NAME_PATTERN, outcome):
                raise ValueError(f"refusal outcome '{outcome}' must be a snake_case name")
        return self

    @property
    def placeholders(self) -> list[str]:
        return PLACEHOLDER.findall(self.path)

    @property
    def changing(self) -> bool:
        return self.changes if self.changes is not None else self.method != "GET"

    @property
    def properties(self) -> frozenset[str]:
        return frozenset(self.request.get("properties", {}))

    @property
    def required(self) -> frozenset[str]:
        return frozenset(self.request.get("required", []))


class PartnerOperations(_Strict):
    """A partners/<partner>.yaml file."""

    partner: str = Field(pattern=NAME_PATTERN)
    title: str = Field(min_length=1)
    operations: dict[str, Operation] = Field(min_length=1)

    @model_validator(mode="after")
    def _names(self) -> PartnerOperations:
        for name in self.operations:
            if not re.fullmatch(NAME_PATTERN, name):
                raise ValueError(f"operation name '{name}' must be a snake_case name")
        return self


def json_schema() -> dict[str, Any]:
    """The JSON Schema of partners/*.yaml, for editors (schemas/partner.schema.json)."""
    schema = PartnerOperations.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://wayline.dev/schemas/partner.schema.json"
    return schema


class OperationsError(ValueError):
    """A partners/ file that cannot be used; the message names the file and what is wrong."""


class RequestInvalid(ValueError):
    """A request that does not match its operation's schema: never sent (our mistake)."""


@dataclass(frozen=True)
class Refusal:
    """The partner's final no (a status its declaration lists under `refusals`)."""

    status: int
    outcome: str


def load_operations(directory: Path) -> dict[str, PartnerOperations]:
    """Every partners/*.yaml in `directory`, by partner name; OperationsError names each file
    that is wrong and why. A missing folder declares no operations."""
    found: dict[str, PartnerOperations] = {}
    problems: list[str] = []
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.y*ml")):
        try:
            document = PartnerOperations.model_validate(
                yaml.load(path.read_text("utf-8"), Loader=YAML_LOADER)
            )
        except yaml.YAMLError as error:
            problems.append(f"{path.name}: not valid YAML: {error}")
            continue
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(str(part) for part in detail["loc"]) or "(top)"
                problems.append(f"{path.name}: {where}: {detail['msg']}")
            continue
        if path.stem != document.partner:
            problems.append(
                f"{path.name}: declares partner '{document.partner}': name the "
                f"file {document.partner}.yaml"
            )
        found[document.partner] = document
    if problems:
        raise OperationsError("\n".join(problems))
    return found


class Operations:
    """The declared operations, callable through the partners' clients."""

    def __init__(self, declared: dict[str, PartnerOperations]):
        self.declared = declared

    @classmethod
    def from_directory(cls, directory: Path) -> Operations:
        return cls(load_operations(directory))

    def get(self, qualified: str) -> Operation | None:
        """`partner.operation` → its declaration, or None when nothing declares it."""
        partner, _, name = qualified.partition(".")
        document = self.declared.get(partner)
        return document.operations.get(name) if document else None

    def signatures(self) -> dict[str, Operation]:
        """Every operation by "partner.operation": what definitions are checked against."""
        return {
            f"{partner}.{name}": operation
            for partner, document in self.declared.items()
            for name, operation in document.operations.items()
        }

    def call(
        self, client: PartnerClient, name: str, request: dict[str, Any], key: str | None
    ) -> dict[str, Any] | Refusal:
        """Call the operation `name` (its name within the client's partner) with `request`.

        RequestInvalid when the request does not match the declaration (nothing is sent);
        a Refusal for a status the declaration makes final; PartnerError when the partner is
        unavailable or answers with another shape (the caller retries). An operation that
        changes something needs `key`, sent as the Idempotency-Key."""
        partner = client.config.name
        operation = self.get(f"{partner}.{name}")
        if operation is None:
            raise LookupError(f"partner '{partner}' declares no operation '{name}'")
        _check(Validator(operation.request), request, "request")
        if operation.changing and not key:
            raise RequestInvalid(f"{partner}.{name} changes something: it needs a key")
        path = operation.path
        rest = dict(request)
        for placeholder in operation.placeholders:
            path = path.replace(f"{{{placeholder}}}", quote(str(rest.pop(placeholder)), safe=""))
        options: dict[str, Any] = {}
        if operation.method in ("GET", "DELETE"):
            options["params"] = rest
        else:
            options["json"] = rest
        if operation.changing:
            options["headers"] = {"Idempotency-Key": key}
        try:
            answer = client.call(operation.method, path, dict, repeatable=True, **options)
        except PartnerRejected as rejected:
            if rejected.status in operation.refusals:
                return Refusal(rejected.status, operation.refusals[rejected.status])
            raise
        try:
            _check(Validator(operation.response), answer, "response")
        except RequestInvalid as wrong:
            raise PartnerError(partner, "bad_response", str(wrong)) from None
        return answer


def _check(validator: Any, value: Any, side: str) -> None:
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        # Where and which rule, never the value: a request carries personal data.
        described = "; ".join(
            f"{'/'.join(str(p) for p in error.absolute_path) or '(whole)'} fails "
            f"'{error.validator}'"
            for error in errors[:5]
        )
        raise RequestInvalid(f"the {side} does not match its schema: {described}")
