"""Database set-up: SQLite pragmas, serialised writers, and migrate-on-first-use."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kt1.extensions import db
from kt1.services.context import Ctx, Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Seconds a new PostgreSQL connection may take before the request gives up with
#: ``database_unavailable`` (unless the URL sets ``connect_timeout``).
CONNECT_TIMEOUT_SECONDS = 5
log = logging.getLogger(__name__)


def engine_options(url: str, configured: dict[str, Any] | None) -> dict[str, Any]:
    """The engine options: the configured ones over these defaults.

    ``pool_pre_ping`` checks a pooled connection before a request gets it, so a connection
    that a database restart left dead is replaced instead of failing the request; a new
    PostgreSQL connection gives up after :data:`CONNECT_TIMEOUT_SECONDS` (an unreachable
    host would otherwise hold the request for minutes).
    """
    options: dict[str, Any] = {"pool_pre_ping": True, **(configured or {})}
    if url.startswith("postgresql") and "connect_timeout" not in url:
        options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS,
                                   **options.get("connect_args", {})}
    return options


def database_reachable() -> bool:
    """``SELECT 1`` on a pooled connection (cheap: no transaction, no lock), for /healthz."""
    try:
        conn = db.engine.raw_connection()
        try:
            cursor = conn.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchall()
            cursor.close()
        finally:
            conn.close()
    except Exception as exc:  # any failure means: not usable now
        log.warning("health check: database unavailable (%s)", type(exc).__name__)
        return False
    return True


def _sqlite_hooks(engine: Engine) -> None:
    """Make SQLite behave like a serialisable database for our one-transaction services.

    pysqlite opens transactions lazily and as DEFERRED, so two processes could both read
    an envelope and then race to write. ``BEGIN IMMEDIATE`` takes the write lock at the
    start; ``busy_timeout`` makes the other writer wait instead of failing at once.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def init_app(app: Flask) -> None:
    """Install dialect hooks and, for the embedded SQLite default, migrate on first use."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _sqlite_hooks(engine)
            if app.config.get("AUTO_MIGRATE", True):
                upgrade_if_needed(app)


def head_revisions() -> set[str]:
    """The newest revision of every migration branch (features may add their own branch)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def current_revisions() -> set[str]:
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def upgrade_if_needed(app: Flask) -> None:
    """Run ``alembic upgrade heads`` when the schema is behind (cheap check first)."""
    import flask_migrate

    from kt1.errors import ConfigError, WorkerRunningError
    from kt1.services.worker import upgrade_guard

    with app.app_context():
        if current_revisions() != head_revisions():
            try:  # not under a worker of another version (docs/worker.md)
                with upgrade_guard(service_context()):
                    db.session.remove()
                    flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
            except WorkerRunningError as exc:
                raise ConfigError(exc.message) from None


def service_context() -> Ctx:
    """The services' unit of work for the current app: its session and settings."""
    from flask import current_app

    session: Session = db.session()  # the request's (or command's) scoped session
    return Ctx(session=session, settings=Settings.from_mapping(current_app.config))
