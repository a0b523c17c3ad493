"""Rotating the key-encryption key under load, with a crash half way: every journey stays
readable throughout, the rotation resumes where it stopped, and the old version can be
retired only once nothing uses it. And a sealed value copied to another row does not open."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from journey_api import ACTIVE_POLICY, Api, incident
from sqlalchemy import select, update
from typer.testing import CliRunner

from wayline.bootstrap import Components
from wayline.cli import app as cli
from wayline.protection.codec import FieldCodec
from wayline.protection.envelope import WrongPlace
from wayline.protection.keys import DataKeys, KeyInUse, Progress, UnknownKey
from wayline.protection.providers import LocalKeyring
from wayline.store import answers, journeys, tables


class Crash(Exception):
    """Stands in for the rotating process dying after a batch."""


def keys_of(components: Components) -> DataKeys:
    codec = components.store.codec
    assert isinstance(codec, FieldCodec)
    return codec.keys


def started(api: Api) -> dict:
    journey = api.start()
    journey = api.step(journey, "policy", {"policy_number": ACTIVE_POLICY[api.customer or ""]})
    return api.step(
        journey,
        "incident",
        incident("glass", description="Rotation canary: a stone hit the windscreen"),
    )


def test_rotation_under_load_resumes_after_a_crash_and_retires_the_old_version(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    keys = keys_of(components)
    keyring = keys.provider
    assert isinstance(keyring, LocalKeyring)
    customers = {name: sign_in(name) for name in ("alex", "sam", "jordan")}
    claims = {name: started(api) for name, api in customers.items()}
    with components.store.read() as connection:
        assert keys.usage(connection) == {"local-1": 3}

    assert keyring.new_version() == "local-2"
    submitted: list[str] = []

    def busy_then_crash(progress: Progress) -> None:
        # Between batches customers go on changing their claims.
        name = ["alex", "sam", "jordan"][len(submitted)]
        answers = incident("glass", description=f"Later {name}: the crack spread across the glass")
        claims[name] = customers[name].step(claims[name], "incident", answers)
        submitted.append(name)
        if progress.done >= 1 and len(submitted) == 1:
            raise Crash

    with pytest.raises(Crash):
        keys.rotate(components.store, batch=1, on_batch=busy_then_crash)
    keys._cache.clear()  # as a new process would: every key unwrapped again
    with components.store.read() as connection:
        usage = keys.usage(connection)
        assert usage["local-1"] == 2 and usage["local-2"] >= 1
        with pytest.raises(KeyInUse):
            keys.retire(connection, "local-1")
    for name, api in customers.items():  # everything reads while half the keys are rewrapped
        assert api.journey(claims[name]["id"])["answers"]["policy_number"]
    assert (
        customers["alex"].journey(claims["alex"]["id"])["answers"]["description"]
        == "Later alex: the crack spread across the glass"
    )

    done = keys.rotate(components.store, batch=1, on_batch=busy_then_crash)
    assert done.done == 2  # only what was left
    with components.store.read() as connection:
        assert keys.usage(connection) == {"local-2": 3}
        keys.retire(connection, "local-1")
    assert keyring.versions() == ["local-2"]
    keys._cache.clear()
    for name, api in customers.items():
        view = api.journey(claims[name]["id"])
        assert view["answers"]["description"] == f"Later {name}: the crack spread across the glass"
    with components.store.read() as connection:
        values = answers.values_of(connection, claims["sam"]["id"])
    assert values["description"] == "Later sam: the crack spread across the glass"


def test_a_sealed_value_copied_to_another_journey_does_not_open(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    alex, sam = sign_in("alex"), sign_in("sam")
    alexs, sams = started(alex), started(sam)
    answer = tables.answers.c
    with components.store.write() as connection:
        alexs_value = connection.execute(
            select(answer.value).where(
                answer.journey_id == alexs["id"], answer.field == "description"
            )
        ).scalar_one()
        # Alex's sealed description pasted into Sam's row, and into another of Alex's fields.
        connection.execute(
            update(tables.answers)
            .where(answer.journey_id == sams["id"], answer.field == "description")
            .values(value=alexs_value)
        )
        connection.execute(
            update(tables.answers)
            .where(answer.journey_id == alexs["id"], answer.field == "incident_postcode")
            .values(value=alexs_value)
        )
    with components.store.read() as connection:
        with pytest.raises(WrongPlace):
            answers.values_of(connection, sams["id"])
        with pytest.raises(WrongPlace):
            answers.values_of(connection, alexs["id"])
        stored = journeys.load(connection, alexs["id"], "alex")
    assert (
        stored is not None
        and stored.state.answers["description"] == "Rotation canary: a stone hit the windscreen"
    )


def test_keys_commands(components: Components, sign_in: Callable[..., Api], tmp_path: Path) -> None:
    started(sign_in("alex"))
    env = {
        "WAYLINE_HOME": str(components.settings.home),
        "WAYLINE_DATABASE_URL": components.settings.resolved_database_url(),
    }
    runner = CliRunner()
    status = runner.invoke(cli, ["keys", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert "local-1" in status.output
    refused = runner.invoke(cli, ["keys", "retire", "local-1"], env=env)
    assert refused.exit_code == 1 and "still wraps 1 keys" in refused.output
    rotated = runner.invoke(cli, ["keys", "rotate", "--batch", "1"], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert "Done: 1 keys now under local-2" in rotated.output
    retired = runner.invoke(cli, ["keys", "retire", "local-1"], env=env)
    assert retired.exit_code == 0, retired.output
    after = runner.invoke(cli, ["keys", "status"], env=env)
    assert "local-1" not in after.output and "local-2" in after.output


def test_case_notes_and_task_answers_are_sealed_for_the_journeys_owner(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    from datetime import UTC, datetime

    from wayline.store import cases

    journey = started(sign_in("sam"))
    now = datetime.now(UTC)
    case = cases.CaseRow(
        "case1",
        journey["id"],
        "motor-claim",
        "sam",
        None,
        "claims",
        "open",
        "normal",
        None,
        "referral",
        [],
        now,
        now,
        now,
    )
    note = "Canary note: Sam's neighbour Quentin Zabriskie saw it"
    with components.store.write() as connection:
        cases.insert_case(connection, case)
        cases.add_note(connection, cases.NoteRow("note1", "case1", now, "casey", note))
        cases.add_task(
            connection,
            cases.TaskRow(
                "task1",
                "case1",
                journey["id"],
                "question",
                "Who saw it?",
                [],
                "open",
                "casey",
                now,
            ),
        )
        assert cases.answer_task(connection, "task1", "Quentin Zabriskie, at number 4", [], now)
    with components.store.read() as connection:
        raw_note = connection.execute(select(tables.case_notes.c.text)).scalar_one()
        raw_answer = connection.execute(select(tables.case_tasks.c.answer)).scalar_one()
        assert [n.text for n in cases.notes_of(connection, ["case1"])] == [note]
        assert cases.tasks_of_case(connection, ["case1"])[0].answer == (
            "Quentin Zabriskie, at number 4"
        )
    assert raw_note.startswith("wl1:") and "Zabriskie" not in raw_note
    assert raw_answer.startswith("wl1:") and "Zabriskie" not in raw_answer


def test_a_state_sealed_by_this_process_opens_only_in_its_own_row_and_while_its_key_lives(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    """The codec keeps the states it sealed last, to spare the next step the decryption: a
    copy of that envelope in another row is still refused, and an erased subject's state no
    longer opens here although its plaintext was just in memory."""
    alex, sam = sign_in("alex"), sign_in("sam")
    alexs, sams = started(alex), started(sam)
    column = tables.journeys.c
    with components.store.write() as connection:
        alexs_state = connection.execute(
            select(column.state).where(column.id == alexs["id"])
        ).scalar_one()
        sams_state = connection.execute(
            select(column.state).where(column.id == sams["id"])
        ).scalar_one()
        connection.execute(
            update(tables.journeys)
            .where(column.id == sams["id"])
            .values(state={**sams_state, "sealed": alexs_state["sealed"]})
        )
    with components.store.read() as connection:
        with pytest.raises(WrongPlace):
            journeys.load(connection, sams["id"], "sam")
        opened = journeys.load(connection, alexs["id"], "alex")
        assert opened is not None and opened.state.answers["incident_type"] == "glass"
    with components.store.write() as connection:
        keys_of(components).forget_subject(connection, "alex")
    with components.store.read() as connection, pytest.raises(UnknownKey):
        journeys.load(connection, alexs["id"], "alex")
    # Alex comes back: a new data key, under the same version number. The old row (as a
    # backup would hold it) still does not open, although this process sealed it.
    with components.store.write() as connection:
        assert keys_of(components).for_sealing(connection, "alex")[0] == 1
    with components.store.read() as connection, pytest.raises(WrongPlace):
        journeys.load(connection, alexs["id"], "alex")


def test_a_step_that_changes_nothing_sealed_writes_the_same_envelope(
    components: Components, sign_in: Callable[..., Api]
) -> None:
    alex = sign_in("alex")

    def sealed_text(journey_id: str) -> str:
        column = tables.journeys.c
        with components.store.read() as connection:
            state = connection.execute(
                select(column.state).where(column.id == journey_id)
            ).scalar_one()
        return str(state["sealed"])

    journey = started(alex)
    before = sealed_text(journey["id"])
    journey = alex.draft(journey, "policy", {"policy_number": ACTIVE_POLICY["alex"]})
    assert sealed_text(journey["id"]) == before  # an internal answer's draft: in clear
    journey = alex.step(
        journey, "incident", incident("glass", description="A second stone, a second crack")
    )
    assert sealed_text(journey["id"]) != before
