"""The background worker (``kt1 worker``, docs/worker.md): what happens because time passes.

One long-running process does, round after round:

* **print jobs**: retries the queued jobs whose backoff has passed
  (:func:`kt1.services.printing.retry_due`), so a label sent to a printer that was off comes
  out by itself once the printer is back, exactly once: a job is claimed by one conditional
  ``UPDATE`` (queued -> printing) that only one process can win;
* **the daily checkpoint**: once a day, from ``KT1_CHECKPOINT_AT`` (Vietnam time), a signed
  checkpoint of the custody log (:func:`kt1.services.checkpoints.create_checkpoint`), unless
  one was already made that day;
* **notices**: an envelope past its delivery deadline (verify's ``deadline_missed``) is told
  to the sending unit's security officers and the holding unit's heads; an incident nobody
  acknowledged in time (rule T2) to its recipients. Each notice is a row of
  ``worker_notice`` (their inbox), one per (kind, item, person), and also an email when
  ``KT1_SMTP_URL`` is set and the person has an address: never twice for the same thing;
* **purging** sign-in sessions (``web_session``) and sign-in attempts kept past their time.

It records a heartbeat (``worker_heartbeat``): its id (``host:pid``), start, last beat, code
version and the schema heads it runs with; :func:`heartbeat_age` reads it for health checks.

Two workers may run at once on PostgreSQL: each holds a *shared* advisory lock on
:data:`WORKER_LOCK` for its lifetime (``kt1 db upgrade`` needs it *exclusive*), and each task
but the print jobs runs under a per-task advisory lock taken with ``pg_try_advisory_lock``,
so the other worker skips it that round. On SQLite run one worker (docs/worker.md).

Every unit of work is one transaction (or, for a print job, claim / print / record): a stop
request (SIGTERM) is looked at between units, never inside one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from importlib import metadata
from typing import Any

from sqlalchemy import delete, or_, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from kt1.errors import ConfigError, KT1Error, WorkerRunningError
from kt1.models import Envelope, Incident, Unit, User
from kt1.models.enums import IncidentStatus, Role
from kt1.models.rules import Checkpoint
from kt1.models.signin import SignInAttempt, WebSession
from kt1.models.worker import WorkerHeartbeat, WorkerNotice
from kt1.services import notices as mail
from kt1.services.context import Ctx
from kt1.services.deadlines import (
    SECONDS_PER_DAY,
    VIETNAM,
    epoch_of,
    from_epoch,
    load_calendar,
    local_date,
)
from kt1.services.tx import failure_summary, rollback_quietly, transactional

log = logging.getLogger("kt1.worker")

#: PostgreSQL advisory lock (one bigint key) every worker holds *shared* for its lifetime and
#: ``kt1 db upgrade`` takes *exclusive*. "KT" + 2, so it names this use in pg_locks.
WORKER_LOCK = 0x4B5402
#: First key of the per-task advisory locks (the second is the task's number in TASKS).
TASK_LOCK = 0x4B5403
TASKS = ("print_jobs", "checkpoint", "notices", "purge")

#: Seconds before a refused daily checkpoint is tried again.
CHECKPOINT_RETRY = 600.0
OVERDUE = "overdue"
INCIDENT_UNACKNOWLEDGED = "incident_unacknowledged"


# --------------------------------------------------------------------------- settings


def _seconds(cfg: Any, key: str, default: float, minimum: float = 0.01) -> float:
    raw = cfg.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"KT1_{key} must be a number of seconds, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"KT1_{key} must be at least {minimum} seconds.")
    return value


def parse_time_of_day(raw: str | None) -> time | None:
    """``"02:00"`` -> 02:00; ``""``, ``"off"`` or ``"none"``: no daily checkpoint."""
    value = (raw or "").strip().lower()
    if value in ("", "off", "none", "no"):
        return None
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"KT1_CHECKPOINT_AT must be a time of day like 02:00 (or off), "
                          f"got {raw!r}") from None


@dataclass(frozen=True)
class WorkerSettings:
    """The worker's settings (KT1_* variables, docs/worker.md)."""

    #: Seconds between rounds (``KT1_WORKER_POLL_SECONDS``).
    poll: float = 5.0
    #: Vietnam time of day from which the day's checkpoint is made (``KT1_CHECKPOINT_AT``).
    checkpoint_at: time | None = time(2, 0)
    #: Seconds between two looks for overdue envelopes and unacknowledged incidents.
    notice_every: float = 300.0
    #: Seconds between two purges of sign-in records.
    purge_every: float = 3600.0
    #: Ended or expired sessions, and sign-in attempts, are kept this long before purging.
    session_keep: timedelta = timedelta(days=7)
    attempt_keep: timedelta = timedelta(days=90)
    #: How long a signed-in session lasts (as for the web app: KT1_SESSION_IDLE_MINUTES...).
    session_idle: timedelta = timedelta(minutes=120)
    session_max: timedelta = timedelta(hours=12)
    #: A heartbeat older than this is a worker that is gone (``KT1_WORKER_STALE_SECONDS``).
    stale_after: timedelta = timedelta(seconds=120)

    @classmethod
    def from_mapping(cls, cfg: Any) -> WorkerSettings:
        return cls(
            poll=_seconds(cfg, "WORKER_POLL_SECONDS", 5.0),
            checkpoint_at=parse_time_of_day(cfg.get("CHECKPOINT_AT", "02:00")),
            notice_every=_seconds(cfg, "NOTICE_EVERY_SECONDS", 300.0, 0),
            purge_every=_seconds(cfg, "PURGE_EVERY_SECONDS", 3600.0, 0),
            session_keep=timedelta(days=_seconds(cfg, "SESSION_KEEP_DAYS", 7, 0)),
            attempt_keep=timedelta(days=_seconds(cfg, "SIGN_IN_ATTEMPT_KEEP_DAYS", 90, 0)),
            session_idle=timedelta(minutes=int(cfg.get("SESSION_IDLE_MINUTES", 120))),
            session_max=timedelta(hours=int(cfg.get("SESSION_MAX_HOURS", 12))),
            stale_after=timedelta(seconds=_seconds(cfg, "WORKER_STALE_SECONDS", 120.0, 1)),
        )


