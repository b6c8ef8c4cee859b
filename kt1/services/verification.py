"""Verify every envelope's chain of custody (docs/domain.md §3): ``kt1 verify``.

For each envelope, :func:`verify` yields an :class:`EnvelopeReport`: a status and a list of
findings, each with a stable ``code``, the handoff ``seq`` it concerns (None for the
envelope as a whole) and a message in Vietnamese and English. Codes are listed in
:data:`FINDINGS`; their meaning never changes.

Statuses, worst first:

``broken``
    at least one finding of severity ``broken``: the record fails a custody rule or was
    tampered with.
``overdue``
    nothing broken, but a deadline passed while the envelope was not done: no delivery
    attempt by its deadline, a recall date passed, an arrival not registered in time.
``complete``
    nothing broken and the envelope reached a terminal state: registered on arrival
    (or passed on to the addressee), returned to the sender, or recalled. It may still
    carry ``notice`` findings (for example it was delivered late).
``in_transit``
    nothing broken and still within its deadlines.

How it runs: envelopes, their handoffs and their manifest lines are streamed in three
cursors ordered by envelope id (COPY on PostgreSQL, read straight from libpq; a plain cursor
on SQLite) and merged, so memory stays flat however large the database. Each handoff's hash
is recomputed from the raw row with a formatter that yields exactly
:func:`kt1.services.chain.canonical`'s bytes, without building ORM objects, and every rule
is checked in the same pass. Incidents, users and the few bags that break a bag rule are
loaded once up front. A full check of a large PostgreSQL database is split into blocks of
envelopes checked by worker processes that read the same snapshot.

Deadlines, working days and rule sets are in :mod:`kt1.services.deadlines`; the log-wide
Merkle checkpoints that catch a cut-off or rewritten log are in
:mod:`kt1.services.checkpoints`.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from binascii import Error as BinasciiError
from binascii import unhexlify
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from itertools import chain as chain_iter
from json.encoder import encode_basestring
from types import SimpleNamespace
from typing import Any

from sqlalchemy import func, select, text

from kt1.errors import KT1Error, UnknownEnvelopeError
from kt1.models import Bag, Envelope, Handoff, Incident, ManifestLine, SubjectRule, User
from kt1.models.enums import (
    ALLOWED_NEXT,
    BAG_EVENTS,
    STATUS_AFTER,
    TRANSFER_EVENTS,
    Classification,
    EventKind,
    IncidentKind,
)
from kt1.services import chain
from kt1.services.checkpoints import begin_snapshot, stream_rows
from kt1.services.context import Ctx
from kt1.services.deadlines import (
    SECONDS_PER_DAY,
    UTC_OFFSET,
    Deadlines,
    day_number,
    local_day_number,
)
from kt1.services.identifiers import parse_number

# The fast formatter below reproduces chain.canonical for this format version only.
assert chain.FORMAT_VERSION == 1, "update the verifier's canonical formatter"  # noqa: S101

BROKEN = "broken"
OVERDUE = "overdue"
NOTICE = "notice"
SEVERITY_RANK = {NOTICE: 0, OVERDUE: 1, BROKEN: 2}

COMPLETE = "complete"
IN_TRANSIT = "in_transit"
STATUSES = (COMPLETE, IN_TRANSIT, OVERDUE, BROKEN)


@dataclass(frozen=True)
class FindingSpec:
    severity: str
    vi: str
    en: str


#: Every finding code, its default severity and its messages. Codes are stable.
FINDINGS: dict[str, FindingSpec] = {
    # -- tamper evidence (rule 15)
    "chain_missing": FindingSpec(
        BROKEN, "Bưu gửi không có bản ghi giao nhận nào.",
        "The envelope has no custody record at all."),
    "chain_hash_mismatch": FindingSpec(
        BROKEN, "Bản ghi giao nhận số {seq} đã bị sửa: mã băm không khớp với nội dung.",
        "Handoff {seq} was altered: its hash does not match its content."),
    "chain_link_broken": FindingSpec(
        BROKEN, "Chuỗi giao nhận bị đứt ở bản ghi số {seq}: có bản ghi bị xóa, chèn hoặc đổi "
                "thứ tự.",
        "The chain is broken at handoff {seq}: a record was deleted, inserted or reordered."),
    "chain_sequence_broken": FindingSpec(
        BROKEN, "Số thứ tự bản ghi giao nhận không liên tục: vị trí {position} mang số {seq}.",
        "Handoff numbering is not continuous: position {position} is numbered {seq}."),
    "chain_head_mismatch": FindingSpec(
        BROKEN, "Đầu chuỗi ghi trên bưu gửi ({recorded} bản ghi) không khớp chuỗi thực tế "
                "({actual} bản ghi): bản ghi mới nhất có thể đã bị cắt.",
        "The chain head recorded on the envelope ({recorded} handoffs) does not match its "
        "chain ({actual} handoffs): the newest handoffs may have been cut off."),
    "envelope_missing": FindingSpec(
        BROKEN, "Có bản ghi giao nhận của bưu gửi mã nội bộ {envelope_id} nhưng bưu gửi đã "
                "bị xóa.",
        "Handoffs exist for internal envelope {envelope_id}, but its envelope record was "
        "deleted."),
    # -- rules 1, 2: the outside of the envelope
    "mark_mismatch": FindingSpec(
        BROKEN, "Dấu chữ ngoài bì ({mark}) không tương ứng với độ mật (phải là {expected}).",
        "The outer letter ({mark}) does not match the classification (should be {expected})."),
    "layers_mismatch": FindingSpec(
        BROKEN, "Số lớp bì ({layers}) không đúng với độ mật (phải là {expected}).",
        "The number of envelope layers ({layers}) does not match the classification "
        "(should be {expected})."),
    # -- rule 3
    "not_registered_before_handoff": FindingSpec(
        BROKEN, "Bưu gửi đã được giao nhận trước khi vào Sổ đăng ký BMNN đi.",
        "The envelope changed hands before it was entered in the outgoing register."),
    # -- rules 4, 5: signed, unbroken custody
    "event_out_of_order": FindingSpec(
        BROKEN, "Sự kiện {kind} (bản ghi số {seq}) không thể xảy ra sau trạng thái {status}.",
        "Event {kind} (handoff {seq}) cannot follow status {status}."),
    "receipt_missing": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} không có chữ ký nhận của người nhận.",
        "Handoff {seq} has no receipt signed by the receiver."),
    "receipt_not_by_receiver": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} do người khác ký nhận, không phải người nhận.",
        "Handoff {seq} was signed by someone other than the receiver."),
    "giver_not_holder": FindingSpec(
        BROKEN, "Người giao ở bản ghi số {seq} không phải người đang giữ bưu gửi.",
        "The giver of handoff {seq} was not the envelope's holder."),
    "holder_missing": FindingSpec(
        BROKEN, "Sau bản ghi số {seq} không có người nào giữ bưu gửi.",
        "After handoff {seq} nobody holds the envelope."),
    "holder_mismatch": FindingSpec(
        BROKEN, "Người giữ ghi trên bưu gửi khác người nhận cuối cùng trong chuỗi giao nhận "
                "(hai người giữ).",
        "The holder recorded on the envelope is not the last receiver in its chain "
        "(two holders)."),
    "time_backwards": FindingSpec(
        BROKEN, "Thời điểm của bản ghi số {seq} sớm hơn bản ghi trước.",
        "Handoff {seq} is timed before the one before it."),
    "event_in_future": FindingSpec(
        BROKEN, "Bản ghi số {seq} có thời điểm ở tương lai.",
        "Handoff {seq} is timed in the future."),
    "device_clock_skew": FindingSpec(
        BROKEN, "Ở bản ghi số {seq}, giờ thiết bị lệch quá xa giờ máy chủ ghi nhận.",
        "At handoff {seq} the device time is too far from the time the server recorded it."),
    # -- rule 6
    "receipt_over_open_discrepancy": FindingSpec(
        BROKEN, "Bản ghi số {seq} được ký nhận khi sai lệch số {incident} chưa được giải quyết.",
        "Handoff {seq} was signed while discrepancy {incident} was still open."),
    # -- rule 7
    "seal_anomaly": FindingSpec(
        BROKEN, "Niêm phong bất thường ({state_vi}) tại bản ghi số {seq}.",
        "Seal anomaly ({state}) at handoff {seq}."),
    "seal_anomaly_unreported": FindingSpec(
        BROKEN, "Niêm phong bất thường tại bản ghi số {seq} nhưng không có biên bản sự cố.",
        "Seal anomaly at handoff {seq} with no incident report."),
    "seal_incident_without_report": FindingSpec(
        BROKEN, "Sự cố niêm phong số {incident} (bản ghi số {seq}) không có nội dung biên bản.",
        "Seal incident {incident} (handoff {seq}) has no report text."),
    "seal_incident_head_not_notified": FindingSpec(
        BROKEN, "Sự cố niêm phong số {incident} chưa được báo cáo thủ trưởng đơn vị.",
        "Seal incident {incident} was not reported to the head of the unit."),
    "seal_incident_sender_not_notified": FindingSpec(
        BROKEN, "Sự cố niêm phong số {incident} chưa được thông báo cho nơi gửi.",
        "The sender was not notified of seal incident {incident}."),
    # -- rule 8: bags
    "bag_custody_gap": FindingSpec(
        BROKEN, "Bản ghi số {seq}: khi bưu gửi ở trong túi, mọi lần giao nhận phải là của "
                "chính túi đó, từ lúc đóng túi đến lúc mở túi.",
        "Handoff {seq}: while the envelope is in a bag, every handoff must be that bag's, "
        "from bagging to opening."),
    "seal_number_changed": FindingSpec(
        BROKEN, "Số niêm phong ở bản ghi số {seq} khác số đã ghi khi niêm phong túi.",
        "The seal number at handoff {seq} differs from the one recorded at sealing."),
    "manifest_mismatch": FindingSpec(
        BROKEN, "Bảng kê túi không khớp ở bản ghi số {seq}: {detail_vi}.",
        "The bag manifest does not match at handoff {seq}: {detail_en}."),
    "bag_tracker_missing": FindingSpec(
        BROKEN, "Túi chứa bưu gửi Tuyệt mật không có thiết bị định vị (bản ghi số {seq}).",
        "A bag holding this Tuyệt mật envelope had no GPS tracker (handoff {seq})."),
    "bag_escort_missing": FindingSpec(
        BROKEN, "Túi được chuyển bằng xe không chuyên dùng mà không có người áp tải "
                "(bản ghi số {seq}).",
        "The bag travelled in a non-dedicated vehicle without an escort (handoff {seq})."),
    # -- rules 9, 12: arrival
    "arrival_unregistered": FindingSpec(
        BROKEN, "Bưu gửi được chuyển tiếp mà chưa được đơn vị nhận vào Sổ đăng ký BMNN đến "
                "(bản ghi số {seq}).",
        "The envelope was passed on before the recipient unit entered it in the incoming "
        "register (handoff {seq})."),
    "arrival_registration_late": FindingSpec(
        OVERDUE, "Bưu gửi không được vào sổ đến trong ngày hoặc ngày làm việc tiếp theo "
                 "(hạn {due}).",
        "The envelope was not registered on arrival the same or the next working day "
        "(due {due})."),
    # -- rule 10
    "addressee_only_violated": FindingSpec(
        BROKEN, "Bì \"Chỉ người có tên mới được bóc bì\" được chuyển cho người không có thẩm "
                "quyền (bản ghi số {seq}).",
        "An addressee-only envelope went to someone without the authority to open it "
        "(handoff {seq})."),
    # -- rule 11
    "recall_overdue": FindingSpec(
        OVERDUE, "Tài liệu thu hồi không được trả lại trước hạn {due}.",
        "The recalled document was not back by its date ({due})."),
    # -- rule 14: the subject line (trích yếu)
    "subject_recorded_against_rule": FindingSpec(
        BROKEN, "Trích yếu của bưu gửi {classification} được lưu trái quy định áp dụng ngày "
                "đăng ký ({policy_vi}).",
        "A subject is stored for this {classification} envelope against the rule in force "
        "when it was registered ({policy})."),
    # -- time limits (§4)
    "deadline_missed": FindingSpec(
        OVERDUE, "Quá chỉ tiêu thời gian: chưa phát lần đầu trước hạn {due}.",
        "Deadline missed: no first delivery attempt by {due}."),
    "deadline_rule_missing": FindingSpec(
        NOTICE, "Không có chỉ tiêu thời gian áp dụng cho tuyến {route}, dịch vụ {service} "
                "vào ngày chấp nhận.",
        "No time limit was in force for route {route}, service {service} on the acceptance "
        "date."),
}

_POLICY_VI = {"forbidden": "không được ghi trích yếu",
              "approval_required": "phải có người xác định độ mật phê duyệt"}
SEAL_STATE_VI = {"broken": "có dấu hiệu bóc mở", "mismatched": "số niêm phong không khớp"}


@dataclass(frozen=True)
class Finding:
    """One rule an envelope's record fails, with the handoff it concerns."""

    code: str
    seq: int | None
    severity: str
    message_vi: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "seq": self.seq, "severity": self.severity,
                "message_vi": self.message_vi, "message": self.message_en}


