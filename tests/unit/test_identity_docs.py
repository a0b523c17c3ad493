"""docs/identity.md's permission table says what identity/permissions.TABLE grants: every
permission, the roles that hold it and its step-up, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from wayline.identity.permissions import TABLE, Permission
from wayline.identity.roles import STAFF_ROLES, Role

DOC = Path(__file__).resolve().parents[2] / "docs" / "identity.md"
STEP_UP = re.compile(r"level (?P<level>\d) within (?P<minutes>\d+) minutes")


def _documented() -> dict[str, tuple[frozenset[Role], str]]:
    section = DOC.read_text().split("## Roles and permissions", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if len(cells) == 4 and re.fullmatch(r"`[a-z_]+`", cells[0]):
            rows[cells[0].strip("`")] = (_roles(cells[1]), cells[2])
    return rows


def _roles(text: str) -> frozenset[Role]:
    if text == "every role":
        return frozenset(Role)
    if text == "every staff role":
        return STAFF_ROLES
    return frozenset(Role(name.strip()) for name in text.split(","))


def test_the_documented_permission_table_is_the_one_the_code_checks() -> None:
    documented = _documented()
    assert set(documented) == {permission.value for permission in Permission}
    for permission, grant in TABLE.items():
        roles, step_up = documented[permission.value]
        assert roles == grant.roles, permission
        if grant.step_up is None:
            assert step_up == "", permission
        else:
            match = STEP_UP.fullmatch(step_up)
            assert match is not None, (permission, step_up)
            assert int(match["level"]) == grant.step_up.level
            assert int(match["minutes"]) * 60 == grant.step_up.max_age
