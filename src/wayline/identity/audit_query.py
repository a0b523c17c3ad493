"""What someone asks of the audit log and what they are shown: the filters the API, the staff
page and `wayline audit list` take, read from text and checked once for all three, and an entry
as JSON.

Pure. Every filter is optional; a filter that is not valid is refused with the name of its field
and why, never guessed at (an unreadable `since` does not quietly become "everything").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wayline.store.audit import AuditRow

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_ACTOR = 100
MAX_TARGET_TYPE = 40
MAX_TARGET_ID = 100
# Action names are short snake_case words (identity/audit.Action, and the workbench's own).
ACTION_NAME = re.compile(r"^[a-z][a-z0-9_.]{0,59}$")
# Ids and types are printable text: a control character (NUL above all, which PostgreSQL's text
# cannot hold) matches nothing and is refused rather than sent to the database.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class FilterError:
    field: str
    message: str


class InvalidFilters(ValueError):
    """One or more filters were not valid; `errors` names each field."""

    def __init__(self, errors: list[FilterError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    target: tuple[str | None, str | None] | None = None  # a type, an id, or both
    since: datetime | None = None
    limit: int = DEFAULT_LIMIT

    @property
    def given(self) -> list[str]:
        """The names of the filters in use (recorded with the read; their values are not)."""
        names = ("actor", "action", "target", "since")
        return [name for name in names if getattr(self, name) is not None]

    @classmethod
    def parse(
        cls,
        *,
        actor: str | None = None,
        action: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        since: str | None = None,
        limit: str | int | None = None,
    ) -> AuditQuery:
        """The query these texts ask for (blank means not given). Raises InvalidFilters naming
        every field that is not valid."""
        errors: list[FilterError] = []
        query = cls(
            actor=_actor(_blank(actor), errors),
            action=_action(_blank(action), errors),
            target=_target(_blank(target_type), _blank(target_id), errors),
            since=_since(_blank(since), errors),
            limit=_limit(limit, errors),
        )
        if errors:
            raise InvalidFilters(errors)
        return query


def _blank(value: str | None) -> str | None:
    stripped = value.strip() if value is not None else None
    return stripped or None


def _actor(value: str | None, errors: list[FilterError]) -> str | None:
    return _text("actor", value, MAX_ACTOR, errors)


def _text(field: str, value: str | None, most: int, errors: list[FilterError]) -> str | None:
    if value is None:
        return None
    if len(value) > most:
        errors.append(FilterError(field, f"must be at most {most} characters"))
        return None
    if CONTROL.search(value):
        errors.append(FilterError(field, "must not contain control characters"))
        return None
    return value


def _action(value: str | None, errors: list[FilterError]) -> str | None:
    if value is not None and not ACTION_NAME.match(value):
        errors.append(FilterError("action", "must be an action name, such as sign_in"))
        return None
    return value


def _target(
    kind: str | None, target_id: str | None, errors: list[FilterError]
) -> tuple[str | None, str | None] | None:
    """A target's type, its id, or both (every entry about cases; everything about one id)."""
    if kind is None and target_id is None:
        return None
    kind = _text("target_type", kind, MAX_TARGET_TYPE, errors)
    target_id = _text("target_id", target_id, MAX_TARGET_ID, errors)
    return (kind, target_id) if kind is not None or target_id is not None else None


def _since(value: str | None, errors: list[FilterError]) -> datetime | None:
    """An ISO 8601 date or date and time; without a zone it is UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors.append(
            FilterError("since", "must be an ISO 8601 date and time, such as 2026-12-01T09:00Z")
        )
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    # In UTC: the store compares times as UTC (SQLite keeps them without a zone). A valid time
    # at the very edge of the calendar (0001-01-01T00:00+01:00) has no UTC datetime: it lies
    # before (or after) every entry, so it stands for the first (or last) moment there is.
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if moment.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=UTC)


def _limit(value: str | int | None, errors: list[FilterError]) -> int:
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_LIMIT
    text = str(value).strip()
    # ASCII digits only: int() would also take "1_000" and other scripts' digits.
    number = int(text) if re.fullmatch(r"[0-9]{1,6}", text) else 0
    if not 1 <= number <= MAX_LIMIT:
        errors.append(FilterError("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
        return DEFAULT_LIMIT
    return number


def entry_json(row: AuditRow) -> dict[str, Any]:
    """An entry as the API and `wayline audit list --json` show it."""
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "actor_kind": row.actor_kind,
        "action": row.action,
        "outcome": row.outcome,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "details": row.details,
    }
