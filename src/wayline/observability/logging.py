"""JSON logs through structlog, tagged with the request id and journey id.

Logs say what happened and to which journey, never what the customer typed: callers pass ids,
names and counts only, and `drop_values` strips any key that could carry an answer.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

FORBIDDEN_KEYS = {"answers", "value", "values", "body", "password", "email", "name", "drafts"}


def drop_values(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    for key in FORBIDDEN_KEYS & event.keys():
        event[key] = "[redacted]"
    return event


def configure(level: str = "INFO") -> None:
    numeric = logging.getLevelName(level.upper())
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=numeric, force=True)
    # httpx logs every request's URL at INFO, query string and all (a postcode the customer
    # typed, say); each partner call has its own log line without them (partner.call).
    for noisy in ("uvicorn.access", "alembic", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            drop_values,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str = "wayline") -> Any:
    return structlog.get_logger(name)
