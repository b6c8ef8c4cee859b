"""Two real processes writing at the same moment on PostgreSQL (issue 2, "Services").

Each child process builds its own app with ``create_app`` on the test's database, loads its
users, waits at a barrier shared with the other process, and then calls the service. Only
PostgreSQL is run: SQLite takes its write lock at BEGIN (``BEGIN IMMEDIATE``), so two
writers there never overlap, and the row-lock path under test does not exist.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import traceback
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kt1.models import Envelope, Handoff, Scan, User
from kt1.services import custody
from kt1.services.chain import canonical, envelope_identity, link_hash
from kt1.services.context import Ctx
from tests.conftest import Network, base_config, new_scan, pin
from tests.journey import register

pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    # Run for the PostgreSQL backend only (not skipped for SQLite: never collected for it).
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
]

LOSING_SLUGS = {"custody_conflict", "not_current_holder"}
ROUNDS = 6
REGISTRATIONS = 20
SPAWN = multiprocessing.get_context("spawn")


# --------------------------------------------------------------- child processes


def _child(task: str, url: str, instance: str, actor_name: str, items: list[str],
           barrier: Any, out: Any) -> None:
    """Entry point of a spawned process: its own app, session and users."""
    try:
        from kt1 import create_app
        from kt1.extensions import db
        from kt1.services.context import Settings

        app = create_app({**base_config(Path(instance)), "DATABASE_URL": url,
                          "AUTO_MIGRATE": False})
        with app.app_context():
            ctx = Ctx(db.session, Settings.from_mapping(app.config))
            users = {u.username: u for u in db.session.execute(select(User)).unique().scalars()}
            db.session.rollback()
            if task == "handoff":
                result = _race_handoffs(ctx, users, actor_name, items, barrier)
            else:
                result = _race_registrations(ctx, users, actor_name, barrier)
            db.session.remove()
            db.engine.dispose()
        out.put((actor_name, "ok", result))
    except BaseException:  # report everything to the parent rather than hang it
        barrier.abort()
        out.put((actor_name, "crash", traceback.format_exc()))


def _race_handoffs(ctx: Ctx, users: dict[str, User], actor_name: str, numbers: list[str],
                   barrier: Any) -> list[tuple[str, str]]:
    """Each round: the same envelope, accepted from vt_bnv by this process's counter clerk."""
    from kt1.errors import KT1Error

    clerk, giver = users[actor_name], users["vt_bnv"]
    results = []
    for number in numbers:
        barrier.wait(timeout=60)
        try:
            custody.accept_at_counter(ctx, clerk, number, giver, pin(clerk), new_scan(),
                                      datetime.now(UTC), giver_receipt=pin(giver))
            results.append((number, "ok"))
        except KT1Error as exc:
            results.append((number, exc.slug))
    return results


def _race_registrations(ctx: Ctx, users: dict[str, User], actor_name: str,
                        barrier: Any) -> list[str]:
    from kt1.services.registration import EnvelopeDraft, register_envelope

    clerk = users[actor_name]
    barrier.wait(timeout=60)
    numbers = []
    for i in range(REGISTRATIONS):
        envelope = register_envelope(ctx, clerk, EnvelopeDraft(
            classification="confidential", recipient_unit_code="UBND-HCM",
            document_number=f"{i + 1}/CV-{actor_name}"))
        numbers.append(envelope.number)
    return numbers


def run_pair(task: str, url: str, tmp: Path, actors: list[str],
             items: list[str]) -> dict[str, Any]:
    """Start one process per actor, let them meet at a barrier, and collect their results."""
    barrier = SPAWN.Barrier(len(actors))
    out = SPAWN.Queue()
    procs = [SPAWN.Process(target=_child, args=(task, url, str(tmp / name), name, items,
                                                 barrier, out), daemon=True)
             for name in actors]
    for p in procs:
        p.start()
    results: dict[str, Any] = {}
    try:
        for _ in procs:
            name, status, payload = out.get(timeout=240)
            assert status == "ok", f"{name} crashed:\n{payload}"
            results[name] = payload
    except queue.Empty:
        pytest.fail("a child process did not report within 240 s")
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
                p.join()
    assert all(p.exitcode == 0 for p in procs)
    return results


