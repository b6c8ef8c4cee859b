"""Ingest benchmark: custody handoffs per second through the service layer, beside a ceiling.

Issue 2. For each backend (a temporary SQLite file, a throw-away PostgreSQL database) this
builds the schema with the application's own migrations, creates a tiny network (one
agency, one KT1 post office, a registry clerk and a counter clerk) and registers envelopes
through :func:`kt1.services.registration.register_envelope`. It then times:

* **service**: N counter acceptances (chấp nhận tại quầy, ``ACCEPTED``), each one call of
  :func:`kt1.services.custody.record_handoff`, so one transaction each, on N different
  envelopes. The receipt is ``AckMethod.SESSION`` (the counter clerk signs with their own
  logged-in session) so that the scrypt hash of a PIN, ~50 ms by design, does not hide
  the cost of the custody write itself.
* **ceiling**: the same write work with the bare driver (``sqlite3`` / psycopg 3), one
  transaction each, every value precomputed: per handoff one ``scan`` INSERT, one
  ``handoff`` INSERT (a copy of a row the service wrote, moved to a fresh envelope) and
  the same ``envelope`` UPDATE the service makes. The ceiling runs on its own freshly
  registered envelopes, so its UPDATEs change the same indexed columns (status, holder).

Both sides run with the application's durability settings: SQLite in WAL mode with
``synchronous=NORMAL`` and ``BEGIN IMMEDIATE``; PostgreSQL as the server is configured
(the script prints ``synchronous_commit`` and ``fsync``). A short untimed warm-up precedes
each timed run on both sides. Usage::

    python bench/ingest.py [--n 5000] [--backend sqlite|postgres|both] [--profile]

The PostgreSQL server is taken from ``KT1_BENCH_PG`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); the benchmark database
``kt1_bench_<random>`` is created there and dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import os
import platform
import pstats
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy import select

from kt1 import create_app
from kt1.database import MIGRATIONS_DIR
from kt1.extensions import db
from kt1.models import Envelope, User
from kt1.models.enums import AckMethod, Classification, EventKind, Role, UnitKind
from kt1.services.access import Receipt
from kt1.services.context import Ctx, Settings
from kt1.services.custody import HandoffRequest, record_handoff
from kt1.services.directory import add_unit, add_user
from kt1.services.registration import EnvelopeDraft, register_envelope

PG_DSN = os.environ.get("KT1_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
TARGET_PG_RATE = 1000.0  # handoffs/s on PostgreSQL (issue 2)
TARGET_RATIO = 0.40  # of the bare-driver ceiling (issue 2)
# Throw-away secrets for a throw-away database; nothing is kept.
SECRET_KEY = "bench-" + uuid.uuid4().hex
SUBJECT_KEY = "mK3P0Dh4bWlq3aVn8m7mE5X6o2u6t2JZbq3bJ0l4Jxw="
PASSWORD = uuid.uuid4().hex
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
STEP = timedelta(milliseconds=10)  # between two scans at the counter
DELAY = timedelta(milliseconds=300)  # from the scan on the device to the server's clock
ENVELOPE_SET = (
    "chain_length", "last_hash", "last_event_at", "status", "holder_unit_id",
    "holder_user_id", "accepted_at",
)


class Clock:
    """The server clock the services read (``Ctx.now``): set by hand, never runs backwards."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = max(self.now, when)


@dataclass
class Result:
    """One backend's figures."""

    backend: str
    n: int
    service_s: float
    ceiling_s: float
    register_s: float
    register_n: int
    server: str
    notes: list[str]

    @property
    def service_rate(self) -> float:
        return self.n / self.service_s

    @property
    def ceiling_rate(self) -> float:
        return self.n / self.ceiling_s

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
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIR))
    return app


# --------------------------------------------------------------------------- set-up


def make_network(ctx: Ctx) -> tuple[User, User]:
    """One agency, its registry clerk, one KT1 post office and its counter clerk."""
    add_unit(ctx, None, "BNV", "Bộ Nội vụ", UnitKind.AGENCY, "01", "Hà Nội")
    add_unit(ctx, None, "UBND-HCM", "UBND TP Hồ Chí Minh", UnitKind.AGENCY, "79",
             "TP Hồ Chí Minh")
    add_unit(ctx, None, "BC-HN", "Bưu cục KT1 Hà Nội", UnitKind.POST_OFFICE, "01", "Hà Nội")
    clerk, _ = add_user(ctx, None, "vt_bnv", "Văn thư BNV", Role.REGISTRY_CLERK, "BNV",
                        PASSWORD)
    counter, _ = add_user(ctx, None, "gd_hn", "Giao dịch viên HN", Role.COUNTER_CLERK,
                          "BC-HN", PASSWORD)
    return clerk, counter


