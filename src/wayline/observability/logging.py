"""JSON logs through structlog, tagged with the request id and journey id.

Logs say what happened and to which journey, never what the customer typed: callers pass ids,
names and counts only, and `drop_values` strips any key that could carry an answer.

Every log line is one JSON object, whoever wrote it: structlog's loggers and the standard
library's (uvicorn, SQLAlchemy, ...) end in the same handler and the same JSON renderer. A
traceback is a field of that object (`exception`: the exception types and the frames' files,
lines and functions), never lines of text after it. Exception messages and local variables are
left out: both can hold what a customer typed (`int('my postcode')`, a SQL statement's
parameters).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor

from wayline.observability.tracing import ids_of_current_span

FORBIDDEN_KEYS = {"answers", "value", "values", "body", "password", "email", "name", "drafts"}
_FRAMES = ExceptionDictTransformer(show_locals=False, use_rich=False)


def drop_values(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """Replace the value of every key that could carry what a customer typed."""
    for key in FORBIDDEN_KEYS & event.keys():
        event[key] = "[redacted]"
    return event


def trace_ids(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """Add `trace_id` and `span_id` while a span is recording (an exporter is configured), so
    a log line leads to its trace and a trace to its lines."""
    event.update(ids_of_current_span())
    return event


def exception_frames(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """Turn `exc_info` into `exception`: a list of stacks (the exception and its causes), each
    with the exception's type and its frames, and without messages or values."""
    exc_info = event.pop("exc_info", None)
    if not exc_info:
        return event
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if exc_info[0] is None:
        return event
    event["exception"] = [_stack_without_values(stack) for stack in _FRAMES(exc_info)]
    return event


def _stack_without_values(stack: dict[str, Any]) -> dict[str, Any]:
    return {
        "exc_type": stack["exc_type"],
        "is_cause": stack.get("is_cause", False),
        "frames": [
            {"filename": f["filename"], "lineno": f["lineno"], "name": f["name"]}
            for f in stack["frames"]
        ],
        **(
            {"exceptions": [[_stack_without_values(s) for s in t] for t in stack["exceptions"]]}
            if stack.get("exceptions")
            else {}
        ),
    }


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        trace_ids,
        drop_values,
    ]


def json_formatter() -> logging.Formatter:
    """The one formatter of every log record: JSON, one object a line."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *_shared_processors()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            exception_frames,
            structlog.processors.JSONRenderer(),
        ],
    )


# Loggers are bound once, on first use, under the configuration of that moment. Tests turn it
# off: they configure logging many times in one process (every in-process CLI run does).
CACHE_LOGGERS = True


def configure(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record, at `level` and above, to `stream` (standard output) as JSON."""
    numeric = logging.getLevelName(level.upper())
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    # httpx logs every request's URL at INFO, query string and all (a postcode the customer
    # typed, say); each partner call has its own log line without them (partner.call). Pillow
    # logs every EXIF tag it reads at DEBUG, value and all: a photo's camera and position.
    for noisy in ("uvicorn.access", "alembic", "httpx", "httpcore", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # uvicorn's own logging config (when a server was started with it) gives its loggers
    # plain-text handlers and stops them propagating: take them back, so every line is JSON.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    structlog.configure(
        processors=[
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=CACHE_LOGGERS,
    )


def get_logger(name: str = "wayline") -> Any:
    return structlog.get_logger(name)
