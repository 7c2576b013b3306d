"""Engine, session and declarative base shared by the web app, the CLI and the workers."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Enum, Insert, MetaData, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.pool import NullPool

from engpass.tenancy import TenantSession

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}


def string_enum(cls: type[enum.Enum], name: str) -> Enum:
    """Enums stored as plain strings with a CHECK constraint: portable, and easy to extend in a migration."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def dialect_insert(session: Session | Connection, model: type[Any] | Table) -> Insert:
    """An INSERT that offers ``on_conflict_do_nothing`` / ``_do_update`` on both databases (same spelling)."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    module = postgresql if dialect.name == "postgresql" else sqlite
    return module.insert(model)


# Seconds to wait for PostgreSQL to accept a connection: a server that hangs instead of refusing (a dead host
# behind a live address) fails the request with a 503 instead of holding it for the operating system's minutes.
CONNECT_TIMEOUT = 10


def make_engine(url: str, *, statement_timeout_ms: int = 0, **kwargs: Any) -> Engine:
    """An engine for ``url``. On PostgreSQL every connection gets ``statement_timeout`` (0: none) and a
    connect timeout; SQLite has neither (its busy timeout bounds the wait for the write lock)."""
    if url.startswith("sqlite"):
        # SQLite files are shared by web, worker and CLI processes: no pooling across forks,
        # and a busy timeout instead of "database is locked" errors.
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # pysqlite's own transaction handling breaks SAVEPOINTs; SQLAlchemy emits BEGIN instead.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            # In autocommit mode every statement is its own transaction; a BEGIN here would never end.
            if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
                return
            # Take the write lock up front: a deferred transaction that writes late fails at once when
            # another process committed meanwhile, whereas IMMEDIATE waits for the busy timeout.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    connect_args: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT}
    if statement_timeout_ms:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


class Database:
    """Holds the engine and the request/task-scoped session."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory = sessionmaker(class_=TenantSession, expire_on_commit=False)
        self.session: scoped_session[Session] = scoped_session(self.factory)

    def configure(self, url: str, *, statement_timeout_ms: int = 0) -> None:
        if self.engine is not None:
            self.engine.dispose()
        self.engine = make_engine(url, statement_timeout_ms=statement_timeout_ms)
        self.factory.configure(bind=self.engine)

    def remove(self) -> None:
        self.session.remove()

    @contextmanager
    def autocommit_connection(self) -> Iterator[Connection]:
        """A connection whose every statement commits by itself, for writes that stand alone and must be
        durable at once, many in a row (a digest batch records each e-mail): one round trip each, instead of
        ``BEGIN``, the statement and ``COMMIT``. Nothing tenant-owned goes through it: it has no session,
        so neither the tenancy hooks nor row-level security settings apply."""
        assert self.engine is not None
        with self.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session of its own that commits on success; for CLI commands and tasks."""
        session = self.factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


db = Database()