def code_version() -> str:
    """The installed KT1 Track version."""
    try:
        return metadata.version("kt1-track")
    except metadata.PackageNotFoundError:
        return "unknown"


def schema_heads_text(heads: set[str] | None = None) -> str:
    """The migration heads this code runs with, as stored in the heartbeat."""
    from kt1.database import head_revisions

    return ",".join(sorted(heads if heads is not None else head_revisions()))


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --------------------------------------------------------------------------- heartbeat


@transactional
def beat(ctx: Ctx, worker_id: str, version: str, heads: str, *, stopped: bool = False
         ) -> None:
    """Write the worker's heartbeat (the row is made on the first beat)."""
    now = ctx.now()
    row = ctx.session.get(WorkerHeartbeat, worker_id)
    if row is None:
        row = WorkerHeartbeat(worker_id=worker_id, started_at=now, beat_at=now,
                              version=version, schema_heads=heads)
        ctx.session.add(row)
    row.beat_at, row.version, row.schema_heads = now, version, heads
    row.stopped_at = now if stopped else None


def heartbeat_age(ctx: Ctx) -> timedelta | None:
    """How long ago a worker last beat (the newest beat of any worker); None: none ever ran.

    A worker beats at every round (every ``KT1_WORKER_POLL_SECONDS``), so an age much above
    that means no worker is running (a worker stopped cleanly stops beating too).
    """
    last = ctx.session.execute(select(WorkerHeartbeat.beat_at)
                               .order_by(WorkerHeartbeat.beat_at.desc()).limit(1)).scalar()
    return None if last is None else max(ctx.now() - last, timedelta(0))


def live_workers(ctx: Ctx, stale_after: timedelta = WorkerSettings.stale_after
                 ) -> list[WorkerHeartbeat]:
    """Workers that have not stopped and beat within ``stale_after``."""
    return list(ctx.session.execute(
        select(WorkerHeartbeat).where(WorkerHeartbeat.stopped_at.is_(None),
                                      WorkerHeartbeat.beat_at >= ctx.now() - stale_after)
        .order_by(WorkerHeartbeat.worker_id)).scalars())


# --------------------------------------------------------------------------- locks


