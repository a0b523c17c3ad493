"""Logging in tests: the tests' own quiet default, and Wayline's production logging for the
tests that search what was logged (the canaries)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from wayline.observability import logging as wayline_logging

# Loggers bound on first use would keep the level of whatever configured logging first (an
# in-process CLI run configures it at WARNING): every test binds them afresh.
wayline_logging.CACHE_LOGGERS = False


def plain_test_logging() -> None:
    """The tests' logging where nothing configured it (the CLI does, as JSON): structlog's
    defaults, but for its console renderer, which draws an exception with rich and every
    frame's locals (tens of seconds for one 500 in a test): plain tracebacks instead."""
    structlog.reset_defaults()
    structlog.configure(
        processors=[
            *structlog.get_config()["processors"][:-1],
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
        ],
        cache_logger_on_first_use=False,
    )


@contextmanager
def logging_put_back() -> Iterator[None]:
    """Whatever the block does to logging (an in-process CLI run configures it, with a
    handler on the capture stream of its test, closed afterwards), the root logger's handlers
    and level and the tests' own structlog setup are put back after it."""
    root = logging.getLogger()
    handlers, level, config = list(root.handlers), root.level, structlog.get_config()
    try:
        yield
    finally:
        if root.handlers != handlers or root.level != level:
            for handler in list(root.handlers):
                root.removeHandler(handler)
            for handler in handlers:
                root.addHandler(handler)
            root.setLevel(level)
        if structlog.get_config() != config:
            plain_test_logging()


@contextmanager
def production_logging(level: str = "DEBUG") -> Iterator[None]:
    """Wayline's own logging (JSON lines to standard output, from `level`) for the block,
    then the tests' own again."""
    with logging_put_back():
        wayline_logging.configure(level)
        yield
