"""Fixtures: a real database per test (SQLite file, and PostgreSQL when reachable).

Each backend is migrated once per session into a template (a SQLite file, a PostgreSQL
template database); every test then gets its own copy, so tests never share rows and
services commit for real (no flush-instead-of-commit tricks).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select

from kt1 import create_app
from kt1.extensions import db
from kt1.models import User
from kt1.models.enums import AckMethod, Role, UnitKind
from kt1.services.access import Receipt
from kt1.services.context import Ctx, Settings
from kt1.services.directory import add_unit, add_user, set_serving_offices

PG_DSN = os.environ.get("KT1_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
STRICT = os.environ.get("KT1_STRICT_SKIPS") == "1"
SUBJECT_KEY = "mK3P0Dh4bWlq3aVn8m7mE5X6o2u6t2JZbq3bJ0l4Jxw="
PASSWORD = "correct-horse-9"
PIN = "2468"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The run's peak memory (the suite stays under 600 MB: docs/testing.md)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:  # not Linux
        return
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    peak = int(fields.get("VmHWM", "0 kB").split()[0]) // 1024
    terminalreporter.write_line(f"peak memory of this test run: {peak} MB (aim: under 600 MB)")


def need(condition: bool, reason: str) -> None:
    """Skip with ``reason`` unless it holds; under KT1_STRICT_SKIPS=1 (CI) fail instead."""
    if not condition:
        if STRICT:
            pytest.fail(f"required in CI but unavailable: {reason}")
        pytest.skip(reason)


def pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def base_config(tmp: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-0123456789",
        "SUBJECT_KEY": SUBJECT_KEY,
        "INSTANCE_PATH": str(tmp),
    }


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two migrated SQLite files: ``bare`` (schema only) and ``network`` (the test network)."""
    tmp = tmp_path_factory.mktemp("sqlite-template")
    bare, net = tmp / "bare.sqlite3", tmp / "network.sqlite3"
    app = create_app({**base_config(tmp), "DATABASE_URL": f"sqlite:///{bare}"})
    with app.app_context():
        db.engine.dispose()
    shutil.copy(bare, net)
    app = create_app({**base_config(tmp), "DATABASE_URL": f"sqlite:///{net}"})
    with app.app_context():
        BADGES["sqlite"] = populate_network(Ctx(db.session, Settings.from_mapping(app.config)))
        db.session.remove()
        db.engine.dispose()
    return {"bare": bare, "network": net}


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str] | None]:
    """Two PostgreSQL template databases, ``bare`` and ``network``, cloned by every test."""
    if not pg_reachable():
        yield None
        return
    suffix = uuid.uuid4().hex[:10]
    bare, net = f"kt1_bare_{suffix}", f"kt1_net_{suffix}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{bare}"')
    tmp = tmp_path_factory.mktemp("pg")
    app = create_app({**base_config(tmp), "DATABASE_URL": _pg_url(bare), "AUTO_MIGRATE": False})
    import flask_migrate

    from kt1.database import MIGRATIONS_DIR

    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{net}" TEMPLATE "{bare}"')
    app = create_app({**base_config(tmp), "DATABASE_URL": _pg_url(net), "AUTO_MIGRATE": False})
    with app.app_context():
        BADGES["postgres"] = populate_network(Ctx(db.session, Settings.from_mapping(app.config)))
        db.session.remove()
        db.engine.dispose()
    yield {"bare": bare, "network": net}
    _drop_pg(net)
    _drop_pg(bare)


def _pg_url(name: str) -> str:
    base = PG_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


def _drop_pg(name: str) -> None:
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> Iterator[str]:
    """A fresh copy of the test network's database; ``@pytest.mark.bare_db`` for an empty one."""
    kind = "bare" if request.node.get_closest_marker("bare_db") else "network"
    if backend == "sqlite":
        templates = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kt1.sqlite3"
        shutil.copy(templates[kind], path)
        yield f"sqlite:///{path}"
        return
    pg_templates = request.getfixturevalue("pg_template")
    need(pg_templates is not None, f"PostgreSQL is not reachable at {PG_DSN}")
    name = f"kt1_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_templates[kind]}"')
    yield _pg_url(name)
    _drop_pg(name)


def forget_compiled_statements() -> None:
    """Empty the mappers' caches of compiled INSERT/UPDATE/DELETE statements.

    SQLAlchemy keeps them per mapper, not per engine (a 100-entry LRU each, keyed on the
    engine's dialect): after the test its engine is disposed, but the cache would keep that
    dialect and everything it compiled alive, some hundreds of dialects per mapper over the
    suite (docs/testing.md, "Memory"). A server has one engine and never needs this.
    """
    from kt1.models import Base

    for mapper in Base.registry.mappers:
        mapper._compiled_cache.clear()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app({**base_config(tmp_path), "DATABASE_URL": database_url})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    forget_compiled_statements()


