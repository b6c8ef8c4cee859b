"""The background worker's rounds on both databases (kt1/services/worker.py, docs/worker.md):
the daily checkpoint is made once, notices are given once (inbox rows and emails to a real
loopback SMTP server), expired sign-in records are purged, the heartbeat is read back, and
``kt1 db upgrade`` refuses while a worker of another version runs (SQLite; PostgreSQL with a
real worker process is in tests/cli/test_worker_process.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from kt1.extensions import db
from kt1.models import Checkpoint, User, WebSession
from kt1.models.enums import IncidentKind
from kt1.models.signin import SignInAttempt
from kt1.models.worker import WorkerHeartbeat, WorkerNotice
from kt1.services import signin
from kt1.services import worker as service
from kt1.services.context import Ctx
from kt1.services.incidents import acknowledge, report_incident
from tests.conftest import Clock, Network
from tests.fakes.smtp import smtp_server
from tests.journey import carry, register

KEY = "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="  # 32 bytes, base64
SETTINGS = service.WorkerSettings(poll=0.1, checkpoint_at=time(2, 0), notice_every=0,
                                  purge_every=0)


def worker(ctx: Ctx, settings: service.WorkerSettings = SETTINGS, name: str = "test:1"
           ) -> service.Worker:
    return service.Worker(lambda: ctx, settings, db.engine, worker_id=name)


def count(ctx: Ctx, model: Any) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count()).select_from(model)).scalar_one())


def with_email(ctx: Ctx, network: Network, name: str, address: str) -> None:
    ctx.session.execute(update(User).where(User.id == network[name].id).values(email=address))
    ctx.session.commit()


# --------------------------------------------------------------------------- checkpoint


def test_the_daily_checkpoint_is_made_once_a_day_from_its_time_even_with_two_workers(
        app: Flask, ctx: Ctx, network: Network, clock: Clock, backend: str) -> None:
    app.config["CHECKPOINT_KEY"] = KEY
    ctx.settings = replace(ctx.settings, checkpoint_key=KEY)
    register(ctx, network)
    clock.now = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 01:30 in Vietnam: not yet
    first, second = worker(ctx, name="a:1"), worker(ctx, name="b:2")
    first.start()
    second.start()
    try:
        assert first.round().checkpoint is None and count(ctx, Checkpoint) == 0
        clock.now = datetime(2026, 11, 23, 19, 5, tzinfo=UTC)  # 02:05 in Vietnam
        if backend == "postgres":
            # while one worker is on the task, the other skips it that round
            with first.locks.task("checkpoint") as mine:
                assert mine
                assert "checkpoint" in second.round().skipped
            assert count(ctx, Checkpoint) == 0
        made = first.round().checkpoint
        assert made == 1
        assert second.round().checkpoint is None and first.round().checkpoint is None
        clock.now += timedelta(hours=20)  # 22:05 the same day in Vietnam
        assert second.round().checkpoint is None
        clock.now += timedelta(hours=4)  # 02:05 the next day
        assert second.round().checkpoint == 2 and first.round().checkpoint is None
        assert count(ctx, Checkpoint) == 2
    finally:
        first.finish()
        second.finish()


def test_the_checkpoint_time_is_a_setting_and_can_be_off() -> None:
    settings = service.WorkerSettings.from_mapping({"CHECKPOINT_AT": "23:30",
                                                    "WORKER_POLL_SECONDS": "0.25"})
    assert settings.checkpoint_at == time(23, 30) and settings.poll == 0.25
    assert service.WorkerSettings.from_mapping({"CHECKPOINT_AT": "off"}).checkpoint_at is None
    from kt1.errors import ConfigError

    with pytest.raises(ConfigError, match="KT1_CHECKPOINT_AT"):
        service.WorkerSettings.from_mapping({"CHECKPOINT_AT": "2 o'clock"})
    with pytest.raises(ConfigError, match="KT1_WORKER_POLL_SECONDS"):
        service.WorkerSettings.from_mapping({"WORKER_POLL_SECONDS": "soon"})


# --------------------------------------------------------------------------- notices


def test_overdue_and_unacknowledged_notices_go_to_the_inbox_and_by_email_never_twice(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with_email(ctx, network, "bm_bnv", "baomat@bnv.gov.vn")
    with_email(ctx, network, "head_bnv", "thutruong@bnv.gov.vn")
    late = register(ctx, network)
    carry(ctx, network, clock, late, until="dispatched")
    other = register(ctx, network)
    incident = report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE,
                               "bì bị rách ở góc", number=other.number)
    with smtp_server() as mailbox:
        mail = Ctx(session=ctx.session, now=clock,
                   settings=replace(ctx.settings, smtp_url=mailbox.url,
                                    public_url="https://kt1.lan"))
        assert service.give_notices(mail) == 0  # nothing late yet
        clock.now += timedelta(days=3)  # the incident's working day is over
        assert service.give_notices(mail) >= 2  # the incident: head_bnv and bm_bnv
        clock.now += timedelta(days=30)  # and the envelope is far past its deadline
        service.give_notices(mail)
        assert service.give_notices(mail) == 0, "never twice"
        first_batch = len(mailbox.messages)
        second = Ctx(session=ctx.session, now=clock, settings=mail.settings)
        assert service.give_notices(second) == 0 and len(mailbox.messages) == first_batch
    ctx.session.rollback()
    rows = ctx.session.execute(select(WorkerNotice.kind, WorkerNotice.ref, WorkerNotice.user_id,
                                      WorkerNotice.emailed_at)).all()
    kinds = {(k, ref, user) for k, ref, user, _e in rows}
    assert ("incident_unacknowledged", str(incident.id), network["head_bnv"].id) in kinds
    assert ("incident_unacknowledged", str(incident.id), network["bm_bnv"].id) in kinds
    assert ("overdue", late.number, network["bm_bnv"].id) in kinds
    assert len(kinds) == len(rows)
    emailed = sorted(r for m in mailbox.messages for r in m.recipients)
    assert emailed.count("baomat@bnv.gov.vn") == 2 and emailed.count("thutruong@bnv.gov.vn") == 1
    bodies = [m.message.get_content() for m in mailbox.messages]
    assert any(late.number in b and "quá chỉ tiêu" in b for b in bodies)
    assert any(f"https://kt1.lan/incidents/{incident.id}" in b for b in bodies)
    assert all("bì bị rách" not in b for b in bodies)  # never the report
    assert all(e is not None for k, _r, u, e in rows
               if u in (network["bm_bnv"].id, network["head_bnv"].id))
    # the user's inbox of worker notices
    assert {n.kind for n in service.notices_for(ctx, network["bm_bnv"])} == {
        "overdue", "incident_unacknowledged"}


def test_an_incident_acknowledged_in_time_is_never_noticed(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    incident = report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE, "rách",
                               number=env.number)
    acknowledge(ctx, network["head_bnv"], incident.id)
    clock.now += timedelta(days=10)
    assert service.give_notices(ctx) == 0 and count(ctx, WorkerNotice) == 0


# --------------------------------------------------------------------------- purge


def test_expired_sign_in_sessions_and_old_attempts_are_purged(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    user = network["vt_bnv"]
    ended = signin.start_session(ctx, user)
    signin.end_session(ctx, ended)
    signin.start_session(ctx, user)  # idle from now on
    clock.now += timedelta(days=3)
    fresh = signin.start_session(ctx, user)
    ctx.session.add(SignInAttempt(username="vt_bnv", at=clock.now - timedelta(days=91)))
    ctx.session.commit()
    settings = replace(SETTINGS, session_keep=timedelta(days=2))
    purged = service.purge(ctx, settings)
    assert (purged.sessions, purged.attempts) == (2, 1)
    ctx.session.rollback()
    left = ctx.session.execute(select(WebSession.token_hash)).scalars().all()
    assert left == [signin.session_digest(fresh)]
    assert signin.load_session_user(ctx, f"{user.id}.{user.session_epoch}", fresh) is not None
    assert service.purge(ctx, settings).sessions == 0


# --------------------------------------------------------------------------- heartbeat


def test_the_heartbeat_says_how_long_ago_a_worker_beat(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    assert service.heartbeat_age(ctx) is None
    one = worker(ctx)
    one.start()
    clock.now += timedelta(seconds=42)
    assert service.heartbeat_age(ctx) == timedelta(seconds=42)
    one.round()
    assert service.heartbeat_age(ctx) == timedelta(0)
    [row] = service.live_workers(ctx)
    assert (row.worker_id, row.version) == ("test:1", service.code_version())
    assert row.schema_heads == service.schema_heads_text() and "0016w" in row.schema_heads
    one.finish()
    assert service.live_workers(ctx) == []
    ctx.session.rollback()
    stored = ctx.session.get(WorkerHeartbeat, "test:1")
    assert stored is not None and stored.stopped_at == clock.now


# --------------------------------------------------------------------------- db upgrade


@pytest.mark.parametrize("backend", ["sqlite"])  # PostgreSQL: tests/cli/test_worker_process.py
def test_on_sqlite_an_upgrade_is_refused_while_a_worker_of_another_version_beats(
        app: Flask, ctx: Ctx, network: Network, backend: str) -> None:
    service.beat(ctx, "old-host:4242", "0.0.9", "0001,0010")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["db", "upgrade"])
    assert refused.exit_code == 2, refused.output
    assert "worker_running" in refused.output and "old-host:4242" in refused.output
    assert "0.0.9" in refused.output
    # the same version may run on: the upgrade goes ahead (nothing to apply)
    ctx.session.execute(update(WorkerHeartbeat).values(version=service.code_version(),
                                                       schema_heads=service.schema_heads_text()))
    ctx.session.commit()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    # an old worker whose heartbeat went stale is gone: no refusal
    ctx.session.execute(update(WorkerHeartbeat).values(
        version="0.0.9", beat_at=ctx.now() - timedelta(minutes=10)))
    ctx.session.commit()
    done = runner.invoke(args=["db", "upgrade"])
    assert done.exit_code == 0, done.output
    dry = runner.invoke(args=["db", "upgrade", "--dry-run"])
    assert dry.exit_code == 0 and "Nothing to apply" in dry.output


def test_a_refused_checkpoint_is_logged_and_not_tried_again_every_round(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    register(ctx, network)
    clock.now = datetime(2026, 11, 23, 19, 5, tzinfo=UTC)  # 02:05 in Vietnam; no key set
    one = worker(ctx)
    one.start()
    try:
        first = one.round()
        assert first.failed == ["checkpoint"] and first.checkpoint is None
        again = one.round()
        assert again.failed == [] and "checkpoint" not in again.skipped
        assert count(ctx, Checkpoint) == 0
    finally:
        one.finish()


def test_a_stop_asked_while_looking_for_notices_writes_nothing_and_the_next_look_does(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    late = register(ctx, network)
    carry(ctx, network, clock, late, until="dispatched")
    clock.now += timedelta(days=30)
    assert service.give_notices(ctx, stop=lambda: True) == 0
    assert count(ctx, WorkerNotice) == 0
    assert service.give_notices(ctx, stop=lambda: False) >= 1