class Locks:
    """The worker's own connection, holding its PostgreSQL advisory locks (none on SQLite).

    Session-level locks live as long as the connection; it is in autocommit, so it never
    sits idle inside a transaction.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_pg = engine.dialect.name == "postgresql"
        self.conn: Connection | None = None

    def _connection(self) -> Connection:
        if self.conn is None or self.conn.closed or self.conn.invalidated:
            self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self.conn

    def hold_shared(self) -> bool:
        """Take the shared worker lock (False while ``kt1 db upgrade`` holds it exclusive)."""
        if not self.is_pg:
            return True
        return bool(self._connection().execute(
            text("SELECT pg_try_advisory_lock_shared(:k)"), {"k": WORKER_LOCK}).scalar())

    def check(self) -> bool:
        """Re-take the shared lock if the connection was lost (a database restart)."""
        if not self.is_pg:
            return True
        if self.conn is not None and not self.conn.closed and not self.conn.invalidated:
            try:
                self.conn.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:
                self.close()
        return self.hold_shared()

    @contextmanager
    def task(self, name: str) -> Iterator[bool]:
        """Hold the task's lock for the block; yields False when another worker has it."""
        if not self.is_pg:
            yield True
            return
        conn = self._connection()
        key = {"a": TASK_LOCK, "b": TASKS.index(name)}
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:a, :b)"), key).scalar())
        try:
            yield got
        finally:
            if got:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), key)
                except SQLAlchemyError:
                    self.close()  # closing the connection releases it

    def close(self) -> None:
        if self.conn is not None:
            with suppress(SQLAlchemyError):
                self.conn.close()
            self.conn = None


@contextmanager
def upgrade_guard(ctx: Ctx, version: str | None = None, heads: str | None = None
                  ) -> Iterator[None]:
    """Hold off the workers while the schema is upgraded; refuse while one of another
    version runs (``worker_running``, naming them from the heartbeat table).

    PostgreSQL: the exclusive :data:`WORKER_LOCK`, taken with ``pg_try_advisory_lock``. When
    a worker holds it shared and every running worker is of this very version (code and
    schema heads), the upgrade goes on. SQLite: refused when a fresh heartbeat (not stopped,
    within ``KT1_WORKER_STALE_SECONDS``) of another version exists.
    """
    version = version or code_version()
    heads = heads if heads is not None else schema_heads_text()
    stale = WorkerSettings.from_mapping(_config()).stale_after
    bind = ctx.session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    conn: Connection | None = None
    got = False
    if engine.dialect.name == "postgresql":
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                {"k": WORKER_LOCK}).scalar())
    try:
        if not got:
            try:
                workers = live_workers(ctx, stale)
            except SQLAlchemyError:  # no heartbeat table yet: a schema older than workers
                rollback_quietly(ctx.session)
                workers = []
            ctx.session.rollback()
            others = [w for w in workers if (w.version, w.schema_heads) != (version, heads)]
            if others or (conn is not None and not workers):
                names = ", ".join(
                    f"{w.worker_id} (version {w.version}, schema {w.schema_heads or '-'}, "
                    f"beat {w.beat_at.astimezone(VIETNAM):%H:%M:%S})" for w in others
                ) or "(a worker holds the lock but has no fresh heartbeat)"
                raise WorkerRunningError(workers=names)
        yield
    finally:
        if conn is not None:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": WORKER_LOCK})
            conn.close()


def _config() -> Any:
    try:
        from flask import current_app

        return current_app.config
    except RuntimeError:  # outside an app: the defaults
        return {}


# --------------------------------------------------------------------------- checkpoint


def checkpoint_due(ctx: Ctx, at: time | None) -> bool:
    """Is it past today's checkpoint time (Vietnam) with no checkpoint made today?"""
    if at is None:
        return False
    now = ctx.now()
    local_now = now.astimezone(VIETNAM)
    if local_now.time() < at:
        return False
    today = local_date(now)
    start = datetime.combine(today, time(0), tzinfo=VIETNAM)
    made = ctx.session.execute(select(Checkpoint.id).where(Checkpoint.created_at >= start)
                               .limit(1)).first()
    ctx.session.rollback()
    return made is None


def daily_checkpoint(ctx: Ctx, at: time | None) -> Checkpoint | None:
    """Make today's checkpoint if it is due (None when not due, or the log is empty)."""
    from kt1.services import checkpoints

    if not checkpoint_due(ctx, at):
        return None
    try:
        return checkpoints.create_checkpoint(ctx)
    except checkpoints.EmptyLogError:
        return None


# --------------------------------------------------------------------------- notices


@dataclass(frozen=True)
class Due:
    """Something to tell: its kind, the item (envelope number or incident id), to whom,
    and the email's subject line and body (never a subject nor a report text)."""

    kind: str
    ref: str
    users: tuple[int, ...]
    subject: str
    body: str


