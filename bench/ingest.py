"""Ingest benchmark: custody handoffs per second through the service layer, beside a ceiling.

Issue 2. For each backend (a temporary SQLite file, a throw-away PostgreSQL database) this
builds the schema with the application's own migrations, creates a tiny network (two
agencies, one KT1 post office, a registry clerk and a counter clerk) with
:mod:`kt1.services.directory`, registers envelopes, and then times:

* **service**: N counter acceptances (chấp nhận tại quầy, ``ACCEPTED``), each one call of
  :func:`kt1.services.custody.record_handoff`, so one transaction each, on N different
  envelopes taken in shuffled order. The receipt is ``AckMethod.SESSION`` (the counter
  clerk signs with their own logged-in session), so the scrypt hash of a PIN (tens of
  milliseconds by design) does not hide the cost of the custody write itself.
* **ceiling**: the same write work with the bare driver (``sqlite3`` / psycopg 3), one
  transaction each, every value precomputed: per handoff one ``scan`` INSERT, one
  ``handoff`` INSERT (a copy of a row the service wrote, moved to another envelope) and
  the same ``envelope`` UPDATE the service makes. The ceiling runs on its own registered
  envelopes, so its UPDATEs change the same indexed columns (status, holder).

Set-up is not timed. A first 100 envelopes are registered through
:func:`kt1.services.registration.register_envelope` (its rate is printed); the others are
cloned from the first in batches, each with its own S10 and register number and a first
link written by :func:`kt1.services.custody.append_link`, so every chain verifies (a sample
is re-hashed after the run). Registering 10,000 envelopes one by one would take most of
the time budget.

Both sides run with the application's durability settings: SQLite in WAL mode with
``synchronous=NORMAL`` and ``BEGIN IMMEDIATE``; PostgreSQL as the server is configured
(printed: ``synchronous_commit``, ``fsync``). After an untimed warm-up of both, service and
ceiling are timed in alternating rounds, so that other work on a shared machine slows both
alike; the load average is printed. Once ``--budget`` seconds (set-up included) have
passed, the service stops between two handoffs and the remaining rounds are skipped; both
figures then cover the same, smaller N. Usage::

    python bench/ingest.py [--n 5000] [--backend sqlite|postgres|both] [--profile]

The PostgreSQL server is taken from ``KT1_BENCH_PG`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); the benchmark database
``kt1_bench_<random>`` is created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import io
import os
import platform
import pstats
import random
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy import inspect as sa_inspect

# Run as a script from any checkout, installed or not.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kt1 import create_app
from kt1.database import MIGRATIONS_DIR
from kt1.extensions import db
from kt1.models import GENESIS_HASH, Counter, Envelope, Handoff, User
from kt1.models.enums import (
    AckMethod,
    Classification,
    EnvelopeStatus,
    EventKind,
    Role,
    UnitKind,
)
from kt1.services.access import Receipt
from kt1.services.chain import canonical, envelope_identity, link_hash
from kt1.services.context import Ctx, Settings
from kt1.services.custody import HandoffRequest, Link, append_link, record_handoff
from kt1.services.directory import add_unit, add_user, set_serving_offices
from kt1.services.identifiers import format_number, peek_value
from kt1.services.registration import EnvelopeDraft, register_envelope

PG_DSN = os.environ.get("KT1_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_PG_RATE = 1000.0  # handoffs/s on PostgreSQL (issue 2)
TARGET_RATIO = 0.40  # of the bare-driver ceiling (issue 2)
# Throw-away secrets for a throw-away database; nothing is kept.
SECRET_KEY = secrets.token_urlsafe(32)
SUBJECT_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
PASSWORD = secrets.token_hex(16)
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STEP = timedelta(milliseconds=10)  # between two scans at the counter
DELAY = timedelta(milliseconds=300)  # from the scan on the device to the server's clock
REGISTER_SAMPLE = 100  # registered through the service; the rest are cloned (see below)
ENVELOPE_SET = (
    "chain_length", "last_hash", "last_event_at", "status", "holder_unit_id",
    "holder_user_id", "accepted_at",
)


def cpu_ticks() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [float(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


class Clock:
    """The server clock the services read (``Ctx.now``): set by hand, never runs backwards."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = max(self.now, when)


