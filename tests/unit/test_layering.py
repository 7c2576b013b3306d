"""Which package may import which (docs/architecture.md): the ground floor and ``organizations`` import
no feature, so every feature can build on them. Read from the source, so a new import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from engpass.settings import REPO_ROOT

SOURCE = REPO_ROOT / "platform" / "engpass"
FEATURES = frozenset(p.name for p in SOURCE.iterdir() if (p / "__init__.py").exists())
# Above the rooms: they wire or version every room's rows, or serve rooms' pages.
ABOVE_THE_ROOMS = frozenset({"__init__", "app", "cached_pages", "features", "models", "page_cache"})
GROUND_FLOOR = sorted(p for p in SOURCE.glob("*.py") if p.stem not in ABOVE_THE_ROOMS)
# Users and memberships refer to each other's models (User.memberships <-> Membership.user).
ORGANIZATIONS_MAY_IMPORT = frozenset({"engpass.accounts.models"})


def imported_modules(path: Path) -> set[str]:
    """Every ``engpass`` module a file imports, at any depth (type-checking imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "engpass":
                found.update(f"engpass.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return {name for name in found if name.startswith("engpass.")}


def features_imported(path: Path, own: str | None = None, allowed: frozenset[str] = frozenset()) -> set[str]:
    return {
        name
        for name in imported_modules(path)
        if name.split(".")[1] in FEATURES and name.split(".")[1] != own and name not in allowed
    }


def test_the_reading_sees_imports():
    # The dashboard imports several features: a reading that found none would make the tests below empty.
    assert {"engpass.trends", "engpass.cycles.forms"} <= features_imported(SOURCE / "dashboard" / "views.py")
    assert "organizations" in FEATURES and "tenancy.py" in {p.name for p in GROUND_FLOOR}


def test_organizations_imports_no_feature_package():
    offenders = {
        str(path.relative_to(SOURCE)): sorted(features_imported(path, "organizations", ORGANIZATIONS_MAY_IMPORT))
        for path in (SOURCE / "organizations").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_ground_floor_imports_no_feature_package():
    offenders = {path.name: sorted(features_imported(path)) for path in GROUND_FLOOR}
    assert {path: names for path, names in offenders.items() if names} == {}


def room_imports() -> dict[str, list[str]]:
    """Each room (a package of ``engpass``) and the other rooms its modules import, from the source."""
    table: dict[str, list[str]] = {}
    for room in sorted(FEATURES):
        used = {name.split(".")[1] for path in (SOURCE / room).rglob("*.py") for name in features_imported(path, room)}
        table[room] = sorted(used)
    return table


def test_the_architecture_doc_draws_the_rooms_imports_as_they_are():
    doc = (REPO_ROOT / "docs" / "architecture.md").read_text()
    start, end = "<!-- room-imports:start -->\n", "<!-- room-imports:end -->"
    drawn = doc[doc.index(start) + len(start) : doc.index(end)]
    rows = "".join(
        f"| `{room}/` | {', '.join(f'`{used}`' for used in imports) or '—'} |\n"
        for room, imports in room_imports().items()
    )
    expected = "| room | imports these rooms |\n|---|---|\n" + rows
    assert drawn == expected, "docs/architecture.md's table of room imports is out of date; it is:\n" + expected
