"""Upgrades on live data (issue 14, docs/upgrades.md).

A PostgreSQL database is filled the way a year of work fills it, at an earlier schema:
bench/verify.py's COPY loader writes 20,000 envelopes (about 160,000 handoffs, bags and
manifests) at the oldest revisions that hold every column it writes (:data:`OLD_REVISIONS`),
and every later migration then runs on them up to the heads. The demo network (every stage,
incidents, sheets, copies) goes on top (it writes through today's models, so only at the
heads), and a checkpoint signs the log. Then every migration whose downgrade keeps what the
chain signs and what verify reads goes down on that live data and up again.
``kt1 verify --all --checkpoint`` must then prove the log unchanged and give every envelope
the verdict it had before the round trip.

Not taken down (their downgrade loses what the custody chain signs or verify reads;
docs/upgrades.md): see :data:`NOT_DOWNGRADED`.

Runs with ``KT1_TEST_PG`` set (as ``.ci/run`` does); it takes one to two minutes, most of it
loading.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import flask_migrate
import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from kt1 import create_app, demo
from kt1.database import MIGRATIONS_DIR, current_revisions, head_revisions
from kt1.extensions import db
from kt1.services import checkpoints
from kt1.services.context import Ctx, Settings
from tests.conftest import PG_DSN, _drop_pg, _pg_url, base_config, need, pg_reachable

ROOT = Path(__file__).resolve().parents[1]
DIRECTORY = str(MIGRATIONS_DIR)
ENVELOPES = 20_000
KEY = base64.b64encode(hashlib.sha256(b"kt1 upgrade test checkpoint key").digest()).decode()

#: The oldest revisions at which bench/verify.py's COPY loader finds every column it writes
#: (the envelope's protection columns come with 0013): it loads there, and every other
#: migration then runs on its 20,000 envelopes.
OLD_REVISIONS = ("0002", "0009", "0013")

#: Migrations this test does not take down, and why (docs/upgrades.md lists them too).
NOT_DOWNGRADED = {
    "0001": "the initial schema: its downgrade drops every table",
    "0002": "drops the installation id and the signed checkpoints (a new id afterwards "
            "makes every exported checkpoint 'another installation's')",
    "0006_handover": "drops the handover sheets (giấy giao nhận) that the paper receipts in "
                     "the chain name: verify then reports paper_receipt_unbound",
    "0011": "drops the internal handover sheets (phiếu chuyển giao nội bộ) that paper "
            "receipts inside a unit name: verify then reports paper_receipt_unbound",
    "0009": "drops the drafter, signer and classification basis, which the chain's first "
            "link signs (docs/domain.md §8)",
    "0013": "drops the copy facts, which the chain signs, the protection terms and decisions",
}


def _bench() -> ModuleType:
    """bench/verify.py as a module (its COPY loader; its pool forks, so it must be known)."""
    spec = importlib.util.spec_from_file_location("bench_verify", ROOT / "bench" / "verify.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_verify"] = module
    spec.loader.exec_module(module)
    return module


def _script() -> ScriptDirectory:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", DIRECTORY)
    return ScriptDirectory.from_config(cfg)


def _applied(script: ScriptDirectory) -> set[str]:
    """Every revision applied now: the current heads and all they stand on."""
    heads = tuple(current_revisions())
    return {r.revision for r in script.iterate_revisions(heads, "base") if r is not None}


def _verify(app: Any, checkpoint: Path) -> tuple[int, dict[str, Any]]:
    result = app.test_cli_runner().invoke(
        args=["verify", "--all", "--json", "--checkpoint", str(checkpoint)],
        catch_exceptions=False)
    db.session.remove()
    return result.exit_code, json.loads(result.output)


def _verdicts(report: dict[str, Any]) -> dict[str, tuple[str, int, list[str]]]:
    return {e["number"]: (e["status"], e["chain_length"],
                          sorted(f["code"] for f in e["findings"]))
            for e in report["envelopes"]}


@pytest.mark.postgres
@pytest.mark.slow
def test_migrations_run_on_live_data_loaded_at_old_revisions_and_verify_stays_clean(
        tmp_path: Path) -> None:
    need(bool(os.environ.get("KT1_TEST_PG")), "the upgrade test on live data (20,000 "
         "envelopes, about a minute) runs with KT1_TEST_PG set, as .ci/run does")
    need(pg_reachable(), f"PostgreSQL is not reachable at {PG_DSN}")
    name = f"kt1_upgrade_{uuid.uuid4().hex[:10]}"
    started = time.perf_counter()
    try:
        loaded = _bench().load(ENVELOPES, db_name=name, server=PG_DSN, quiet=True,
                               revisions=OLD_REVISIONS)
        app = create_app({**base_config(tmp_path), "DATABASE_URL": _pg_url(name),
                          "AUTO_MIGRATE": False, "CHECKPOINT_KEY": KEY})
        with app.app_context():
            script = _script()
            old = _applied(script)
            assert old == {"0001", *OLD_REVISIONS}, old
            flask_migrate.upgrade(directory=DIRECTORY, revision="heads")  # on 160,000 handoffs
            db.session.remove()
            first_upgrade = sorted(_applied(script) - old)
            assert len(first_upgrade) >= 12, first_upgrade
            ctx = Ctx(db.session, Settings.from_mapping(app.config))
            demo.build(ctx)
            checkpoint = checkpoints.create_checkpoint(ctx)
            assert checkpoint.tree_size > loaded["handoffs"]
            exported = tmp_path / "checkpoint.txt"
            exported.write_text(checkpoints.export_checkpoint(ctx), encoding="utf-8")
            db.session.remove()
            filled = time.perf_counter()

            code, before = _verify(app, exported)
            assert before["checkpoint"]["consistent"] is True
            verdicts = _verdicts(before)
            assert len(verdicts) >= ENVELOPES + 50
            assert before["summary"]["broken"] == 1, before["summary"]  # the demo's torn seal
            assert code == 1

            taken_down = []
            for revision in script.walk_revisions():  # newest first
                rev = revision.revision
                if rev in NOT_DOWNGRADED or rev not in _applied(script):
                    continue
                flask_migrate.downgrade(directory=DIRECTORY, revision=f"{rev}@-1")
                db.session.remove()
                assert rev not in _applied(script), rev
                taken_down.append(rev)
            assert _applied(script) == set(NOT_DOWNGRADED), _applied(script)
            assert len(taken_down) >= 9, taken_down
            down = time.perf_counter()

            flask_migrate.upgrade(directory=DIRECTORY, revision="heads")
            db.session.remove()
            assert current_revisions() == head_revisions()
            up = time.perf_counter()

            code, after = _verify(app, exported)
            assert after["checkpoint"]["consistent"] is True, after["checkpoint"]
            assert after["checkpoint"]["log_size"] == checkpoint.tree_size
            assert _verdicts(after) == verdicts
            assert after["summary"] == before["summary"]
            assert code == 1  # the demo's one broken envelope, nothing more
            db.session.remove()
            db.engine.dispose()
        print(f"\nupgrade on live data: {len(verdicts):,} envelopes, {checkpoint.tree_size:,} "
              f"handoffs loaded in {filled - started:.0f} s (the bench's at revisions "
              f"{', '.join(OLD_REVISIONS)}, then {len(first_upgrade)} migrations up to heads: "
              f"{', '.join(first_upgrade)}); {len(taken_down)} migrations "
              f"down in {down - filled:.1f} s (with a verify), up again in {up - down:.1f} s; "
              f"{time.perf_counter() - started:.0f} s in all")
    finally:
        _drop_pg(name)