def _local(moment: datetime | None) -> str:
    return moment.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y") if moment else "-"


#: Envelopes verified at a time when looking for overdue ones (a stop is looked at between).
OVERDUE_CHUNK = 2000


def overdue_envelopes(ctx: Ctx, stop: Callable[[], bool] | None = None) -> list[Due]:
    """Envelopes not yet delivered whose first delivery attempt is past its deadline.

    ``stop``: asked between chunks of envelopes; once it says so the look is abandoned
    (nothing is written yet) and the empty list returned."""
    from kt1.services.oversight import BEFORE_DELIVERY, verify_numbers

    rows = ctx.session.execute(
        select(Envelope.number, Envelope.sender_unit_id, Envelope.holder_unit_id, Unit.code)
        .join(Unit, Unit.id == Envelope.holder_unit_id)
        .where(Envelope.status.in_(BEFORE_DELIVERY)).order_by(Envelope.id)).all()
    if not rows:
        return []
    numbers, now = [r[0] for r in rows], ctx.now()
    reports = {}
    for start in range(0, len(numbers), OVERDUE_CHUNK):
        if stop is not None and stop():
            return []
        reports.update(verify_numbers(ctx, numbers[start:start + OVERDUE_CHUNK], now))
    out = []
    for number, sender_id, holder_id, holder_code in rows:
        report = reports.get(number)
        if report is None or "deadline_missed" not in report.codes:
            continue
        users = ctx.session.execute(select(User.id).where(
            User.is_active.is_(True),
            ((User.role == Role.SECURITY_OFFICER) & (User.unit_id == sender_id))
            | (User.is_unit_head.is_(True) & (User.unit_id == holder_id)),
        ).order_by(User.id)).scalars().all()
        body = (f"Bưu gửi {number} đã quá chỉ tiêu thời gian: chưa phát lần đầu trước "
                f"{_local(report.due_at)}. Đơn vị đang giữ: {holder_code}.\n\n"
                f"{ctx.settings.public_url}/officer/envelopes/{number}\n")
        out.append(Due(OVERDUE, number, tuple(users),
                       f"[KT1 Track] Bưu gửi {number} quá hạn phát", body))
    return out


def unacknowledged_incidents(ctx: Ctx) -> list[Due]:
    """Open incidents nobody acknowledged within ``KT1_INCIDENT_ACK_WORKING_DAYS`` working
    days (rule T2), each to its recipients."""
    from kt1.services.incidents import recipients
    from kt1.services.rules.incidents import KIND_VI

    pending = ctx.session.execute(select(Incident).where(
        Incident.acknowledged_at.is_(None), Incident.status == IncidentStatus.OPEN)
        .order_by(Incident.id)).scalars().all()
    if not pending:
        return []
    calendar = load_calendar(ctx)
    limit = ctx.settings.incident_ack_working_days * SECONDS_PER_DAY
    now = epoch_of(ctx.now())
    out = []
    for incident in pending:
        due = calendar.add_working_seconds(epoch_of(incident.opened_at), limit)
        if now <= due:
            continue
        kind = KIND_VI.get(str(incident.kind), str(incident.kind))
        body = (f"Sự cố số {incident.id} ({kind}) chưa ai xác nhận đã nắm; hạn xác nhận là "
                f"{_local(from_epoch(due))}.\n\nXin mở trang sự cố để xem và xác nhận:\n"
                f"{ctx.settings.public_url}/incidents/{incident.id}\n")
        out.append(Due(INCIDENT_UNACKNOWLEDGED, str(incident.id),
                       tuple(u.id for u in recipients(ctx, incident)),
                       f"[KT1 Track] Sự cố số {incident.id} chưa được xác nhận", body))
    return out


@transactional
def _record_notices(ctx: Ctx, due: list[Due]) -> list[tuple[int, Due, int]]:
    """Write the notices not given yet; returns (notice id, what, user id) of the new ones."""
    if not due:
        return []
    given = {(kind, ref, user_id) for kind, ref, user_id in ctx.session.execute(
        select(WorkerNotice.kind, WorkerNotice.ref, WorkerNotice.user_id)
        .where(WorkerNotice.kind.in_({d.kind for d in due})))}
    now = ctx.now()
    new: list[tuple[WorkerNotice, Due]] = []
    for d in due:
        for user_id in d.users:
            if (d.kind, d.ref, user_id) in given:
                continue
            row = WorkerNotice(kind=d.kind, ref=d.ref, user_id=user_id, created_at=now)
            ctx.session.add(row)
            new.append((row, d))
    ctx.session.flush()
    return [(row.id, d, row.user_id) for row, d in new]


