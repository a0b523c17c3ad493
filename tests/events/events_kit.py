"""Helpers for the journey-event tests: journeys and events written straight to the store,
and what a JetStream stream holds, read back."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import nats
from sqlalchemy import insert

from wayline.journeys.engine import Event
from wayline.store import Store, tables
from wayline.store import events as event_log

T = TypeVar("T")

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def new_journey(store: Store, journey_id: str, journey_type: str = "motor-claim") -> None:
    with store.write() as connection:
        connection.execute(
            insert(tables.journeys).values(
                id=journey_id,
                journey=journey_type,
                version="v-" + journey_type,
                customer_id="alex",
                status="in_progress",
                revision=1,
                state={},
                created_at=T0,
                updated_at=T0,
            )
        )


def step_events(journey_id: str, count: int, start: int = 0) -> tuple[Event, ...]:
    """`count` step.completed events (steps s<start>… with one field each)."""
    return tuple(
        Event("step.completed", T0 + timedelta(seconds=n), f"s{n}", (f"f{n}",))
        for n in range(start, start + count)
    )


def record(store: Store, journey_id: str, events: tuple[Event, ...]) -> None:
    with store.write() as connection:
        event_log.append(connection, journey_id, events)


def stream_messages(url: str, stream: str) -> list[dict[str, Any]]:
    """Every message of the stream, in stream order: subject, headers, data."""

    async def read() -> list[dict[str, Any]]:
        connection = await nats.connect(url)
        try:
            jetstream = connection.jetstream()
            state = (await jetstream.stream_info(stream)).state
            found = []
            for sequence in range(state.first_seq, state.last_seq + 1) if state.messages else ():
                message = await jetstream.get_msg(stream, sequence)
                found.append(
                    {
                        "subject": message.subject,
                        "headers": dict(message.headers or {}),
                        "data": json.loads(message.data or b"null"),
                    }
                )
            return found
        finally:
            await connection.close()

    return in_a_thread(read())


def delete_stream(url: str, stream: str) -> None:
    async def delete() -> None:
        connection = await nats.connect(url)
        try:
            await connection.jetstream().delete_stream(stream)
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await connection.close()

    in_a_thread(delete())


def in_a_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: it works whatever this thread's loop is doing."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
