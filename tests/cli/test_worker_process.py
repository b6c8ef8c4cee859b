"""``kt1 worker`` as a real process (docs/worker.md), against the loopback fake printer
(tests/fakes/printer.py) and a real database: a label sent while the printer is off prints
by itself, exactly once, when it is back (a running worker, and ``--once``); two workers at
once on PostgreSQL print every label once; SIGTERM stops the worker within 5 seconds and
leaves no job half-done; ``kt1 db upgrade`` refuses while a worker of another version
holds the lock, and ``--dry-run`` changes nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kt1.errors import PrinterOfflineError, WorkerRunningError
from kt1.models.base import utcnow
from kt1.models.printing import PrintAttempt, PrintJob, PrintJobState
from kt1.models.worker import WorkerHeartbeat
from kt1.services import printing
from kt1.services import worker as service
from kt1.services.context import Ctx
from tests.conftest import SUBJECT_KEY, Network
from tests.fakes.printer import FakePrinter
from tests.journey import register

KT1 = str(Path(sys.executable).parent / "kt1")
WS = "quay-1"
POLL = "0.1"


def env_for(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KT1_")}
    env.update({
        "KT1_DATABASE_URL": database_url, "KT1_SECRET_KEY": "test-secret-key-0123456789",
        "KT1_SUBJECT_KEY": SUBJECT_KEY, "KT1_INSTANCE_PATH": str(tmp_path),
        "KT1_WORKER_POLL_SECONDS": POLL, "KT1_CHECKPOINT_AT": "off",
        "KT1_NOTICE_EVERY_SECONDS": "3600", "KT1_PURGE_EVERY_SECONDS": "3600", **extra})
    return env


class Proc:
    """A ``kt1 worker`` process, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.log = log
        self.popen = subprocess.Popen([KT1, "worker", *args], env=env,
                                      stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.worker_id = f"{socket.gethostname()}:{self.popen.pid}"

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> float:
        """SIGTERM; seconds it took to exit."""
        started = time.monotonic()
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return time.monotonic() - started


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for proc in started:
        proc.stop()


def wait_for(what: Callable[[], Any], timeout: float = 60, every: float = 0.1) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = what()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"waited {timeout} s in vain")


def beating(ctx: Ctx, proc: Proc) -> bool:
    if proc.popen.poll() is not None:
        raise AssertionError(f"the worker exited: {proc.output()}")
    stopped = heartbeat(ctx, proc.worker_id)
    return stopped is not None and stopped[1] is None


def heartbeat(ctx: Ctx, worker_id: str) -> tuple[str, datetime | None] | None:
    """(worker id, stopped_at) of the worker's heartbeat row, read in a short transaction
    (on SQLite every transaction holds the write lock, so none is left open)."""
    ctx.session.rollback()
    row = ctx.session.execute(select(WorkerHeartbeat.worker_id, WorkerHeartbeat.stopped_at)
                              .where(WorkerHeartbeat.worker_id == worker_id)).first()
    ctx.session.rollback()
    return None if row is None else (row[0], row[1])


def job(ctx: Ctx, job_id: int) -> JobState:
    ctx.session.rollback()
    state, attempts = ctx.session.execute(select(PrintJob.state, PrintJob.attempts)
                                          .where(PrintJob.id == job_id)).one()
    ctx.session.rollback()
    return JobState(state, attempts)


@dataclass(frozen=True)
class JobState:
    state: PrintJobState
    attempts: int


def add_printer(ctx: Ctx, fake: FakePrinter) -> None:
    printing.add_printer(ctx, None, "nhan-1", fake.uri(), profile="TM-T20II", width_mm=80,
                         workstation=WS)


