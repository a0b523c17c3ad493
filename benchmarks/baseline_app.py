#!/usr/bin/env python
"""The HTTP baseline of benchmarks/journey_throughput.py: the cheapest useful thing a Python web
server can do with the database, to compare Wayline's step submissions with.

A minimal Starlette app with none of Wayline's middleware, routing or service: `POST /write`
runs one SQLAlchemy Core INSERT in its own transaction into a table of its own
(`baseline_writes`, created at start-up), and answers a small JSON body. The benchmark starts it
in the same run as `wayline serve`, and it is served the same way:

- the same database: the URL `wayline serve` resolves from the same WAYLINE_* environment (the
  SQLite file in WAYLINE_HOME, or WAYLINE_DATABASE_URL), opened by Wayline's own engine factory,
  so both commit with the same durability (SQLite: WAL, synchronous=NORMAL, BEGIN IMMEDIATE;
  PostgreSQL: psycopg 3 with the same pool and pre-ping);
- the same uvicorn settings as `wayline serve` (src/wayline/cli.py `_serve`): one process, the
  default event loop (uvloop when installed), Wayline's HTTP protocol class and connection
  limits (`web.connections.server_options`), log level warning, no access log, no log config;
- the endpoint is a plain `def`, so Starlette runs it in its threadpool, as any blocking
  database call must be run under an event loop;
- on SQLite one writer at a time in this process (a lock), as Wayline's store does: without it,
  concurrent writers wait in SQLite's busy handler, which sleeps up to 100 ms between tries, and
  the baseline would be slowed by something Wayline does not suffer.

    python benchmarks/baseline_app.py --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, Engine, Integer, MetaData, Table, insert
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

metadata = MetaData()
baseline_writes = Table(
    "baseline_writes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("body", JSON, nullable=False),
)
WRITE_PATH = "/write"


def make_app(engine: Engine) -> Starlette:
    """The baseline app over `engine`: `POST /write` inserts one row, `GET /ready` says it
    is up. The table is created if it is missing."""
    metadata.create_all(engine, checkfirst=True)
    one_writer = threading.Lock() if engine.dialect.name == "sqlite" else None
    statement = insert(baseline_writes)

    @contextlib.contextmanager
    def writing() -> Iterator[None]:
        if one_writer is None:
            yield
            return
        with one_writer:
            yield

    def write(request: Request) -> JSONResponse:
        with writing(), engine.begin() as connection:
            connection.execute(statement, {"at": datetime.now(UTC), "body": {"n": 1}})
        return JSONResponse({"written": 1})

    def ready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ready"})

    return Starlette(
        routes=[Route(WRITE_PATH, write, methods=["POST"]), Route("/ready", ready)],
    )


def wayline_engine(url: str) -> Engine:
    """An engine from Wayline's own factory, so the baseline commits as Wayline does. The
    factory moved from wayline.runtime.database to wayline.store.database in issue 9; both
    are tried so that the benchmark measures the code before and after that move."""
    try:
        from wayline.store.database import make_engine
    except ImportError:
        from wayline.runtime.database import make_engine  # type: ignore[no-redef]
    return make_engine(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The bare-write HTTP baseline.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)

    import uvicorn

    from wayline.config import Settings
    from wayline.web.connections import server_options

    settings = Settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    app = make_app(wayline_engine(settings.resolved_database_url()))
    # As `wayline serve` runs uvicorn (src/wayline/cli.py, _serve).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        log_config=None,
        **server_options(settings),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
