"""Verification benchmark: a million envelopes' chains of custody, streamed (issue 3).

1. **Load** (not timed against any target): a fresh PostgreSQL database is migrated with the
   application's own migrations, then filled by ``COPY`` (not through the services) with
   ``--envelopes`` envelopes (default 1,000,000) and about 8 handoffs each: 40% travel
   within a province (5 links: registered, accepted, out for delivery, delivered,
   registered on arrival), 60% between provinces through a sealed bag (10 links). Every
   chain is valid (hashes computed with the same canonical form as the services) and every
   envelope was delivered on time, so a correct verifier reports them all ``complete``.
   Handoffs are written in time order within batches of 5,000 envelopes, so one
   envelope's links are spread over its batch as on a live system, not stored side by side.
2. **Verify**: the full :func:`kt1.services.verify.verify` over every envelope, in a
   fresh process, timed; it prints envelopes/s and peak memory (``ru_maxrss`` of the
   process and of its worker processes: the streaming design keeps both flat).
   ``--single`` also times it in one process, without workers.
3. **Ceilings**: the same three ordered queries verify reads (envelopes, handoffs,
   manifest lines), streamed by COPY on one connection and thrown away; and the plain
   ``SELECT * FROM handoff ORDER BY envelope_id, seq`` through a server-side cursor.
4. **Checkpoint**: :func:`kt1.services.checkpoints.create_checkpoint` over all handoffs
   (RFC 6962 tree, Ed25519 signature).

Usage::

    python bench/verify.py [--envelopes 1000000] [--keep] [--reuse DBNAME]

``KT1_BENCH_PG`` names the server (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
The database ``kt1_bench_verify`` is dropped afterwards unless ``--keep``; ``--reuse`` skips
the load and measures an existing database.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import multiprocessing
import os
import platform
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kt1.services.chain import HANDOFF_FIELDS, HASHED_FIELDS
from kt1.services.identifiers import format_number
from kt1.services.protection import add_years
from kt1.services.rules.facts import EnvelopeFacts, Link
from kt1.services.rules.facts import copy_encode as _copy_encode
from kt1.services.verify.hashing import identity_json, link_content

PG_DSN = os.environ.get("KT1_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "kt1_bench_verify"
CHUNK = 5_000
PROVINCES = 8
AGENCIES_PER_PROVINCE = 8
START = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
SPAN = timedelta(days=120)
KEY = base64.b64encode(hashlib.sha256(b"kt1 bench checkpoint key").digest()).decode()
TARGET_SECONDS = 60.0
TARGET_RATIO = 3.0
TARGET_MEMORY = 1 << 30


def _url(name: str, server: str | None = None) -> str:
    return (server or PG_DSN).rsplit("/", 1)[0] + "/" + name


# --------------------------------------------------------------------------- network


def _network() -> dict[str, Any]:
    """Units and users by id: per province one post office and eight agencies."""
    units, users = [], []
    offices, agencies = {}, []
    uid = 0
    for p in range(PROVINCES):
        office = len(units) + 1
        units.append((office, f"BC-{p:02d}", f"Bưu cục KT1 tỉnh {p:02d}", "post_office",
                      f"{p:02d}"))
        uid += 1
        gd = uid
        users.append((gd, f"gd{p:02d}", "counter_clerk", office, False))
        uid += 1
        bt = uid
        users.append((bt, f"bt{p:02d}", "courier", office, False))
        offices[p] = (office, gd, bt)
        for a in range(AGENCIES_PER_PROVINCE):
            unit = len(units) + 1
            units.append((unit, f"CQ-{p:02d}-{a}", f"Cơ quan {p:02d}-{a}", "agency", f"{p:02d}"))
            uid += 1
            vt = uid
            users.append((vt, f"vt{p:02d}{a}", "registry_clerk", unit, False))
            uid += 1
            users.append((uid, f"ld{p:02d}{a}", "registry_clerk", unit, True))
            agencies.append((unit, p, vt, uid))
    return {"units": units, "users": users, "offices": offices, "agencies": agencies}


# --------------------------------------------------------------------------- generation


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _n(v: Any) -> str:
    if v is None:
        return r"\N"
    if v is True:
        return "t"
    if v is False:
        return "f"
    return str(v)


def _null(v: Any) -> Any:
    """A nullable number as the verifier's query writes it."""
    return "null" if v is None else v


