"""Every Alembic migration runs up and down on both databases, and matches the models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from kt1 import create_app
from kt1.database import MIGRATIONS_DIR, head_revisions
from kt1.extensions import db
from kt1.models import Base
from kt1.services.context import Ctx
from tests.conftest import (
    PG_DSN,
    Network,
    _drop_pg,
    _pg_url,
    base_config,
    need,
    pg_reachable,
)
from tests.journey import register

DIRECTORY = str(MIGRATIONS_DIR)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    need(pg_reachable(), f"PostgreSQL is not reachable at {PG_DSN}")
    name = f"kt1_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _drop_pg(name)


def test_migrations_upgrade_downgrade_and_upgrade_again_and_match_the_models(
        empty_url: str, tmp_path: Path) -> None:
    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_url,
                      "AUTO_MIGRATE": False})
    with app.app_context():
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        flask_migrate.downgrade(directory=DIRECTORY, revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        with db.engine.connect() as conn:
            versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        assert versions == head_revisions()
        db.engine.dispose()


def test_sqlite_database_is_created_and_migrated_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "instance" / "kt1.sqlite3"
    app = create_app({**base_config(tmp_path / "instance"), "DATABASE_URL": None})
    with app.app_context():
        assert path.exists()
        assert "handoff" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_handoff_rows_cannot_be_updated_or_deleted(ctx: Ctx, network: Network) -> None:
    register(ctx, network)
    for statement in ("UPDATE handoff SET note = 'x'", "DELETE FROM handoff"):
        with pytest.raises(DBAPIError, match="append-only"):
            ctx.session.execute(text(statement))
        ctx.session.rollback()


def test_the_serving_offices_migration_keeps_the_pairs_already_in_use(
        empty_url: str, tmp_path: Path) -> None:
    """An installation upgraded from before the serving relation keeps accepting what it did:
    every agency -> office pair of a handover sheet (or an acceptance) becomes a relation."""
    from kt1.models import Unit
    from kt1.models.enums import Role, UnitKind
    from kt1.services.context import Settings
    from kt1.services.directory import add_unit, add_user

    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_url,
                      "AUTO_MIGRATE": False})
    with app.app_context():
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        flask_migrate.downgrade(directory=DIRECTORY, revision="0006_handover")
        assert "serving_office" not in inspect(db.engine).get_table_names()
        ctx = Ctx(db.session, Settings.from_mapping(app.config))
        for code, kind in (("BNV", UnitKind.AGENCY), ("UBND-HCM", UnitKind.AGENCY),
                           ("BC-HN", UnitKind.POST_OFFICE), ("BC-HCM", UnitKind.POST_OFFICE)):
            add_unit(ctx, None, code, code, kind, "01", "Hà Nội")
        clerk, _ = add_user(ctx, None, "vt_bnv", "VT", Role.REGISTRY_CLERK, "BNV",
                            "correct-horse-9")
        # a sheet as the version before this migration wrote it (raw: the services of today
        # read the serving relation, which this database does not have yet)
        ctx.session.execute(text(
            "INSERT INTO handover_sheet (number, unit_id, year, seq, post_office_id, giver_id, "
            "status, created_at) SELECT 'GB-BNV-2026-00001', b.id, 2026, 1, p.id, :clerk, "
            "'open', CURRENT_TIMESTAMP FROM unit b, unit p "
            "WHERE b.code = 'BNV' AND p.code = 'BC-HN'"), {"clerk": clerk.id})
        ctx.session.commit()
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        db.session.expire_all()
        served = {u.code: [o.code for o in u.serving_offices]
                  for u in db.session.query(Unit).all()}
        assert served == {"BNV": ["BC-HN"], "UBND-HCM": [], "BC-HN": [], "BC-HCM": []}
        db.session.remove()
        db.engine.dispose()


def test_the_provenance_migration_keeps_every_envelope_and_its_hash(
        empty_url: str, tmp_path: Path) -> None:
    """Issue 11 item 4 on a database that already holds envelopes, on both engines: the
    new columns come and go without copying ``envelope`` (which every handoff references),
    the envelopes keep their rows and hashes, and their chains still verify."""
    from kt1.models import Envelope
    from kt1.models.enums import Classification, Role, UnitKind
    from kt1.services.context import Settings
    from kt1.services.directory import add_unit, add_user
    from kt1.services.registration import EnvelopeDraft, register_envelope
    from kt1.services.verify import verify

    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_url,
                      "AUTO_MIGRATE": False})
    with app.app_context():
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        ctx = Ctx(db.session, Settings.from_mapping(app.config))
        for code in ("BNV", "UBND-HCM"):
            add_unit(ctx, None, code, code, UnitKind.AGENCY, "01", "Hà Nội")
        clerk, _ = add_user(ctx, None, "vt_bnv", "VT", Role.REGISTRY_CLERK, "BNV",
                            "correct-horse-9")
        numbers = [register_envelope(ctx, clerk, EnvelopeDraft(
            classification=Classification.CONFIDENTIAL, recipient_unit_code="UBND-HCM",
            document_number=f"{i}/CV-BNV")).number for i in range(3)]
        db.session.remove()

        def hashes() -> dict[str, str]:
            """Read, then end the transaction: no lock may stay for the migrations."""
            db.session.rollback()
            found = {str(number): str(last) for number, last in db.session.execute(text(
                "SELECT number, last_hash FROM envelope ORDER BY number"))}
            db.session.rollback()
            return found

        before = hashes()
        flask_migrate.downgrade(directory=DIRECTORY, revision="provenance@-1")
        db.engine.dispose()  # forget the columns the inspector saw before
        columns = {c["name"] for c in inspect(db.engine).get_columns("envelope")}
        assert "signer_name" not in columns
        assert "provenance_rule" not in inspect(db.engine).get_table_names()
        assert hashes() == before
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        assert hashes() == before
        db.session.expire_all()
        assert [e.signer_name for e in db.session.query(Envelope).all()] == [None] * 3
        reports = list(verify(ctx, numbers))
        assert [r.findings for r in reports] == [[], [], []]
        db.session.remove()
        db.engine.dispose()


def test_the_protection_migration_computes_terms_where_the_document_date_is_known(
        empty_url: str, tmp_path: Path) -> None:
    """Issue 12 item 2 on a database that already holds documents: migration 0013 gives a
    document with a known date its term from the rule in force on that date; one without
    gets none, and verify flags it (docs/rules.md, rule P4). Hashes do not change."""
    from datetime import date

    from kt1.models import Envelope
    from kt1.models.enums import Classification, Role, UnitKind
    from kt1.services.context import Settings
    from kt1.services.directory import add_unit, add_user
    from kt1.services.registration import EnvelopeDraft, register_envelope
    from kt1.services.verify import verify

    app = create_app({**base_config(tmp_path), "DATABASE_URL": empty_url,
                      "AUTO_MIGRATE": False})
    with app.app_context():
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        ctx = Ctx(db.session, Settings.from_mapping(app.config))
        for code in ("BNV", "UBND-HCM"):
            add_unit(ctx, None, code, code, UnitKind.AGENCY, "01", "Hà Nội")
        clerk, _ = add_user(ctx, None, "vt_bnv", "VT", Role.REGISTRY_CLERK, "BNV",
                            "correct-horse-9")
        dated, undated, plain = (register_envelope(ctx, clerk, EnvelopeDraft(
            classification=c, recipient_unit_code="UBND-HCM", document_number=f"{i}/CV-BNV",
            document_date=d)).number for i, (c, d) in enumerate((
                (Classification.CONFIDENTIAL, date(2025, 6, 1)),
                (Classification.CONFIDENTIAL, None),
                (Classification.UNCLASSIFIED, date(2025, 6, 1)))))
        db.session.remove()

        def hashes() -> dict[str, str]:
            db.session.rollback()
            found = {str(number): str(last) for number, last in db.session.execute(text(
                "SELECT number, last_hash FROM envelope ORDER BY number"))}
            db.session.rollback()
            return found

        before = hashes()
        # the data as it was before terms were recorded
        flask_migrate.downgrade(directory=DIRECTORY, revision="protection_copies@-1")
        db.engine.dispose()
        assert "protection_until" not in {
            c["name"] for c in inspect(db.engine).get_columns("envelope")}
        flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
        assert hashes() == before
        db.session.expire_all()
        terms = {e.number: (e.classified_on, e.protection_until)
                 for e in db.session.query(Envelope).all()}
        assert terms == {dated: (date(2025, 6, 1), date(2035, 6, 1)), undated: (None, None),
                         plain: (None, None)}
        reports = {r.number: r.codes for r in verify(ctx, [dated, undated, plain])}
        assert reports == {dated: [], undated: ["protection_term_missing"], plain: []}
        db.session.remove()
        db.engine.dispose()
