"""Data contracts generated from the event catalogue: one JSON Schema per event type and
version (schemas/events/<type>/v<n>.json, what each event's `dataschema` names), the AsyncAPI 3
document of the NATS channels (schemas/asyncapi.yaml), and the compatibility check between a
published set of schemas and a new one.

Compatible (additive): a new event type or version, a new optional field, a type or enum
widened. Breaking: an event type's schema removed, a field removed or retyped, a new required
field, an enum narrowed. A breaking change ships as a new version of the event type.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wayline.events.catalogue import CATALOGUE, EventKind
from wayline.events.envelope import Naming

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(kind: EventKind, naming: Naming) -> dict[str, Any]:
    """The JSON Schema of one event type's data (its `dataschema`)."""
    generated = kind.model.model_json_schema(mode="serialization")
    generated.pop("title", None)
    description = generated.pop("description", "")
    return {
        "$schema": DRAFT,
        "$id": naming.dataschema(kind.schema_name),
        "title": kind.cloud_type,
        "description": f"{description} (stored as {kind.stored}, version {kind.version}).",
        **generated,
    }


def schemas(naming: Naming) -> dict[str, dict[str, Any]]:
    """Every schema by its path under schemas/events: `<type>/v<n>.json`."""
    return {f"{k.schema_name}.json": schema_of(k, naming) for k in CATALOGUE.values()}


def dumps(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


class BreakingChanges(Exception):
    """Generated schemas would break published ones: nothing was written."""

    def __init__(self, changes: list[Breaking]):
        super().__init__("; ".join(str(change) for change in changes))
        self.changes = changes


def write_schemas(out: Path, naming: Naming) -> list[Path]:
    """Write every schema under `out`, where the published ones are: only additive changes
    (BreakingChanges, and nothing written, for a breaking one: give the event type a new
    version instead). Files of types no longer in the catalogue stay: a published schema is
    never taken back."""
    found = breaking_changes(read_schemas(out) if out.exists() else {}, schemas(naming))
    if found:
        raise BreakingChanges(found)
    written = []
    for name, schema in schemas(naming).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(schema))
        written.append(path)
    return written


def read_schemas(folder: Path) -> dict[str, dict[str, Any]]:
    """Schemas as checked in (or published), by their path under `folder`."""
    return {
        path.relative_to(folder).as_posix(): json.loads(path.read_text())
        for path in sorted(folder.rglob("*.json"))
    }