@transactional
def _mark_emailed(ctx: Ctx, ids: list[int]) -> None:
    for row in ctx.session.execute(select(WorkerNotice).where(WorkerNotice.id.in_(ids))
                                   ).scalars():
        row.emailed_at = ctx.now()


def give_notices(ctx: Ctx, stop: Callable[[], bool] | None = None) -> int:
    """Record (and email) the overdue and unacknowledged-incident notices not given yet.

    The notices are committed before any email goes out, and an email is sent only for a
    notice this call wrote: a notice (and its email) is given at most once, even when two
    workers look at the same moment (the table's unique key settles it).
    """
    due = overdue_envelopes(ctx, stop) + unacknowledged_incidents(ctx)
    ctx.session.rollback()
    if stop is not None and stop():
        return 0  # asked to stop before anything was written: the next round looks again
    new = _record_notices(ctx, due)
    if not new or not ctx.settings.smtp_url:
        return len(new)
    emails = {user_id: email for user_id, email in ctx.session.execute(
        select(User.id, User.email).where(User.id.in_({user_id for _i, _d, user_id in new}),
                                          User.email.is_not(None)))}
    ctx.session.rollback()
    sent: list[int] = []
    letters = [(notice_id, mail.Notice(to=str(emails[user_id]), subject=d.subject,
                                       body=d.body))
               for notice_id, d, user_id in new if emails.get(user_id)]
    try:
        mail.send(ctx.settings, [n for _i, n in letters])
        sent = [i for i, _n in letters]
    except Exception as exc:  # the inbox has them; no content in the log
        log.warning("worker notices not emailed (%d): %s", len(letters), type(exc).__name__)
    if sent:
        _mark_emailed(ctx, sent)
    return len(new)


def notices_for(ctx: Ctx, user: User, limit: int = 200) -> list[WorkerNotice]:
    """The user's notices from the worker, newest first."""
    return list(ctx.session.execute(
        select(WorkerNotice).where(WorkerNotice.user_id == user.id)
        .order_by(WorkerNotice.created_at.desc(), WorkerNotice.id.desc()).limit(limit)
    ).scalars())


# --------------------------------------------------------------------------- purge


@dataclass(frozen=True)
class Purged:
    sessions: int
    attempts: int
    heartbeats: int


@transactional
def purge(ctx: Ctx, settings: WorkerSettings) -> Purged:
    """Delete sign-in sessions ended or expired more than ``session_keep`` ago, sign-in
    attempts older than ``attempt_keep`` (throttling looks back 15 minutes), and heartbeats
    of workers gone for a week."""
    now = ctx.now()
    keep = settings.session_keep
    sessions = ctx.session.execute(delete(WebSession).where(or_(
        WebSession.ended_at < now - keep,
        WebSession.last_seen_at < now - settings.session_idle - keep,
        WebSession.created_at < now - settings.session_max - keep,
    )).execution_options(synchronize_session=False))
    attempts = ctx.session.execute(delete(SignInAttempt).where(
        SignInAttempt.at < now - settings.attempt_keep
    ).execution_options(synchronize_session=False))
    beats = ctx.session.execute(delete(WorkerHeartbeat).where(
        WorkerHeartbeat.beat_at < now - timedelta(days=7)
    ).execution_options(synchronize_session=False))
    return Purged(int(getattr(sessions, "rowcount", 0) or 0),
                  int(getattr(attempts, "rowcount", 0) or 0),
                  int(getattr(beats, "rowcount", 0) or 0))


# --------------------------------------------------------------------------- the loop


