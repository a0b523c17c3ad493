"""The events' data contracts: the checked-in JSON Schemas and AsyncAPI document are the
generated ones; the compatibility check fails on breaking changes (removed or retyped fields,
new required fields, narrowed enums, a schema removed) and passes additive ones; every event
type the code records is in the catalogue; data carries only what its model declares."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from wayline.events.catalogue import CATALOGUE, data_of, kind_of
from wayline.events.contracts import (
    BreakingChanges,
    asyncapi,
    asyncapi_yaml,
    breaking_changes,
    read_schemas,
    schemas,
    write_schemas,
)
from wayline.events.envelope import Naming
from wayline.journeys import calls, follow_up
from wayline.journeys.engine import EventType
from wayline.runtime.cases import (
    case_documents,
    closing,
    commands,
    deciding,
    information,
    opening,
    queries,
)
from wayline.runtime.commands import documents

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "schemas" / "events"
CHECK = "com.wayline.check.completed/v1.json"


@pytest.fixture(scope="module")
def generated() -> dict[str, dict[str, Any]]:
    return schemas(Naming())


def test_the_checked_in_schemas_are_the_generated_ones(generated):
    assert read_schemas(CHECKED_IN) == generated, "run: wayline events schemas"


def test_the_checked_in_asyncapi_document_is_the_generated_one():
    text = (ROOT / "schemas" / "asyncapi.yaml").read_text()
    assert text == asyncapi_yaml(Naming()), "run: wayline events schemas"
    document = yaml.safe_load(text)
    assert document["asyncapi"] == "3.0.0"
    assert len(document["channels"]) == len(CATALOGUE) == len(document["operations"])
    for message in document["components"]["messages"].values():
        assert (CHECKED_IN.parent / message["payload"]["$ref"]).is_file()


def test_the_generated_schemas_break_no_published_one(generated):
    assert breaking_changes(read_schemas(CHECKED_IN), generated) == []


def _changed(generated: dict[str, Any], change: Any) -> dict[str, Any]:
    schema = copy.deepcopy(generated[CHECK])
    change(schema)
    return {**generated, CHECK: schema}


def _found(published: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [f"{b.where}: {b.what}" for b in breaking_changes(published, new)]


def test_a_removed_field_breaks(generated):
    new = _changed(
        generated, lambda s: s["properties"].pop("check") and s["required"].remove("check")
    )
    assert _found(generated, new) == ["$.check: removed"]


def test_a_retyped_field_breaks(generated):
    new = _changed(generated, lambda s: s["properties"]["check"].update(type="integer"))
    assert _found(generated, new) == ["$.check: retyped from ['string'] to ['integer']"]


def test_a_new_required_field_breaks(generated):
    def add(schema: dict[str, Any]) -> None:
        schema["properties"]["score"] = {"type": "integer"}
        schema["required"].append("score")

    assert _found(generated, _changed(generated, add)) == ["$.score: new required field"]


def test_a_narrowed_enum_breaks(generated):
    new = _changed(generated, lambda s: s["properties"]["status"]["enum"].remove("unavailable"))
    assert _found(generated, new) == ["$.status: enum narrowed: ['\"unavailable\"'] removed"]


def test_a_removed_schema_breaks(generated):
    new = {name: schema for name, schema in generated.items() if name != CHECK}
    assert _found(generated, new) == ["(schema): removed"]


def test_a_retyped_nested_field_breaks(generated):
    name = "com.wayline.case.claimed/v1.json"
    new = copy.deepcopy(generated)
    new[name]["$defs"]["CaseFields"]["properties"]["queue"] = {"type": "integer"}
    assert [str(b) for b in breaking_changes(generated, new)] == [
        f"{name} $.after.queue: retyped from ['null', 'string'] to ['integer']",
        f"{name} $.before.queue: retyped from ['null', 'string'] to ['integer']",
    ]


def test_additive_changes_pass(generated):
    def widen(schema: dict[str, Any]) -> None:
        schema["properties"]["score"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
        schema["properties"]["status"]["enum"].append("skipped")
        schema["properties"]["check"]["type"] = ["string", "null"]
        schema["required"].remove("status")

    new = _changed(generated, widen)
    new["com.wayline.journey.paused/v1.json"] = {"type": "object", "properties": {}}
    assert breaking_changes(generated, new) == []


def test_writing_schemas_refuses_to_break_a_published_one(tmp_path, generated):
    published = copy.deepcopy(generated[CHECK])
    published["properties"]["score"] = {"type": "integer"}  # a field the model no longer has
    path = tmp_path / CHECK
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(published))

    with pytest.raises(BreakingChanges, match=r"\$\.score: removed"):
        write_schemas(tmp_path, Naming())
    assert json.loads(path.read_text()) == published  # nothing written
    assert len(list(tmp_path.rglob("*.json"))) == 1


def _recorded_types() -> set[str]:
    """Every event type the code records: the engine's, and each module's constants."""
    found = {str(member.value) for member in EventType}
    constants = (
        follow_up.CHECK_COMPLETED, follow_up.PAYMENT_SENT, follow_up.NOTIFICATION_SENT,
        follow_up.DEADLINE_BREACHED, calls.EFFECT_DONE, calls.EFFECT_REFUSED,
        calls.EFFECT_FAILED, documents.DOCUMENT_RECEIVED, documents.DOCUMENT_HELD,
        documents.DOCUMENT_REJECTED, documents.DOCUMENTS_REMOVED, queries.VIEWED,
        opening.OPENED, commands.CLAIMED, commands.RELEASED, commands.REASSIGNED,
        commands.NOTE_ADDED, commands.REFERRED_TO_FRAUD, commands.RETURNED, commands.RESOLVED,
        case_documents.DOCUMENT_VIEWED, deciding.PROPOSED, deciding.DECIDED,
        information.REQUESTED, information.RECEIVED, closing.CLOSED_AS,
    )  # fmt: skip
    return found | set(constants)


def test_every_recorded_event_type_is_in_the_catalogue():
    assert sorted(_recorded_types() - set(CATALOGUE)) == []


def test_event_data_keeps_only_what_its_model_declares():
    body = {
        "type": "check.completed",
        "at": "2026-12-03T09:00:00+00:00",
        "data": {
            "check": "policy_active",
            "status": "passed",
            "passed": True,
            "name": "Alex Example",
            "email": "alex@example.com",
        },
    }
    data = data_of(kind_of("check.completed"), "j1", "motor-claim", body).model_dump(mode="json")
    assert data == {
        "journey_id": "j1",
        "journey_type": "motor-claim",
        "at": "2026-12-03T09:00:00Z",
        "check": "policy_active",
        "status": "passed",
        "passed": True,
    }


def test_case_changes_are_published_as_before_and_after():
    body = {
        "at": "2026-12-03T09:00:00+00:00",
        "data": {"case": "c1", "by": "casey", "before.queue": "claims", "after.queue": "fraud",
                 "note": "free text a handler wrote"},
    }  # fmt: skip
    data = data_of(kind_of("case.referred_to_fraud"), "j1", "motor-claim", body)
    dumped = data.model_dump(mode="json", exclude_none=True)
    assert dumped["before"] == {"queue": "claims"} and dumped["after"] == {"queue": "fraud"}
    assert "note" not in json.dumps(dumped)


def test_the_asyncapi_channels_name_nats_subjects():
    channel = asyncapi(Naming())["channels"]["journey.step.completed"]
    assert channel["address"] == "wayline.{journeyType}.journey.step.completed"