def asyncapi(naming: Naming, schema_folder: str = "./events") -> dict[str, Any]:
    """The AsyncAPI 3.0 document: a channel per event type on NATS, its message with the
    binary-mode CloudEvents headers and the data schema."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for kind in CATALOGUE.values():
        key = kind.cloud_type.removeprefix("com.wayline.")
        message = f"{kind.cloud_type}.v{kind.version}"
        messages[message] = {
            "name": kind.cloud_type,
            "title": kind.cloud_type,
            "summary": (kind.model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"{schema_folder}/{kind.schema_name}.json"},
        }
        channels[key] = {
            "address": f"wayline.{{journeyType}}.{key}",
            "parameters": {"journeyType": {"description": "The journey definition's name."}},
            "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        }
        operations[f"receive.{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{message}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Wayline journey events",
            "version": "1.0.0",
            "description": "Journey events as CloudEvents 1.0 in binary mode on NATS JetStream "
            "(docs/events.md). Data carries ids, names, outcomes and classifications, never "
            "answers.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "jetstream": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "Stream WAYLINE, subjects wayline.>; deployment "
                f"{naming.deployment}.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": {"CloudEventHeaders": _HEADERS}},
    }


def asyncapi_yaml(naming: Naming) -> str:
    return yaml.safe_dump(asyncapi(naming), sort_keys=False, width=100)


_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": [
        "ce-specversion",
        "ce-id",
        "ce-source",
        "ce-type",
        "ce-subject",
        "ce-time",
        "ce-dataschema",
        "ce-definitionversion",
        "content-type",
        "Nats-Msg-Id",
    ],  # fmt: skip
    "properties": {
        "ce-specversion": {"type": "string", "const": "1.0"},
        "ce-id": {"type": "string", "description": "The event's id: stable, deduplicate by it."},
        "ce-source": {"type": "string", "description": "/wayline/{deployment}/journeys/{type}"},
        "ce-type": {"type": "string", "description": "com.wayline.<area>.<name>"},
        "ce-subject": {"type": "string", "description": "The journey's id."},
        "ce-time": {"type": "string", "format": "date-time"},
        "ce-dataschema": {"type": "string", "format": "uri"},
        "ce-definitionversion": {"type": "string", "description": "The definition's version."},
        "ce-traceparent": {"type": "string", "description": "W3C trace context, when traced."},
        "content-type": {"type": "string", "const": "application/json"},
        "Nats-Msg-Id": {"type": "string", "description": "The event id (JetStream dedupe)."},
    },
}


# --- compatibility -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Breaking:
    """One breaking change: in which schema, where, and what."""

    schema: str
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.schema} {self.where}: {self.what}"


def breaking_changes(
    published: Mapping[str, Mapping[str, Any]], generated: Mapping[str, Mapping[str, Any]]
) -> list[Breaking]:
    """What in `generated` breaks a consumer of `published` (empty: compatible)."""
    found: list[Breaking] = []
    for name, old in sorted(published.items()):
        new = generated.get(name)
        if new is None:
            found.append(Breaking(name, "(schema)", "removed"))
            continue
        found.extend(
            Breaking(name, where, what)
            for where, what in _compare(_Shape.of(old, old), _Shape.of(new, new), "$")
        )
    return found


@dataclass(frozen=True)
class _Shape:
    """A schema reduced to what compatibility looks at."""

    types: frozenset[str]
    enum: frozenset[str] | None
    properties: dict[str, _Shape]
    required: frozenset[str]
    items: _Shape | None

    @classmethod
    def of(cls, schema: Mapping[str, Any], root: Mapping[str, Any]) -> _Shape:
        schema = _resolved(schema, root)
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        if alternatives:
            return _union([cls.of(option, root) for option in alternatives])
        types = schema.get("type", [])
        enum = schema.get("enum")
        if "const" in schema:
            enum = [schema["const"]]
        items = schema.get("items")
        return cls(
            types=frozenset([types] if isinstance(types, str) else types),
            enum=None if enum is None else frozenset(json.dumps(v) for v in enum),
            properties={
                name: cls.of(sub, root) for name, sub in schema.get("properties", {}).items()
            },
            required=frozenset(schema.get("required", [])),
            items=None if items is None else cls.of(items, root),
        )


def _resolved(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            target = target[part]
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _union(shapes: list[_Shape]) -> _Shape:
    enums = [shape.enum for shape in shapes if shape.enum is not None]
    unrestricted = any(shape.enum is None and shape.types - {"null"} for shape in shapes)
    properties: dict[str, _Shape] = {}
    for shape in shapes:
        properties.update(shape.properties)
    return _Shape(
        types=frozenset().union(*(shape.types for shape in shapes)),
        enum=None if unrestricted or not enums else frozenset().union(*enums),
        properties=properties,
        required=frozenset().union(*(shape.required for shape in shapes)),
        items=next((shape.items for shape in shapes if shape.items is not None), None),
    )


def _compare(old: _Shape, new: _Shape, where: str) -> Iterator[tuple[str, str]]:
    if old.types and new.types and not old.types <= new.types:
        yield where, f"retyped from {sorted(old.types)} to {sorted(new.types)}"
    if old.enum is not None and new.enum is not None and not old.enum <= new.enum:
        yield where, f"enum narrowed: {sorted(old.enum - new.enum)} removed"
    for name in sorted(new.required - old.required):
        yield f"{where}.{name}", "new required field"
    for name, old_field in sorted(old.properties.items()):
        new_field = new.properties.get(name)
        if new_field is None:
            yield f"{where}.{name}", "removed"
        else:
            yield from _compare(old_field, new_field, f"{where}.{name}")
    if old.items is not None and new.items is not None:
        yield from _compare(old.items, new.items, f"{where}[]")
