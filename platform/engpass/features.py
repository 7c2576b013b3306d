"""Every feature, one line each. The app, Alembic, the workers and the resend sweep read what they wire from
here; each feature says what it brings in its own ``feature.py`` (``engpass.feature``).

This module sits above the rooms, like ``app.py`` and ``models.py``: what it loads is the rooms' code."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from engpass.feature import Feature, load

if TYPE_CHECKING:
    from flask import Blueprint

# Each room's folder: its feature.py declares what it brings. Declarations import nothing of their room, so
# reading them here pulls in no room's code.
FEATURES: tuple[Feature, ...] = tuple(
    import_module(f"engpass.{room}.feature").FEATURE
    for room in (
        "accounts",
        "api",
        "audit",
        "candidates",
        "consulting",
        "cycles",
        "dashboard",
        "digest",
        "exports",
        "health",
        "imports",
        "notifications",
        "organizations",
        "outbox",
        "privacy",
        "radar",
        "reminders",
        "rollouts",
        "sso",
        "team",
        "tokens",
        "trends",
        "webhooks",
    )
)


def blueprints() -> list[Blueprint]:
    """Every feature's blueprints, by name: where a feature stands in the list changes nothing for the others."""
    return sorted((load(reference) for feature in FEATURES for reference in feature.blueprints), key=lambda bp: bp.name)


def model_modules() -> list[str]:
    return [module for feature in FEATURES for module in feature.models]


def task_modules() -> list[str]:
    return [feature.task_module for feature in FEATURES if feature.task_module is not None]


def resenders() -> dict[str, str]:
    """Send-log kind (or prefix) → the resender's reference, over every feature."""
    return {kind: reference for feature in FEATURES for kind, reference in feature.resenders.items()}
