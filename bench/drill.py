"""Drill (issue 9, "Keep proving it"): scans through a worker kill and a database restart.

The drill builds everything it uses and throws it away afterwards; it never contacts the
machine's own PostgreSQL:

1. **Its own PostgreSQL.** ``initdb`` into a temporary directory, then ``pg_ctl start`` on a
   free loopback port (``listen_addresses=127.0.0.1``, its Unix socket inside the temporary
   directory). PostgreSQL refuses to run as root, so when the drill runs as root every
   ``initdb``/``pg_ctl`` runs as the ``postgres`` OS user (``subprocess`` with ``user=`` and
   ``group=``) and the temporary directory is handed to that user; otherwise they run as the
   caller. The binaries are taken from ``KT1_PG_BIN``, else the newest
   ``/usr/lib/postgresql/*/bin``, else ``PATH``.
2. **Set-up, in-process, through the services.** Migrations (``alembic upgrade heads``); a
   sending agency and a recipient agency in the same province and the KT1 post office of
   that province; a registry clerk at each agency, a counter clerk and a courier at the
   office, each with a PIN; a scanner device for the office and one for the recipient
   agency; envelopes registered with :func:`~kt1.services.registration.register_envelope`
   and brought to the office on handover sheets (:func:`~kt1.services.handover.prepare_sheet`
   by the agency's registry clerk, :func:`~kt1.services.handover.sign_sheet` by the counter
   clerk). Every envelope starts the load ``accepted``, held by the counter clerk.
3. **Load.** The real app under gunicorn (``wsgi:app``, sync workers). ``--clients`` threads
   take every envelope the rest of its way through the scanner API, always with the giver
   as the acting operator: ``out_for_delivery`` (counter clerk to courier, who signs with
   his PIN), ``delivered`` (courier to the recipient agency's registry clerk, PIN) and
   ``registered_incoming`` (that clerk, on the agency's device). About half the envelopes
   go one scan per ``POST /api/v1/handoffs``, the others in batches through
   ``POST /api/v1/handoffs/batch`` (30 scans: 15 envelopes handed to the courier and
   delivered, then one batch of their 15 incoming registrations).
4. **Faults, during the load.** One gunicorn worker is killed with ``SIGKILL`` (gunicorn
   starts another) once a fifth of the scans are acknowledged, and the drill's PostgreSQL
   is restarted once (``pg_ctl stop -m fast``, a second, ``pg_ctl start``) at 45 %.
5. **Retries.** A request that got no answer (connection reset, timeout) or a 5xx, and a
   batch in which any scan got a 5xx, is sent again, byte for byte, with the same scan
   ids, with backoff, until acknowledged (bounded). A ``4xx`` is a refusal: never retried.
6. **Reconciliation**, straight in the drill's database once gunicorn is stopped: every
   acknowledged scan id (201, or 200 for a replay) is in ``scan`` exactly once and has
   exactly one ``handoff``; no ``scan`` or ``handoff`` row the drill did not send; every
   envelope reached ``arrived`` with its five links; ``kt1 verify --all`` exits 0; every
   5xx answer (of a request or of one scan in a batch) is a 503 answered between the
   restart command and PostgreSQL accepting connections again, plus ``--grace`` seconds;
   connection errors happen only at the worker kill.

It prints its figures (``--json`` for one JSON object): requests, acknowledgements,
replays, refusals by slug, every 5xx with its time against the restart and the kill,
connection errors, retries, what the database holds, ``kt1 verify``, the exceptions the
workers logged, durations. It exits 0 only when every check holds, 1 when one fails, 2
when the drill itself could not run (no PostgreSQL binaries, ...), 130 when interrupted.
Whatever happens (a failed check, an error, Ctrl+C, SIGTERM), gunicorn and the drill's
PostgreSQL are stopped and the temporary directory is removed. Only a SIGKILL of the drill
itself would leave them running (``pg_ctl`` detaches the server).

Usage::

    python bench/drill.py [--envelopes 60] [--clients 4] [--workers 2] [--grace 1.0]
                          [--load-timeout 120] [--json]
"""

from __future__ import annotations

import argparse
import base64
import glob
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter as Tally
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET_KEY = secrets.token_urlsafe(32)
SUBJECT_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
PASSWORD = "drill-password-1"  # noqa: S105  (users of a throw-away database)
PIN = "2468"
DB_NAME = "kt1_drill"
BATCH_ENVELOPES = 15  # 15 x (out_for_delivery, delivered) = a 30-scan batch
KILL_AT, RESTART_AT = 0.20, 0.45  # share of the scans acknowledged
MAX_ATTEMPTS, RETRY_DEADLINE = 40, 20.0  # per request (the outage lasts a few seconds)
KILL_ERRORS_WINDOW = 5.0  # connection errors of the kill arrive within this many seconds

# the network of the drill: sender and recipient agency in one province, and its office
SENDER, RECIPIENT, OFFICE = "DRILL-BNV", "DRILL-UBND", "DRILL-BC"
CLERK, COUNTER, COURIER, RECEIVER = "vt_gui", "gd_drill", "bt_drill", "vt_nhan"
OFFICE_DEVICE, AGENCY_DEVICE = "drill-counter-01", "drill-registry-01"
KINDS = ("out_for_delivery", "delivered", "registered_incoming")


