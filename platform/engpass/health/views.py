"""Probes: ``/livez`` (the process answers) and ``/healthz`` (readiness: can this process serve pages?).

Readiness follows what serving needs: the database. Without the broker, logins, pages and edits still
work (the outbox keeps the work until Redis is back), so a Redis outage reports ``degraded`` with 200;
a 503 there would take every web pod out of the load balancer for an outage the users never notice.
"""

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
    database, broker = _database_ok(), _broker_ok(settings)
    status = "unavailable" if not database else "ok" if broker else "degraded"
    body = {
        "status": status,
        "database": "ok" if database else "unreachable",
        "broker": "ok" if broker else "unreachable",
        "broker_kind": "redis" if settings.redis_url else "embedded",
    }
    return body, 200 if database else 503
