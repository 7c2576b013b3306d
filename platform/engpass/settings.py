"""One settings object, read from ``ENGPASS_*`` environment variables inside ``create_app``."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PREFIX = "ENGPASS_"


def _instance_dir() -> Path:
    return Path(os.environ.get(f"{PREFIX}INSTANCE_DIR") or REPO_ROOT / "instance").resolve()


def _secret_key(instance_dir: Path) -> str:
    """Generate the embedded secret once and keep it readable only by its owner."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class SettingsError(ValueError):
    """A setting the platform must not run with; the message names the variable."""


@dataclass
class Settings:
    """Every knob of the platform. Empty strings mean "use the embedded default"."""

    database_url: str = ""
    migration_database_url: str = ""
    redis_url: str = ""
    secret_key: str = ""
    smtp_url: str = ""
    mail_from: str = "Engpass <noreply@engpass.local>"
    base_url: str = "http://127.0.0.1:5000"
    instance_dir: str = ""
    outbox_dir: str = ""
    # Where the workers write organizations' data exports (ZIP) and the web serves them from: a folder
    # both can reach (one machine, or a shared volume).
    export_dir: str = ""
    login_rate_limit: str = "10 per minute"
    account_rate_limit: str = "5 per minute"
    # Per personal access token, across every endpoint of the API.
    api_rate_limit: str = "300 per minute"
    password_reset_max_age: int = 3600
    rate_limits_enabled: bool = True
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    proxy_count: int = 0
    # PostgreSQL: the longest one SQL statement of the web (and the CLI) may run, waiting for locks included;
    # past it the statement is cancelled and the page answers 503 instead of holding a web worker (0: none).
    statement_timeout_ms: int = 30_000
    # The same for the workers, whose exports and recomputations read whole organizations; a task stuck
    # longer is ended by its Celery time limit (0: none).
    worker_statement_timeout_ms: int = 0
    # A digest batch that meets a database or broker outage retries after base, 2 x base, 4 x base … seconds,
    # each wait at most the cap (engpass.transient.backoff); the defaults span about 23 minutes, longer than a
    # restart or a failover takes. The fault tests shrink them.
    digest_retry_base_seconds: int = 15
    digest_retry_max_seconds: int = 300
    # Users per digest batch task.
    digest_batch_size: int = 100
    # The digest sweep (beat) sends what was due and never claimed; how often, and how long after a due hour it
    # first looks, so that it does not race the round's own batches still in the queue.
    digest_sweep_interval_seconds: int = 300
    digest_sweep_grace_seconds: int = 900
    # Webhooks (docs/webhooks.md): targets on loopback, private, link-local and other non-public addresses are
    # refused unless this is on (a receiver inside the company network, the tests' local receiver); plain
    # http:// targets likewise. Both stay off on a server reachable from outside.
    webhooks_allow_private_targets: bool = False
    webhooks_allow_http: bool = False

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = os.environ.get(PREFIX + f.name.upper())
            # An empty variable (as in an env file with blanks) means "not set", never "the empty path".
            if not raw:
                continue
            if f.type in ("int", int):
                values[f.name] = _whole_number(PREFIX + f.name.upper(), raw, 1 if f.name in AT_LEAST_ONE else 0)
            elif f.type in ("bool", bool):
                values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
            else:
                values[f.name] = raw
        values.update(overrides or {})
        settings = cls(**values)
        settings.fill_defaults()
        return settings

    def fill_defaults(self) -> None:
        instance = Path(self.instance_dir) if self.instance_dir else _instance_dir()
        self.instance_dir = str(instance)
        if not self.database_url:
            instance.mkdir(parents=True, exist_ok=True)
            self.database_url = f"sqlite:///{instance / 'engpass.sqlite3'}"
        self.database_url = normalize_database_url(self.database_url)
        self.migration_database_url = normalize_database_url(self.migration_database_url or self.database_url)
        if not self.secret_key:
            self.secret_key = _secret_key(instance)
        if self.secret_key.strip().upper().startswith("CHANGE-ME"):
            # The examples' placeholder is public: sessions signed with it could be forged by anyone.
            raise SettingsError(
                "ENGPASS_SECRET_KEY is still the example's placeholder; set a secret of your own, e.g. "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if not self.outbox_dir:
            self.outbox_dir = str(instance / "outbox")
        if not self.export_dir:
            self.export_dir = str(instance / "exports")

    @property
    def broker_url(self) -> str:
        """Redis when configured; otherwise Kombu's SQLAlchemy transport on a file next to the database."""
        if self.redis_url:
            return self.redis_url
        return f"sqla+sqlite:///{Path(self.instance_dir) / 'broker.sqlite3'}"

    @property
    def uses_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")


# Settings where 0 would stop the work instead of meaning "none": a batch of no users, a retry without a wait.
AT_LEAST_ONE = frozenset(
    {
        "digest_batch_size",
        "digest_retry_base_seconds",
        "digest_retry_max_seconds",
        "digest_sweep_interval_seconds",
    }
)


def _whole_number(variable: str, raw: str, minimum: int) -> int:
    """A count or a duration from the environment; anything else stops the start with the variable's name."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise SettingsError(f"{variable} must be a whole number of at least {minimum}, not {raw!r}")
    return int(text)


def normalize_database_url(url: str) -> str:
    """Accept the URLs operators paste (``postgres://``) and pick the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url
