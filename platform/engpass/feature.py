"""What a feature brings to the app, the workers and the resend sweep, said once in its own folder.

Each room that brings pages, tables, tasks or e-mails declares a ``FEATURE`` in its ``feature.py``, and
``engpass.features`` lists them, one line each. A declaration names modules and objects as strings
(``"module:attribute"``, read with ``load``) and imports nothing of its room: whoever needs them loads
them — the app its blueprints, Alembic its model modules, the workers its task module — so a declaration
can be read early, from anywhere, without an import cycle, and ``engpass`` never imports ``workers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pkgutil import resolve_name
from typing import Any


@dataclass(frozen=True)
class Feature:
    # The room's folder under engpass/.
    name: str
    # Blueprints the app registers ("module:attribute").
    blueprints: tuple[str, ...] = ()
    # Blueprints no cookie-authenticated form posts to, so CSRF protection would only get in the way.
    csrf_exempt: tuple[str, ...] = ()
    # Called with the app after every blueprint is registered, for what registering alone does not do.
    setup: str | None = None
    # Modules whose models Alembic's metadata and the mappers need.
    models: tuple[str, ...] = ()
    # The names of the feature's tasks (engpass.task_names), and the worker module that defines them.
    tasks: tuple[str, ...] = ()
    task_module: str | None = None
    # A send-log kind, or its prefix up to and including the first dot ("reminder."), and the function
    # that sends such a row again ("module:function", taking the session and the row, true when sent).
    resenders: Mapping[str, str] = field(default_factory=dict)


def load(reference: str) -> Any:
    """The object a declaration names: ``"engpass.health.views:bp"``."""
    return resolve_name(reference)