def make_finding(code: str, seq: int | None = None, severity: str | None = None,
                 **params: Any) -> Finding:
    spec = FINDINGS[code]
    params = {"seq": seq, **params}
    return Finding(code=code, seq=seq, severity=severity or spec.severity,
                   message_vi=spec.vi.format(**params), message_en=spec.en.format(**params))


@dataclass
class EnvelopeReport:
    """The verdict on one envelope."""

    number: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    chain_length: int = 0
    due: float | None = None  # deadline of the first delivery attempt, epoch seconds

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def due_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.due, UTC) if self.due is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "chain_length": self.chain_length,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "findings": [f.to_dict() for f in self.findings],
        }


class NothingToVerifyError(KT1Error):
    slug = "nothing_to_verify"
    status = 404
    message_vi = "Cơ sở dữ liệu chưa có bưu gửi nào; chưa có gì để kiểm tra."
    message_en = "The database holds no envelope yet: there is nothing to verify."


# --------------------------------------------------------------------------- wire rows
#
# Rows arrive in one "wire" form on both databases: a list of byte strings exactly as
# PostgreSQL's COPY text format writes them (NULL is ``\N``; a backslash, tab, newline,
# carriage return, backspace, form feed or vertical tab inside a value is escaped with a
# backslash). PostgreSQL streams them with COPY, read straight from libpq, so the server
# produces rows on one core while Python checks them on the other; SQLite rows are encoded
# the same way in Python. Times are formatted by the database as the chain writes them.
#
# The fast path builds each link's canonical JSON with one ``%`` format, pasting the COPY
# fields in as they are. That is exact for every row without a double quote: COPY escapes a
# backslash, tab, newline, carriage return, backspace and form feed exactly as JSON does.
# A row with a double quote is formatted field by field with JSON escaping instead. Where
# the two escapings differ (a vertical tab, ``\v`` in COPY, or another control character,
# raw in COPY) the fast text holds something canonical JSON never does, so it can never
# pass for authentic; and every mismatch is recomputed with ``chain.canonical`` itself
# before it is reported. (The services refuse control characters in every field anyway.)

