"""The permission table: its shape, and that docs/privacy.md shows it as it is."""

from __future__ import annotations

from pathlib import Path

from linkdesk.domain.agents import Agent, Role
from linkdesk.domain.permissions import ROLE_PERMISSIONS, Permission, can, me, roles_with
from linkdesk.domain.reveal import REVEAL_PERMISSION, RevealField

DOC = Path(__file__).parents[2] / "docs" / "privacy.md"


def test_admin_holds_everything_and_every_role_works_cases() -> None:
    assert ROLE_PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    for role in Role:
        assert can(role, Permission.CASES_READ) and can(role, Permission.CASES_COMMENT)


def test_least_privilege_for_personal_data() -> None:
    assert not can(Role.RISK_ANALYST, Permission.REVEAL_PHONE)
    assert not can(Role.AGENT, Permission.REVEAL_ID_NUMBER)
    assert roles_with(Permission.AUDIT_READ) == [Role.COMPLIANCE, Role.ADMIN]
    assert roles_with(Permission.AGENTS_MANAGE) == [Role.ADMIN]
    assert set(REVEAL_PERMISSION) == set(RevealField)


def test_me_lists_the_roles_permissions() -> None:
    mine = me(Agent(name="li.na", display_name="李娜", role=Role.SUPERVISOR))
    assert set(mine.permissions) == ROLE_PERMISSIONS[Role.SUPERVISOR]
    assert mine.permissions == sorted(mine.permissions)


def test_the_documented_table_is_the_table() -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    header = next(line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| permission"))
    roles = [Role(cell.strip(" `")) for cell in header.split("|")[2:-1]]
    documented = {}
    for row in rows:
        cells = [cell.strip() for cell in row.split("|")[1:-1]]
        documented[Permission(cells[0].strip("`"))] = {r for r, mark in zip(roles, cells[1:], strict=True) if mark == "✓"}
    assert documented == {p: {r for r in Role if p in ROLE_PERMISSIONS[r]} for p in Permission}
