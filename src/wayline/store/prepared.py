"""Statements on every command's path, compiled once and run on the driver's cursor.

SQLAlchemy's `Connection.execute` costs 50–100 µs of Python per statement even when the
compiled form is cached (cache lookup, execution context, events, parameter processing, the
result wrapper): the issue 9 profiles put SQLAlchemy at a quarter of a step's server CPU,
more than the engine. A `Prepared` statement is compiled by SQLAlchemy once per dialect and
set of parameter names, with SQLAlchemy's own bind processors (the strict JSON serialiser,
SQLite's datetime format) and result processors (JSON read back), so what reaches the
database is exactly what `Connection.execute` would send; only the per-call machinery goes.

It runs inside the transaction the store opened (the caller passes that `Connection`), and the
driver's errors are wrapped as SQLAlchemy wraps them (IntegrityError, OperationalError, …),
so `Store.write` turns them into DuplicateKey and StoreUnavailable as before. When anything
listens to the engine's statement events (instrumentation, or a test that makes a statement
fail), the statement goes through `Connection.execute` instead, so that listeners see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.expression import Executable

Processor = Callable[[Any], Any]


class _Compiled:
    """One statement's SQL for one dialect and set of parameter names."""

    def __init__(self, statement: Executable, connection: Connection, names: Sequence[str]):
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(names))  # type: ignore[attr-defined]
        self.sql: str = compiled.string
        self.order: list[str] | None = list(compiled.positiontup) if compiled.positional else None
        self.binds: dict[str, Processor] = dict(compiled._bind_processors)
        # Values the statement carries itself (a literal in a WHERE clause), by bind name.
        self.fixed: dict[str, Any] = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if name not in names and not bind.required
        }
        self.results: list[Processor | None] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in compiled._result_columns
        ]

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """`values` as the driver takes them: processed, in order for a positional style."""
        binds = self.binds
        if self.fixed:
            values = {**self.fixed, **values}
        if self.order is None:
            return {
                name: binds[name](value) if name in binds else value
                for name, value in values.items()
            }
        return tuple(
            binds[name](values[name]) if name in binds else values[name] for name in self.order
        )

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            process(value) if process is not None else value
            for process, value in zip(self.results, raw, strict=True)
        )


class Prepared:
    """A Core statement to run on the driver directly; its SQL compiled on first use."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def _for(self, connection: Connection, names: Sequence[str]) -> _Compiled:
        key = (connection.dialect.name, tuple(names))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, connection, names)
        return compiled

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> int:
        """Run with one set of values; return the number of rows an UPDATE or DELETE changed."""
        if _instrumented(connection):
            return int(connection.execute(self.statement, values).rowcount)
        compiled = self._for(connection, list(values))
        with _driver_call(connection, compiled.sql, compiled.parameters(values)) as cursor:
            return int(cursor.rowcount)

    def execute_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row, in one driver call (every row has the same names)."""
        if not rows:
            return
        if _instrumented(connection):
            connection.execute(self.statement, list(rows))
            return
        compiled = self._for(connection, list(rows[0]))
        parameters = [compiled.parameters(row) for row in rows]
        with _driver_call(connection, compiled.sql, parameters, many=True):
            pass

    def first(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row a query returns, its values read back as SQLAlchemy reads them."""
        if _instrumented(connection):
            found = connection.execute(self.statement, values).first()
            return None if found is None else tuple(found)
        compiled = self._for(connection, list(values))
        with _driver_call(connection, compiled.sql, compiled.parameters(values)) as cursor:
            raw = cursor.fetchone()
        return None if raw is None else compiled.row(raw)


def _instrumented(connection: Connection) -> bool:
    """Whether anything listens to the statements the engine runs. (The engine's own
    dispatcher: a Connection's joins it with the connection's on every attribute read, which
    costs more than the check saves. Listeners are put on engines, as the tests do.)"""
    dispatch = connection.engine.dispatch
    return bool(
        dispatch.before_execute
        or dispatch.before_cursor_execute
        or dispatch.after_cursor_execute
        or dispatch.after_execute
    )


@contextmanager
def _driver_call(
    connection: Connection, sql: str, parameters: Any, many: bool = False
) -> Iterator[Any]:
    """Run `sql` on a cursor of the transaction's own driver connection and hand the cursor
    over (closed afterwards); the driver's errors come out as SQLAlchemy's (IntegrityError,
    …), so callers catch the same exceptions as on SQLAlchemy's path."""
    driver = connection.connection.dbapi_connection
    assert driver is not None, "a Prepared statement runs inside an open transaction"
    dialect = connection.dialect
    cursor = driver.cursor()
    try:
        try:
            (cursor.executemany if many else cursor.execute)(sql, parameters)
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(
                sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        yield cursor
    finally:
        cursor.close()