class DrillError(Exception):
    """The drill itself could not run (not a failed check)."""


# --------------------------------------------------------------------------- PostgreSQL


def pg_bin_dir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are: KT1_PG_BIN, the newest Debian one, or PATH."""
    candidates = []
    if os.environ.get("KT1_PG_BIN"):
        candidates.append(Path(os.environ["KT1_PG_BIN"]))

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parent.name
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                                           key=version, reverse=True)]
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(Path(found).parent)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def gunicorn_path() -> Path:
    return Path(sys.executable).with_name("gunicorn")


def missing_prerequisites() -> list[str]:
    """What the drill needs and this machine lacks (empty when it can run)."""
    missing = []
    if pg_bin_dir() is None:
        missing.append("PostgreSQL server binaries (initdb, pg_ctl): none under "
                       "/usr/lib/postgresql/*/bin or on PATH (set KT1_PG_BIN)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            missing.append("running as root, but there is no 'postgres' OS user to run "
                           "PostgreSQL as")
    if not gunicorn_path().is_file():
        missing.append(f"gunicorn next to {sys.executable}")
    return missing


def temp_parent() -> str | None:
    """Where the temporary directory goes: the usual place, unless the drill runs as root
    and the ``postgres`` user could not reach it (a private TMPDIR); then /tmp."""
    base = Path(tempfile.gettempdir()).resolve()
    if os.geteuid() != 0:
        return None
    if all(p.stat().st_mode & 0o001 for p in (base, *base.parents)):
        return None
    return "/tmp"  # noqa: S108  (mkdtemp makes a private directory inside it)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TempPostgres:
    """A PostgreSQL instance of the drill's own in ``root/pg`` on a free loopback port."""

    def __init__(self, root: Path) -> None:
        bindir = pg_bin_dir()
        if bindir is None:
            raise DrillError("no PostgreSQL server binaries (initdb, pg_ctl)")
        self.bin = bindir
        self.root = root
        self.data = root / "pg" / "data"
        self.sock = root / "pg"
        self.log = root / "pg" / "server.log"
        self.port = free_port()
        if self.port == 5432:  # never next to the machine's own server, even by chance
            self.port = free_port()
        self.as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            self.as_user = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        (root / "pg").mkdir()
        if self.as_user:
            os.chown(root, self.as_user["user"], self.as_user["group"])
            os.chown(root / "pg", self.as_user["user"], self.as_user["group"])
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        proc = subprocess.run(cmd, cwd=self.root, capture_output=True, text=True,
                              timeout=timeout, start_new_session=True, check=False,
                              **self.as_user)
        if proc.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise DrillError(f"{' '.join(args[:2])} failed ({proc.returncode}): "
                             f"{proc.stderr.strip() or proc.stdout.strip()}\n{tail}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")

    def start(self) -> None:
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sock} "
                "-c max_connections=100")
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l",
                  str(self.log), "-o", opts)
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", str(self.data))
        self.running = False

    def accepting(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    def wait_accepting(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not self.accepting():
            if time.monotonic() > deadline:
                raise DrillError("the drill's PostgreSQL does not accept connections")
            time.sleep(0.05)

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')

    def destroy(self) -> None:
        if self.running or (self.data / "postmaster.pid").exists():
            with suppress(DrillError, subprocess.TimeoutExpired, OSError):
                self.stop("immediate")


# --------------------------------------------------------------------------- set-up


def app_env(pg: TempPostgres, instance: Path) -> dict[str, str]:
    """The environment of gunicorn and the CLI: the drill's database and keys, nothing else
    of the caller's KT1_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KT1_")}
    env.update({"KT1_DATABASE_URL": pg.url, "KT1_SECRET_KEY": SECRET_KEY,
                "KT1_SUBJECT_KEY": SUBJECT_KEY, "KT1_INSTANCE_PATH": str(instance),
                "KT1_DEMO": "0"})
    return env


@dataclass
class Network:
    numbers: list[str]
    tokens: dict[str, str]  # device name -> token
    baseline_scans: set[str]
    baseline_handoffs: set[str]


def build_network(pg: TempPostgres, instance: Path, envelopes: int) -> Network:
    """Schema, units, people, devices, and envelopes accepted at the office on sheets."""
    import flask_migrate
    from sqlalchemy import select

    from kt1 import create_app
    from kt1.database import MIGRATIONS_DIR
    from kt1.extensions import db
    from kt1.models import Handoff, Scan
    from kt1.models.enums import Classification, Role, UnitKind
    from kt1.services.context import Ctx, Settings
    from kt1.services.devices import add_device
    from kt1.services.directory import add_unit, add_user, find_user, set_serving_offices
    from kt1.services.handover import MAX_LINES, prepare_sheet, sign_sheet
    from kt1.services.registration import EnvelopeDraft, register_envelope

    app = create_app({"SECRET_KEY": SECRET_KEY, "SUBJECT_KEY": SUBJECT_KEY,
                      "INSTANCE_PATH": str(instance), "DATABASE_URL": pg.url,
                      "AUTO_MIGRATE": False, "DEMO": False})
    with app.app_context():
        try:
            flask_migrate.upgrade(directory=str(MIGRATIONS_DIR), revision="heads")
            ctx = Ctx(db.session(), Settings.from_mapping(app.config))
            add_unit(ctx, None, SENDER, "Sở Nội vụ (diễn tập)", UnitKind.AGENCY, "01", "Hà Nội")
            add_unit(ctx, None, RECIPIENT, "UBND quận (diễn tập)", UnitKind.AGENCY, "01",
                     "Hà Nội")
            add_unit(ctx, None, OFFICE, "Bưu cục KT1 (diễn tập)", UnitKind.POST_OFFICE, "01",
                     "Hà Nội")
            # the office accepts only from the agencies it serves (docs/access.md)
            set_serving_offices(ctx, None, SENDER, [OFFICE])
            set_serving_offices(ctx, None, RECIPIENT, [OFFICE])
            for username, role, unit in ((CLERK, Role.REGISTRY_CLERK, SENDER),
                                         (RECEIVER, Role.REGISTRY_CLERK, RECIPIENT),
                                         (COUNTER, Role.COUNTER_CLERK, OFFICE),
                                         (COURIER, Role.COURIER, OFFICE)):
                add_user(ctx, None, username, username.upper(), role, unit, PASSWORD, pin=PIN)
            tokens = {}
            for name, unit in ((OFFICE_DEVICE, OFFICE), (AGENCY_DEVICE, RECIPIENT)):
                _device, tokens[name] = add_device(ctx, None, name, unit)
            clerk, counter = find_user(ctx, CLERK), find_user(ctx, COUNTER)
            numbers = []
            for i in range(envelopes):
                envelope = register_envelope(ctx, clerk, EnvelopeDraft(
                    classification=Classification.SECRET, recipient_unit_code=RECIPIENT,
                    document_number=f"{i + 1}/DT-{SENDER}",
                    # a Tối mật item records these (docs/domain.md §8)
                    drafter_name="Nguyễn Văn Soạn", signer_name="Trần Văn Ký",
                    signer_title="Chánh Văn phòng",
                    classification_basis="Khoản 2 Điều 1 Danh mục bí mật nhà nước"))
                numbers.append(envelope.number)
            for i in range(0, len(numbers), MAX_LINES):
                chunk = numbers[i:i + MAX_LINES]
                sheet = prepare_sheet(ctx, clerk, chunk, OFFICE)
                sign_sheet(ctx, counter, sheet.number, chunk)
            scans = set(db.session.execute(select(Scan.scan_id)).scalars())
            handoffs = set(db.session.execute(select(Handoff.scan_id)).scalars())
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()
    return Network(numbers, tokens, scans, handoffs)


# --------------------------------------------------------------------------- server


def start_gunicorn(env: dict[str, str], workers: int, port: int, log: Path
                   ) -> subprocess.Popen[bytes]:
    cmd = [str(gunicorn_path()), "--workers", str(workers), "--worker-class", "sync",
           "--bind", f"127.0.0.1:{port}", "--timeout", "30", "--graceful-timeout", "5",
           "--log-level", "warning", "--chdir", str(ROOT), "wsgi:app"]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=out,
                                start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DrillError(f"gunicorn exited with {proc.returncode}: "
                             f"{log.read_text(errors='replace')[-2000:]}")
        try:
            status, _ = call(port, "GET", "/healthz", None, {}, timeout=2)
            if status == 200 and len(worker_pids(proc.pid)) >= workers:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop_gunicorn(proc)
    raise DrillError("gunicorn did not answer within 60 s")


def stop_gunicorn(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def worker_pids(master: int) -> set[int]:
    """gunicorn's workers: the children of its master process (from /proc)."""
    pids = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            text = Path(stat).read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        fields = text[text.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == master:
            pids.add(int(text.split(" ", 1)[0]))
    return pids


def process_state(pid: int) -> str:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return text[text.rfind(")") + 2:].split()[0]


# --------------------------------------------------------------------------- load


def call(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str],
         timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def scan_payload(kind: str, number: str, event_at: str) -> tuple[str, dict[str, Any]]:
    """One scan as a device sends it, and the device it is sent from.

    The acting operator is always the giver: the counter clerk hands the envelope to the
    courier, who signs with his PIN; the courier delivers it to the recipient agency's
    registry clerk, who signs with hers; she enters it in the incoming register.
    """
    body: dict[str, Any] = {"scan_id": str(uuid.uuid4()), "number": number, "kind": kind,
                            "event_at": event_at}
    if kind == "out_for_delivery":
        body |= {"operator": COUNTER, "giver": COUNTER, "receiver": COURIER,
                 "receipt": {"method": "pin", "secret": PIN}, "location": OFFICE}
        return OFFICE_DEVICE, body
    if kind == "delivered":
        body |= {"operator": COURIER, "giver": COURIER, "receiver": RECEIVER,
                 "receipt": {"method": "pin", "secret": PIN}, "location": RECIPIENT}
        return OFFICE_DEVICE, body
    if kind == "registered_incoming":
        body |= {"operator": RECEIVER, "location": RECIPIENT}
        return AGENCY_DEVICE, body
    raise ValueError(kind)


@dataclass
class Request:
    """One request of the plan: its scans are made when it is first sent, then kept, so
    every retry sends the same bytes with the same scan ids."""

    batch: bool
    steps: list[tuple[str, str]]  # (kind, number), in order
    device: str = ""
    body: bytes = b""
    scan_ids: list[str] = field(default_factory=list)
    numbers: dict[str, str] = field(default_factory=dict)  # scan id -> number

    def build(self) -> None:
        if self.body:
            return
        at = datetime.now(UTC).isoformat()
        items = []
        for kind, number in self.steps:
            self.device, item = scan_payload(kind, number, at)
            items.append(item)
            self.scan_ids.append(item["scan_id"])
            self.numbers[item["scan_id"]] = number
        self.body = json.dumps({"items": items} if self.batch else items[0]).encode()


def make_plan(numbers: list[str], clients: int) -> list[list[Request]]:
    """Each client's requests, in order; an envelope's scans all go through one client."""
    n_batched = (len(numbers) // 2) // BATCH_ENVELOPES * BATCH_ENVELOPES
    batched, singles = numbers[:n_batched], numbers[n_batched:]
    batch_jobs = []
    for i in range(0, n_batched, BATCH_ENVELOPES):
        group = batched[i:i + BATCH_ENVELOPES]
        office = [(kind, n) for n in group for kind in KINDS[:2]]
        batch_jobs.append([Request(True, office),
                           Request(True, [("registered_incoming", n) for n in group])])
    single_jobs = [[Request(False, [(kind, n)]) for kind in KINDS] for n in singles]
    # the batches spread among the singles, so that both kinds run through the faults
    jobs = interleave(batch_jobs, single_jobs)
    plan: list[list[Request]] = [[] for _ in range(clients)]
    for i, job in enumerate(jobs):
        plan[i % clients].extend(job)
    return plan


def interleave(few: list[Any], many: list[Any]) -> list[Any]:
    """``many`` in order with ``few`` spread evenly among them."""
    if not few:
        return list(many)
    out: list[Any] = []
    gap = len(many) / (len(few) + 1)
    it = iter(few)
    nxt = gap
    for i, item in enumerate(many):
        while i >= nxt:
            with suppress(StopIteration):
                out.append(next(it))
            nxt += gap
        out.append(item)
    out.extend(it)
    return out


@dataclass
class Answer:
    t: float  # seconds since the load started, when the answer (or the error) came
    batch: bool
    status: int | None  # None: no answer (connection error)
    slug: str = ""
    error: str = ""
    items: list[tuple[int, str]] = field(default_factory=list)  # batch: (status, slug)


class Load:
    """The clients, what they saw, and the progress the faults are timed on."""

    def __init__(self, port: int, tokens: dict[str, str], plan: list[list[Request]],
                 timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.tokens = tokens
        self.plan = plan
        self.total = sum(len(r.steps) for reqs in plan for r in reqs)
        self.lock = threading.Lock()
        self.answers: list[Answer] = []
        self.acked: dict[str, int] = {}  # scan id -> first acknowledging status
        self.refused: dict[str, str] = {}  # scan id -> slug of its last refusal
        self.sent: set[str] = set()
        self.given_up: list[str] = []
        self.not_sent = 0
        self.requests = 0
        self.retries = 0
        self.t0 = 0.0
        self.last_answer = 0.0
        self.done = threading.Event()
        self.threads: list[threading.Thread] = []

    def now(self) -> float:
        return time.monotonic() - self.t0

    def progress(self) -> float:
        with self.lock:
            return len(self.acked) / self.total if self.total else 1.0

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=self._client, args=(reqs,), daemon=True,
                                         name=f"client-{i}")
                        for i, reqs in enumerate(self.plan)]
        for t in self.threads:
            t.start()

    def running(self) -> bool:
        return any(t.is_alive() for t in self.threads)

    def join(self) -> None:
        while self.running():
            for t in self.threads:
                t.join(timeout=0.2)

    def _client(self, requests: list[Request]) -> None:
        for req in requests:
            if self.now() > self.timeout:
                with self.lock:
                    self.not_sent += len(req.steps)
                continue
            self._send(req)

    def _send(self, req: Request) -> None:
        req.build()
        headers = {"Authorization": f"Bearer {self.tokens[req.device]}",
                   "Content-Type": "application/json"}
        path = "/api/v1/handoffs/batch" if req.batch else "/api/v1/handoffs"
        with self.lock:
            self.sent.update(req.scan_ids)
        started = time.monotonic()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with self.lock:
                self.requests += 1
                if attempt > 1:
                    self.retries += 1
            try:
                status, raw = call(self.port, "POST", path, req.body, headers)
            except (OSError, http.client.HTTPException) as exc:
                self._record(Answer(self.now(), req.batch, None, error=type(exc).__name__))
                retry = True
            else:
                retry = self._judge(req, status, raw)
            if not retry:
                return
            if time.monotonic() - started > RETRY_DEADLINE or self.now() > self.timeout:
                break
            time.sleep(min(1.0, 0.05 * 2 ** min(attempt, 5)))
        with self.lock:
            self.given_up.extend(s for s in req.scan_ids if s not in self.acked)

    def _record(self, answer: Answer) -> None:
        with self.lock:
            self.answers.append(answer)
            self.last_answer = max(self.last_answer, answer.t)

    def _judge(self, req: Request, status: int, raw: bytes) -> bool:
        """Record one answer; True when the request must be sent again."""
        t = self.now()
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        slug = body.get("error", "") if isinstance(body, dict) else ""
        if not req.batch or status != 200:
            self._record(Answer(t, req.batch, status, slug=slug))
            if status in (200, 201):
                self._ack(req.scan_ids[0], status)
                return False
            if status < 500:
                with self.lock:
                    for scan_id in req.scan_ids:
                        self.refused[scan_id] = slug or str(status)
                return False
            return True
        items = []
        retry = False
        for result, scan_id in zip(body.get("results", []), req.scan_ids, strict=False):
            item_status = int(result.get("status", 0))
            item_slug = (result.get("error") or {}).get("error", "")
            items.append((item_status, item_slug))
            if item_status in (200, 201):
                self._ack(scan_id, item_status)
            elif item_status >= 500:
                retry = True
            elif item_slug != "depends_on_refused":
                with self.lock:
                    self.refused[scan_id] = item_slug or str(item_status)
        if len(items) != len(req.scan_ids):
            retry = True
        # a scan refused only because an earlier one of its envelope got a 5xx is retried
        # with the batch; one refused for its own sake is not
        self._record(Answer(t, True, status, items=items))
        return retry

    def _ack(self, scan_id: str, status: int) -> None:
        with self.lock:
            self.acked.setdefault(scan_id, status)
            self.refused.pop(scan_id, None)


# --------------------------------------------------------------------------- faults


@dataclass
class Faults:
    kill_at: float | None = None
    killed_pid: int | None = None
    worker_back_at: float | None = None
    outage_start: float | None = None
    pg_stopped_at: float | None = None
    outage_end: float | None = None
    notes: list[str] = field(default_factory=list)


def wait_for(load: Load, share: float) -> bool:
    """Wait until ``share`` of the scans are acknowledged; False if the load ended first."""
    while load.running():
        if load.progress() >= share:
            return True
        time.sleep(0.02)
    return False


def inject_faults(load: Load, master: int, pg: TempPostgres, faults: Faults) -> None:
    if not wait_for(load, KILL_AT):
        faults.notes.append("the load ended before the worker kill")
        return
    before = worker_pids(master)
    busy = [pid for pid in before if process_state(pid) == "R"]
    victim = max(busy or before)  # a worker at work, if one is on a CPU now
    faults.kill_at = load.now()
    os.kill(victim, signal.SIGKILL)
    faults.killed_pid = victim

    def watch() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if worker_pids(master) - before:
                faults.worker_back_at = load.now()
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    if not wait_for(load, RESTART_AT):
        faults.notes.append("the load ended before the PostgreSQL restart")
        watcher.join(timeout=60)
        return
    faults.outage_start = load.now()
    pg.stop("fast")
    faults.pg_stopped_at = load.now()
    time.sleep(1.0)
    pg.start()
    pg.wait_accepting()
    faults.outage_end = load.now()
    watcher.join(timeout=60)


# --------------------------------------------------------------------------- reconcile


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def reconcile(pg: TempPostgres, net: Network, load: Load) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(pg.url) as conn:
        scan_rows = Tally(r[0] for r in conn.execute("SELECT scan_id FROM scan"))
        handoff_rows = Tally(r[0] for r in conn.execute("SELECT scan_id FROM handoff"))
        envelopes = conn.execute(
            "SELECT status, chain_length, count(*) FROM envelope GROUP BY 1, 2").fetchall()
    acked = set(load.acked)
    return {
        "scans_stored": sum(n for s, n in scan_rows.items() if s not in net.baseline_scans),
        "handoffs_stored": sum(n for s, n in handoff_rows.items()
                               if s not in net.baseline_handoffs),
        "duplicates": sorted({s for s, n in scan_rows.items() if n > 1}
                             | {s for s, n in handoff_rows.items()
                                if n > 1 and s not in net.baseline_handoffs}),
        "lost": sorted(s for s in acked if scan_rows[s] != 1 or handoff_rows[s] != 1),
        "unexpected": sorted((set(scan_rows) - net.baseline_scans - load.sent)
                             | (set(handoff_rows) - net.baseline_handoffs - load.sent)),
        "stored_unacknowledged": sorted(s for s in load.sent - acked if scan_rows[s]),
        "envelopes": {f"{status}/{length}": n for status, length, n in envelopes},
    }


def run_verify(env: dict[str, str]) -> dict[str, Any]:
    kt1 = Path(sys.executable).with_name("kt1")
    started = time.monotonic()
    proc = subprocess.run([str(kt1), "verify", "--all", "--json"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    out: dict[str, Any] = {"exit": proc.returncode,
                           "seconds": round(time.monotonic() - started, 2)}
    try:
        out["summary"] = json.loads(proc.stdout)["summary"]
    except (ValueError, KeyError):
        out["output"] = (proc.stdout + proc.stderr)[-2000:]
    return out


# --------------------------------------------------------------------------- figures


def figures(args: argparse.Namespace, net: Network, load: Load, faults: Faults,
            db: dict[str, Any], verify: dict[str, Any], durations: dict[str, float]
            ) -> tuple[dict[str, Any], list[Check]]:
    statuses: dict[str, Tally[str]] = {"single": Tally(), "batch": Tally()}
    refusals: Tally[str] = Tally()
    fives: list[tuple[float, int, str]] = []  # (t, status, where)
    conn_errors: list[tuple[float, str]] = []
    replays = 0
    for a in load.answers:
        where = "batch" if a.batch else "single"
        if a.status is None:
            conn_errors.append((a.t, a.error))
            statuses[where]["no answer"] += 1
            continue
        statuses[where][str(a.status)] += 1
        if a.status >= 500:
            fives.append((a.t, a.status, where))
        elif a.status == 200 and not a.batch:
            replays += 1
        elif a.status >= 400:
            refusals[a.slug or str(a.status)] += 1
        for item_status, item_slug in a.items:
            if item_status == 200:
                replays += 1
            elif item_status >= 500:
                fives.append((a.t, item_status, "batch item"))
            elif item_status >= 400:
                refusals[item_slug or str(item_status)] += 1

    grace = args.grace
    window = None
    if faults.outage_start is not None and faults.outage_end is not None:
        window = (faults.outage_start, faults.outage_end + grace)

    def in_window(t: float) -> bool:
        return window is not None and window[0] <= t <= window[1]

    by_status: dict[str, Any] = {}
    for t, status, where in fives:
        entry = by_status.setdefault(str(status), {
            "count": 0, "in_outage": 0, "outside": 0, "where": Tally(),
            "first_after_restart": None, "last_after_restart": None,
            "first_after_kill": None, "last_after_kill": None})
        entry["count"] += 1
        entry["where"][where] += 1
        entry["in_outage" if in_window(t) else "outside"] += 1
        for ref, key in ((faults.outage_start, "after_restart"), (faults.kill_at, "after_kill")):
            if ref is not None:
                rel = round(t - ref, 3)
                first, last = f"first_{key}", f"last_{key}"
                entry[first] = rel if entry[first] is None else min(entry[first], rel)
                entry[last] = rel if entry[last] is None else max(entry[last], rel)
    for entry in by_status.values():
        entry["where"] = dict(entry["where"])

    acked_statuses = Tally(load.acked.values())
    kill_ok = [t for t, _e in conn_errors
               if faults.kill_at is not None and faults.kill_at <= t <= faults.kill_at
               + KILL_ERRORS_WINDOW]
    out: dict[str, Any] = {
        "parameters": {"envelopes": args.envelopes, "clients": args.clients,
                       "workers": args.workers, "grace_s": grace,
                       "batch_envelopes": BATCH_ENVELOPES},
        "scans_planned": load.total,
        "requests_sent": load.requests,
        "retries": load.retries,
        "answers_by_status": {k: dict(v) for k, v in statuses.items()},
        "scan_results_in_batches": dict(Tally(str(st) for a in load.answers
                                              for st, _slug in a.items)),
        "scans_acknowledged": len(load.acked),
        "acknowledged_201": acked_statuses.get(201, 0),
        "acknowledged_200_replay": acked_statuses.get(200, 0),
        "replays_seen": replays,
        "refusals_by_slug": dict(refusals),
        "scans_given_up": len(load.given_up),
        "scans_not_sent": load.not_sent,
        "scans_refused_in_the_end": len(load.refused),
        "5xx_by_status": by_status,
        "connection_errors": {"count": len(conn_errors),
                              "kinds": dict(Tally(e for _t, e in conn_errors)),
                              "after_kill_s": [round(t - faults.kill_at, 3)
                                               for t, _e in conn_errors]
                              if faults.kill_at is not None else []},
        "faults": {
            "worker_killed_pid": faults.killed_pid,
            "kill_at_s": _r(faults.kill_at),
            "worker_replaced_after_s": _r(faults.worker_back_at - faults.kill_at)
            if faults.worker_back_at is not None and faults.kill_at is not None else None,
            "restart_command_at_s": _r(faults.outage_start),
            "pg_stopped_after_s": _r(faults.pg_stopped_at - faults.outage_start)
            if faults.pg_stopped_at is not None and faults.outage_start is not None else None,
            "outage_s": _r(faults.outage_end - faults.outage_start)
            if faults.outage_end is not None and faults.outage_start is not None else None,
            "load_ended_at_s": _r(load.last_answer),
            "notes": faults.notes,
        },
        "database": {k: (len(v) if isinstance(v, list) else v) for k, v in db.items()},
        "verify": verify,
        "durations_s": {k: round(v, 2) for k, v in durations.items()},
    }
    final = f"arrived/{5}"
    checks = [
        Check("faults during the load",
              faults.kill_at is not None and faults.worker_back_at is not None
              and faults.outage_end is not None and load.last_answer > faults.outage_end,
              "worker killed and replaced, PostgreSQL restarted, answers after both"
              if not faults.notes else "; ".join(faults.notes)),
        Check("every scan acknowledged (201 or 200 replay)",
              len(load.acked) == load.total,
              f"{len(load.acked)}/{load.total}; given up {len(load.given_up)}, "
              f"not sent (load timeout) {load.not_sent}, "
              f"refused {dict(Tally(load.refused.values()))}"),
        Check("no duplicate", not db["duplicates"], f"{len(db['duplicates'])} duplicated "
              f"scan ids {db['duplicates'][:5]}"),
        Check("no lost acknowledged scan", not db["lost"],
              f"{len(db['lost'])} acknowledged scan ids not stored exactly once "
              f"{db['lost'][:5]}"),
        Check("no stored scan the drill did not send", not db["unexpected"],
              f"{len(db['unexpected'])} {db['unexpected'][:5]}"),
        Check("every envelope arrived with its 5 links",
              db["envelopes"] == {final: args.envelopes}, str(db["envelopes"])),
        Check("kt1 verify --all is clean", verify["exit"] == 0,
              f"exit {verify['exit']}: {verify.get('summary') or verify.get('output')}"),
        Check("5xx only during the outage, and only 503",
              all(s == 503 and in_window(t) for t, s, _w in fives),
              f"{len(fives)} 5xx: {_five_text(by_status)}; outage window "
              f"{_window_text(window)}"),
        Check("connection errors only at the worker kill",
              len(kill_ok) == len(conn_errors),
              f"{len(conn_errors)} connection errors, {len(kill_ok)} within "
              f"{KILL_ERRORS_WINDOW:.0f} s of the kill"),
    ]
    out["checks"] = [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in checks]
    out["ok"] = all(c.ok for c in checks)
    return out, checks


def logged_exceptions(log: Path) -> dict[str, int]:
    """The exceptions gunicorn's workers logged: the last one of each chain, by its line,
    with the innermost frame of this project's code it passed through."""
    if not log.exists():
        return {}
    found: Tally[str] = Tally()
    pending: str | None = None
    frame = ""
    in_traceback = False
    for line in log.read_text(errors="replace").splitlines():
        where = _KT1_FRAME.search(line)
        if where:
            frame = f" [at {where[1]}:{where[2]} {where[3]}]"
        elif line.startswith("Traceback"):
            in_traceback = True
        elif line.startswith(("During handling", "The above exception")):
            pending = None  # a cause: the exception raised from it follows
        elif in_traceback and line and not line[0].isspace():
            pending, in_traceback = line[:140] + frame, False
        elif pending and line and not line[0].isspace():
            found[pending] += 1
            pending, frame = None, ""
    if pending:
        found[pending] += 1
    return dict(found.most_common(10))


_KT1_FRAME = re.compile(r'File "[^"]*/((?:kt1|printers)/[^"]+)", line (\d+), in (\S+)')


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _five_text(by_status: dict[str, Any]) -> str:
    if not by_status:
        return "none"
    return ", ".join(f"{s} x{e['count']} ({e['in_outage']} in the window, "
                     f"{e['outside']} outside)" for s, e in sorted(by_status.items()))


def _window_text(window: tuple[float, float] | None) -> str:
    return "none (no restart)" if window is None else f"{window[0]:.2f}-{window[1]:.2f} s"


def print_report(fig: dict[str, Any], checks: list[Check]) -> None:
    p = fig["parameters"]
    f = fig["faults"]
    print()
    print(f"KT1 Track drill: {p['envelopes']} envelopes, {p['clients']} clients, "
          f"gunicorn {p['workers']} sync workers on the drill's own PostgreSQL")
    print(f"  requests sent           {fig['requests_sent']:>6}  (retries {fig['retries']})")
    ans = fig["answers_by_status"]
    print(f"  answers by status       single scans {ans['single']}, batches {ans['batch']}")
    print(f"  scans within batches    {fig['scan_results_in_batches']}")
    print(f"  scans acknowledged      {fig['scans_acknowledged']:>6} of "
          f"{fig['scans_planned']}  (201: {fig['acknowledged_201']}, "
          f"first acknowledged as a 200 replay: {fig['acknowledged_200_replay']})")
    print(f"  replays seen (200)      {fig['replays_seen']:>6}")
    print(f"  refusals by slug        {fig['refusals_by_slug'] or 'none'}")
    print(f"  worker kill             pid {f['worker_killed_pid']} at {f['kill_at_s']} s, "
          f"replaced after {f['worker_replaced_after_s']} s")
    print(f"  PostgreSQL restart      at {f['restart_command_at_s']} s, stopped after "
          f"{f['pg_stopped_after_s']} s, accepting again after {f['outage_s']} s")
    print(f"  load ended at           {f['load_ended_at_s']} s")
    for status, e in sorted(fig["5xx_by_status"].items()):
        print(f"  5xx {status}                 {e['count']:>6}  ({e['where']}; "
              f"{e['in_outage']} in the outage window, {e['outside']} outside; "
              f"{e['first_after_restart']}..{e['last_after_restart']} s after the restart "
              f"command, {e['first_after_kill']}..{e['last_after_kill']} s after the kill)")
    if not fig["5xx_by_status"]:
        print("  5xx                          0")
    ce = fig["connection_errors"]
    print(f"  connection errors       {ce['count']:>6}  {ce['kinds'] or ''} "
          f"{'at ' + str(ce['after_kill_s']) + ' s after the kill' if ce['count'] else ''}")
    d = fig["database"]
    print(f"  scans stored            {d['scans_stored']:>6}  (handoffs {d['handoffs_stored']})")
    print(f"  duplicates              {d['duplicates']:>6}")
    print(f"  lost acknowledged scans {d['lost']:>6}")
    print(f"  stored, never sent      {d['unexpected']:>6}")
    print(f"  envelopes (status/links) {d['envelopes']}")
    v = fig["verify"]
    print(f"  kt1 verify --all        exit {v['exit']}  "
          f"{v.get('summary') or v.get('output', '')}")
    print(f"  server errors logged    {sum(fig['server_errors_logged'].values()):>6}")
    for line, n in fig["server_errors_logged"].items():
        print(f"      {n:>4} x {line}")
    print(f"  durations               {fig['durations_s']}")
    print()
    for c in checks:
        print(f"  [{'ok' if c.ok else 'FAILED'}] {c.name}: {c.detail}")
    print()
    print("drill passed" if fig["ok"] else "drill FAILED")


# --------------------------------------------------------------------------- main


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a test's timeout, a CI cancel) unwinds like Ctrl+C, so cleanup runs."""

    def raise_interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args: argparse.Namespace) -> dict[str, Any]:
    durations: dict[str, float] = {}
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="kt1-drill-", dir=temp_parent()))
    pg: TempPostgres | None = None
    server: subprocess.Popen[bytes] | None = None
    try:
        instance = tmp / "instance"
        instance.mkdir()
        pg = TempPostgres(tmp)
        t = time.monotonic()
        pg.init()
        pg.start()
        pg.wait_accepting()
        pg.create_database()
        durations["postgres_up"] = time.monotonic() - t
        t = time.monotonic()
        net = build_network(pg, instance, args.envelopes)
        durations["setup"] = time.monotonic() - t
        env = app_env(pg, instance)
        t = time.monotonic()
        port = free_port()
        server = start_gunicorn(env, args.workers, port, tmp / "gunicorn.log")
        durations["gunicorn_up"] = time.monotonic() - t
        load = Load(port, net.tokens, make_plan(net.numbers, args.clients),
                    args.load_timeout)
        faults = Faults()
        load.start()
        inject_faults(load, server.pid, pg, faults)
        load.join()
        durations["load"] = load.now()
        stop_gunicorn(server)
        server = None
        t = time.monotonic()
        db = reconcile(pg, net, load)
        durations["reconcile"] = time.monotonic() - t
        verify = run_verify(env)
        durations["verify"] = verify["seconds"]
        durations["total"] = time.monotonic() - started
        fig, checks = figures(args, net, load, faults, db, verify, durations)
        fig["server_errors_logged"] = logged_exceptions(tmp / "gunicorn.log")
        fig["_checks"] = checks
        return fig
    finally:
        if server is not None:
            stop_gunicorn(server)
        if pg is not None:
            pg.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--envelopes", type=int, default=60,
                        help="envelopes taken through 3 scans each (default 60)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=2,
                        help="gunicorn sync workers (default 2; at least 2)")
    parser.add_argument("--grace", type=float, default=1.0,
                        help="seconds after PostgreSQL accepts again during which a 503 "
                             "still counts as the outage's (default 1.0)")
    parser.add_argument("--load-timeout", type=float, default=120.0,
                        help="send no new request after this many seconds of load "
                             "(default 120)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.workers < 2:
        parser.error("--workers must be at least 2 (one is killed)")
    if args.envelopes < 10 or args.clients < 1:
        parser.error("--envelopes at least 10, --clients at least 1")
    missing = missing_prerequisites()
    if missing:
        print("drill cannot run: " + "; ".join(missing), file=sys.stderr)
        return 2
    try:
        with terminate_as_interrupt():
            fig = run(args)
    except DrillError as exc:
        print(f"drill could not run: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("drill interrupted; its PostgreSQL and gunicorn are stopped and its "
              "temporary directory removed", file=sys.stderr)
        return 130
    checks = fig.pop("_checks")
    if args.json:
        print(json.dumps(fig, indent=2, ensure_ascii=False, default=str))
    else:
        print_report(fig, checks)
    return 0 if fig["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