N = b"\\N"  # COPY's NULL
_NULL = b"null"


class _Sql:
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

    def handoffs(self, where: str, ahead: float, behind: float) -> str:
        """The 23 canonical fields in key order, then prev_hash, hash, id and the skew flag."""
        t, n = self.t, self.n
        cols = ["h.ack_method", "h.ack_reference", n("h.ack_user_id"), "h.authority",
                n("h.bag_id"), "h.count", "h.device", "h.envelope_id", t("h.event_at"),
                n("h.from_unit_id"), n("h.from_user_id"), "h.kind", "h.location", "h.note",
                "h.reason", t("h.recorded_at"), "h.recorded_by_id", "h.scan_id",
                "h.seal_number", "h.seal_state", "h.seq", "h.to_unit_id", n("h.to_user_id"),
                "h.prev_hash", "h.hash", "h.id", self.skew(ahead, behind)]
        return (f"SELECT {', '.join(cols)} FROM handoff h{where} "  # noqa: S608 (constants)
                "ORDER BY h.envelope_id, h.seq")

    def envelopes(self, where: str) -> str:
        n = self.n
        cols = ["e.id", "e.number", "e.classification", "e.mark", "e.layers", "e.service",
                self.t("e.agreed_at"), "e.route", "e.urgency", "e.sender_unit_id",
                "e.recipient_unit_id", n("e.recipient_user_id"), self.b("e.is_addressee_only"),
                "e.document_number", "e.copies", self.d("e.recall_by"), "e.register_year",
                "e.register_seq", "e.registered_by_id", n("e.holder_unit_id"),
                n("e.holder_user_id"), "e.chain_length", "e.last_hash",
                self.b("e.subject_ciphertext IS NOT NULL"), "e.subject_approved_by",
                self.t("e.registered_at"), "e.recipient_name"]
        return f"SELECT {', '.join(cols)} FROM envelope e{where} ORDER BY e.id"  # noqa: S608

    def manifest(self, where: str) -> str:
        return (f"SELECT m.envelope_id, m.bag_id, {self.b('m.found_at_opening')} "  # noqa: S608
                f"FROM manifest_line m{where} ORDER BY m.envelope_id, m.id")


_COPY_OUT = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f",
             "\v": "\\v"}
_COPY_OUT_RE = re.compile(r"[\\\t\n\r\b\f\v]")
_COPY_IN = {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r", b"b": b"\b", b"f": b"\f",
            b"v": b"\v"}
_COPY_IN_RE = re.compile(rb"\\(.)", re.DOTALL)


def _copy_encode(value: Any) -> bytes:
    """A Python value as COPY's text format writes it (for SQLite rows)."""
    if value is None:
        return N
    if isinstance(value, str):
        if _COPY_OUT_RE.search(value):
            value = _COPY_OUT_RE.sub(lambda m: _COPY_OUT[m.group(0)], value)
        return value.encode()
    return str(value).encode()


def _copy_decode(field: bytes) -> str | None:
    """The value behind one COPY field (None for NULL)."""
    if field == N:
        return None
    if b"\\" in field:
        field = _COPY_IN_RE.sub(lambda m: _COPY_IN.get(m.group(1), m.group(1)), field)
    return field.decode("utf-8", "surrogateescape")


def _plain(line: bytes) -> bool:
    """No double quote: the fast formatter may paste the fields in as they are."""
    return b'"' not in line


def _copy_rows(raw: Any, sql: str) -> Iterator[list[Any]]:
    """Rows of ``sql`` by COPY, read straight from libpq on the psycopg connection ``raw``.

    Each row is its fields plus one last item: whether the fast formatter is exact for it.
    """
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


def _cursor_rows(ctx: Ctx, sql: str, name: str, size: int) -> Iterator[list[Any]]:
    """The same wire rows from a plain cursor (SQLite)."""
    for rows in stream_rows(ctx, sql, (), name, size):
        for row in rows:
            fields: list[Any] = [_copy_encode(v) for v in row]
            fields.append(_plain(b"\t".join(fields)))
            yield fields


# --------------------------------------------------------------------------- helpers

