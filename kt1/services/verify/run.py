"""Running a verification: which envelopes, one snapshot, three ordered streams merged
envelope by envelope, and worker processes for a large PostgreSQL database.

Envelopes, their handoffs and their manifest lines are streamed in three cursors ordered by
envelope id (COPY on PostgreSQL, read straight from libpq; a plain cursor on SQLite) and
merged, so memory stays flat however large the database. A full check of a large PostgreSQL
database is split into blocks of envelopes checked by worker processes that read the same
snapshot.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as sql_text

from kt1.errors import UnknownEnvelopeError
from kt1.models import Envelope
from kt1.services import chain
from kt1.services.checkpoints import begin_snapshot
from kt1.services.context import Ctx
from kt1.services.deadlines import SECONDS_PER_DAY, UTC_OFFSET, day_number
from kt1.services.identifiers import parse_number
from kt1.services.rules.facts import LINK_INDEX, EnvelopeFacts, text
from kt1.services.verify.findings import (
    EnvelopeReport,
    NothingToVerifyError,
    make_finding,
    verdict,
)
from kt1.services.verify.replay import check_envelope
from kt1.services.verify.wire import Sql, copy_rows, cursor_rows
from kt1.services.verify.world import StoredWorld

_EID = LINK_INDEX["envelope_id"]


def _select_ids(ctx: Ctx, numbers: Iterable[str]) -> list[int]:
    s = ctx.settings
    codes = [str(parse_number(raw, s.service_letters, s.country_code)) for raw in numbers]
    found = {number: id_ for number, id_ in ctx.session.execute(
        select(Envelope.number, Envelope.id).where(Envelope.number.in_(codes)))}
    for code in codes:
        if code not in found:
            raise UnknownEnvelopeError(number=code)
    return sorted(set(found.values()))


def since_moment(since: date) -> datetime:
    """Midnight at the start of ``since`` in Vietnam, in UTC."""
    return datetime.fromtimestamp(day_number(since) * SECONDS_PER_DAY - UTC_OFFSET, UTC)


#: Below this many envelopes one process checks everything; above, ``workers`` processes
#: each check blocks of ``BLOCK`` envelopes (PostgreSQL only).
PARALLEL_MIN = 50_000
BLOCK = 25_000


def verify(ctx: Ctx, numbers: Sequence[str] | None = None, since: date | None = None, *,
           now: datetime | None = None, batch: int = 10_000, workers: int | None = None,
           block: int = BLOCK) -> Iterator[EnvelopeReport]:
    """Check the custody record of the given envelopes, or all of them.

    ``numbers``: only these (an unknown number is an error before anything is checked).
    ``since``: only envelopes with a handoff recorded on or after that day (Vietnam time);
    their whole chain is checked. Reports come in envelope id order, one by one; the work
    runs in one read-only snapshot that ends when the iterator is exhausted or closed.

    ``workers``: processes that check blocks of envelopes side by side when verifying a
    large PostgreSQL database in full (default: one per CPU, at most four, from
    :data:`PARALLEL_MIN` envelopes on); every process reads the same snapshot.
    """
    if ctx.session.execute(select(Envelope.id).limit(1)).first() is None:
        raise NothingToVerifyError()
    ids = _select_ids(ctx, numbers) if numbers else None
    moment = now or ctx.now()
    if ids is None and since is None and ctx.session.get_bind().dialect.name == "postgresql":
        low, high = ctx.session.execute(select(func.min(Envelope.id), func.max(Envelope.id))).one()
        if workers is None:
            workers = min(os.cpu_count() or 1, 4) if high - low + 1 >= PARALLEL_MIN else 1
        if workers > 1:
            return _parallel(ctx, moment, workers, low, high, block)
    return _stream(ctx, ids, since, moment, batch)


def _filters(sql: Sql, ids: list[int] | None, since: date | None,
             bounds: tuple[int | None, int | None] | None = None) -> tuple[str, str, str]:
    if bounds is not None:
        low, high = bounds
        parts = [] if low is None else [f"{{c}} >= {int(low)}"]
        parts += [] if high is None else [f"{{c}} <= {int(high)}"]
        cond = " AND ".join(parts)
        if not cond:
            return "", "", ""
        return (" WHERE " + cond.format(c="e.id"), " WHERE " + cond.format(c="h.envelope_id"),
                " WHERE " + cond.format(c="m.envelope_id"))
    if ids is not None:
        id_list = ",".join(str(int(i)) for i in ids)
        return (f" WHERE e.id IN ({id_list})", f" WHERE h.envelope_id IN ({id_list})",
                f" WHERE m.envelope_id IN ({id_list})")
    if since is not None:
        moment = since_moment(since)
        # a literal made from a date object: COPY takes no parameters
        literal = (f"'{moment.isoformat()}'::timestamptz" if sql.pg else
                   f"'{moment.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'")
        sub = ("(SELECT DISTINCT x.envelope_id FROM handoff x "  # noqa: S608 (a date literal)
               f"WHERE x.recorded_at >= {literal})")
        return (f" WHERE e.id IN {sub}", f" WHERE h.envelope_id IN {sub}",
                f" WHERE m.envelope_id IN {sub}")
    return "", "", ""


_SNAPSHOT = re.compile(r"^[0-9A-Fa-f-]+$")


def _pg_conninfo(ctx: Ctx) -> str:
    url = ctx.session.get_bind().engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _stream(ctx: Ctx, ids: list[int] | None, since: date | None, now: datetime,
            batch: int) -> Iterator[EnvelopeReport]:
    begin_snapshot(ctx)
    extra: list[Any] = []
    try:
        dialect = ctx.session.get_bind().dialect.name
        sql = Sql(dialect)
        where_e, where_h, where_m = _filters(sql, ids, since)
        skew = ctx.settings.max_clock_skew.total_seconds()
        delay = ctx.settings.max_scan_delay.total_seconds()
        queries = (sql.envelopes(where_e), sql.handoffs(where_h, skew, delay),
                   sql.manifest(where_m))
        cx = StoredWorld(ctx, now)
        if sql.pg:
            # Three COPY streams need three connections; they import this transaction's
            # snapshot, so all of them see exactly the same committed state.
            snapshot = _export_snapshot(ctx)
            streams = []
            for query in queries:
                raw = _snapshot_connection(_pg_conninfo(ctx), snapshot)
                extra.append(raw)
                streams.append(copy_rows(raw, query))
            envelopes, handoffs, manifest = streams
        else:
            envelopes, handoffs, manifest = (
                cursor_rows(ctx, q, name, batch) for q, name in zip(
                    queries, ("kt1_verify_e", "kt1_verify_h", "kt1_verify_m"), strict=True))
        yield from _merge(envelopes, handoffs, manifest, cx)
    finally:
        for raw in extra:
            raw.close()
        ctx.session.rollback()


def _export_snapshot(ctx: Ctx) -> str:
    snapshot = str(ctx.session.execute(sql_text("SELECT pg_export_snapshot()")).scalar_one())
    if not _SNAPSHOT.match(snapshot):
        raise RuntimeError("unexpected snapshot id")
    return snapshot


def _snapshot_connection(conninfo: str, snapshot: str) -> Any:
    """A new PostgreSQL connection reading the exported ``snapshot``."""
    import psycopg

    raw = psycopg.connect(conninfo, autocommit=True)
    raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    raw.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # checked against _SNAPSHOT
    raw.execute("SET LOCAL jit = off")  # compiling these short expressions costs more
    return raw


def _precise_raw(conninfo: str, snapshot: str, cache: dict[str, Any], handoff_id: bytes
                 ) -> bool:
    """:meth:`StoredWorld.precise_hash_ok` for a worker process, on its own connection."""
    from psycopg.rows import dict_row

    try:
        if "conn" not in cache:
            cache["conn"] = _snapshot_connection(conninfo, snapshot)
        conn = cache["conn"]
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute("SELECT * FROM handoff WHERE id = %s", (int(handoff_id),)
                              ).fetchone()
            if row is None:
                return False
            h = SimpleNamespace(**row)
            identity = None
            if h.seq == 0:
                env = cur.execute("SELECT * FROM envelope WHERE id = %s", (h.envelope_id,)
                                  ).fetchone()
                if env is None:
                    return False
                identity = chain.envelope_identity(SimpleNamespace(**env))  # type: ignore[arg-type]
        return chain.link_hash(h.prev_hash, chain.canonical(h, identity)) == h.hash
    except (ValueError, TypeError, LookupError):
        return False


def _blocks(low: int, high: int, size: int) -> list[tuple[int | None, int | None]]:
    """Envelope id ranges; the first and last are open so that no orphan escapes."""
    starts = list(range(low, high + 1, max(1, size)))
    blocks: list[tuple[int | None, int | None]] = [
        (start, min(start + size - 1, high)) for start in starts]
    blocks[0] = (None, blocks[0][1])
    blocks[-1] = (blocks[-1][0], None)
    return blocks


def _worker(index: int, workers: int, blocks: list[tuple[int | None, int | None]],
            conninfo: str, snapshot: str, cx: StoredWorld, out: Any, ahead: float,
            behind: float) -> None:
    """One worker process: check every ``workers``-th block and send its reports back."""
    conns: list[Any] = []
    cache: dict[str, Any] = {}
    try:
        cx.precise_hash_ok = partial(_precise_raw, conninfo, snapshot, cache)  # type: ignore[method-assign]
        conns = [_snapshot_connection(conninfo, snapshot) for _ in range(3)]
        sql = Sql("postgresql")
        for k in range(index, len(blocks), workers):
            where_e, where_h, where_m = _filters(sql, None, None, blocks[k])
            streams = [copy_rows(conn, query) for conn, query in zip(conns, (
                sql.envelopes(where_e), sql.handoffs(where_h, ahead, behind),
                sql.manifest(where_m)), strict=True)]
            envelopes, handoffs, manifest = streams
            reports = [(r.number, r.status, r.findings, r.chain_length, r.due)
                       for r in _merge(envelopes, handoffs, manifest, cx)]
            for stream in streams:  # finish every COPY before the next block
                for _ in stream:
                    pass
            out.send(("ok", reports))
    except BaseException as exc:  # reported to the parent, which raises it
        out.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        for conn in [*conns, *cache.values()]:
            conn.close()
        out.close()


def _parallel(ctx: Ctx, now: datetime, workers: int, low: int, high: int, block: int
              ) -> Iterator[EnvelopeReport]:
    """:func:`_stream` over every envelope, split into blocks checked by worker processes.

    The parent exports its snapshot and stays in that transaction; each worker (forked, so
    it shares the loaded incidents, users and calendar) imports the snapshot on its own
    connections. Blocks are handed out round-robin and read back in order.
    """
    import multiprocessing

    begin_snapshot(ctx)
    processes: list[Any] = []
    pipes: list[Any] = []
    try:
        snapshot = _export_snapshot(ctx)
        cx = StoredWorld(ctx, now)
        conninfo = _pg_conninfo(ctx)
        blocks = _blocks(low, high, block)
        workers = min(workers, len(blocks))
        fork = multiprocessing.get_context("fork")
        ahead = ctx.settings.max_clock_skew.total_seconds()
        behind = ctx.settings.max_scan_delay.total_seconds()
        for index in range(workers):
            receive, send = fork.Pipe(duplex=False)
            process = fork.Process(target=_worker, daemon=True, args=(
                index, workers, blocks, conninfo, snapshot, cx, send, ahead, behind))
            process.start()
            send.close()
            processes.append(process)
            pipes.append(receive)
        for k in range(len(blocks)):
            try:
                kind, payload = pipes[k % workers].recv()
            except EOFError:
                raise RuntimeError("a verification worker stopped unexpectedly") from None
            if kind != "ok":
                raise RuntimeError(f"a verification worker failed: {payload}")
            for number, status, findings, length, due in payload:
                yield EnvelopeReport(number=number, status=status, findings=findings,
                                     chain_length=length, due=due)
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        ctx.session.rollback()


def _merge(envelopes: Iterator[list[Any]], handoffs: Iterator[list[Any]],
           manifest: Iterator[list[Any]], cx: StoredWorld) -> Iterator[EnvelopeReport]:
    """Walk the three streams, all ordered by envelope id, one envelope at a time."""
    make_env = EnvelopeFacts._make
    h = next(handoffs, None)
    m = next(manifest, None)
    for row in envelopes:
        env: Any = make_env(row)
        eid = env.id
        if h is not None and h[_EID] != eid:
            number = int(eid)
            while h is not None and int(h[_EID]) < number:
                orphan, h = _orphan(h, handoffs)
                yield orphan
        links = []
        while h is not None and h[_EID] == eid:
            links.append(h)
            h = next(handoffs, None)
        lines: dict[bytes, bytes] = {}
        if m is not None and m[0] != eid:
            number = int(eid)
            while m is not None and int(m[0]) < number:
                m = next(manifest, None)
        while m is not None and m[0] == eid:
            lines[m[1]] = m[2]
            m = next(manifest, None)
        yield check_envelope(env, links, lines, cx)
    while h is not None:
        orphan, h = _orphan(h, handoffs)
        yield orphan


def _orphan(first: list[Any], rest: Iterator[list[Any]]
            ) -> tuple[EnvelopeReport, list[Any] | None]:
    """Handoffs whose envelope row is gone (possible only with constraints dropped)."""
    eid = first[_EID]
    h: list[Any] | None = first
    count = 0
    while h is not None and h[_EID] == eid:
        count += 1
        h = next(rest, None)
    report = verdict(f"#{text(eid)}", [make_finding("envelope_missing", envelope_id=text(eid))],
                     None, count, None)
    return report, h