@pytest.fixture
def ctx(app: Flask) -> Ctx:
    return Ctx(session=db.session, settings=Settings.from_mapping(app.config))


class Clock:
    """A server clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float = 5) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


@pytest.fixture
def clock(ctx: Ctx) -> Clock:
    c = Clock()
    ctx.now = c
    return c


UNITS = [
    ("BNV", "Bộ Nội vụ", UnitKind.AGENCY, "01", "Hà Nội"),
    ("UBND-HN", "UBND thành phố Hà Nội", UnitKind.AGENCY, "01", "Hà Nội"),
    ("UBND-HCM", "UBND TP Hồ Chí Minh", UnitKind.AGENCY, "79", "TP Hồ Chí Minh"),
    ("BC-HN", "Bưu cục KT1 Hà Nội", UnitKind.POST_OFFICE, "01", "Hà Nội"),
    ("BC-HCM", "Bưu cục KT1 TP Hồ Chí Minh", UnitKind.POST_OFFICE, "79", "TP Hồ Chí Minh"),
]
#: Which post offices accept each agency's envelopes.
SERVING = {"BNV": ["BC-HN"], "UBND-HN": ["BC-HN"], "UBND-HCM": ["BC-HCM"]}
PEOPLE = [
    ("vt_bnv", Role.REGISTRY_CLERK, "BNV", False),
    ("bm_bnv", Role.SECURITY_OFFICER, "BNV", False),
    ("head_bnv", Role.REGISTRY_CLERK, "BNV", True),
    ("vt_hn", Role.REGISTRY_CLERK, "UBND-HN", False),
    ("bm_hn", Role.SECURITY_OFFICER, "UBND-HN", False),
    ("vt_hcm", Role.REGISTRY_CLERK, "UBND-HCM", False),
    ("bm_hcm", Role.SECURITY_OFFICER, "UBND-HCM", False),
    ("head_hcm", Role.REGISTRY_CLERK, "UBND-HCM", True),
    ("cv_hcm", Role.REGISTRY_CLERK, "UBND-HCM", False),
    ("gd_hn", Role.COUNTER_CLERK, "BC-HN", False),
    ("gd2_hn", Role.COUNTER_CLERK, "BC-HN", False),
    ("bt_hn", Role.COURIER, "BC-HN", False),
    ("gd_hcm", Role.COUNTER_CLERK, "BC-HCM", False),
    ("bt_hcm", Role.COURIER, "BC-HCM", False),
    ("admin", Role.ADMINISTRATOR, "BC-HN", False),
]
BADGES: dict[str, dict[str, str]] = {}


def populate_network(ctx: Ctx) -> dict[str, str]:
    """Units and users of every role, built once into each backend's template."""
    for code, name, kind, pcode, pname in UNITS:
        add_unit(ctx, None, code, name, kind, pcode, pname, address=f"Trụ sở {name}")
    for agency, offices in SERVING.items():
        set_serving_offices(ctx, None, agency, offices)
    badges = {}
    for username, role, unit, head in PEOPLE:
        _user, badge = add_user(ctx, None, username, username.upper(), role, unit, PASSWORD,
                                pin=PIN, is_unit_head=head)
        badges[username] = badge
    return badges


@dataclass
class Network:
    """A small KT1 network: Hà Nội agencies and post office, one agency and office in
    TP Hồ Chí Minh, and users of every role (loaded from the test's own database)."""

    users: dict[str, User]
    badges: dict[str, str]

    def __getitem__(self, name: str) -> User:
        return self.users[name]


@pytest.fixture
def network(ctx: Ctx, backend: str) -> Network:
    users = {u.username: u for u in ctx.session.execute(select(User)).unique().scalars()}
    return Network(users=users, badges=BADGES[backend])


def pin(user: User) -> Receipt:
    return Receipt(user=user, method=AckMethod.PIN, secret=PIN)


def new_scan() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def snapshot(ctx: Ctx) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    """Every row of every table, to prove a refused request wrote nothing."""
    from kt1.models import Base

    def take() -> dict[str, list[tuple[Any, ...]]]:
        ctx.session.rollback()
        out = {}
        for table in Base.metadata.sorted_tables:
            rows = ctx.session.execute(table.select()).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
        ctx.session.rollback()
        return out

    return take


def pdf_text(data: bytes) -> str:
    """The text of a PDF as ``pdftotext -layout`` reads it (poppler-utils; skipped with a
    reason where it is missing, a failure under KT1_STRICT_SKIPS=1)."""
    import shutil
    import subprocess

    need(shutil.which("pdftotext") is not None,
         "pdftotext (poppler-utils) is not installed: apt-get install -y poppler-utils")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                         check=True, timeout=60)
    return out.stdout.decode("utf-8")