_TERMINAL = frozenset({b"arrived", b"with_addressee", b"returned", b"recalled"})
_TRANSFER = frozenset(str(k).encode() for k in TRANSFER_EVENTS)
_BAG_EVENTS = frozenset(str(k).encode() for k in BAG_EVENTS)
_STATUS_AFTER = {str(k).encode(): str(v).encode() for k, v in STATUS_AFTER.items()}
_ALLOWED_NEXT = {str(k).encode(): frozenset(str(e).encode() for e in v)
                 for k, v in ALLOWED_NEXT.items()}
_MARKS = {str(c).encode(): (c.mark.encode() if c.mark else N) for c in Classification}
_LAYERS = {str(c).encode(): str(c.layers).encode() for c in Classification}
_ANOMALY = frozenset({b"broken", b"mismatched"})
_SEAL_OK = frozenset({b"intact", b"not_applicable"})
_GENESIS = b"0" * 64
_SELF = b"self"
_SEQ = [str(i).encode() for i in range(4096)]

K_REGISTERED_OUTGOING = str(EventKind.REGISTERED_OUTGOING).encode()
K_ACCEPTED = str(EventKind.ACCEPTED).encode()
K_BAGGED = str(EventKind.BAGGED).encode()
K_BAG_SEALED = str(EventKind.BAG_SEALED).encode()
K_BAG_RECEIVED = str(EventKind.BAG_RECEIVED).encode()
K_BAG_OPENED = str(EventKind.BAG_OPENED).encode()
K_DISPATCHED = str(EventKind.DISPATCHED).encode()
K_DELIVERED = str(EventKind.DELIVERED).encode()
K_DELIVERY_FAILED = str(EventKind.DELIVERY_FAILED).encode()
K_REGISTERED_INCOMING = str(EventKind.REGISTERED_INCOMING).encode()
K_PASSED = str(EventKind.PASSED_TO_ADDRESSEE).encode()
K_RECALLED = str(EventKind.RECALLED).encode()
_SEAL_CARRIERS = frozenset({K_DISPATCHED, K_BAG_RECEIVED, K_BAG_OPENED})


def iso(value: datetime) -> str:
    """The fixed-width UTC form used by the chain (and compared as text here)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(text: bytes) -> float:
    return datetime.fromisoformat(text.decode()).timestamp()


def _text(value: bytes | None) -> str:
    """A wire value for a message."""
    if value is None or value == N:
        return "-"
    return _copy_decode(value) or ""


def _local(epoch: float) -> str:
    """A time for a message, in Vietnam local time."""
    return datetime.fromtimestamp(epoch + UTC_OFFSET, UTC).strftime("%d/%m/%Y %H:%M")


def _seq(value: bytes) -> int | None:
    """A handoff's seq for a finding (None if the stored value is not a number)."""
    return int(value) if value.isdigit() else None


def _unhex(value: bytes) -> bytes | None:
    try:
        return unhexlify(value)
    except (BinasciiError, ValueError, TypeError):
        return None


def _key(value: int | None) -> bytes:
    return _NULL if value is None else str(value).encode()


@dataclass
class _Incident:
    id: int
    kind: str
    handoff_id: bytes
    report: str
    opened_at: bytes
    head_notified: bool
    sender_notified: bool
    resolved_at: bytes | None


class _Context:
    """What every envelope's check needs, loaded once (small tables only)."""

    def __init__(self, ctx: Ctx, now: datetime) -> None:
        session = ctx.session
        self.ctx = ctx
        self.now = now
        self.now_epoch = now.timestamp()
        self.future_limit = iso(now + ctx.settings.max_clock_skew).encode()
        self.deadlines = Deadlines.load(ctx)
        self.heads: frozenset[bytes] = frozenset(
            _key(uid) for (uid,) in session.execute(
                select(User.id).where(User.is_unit_head.is_(True))))
        # Rule 10 for an addressee without an account: the name written on the envelope.
        self.names: dict[bytes, str] = {
            _key(uid): _name_key(name) for uid, name in session.execute(
                select(User.id, User.full_name))}
        self.seal_by_handoff: dict[bytes, list[_Incident]] = defaultdict(list)
        self.seal_by_envelope: dict[bytes, list[_Incident]] = defaultdict(list)
        self.seal_by_bag: dict[bytes, list[_Incident]] = defaultdict(list)
        self.disc_by_envelope: dict[bytes, list[_Incident]] = defaultdict(list)
        self.disc_by_bag: dict[bytes, list[_Incident]] = defaultdict(list)
        for row in session.execute(select(
                Incident.id, Incident.kind, Incident.envelope_id, Incident.bag_id,
                Incident.handoff_id, Incident.report, Incident.opened_at,
                Incident.head_notified_at, Incident.sender_notified_at, Incident.resolved_at)):
            inc = _Incident(row.id, str(row.kind), _key(row.handoff_id), row.report or "",
                            iso(row.opened_at).encode(), row.head_notified_at is not None,
                            row.sender_notified_at is not None,
                            iso(row.resolved_at).encode() if row.resolved_at else None)
            if inc.kind == IncidentKind.SEAL_ANOMALY:
                for key, index in ((row.handoff_id, self.seal_by_handoff),
                                   (row.envelope_id, self.seal_by_envelope),
                                   (row.bag_id, self.seal_by_bag)):
                    if key is not None:
                        index[_key(key)].append(inc)
            elif inc.kind == IncidentKind.DISCREPANCY:
                if row.envelope_id is not None:
                    self.disc_by_envelope[_key(row.envelope_id)].append(inc)
                if row.bag_id is not None:
                    self.disc_by_bag[_key(row.bag_id)].append(inc)
        rules = session.execute(select(
            SubjectRule.effective_from, SubjectRule.classification, SubjectRule.policy
        ).order_by(SubjectRule.effective_from)).all()
        self.subject_rules = [(day_number(d), str(c).encode(), str(p)) for d, c, p in rules]
        # Bag facts are not in the hashed chain; only the few bags that break a rule are kept.
        self.bags_without_tracker = frozenset(
            _key(b) for (b,) in session.execute(_bags_without_tracker()))
        self.bags_without_escort = frozenset(
            _key(b) for (b,) in session.execute(_bags_without_escort()))
        self.bagged_after_sealing = frozenset(
            _key(h) for (h,) in session.execute(_bagged_after_sealing()))

    def subject_policy(self, classification: bytes, day: int) -> str:
        """Rule 14 as :func:`kt1.services.subjects.subject_policy` reads it, for day numbers."""
        policy = "forbidden"
        for start, cls, rule in self.subject_rules:
            if start <= day and cls == classification:
                policy = rule
        return policy

    def precise_hash_ok(self, handoff_id: bytes) -> bool:
        """Recompute one link's hash with ``chain.canonical`` itself (the slow, exact path)."""
        session = self.ctx.session
        try:
            h = session.get(Handoff, int(handoff_id))
            if h is None:
                return False
            identity = None
            if h.seq == 0:
                envelope = session.get(Envelope, h.envelope_id)
                if envelope is None:
                    return False
                identity = chain.envelope_identity(envelope)
            return chain.link_hash(h.prev_hash, chain.canonical(h, identity)) == h.hash
        except (ValueError, TypeError, LookupError):  # a tampered value the models refuse
            return False