def register_many(ctx: Ctx, clock: Clock, clerk: User, count: int) -> list[str]:
    """Register ``count`` envelopes BNV -> UBND-HCM through the service; their numbers."""
    numbers = []
    for i in range(count):
        clock.set(clock.now + STEP)
        envelope = register_envelope(ctx, clerk, EnvelopeDraft(
            classification=Classification.SECRET, recipient_unit_code="UBND-HCM",
            document_number=f"{i + 1}/CV-BNV"))
        numbers.append(envelope.number)
    return numbers


# --------------------------------------------------------------------------- service


def service_run(ctx: Ctx, clock: Clock, counter: User, clerk: User, numbers: list[str],
                start: datetime, profile: cProfile.Profile | None = None) -> float:
    """Accept each envelope at the counter, one ``record_handoff`` (one transaction) each."""
    receipt = Receipt(user=counter, method=AckMethod.SESSION)
    requests = [
        HandoffRequest(
            number=number, kind=EventKind.ACCEPTED, scan_id=str(uuid.uuid4()),
            event_at=start + i * STEP, giver=clerk, receiver=counter, receipt=receipt,
            location="BC-HN", device="bench-scanner-01")
        for i, number in enumerate(numbers)
    ]
    if profile is not None:
        profile.enable()
    began = time.perf_counter()
    for req in requests:
        clock.set(req.event_at + DELAY)
        record_handoff(ctx, counter, req)
    elapsed = time.perf_counter() - began
    if profile is not None:
        profile.disable()
    return elapsed


# --------------------------------------------------------------------------- ceiling


@dataclass
class CeilingPlan:
    """Precomputed statements and parameters for the bare-driver ceiling."""

    scan_sql: str
    handoff_sql: str
    envelope_sql: str
    rows: list[tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]]


