"""``kt1 backup`` / ``kt1 restore`` prove that a restore lost nothing (issue 14, docs/backup.md).

The demo network is backed up (PostgreSQL: the machine's real pg_dump/pg_restore; SQLite: the
online backup API), more scans are recorded, and the backup is restored into a new database:
``kt1 verify --all --checkpoint <backup>`` is clean against the backup's signed checkpoint,
every handoff id and chain head is as it was at the backup, and the later scans are the only
thing missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import select

from kt1 import create_app, demo
from kt1.errors import BackupToolMissingError
from kt1.extensions import db
from kt1.models import Envelope, Handoff, Unit, User
from kt1.models.enums import AckMethod, Classification, EnvelopeStatus, Role
from kt1.services import backup, checkpoints, custody
from kt1.services.access import Receipt
from kt1.services.context import Ctx, Settings
from kt1.services.registration import EnvelopeDraft, register_envelope
from tests.conftest import PG_DSN, _drop_pg, _pg_url, base_config, need, pg_reachable

KEY = base64.b64encode(hashlib.sha256(b"kt1 backup test checkpoint key").digest()).decode()
OTHER_KEY = base64.b64encode(hashlib.sha256(b"someone else's key").digest()).decode()


def _tools_present() -> bool:
    try:
        backup.pg_tool("pg_dump")
        backup.pg_tool("pg_restore")
    except BackupToolMissingError:
        return False
    return True


def _build_demo(url: str, tmp: Path) -> None:
    app = create_app({**base_config(tmp), "DATABASE_URL": url, "AUTO_MIGRATE": False,
                      "CHECKPOINT_KEY": KEY})
    with app.app_context():
        demo.build(Ctx(db.session, Settings.from_mapping(app.config)))
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_demo(sqlite_template: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
                ) -> Path:
    """A SQLite file holding the demo network, built once (the demo takes a while)."""
    tmp = tmp_path_factory.mktemp("demo-sqlite")
    path = tmp / "demo.sqlite3"
    shutil.copy(sqlite_template["bare"], path)
    _build_demo(f"sqlite:///{path}", tmp)
    return path


@pytest.fixture(scope="session")
def pg_demo(pg_template: dict[str, str] | None, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[str | None]:
    """A PostgreSQL template database holding the demo network, built once."""
    if pg_template is None:
        yield None
        return
    name = f"kt1_demo_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template["bare"]}"')
    try:
        _build_demo(_pg_url(name), tmp_path_factory.mktemp("demo-pg"))
        yield name
    finally:
        _drop_pg(name)


@pytest.fixture
def demo_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh copy of a database holding the demo network."""
    if backend == "sqlite":
        copy = tmp_path / "source.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_demo"), copy)
        yield f"sqlite:///{copy}"
        return
    need(pg_reachable(), f"PostgreSQL is not reachable at {PG_DSN}")
    need(_tools_present(), "pg_dump/pg_restore not found on PATH nor under "
                           "/usr/lib/postgresql/*/bin (install postgresql-client)")
    template = request.getfixturevalue("pg_demo")
    name = f"kt1_src_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    _drop_pg(name)


@pytest.fixture
def new_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Where to restore: a database that does not exist yet."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"kt1_restored_{uuid.uuid4().hex[:10]}"
    yield _pg_url(name)
    _drop_pg(name)


def _app(url: str, tmp: Path, key: str | None = KEY) -> Flask:
    config = {**base_config(tmp), "DATABASE_URL": url, "AUTO_MIGRATE": False}
    if key:
        config["CHECKPOINT_KEY"] = key
    return create_app(config)


def _cli(app: Flask, *args: str) -> Any:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
        db.session.remove()
        db.engine.dispose()
    return result


def _state(app: Flask) -> dict[str, Any]:
    """Every handoff id and every envelope's chain head (hash and length)."""
    with app.app_context():
        s = db.session
        handoffs = [r[0] for r in s.execute(select(Handoff.id).order_by(Handoff.id))]
        heads = {n: (h, c) for n, h, c in s.execute(select(
            Envelope.number, Envelope.last_hash, Envelope.chain_length))}
        db.session.remove()
        db.engine.dispose()
    return {"handoffs": handoffs, "heads": heads}


def _verify_json(app: Flask, *args: str) -> tuple[int, dict[str, Any]]:
    result = _cli(app, "verify", "--json", *args)
    return result.exit_code, json.loads(result.output)