def assert_linear_chain(ctx: Ctx, envelope: Envelope) -> list[Handoff]:
    ctx.session.refresh(envelope)
    chain = custody.timeline(ctx, envelope)
    assert [h.seq for h in chain] == list(range(envelope.chain_length))
    prev = "0" * 64
    for h in chain:
        assert h.prev_hash == prev
        assert h.hash == link_hash(prev, canonical(
            h, envelope_identity(envelope) if h.seq == 0 else None))
        prev = h.hash
    assert envelope.last_hash == prev
    for before, after in itertools.pairwise(chain):
        assert after.from_user_id == before.to_user_id
    return chain


# --------------------------------------------------------------------------- tests


def test_two_processes_handing_over_the_same_envelope_at_once_exactly_one_wins(
        ctx: Ctx, network: Network, database_url: str, tmp_path: Path) -> None:
    envelopes = [register(ctx, network, document_number=f"{i}/KH-BNV") for i in range(ROUNDS)]
    numbers = [e.number for e in envelopes]
    ctx.session.commit()
    ctx.session.rollback()  # the parent holds no transaction while the children race

    results = run_pair("handoff", database_url, tmp_path, ["gd_hn", "gd2_hn"], numbers)

    slugs: Counter[str] = Counter()
    for round_no, number in enumerate(numbers):
        outcome = {name: dict(results[name])[number] for name in results}
        winners = [name for name, slug in outcome.items() if slug == "ok"]
        losers = [slug for slug in outcome.values() if slug != "ok"]
        assert len(winners) == 1, (round_no, outcome)
        assert len(losers) == 1 and losers[0] in LOSING_SLUGS, (round_no, outcome)
        slugs[losers[0]] += 1

        envelope = ctx.session.execute(
            select(Envelope).where(Envelope.number == number)).unique().scalar_one()
        chain = assert_linear_chain(ctx, envelope)
        assert len(chain) == 2 and envelope.chain_length == 2
        assert chain[1].to_user_id == network[winners[0]].id
        assert envelope.holder_user_id == network[winners[0]].id
    assert sum(slugs.values()) == ROUNDS

    # Nothing of the losing attempts was kept: one scan per handoff, none left over.
    handoffs = ctx.session.execute(select(func.count()).select_from(Handoff)).scalar_one()
    scans = ctx.session.execute(select(func.count()).select_from(Scan)).scalar_one()
    assert handoffs == 2 * ROUNDS and scans == ROUNDS
    duplicates = ctx.session.execute(
        select(Handoff.envelope_id, Handoff.seq).group_by(Handoff.envelope_id, Handoff.seq)
        .having(func.count() > 1)).all()
    assert duplicates == []


def test_two_processes_registering_at_once_never_get_the_same_number(
        ctx: Ctx, network: Network, database_url: str, tmp_path: Path) -> None:
    ctx.session.rollback()
    # Two registry clerks of the same unit: they also share the outgoing-register counter.
    results = run_pair("register", database_url, tmp_path, ["vt_bnv", "head_bnv"], [])

    numbers = results["vt_bnv"] + results["head_bnv"]
    assert len(numbers) == 2 * REGISTRATIONS
    assert len(set(numbers)) == len(numbers)
    rows = ctx.session.execute(
        select(Envelope.number, Envelope.register_seq, Envelope.sender_unit_id)).all()
    assert sorted(r.number for r in rows) == sorted(numbers)
    assert sorted(r.register_seq for r in rows) == list(range(1, 2 * REGISTRATIONS + 1))
    assert {r.sender_unit_id for r in rows} == {network["vt_bnv"].unit_id}