def _bags_without_tracker() -> Any:
    return (select(Bag.id).distinct()
            .join(ManifestLine, ManifestLine.bag_id == Bag.id)
            .join(Envelope, Envelope.id == ManifestLine.envelope_id)
            .where(Bag.tracker_id.is_(None) | (Bag.tracker_id == ""),
                   Envelope.classification == Classification.TOP_SECRET))


def _bagged_after_sealing() -> Any:
    """``bagged`` links written after their bag was sealed: only an open bag takes envelopes
    (bagging.ALLOWED_IN), and a bag is sealed once. Written after, not timed after: the
    order the server wrote the links in (ids), which a device clock cannot change."""
    sealed = Handoff.__table__.alias("sealed")
    return select(Handoff.id).where(
        Handoff.kind == EventKind.BAGGED, Handoff.bag_id.is_not(None),
        select(sealed.c.id).where(sealed.c.bag_id == Handoff.bag_id,
                                  sealed.c.kind == EventKind.BAG_SEALED,
                                  sealed.c.id < Handoff.id).exists())


def _bags_without_escort() -> Any:
    return select(Bag.id).where(
        Bag.is_dedicated_vehicle.is_(False),
        Bag.escort_name.is_(None) | (Bag.escort_name == ""))


# --------------------------------------------------------------------------- formatting

_FULL = (b'{"ack_method":%s,"ack_reference":%s,"ack_user_id":%s,"authority":%s,"bag_id":%s,'
         b'"count":%s,"device":"%s","envelope_id":%s,"event_at":"%s","from_unit_id":%s,'
         b'"from_user_id":%s,"kind":"%s","location":"%s","note":"%s","reason":%s,'
         b'"recorded_at":"%s","recorded_by_id":%s,"scan_id":"%s","seal_number":%s,'
         b'"seal_state":"%s","seq":%s,"to_unit_id":%s,"to_user_id":%s,"v":1}')
_HEAD, _TAIL = _FULL.split(b',"envelope_id":')
_TAIL = b',"envelope_id":' + _TAIL
_IDENTITY = (b'{"agreed_at":%s,"classification":%s,"copies":%s,"document_number":%s,'
             b'"is_addressee_only":%s,"layers":%s,"mark":%s,"number":%s,"recall_by":%s,'
             b'"recipient_unit_id":%s,"recipient_user_id":%s,"register":[%s,%s],'
             b'"registered_by_id":%s,"route":%s,"sender_unit_id":%s,"service":%s,'
             b'"urgency":%s}')
#: Which handoff fields are strings (the others are numbers or fixed-form times).
_H_STRINGS = frozenset({0, 1, 3, 6, 11, 12, 13, 14, 17, 18, 19})
_H_QUOTED_IN_TEMPLATE = frozenset({6, 8, 11, 12, 13, 15, 17, 19})
_E_STRINGS = frozenset({1, 2, 3, 5, 6, 7, 8, 13, 15})


def _json_field(field: bytes, is_string: bool) -> bytes:
    """One wire field as canonical JSON (exact for any value)."""
    value = _copy_decode(field)
    if value is None:
        return _NULL
    if is_string:
        return str(encode_basestring(value)).encode("utf-8", "surrogateescape")
    return value.encode()


def identity_json(env: Sequence[Any]) -> bytes:
    """``chain.envelope_identity`` as canonical JSON, from a wire envelope row."""
    if env[-1] is True:
        agreed, mark, recall = env[6], env[3], env[15]
        return _IDENTITY % (
            _NULL if agreed == N else b'"' + agreed + b'"', b'"' + env[2] + b'"', env[14],
            b'"' + env[13] + b'"', env[12], env[4], _NULL if mark == N else b'"' + mark + b'"',
            b'"' + env[1] + b'"', _NULL if recall == N else b'"' + recall + b'"', env[10],
            env[11], env[16], env[17], env[18], b'"' + env[7] + b'"', env[9],
            b'"' + env[5] + b'"', b'"' + env[8] + b'"')
    q = [_json_field(v, k in _E_STRINGS) for k, v in enumerate(env[:19])]
    return _IDENTITY % (q[6], q[2], q[14], q[13], q[12], q[4], q[3], q[1], q[15], q[10], q[11],
                        q[16], q[17], q[18], q[7], q[9], q[5], q[8])


def link_content(r: Sequence[Any], identity: bytes | None) -> bytes:
    """The canonical bytes of one wire handoff row (``chain.canonical``'s output)."""
    if r[27] is True:
        (am, ar, ack, au, bag, cnt, dev, eid, ev, fu, fus, kind, loc, note, rs, rec, rb, scan,
         sn, ss, seq, tu, tus) = r[:23]
        values: tuple[bytes, ...] = (
            _NULL if am == N else b'"' + am + b'"', _NULL if ar == N else b'"' + ar + b'"',
            ack, _NULL if au == N else b'"' + au + b'"', bag, cnt, dev, eid, ev, fu, fus, kind,
            loc, note, _NULL if rs == N else b'"' + rs + b'"', rec, rb, scan,
            _NULL if sn == N else b'"' + sn + b'"', ss, seq, tu, tus)
    else:
        fields = []
        for k, v in enumerate(r[:23]):
            j = _json_field(v, k in _H_STRINGS)
            if k in _H_QUOTED_IN_TEMPLATE and j[:1] == b'"':
                j = j[1:-1]  # the template writes these quotes itself
            fields.append(j)
        values = tuple(fields)
    if identity is None:
        return _FULL % values
    return _HEAD % values[:7] + b',"envelope":' + identity + _TAIL % values[7:]


# --------------------------------------------------------------------------- the check