def send_while_off(ctx: Ctx, network: Network, number: str, ago: float = 0) -> int:
    """The clerk prints a label while the printer is off (``ago`` seconds in the past)."""
    clerk = Ctx(session=ctx.session, settings=ctx.settings,
                now=lambda: utcnow() - timedelta(seconds=ago))
    with pytest.raises(PrinterOfflineError) as err:
        printing.print_label(clerk, network["vt_bnv"], number, workstation=WS)
    ctx.session.rollback()
    return int(err.value.details["job_id"])


def test_a_label_sent_while_the_printer_is_off_prints_once_by_itself_when_it_is_back(
        app: Flask, ctx: Ctx, network: Network, database_url: str, tmp_path: Path,
        procs: list[Proc]) -> None:
    with FakePrinter(mode="closed") as fake:
        add_printer(ctx, fake)
        number = register(ctx, network).number
        job_id = send_while_off(ctx, network, number)
        proc = Proc(env_for(database_url, tmp_path), tmp_path / "worker.log")
        procs.append(proc)
        wait_for(lambda: beating(ctx, proc))
        time.sleep(1)  # rounds go by while the printer is still off
        assert fake.printouts() == [] and job(ctx, job_id).state is PrintJobState.QUEUED
        fake.mode = "online"
        wait_for(lambda: job(ctx, job_id).state is PrintJobState.DONE, timeout=60)
        time.sleep(1)  # and more rounds after it came out
        printouts = fake.printouts()
        assert len(printouts) == 1, "printed by itself, exactly once"
        assert printouts[0].code128 == [number]
        assert job(ctx, job_id).state is PrintJobState.DONE
        assert proc.stop() < 5 and proc.popen.returncode == 0


def test_kt1_worker_once_runs_one_round_that_prints_the_label_once(
        app: Flask, ctx: Ctx, network: Network, database_url: str, tmp_path: Path) -> None:
    with FakePrinter(mode="closed") as fake:
        add_printer(ctx, fake)
        number = register(ctx, network).number
        job_id = send_while_off(ctx, network, number, ago=11)  # its retry is due
        fake.mode = "online"
        env = env_for(database_url, tmp_path)
        once = subprocess.run([KT1, "worker", "--once"], env=env, capture_output=True,
                              text=True, timeout=120)
        assert once.returncode == 0, once.stderr
        assert "printed 1 of 1 job(s)" in once.stdout
        again = subprocess.run([KT1, "worker", "--once"], env=env, capture_output=True,
                               text=True, timeout=120)
        assert again.returncode == 0 and "printed 0 of 0 job(s)" in again.stdout
        assert len(fake.printouts()) == 1
        assert fake.printouts()[0].code128 == [number]
        assert job(ctx, job_id).attempts == 2  # the clerk's try, then the worker's
        assert service.live_workers(ctx) == [], "a finished --once worker is not running"
        ctx.session.rollback()


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite: one worker (docs/worker.md)
def test_two_workers_on_postgresql_print_every_label_exactly_once(
        app: Flask, ctx: Ctx, network: Network, database_url: str, tmp_path: Path,
        backend: str, procs: list[Proc]) -> None:
    with FakePrinter(mode="closed") as fake:
        add_printer(ctx, fake)
        numbers = [register(ctx, network).number for _ in range(8)]
        jobs = [send_while_off(ctx, network, n, ago=11) for n in numbers]
        fake.mode = "online"
        env = env_for(database_url, tmp_path)
        two = [Proc(env, tmp_path / f"worker-{i}.log") for i in (1, 2)]
        procs.extend(two)
        wait_for(lambda: all(job(ctx, j).state is PrintJobState.DONE for j in jobs), 90)
        for proc in two:
            wait_for(lambda p=proc: beating(ctx, p))  # type: ignore[misc]
        time.sleep(1)
        printed = sorted(p.code128[0] for p in fake.printouts())
        assert printed == sorted(numbers), "each label once, none twice"
        assert all(job(ctx, j).attempts == 2 for j in jobs)
        assert {w.worker_id for w in service.live_workers(ctx)} >= {p.worker_id for p in two}
        ctx.session.rollback()
        assert all(proc.stop() < 5 for proc in two)


