"""Statistics benchmark: one unit with 100,000 items on PostgreSQL (issue 12, item 3).

1. **Load** (not timed against any target): a fresh PostgreSQL database is migrated with the
   application's own migrations, then filled by ``COPY`` (not through the services): the
   agency ``CQ-T`` has ``--items`` items (default 100,000) over two years (2025 and 2026):
   55% sent by it and delivered elsewhere (5 links each; 5% of them still held, 2% of them
   copies of an earlier item), 40% sent to it and registered on arrival (5 links), 5% held
   then declassified and half of those destroyed. ``--background`` more items (default
   200,000) travel between eight other agencies, so the tables are not the unit's alone;
   a few hundred incidents are opened. The chains' hashes are placeholders: statistics
   read counts, not hashes (``bench/verify.py`` times verification).
2. **Measure**: :func:`kt1.services.statistics.compute` for the unit over an old quarter
   (most items move after its end), a recent quarter, a year and the two years, ``--runs``
   times each in this process after one warm-up run; prints the minimum and the median
   beside the 2 s ceiling.

Usage::

    python bench/statistics.py [--items 100000] [--background 200000] [--keep]
    python bench/statistics.py --reuse kt1_bench_statistics

``KT1_BENCH_PG`` names the server (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
The database ``kt1_bench_statistics`` is dropped afterwards unless ``--keep``; ``--reuse``
skips the load and measures an existing database.
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.verify import PG_DSN, _n, _url  # the verify benchmark's COPY text and database
from kt1.services.identifiers import format_number

DB_NAME = "kt1_bench_statistics"
UNIT = "CQ-T"
CEILING = 2.0
START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
SPAN_SECONDS = 2 * 365 * 86400 - 7 * 86400
CLASSES = [("top_secret", "A", 2), ("secret", "B", 1), ("confidential", "C", 1),
           ("unclassified", None, 1)]
CLASS_WEIGHTS = [5, 25, 50, 20]

ENV_COLS = ("id", "number", "classification", "mark", "layers", "service", "route", "urgency",
            "sender_unit_id", "recipient_unit_id", "recipient_name", "is_addressee_only",
            "document_number", "copies", "register_year", "register_seq", "incoming_year",
            "incoming_seq", "registered_at", "registered_by_id", "status", "holder_unit_id",
            "holder_user_id", "chain_length", "last_hash", "last_event_at", "copy_of_id",
            "copy_no", "copy_total")
HANDOFF_COLS = ("id", "envelope_id", "seq", "kind", "scan_id", "from_unit_id", "from_user_id",
                "to_unit_id", "to_user_id", "location", "event_at", "recorded_at",
                "seal_state", "count", "device", "recorded_by_id", "note", "prev_hash", "hash")
INCIDENT_COLS = ("id", "kind", "status", "envelope_id", "unit_id", "reported_by_id", "report",
                 "details", "opened_at")


def _ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S+00")


# Units: 1 the measured agency, 2 the post office, 3..10 other agencies. Users: the clerk of
# each agency has the agency's id; the counter clerk 11 and the courier 12 are at the office.
OFFICE, CLERK, COURIER = 2, 11, 12
OTHERS = list(range(3, 11))


class Writer:
    """Rows as COPY text, flushed to the database by table."""

    def __init__(self) -> None:
        self.env: list[str] = []
        self.hand: list[str] = []
        self.inc: list[str] = []
        self.handoff_id = 0

    def envelope(self, row: dict[str, Any]) -> None:
        self.env.append("\t".join(_n(row.get(c)) for c in ENV_COLS))

    def links(self, eid: int, chain: list[tuple[str, int | None, int, datetime]]) -> None:
        for seq, (kind, frm, to, at) in enumerate(chain):
            self.handoff_id += 1
            hid = self.handoff_id
            row = {"id": hid, "envelope_id": eid, "seq": seq, "kind": kind,
                   "scan_id": f"s{hid}", "from_unit_id": frm, "from_user_id": _user(frm),
                   "to_unit_id": to, "to_user_id": _user(to), "location": "",
                   "event_at": _ts(at), "recorded_at": _ts(at + timedelta(seconds=2)),
                   "seal_state": "not_applicable", "count": 1, "device": "bench",
                   "recorded_by_id": _user(to), "note": "", "prev_hash": f"{hid - 1:064x}",
                   "hash": f"{hid:064x}"}
            self.hand.append("\t".join(_n(row[c]) for c in HANDOFF_COLS))


def _user(unit: int | None) -> int | None:
    if unit is None:
        return None
    return CLERK if unit == OFFICE else unit


def generate(items: int, background: int) -> Writer:
    rng = random.Random(12)
    w = Writer()
    sent_ids: list[int] = []
    copies: dict[int, int] = {}  # original -> copies made so far ("Bản số n")
    total = items + background
    for k in range(total):
        eid = k + 1
        at = START + timedelta(seconds=SPAN_SECONDS * k / total + rng.randrange(600))
        cls, mark, layers = rng.choices(CLASSES, CLASS_WEIGHTS)[0]
        service = rng.choices(["standard", "flash", "timed"], [70, 20, 10])[0]
        mine = k % (total // items if items else 1) == 0 and k // max(1, total // items) < items
        r = rng.random()
        copy_of = None
        if mine and r < 0.55:
            sender, recipient = 1, rng.choice(OTHERS)
            if rng.random() < 0.02 and sent_ids:
                copy_of = rng.choice(sent_ids)
                copies[copy_of] = copies.get(copy_of, 0) + 1
            else:
                sent_ids.append(eid)
            still_held = rng.random() < 0.05
        elif mine and r < 0.95:
            sender, recipient, still_held = rng.choice(OTHERS), 1, False
        elif mine:
            sender, recipient, still_held = 1, rng.choice(OTHERS), True
        else:
            sender, recipient = rng.sample(OTHERS, 2)
            still_held = False
        chain: list[tuple[str, int | None, int, datetime]] = [
            ("registered_outgoing", None, sender, at)]
        status, holder = "registered", sender
        if mine and r >= 0.95:  # held, then declassified, half of them destroyed
            chain.append(("declassified", sender, sender, at + timedelta(days=20)))
            if rng.random() < 0.5:
                chain.append(("destroyed", sender, sender, at + timedelta(days=40)))
                status = "destroyed"
        elif not still_held:
            chain += [("accepted", sender, OFFICE, at + timedelta(hours=1)),
                      ("out_for_delivery", OFFICE, OFFICE, at + timedelta(hours=3)),
                      ("delivered", OFFICE, recipient, at + timedelta(hours=5)),
                      ("registered_incoming", recipient, recipient,
                       at + timedelta(hours=5, minutes=20))]
            status, holder = "arrived", recipient
        last = chain[-1][3]
        w.envelope({
            "id": eid, "number": format_number("KT", eid, "VN"), "classification": cls,
            "mark": mark, "layers": layers, "service": service,
            "route": "intra_province", "urgency": "normal", "sender_unit_id": sender,
            "recipient_unit_id": recipient, "recipient_name": "", "is_addressee_only": False,
            "document_number": f"{eid % 900 + 100}/CV", "copies": 1,
            "register_year": 2026, "register_seq": eid,
            "incoming_year": 2026 if status == "arrived" else None,
            "incoming_seq": eid if status == "arrived" else None,
            "registered_at": _ts(at), "registered_by_id": sender, "status": status,
            "holder_unit_id": holder, "holder_user_id": _user(holder),
            "chain_length": len(chain), "last_hash": f"{w.handoff_id + len(chain):064x}",
            "last_event_at": _ts(last), "copy_of_id": copy_of,
            "copy_no": copies[copy_of] if copy_of else None,
            "copy_total": copies[copy_of] if copy_of else None})
        w.links(eid, chain)
        if rng.random() < 0.002:
            w.inc.append("\t".join(_n(v) for v in [
                len(w.inc) + 1, rng.choice(["seal_anomaly", "discrepancy", "loss", "damage"]),
                "resolved", eid, recipient, _user(recipient), "bench", "{}",
                _ts(at + timedelta(hours=6))]))
    return w


def load(items: int, background: int) -> float:
    """Create, migrate and fill the benchmark database; returns the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    import flask_migrate

    from kt1 import create_app
    from kt1.database import MIGRATIONS_DIR

    app = create_app(_config(DB_NAME))
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
    w = generate(items, background)
    with psycopg.connect(_url(DB_NAME)) as conn, conn.cursor() as cur:
        units = [(1, UNIT, "Cơ quan đo thống kê", "agency"),
                 (OFFICE, "BC-T", "Bưu cục KT1", "post_office"),
                 *((u, f"CQ-{u:02d}", f"Cơ quan {u:02d}", "agency") for u in OTHERS)]
        for uid, code, name, kind in units:
            cur.execute("INSERT INTO unit (id, code, name, kind, province_code, province_name, "
                        "address, parent_name, created_at) VALUES "
                        "(%s,%s,%s,%s,'01','Hà Nội','','',now())", (uid, code, name, kind))
        people = [(u, f"vt{u:02d}", "registry_clerk", u) for u in (1, *OTHERS)]
        people += [(CLERK, "gd", "counter_clerk", OFFICE), (COURIER, "bt", "courier", OFFICE),
                   (13, "bm", "security_officer", 1)]
        for uid, username, role, unit in people:
            cur.execute("INSERT INTO user_account (id, username, full_name, role, unit_id, "
                        "password_hash, is_unit_head, is_active, created_at) "
                        "VALUES (%s,%s,%s,%s,%s,'-',false,true,now())",
                        (uid, username, username.upper(), role, unit))
        for table, cols, rows in (("envelope", ENV_COLS, w.env),
                                  ("handoff", HANDOFF_COLS, w.hand),
                                  ("incident", INCIDENT_COLS, w.inc)):
            with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for start in range(0, len(rows), 20_000):
                    copy.write("\n".join(rows[start:start + 20_000]) + "\n")
        for table in ("unit", "user_account", "envelope", "handoff", "incident"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))")
        conn.commit()
        print(f"  {len(w.env):,} envelopes, {len(w.hand):,} handoffs, {len(w.inc):,} "
              "incidents", flush=True)
    with psycopg.connect(_url(DB_NAME), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _config(name: str) -> dict[str, Any]:
    return {"SECRET_KEY": "bench-secret-key-0123456789",
            "SUBJECT_KEY": base64.urlsafe_b64encode(bytes(32)).decode(),
            "DATABASE_URL": _url(name), "AUTO_MIGRATE": False}


def _median(values: list[float]) -> float:
    """(The standard library's ``statistics`` is shadowed by this very file's name.)"""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def measure(name: str, runs: int) -> None:
    from kt1 import create_app
    from kt1.extensions import db
    from kt1.services import statistics
    from kt1.services.context import Ctx, Settings

    app = create_app(_config(name))
    with app.app_context():
        ctx = Ctx(session=db.session, settings=Settings.from_mapping(app.config),
                  now=lambda: datetime(2027, 1, 15, 3, 0, tzinfo=UTC))
        items = db.session.execute(db.text(
            "SELECT count(*) FROM envelope WHERE sender_unit_id = 1 OR recipient_unit_id = 1"
        )).scalar()
        print(f"unit {UNIT}: {items:,} items (sent by it or addressed to it)")
        for label, start, end in (("an old quarter (Q1 2025)", date(2025, 1, 1),
                                   date(2025, 3, 31)),
                                  ("a quarter (Q2 2026)", date(2026, 4, 1), date(2026, 6, 30)),
                                  ("a year (2026)", date(2026, 1, 1), date(2026, 12, 31)),
                                  ("two years", date(2025, 1, 1), date(2026, 12, 31))):
            statistics.compute(ctx, None, UNIT, start, end)  # warm-up
            db.session.rollback()
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                result = statistics.compute(ctx, None, UNIT, start, end)
                times.append(time.perf_counter() - t0)
                db.session.rollback()
            tot = result.total
            verdict = "OK" if max(times) < CEILING else "OVER"
            print(f"{label:<24} min {min(times):6.3f} s  median {_median(times):6.3f} s"
                  f"  max {max(times):6.3f} s  (ceiling {CEILING:.0f} s: {verdict})   "
                  f"held {tot['held']:,} sent {tot['sent']:,} received {tot['received']:,} "
                  f"copied {tot['copied']:,} declassified {tot['declassified']:,} "
                  f"destroyed {tot['destroyed']:,} incidents {result.incident_total:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--background", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DBNAME", help="measure an existing database")
    args = parser.parse_args()
    print(f"KT1 statistics benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f}")
    name = args.reuse or DB_NAME
    if not args.reuse:
        print(f"Loading {args.items:,} items of {UNIT} and {args.background:,} others into "
              f"{name} by COPY ...", flush=True)
        print(f"  load: {load(args.items, args.background):.0f} s")
    try:
        measure(name, args.runs)
    finally:
        if not args.keep and not args.reuse:
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


if __name__ == "__main__":
    main()