def _check(env: Sequence[Any], links: list[list[Any]], lines: dict[bytes, bytes],
           cx: _Context) -> EnvelopeReport:
    """Every rule for one envelope. ``links`` are its wire handoff rows in seq order."""
    findings: list[Finding] = []
    add = findings.append
    number = env[1].decode("utf-8", "replace")
    classification = env[2]
    expected_mark = _MARKS.get(classification, b"?")
    if env[3] != expected_mark:
        add(make_finding("mark_mismatch", mark=_text(env[3]), expected=_text(expected_mark)))
    expected_layers = _LAYERS.get(classification, b"?")
    if env[4] != expected_layers:
        add(make_finding("layers_mismatch", layers=_text(env[4]),
                         expected=_text(expected_layers)))
    if env[23] == b"true":
        policy = cx.subject_policy(classification, local_day_number(_epoch(env[25])))
        if policy == "forbidden" or (policy == "approval_required" and env[24] in (N, b"")):
            add(make_finding("subject_recorded_against_rule", classification=_text(
                classification), policy=policy, policy_vi=_POLICY_VI.get(policy, policy)))
    if not links:
        add(make_finding("chain_missing"))
        return _verdict(number, findings, None, 0, None)

    eid = env[0]
    identity = identity_json(env)
    sha256 = hashlib.sha256
    full = _FULL
    is_top_secret = classification == b"top_secret"
    is_addressee_only = env[12] == b"true"
    future = cx.future_limit
    no_tracker = cx.bags_without_tracker
    no_escort = cx.bags_without_escort
    disc_env = cx.disc_by_envelope.get(eid)
    disc_bag = cx.disc_by_bag

    prev_hash = _GENESIS
    prev_raw: bytes | None = bytes(32)
    prev: list[Any] | None = None
    status: bytes | None = None
    in_bag: bytes | None = None
    bag_seal: bytes | None = None
    accepted_ev = attempt_ev = delivered_ev = incoming_ev = recalled_ev = None
    registered_in = False
    sequence_reported = False
    tracker_flagged: set[bytes] = set()

    for i, r in enumerate(links):
        (am, ar, ack, au, bag, cnt, dev, _eid, ev, fu, fus, kind, loc, note, rs, rec, rb, scan,
         sn, ss, seq_b, tu, tus, ph, hh, hid, skewed, plain) = r
        # -- hash chain (rule 15): hash = SHA-256(prev_hash bytes || canonical content)
        first = seq_b == b"0"
        if ph == prev_hash:
            raw_prev = prev_raw
        else:
            add(make_finding("chain_link_broken", _seq(seq_b)))
            raw_prev = _unhex(ph)
        try:
            expected = unhexlify(hh)
        except (BinasciiError, ValueError):
            expected = None
        try:
            if plain is True and not first:
                content = full % (
                    _NULL if am == N else b'"' + am + b'"',
                    _NULL if ar == N else b'"' + ar + b'"', ack,
                    _NULL if au == N else b'"' + au + b'"', bag, cnt, dev, _eid, ev, fu, fus,
                    kind, loc, note, _NULL if rs == N else b'"' + rs + b'"', rec, rb, scan,
                    _NULL if sn == N else b'"' + sn + b'"', ss, seq_b, tu, tus)
            else:
                content = link_content(r, identity if first else None)
            ok = expected is not None and raw_prev is not None and sha256(
                raw_prev + content).digest() == expected
        except (TypeError, ValueError, UnicodeDecodeError):
            ok = False
        if not ok and not cx.precise_hash_ok(hid):
            add(make_finding("chain_hash_mismatch", _seq(seq_b)))
        if seq_b != (_SEQ[i] if i < 4096 else str(i).encode()) and not sequence_reported:
            add(make_finding("chain_sequence_broken", _seq(seq_b), position=i))
            sequence_reported = True
        prev_hash, prev_raw = hh, expected

        # -- order of the postal stages; registration first (rule 3)
        if i == 0:
            if kind != K_REGISTERED_OUTGOING:
                add(make_finding("not_registered_before_handoff", _seq(seq_b)))
        elif status is None or kind not in _ALLOWED_NEXT.get(status, ()):
            if kind == K_PASSED and not registered_in:
                add(make_finding("arrival_unregistered", _seq(seq_b)))
            else:
                add(make_finding("event_out_of_order", _seq(seq_b), kind=_text(kind),
                                 status=_text(status)))
        status = _STATUS_AFTER.get(kind, status)

        # -- unbroken, signed custody (rules 4, 5)
        if prev is not None:
            if fus != prev[22] or fu != prev[21]:
                add(make_finding("giver_not_holder", _seq(seq_b)))
            if ev < prev[8]:
                add(make_finding("time_backwards", _seq(seq_b)))
        if tus == _NULL:
            add(make_finding("holder_missing", _seq(seq_b)))
        if kind in _TRANSFER or (prev is not None and tus != fus and tus != _NULL):
            if ack == _NULL or am in (N, _SELF):
                add(make_finding("receipt_missing", _seq(seq_b)))
            elif ack != tus:
                add(make_finding("receipt_not_by_receiver", _seq(seq_b)))
        if ev > future or rec > future:
            add(make_finding("event_in_future", _seq(seq_b)))
        if skewed == b"1":
            add(make_finding("device_clock_skew", _seq(seq_b)))

        # -- bags (rule 8)
        if kind == K_BAGGED:
            if in_bag is not None or bag == _NULL:
                add(make_finding("bag_custody_gap", _seq(seq_b)))
            elif hid in cx.bagged_after_sealing:
                add(make_finding("event_out_of_order", _seq(seq_b), kind=_text(kind),
                                 status="bag_sealed"))
            elif bag not in lines:
                add(make_finding("manifest_mismatch", _seq(seq_b),
                                 detail_vi="bưu gửi không có trong bảng kê của túi",
                                 detail_en="the envelope is not on the bag's manifest"))
            in_bag, bag_seal = bag, None
        elif in_bag is not None:
            if bag != in_bag or kind not in _BAG_EVENTS:
                add(make_finding("bag_custody_gap", _seq(seq_b)))
            if kind == K_BAG_SEALED:
                bag_seal = sn
            elif kind in _SEAL_CARRIERS and ss not in _ANOMALY and sn != bag_seal:
                add(make_finding("seal_number_changed", _seq(seq_b)))
            if kind == K_BAG_OPENED:
                if lines.get(in_bag) != b"true":
                    add(make_finding("manifest_mismatch", _seq(seq_b),
                                     detail_vi="bảng kê không ghi nhận bưu gửi khi mở túi",
                                     detail_en="the manifest does not show the envelope "
                                               "found at opening"))
                in_bag = None
            elif kind not in _BAG_EVENTS:
                in_bag = None
        elif kind in _BAG_EVENTS or bag != _NULL:
            add(make_finding("bag_custody_gap", _seq(seq_b)))
        if bag != _NULL:
            # the tracker is fitted when the bag is sealed (bagging.seal_bag): a bag being
            # made up has none yet
            if (is_top_secret and kind != K_BAGGED and bag in no_tracker
                    and bag not in tracker_flagged):
                tracker_flagged.add(bag)
                add(make_finding("bag_tracker_missing", _seq(seq_b)))
            if kind == K_DISPATCHED and bag in no_escort:
                add(make_finding("bag_escort_missing", _seq(seq_b)))

        # -- seals (rule 7)
        if ss not in _SEAL_OK:
            state = _text(ss)
            add(make_finding("seal_anomaly", _seq(seq_b), state=state,
                             state_vi=SEAL_STATE_VI.get(state, state)))
            _check_seal_incident(add, cx, eid, bag, hid, _seq(seq_b))

        # -- reconcile before signing (rule 6); a bag is not opened over an open discrepancy
        # either (bagging.open_bag_contents: the missing envelopes stay in it until settled)
        if (kind in _TRANSFER or kind == K_BAG_OPENED) and (disc_env or bag in disc_bag):
            for inc in chain_iter(disc_env or (), disc_bag.get(bag, ())):
                if inc.opened_at < rec and (inc.resolved_at is None or inc.resolved_at > rec):
                    add(make_finding("receipt_over_open_discrepancy", _seq(seq_b), incident=inc.id))
                    break

        # -- milestones
        if kind == K_ACCEPTED:
            if accepted_ev is None:
                accepted_ev = ev
        elif kind in (K_DELIVERED, K_DELIVERY_FAILED):
            if attempt_ev is None:
                attempt_ev = ev
            if kind == K_DELIVERED:
                delivered_ev = ev
        elif kind == K_REGISTERED_INCOMING:
            if tu != env[10]:
                add(make_finding("arrival_unregistered", _seq(seq_b)))
            registered_in = True
            if incoming_ev is None:
                incoming_ev = ev
        elif kind == K_PASSED:
            if is_addressee_only and not _addressee_ok(env, tu, tus, au, note, cx):
                add(make_finding("addressee_only_violated", _seq(seq_b)))
        elif kind == K_RECALLED and recalled_ev is None:
            recalled_ev = ev
        prev = r

    # -- the envelope row agrees with its chain
    last = links[-1]
    if env[21] != str(len(links)).encode() or env[22] != last[24]:
        add(make_finding("chain_head_mismatch", recorded=_text(env[21]), actual=len(links)))
    if env[20] != last[22] or env[19] != last[21]:
        add(make_finding("holder_mismatch"))
    if in_bag is not None and lines.get(in_bag) == b"false":
        add(make_finding("manifest_mismatch", None,
                         detail_vi="bưu gửi thiếu khi mở túi",
                         detail_en="the envelope was missing when the bag was opened"))

    terminal = status in _TERMINAL
    due = _deadlines(add, env, cx, terminal, status, accepted_ev, attempt_ev, delivered_ev,
                     incoming_ev, recalled_ev)
    return _verdict(number, findings, status, len(links), due)


