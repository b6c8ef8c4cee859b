"""Reading rows for the verifier, in one "wire" form on both databases.

Rows arrive as lists of byte strings exactly as PostgreSQL's COPY text format writes them
(NULL is ``\\N``; a backslash, tab, newline, carriage return, backspace, form feed or
vertical tab inside a value is escaped with a backslash). PostgreSQL streams them with COPY,
read straight from libpq, so the server produces rows on one core while Python checks them
on the other; SQLite rows are encoded the same way in Python. Times are formatted by the
database as the chain writes them. The handoff columns are derived from
:data:`kt1.services.chain.HANDOFF_FIELDS`; each row ends with ``plain`` (no double quote in
it: the fast hash formatter may paste its fields in as they are).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kt1.services.chain import HANDOFF_FIELDS
from kt1.services.checkpoints import stream_rows
from kt1.services.context import Ctx
from kt1.services.rules.facts import copy_encode


class Sql:
    """The SQL of one dialect; the columns are the wire rows' fields, in order."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def t(self, c: str) -> str:
        """A time as chain._time writes it: ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC)."""
        if self.pg:
            return f"""to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
        # SQLAlchemy keeps SQLite times as naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
        return f"(replace({c}, ' ', 'T') || 'Z')"

    def d(self, c: str) -> str:
        return f"to_char({c}, 'YYYY-MM-DD')" if self.pg else c

    @staticmethod
    def b(c: str) -> str:
        return f"CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN 'true' ELSE 'false' END"

    def skew(self, ahead: float, behind: float) -> str:
        """'1' when the device time is ahead of the server's by more than ``ahead`` seconds
        or behind it by more than ``behind`` (a scan held back, or a slow device clock)."""
        if self.pg:
            cond = (f"h.event_at > h.recorded_at + interval '{ahead:.6f} seconds' "
                    f"OR h.recorded_at > h.event_at + interval '{behind:.6f} seconds'")
        else:
            cond = (f"(julianday(h.event_at) - julianday(h.recorded_at)) * 86400.0 > {ahead!r} "
                    f"OR (julianday(h.recorded_at) - julianday(h.event_at)) * 86400.0 > "
                    f"{behind!r}")
        return f"CASE WHEN {cond} THEN '1' ELSE '0' END"

    @staticmethod
    def n(c: str) -> str:
        """A nullable number, NULL written as JSON's ``null`` (no number reads so)."""
        return f"coalesce(CAST({c} AS TEXT), 'null')"

    def column(self, form: str, nullable: bool, c: str) -> str:
        if form == "time":
            return self.t(c)
        if form == "int" and nullable:
            return self.n(c)
        return c

    def handoffs(self, where: str, ahead: float, behind: float) -> str:
        """Every declared handoff field in declaration order, then the skew flag."""
        cols = [self.column(f.form, f.nullable, f"h.{f.name}") for f in HANDOFF_FIELDS]
        cols.append(self.skew(ahead, behind))
        return (f"SELECT {', '.join(cols)} FROM handoff h{where} "  # noqa: S608 (constants)
                "ORDER BY h.envelope_id, h.seq")

    def envelopes(self, where: str) -> str:
        """The envelope's facts (:data:`kt1.services.rules.facts.ENVELOPE_NAMES`)."""
        n = self.n
        cols = ["e.id", "e.number", "e.classification", "e.mark", "e.layers", "e.service",
                self.t("e.agreed_at"), "e.route", "e.urgency", "e.sender_unit_id",
                "e.recipient_unit_id", n("e.recipient_user_id"), self.b("e.is_addressee_only"),
                "e.document_number", "e.copies", self.d("e.recall_by"), "e.register_year",
                "e.register_seq", "e.registered_by_id", n("e.holder_unit_id"),
                n("e.holder_user_id"), "e.chain_length", "e.last_hash",
                self.b("e.subject_ciphertext IS NOT NULL"), "e.subject_approved_by",
                self.t("e.registered_at"), "e.recipient_name", n("e.drafter_user_id"),
                "e.drafter_name", "e.signer_name", "e.signer_title", "e.classification_basis",
                n("e.copy_of_id"), n("e.copy_no"), n("e.copy_total"), "e.copy_method",
                n("e.copy_approved_by_id"), self.d("e.copy_approved_on"),
                self.b("e.copy_forbidden"), self.d("e.classified_on"),
                self.d("e.protection_until"), "e.secrecy"]
        return f"SELECT {', '.join(cols)} FROM envelope e{where} ORDER BY e.id"  # noqa: S608

    def manifest(self, where: str) -> str:
        return (f"SELECT m.envelope_id, m.bag_id, {self.b('m.found_at_opening')} "  # noqa: S608
                f"FROM manifest_line m{where} ORDER BY m.envelope_id, m.id")


def copy_rows(raw: Any, sql: str) -> Iterator[list[Any]]:
    """Rows of ``sql`` by COPY, read straight from libpq on the psycopg connection ``raw``;
    each row is its fields plus ``plain``."""
    from psycopg import pq

    pgconn = raw.pgconn
    result = pgconn.exec_(f"COPY ({sql}) TO STDOUT".encode())
    if result.status != pq.ExecStatus.COPY_OUT:
        raise RuntimeError(pgconn.get_error_message().decode(errors="replace"))
    get = pgconn.get_copy_data
    while True:
        size, data = get(0)
        if size < 0:
            break
        line = bytes(data[:-1])
        fields: list[Any] = line.split(b"\t")
        fields.append(b'"' not in line)
        yield fields
    final = pgconn.get_result()
    while final is not None:
        if final.status != pq.ExecStatus.COMMAND_OK:
            raise RuntimeError(pgconn.get_error_message().decode(errors="replace"))
        final = pgconn.get_result()


def cursor_rows(ctx: Ctx, sql: str, name: str, size: int) -> Iterator[list[Any]]:
    """The same wire rows from a plain cursor (SQLite)."""
    for rows in stream_rows(ctx, sql, (), name, size):
        for row in rows:
            fields: list[Any] = [copy_encode(v) for v in row]
            fields.append(b'"' not in b"\t".join(fields))
            yield fields