@dataclass
class Round:
    """What one round did."""

    printed: int = 0
    print_outcomes: list[Any] = field(default_factory=list)
    checkpoint: int | None = None
    notices: int = 0
    purged: Purged | None = None
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Worker:
    """Runs rounds until asked to stop (:attr:`stop`, set by SIGTERM in ``kt1 worker``)."""

    def __init__(self, make_ctx: Callable[[], Ctx], settings: WorkerSettings, engine: Engine,
                 *, worker_id: str | None = None) -> None:
        self.make_ctx = make_ctx
        self.settings = settings
        self.worker_id = worker_id or worker_identity()
        self.version = code_version()
        self.heads = schema_heads_text()
        self.locks = Locks(engine)
        self.stop = threading.Event()
        self._last: dict[str, float] = {}

    # -- life cycle
    def start(self) -> None:
        """Take the shared worker lock (waiting while an upgrade holds it) and beat."""
        while not self.locks.hold_shared():
            log.info("waiting: a database upgrade holds the worker lock")
            if self.stop.wait(min(self.settings.poll, 2.0)):
                return
        beat(self.make_ctx(), self.worker_id, self.version, self.heads)
        log.info("worker %s started (version %s, schema %s)", self.worker_id, self.version,
                 self.heads)

    def finish(self) -> None:
        try:
            beat(self.make_ctx(), self.worker_id, self.version, self.heads, stopped=True)
        except Exception as exc:  # the database may be gone; stop anyway
            log.warning("last heartbeat not written: %s", type(exc).__name__)
        finally:
            self.locks.close()
        log.info("worker %s stopped", self.worker_id)

    def run(self, *, once: bool = False) -> None:
        self.start()
        try:
            while not self.stop.is_set():
                self.round()
                if once or self.stop.wait(self.settings.poll):
                    break
        finally:
            self.finish()

    # -- one round
    def _every(self, name: str, seconds: float, clock: float) -> bool:
        last = self._last.get(name)
        return last is None or clock - last >= seconds

    def _task(self, result: Round, name: str, fn: Callable[[Ctx], None]) -> None:
        if self.stop.is_set():
            return
        ctx = self.make_ctx()
        try:
            with self.locks.task(name) as mine:
                if not mine:
                    result.skipped.append(name)
                    return
                fn(ctx)
        except (KT1Error, SQLAlchemyError, OSError) as exc:
            rollback_quietly(ctx.session)
            result.failed.append(name)
            log.warning("worker task %s failed: %s", name, failure_summary(exc))
        except Exception as exc:  # a bug in one task must not stop the others
            rollback_quietly(ctx.session)
            result.failed.append(name)
            log.error("worker task %s failed: %s", name, failure_summary(exc))

    def round(self) -> Round:
        """One round of every task that is due (all of them with ``--once``)."""
        from time import monotonic

        from kt1.services import printing

        result = Round()
        try:
            if not self.locks.check():  # lost with its connection, and an upgrade has it
                log.warning("a database upgrade holds the worker lock: round skipped")
                result.skipped = list(TASKS)
                return result
            beat(self.make_ctx(), self.worker_id, self.version, self.heads)
        except (KT1Error, SQLAlchemyError) as exc:
            log.warning("heartbeat not written: %s", failure_summary(exc))
        clock = monotonic()

        def print_jobs(ctx: Ctx) -> None:
            outcomes = printing.retry_due(ctx, stop=self.stop.is_set)
            result.print_outcomes = outcomes
            result.printed = sum(1 for o in outcomes if o.is_done)
            for o in outcomes:
                log.info("print job %s: %s%s", o.job_id, o.state,
                         f" ({o.reason})" if o.reason and not o.is_done else "")

        def checkpoint(ctx: Ctx) -> None:
            made = daily_checkpoint(ctx, self.settings.checkpoint_at)
            if made is not None:
                result.checkpoint = made.id
                log.info("checkpoint %s made: %s handoffs", made.id, made.tree_size)

        def notices(ctx: Ctx) -> None:
            result.notices = give_notices(ctx, stop=self.stop.is_set)
            if not self.stop.is_set():
                self._last["notices"] = clock
            if result.notices:
                log.info("%d notice(s) given", result.notices)

        def purge_task(ctx: Ctx) -> None:
            result.purged = purge(ctx, self.settings)
            self._last["purge"] = clock

        self._task(result, "print_jobs", print_jobs)
        # A refused checkpoint (no key, a log that no longer extends the last checkpoint) is
        # tried again after CHECKPOINT_RETRY seconds, not every round.
        if self._every("checkpoint_failed", CHECKPOINT_RETRY, clock):
            self._task(result, "checkpoint", checkpoint)
            if "checkpoint" in result.failed:
                self._last["checkpoint_failed"] = clock
        if self._every("notices", self.settings.notice_every, clock):
            self._task(result, "notices", notices)
        if self._every("purge", self.settings.purge_every, clock):
            self._task(result, "purge", purge_task)
        # No transaction is left open between rounds (on SQLite it would hold the lock).
        rollback_quietly(self.make_ctx().session)
        return result
