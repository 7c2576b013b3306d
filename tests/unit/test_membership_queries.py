"""Memberships are a global table: the tenancy filter does not narrow them to the current organization, so
every query on them by organization lives in ``engpass.organizations.memberships``, where the organization
is named once (docs/tenancy.md). A comparison on ``Membership.organization_id`` anywhere else fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from engpass.settings import REPO_ROOT

ROOT = REPO_ROOT
PRODUCT = [*(ROOT / "platform" / "engpass").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]
HOME = ROOT / "platform" / "engpass" / "organizations" / "memberships.py"
MODELS = ROOT / "platform" / "engpass" / "organizations" / "models.py"


def _aliases(tree: ast.AST, model: str) -> set[str]:
    """``model`` and every name bound to ``aliased(model)`` in the module."""
    names = {model}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "aliased"
            and node.value.args
            and getattr(node.value.args[0], "id", None) == model
        ):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def _is(node: ast.AST, names: set[str], attribute: str) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == attribute and getattr(node.value, "id", None) in names


def queries_by_organization(path: Path) -> list[int]:
    """Lines that compare a membership's organization with something other than that organization's own row
    (``Membership.organization_id == Organization.id`` joins a user's memberships to their organizations)."""
    tree = ast.parse(path.read_text(), str(path))
    memberships, organizations = _aliases(tree, "Membership"), _aliases(tree, "Organization")
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            named = [o for o in operands if _is(o, memberships, "organization_id")]
            others = [o for o in operands if not _is(o, memberships, "organization_id")]
            if named and (len(named) > 1 or not all(_is(o, organizations, "id") for o in others)):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and _is(node.func.value, memberships, "organization_id")
        ):
            lines.append(node.lineno)
    return lines


def test_the_reading_finds_queries_by_organization():
    # The home of these queries has them: a reading that found none there would pass everything.
    assert len(queries_by_organization(HOME)) >= 2


def test_memberships_are_queried_by_organization_in_one_module():
    found = {
        str(path.relative_to(ROOT)): lines
        for path in PRODUCT
        if path not in (HOME, MODELS) and (lines := queries_by_organization(path))
    }
    assert found == {}
