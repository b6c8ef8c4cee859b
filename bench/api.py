"""API benchmark: scans per second through gunicorn on PostgreSQL, beside the ceiling.

Issue 5. This builds a throw-away PostgreSQL database with the application's migrations,
a small network (two agencies, the Hà Nội KT1 post office, a registry clerk at each agency,
a counter clerk and a courier at the post office), a device token for the post office, and
registered envelopes; then it starts the real application under gunicorn (``wsgi:app``,
sync workers, ``2 × cores + 1`` of them by default) and drives it from another process
with concurrent clients, each on its own keep-alive-less HTTP/1.1 connection per request
(gunicorn's sync worker closes the connection after each answer):

* **ceiling**: ``GET /healthz``, a constant JSON body through the same app, the same
  before/after-request hooks and the same server: what the stack costs with no work.
* **single scans**: ``POST /api/v1/handoffs``, one counter acceptance (``accepted``) per
  request, each on its own envelope, so every request is a real custody write (scan id
  claimed, envelope row locked, chain link hashed and inserted, holder moved, commit).
  Requests/s, p50 and p99 latency as the clients saw them.
* **batched**: ``POST /api/v1/handoffs/batch`` with 498 scans each: 166 envelopes accepted
  at the counter, handed to a courier (``out_for_delivery``) and delivered (``delivered``),
  in that order, as a handheld syncing after a day offline would send them. Events/s.

The receiver signs every handoff by **badge** (``AckMethod.BADGE``, one SHA-256 of the
scanned badge code), not by PIN: a PIN is checked with scrypt, which costs tens of
milliseconds of CPU on purpose and would measure the key-derivation function, not the API.

Set-up is not timed. One envelope is registered through the service; the others are
cloned from it in bulk, each with its own S10 and register number and a genuine first
chain link (:func:`kt1.services.custody.append_link`). After the run every handoff is
counted in the database: each accepted scan must be there exactly once.

Usage::

    python bench/api.py [--workers 5] [--clients 8] [--seconds 10] [--batch-clients 2]
                        [--batches 40]

The PostgreSQL server is taken from ``KT1_BENCH_PG`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); the database ``kt1_bench_api_<random>``
is created there and dropped afterwards. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import func, select, update
from sqlalchemy import inspect as sa_inspect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kt1 import create_app  # noqa: E402
from kt1.database import MIGRATIONS_DIR  # noqa: E402
from kt1.extensions import db  # noqa: E402
from kt1.models import Counter, Envelope, Handoff  # noqa: E402
from kt1.models.enums import (  # noqa: E402
    AckMethod,
    Classification,
    EnvelopeStatus,
    EventKind,
    Role,
    UnitKind,
)
from kt1.models.envelopes import GENESIS_HASH  # noqa: E402
from kt1.services.context import Ctx, Settings  # noqa: E402
from kt1.services.custody import Link, append_link  # noqa: E402
from kt1.services.devices import add_device  # noqa: E402
from kt1.services.directory import add_unit, add_user, set_serving_offices  # noqa: E402
from kt1.services.identifiers import format_number, peek_value  # noqa: E402
from kt1.services.registration import EnvelopeDraft, register_envelope  # noqa: E402

PG_DSN = os.environ.get("KT1_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = secrets.token_urlsafe(32)
SUBJECT_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
PASSWORD = "bench-password-1"  # noqa: S105  (users of a throw-away database)
PER_BATCH_ENVELOPES = 166  # x 3 events = 498 scans per batch (the limit is 500)
AIM_SINGLE_RPS, AIM_P99_MS, AIM_BATCH_EPS = 400.0, 50.0, 5000.0


# --------------------------------------------------------------------------- set-up


def make_network(ctx: Ctx) -> dict[str, str]:
    """Units and people; returns the badge code of everyone who receives a handoff."""
    add_unit(ctx, None, "BNV", "Bộ Nội vụ", UnitKind.AGENCY, "01", "Hà Nội")
    add_unit(ctx, None, "UBND-HCM", "UBND TP Hồ Chí Minh", UnitKind.AGENCY, "79",
             "TP Hồ Chí Minh")
    add_unit(ctx, None, "BC-HN", "Bưu cục KT1 Hà Nội", UnitKind.POST_OFFICE, "01", "Hà Nội")
    badges = {}
    for username, role, unit in (("vt_bnv", Role.REGISTRY_CLERK, "BNV"),
                                 ("vt_hcm", Role.REGISTRY_CLERK, "UBND-HCM"),
                                 ("gd_hn", Role.COUNTER_CLERK, "BC-HN"),
                                 ("bt_hn", Role.COURIER, "BC-HN")):
        _user, badge = add_user(ctx, None, username, username.upper(), role, unit, PASSWORD)
        badges[username] = badge
    set_serving_offices(ctx, None, "BNV", ["BC-HN"])
    return badges


def registered_envelopes(ctx: Ctx, count: int, at: datetime) -> list[str]:
    """One envelope registered through the service, ``count - 1`` cloned from it in bulk."""
    from kt1.services.directory import find_user

    clerk = find_user(ctx, "vt_bnv")
    first = register_envelope(ctx, clerk, EnvelopeDraft(
        classification=Classification.SECRET, recipient_unit_code="UBND-HCM",
        document_number="1/CV-BNV", event_at=at,
        # a Tối mật item records these (docs/domain.md §8)
        drafter_name="Nguyễn Văn Soạn", signer_name="Trần Văn Ký",
        signer_title="Chánh Văn phòng",
        classification_basis="Khoản 2 Điều 1 Danh mục bí mật nhà nước"))
    session = ctx.session
    template = session.execute(
        select(Envelope).where(Envelope.number == first.number)).unique().scalar_one()
    keys = [a.key for a in sa_inspect(Envelope).column_attrs if a.key != "id"]
    base = {k: getattr(template, k) for k in keys}
    letters, country = ctx.settings.service_letters, ctx.settings.country_code
    serial = peek_value(session, f"s10:{letters}")
    register_name = f"out:{template.sender_unit_id}:{template.register_year}"
    seq = peek_value(session, register_name)
    clerk_unit, clerk_id = clerk.unit_id, clerk.id
    numbers = [first.number]
    session.commit()
    while len(numbers) < count:
        envelopes = []
        for _ in range(min(2000, count - len(numbers))):
            serial += 1
            seq += 1
            envelopes.append(Envelope(**{
                **base, "number": format_number(letters, serial, country),
                "register_seq": seq, "document_number": f"{seq}/CV-BNV", "registered_at": at,
                "status": EnvelopeStatus.REGISTERED, "holder_unit_id": clerk_unit,
                "holder_user_id": clerk_id, "chain_length": 0, "last_hash": GENESIS_HASH,
                "last_event_at": None,
            }))
        session.add_all(envelopes)
        session.flush()
        actor = find_user(ctx, "vt_bnv")
        for envelope in envelopes:
            append_link(ctx, envelope, Link(
                kind=EventKind.REGISTERED_OUTGOING, scan_id=f"reg-{uuid.uuid4()}",
                event_at=at, recorded_by=actor, to_unit_id=clerk_unit, to_user_id=clerk_id,
                location="BNV", ack_user_id=clerk_id, ack_method=AckMethod.SELF))
        session.execute(update(Counter).where(Counter.name == f"s10:{letters}")
                        .values(value=serial))
        session.execute(update(Counter).where(Counter.name == register_name).values(value=seq))
        numbers.extend(e.number for e in envelopes)
        session.commit()
    return numbers


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(url: str, instance: Path, workers: int, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KT1_DATABASE_URL": url, "KT1_SECRET_KEY": SECRET_KEY,
           "KT1_SUBJECT_KEY": SUBJECT_KEY, "KT1_INSTANCE_PATH": str(instance), "KT1_DEMO": "0"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    cmd = [str(gunicorn), "--workers", str(workers), "--worker-class", "sync",
           "--bind", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
           "--timeout", "120", "--chdir", str(ROOT), "wsgi:app"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- clients


def _call(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
          ) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def drive(port: int, token: str, badges: dict[str, str], plan: dict[str, Any],
          out: Any) -> None:
    """The load generator (its own process): every phase, its timings into ``out``."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    results: dict[str, Any] = {}

    def timed_phase(name: str, clients: int, seconds: float, make: Any) -> None:
        latencies: list[list[float]] = [[] for _ in range(clients)]
        statuses: list[dict[int, int]] = [{} for _ in range(clients)]
        stop_at = time.monotonic() + seconds

        def worker(i: int) -> None:
            k = 0
            while time.monotonic() < stop_at:
                req = make(i, k)
                if req is None:
                    break
                k += 1
                t0 = time.perf_counter()
                status, _body = _call(port, *req)
                latencies[i].append(time.perf_counter() - t0)
                statuses[i][status] = statuses[i].get(status, 0) + 1

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        flat = sorted(x for lat in latencies for x in lat)
        merged: dict[int, int] = {}
        for s in statuses:
            for code, n in s.items():
                merged[code] = merged.get(code, 0) + n
        results[name] = {"n": len(flat), "wall": wall, "statuses": merged,
                         "p50": flat[len(flat) // 2] if flat else 0.0,
                         "p99": flat[min(len(flat) - 1, int(len(flat) * 0.99))] if flat else 0.0,
                         "mean": statistics.fmean(flat) if flat else 0.0}

    clients, seconds = plan["clients"], plan["seconds"]
    # warm every worker (imports, connection pools) before anything is timed
    timed_phase("warmup", clients, 2.0, lambda i, k: ("GET", "/healthz", None, {}))
    timed_phase("ceiling", clients, seconds, lambda i, k: ("GET", "/healthz", None, {}))

    singles: list[str] = plan["singles"]
    share = len(singles) // clients

    def single(i: int, k: int) -> tuple[str, str, bytes, dict[str, str]] | None:
        if k >= share:
            return None
        body = {"scan_id": str(uuid.uuid4()), "operator": "gd_hn",
                "number": singles[i * share + k], "kind": "accepted", "event_at": _now(),
                "giver": "vt_bnv", "receiver": "gd_hn",
                "receipt": {"method": "badge", "secret": badges["gd_hn"]},
                "giver_receipt": {"method": "badge", "secret": badges["vt_bnv"]},
                "location": "BC-HN"}
        return "POST", "/api/v1/handoffs", json.dumps(body).encode(), auth

    timed_phase("single", clients, seconds, single)

    groups: list[list[str]] = plan["batches"]
    batch_clients = plan["batch_clients"]
    per_client = len(groups) // batch_clients

    def batch(i: int, k: int) -> tuple[str, str, bytes, dict[str, str]] | None:
        if k >= per_client:
            return None
        numbers = groups[i * per_client + k]
        at = _now()
        items = []
        for kind, operator, giver, receiver in (
                ("accepted", "gd_hn", "vt_bnv", "gd_hn"),
                ("out_for_delivery", "gd_hn", "gd_hn", "bt_hn"),
                ("delivered", "bt_hn", "bt_hn", "vt_hcm")):
            for number in numbers:
                item = {"scan_id": str(uuid.uuid4()), "operator": operator,
                        "number": number, "kind": kind, "event_at": at,
                        "giver": giver, "receiver": receiver,
                        "receipt": {"method": "badge", "secret": badges[receiver]}}
                if giver != operator:  # both sides present: the giver shows her badge
                    item["giver_receipt"] = {"method": "badge", "secret": badges[giver]}
                items.append(item)
        return "POST", "/api/v1/handoffs/batch", json.dumps({"items": items}).encode(), auth

    timed_phase("batch", batch_clients, plan["batch_seconds"], batch)
    out.put(results)


# --------------------------------------------------------------------------- report


def pct(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    cores = os.cpu_count() or 2
    parser.add_argument("--workers", type=int, default=2 * min(cores, 2) + 1,
                        help="gunicorn sync workers (default 2 x cores + 1, for 2 cores: 5)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent single-scan clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per timed phase")
    parser.add_argument("--batch-clients", type=int, default=2)
    parser.add_argument("--batches", type=int, default=40, help="batches of 498 scans")
    parser.add_argument("--batch-seconds", type=float, default=60.0,
                        help="stop the batch phase after this long")
    args = parser.parse_args(argv)

    single_envelopes = int(args.clients * args.seconds * 250)  # room for 2,000 scans/s
    batch_envelopes = args.batches * PER_BATCH_ENVELOPES
    name = f"kt1_bench_api_{uuid.uuid4().hex[:10]}"
    url = f"{PG_DSN.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        sync_commit = conn.execute("SHOW synchronous_commit").fetchone()
        fsync = conn.execute("SHOW fsync").fetchone()
    proc = None
    try:
        with tempfile.TemporaryDirectory(prefix="kt1-bench-api-") as tmp:
            instance = Path(tmp)
            app = create_app({"SECRET_KEY": SECRET_KEY, "SUBJECT_KEY": SUBJECT_KEY,
                              "INSTANCE_PATH": str(instance), "DATABASE_URL": url,
                              "AUTO_MIGRATE": False})
            import flask_migrate

            t0 = time.perf_counter()
            with app.app_context():
                flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
                ctx = Ctx(db.session, Settings.from_mapping(app.config))
                badges = make_network(ctx)
                _device, token = add_device(ctx, None, "bench-counter-01", "BC-HN")
                numbers = registered_envelopes(ctx, single_envelopes + batch_envelopes,
                                               datetime.now(UTC) - timedelta(hours=1))
                db.session.remove()
                db.engine.dispose()
            print(f"set-up: {len(numbers):,} registered envelopes in "
                  f"{time.perf_counter() - t0:.1f} s (not timed)")
            singles = numbers[:single_envelopes]
            rest = numbers[single_envelopes:]
            groups = [rest[i:i + PER_BATCH_ENVELOPES]
                      for i in range(0, len(rest), PER_BATCH_ENVELOPES)]
            port = free_port()
            proc = start_gunicorn(url, instance, args.workers, port)
            plan = {"clients": args.clients, "seconds": args.seconds, "singles": singles,
                    "batches": groups, "batch_clients": args.batch_clients,
                    "batch_seconds": args.batch_seconds}
            spawn = mp.get_context("spawn")
            out = spawn.Queue()
            client = spawn.Process(target=drive, args=(port, token, badges, plan, out))
            client.start()
            results = out.get(timeout=args.seconds * 4 + args.batch_seconds + 120)
            client.join(timeout=30)
            stop(proc)
            proc = None
            with app.app_context():
                stored = db.session.execute(select(Handoff.kind, func.count())
                                            .group_by(Handoff.kind)).all()
                distinct = db.session.execute(
                    select(func.count(func.distinct(Handoff.scan_id)))).scalar_one()
                total = db.session.execute(select(func.count()).select_from(Handoff)
                                           ).scalar_one()
                db.session.remove()
                db.engine.dispose()
    finally:
        if proc is not None:
            stop(proc)
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return report(args, results, dict(stored), distinct, total,
                  f"synchronous_commit={sync_commit[0] if sync_commit else '?'}, "
                  f"fsync={fsync[0] if fsync else '?'}")


def report(args: argparse.Namespace, r: dict[str, Any], stored: dict[Any, int],
           distinct: int, total: int, server: str) -> int:
    ceiling, single, batch = r["ceiling"], r["single"], r["batch"]
    single_ok = single["statuses"].get(201, 0)
    single_rps = single_ok / single["wall"]
    ceiling_rps = ceiling["n"] / ceiling["wall"]
    batch_requests = batch["statuses"].get(200, 0)
    # singles are all acceptances; a batch accepts, hands out and delivers
    batch_events = (stored.get(EventKind.ACCEPTED, 0) - single_ok
                    + stored.get(EventKind.OUT_FOR_DELIVERY, 0)
                    + stored.get(EventKind.DELIVERED, 0))
    batch_eps = batch_events / batch["wall"] if batch["wall"] else 0.0
    print()
    print(f"KT1 Track API benchmark: gunicorn {args.workers} sync workers on PostgreSQL "
          f"({server}), {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("receipts by staff badge (SHA-256), not PIN (scrypt)")
    print()
    print(f"{'':34}{'req/s':>10}{'p50':>11}{'p99':>11}  statuses")
    print(f"{'ceiling: GET /healthz':34}{ceiling_rps:>10.0f}{pct(ceiling['p50']):>11}"
          f"{pct(ceiling['p99']):>11}  {ceiling['statuses']}  ({args.clients} clients)")
    print(f"{'single scans: POST /handoffs':34}{single_rps:>10.0f}{pct(single['p50']):>11}"
          f"{pct(single['p99']):>11}  {single['statuses']}  ({args.clients} clients)")
    print(f"{'batches: POST /handoffs/batch':34}{batch_requests / batch['wall']:>10.2f}"
          f"{pct(batch['p50']):>11}{pct(batch['p99']):>11}  {batch['statuses']}  "
          f"({args.batch_clients} clients, 498 scans each)")
    print(f"{'  batched events':34}{batch_eps:>10.0f} events/s")
    print()
    print(f"single scans are {single_rps / ceiling_rps:.0%} of the ceiling's request rate")
    print(f"stored handoffs by kind: "
          f"{ {str(k): v for k, v in sorted(stored.items(), key=lambda kv: str(kv[0]))} }")
    dupes = total - distinct
    print(f"every scan stored once: {total:,} handoffs, {distinct:,} distinct scan ids "
          f"({'ok' if dupes == 0 else f'{dupes} DUPLICATES'})")
    ok_single = single_rps >= AIM_SINGLE_RPS and single["p99"] * 1000 < AIM_P99_MS
    ok_batch = batch_eps >= AIM_BATCH_EPS
    print(f"aim: >= {AIM_SINGLE_RPS:.0f} single scans/s with p99 < {AIM_P99_MS:.0f} ms: "
          f"{'met' if ok_single else 'NOT met'}; >= {AIM_BATCH_EPS:,.0f} batched events/s: "
          f"{'met' if ok_batch else 'NOT met'}")
    return 0 if dupes == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
