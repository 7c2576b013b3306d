"""Probes: ``/livez`` (the process answers) and ``/healthz`` (database and broker reachable)."""

from __future__ import annotations

from typing import Any

import redis
from flask import Blueprint, Response, current_app
from sqlalchemy import text

from engpass.db import db
from engpass.settings import Settings

bp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:
        db.session.rollback()
        return False


def _broker_ok(settings: Settings) -> bool:
    if not settings.redis_url:
        # The embedded broker is a file next to the database; it is as healthy as the database.
        return True
    try:
        client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
        return bool(client.ping())
    except redis.RedisError:
        return False


@bp.route("/livez")
def livez() -> Response:
    """Liveness: touches neither database nor broker, so an outage of either does not get every
    web process restarted. Also the benchmark's trivial route: the cost of the stack alone."""
    return Response("ok", mimetype="text/plain")


@bp.route("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    settings: Settings = current_app.extensions["engpass.settings"]
    checks = {"database": _database_ok(), "broker": _broker_ok(settings)}
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": "ok" if checks["database"] else "unreachable",
        "broker": "ok" if checks["broker"] else "unreachable",
        "broker_kind": "redis" if settings.redis_url else "embedded",
    }
    return body, 200 if healthy else 503
