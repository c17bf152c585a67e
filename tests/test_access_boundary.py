"""One access module: no module but ``clients/access.py`` decides by a role.

A role check written elsewhere drifts from the access matrix (the superuser rule differed in three
places before this test). Outside access.py, code asks access.py (``can``, ``holds_anywhere``,
``broker_staff``, ``bams_of`` …) instead of reading ``Membership.role`` or a broker group. Demo
seeding (which creates the groups and memberships) and migrations are the only exceptions.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("carm_portal", "clients", "delegation", "statements", "payments", "services")

# What counts as deciding by a role, each with the reason it is refused.
FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("queries broker groups", re.compile(r"groups__name")),
    ("names a broker role", re.compile(r"\bBrokerRole\.(ADMIN|AGENT|FINANCE)\b")),
    ("names a broker group", re.compile(r"""["']broker (admin|agent|finance)["']""")),
    # a role as a dict key of labels or help texts is not a decision
    (
        "reads a membership role",
        re.compile(r"\bMembership\.Role\.(BAM|FINANCE|EMPLOYEE)\b(?!\s*:\s*\S)"),
    ),
    ("aliases the membership roles", re.compile(r"=\s*Membership\.Role\s*$", re.M)),
    ("reads the superuser flag", re.compile(r"\.is_superuser\b|\bis_superuser\s*=")),
    ("filters memberships by role", re.compile(r"\brole__in\s*=|memberships\.values_list\(")),
)


def _allowed(path: Path) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return (
        rel == "clients/access.py"
        or "/migrations/" in rel
        or rel.endswith("/demo.py")
        or "/demo/" in rel
        or rel.endswith("management/commands/seed_demo.py")
    )


def violations_in(text: str) -> list[str]:
    """The forbidden patterns found in ``text``, one entry per line and reason."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        for reason, pattern in FORBIDDEN:
            if pattern.search(code):
                found.append(f"{number}: {reason}: {line.strip()}")
    return found


def test_no_module_outside_access_decides_by_a_role():
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not _allowed(path):
                found += [
                    f"{path.relative_to(ROOT)}:{hit}" for hit in violations_in(path.read_text())
                ]
    assert found == []


@pytest.mark.parametrize(
    "line",
    [
        'User.objects.filter(groups__name__in=["broker agent"])',
        "if BrokerRole.AGENT in roles:",
        'Group.objects.get(name="broker finance")',
        "Membership.objects.filter(role=Membership.Role.FINANCE)",
        "if membership.role == Membership.Role.BAM:",
        "Role = Membership.Role",
        "if user.is_superuser:",
        "User.objects.filter(is_superuser=True)",
        "Membership.objects.filter(role__in=roles)",
        'user.memberships.values_list("importer_id", "role")',
    ],
)
def test_the_check_sees_each_kind_of_role_decision(line):
    assert len(violations_in(line)) >= 1


@pytest.mark.parametrize(
    "line",
    [
        "Membership.Role.BAM: _('Sees the bank accounts'),",
        "labels = dict(Membership.Role.choices)",
        "if access.can(user, Perm.VIEW_FINANCE, importer):",
        'fields = ("is_active", "is_staff", "is_superuser", "groups")',
        "person.ccp_role = PortalUser.CcpRole.BAM",
    ],
)
def test_the_check_leaves_labels_and_access_calls_alone(line):
    assert violations_in(line) == []