def _addressee_ok(env: Sequence[Any], unit: bytes, user: bytes, authority: bytes,
                  note: bytes, cx: _Context) -> bool:
    """Rule 10: the named person, or, for an absent addressee of a Hỏa tốc envelope, the head
    of the unit or a person the head authorised in writing (the authorisation is named in
    the link's note, as the write path demands), in the recipient unit."""
    if unit != env[10]:
        return False
    if authority in (N, b"addressee"):
        if env[11] != _NULL:
            return user == env[11]
        # the addressee has no account: the receiver's name must be the one on the envelope,
        # as the write path compares them (custody._check_addressee)
        named = _name_key(_copy_decode(env[26]) or "")
        return bool(named) and cx.names.get(user) == named
    if env[5] != b"flash" and env[8] != b"flash":
        return False
    if authority == b"head_of_unit":
        return user in cx.heads
    return authority == b"authorised" and note.strip() not in (b"", N)


def _name_key(name: str) -> str:
    """A person's name as custody._same_name compares it (NFC, case and spaces folded)."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _check_seal_incident(add: Any, cx: _Context, eid: bytes, bag: bytes, hid: bytes,
                         seq: int | None) -> None:
    # An incident opened at another handoff of this envelope does not report this one (the
    # write path opens one per anomalous handoff); one opened on the envelope by hand does.
    found = list(chain_iter(cx.seal_by_handoff.get(hid, ()),
                            (i for i in cx.seal_by_envelope.get(eid, ()) if i.handoff_id in (
                                hid, _NULL)),
                            cx.seal_by_bag.get(bag, ()) if bag != _NULL else ()))
    if not found:
        add(make_finding("seal_anomaly_unreported", seq))
        return
    inc = next((i for i in found if i.handoff_id == hid), found[0])
    if not inc.report.strip():
        add(make_finding("seal_incident_without_report", seq, incident=inc.id))
    if not inc.head_notified:
        add(make_finding("seal_incident_head_not_notified", seq, incident=inc.id))
    if not inc.sender_notified:
        add(make_finding("seal_incident_sender_not_notified", seq, incident=inc.id))


def _deadlines(add: Any, env: Sequence[Any], cx: _Context, terminal: bool,
               status: bytes | None, accepted_ev: bytes | None, attempt_ev: bytes | None,
               delivered_ev: bytes | None, incoming_ev: bytes | None,
               recalled_ev: bytes | None) -> float | None:
    """Time limits (§4), registration on arrival (rules 9, 12) and recall dates (rule 11)."""
    now = cx.now_epoch
    due: float | None = None
    attempt = _epoch(attempt_ev) if attempt_ev is not None else None
    if accepted_ev is not None:
        agreed = _epoch(env[6]) if env[6] != N else None
        route, service = env[7].decode(), env[5].decode()
        due = cx.deadlines.due_epoch(_epoch(accepted_ev), route, service, agreed)
        if due is None:
            add(make_finding("deadline_rule_missing", route=route, service=service))
        elif attempt is not None:
            if attempt > due:
                add(make_finding("deadline_missed", None, NOTICE if terminal else OVERDUE,
                                 due=_local(due)))
        elif not terminal and now > due:
            add(make_finding("deadline_missed", None, OVERDUE, due=_local(due)))
    if delivered_ev is not None:
        delivered = attempt if delivered_ev is attempt_ev else _epoch(delivered_ev)
        incoming = _epoch(incoming_ev) if incoming_ev is not None else None
        # The end of the next working day is always more than a day after the delivery.
        if incoming is None or incoming - delivered > SECONDS_PER_DAY:  # type: ignore[operator]
            register_by = cx.deadlines.calendar.end_of_next_working_day_epoch(delivered)  # type: ignore[arg-type]
            if incoming is not None:
                if incoming > register_by:
                    add(make_finding("arrival_registration_late", None, NOTICE,
                                     due=_local(register_by)))
            elif status == b"delivered" and now > register_by:
                add(make_finding("arrival_registration_late", None, OVERDUE,
                                 due=_local(register_by)))
    if env[15] != N:
        day = date.fromisoformat(env[15].decode())
        back_by = (day_number(day) + 1) * SECONDS_PER_DAY - UTC_OFFSET
        shown = day.strftime("%d/%m/%Y")
        if recalled_ev is not None:
            if _epoch(recalled_ev) > back_by:
                add(make_finding("recall_overdue", None, NOTICE, due=shown))
        elif status != b"returned" and now > back_by:
            add(make_finding("recall_overdue", None, OVERDUE, due=shown))
    return due


def _verdict(number: str, findings: list[Finding], status: bytes | None, length: int,
             due: float | None) -> EnvelopeReport:
    worst = max(SEVERITY_RANK[f.severity] for f in findings) if findings else -1
    if worst == 2:
        verdict = BROKEN
    elif worst == 1:
        verdict = OVERDUE
    elif status in _TERMINAL:
        verdict = COMPLETE
    else:
        verdict = IN_TRANSIT
    return EnvelopeReport(number=number, status=verdict, findings=findings, chain_length=length,
                          due=due)


# --------------------------------------------------------------------------- streaming


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


def _filters(sql: _Sql, ids: list[int] | None, since: date | None,
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
        sql = _Sql(dialect)
        where_e, where_h, where_m = _filters(sql, ids, since)
        skew = ctx.settings.max_clock_skew.total_seconds()
        delay = ctx.settings.max_scan_delay.total_seconds()
        queries = (sql.envelopes(where_e), sql.handoffs(where_h, skew, delay),
                   sql.manifest(where_m))
        cx = _Context(ctx, now)
        if sql.pg:
            # Three COPY streams need three connections; they import this transaction's
            # snapshot, so all of them see exactly the same committed state.
            snapshot = _export_snapshot(ctx)
            streams = []
            for query in queries:
                raw = _snapshot_connection(_pg_conninfo(ctx), snapshot)
                extra.append(raw)
                streams.append(_copy_rows(raw, query))
            envelopes, handoffs, manifest = streams
        else:
            envelopes, handoffs, manifest = (
                _cursor_rows(ctx, q, name, batch) for q, name in zip(
                    queries, ("kt1_verify_e", "kt1_verify_h", "kt1_verify_m"), strict=True))
        yield from _merge(envelopes, handoffs, manifest, cx)
    finally:
        for raw in extra:
            raw.close()
        ctx.session.rollback()


def _export_snapshot(ctx: Ctx) -> str:
    snapshot = str(ctx.session.execute(text("SELECT pg_export_snapshot()")).scalar_one())
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
    """:meth:`_Context.precise_hash_ok` for a worker process, on its own connection."""
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
        return chain.link_hash(h.prev_hash, chain.canonical(h, identity)) == h.hash  # type: ignore[arg-type]
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
            conninfo: str, snapshot: str, cx: _Context, out: Any, ahead: float,
            behind: float) -> None:
    """One worker process: check every ``workers``-th block and send its reports back."""
    conns: list[Any] = []
    cache: dict[str, Any] = {}
    try:
        cx.precise_hash_ok = partial(_precise_raw, conninfo, snapshot, cache)  # type: ignore[method-assign]
        conns = [_snapshot_connection(conninfo, snapshot) for _ in range(3)]
        sql = _Sql("postgresql")
        for k in range(index, len(blocks), workers):
            where_e, where_h, where_m = _filters(sql, None, None, blocks[k])
            streams = [_copy_rows(conn, query) for conn, query in zip(conns, (
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
        cx = _Context(ctx, now)
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
           manifest: Iterator[list[Any]], cx: _Context) -> Iterator[EnvelopeReport]:
    """Walk the three streams, all ordered by envelope id, one envelope at a time."""
    h = next(handoffs, None)
    m = next(manifest, None)
    for env in envelopes:
        eid = env[0]
        if h is not None and h[7] != eid:
            number = int(eid)
            while h is not None and int(h[7]) < number:
                orphan, h = _orphan(h, handoffs)
                yield orphan
        links = []
        while h is not None and h[7] == eid:
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
        yield _check(env, links, lines, cx)
    while h is not None:
        orphan, h = _orphan(h, handoffs)
        yield orphan


def _orphan(first: list[Any], rest: Iterator[list[Any]]
            ) -> tuple[EnvelopeReport, list[Any] | None]:
    """Handoffs whose envelope row is gone (possible only with constraints dropped)."""
    eid = first[7]
    h: list[Any] | None = first
    count = 0
    while h is not None and h[7] == eid:
        count += 1
        h = next(rest, None)
    report = _verdict(f"#{_text(eid)}", [make_finding("envelope_missing",
                                                      envelope_id=_text(eid))],
                      None, count, None)
    return report, h


# --------------------------------------------------------------------------- reports


@dataclass
class Summary:
    """Counts per status and per finding code over a verification run."""

    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    codes: dict[str, int] = field(default_factory=dict)
    envelopes: int = 0

    def add(self, report: EnvelopeReport) -> None:
        self.envelopes += 1
        self.statuses[report.status] = self.statuses.get(report.status, 0) + 1
        for f in report.findings:
            self.codes[f.code] = self.codes.get(f.code, 0) + 1

    @property
    def broken(self) -> int:
        return self.statuses.get(BROKEN, 0)

    def lines(self) -> list[str]:
        labels = {COMPLETE: "hoàn tất", IN_TRANSIT: "đang chuyển", OVERDUE: "quá hạn",
                  BROKEN: "vi phạm"}
        return [f"{status}: {self.statuses.get(status, 0)} ({labels[status]})"
                for status in STATUSES]

    def to_dict(self) -> dict[str, Any]:
        return {"envelopes": self.envelopes, **self.statuses, "findings": dict(self.codes)}


CSV_HEADER = ("number", "status", "code", "severity", "seq", "message_vi", "message_en")


def csv_rows(report: EnvelopeReport) -> list[tuple[Any, ...]]:
    return [(report.number, report.status, f.code, f.severity,
             "" if f.seq is None else f.seq, f.message_vi, f.message_en)
            for f in report.findings]


def findings_csv(reports: Iterable[EnvelopeReport]) -> str:
    """The findings as CSV for officers (one row per finding)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for report in reports:
        writer.writerows(csv_rows(report))
    return out.getvalue()


def count_envelopes(ctx: Ctx) -> int:
    return int(ctx.session.execute(select(func.count(Envelope.id))).scalar_one())
