"""gunicorn settings shared by `make run` and the deployment; every value can be overridden by env."""

import os

# `make run` passes --bind 127.0.0.1:$PORT on the command line, which wins over this file.
# An empty variable counts as unset, like the ENGPASS_* ones (deploy/env.example lists them empty).
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("GUNICORN_WORKERS") or "2")
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or "30")
graceful_timeout = 20
keepalive = 5
accesslog = "-"
errorlog = "-"
# The master builds the app before it opens the port, so a replica accepts connections only once it can
# answer them. Built in each worker instead, a new replica's port queued requests for as long as its workers
# took to import and build the app (16 s on a busy 2-core machine, CI's rolling upgrade behind nginx), and the
# proxy cannot tell a queued request from a slow one. Building the app connects to nothing (the engine, the
# Redis and broker clients connect on first use); post_fork below drops what a worker inherits anyway.
preload_app = True
# gunicorn >= 25 opens a control socket at one fixed path per user ($XDG_RUNTIME_DIR or ~/.gunicorn):
# a second instance on the same machine takes it over, and stopping either deletes it. We do not use
# `gunicornc`, so it stays off.
control_socket_disable = True
# Forwarded headers are trusted only as ENGPASS_PROXY_COUNT says (docs/security.md). gunicorn's default
# believes X-Forwarded-Proto from 127.0.0.1 (and from every peer of a unix socket) and switches the request
# to https, which turned HSTS on for a forged header with no proxy configured. Without a proxy nobody
# may set them; behind one, the app's ProxyFix reads them, and gunicorn trusts the peers in
# FORWARDED_ALLOW_IPS (its own variable; default loopback, where a proxy on the same host connects from).
if int(os.environ.get("ENGPASS_PROXY_COUNT") or "0") == 0:
    forwarded_allow_ips = ""
    secure_scheme_headers: dict[str, str] = {}
    forwarder_headers = ""


def post_fork(server: object, worker: object) -> None:
    """No database connection is shared between processes: a worker starts with an empty pool of its own
    (SQLAlchemy's recipe for forking; ``close=False`` leaves the parent's connections, if any, alone)."""
    from engpass.db import db

    if db.engine is not None:
        db.engine.dispose(close=False)