@dataclass
class Timing:
    """Wall time of a timed run, and the CPU time this (client) process spent in it."""

    wall: float
    cpu: float

    def __add__(self, other: Timing) -> Timing:
        return Timing(self.wall + other.wall, self.cpu + other.cpu)

    @classmethod
    def of(cls, fn: Callable[[], None]) -> Timing:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return cls(time.perf_counter() - wall, time.process_time() - cpu)


@dataclass
class Result:
    """One backend's figures."""

    backend: str
    n: int
    service: Timing
    ceiling: Timing
    register_s: float
    register_n: int
    setup_s: float
    server: str
    notes: list[str]
    busy: float  # share of all CPUs busy during the timed rounds (any process)
    own: float  # share of all CPUs used by this process during the timed rounds

    @property
    def service_rate(self) -> float:
        return self.n / self.service.wall

    @property
    def ceiling_rate(self) -> float:
        return self.n / self.ceiling.wall

    @property
    def ratio(self) -> float:
        return self.service_rate / self.ceiling_rate


# --------------------------------------------------------------------------- databases


@contextmanager
def sqlite_database() -> Iterator[tuple[str, Path]]:
    """A fresh SQLite file in a temporary directory (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="kt1-bench-") as tmp:
        path = Path(tmp) / "bench.sqlite3"
        yield f"sqlite:///{path}", Path(tmp)


@contextmanager
def postgres_database() -> Iterator[tuple[str, Path]]:
    """A fresh PostgreSQL database ``kt1_bench_<random>``, dropped afterwards."""
    name = f"kt1_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="kt1-bench-") as tmp:
            yield f"{PG_DSN.rsplit('/', 1)[0]}/{name}", Path(tmp)
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_app(url: str, instance: Path, backend: str) -> Flask:
    """The real application on ``url``, schema at the migrations' head."""
    app = create_app({
        "SECRET_KEY": SECRET_KEY, "SUBJECT_KEY": SUBJECT_KEY, "INSTANCE_PATH": str(instance),
        "DATABASE_URL": url, "AUTO_MIGRATE": backend == "sqlite",
    })
    if backend == "postgres":
        import flask_migrate

        with app.app_context():
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
    return app


# --------------------------------------------------------------------------- set-up


#: Staff badge codes of the network's givers (they show the badge at the counter).
BADGES: dict[str, str] = {}


def make_network(ctx: Ctx) -> tuple[User, User]:
    """Sender and recipient agencies, one KT1 post office, a registry and a counter clerk."""
    add_unit(ctx, None, "BNV", "Bộ Nội vụ", UnitKind.AGENCY, "01", "Hà Nội")
    add_unit(ctx, None, "UBND-HCM", "UBND TP Hồ Chí Minh", UnitKind.AGENCY, "79",
             "TP Hồ Chí Minh")
    add_unit(ctx, None, "BC-HN", "Bưu cục KT1 Hà Nội", UnitKind.POST_OFFICE, "01", "Hà Nội")
    clerk, badge = add_user(ctx, None, "vt_bnv", "Văn thư BNV", Role.REGISTRY_CLERK, "BNV",
                            PASSWORD)
    BADGES[clerk.username] = badge
    counter, _ = add_user(ctx, None, "gd_hn", "Giao dịch viên HN", Role.COUNTER_CLERK,
                          "BC-HN", PASSWORD)
    set_serving_offices(ctx, None, "BNV", ["BC-HN"])
    return clerk, counter


def register_many(ctx: Ctx, clock: Clock, clerk: User, count: int) -> list[str]:
    """Register ``count`` envelopes BNV -> UBND-HCM through the service; their numbers."""
    numbers = []
    for i in range(count):
        clock.set(clock.now + STEP)
        envelope = register_envelope(ctx, clerk, EnvelopeDraft(
            classification=Classification.SECRET, recipient_unit_code="UBND-HCM",
            document_number=f"{i + 1}/CV-BNV",
            # a Tối mật item records these (docs/domain.md §8)
            drafter_name="Nguyễn Văn Soạn", signer_name="Trần Văn Ký",
            signer_title="Chánh Văn phòng",
            classification_basis="Khoản 2 Điều 1 Danh mục bí mật nhà nước"))
        numbers.append(envelope.number)
    return numbers


