"""The app a test drives: inside the test's transaction, its broker a recorder."""

from typing import Any

from flask import Flask
from sqlalchemy import Connection

from engpass import create_app
from engpass.db import db
from engpass.outbox.service import EXTENSION_KEY
from engpass.settings import Settings


class RecordingPublisher:
    """Stands in for the broker: remembers what the outbox relay published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any], str]] = []

    def __call__(self, task_name: str, kwargs: dict[str, Any], message_id: str) -> None:
        self.published.append((task_name, kwargs, message_id))


def build_app(settings: Settings, connection: Connection) -> Flask:
    """An app whose sessions live inside the test's transaction and whose broker is a recorder."""
    app = create_app(settings)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    app.extensions[EXTENSION_KEY] = RecordingPublisher()
    db.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    return app