def _fetch(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def plan_ceiling(conn: Any, mark: str, served: list[str], targets: list[str]) -> CeilingPlan:
    """Copy the service's ``accepted`` rows onto the ``targets`` envelopes, values precomputed.

    ``conn`` is a bare DB-API connection; ``mark`` its parameter marker (``?`` or ``%s``).
    """
    handoffs = {r["envelope_id"]: r for r in _fetch(
        conn, "SELECT * FROM handoff WHERE kind = 'accepted'")}
    scans = {r["scan_id"]: r for r in _fetch(conn, "SELECT * FROM scan")}
    envelopes = {r["number"]: r for r in _fetch(conn, "SELECT * FROM envelope")}
    h_cols = [c for c in next(iter(handoffs.values())) if c != "id"]
    s_cols = list(next(iter(scans.values())))

    def insert(table: str, cols: list[str]) -> str:
        return (f"INSERT INTO {table} ({', '.join(cols)}) "
                f"VALUES ({', '.join([mark] * len(cols))})")

    rows = []
    for source_number, target_number in zip(served, targets, strict=True):
        source = envelopes[source_number]
        target = envelopes[target_number]
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
    return CeilingPlan(
        scan_sql=insert("scan", s_cols),
        handoff_sql=insert("handoff", h_cols),
        envelope_sql=(f"UPDATE envelope SET {', '.join(f'{c} = {mark}' for c in ENVELOPE_SET)}"
                      f" WHERE id = {mark}"),
        rows=rows,
    )


def sqlite_ceiling(path: Path, served: list[str], targets: list[str], warmup: int) -> float:
    """sqlite3 with the app's pragmas; BEGIN IMMEDIATE ... COMMIT per handoff."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("foreign_keys=ON", "busy_timeout=10000", "journal_mode=WAL",
                       "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}")
        plan = plan_ceiling(conn, "?", served, targets)

        def one(scan: tuple[Any, ...], handoff: tuple[Any, ...], env: tuple[Any, ...]) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(plan.scan_sql, scan)
            conn.execute(plan.handoff_sql, handoff)
            conn.execute(plan.envelope_sql, env)
            conn.execute("COMMIT")

        for row in plan.rows[:warmup]:
            one(*row)
        began = time.perf_counter()
        for row in plan.rows[warmup:]:
            one(*row)
        return time.perf_counter() - began
    finally:
        conn.close()


def postgres_ceiling(url: str, served: list[str], targets: list[str], warmup: int) -> float:
    """psycopg 3, one transaction (three statements and a COMMIT) per handoff."""
    with psycopg.connect(url) as conn:
        plan = plan_ceiling(conn, "%s", served, targets)
        conn.commit()

        def one(scan: tuple[Any, ...], handoff: tuple[Any, ...], env: tuple[Any, ...]) -> None:
            conn.execute(plan.scan_sql, scan)
            conn.execute(plan.handoff_sql, handoff)
            conn.execute(plan.envelope_sql, env)
            conn.commit()

        for row in plan.rows[:warmup]:
            one(*row)
        began = time.perf_counter()
        for row in plan.rows[warmup:]:
            one(*row)
        return time.perf_counter() - began


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


def run_backend(backend: str, n: int, warmup: int, profile: bool) -> Result:
    """Build a fresh database for ``backend`` and time the service and the ceiling on it."""
    database = sqlite_database() if backend == "sqlite" else postgres_database()
    with database as (url, instance):
        app = build_app(url, instance, backend)
        server, notes = server_description(app, backend)
        clock = Clock(START)
        with app.app_context():
            ctx = Ctx(session=db.session, settings=Settings.from_mapping(app.config), now=clock)
            clerk, counter = make_network(ctx)
            per_set = warmup + n
            print(f"[{backend}] registering {2 * per_set} envelopes through the service ...",
                  flush=True)
            began = time.perf_counter()
            numbers = register_many(ctx, clock, clerk, 2 * per_set)
            register_s = time.perf_counter() - began
            # Scans arrive in no particular order: shuffle, with a fixed seed.
            random.Random(2).shuffle(numbers)
            served, spare = numbers[:per_set], numbers[per_set:]

            print(f"[{backend}] {n} service handoffs ...", flush=True)
            start = clock.now + timedelta(minutes=1)
            service_run(ctx, clock, counter, clerk, served[:warmup], start)
            profiler = cProfile.Profile() if profile else None
            service_s = service_run(ctx, clock, counter, clerk, served[warmup:],
                                    start + warmup * STEP, profiler)
            check_written(ctx, per_set)
            db.session.remove()
            db.engine.dispose()

        print(f"[{backend}] {n} bare-driver transactions ...", flush=True)
        if backend == "sqlite":
            ceiling_s = sqlite_ceiling(Path(url.removeprefix("sqlite:///")), served, spare,
                                       warmup)
        else:
            ceiling_s = postgres_ceiling(url, served, spare, warmup)
        if profiler is not None:
            print_profile(backend, profiler)
    return Result(backend=backend, n=n, service_s=service_s, ceiling_s=ceiling_s,
                  register_s=register_s, register_n=2 * per_set, server=server, notes=notes)


def check_written(ctx: Ctx, expected: int) -> None:
    """The service really wrote what we timed (a benchmark of no-ops would be worthless)."""
    accepted = ctx.session.execute(
        select(Envelope.id).where(Envelope.chain_length == 2)).all()
    ctx.session.rollback()
    if len(accepted) != expected:
        raise SystemExit(f"expected {expected} accepted envelopes, found {len(accepted)}")


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


def report(results: list[Result], warmup: int) -> bool:
    print()
    for line in machine():
        print(line)
    for r in results:
        print(f"{r.backend}: {r.server}; {', '.join(r.notes)}; set-up registered "
              f"{r.register_n} envelopes at {r.register_n / r.register_s:,.0f}/s")
    print("workload: ACCEPTED at the counter (giver = agency registry clerk, receiver = counter "
          "clerk), one envelope per handoff, one transaction each;")
    print("          receipt = SESSION (no scrypt PIN check); "
          f"{warmup} untimed warm-up transactions before each timed run")
    print("ceiling:  bare driver, one transaction each: INSERT scan + INSERT handoff + "
          "UPDATE envelope, values precomputed")
    print()
    head = (f"{'backend':<9} {'N':>6} {'service/s':>10} {'ceiling/s':>10} {'ratio':>7}   "
            f"{'>= 1000/s (PG)':<15} {'>= 40% ceiling':<15}")
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
              f"{r.ratio:>6.1%}   {rate:<15} {verdict(ratio_ok):<15}")
    print()
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="timed handoffs per backend")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed transactions first (default N/50, at most 100)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the service run and print the top costs")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    warmup = args.warmup if args.warmup is not None else min(100, args.n // 50)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = [run_backend(b, args.n, warmup, args.profile) for b in backends]
    ok = report(results, warmup)
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