def clone_registered(ctx: Ctx, clock: Clock, clerk: User, template_number: str,
                     count: int, batch: int = 1000) -> list[str]:
    """``count`` more registered envelopes like ``template_number``, written in batches.

    Registering one envelope through the service costs several milliseconds, which would
    spend most of the time budget on set-up. Each clone gets its own S10 and register
    number and a genuine first link written by :func:`append_link` (the hash chain is
    valid), so the timed handoffs cannot tell a clone from a registered envelope.
    """
    session = ctx.session
    template = session.execute(
        select(Envelope).where(Envelope.number == template_number)).unique().scalar_one()
    keys = [a.key for a in sa_inspect(Envelope).column_attrs if a.key != "id"]
    base = {k: getattr(template, k) for k in keys}
    letters, country = ctx.settings.service_letters, ctx.settings.country_code
    serial = peek_value(session, f"s10:{letters}")
    year = template.register_year
    register_name = f"out:{template.sender_unit_id}:{year}"
    seq = peek_value(session, register_name)
    session.rollback()
    numbers: list[str] = []
    while len(numbers) < count:
        envelopes = []
        for _ in range(min(batch, count - len(numbers))):
            serial += 1
            seq += 1
            clock.set(clock.now + STEP)
            envelopes.append(Envelope(**{
                **base, "number": format_number(letters, serial, country),
                "register_seq": seq, "document_number": f"{seq}/CV-BNV",
                "registered_at": clock.now, "status": EnvelopeStatus.REGISTERED,
                "holder_unit_id": clerk.unit_id, "holder_user_id": clerk.id,
                "chain_length": 0, "last_hash": GENESIS_HASH, "last_event_at": None,
            }))
        session.add_all(envelopes)
        session.flush()  # ids, which the first link hashes
        for envelope in envelopes:
            append_link(ctx, envelope, Link(
                kind=EventKind.REGISTERED_OUTGOING, scan_id=f"reg-{uuid.uuid4()}",
                event_at=envelope.registered_at, recorded_by=clerk,
                to_unit_id=clerk.unit_id, to_user_id=clerk.id, location="BNV",
                ack_user_id=clerk.id, ack_method=AckMethod.SELF))
        session.execute(update(Counter).where(Counter.name == f"s10:{letters}")
                        .values(value=serial))
        session.execute(update(Counter).where(Counter.name == register_name)
                        .values(value=seq))
        numbers.extend(e.number for e in envelopes)
        session.commit()
    return numbers


# --------------------------------------------------------------------------- service


def service_run(ctx: Ctx, clock: Clock, counter: User, clerk: User, numbers: list[str],
                start: datetime, profile: cProfile.Profile | None = None,
                deadline: float = float("inf")) -> tuple[Timing, int]:
    """Accept each envelope at the counter, one ``record_handoff`` (one transaction) each.

    Stops early, between two handoffs, once ``time.perf_counter()`` passes ``deadline``;
    returns the timing and how many handoffs were recorded.
    """
    receipt = Receipt(user=counter, method=AckMethod.SESSION)
    # both sides present: the agency clerk shows her staff badge (issue 9)
    shown = Receipt(user=clerk, method=AckMethod.BADGE, secret=BADGES[clerk.username])
    requests = [
        HandoffRequest(
            number=number, kind=EventKind.ACCEPTED, scan_id=str(uuid.uuid4()),
            event_at=start + i * STEP, giver=clerk, receiver=counter, receipt=receipt,
            giver_receipt=shown, location="BC-HN", device="bench-scanner-01")
        for i, number in enumerate(numbers)
    ]
    done = 0

    def run() -> None:
        nonlocal done
        for req in requests:
            if done % 25 == 0 and time.perf_counter() > deadline:
                return
            clock.set(req.event_at + DELAY)
            record_handoff(ctx, counter, req)
            done += 1

    if profile is not None:
        profile.enable()
    try:
        return Timing.of(run), done
    finally:
        if profile is not None:
            profile.disable()


# --------------------------------------------------------------------------- ceiling


Row = tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]