def test_sigterm_stops_the_worker_within_5_seconds_with_no_job_half_done(
        app: Flask, ctx: Ctx, network: Network, database_url: str, tmp_path: Path,
        procs: list[Proc]) -> None:
    with FakePrinter() as fake:
        add_printer(ctx, fake)
        proc = Proc(env_for(database_url, tmp_path), tmp_path / "worker.log")
        procs.append(proc)
        wait_for(lambda: beating(ctx, proc))
        numbers = [register(ctx, network).number for _ in range(12)]
        jobs = [printing.queue_label(ctx, network["vt_bnv"], n, workstation=WS).id
                for n in numbers]
        ctx.session.rollback()

        def some_done() -> bool:
            return any(job(ctx, j).state is PrintJobState.DONE for j in jobs)

        wait_for(some_done, 60, every=0.02)
        took = proc.stop()
        assert took < 5, f"stopped in {took:.1f} s"
        assert proc.popen.returncode == 0
        assert "SIGTERM" in proc.output()
        states = [job(ctx, j).state for j in jobs]
        assert PrintJobState.PRINTING not in states, "no job left half-done"
        assert set(states) <= {PrintJobState.DONE, PrintJobState.QUEUED}
        unfinished = ctx.session.execute(select(func.count()).select_from(PrintAttempt).where(
            PrintAttempt.outcome.is_(None))).scalar_one()
        assert unfinished == 0
        assert len(fake.printouts()) == states.count(PrintJobState.DONE)
        beat = heartbeat(ctx, proc.worker_id)
        assert beat is not None and beat[1] is not None


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite: tests/services/test_worker.py
def test_on_postgresql_an_upgrade_waits_for_workers_of_another_version(
        app: Flask, ctx: Ctx, network: Network, database_url: str, tmp_path: Path,
        backend: str, procs: list[Proc]) -> None:
    env = env_for(database_url, tmp_path)
    proc = Proc(env, tmp_path / "worker.log")
    procs.append(proc)
    wait_for(lambda: beating(ctx, proc))
    # the worker holds the lock shared: code of another version may not upgrade
    with pytest.raises(WorkerRunningError) as err, service.upgrade_guard(ctx, version="9.9.9"):
        pass
    assert proc.worker_id in err.value.message and service.code_version() in err.value.message
    # this very version may (nothing to apply)
    same = subprocess.run([KT1, "db", "upgrade"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert same.returncode == 0, same.stderr
    assert proc.stop() < 5
    # with no worker left, the upgrade takes the lock exclusive, and a worker waits for it
    with service.upgrade_guard(ctx, version="9.9.9"):
        waiting = Proc(env, tmp_path / "waiting.log")
        procs.append(waiting)
        wait_for(lambda: "waiting: a database upgrade" in waiting.output(), 60)
        assert heartbeat(ctx, waiting.worker_id) is None
    wait_for(lambda: beating(ctx, waiting))


def test_db_upgrade_dry_run_lists_the_revisions_in_order_and_changes_nothing(
        tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    env = env_for(f"sqlite:///{path}", tmp_path)
    dry = subprocess.run([KT1, "db", "upgrade", "--dry-run"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert dry.returncode == 0, dry.stderr
    lines = [line.split() for line in dry.stdout.splitlines()[1:]]
    revisions = [parts[0] for parts in lines]
    assert revisions[0] == "0001", "every branch starts from the initial schema"
    assert "0016w" in revisions and len(revisions) == len(set(revisions))
    assert "initial schema" in dry.stdout
    import sqlite3

    tables = sqlite3.connect(path).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [], "a dry run changes nothing"
    done = subprocess.run([KT1, "db", "upgrade"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    after = subprocess.run([KT1, "db", "upgrade", "--dry-run"], env=env, capture_output=True,
                           text=True, timeout=120)
    assert after.returncode == 0 and "Nothing to apply" in after.stdout