def _wire_handoff(r: dict[str, Any]) -> Any:
    """A generated handoff as the verifier reads it (declaration order, COPY text)."""
    fields = [_null(r[f.name]) if f.form == "int" and f.nullable else r[f.name]
              for f in HASHED_FIELDS]
    return Link._make([*(_copy_encode(v) for v in [*fields, "", "", 0, "0"]), True])


def _wire_envelope(r: list[Any]) -> Any:
    values = [*r[:11], _null(r[11]), "true" if r[12] else "false", *r[13:19], "null", "null",
              0, "", "false", None, "", "", "null", None, None, None, None,
              "null", "null", "null", None, "null", None, "false", r[19], r[20], "protected"]
    return EnvelopeFacts._make([*(_copy_encode(v) for v in values), True])


CLASSES = [("top_secret", "A", 2, 5), ("secret", "B", 1, 25), ("confidential", "C", 1, 50),
           ("unclassified", None, 1, 20)]
#: The protection term of each classification (docs/domain.md §8, the shipped rule data):
#: a classified envelope carries its classification date and the end of its term.
TERM_YEARS = {"top_secret": 30, "secret": 20, "confidential": 10}


def generate(args: tuple[int, int, dict[str, Any]]) -> tuple[str, str, str, str, int]:
    """One batch of envelopes with their chains, bags and manifest lines, as COPY text."""
    chunk, total, net = args
    rng = random.Random(chunk)
    offices, agencies = net["offices"], net["agencies"]
    first = chunk * CHUNK + 1
    last = min(total, first + CHUNK - 1)
    window = min(SPAN / max(1, (total + CHUNK - 1) // CHUNK), timedelta(hours=14))
    t0 = START + window * chunk
    env_out, bag_out, man_out = [], [], []
    events: list[tuple[datetime, int, dict[str, Any]]] = []  # (time, order, handoff)
    bags: dict[tuple[int, int], list[int]] = {}
    bag_base = chunk * 1000
    info: dict[int, dict[str, Any]] = {}
    order = 0
    for eid in range(first, last + 1):
        sender, sp, vt_s, _ld_s = agencies[rng.randrange(len(agencies))]
        if rng.random() < 0.4:
            choices = [a for a in agencies if a[1] == sp and a[0] != sender]
        else:
            choices = [a for a in agencies if a[1] != sp]
        recipient, rp, vt_r, _ld_r = choices[rng.randrange(len(choices))]
        r = rng.random()
        acc = 0
        for cls, mark, layers, weight in CLASSES:  # noqa: B007 (the chosen one is kept)
            acc += weight / 100
            if r < acc:
                break
        service = rng.choices(["standard", "flash", "timed"], [70, 20, 10])[0]
        urgency = "flash" if service == "flash" else rng.choice(["normal", "normal", "urgent"])
        t = t0 + (window * 0.5) * ((eid - first) / CHUNK)
        agreed = t + timedelta(days=3) if service == "timed" else None
        info[eid] = {"t": t, "sender": sender, "recipient": recipient, "sp": sp, "rp": rp,
                     "vt_s": vt_s, "vt_r": vt_r}
        env_row = [eid, format_number("KT", eid, "VN"), cls, mark, layers, service,
                   _iso(agreed) if agreed else None, "intra_province" if sp == rp else
                   "inter_province", urgency, sender, recipient, None, False,
                   f"{eid % 900 + 100}/CV-{sp:02d}", 1, None, 2026, eid, vt_s]
        day = (t + timedelta(hours=7)).date()  # the registration day in Vietnam
        years = TERM_YEARS.get(cls)
        env_row += [day.isoformat() if years else None,
                    add_years(day, years).isoformat() if years else None]
        info[eid]["row"] = env_row
        if sp != rp:
            bags.setdefault((sp, rp), []).append(eid)
    # single-envelope events before bagging
    links: dict[int, list[dict[str, Any]]] = {eid: [] for eid in info}

    def link(eid: int, kind: str, at: datetime, fu: int | None, fus: int | None, tu: int,
             tus: int, ack: int, am: str, bag: int | None = None, scan: str | None = None,
             ss: str = "not_applicable", sn: str | None = None, count: int = 1,
             loc: str = "", note: str = "") -> None:
        nonlocal order
        seq = len(links[eid])
        row = {"envelope_id": eid, "seq": seq, "kind": kind, "bag_id": bag,
               "scan_id": scan or f"s{eid}-{seq}", "from_unit_id": fu, "from_user_id": fus,
               "to_unit_id": tu, "to_user_id": tus, "location": loc, "event_at": _iso(at),
               "recorded_at": _iso(at + timedelta(seconds=3)), "seal_state": ss,
               "seal_number": sn, "count": count, "ack_user_id": ack, "ack_method": am,
               "ack_reference": None, "device": "bench",
               "recorded_by_id": ack if am != "self" else tus, "reason": None,
               "authority": None, "note": note}
        links[eid].append(row)
        order += 1
        events.append((at, order, row))

    for eid, e in info.items():
        t = e["t"]
        o_s, gd_s, bt_s = offices[e["sp"]]
        link(eid, "registered_outgoing", t, None, None, e["sender"], e["vt_s"], e["vt_s"], "self",
             loc=f"U{e['sender']}")
        link(eid, "accepted", t + timedelta(minutes=40), e["sender"], e["vt_s"], o_s, gd_s, gd_s,
             "session", loc=f"BC{o_s}")
        if e["sp"] == e["rp"]:
            link(eid, "out_for_delivery", t + timedelta(hours=2), o_s, gd_s, o_s, bt_s, bt_s,
                 "pin")
            link(eid, "delivered", t + timedelta(hours=4), o_s, bt_s, e["recipient"], e["vt_r"],
                 e["vt_r"], "session")
            link(eid, "registered_incoming", t + timedelta(hours=4, minutes=20), e["recipient"],
                 e["vt_r"], e["recipient"], e["vt_r"], e["vt_r"], "self")
    bag_no = 0
    bag_end = t0 + window * 0.5 + timedelta(hours=1)
    for (sp, rp), members in sorted(bags.items()):
        o_s, gd_s, bt_s = offices[sp]
        o_d, gd_d, bt_d = offices[rp]
        for start in range(0, len(members), 30):
            group = members[start:start + 30]
            bag_no += 1
            bag_id = bag_base + bag_no
            seal = f"NP{bag_id:09d}"
            bag_out.append("\t".join(_n(v) for v in [
                bag_id, f"B{bag_id:09d}", o_s, o_d, "opened", seal, _iso(bag_end),
                f"GPS-{bag_id}", "29C-123.45", True, None, o_d, gd_d, gd_s,
                _iso(info[group[0]]["t"]), _iso(bag_end + timedelta(hours=14))]))
            n = len(group)
            for line_no, eid in enumerate(group, 1):
                man_out.append("\t".join(_n(v) for v in [
                    bag_id * 100 + line_no, bag_id, eid, line_no,
                    _iso(info[eid]["t"] + timedelta(hours=1)), True]))
                t = info[eid]["t"] + timedelta(hours=1)
                link(eid, "bagged", t, o_s, gd_s, o_s, gd_s, gd_s, "self", bag=bag_id,
                     scan=f"b{bag_id}-{eid}")
            for kind, at, fu, fus, tu, tus, am, ss in (
                    ("bag_sealed", bag_end, o_s, gd_s, o_s, gd_s, "self", "intact"),
                    ("dispatched", bag_end + timedelta(minutes=30), o_s, gd_s, o_s, bt_s,
                     "pin", "intact"),  # a paper receipt would name a printed sheet
                    ("bag_received", bag_end + timedelta(hours=12), o_s, bt_s, o_d, gd_d,
                     "session", "intact"),
                    ("bag_opened", bag_end + timedelta(hours=12, minutes=30), o_d, gd_d, o_d,
                     gd_d, "self", "intact")):
                for eid in group:
                    link(eid, kind, at, fu, fus, tu, tus, tus, am, bag=bag_id,
                         scan=f"{kind}-{bag_id}", ss=ss, sn=seal, count=n)
            for eid in group:
                t = bag_end + timedelta(hours=13)
                e = info[eid]
                link(eid, "out_for_delivery", t, o_d, gd_d, o_d, bt_d, bt_d, "pin")
                link(eid, "delivered", t + timedelta(hours=1), o_d, bt_d, e["recipient"],
                     e["vt_r"], e["vt_r"], "session")
                link(eid, "registered_incoming", t + timedelta(hours=1, minutes=20),
                     e["recipient"], e["vt_r"], e["recipient"], e["vt_r"], e["vt_r"], "self")
    # hashes, per envelope in seq order
    sha = hashlib.sha256
    for eid, rows in links.items():
        prev = "0" * 64
        identity = identity_json(_wire_envelope(info[eid]["row"]))
        for row in rows:
            wire = _wire_handoff(row)
            h = sha(bytes.fromhex(prev) + link_content(wire, identity if row["seq"] == 0 else None)
                    ).hexdigest()
            row.update(prev_hash=prev, hash=h)
            prev = h
        e = info[eid]
        r = e["row"]
        last_row = rows[-1]
        accepted = rows[1]["event_at"]
        env_out.append("\t".join(_n(v) for v in [
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], "", r[11], r[12],
            r[13], None, r[14], r[15], r[16], r[17], 2026, eid, None, None, _iso(e["t"]), r[18],
            "arrived", last_row["to_unit_id"], last_row["to_user_id"], None, len(rows), prev,
            last_row["event_at"], accepted, r[19], r[20]]))
    # handoff ids in time order within the batch
    events.sort(key=lambda x: (x[0], x[1]))
    hand_out = []
    base = chunk * CHUNK * 12
    for k, (_at, _o, row) in enumerate(events, 1):
        row["id"] = base + k
        hand_out.append("\t".join(_n(row[f.name]) for f in HANDOFF_FIELDS))
    return ("\n".join(env_out) + "\n", "\n".join(hand_out) + "\n",
            "\n".join(bag_out) + "\n" if bag_out else "",
            "\n".join(man_out) + "\n" if man_out else "", len(hand_out))


ENV_COLS = ("id, number, classification, mark, layers, service, agreed_at, route, urgency, "
            "sender_unit_id, recipient_unit_id, recipient_name, recipient_user_id, "
            "is_addressee_only, document_number, document_date, copies, recall_by, "
            "register_year, register_seq, incoming_year, incoming_seq, subject_ciphertext, "
            "subject_approved_by, registered_at, registered_by_id, status, holder_unit_id, "
            "holder_user_id, bag_id, chain_length, last_hash, last_event_at, accepted_at, "
            "classified_on, protection_until")
HANDOFF_COLS = ", ".join(f.name for f in HANDOFF_FIELDS)
BAG_COLS = ("id, number, origin_unit_id, destination_unit_id, status, seal_number, sealed_at, "
            "tracker_id, vehicle, is_dedicated_vehicle, escort_name, holder_unit_id, "
            "holder_user_id, created_by_id, created_at, last_event_at")
MAN_COLS = "id, bag_id, envelope_id, line_no, added_at, found_at_opening"


def load(total: int, db_name: str = DB_NAME, server: str | None = None,
         quiet: bool = False, revisions: tuple[str, ...] = ("heads",)) -> dict[str, Any]:
    """Create, migrate and fill the benchmark database ``db_name`` on ``server`` (a libpq URL;
    default ``KT1_BENCH_PG``). tests/test_upgrades.py loads a live-size copy with it, at
    the older ``revisions`` that hold every column it writes, before upgrading to heads."""
    with psycopg.connect(server or PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    import flask_migrate

    from kt1 import create_app
    from kt1.database import MIGRATIONS_DIR
    from kt1.extensions import db

    app = create_app({"SECRET_KEY": "bench-secret-key-0123456789",
                      "SUBJECT_KEY": base64.urlsafe_b64encode(bytes(32)).decode(),
                      "DATABASE_URL": _url(db_name, server), "AUTO_MIGRATE": False})
    with app.app_context():
        for revision in revisions:
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision=revision)
        db.engine.dispose()
    net = _network()
    started = time.perf_counter()
    handoffs = 0
    with psycopg.connect(_url(db_name, server)) as conn:
        with conn.cursor() as cur:
            for uid, code, name, kind, prov in net["units"]:
                cur.execute(
                    "INSERT INTO unit (id, code, name, kind, province_code, province_name, "
                    "address, parent_name, created_at) VALUES (%s,%s,%s,%s,%s,%s,'','',now())",
                    (uid, code, name, kind, prov, f"Tỉnh {prov}"))
            for uid, username, role, unit, head in net["users"]:
                cur.execute(
                    "INSERT INTO user_account (id, username, full_name, role, unit_id, "
                    "password_hash, is_unit_head, is_active, created_at) "
                    "VALUES (%s,%s,%s,%s,%s,'-',%s,true,now())",
                    (uid, username, username.upper(), role, unit, head))
        conn.commit()
        chunks = (total + CHUNK - 1) // CHUNK
        with multiprocessing.get_context("fork").Pool(2) as pool:
            for i, (env, hand, bag, man, n) in enumerate(pool.imap(
                    generate, [(c, total, net) for c in range(chunks)])):
                with conn.cursor() as cur:
                    for table, cols, text in (("envelope", ENV_COLS, env), ("bag", BAG_COLS, bag),
                                              ("manifest_line", MAN_COLS, man),
                                              ("handoff", HANDOFF_COLS, hand)):
                        if text:
                            with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                                copy.write(text)
                conn.commit()
                handoffs += n
                if not quiet and ((i + 1) % 20 == 0 or i + 1 == chunks):
                    print(f"  loaded {min(total, (i + 1) * CHUNK):>9,} envelopes, "
                          f"{handoffs:>10,} handoffs ({time.perf_counter() - started:.0f} s)",
                          flush=True)
        with conn.cursor() as cur:
            for table in ("unit", "user_account", "envelope", "bag", "manifest_line",
                          "handoff"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))")
            # the counters the services number from, past what was loaded, so that the
            # application can go on working on this database (tests/test_upgrades.py)
            cur.execute(
                "INSERT INTO counter (name, value) "
                "SELECT 's10:KT', max(id) FROM envelope UNION ALL "
                "SELECT 'out:' || sender_unit_id || ':' || register_year, max(register_seq) "
                "FROM envelope GROUP BY sender_unit_id, register_year UNION ALL "
                "SELECT 'in:' || recipient_unit_id || ':' || incoming_year, max(incoming_seq) "
                "FROM envelope WHERE incoming_year IS NOT NULL "
                "GROUP BY recipient_unit_id, incoming_year "
                "ON CONFLICT (name) DO UPDATE SET value = greatest(counter.value, "
                "excluded.value)")
        conn.commit()
    with psycopg.connect(_url(db_name, server), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"load_seconds": time.perf_counter() - started, "handoffs": handoffs}