class BareDriver:
    """The ceiling: the service's writes replayed with the bare DB-API driver.

    Each handoff is one transaction of three statements (INSERT scan, INSERT handoff,
    UPDATE envelope) with every value precomputed by :meth:`plan`. SQLite gets the
    application's pragmas and ``BEGIN IMMEDIATE``; PostgreSQL runs psycopg 3 as is.
    """

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.conn: Any
        if backend == "sqlite":
            self.mark = "?"
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("foreign_keys=ON", "busy_timeout=10000", "journal_mode=WAL",
                           "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
        else:
            self.mark = "%s"
            self.conn = psycopg.connect(url)
        self.sql: dict[str, str] = {}

    def close(self) -> None:
        self.conn.close()

    def _fetch(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _in(self, values: list[Any]) -> str:
        return f"IN ({', '.join([self.mark] * len(values))})"

    def plan(self, served: list[str], targets: list[str]) -> list[Row]:
        """Copy the service's ``accepted`` rows of ``served`` onto the ``targets`` envelopes."""
        numbers = served + targets
        envelopes = {r["number"]: r for r in self._fetch(
            f"SELECT * FROM envelope WHERE number {self._in(numbers)}", numbers)}
        ids = [envelopes[n]["id"] for n in served]
        handoffs = {r["envelope_id"]: r for r in self._fetch(
            f"SELECT * FROM handoff WHERE kind = 'accepted' AND envelope_id {self._in(ids)}",
            ids)}
        scan_ids = [h["scan_id"] for h in handoffs.values()]
        scans = {r["scan_id"]: r for r in self._fetch(
            f"SELECT * FROM scan WHERE scan_id {self._in(scan_ids)}", scan_ids)}
        if self.backend == "postgres":
            self.conn.commit()  # end the read transaction before the timed writes
        h_cols = [c for c in next(iter(handoffs.values())) if c != "id"]
        s_cols = list(next(iter(scans.values())))
        self.sql = {
            "scan": self._insert("scan", s_cols),
            "handoff": self._insert("handoff", h_cols),
            "envelope": (f"UPDATE envelope SET "
                         f"{', '.join(f'{c} = {self.mark}' for c in ENVELOPE_SET)} "
                         f"WHERE id = {self.mark}"),
        }
        rows = []
        for source_number, target_number in zip(served, targets, strict=True):
            source, target = envelopes[source_number], envelopes[target_number]
            h = dict(handoffs[source["id"]])
            scan = dict(scans[h["scan_id"]])
            scan_id = str(uuid.uuid4())
            new_hash = hashlib.sha256(f"ceiling:{scan_id}".encode()).hexdigest()
            scan["scan_id"] = scan_id
            h.update(envelope_id=target["id"], seq=target["chain_length"], scan_id=scan_id,
                     prev_hash=target["last_hash"], hash=new_hash)
            env = {**{c: source[c] for c in ENVELOPE_SET},
                   "chain_length": target["chain_length"] + 1, "last_hash": new_hash}
            rows.append((
                tuple(scan[c] for c in s_cols),
                tuple(h[c] for c in h_cols),
                (*(env[c] for c in ENVELOPE_SET), target["id"]),
            ))
        return rows

    def _insert(self, table: str, cols: list[str]) -> str:
        return (f"INSERT INTO {table} ({', '.join(cols)}) "
                f"VALUES ({', '.join([self.mark] * len(cols))})")

    def run(self, rows: list[Row]) -> Timing:
        conn, sql = self.conn, self.sql
        if self.backend == "sqlite":
            def run() -> None:
                for scan, handoff, env in rows:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.execute(sql["scan"], scan)
                    conn.execute(sql["handoff"], handoff)
                    conn.execute(sql["envelope"], env)
                    conn.execute("COMMIT")
        else:
            def run() -> None:
                for scan, handoff, env in rows:
                    conn.execute(sql["scan"], scan)
                    conn.execute(sql["handoff"], handoff)
                    conn.execute(sql["envelope"], env)
                    conn.commit()
        return Timing.of(run)


# --------------------------------------------------------------------------- one backend


def server_description(app: Flask, backend: str) -> tuple[str, list[str]]:
    with app.app_context():
        conn = db.session.connection()
        if backend == "sqlite":
            settings = [f"{p}={conn.exec_driver_sql(f'PRAGMA {p}').scalar()}"
                        for p in ("journal_mode", "synchronous")]
            db.session.rollback()
            return f"SQLite {sqlite3.sqlite_version}", settings
        ver = conn.exec_driver_sql("SHOW server_version").scalar()
        settings = [f"{p}={conn.exec_driver_sql(f'SHOW {p}').scalar()}"
                    for p in ("synchronous_commit", "fsync", "shared_buffers")]
        db.session.rollback()
        return f"PostgreSQL {ver}", settings


def run_backend(backend: str, n: int, warmup: int, rounds: int, budget: float,
                profile: bool) -> Result:
    """Build a fresh database for ``backend`` and time the service and the ceiling on it.

    The two are timed in alternating rounds (service, then ceiling, ``rounds`` times) so
    that other work on a shared machine slows both alike and the ratio stays meaningful.
    """
    began = time.perf_counter()
    deadline = began + budget
    database = sqlite_database() if backend == "sqlite" else postgres_database()
    with database as (url, instance):
        app = build_app(url, instance, backend)
        server, notes = server_description(app, backend)
        clock = Clock(START)
        with app.app_context():
            ctx = Ctx(session=db.session(), settings=Settings.from_mapping(app.config),
                      now=clock)
            clerk, counter = make_network(ctx)
            per_set = warmup + n
            sample = min(REGISTER_SAMPLE, 2 * per_set)
            print(f"[{backend}] registering {sample} envelopes through the service and "
                  f"{2 * per_set - sample} clones of them ...", flush=True)
            registering = time.perf_counter()
            numbers = register_many(ctx, clock, clerk, sample)
            register_s = time.perf_counter() - registering
            numbers += clone_registered(ctx, clock, clerk, numbers[0], 2 * per_set - sample)
            # Scans arrive in no particular order: shuffle, with a fixed seed.
            random.Random(2).shuffle(numbers)
            served, spare = numbers[:per_set], numbers[per_set:]
            setup_s = time.perf_counter() - began

            print(f"[{backend}] {n} handoffs through the service and {n} bare-driver "
                  f"transactions, in {rounds} alternating rounds ...", flush=True)
            bare = BareDriver(backend, url)
            profiler = cProfile.Profile() if profile else None
            service, ceiling = Timing(0.0, 0.0), Timing(0.0, 0.0)
            size = -(-n // rounds)
            bounds = [(0, warmup)] + [(warmup + i, min(warmup + i + size, per_set))
                                      for i in range(0, n, size)]
            done = 0
            ticks, cpu0 = cpu_ticks(), time.process_time()
            try:
                for k, (lo, hi) in enumerate(bounds):
                    if lo == hi:
                        continue
                    start = clock.now + timedelta(seconds=1)
                    timing, count = service_run(ctx, clock, counter, clerk, served[lo:hi],
                                                start, profiler if k else None,
                                                deadline if k else float("inf"))
                    if count:
                        bare_timing = bare.run(bare.plan(served[lo:lo + count],
                                                         spare[lo:lo + count]))
                        if k:  # round 0 is the warm-up
                            service, ceiling = service + timing, ceiling + bare_timing
                            done += count
                    if count < hi - lo:
                        notes.append(f"stopped by the {budget:.0f} s budget after {done} "
                                     f"of {n} handoffs")
                        break
            finally:
                bare.close()
            (busy0, total0), (busy1, total1) = ticks, cpu_ticks()
            ticks_spent = (total1 - total0) or float("nan")
            busy = (busy1 - busy0) / ticks_spent
            own = (time.process_time() - cpu0) * os.sysconf("SC_CLK_TCK") / ticks_spent
            if done == 0:
                raise SystemExit(f"{backend}: the {budget:.0f} s budget ran out during set-up")
            check_written(ctx, served[:warmup + done])
            db.session.remove()
            db.engine.dispose()
        if profiler is not None:
            print_profile(backend, profiler)
    return Result(backend=backend, n=done, service=service, ceiling=ceiling,
                  register_s=register_s, register_n=sample, setup_s=setup_s, server=server,
                  notes=notes, busy=busy, own=own)


def check_written(ctx: Ctx, numbers: list[str], sample: int = 200) -> None:
    """The service really wrote what we timed, and a sample of the chains verifies.

    A benchmark of no-ops, or of rows that break the hash chain, would be worthless.
    """
    session = ctx.session
    accepted = session.execute(select(func.count()).select_from(Envelope).where(
        Envelope.number.in_(numbers), Envelope.status == EnvelopeStatus.ACCEPTED,
        Envelope.chain_length == 2)).scalar_one()
    if accepted != len(numbers):
        raise SystemExit(f"expected {len(numbers)} accepted envelopes, found {accepted}")
    for number in random.Random(3).sample(numbers, min(sample, len(numbers))):
        envelope = session.execute(
            select(Envelope).where(Envelope.number == number)).unique().scalar_one()
        links = session.execute(select(Handoff).where(Handoff.envelope_id == envelope.id)
                                .order_by(Handoff.seq)).scalars().all()
        prev = GENESIS_HASH
        for link in links:
            identity = envelope_identity(envelope) if link.seq == 0 else None
            if link.prev_hash != prev or link.hash != link_hash(prev, canonical(link, identity)):
                raise SystemExit(f"hash chain of {number} does not verify at #{link.seq}")
            prev = link.hash
        if prev != envelope.last_hash:
            raise SystemExit(f"last_hash of {number} does not match its chain")
    session.rollback()


def print_profile(backend: str, profiler: cProfile.Profile) -> None:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(25)
    print(f"\n--- cProfile of the {backend} service run (figures above are inflated by it)")
    print(out.getvalue())


# --------------------------------------------------------------------------- report


def machine() -> list[str]:
    def ver(dist: str) -> str:
        try:
            return version(dist)
        except Exception:  # a missing distribution only costs a line of the report
            return "?"

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    return [
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, "
        f"{platform.system()} {platform.release()}",
        f"python {platform.python_version()}, SQLAlchemy {ver('SQLAlchemy')}, "
        f"Flask-SQLAlchemy {ver('Flask-SQLAlchemy')}, psycopg {ver('psycopg')} "
        f"(libpq {psycopg.pq.version()}), sqlite3 lib {sqlite3.sqlite_version}",
    ]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(results: list[Result], warmup: int, rounds: int, load: float) -> bool:
    """Print the figures beside the ceiling and the targets; True when every target is met."""
    print()
    for line in machine():
        print(line)
    for r in results:
        print(f"{r.backend}: {r.server}; {'; '.join(r.notes)}")
    print(f"set-up:   {REGISTER_SAMPLE} envelopes registered through the service, the others "
          "cloned in batches (own numbers, valid first links)")
    print("workload: ACCEPTED at the counter (giver = agency registry clerk, receiver = counter "
          "clerk), one envelope per handoff,")
    print("          one record_handoff call = one transaction each; receipt = SESSION and the "
          "giver shows her badge (SHA-256), so no scrypt PIN check is timed;")
    print(f"          {warmup} untimed warm-up transactions of each, then service and ceiling "
          f"timed in {rounds} alternating rounds")
    print("ceiling:  bare driver, one transaction each: INSERT scan + INSERT handoff + "
          "UPDATE envelope, values precomputed")
    print()
    head = (f"{'backend':<9} {'N':>6} {'service/s':>10} {'ceiling/s':>10} {'ratio':>7}   "
            f"{'>= 1000/s on PG':<16} {'>= 40% of ceiling':<17}")
    print(head)
    print("-" * len(head))
    ok = True
    for r in results:
        ratio_ok = r.ratio >= TARGET_RATIO
        if r.backend == "postgres":
            rate_ok = r.service_rate >= TARGET_PG_RATE
            rate = verdict(rate_ok)
        else:
            rate_ok, rate = True, "n/a"
        ok = ok and ratio_ok and rate_ok
        print(f"{r.backend:<9} {r.n:>6} {r.service_rate:>10,.0f} {r.ceiling_rate:>10,.0f} "
              f"{r.ratio:>6.1%}   {rate:<16} {verdict(ratio_ok):<17}")
    print()
    for r in results:
        per = 1000 / r.n
        print(f"{r.backend:<9} per transaction: service {r.service.wall * per:.2f} ms "
              f"(client CPU {r.service.cpu * per:.2f} ms), ceiling {r.ceiling.wall * per:.2f} ms "
              f"(client CPU {r.ceiling.cpu * per:.2f} ms)")
        print(f"{'':<9} CPUs busy while timed {r.busy:.0%} (this process {r.own:.0%}, the "
              f"rest: database server, other work); set-up {r.setup_s:.0f} s")
        print(f"{'':<9} registration through the service (set-up, not timed above): "
              f"{r.register_n / r.register_s:,.0f}/s")
    if load > 0.5:
        print(f"note: the 1-minute load average was {load:.2f} before the run: other work "
              "on this machine lowers the figures")
    print()
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="timed handoffs per backend")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed transactions first (default N/50, at most 100)")
    parser.add_argument("--rounds", type=int, default=10,
                        help="alternate service and ceiling in this many rounds (default 10)")
    parser.add_argument("--budget", type=float, default=55.0,
                        help="seconds per backend, set-up included, after which the timed "
                             "rounds stop early (default 55: both backends in about 2 minutes)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the service run and print the top costs")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        parser.error("--n and --rounds must be at least 1")
    warmup = args.warmup if args.warmup is not None else min(100, args.n // 50)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    load = os.getloadavg()[0]
    results = [run_backend(b, args.n, warmup, args.rounds, args.budget, args.profile)
               for b in backends]
    ok = report(results, warmup, args.rounds, load)
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