def _statuses(report: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {e["number"]: (e["status"], sorted(f["code"] for f in e["findings"]))
            for e in report["envelopes"]}


def _more_scans(app: Flask) -> list[str]:
    """After the backup: a new envelope, and an existing one accepted at the counter."""
    with app.app_context():
        ctx = Ctx(db.session, Settings.from_mapping(app.config))
        users = {u.username: u for u in db.session.execute(select(User)).scalars()}
        new = register_envelope(ctx, users["vanthu.vptu"], EnvelopeDraft(
            classification=Classification.CONFIDENTIAL, recipient_unit_code="UBND-HCM",
            document_number="99/BC-VPTU"))
        waiting = db.session.execute(select(Envelope).where(
            Envelope.status == EnvelopeStatus.REGISTERED).order_by(Envelope.id)).scalars()
        for envelope in waiting:
            sender = db.session.get(Unit, envelope.sender_unit_id)
            assert sender is not None
            clerks = [u for u in users.values() if u.unit_id == sender.id
                      and u.role == Role.REGISTRY_CLERK and not u.is_unit_head and u.is_active]
            counters = [u for u in users.values() if u.role == Role.COUNTER_CLERK
                        and u.unit_id in {o.id for o in sender.serving_offices}]
            if clerks and counters:
                break
        else:
            pytest.fail("the demo has no registered envelope to accept")
        accepted = envelope.number
        custody.accept_at_counter(
            ctx, counters[0], accepted, clerks[0],
            Receipt(counters[0], AckMethod.PIN, demo.DEMO_PIN), str(uuid.uuid4()), ctx.now(),
            giver_receipt=Receipt(clerks[0], AckMethod.PIN, demo.DEMO_PIN))
        numbers = [new.number, accepted]
        db.session.remove()
        db.engine.dispose()
    return numbers


def test_a_restore_gives_back_exactly_the_backup_and_proves_it_against_its_checkpoint(
        backend: str, demo_url: str, new_url: str, tmp_path: Path) -> None:
    source = _app(demo_url, tmp_path)
    before = _state(source)
    code, report_before = _verify_json(source, "--all")
    assert code == 1 and report_before["summary"]["broken"] == 1  # the demo's torn bag seal
    out = tmp_path / "backup"
    result = _cli(source, "backup", "--output", str(out))
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    engine = {"sqlite": "sqlite", "postgres": "postgresql"}[backend]
    assert manifest["engine"] == engine
    assert set(manifest["files"]) == {backup.DATABASE_FILES[engine], "checkpoint.txt",
                                      "public-key.txt"}
    assert manifest["counts"]["handoff"] == len(before["handoffs"])
    assert manifest["counts"]["envelope"] == len(before["heads"])
    assert manifest["checkpoint"]["tree_size"] == len(before["handoffs"])
    assert manifest["checkpoint"]["last_handoff_id"] == before["handoffs"][-1]

    new_number, accepted = _more_scans(source)
    later = _state(source)
    assert len(later["handoffs"]) == len(before["handoffs"]) + 2
    assert later["heads"][accepted] != before["heads"][accepted]
    code, report = _verify_json(source, "--checkpoint", str(out))  # the live log extends it
    assert code == 0 and report["checkpoint"]["consistent"] is True

    result = _cli(source, "restore", str(out), "--to", new_url)
    assert result.exit_code == 0, result.output
    assert "kt1 verify --all --checkpoint" in result.output
    restored = _app(new_url, tmp_path / "elsewhere", key=None)  # a spare machine: no key
    after = _state(restored)
    assert after == before  # every handoff id and chain head, and nothing more
    assert new_number not in after["heads"]
    assert after["heads"][accepted] == before["heads"][accepted]

    code, report = _verify_json(restored, "--all", "--checkpoint", str(out))
    assert report.get("checkpoint", {}).get("consistent") is True, report
    assert report["checkpoint"]["tree_size"] == report["checkpoint"]["log_size"] == len(
        before["handoffs"])
    assert _statuses(report) == _statuses(report_before)
    assert code == 1 and report["summary"]["broken"] == 1  # the demo's own, as before
    result = _cli(restored, "checkpoint", "verify", str(out))
    assert result.exit_code == 0, result.output
    assert "OK" in result.output

    # restoring over it again is refused: it holds data now
    result = _cli(source, "restore", str(out), "--to", new_url)
    assert result.exit_code == 2
    assert "restore_target_not_empty" in result.output
    assert _state(restored) == before


def test_a_damaged_backup_is_refused_before_the_target_is_touched(
        backend: str, demo_url: str, new_url: str, tmp_path: Path) -> None:
    source = _app(demo_url, tmp_path)
    out = tmp_path / "backup"
    assert _cli(source, "backup", "-o", str(out)).exit_code == 0
    result = _cli(source, "backup", "-o", str(out))  # never over an existing backup
    assert result.exit_code == 2 and "backup_invalid" in result.output

    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    engine = {"sqlite": "sqlite", "postgres": "postgresql"}[backend]
    db_file = damaged / backup.DATABASE_FILES[engine]
    data = bytearray(db_file.read_bytes())
    data[len(data) // 2] ^= 0x01
    db_file.write_bytes(bytes(data))
    result = _cli(source, "restore", str(damaged), "--to", new_url)
    assert result.exit_code == 2
    assert "backup_checksum_mismatch" in result.output
    assert backup.DATABASE_FILES[engine] in result.output
    if backend == "sqlite":
        assert not Path(new_url.removeprefix("sqlite:///")).exists()
    else:
        with psycopg.connect(PG_DSN) as conn:
            assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (new_url.rsplit("/", 1)[1],)).fetchone() is None

    (damaged / "manifest.json").unlink()
    result = _cli(source, "restore", str(damaged), "--to", new_url)
    assert result.exit_code == 2 and "manifest.json" in result.output

    # a checkpoint signed with another key is refused, whatever key the backup carries
    result = _cli(source, "restore", str(out), "--to", new_url)
    assert result.exit_code == 0, result.output
    other = _app(new_url, tmp_path, key=OTHER_KEY)
    result = _cli(other, "verify", "--checkpoint", str(out))
    assert result.exit_code == 2 and "checkpoint_wrong_key" in result.output
    # and on a machine without a key, a public key given by hand must be the signer's
    wrong = tmp_path / "other.pub"
    wrong.write_text(checkpoints.public_hex(checkpoints.load_signing_key(OTHER_KEY)) + "\n")
    keyless = _app(new_url, tmp_path, key=None)
    result = _cli(keyless, "checkpoint", "verify", str(out), "--public-key", str(wrong))
    assert result.exit_code == 2 and "checkpoint_wrong_key" in result.output
    result = _cli(keyless, "checkpoint", "verify", str(out / "checkpoint.txt"))
    assert result.exit_code == 2 and "checkpoint_key_missing" in result.output

    # --force replaces a database that holds data (here: the restored one, from scratch)
    result = _cli(source, "restore", str(out), "--to", new_url, "--force")
    assert result.exit_code == 0, result.output


def test_restore_refuses_a_backup_of_the_other_engine(tmp_path: Path) -> None:
    out = tmp_path / "pg-backup"
    out.mkdir()
    (out / "database.dump").write_bytes(b"PGDMP")
    entry = {"bytes": 5, "sha256": hashlib.sha256(b"PGDMP").hexdigest()}
    (out / "manifest.json").write_text(json.dumps({
        "format": backup.FORMAT, "engine": "postgresql", "database_file": "database.dump",
        "schema_revisions": [], "counts": {}, "files": {"database.dump": entry}}))
    app = _app(f"sqlite:///{tmp_path / 'kt1.sqlite3'}", tmp_path)
    result = _cli(app, "restore", str(out), "--to", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    assert result.exit_code == 2 and "backup_engine_mismatch" in result.output
    assert not (tmp_path / "new.sqlite3").exists()
    # a server that does not answer: one clear line in both languages, no traceback
    result = _cli(app, "restore", str(out), "--to", "postgresql://kt1:pw@127.0.0.1:1/kt1")
    assert result.exit_code == 2
    assert "Lỗi [backup_tool_failed]: PostgreSQL báo lỗi: " in result.output
    assert "pw" not in result.output.replace("PostgreSQL", "")


def test_a_backup_altered_with_its_checksums_redone_restores_but_fails_the_proof(
        sqlite_demo: Path, tmp_path: Path) -> None:
    """The manifest only catches damage: whoever edits a handoff in the backup and writes
    new checksums gets a restore, but not past the checkpoint's consistency proof."""
    source_path = tmp_path / "source.sqlite3"
    shutil.copy(sqlite_demo, source_path)
    source = _app(f"sqlite:///{source_path}", tmp_path)
    out = tmp_path / "backup"
    assert _cli(source, "backup", "-o", str(out)).exit_code == 0
    dumped = out / "database.sqlite3"
    conn = sqlite3.connect(dumped)
    conn.execute("DROP TRIGGER handoff_no_update")
    conn.execute("UPDATE handoff SET hash = ? WHERE id = (SELECT min(id) + 7 FROM handoff)",
                 ("ab" * 32,))
    conn.commit()
    conn.close()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"]["database.sqlite3"] = {"bytes": dumped.stat().st_size,
                                             "sha256": backup.sha256_file(dumped)}
    (out / "manifest.json").write_text(json.dumps(manifest))

    target = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    assert _cli(source, "restore", str(out), "--to", target).exit_code == 0
    code, report = _verify_json(_app(target, tmp_path), "--all", "--checkpoint", str(out))
    assert code == 1
    assert report["checkpoint"]["consistent"] is False
    assert report["summary"]["broken"] == 2  # the demo's torn seal, and the edited chain
