"""Atomic writes (issue 8): no request answers 500 and still changes anything, and a journey
that can be written can always be read. On SQLite and PostgreSQL.

Before: a draft holding NaN, Infinity, 1e999 or a lone surrogate was committed, and then its
answer failed to serialise (500); the journey answered 500 on every read until the draft was
overwritten. Now three things hold, each tested here:
- the store writes JSON through strict_json.dumps: a value it could not read back fails the
  write, inside the transaction, and a failure anywhere in the write rolls it all back;
- a command's answer is drawn after the commit (issue 9) from what was written, which the
  store wrote strictly, and from partner data fetched through a check as strict (a source
  answering NaN is unavailable, like a source that is down): so it can always be sent;
- (with web/strict_input.py, walked route by route in test_hostile_input.py) such values
  never get past the request.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hostile_kit import changes, database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from journey_api import ACTIVE_POLICY, Api, incident
from sqlalchemy import Engine, event

from wayline.bootstrap import Components, build
from wayline.config import Settings
from wayline.sandbox.sources import FunctionSource
from wayline.sandbox.wiring import demo_options
from wayline.strict_json import UnsafeJson
from wayline.web.app import create_app

UNREADABLE = [math.nan, math.inf, -math.inf, "\ud800", "a\udfffb", ["ok", math.nan]]


@pytest.fixture
def careless(sign_in: Callable[..., Api]) -> Api:
    """Alex, through a client that answers a 500 instead of raising it."""
    return sign_in("alex", raise_server_exceptions=False)


@pytest.fixture
def at_incident(careless: Api) -> dict[str, Any]:
    journey = careless.start()
    return careless.step(journey, "policy", {"policy_number": ACTIVE_POLICY["alex"]})


def readable(api: Api, journey_id: str) -> None:
    """The journey reads back: its API view and its pages."""
    assert api.get_journey(journey_id).status_code == 200
    for page in (f"/journeys/{journey_id}", f"/journeys/{journey_id}/steps/incident"):
        response = api.http.get(page, headers={"accept": "text/html"}, follow_redirects=True)
        assert response.status_code == 200, (page, response.status_code)


def _caused_by_unsafe_json(error: BaseException | None) -> bool:
    while error is not None:
        if isinstance(error, UnsafeJson):
            return True
        error = error.__cause__ or error.__context__
    return False


@pytest.mark.parametrize("value", UNREADABLE, ids=repr)
def test_the_store_never_writes_what_it_could_not_read_back(
    components: Components, careless: Api, at_incident: dict[str, Any], value: Any
) -> None:
    """Straight to the command, past every check of the request: the write itself fails."""
    engine = components.store.engine
    before = database(engine)
    with pytest.raises(Exception) as failure:
        components.commands.save_draft(
            "alex", at_incident["id"], "incident", {"description": value}, at_incident["revision"]
        )
    assert _caused_by_unsafe_json(failure.value), repr(failure.value)
    assert database(engine) == before
    readable(careless, at_incident["id"])


@contextmanager
def _failing(engine: Engine, where: str) -> Iterator[None]:
    """Make one part of a command fail after the journey's row is updated: the insert of its
    answers or of its events (a database statement that fails)."""
    statement = re.compile(rf"^\s*INSERT INTO {where}\b", re.IGNORECASE)

    def refuse(connection: Any, cursor: Any, sql: str, *args: Any) -> None:
        if statement.match(sql):
            raise RuntimeError(f"writing {where} failed")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


@pytest.mark.parametrize("where", ["answers", "events"])
def test_a_failure_after_the_write_rolls_back_the_whole_command(
    components: Components,
    careless: Api,
    at_incident: dict[str, Any],
    where: str,
) -> None:
    engine = components.store.engine
    journey_id, revision = at_incident["id"], at_incident["revision"]
    before = database(engine)
    requests = [lambda: careless.post_step(journey_id, "incident", incident(), revision)]
    if where != "answers":  # a draft, and a new journey, write no answers
        requests.append(
            lambda: careless.patch_step(journey_id, "incident", {"description": "Hit"}, revision)
        )
        requests.append(careless.post_journey)
    for send in requests:
        with _failing(engine, where):
            response = send()
        assert response.status_code == 500, response.text
        assert database(engine) == before, changes(before, database(engine))
    readable(careless, journey_id)
    # And once nothing fails, the same command goes through.
    assert careless.post_step(journey_id, "incident", incident(), revision).status_code == 200


def test_a_source_answering_what_json_cannot_carry_is_unavailable_not_a_500(
    make_settings: Callable[..., Settings], sign_in: Callable[..., Api]
) -> None:
    """Views are drawn after the commit, with the options the next step shows fetched then
    (the repairers near the postcode). A source answering NaN would make that answer
    unsendable (a lone surrogate in an option's label), after the change was made: it is
    refused as unavailable instead, and the customer types the answer, as when the source is
    down."""
    odd = FunctionSource(
        lambda customer, params, today: {
            "repairers": [{"id": "r-1", "name": "Odd \ud800", "distance_miles": math.nan}]
        }
    )
    options = demo_options()
    options["sources"] = {**options["sources"], "repairers": odd}
    components = build(make_settings(), migrate=True, **options)
    try:
        alex = sign_in("alex", app=create_app(components), raise_server_exceptions=False)
        journey = alex.step(alex.start(), "policy", {"policy_number": ACTIVE_POLICY["alex"]})
        journey = alex.step(journey, "incident", incident("glass"))
        photo = alex.upload(journey, "damage_photos")
        journey = alex.step(journey, "photos", {"damage_photos": [photo]})
        assert journey["current_step"]["name"] == "settlement"
        fields = journey["current_step"]["fields"]
        repairer = next(f for f in fields if f["name"] == "repairer_id")
        assert repairer.get("unavailable") is True, repairer
        readable(alex, journey["id"])
    finally:
        components.store.dispose()


# Any JSON value, with what Python's json lets through and JSON should not carry.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(exclude_categories=[]), max_size=12)
    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2)
    | st.sampled_from(["²", "٣", "1e999", "NaN", "850,00", "\u202e", "\x00", "9" * 400])
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
_fields = st.sampled_from(list(incident()) + ["nonsense", "\ud800"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(answers=st.dictionaries(_fields, _values, max_size=4), submit=st.booleans())
def test_whatever_is_written_reads_back(
    components: Components,
    careless: Api,
    at_incident: dict[str, Any],
    answers: dict[str, Any],
    submit: bool,
) -> None:
    """Any answers, as a draft or submitted: refused (4xx) and nothing changed, or kept and
    the journey still reads, its API view and its pages. Never a 500."""
    engine = components.store.engine
    journey_id = at_incident["id"]
    revision = careless.journey(journey_id)["revision"]
    body = json.dumps({"answers": answers, "revision": revision}, allow_nan=True)
    before = database(engine)
    response = careless.http.request(
        "POST" if submit else "PATCH",
        f"/api/v1/journeys/{journey_id}/steps/incident",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert database(engine) == before
    readable(careless, journey_id)