# --------------------------------------------------------------------------- measuring


def _app_ctx(name: str) -> tuple[Any, Any]:
    from kt1 import create_app
    from kt1.extensions import db
    from kt1.services.context import Ctx, Settings

    app = create_app({"SECRET_KEY": "bench-secret-key-0123456789",
                      "SUBJECT_KEY": base64.urlsafe_b64encode(bytes(32)).decode(),
                      "CHECKPOINT_KEY": KEY, "DATABASE_URL": _url(name),
                      "AUTO_MIGRATE": False})
    app_ctx = app.app_context()
    app_ctx.push()
    return app_ctx, Ctx(session=db.session, settings=Settings.from_mapping(app.config))


def _status(field: str) -> int:
    """A memory figure of this process image in bytes (``VmHWM`` is its peak RSS; unlike
    ``ru_maxrss`` it does not carry over the peak of the process that started us)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure(what: str, name: str) -> dict[str, Any]:
    """One measurement in this (fresh) process; returns its figures."""
    _pushed, ctx = _app_ctx(name)
    rss_before = _status("VmRSS")
    started = time.perf_counter()
    out: dict[str, Any] = {}
    if what in ("verify", "verify1"):
        from kt1.services.verify import Summary, verify

        summary = Summary()
        workers = 1 if what == "verify1" else None
        for report in verify(ctx, now=START + SPAN + timedelta(days=30), workers=workers):
            summary.add(report)
        out["summary"] = summary.to_dict()
        out["envelopes"] = summary.envelopes
    elif what == "ceiling":
        from kt1.services.checkpoints import begin_snapshot
        from kt1.services.verify import wire as v

        begin_snapshot(ctx)
        raw = ctx.session.connection().connection.dbapi_connection
        rows = 0
        for sql in _verify_queries(v):
            for _row in v.copy_rows(raw, sql):
                rows += 1
        ctx.session.rollback()
        out["rows"] = rows
    elif what == "plain":
        from kt1.services.checkpoints import begin_snapshot, stream_rows

        begin_snapshot(ctx)
        rows = 0
        for batch in stream_rows(ctx, "SELECT * FROM handoff ORDER BY envelope_id, seq", (),
                                 "kt1_plain", 10_000):
            rows += len(batch)
        ctx.session.rollback()
        out["rows"] = rows
    elif what == "checkpoint":
        from kt1.services.checkpoints import create_checkpoint

        checkpoint = create_checkpoint(ctx)
        out["tree_size"] = checkpoint.tree_size
        out["root"] = checkpoint.root_hash
    out["seconds"] = time.perf_counter() - started
    own, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
    out["cpu_seconds"] = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    out["peak_rss"] = _status("VmHWM")
    # forked workers: their peak RSS counts the pages they share with this process
    out["child_peak_rss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    out["rss_before"] = rss_before
    return out


def _verify_queries(v: Any) -> list[str]:
    """The exact three queries verify streams (see kt1.services.verify.run._stream)."""
    sql = v.Sql("postgresql")
    return [sql.envelopes(""), sql.handoffs("", 120.0, 86400.0), sql.manifest("")]


def _run(what: str, name: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", what, "--reuse", name],
        capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{what} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envelopes", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="DBNAME", help="measure an existing database")
    parser.add_argument("--single", action="store_true",
                        help="also time verify in one process (no worker processes)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.reuse)))
        return
    print(f"KT1 verify benchmark: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    name = args.reuse or DB_NAME
    if not args.reuse:
        print(f"Loading {args.envelopes:,} envelopes into {name} by COPY ...", flush=True)
        loaded = load(args.envelopes)
        print(f"  load: {loaded['load_seconds']:.0f} s for {loaded['handoffs']:,} handoffs")
    try:
        ceiling = _run("ceiling", name)
        plain = _run("plain", name)
        result = _run("verify", name)
        single = _run("verify1", name) if args.single else None
        checkpoint = _run("checkpoint", name)
    finally:
        if not args.keep and not args.reuse:
            with psycopg.connect(PG_DSN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    n = result["envelopes"]
    secs = result["seconds"]
    ratio = secs / ceiling["seconds"]
    peak = result["peak_rss"]
    print()
    print(f"verify --all       {n:>10,} envelopes in {secs:6.1f} s = {n / secs:>9,.0f} "
          f"envelopes/s   (aim: <= {TARGET_SECONDS:.0f} s for 1,000,000)")
    print(f"  Python CPU       {result['cpu_seconds']:8.1f} s (this process and its workers; "
          f"the database server's work comes on top)   load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    statuses = {k: v for k, v in result["summary"].items() if k != "findings"}
    print(f"  statuses         {json.dumps(statuses)}")
    if result["summary"]["findings"]:
        print(f"  findings         {json.dumps(result['summary']['findings'])}")
    children = result["child_peak_rss"]
    workers = min(os.cpu_count() or 1, 4) if n >= 50_000 else 1
    total = peak + (workers * children if workers > 1 else 0)
    print(f"  peak memory      {total / 2**20:8.1f} MiB at most (parent {peak / 2**20:.1f} MiB"
          f" + {workers if workers > 1 else 0} worker(s) x {children / 2**20:.1f} MiB, pages "
          f"shared by fork counted twice; {result['rss_before'] / 2**20:.1f} MiB before "
          "verifying)   (aim: < 1024 MiB)")
    if single:
        print(f"verify, 1 process  {single['envelopes']:>10,} envelopes in "
              f"{single['seconds']:6.1f} s = {single['envelopes'] / single['seconds']:>9,.0f} "
              f"envelopes/s, peak {single['peak_rss'] / 2**20:.1f} MiB")
    print(f"ceiling (same 3 queries, rows discarded)  {ceiling['rows']:>10,} rows in "
          f"{ceiling['seconds']:6.1f} s   verify/ceiling = {ratio:.2f}x   (aim: <= "
          f"{TARGET_RATIO:.0f}x)")
    print(f"plain SELECT * FROM handoff ORDER BY envelope_id, seq  {plain['rows']:>10,} rows in "
          f"{plain['seconds']:6.1f} s   verify/plain = {secs / plain['seconds']:.2f}x")
    print(f"checkpoint         {checkpoint['tree_size']:>10,} handoffs in "
          f"{checkpoint['seconds']:6.1f} s   peak {checkpoint['peak_rss'] / 2**20:.1f} MiB   "
          f"root {checkpoint['root'][:16]}…")


if __name__ == "__main__":
    main()
