"""The Celery application: ``celery --app workers worker`` and ``celery --app workers beat``.

This package is the worker process's entry point, like a WSGI file: the first access to
``workers.app`` builds the Flask app (and with it the settings from the environment). It
is built on access rather than at import, so that importing ``workers.celery_app`` or a
task module (as the tests do) does not configure the shared database from the environment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery
    from flask import Flask

__all__ = ["app", "flask_app"]

_built: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if not _built:
        from engpass import create_app
        from engpass.settings import Settings
        from workers.celery_app import make_celery

        settings = Settings.from_env()
        settings.statement_timeout_ms = settings.worker_statement_timeout_ms
        flask: Flask = create_app(settings)
        celery: Celery = make_celery(flask)
        _built.update(flask_app=flask, app=celery)
    return _built[name]
