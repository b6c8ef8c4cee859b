"""The plain values every custody rule judges (docs/rules.md).

Rules see a handoff as a :data:`Link`: its fields by name (derived from
:data:`kt1.services.chain.HANDOFF_FIELDS`), each in the *wire* form the verifier streams
from the database, so that the verifier never decodes a value it does not need and the
write path judges a new handoff in exactly the form the verifier will later read it:

- text and enum values: UTF-8 bytes in PostgreSQL's COPY text form (``\\N`` for NULL);
- numbers: ASCII digits, a NULL number is ``null`` (as the canonical JSON writes it);
- times: ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (fixed width, so bytes compare as times);
- booleans: ``true`` / ``false``.

The envelope is an :data:`EnvelopeFacts` (same forms), the state of its chain before the
event a :class:`ChainState`. Nothing here touches a session, an ORM object or Flask.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, NamedTuple

from kt1.services.chain import HANDOFF_FIELDS

WIRE_NULL = b"\\N"  # COPY's NULL, for text, enum and time fields
JSON_NULL = b"null"  # a NULL number
TRUE, FALSE = b"true", b"false"

#: A handoff's fields by name, then ``skewed`` (b"1" when the device clock was too far from
#: the server's at recording; verifier only) and ``plain`` (no double quote in the row:
#: the fast hash formatter may paste the fields in as they are).
LINK_NAMES: tuple[str, ...] = (*(f.name for f in HANDOFF_FIELDS), "skewed", "plain")
Link = namedtuple("Link", LINK_NAMES)  # type: ignore[misc]  # derived from the declaration
LINK_INDEX = {name: k for k, name in enumerate(LINK_NAMES)}

#: The envelope's facts the rules and the hash need, in the verifier's column order.
ENVELOPE_NAMES: tuple[str, ...] = (
    "id", "number", "classification", "mark", "layers", "service", "agreed_at", "route",
    "urgency", "sender_unit_id", "recipient_unit_id", "recipient_user_id",
    "is_addressee_only", "document_number", "copies", "recall_by", "register_year",
    "register_seq", "registered_by_id", "holder_unit_id", "holder_user_id", "chain_length",
    "last_hash", "has_subject", "subject_approved_by", "registered_at", "recipient_name",
    "drafter_user_id", "drafter_name", "signer_name", "signer_title", "classification_basis",
    "copy_of_id", "copy_no", "copy_total", "copy_method", "copy_approved_by_id",
    "copy_approved_on", "copy_forbidden", "classified_on", "protection_until", "secrecy",
    "plain")
EnvelopeFacts = namedtuple("EnvelopeFacts", ENVELOPE_NAMES)  # type: ignore[misc]

_COPY_OUT = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\b": "\\b", "\f": "\\f",
             "\v": "\\v"}
_COPY_OUT_RE = re.compile(r"[\\\t\n\r\b\f\v]")
_COPY_IN = {b"\\": b"\\", b"t": b"\t", b"n": b"\n", b"r": b"\r", b"b": b"\b", b"f": b"\f",
            b"v": b"\v"}
_COPY_IN_RE = re.compile(rb"\\(.)", re.DOTALL)


def time_wire(value: datetime) -> bytes:
    """A time as the chain writes it (UTC, microseconds, fixed width)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


def copy_encode(value: Any) -> bytes:
    """A Python value as COPY's text format writes it (text: ``\\N`` for None)."""
    if value is None:
        return WIRE_NULL
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return TRUE if value else FALSE
    if isinstance(value, datetime):
        return time_wire(value)
    if isinstance(value, date):
        return value.isoformat().encode()
    if isinstance(value, str):
        if _COPY_OUT_RE.search(value):
            value = _COPY_OUT_RE.sub(lambda m: _COPY_OUT[m.group(0)], value)
        return value.encode()
    return str(value).encode()


def copy_decode(value: bytes) -> str | None:
    """The value behind one COPY field (None for NULL)."""
    if value == WIRE_NULL:
        return None
    if b"\\" in value:
        value = _COPY_IN_RE.sub(lambda m: _COPY_IN.get(m.group(1), m.group(1)), value)
    return value.decode("utf-8", "surrogateescape")


def number_wire(value: int | None) -> bytes:
    """A nullable number as the rules see it."""
    return JSON_NULL if value is None else str(value).encode()


def link_from(values: dict[str, Any]) -> Any:
    """A :data:`Link` from Python values by name (the write path's new handoff)."""
    out: list[Any] = []
    for f in HANDOFF_FIELDS:
        value = values.get(f.name)
        out.append(number_wire(value) if f.form == "int" and f.nullable else copy_encode(value))
    out += [b"0", True]
    return Link._make(out)


def text(value: bytes | None) -> str:
    """A wire value for a message ("-" for NULL)."""
    if value is None or value in (WIRE_NULL, JSON_NULL):
        return "-"
    return copy_decode(value) or ""


class Hit(NamedTuple):
    """A rule broken: its finding code and the values its message names."""

    code: str
    params: dict[str, Any]
    severity: str | None = None  # None: the code's own severity


def hit(code: str, severity: str | None = None, **params: Any) -> Hit:
    return Hit(code, params, severity)


@dataclass(slots=True)
class ChainState:
    """An envelope's chain just before an event, as the rules need it.

    The verifier builds it by replaying the chain link by link (:func:`advance`); the write
    path from the envelope's stored row (the same values: the verifier checks that the row
    agrees with its chain).
    """

    length: int = 0
    last_hash: bytes | None = None  # the hash of the last link (its wire hex)
    status: bytes | None = None
    holder_unit: bytes = JSON_NULL
    holder_user: bytes = JSON_NULL
    last_event_at: bytes | None = None
    in_bag: bytes | None = None  # the bag the envelope is in (its id, wire form)
    bag_seal: bytes | None = None  # that bag's seal number once sealed
    before_bag: bytes | None = None  # the status it had when it was bagged (``unbagged``)
    # before the last link (a ``voided`` link takes it back): its kind, and the status and
    # the holder before it
    last_kind: bytes | None = None
    prev_status: bytes | None = None
    prev_holder_unit: bytes = JSON_NULL
    prev_holder_user: bytes = JSON_NULL
    registered_in: bool = False  # entered in the recipient's incoming register
    # milestones for the time limits (wire times of the events)
    accepted_at: bytes | None = None  # the first acceptance
    attempt_at: bytes | None = None  # the first delivery attempt
    delivered_at: bytes | None = None  # the last delivery
    incoming_at: bytes | None = None  # the first entry in the incoming register
    recalled_at: bytes | None = None  # the first recall
    # rule P5: the new end the latest extension of the protection term set (``YYYY-MM-DD``)
    extended_until: bytes | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """Who takes part in a handoff, as the write-path rules need it."""

    id: int
    unit_id: int
    unit_is_post_office: bool
    role: str
    is_active: bool
    is_unit_head: bool
    full_name: str


@dataclass(frozen=True, slots=True)
class SealReport:
    """A seal-anomaly incident as rule 7 judges it."""

    id: int
    report: str


@dataclass(frozen=True, slots=True)
class PendingIncident:
    """An incident no recipient has acknowledged yet (rule T2), with the end of the time
    given to acknowledge it (epoch seconds, counted in working days)."""

    id: int
    kind: str
    due: float


@dataclass(frozen=True, slots=True)
class PaperSheet:
    """A sheet this system printed, as rule A8 judges a paper receipt that names it: a
    post-office sheet (bảng kê giao) or an internal one (phiếu chuyển giao nội bộ). Ids are
    wire numbers."""

    internal: bool
    unit_id: bytes  # the unit that made it
    office_id: bytes  # a post-office sheet: the office it is for (else ``null``)
    receiver_id: bytes  # an internal sheet: the named receiver (else ``null``)
    signed: bool  # an internal sheet: marked signed by the receiving unit
    listed: frozenset[bytes]  # the envelopes it lists
    ticked: frozenset[bytes]  # an internal sheet: the envelopes whose line is ticked


def sheet_key(reference: bytes | None) -> str:
    """A paper reference as a sheet number (as the counter compares it: trimmed, upper)."""
    if reference is None or reference in (WIRE_NULL, JSON_NULL):
        return ""
    return (copy_decode(reference) or "").strip().upper()


class World:
    """What the rules look up beyond the envelope and the event: the verifier fills it from
    tables loaded once, the write path from the few rows one request needs. The defaults
    answer "nothing known"."""

    #: events later than this (wire time) lie in the future
    future_limit: bytes = b"9999"

    def is_head(self, user: bytes) -> bool:
        return False

    def is_inactive(self, user: bytes) -> bool:
        """Is this account deactivated (khóa)?"""
        return False

    def full_name(self, user: bytes) -> str:
        return ""

    def open_discrepancy(self, envelope_id: bytes, bag: bytes, at: bytes) -> int | None:
        """The id of a discrepancy open on the envelope or its bag at ``at``, if any."""
        return None

    def seal_report(self, envelope_id: bytes, bag: bytes, handoff_id: bytes
                    ) -> SealReport | None:
        return None

    def unacknowledged_incidents(self, envelope_id: bytes, bags: Iterable[bytes]
                                 ) -> list[PendingIncident]:
        """Incidents on the envelope, or on one of ``bags``, not acknowledged yet."""
        return []

    def manifest_lines(self, envelope_id: bytes) -> dict[bytes, bytes]:
        """The bags whose manifest lists the envelope, each with ``found_at_opening``."""
        return {}

    def bagged_after_sealing(self, handoff_id: bytes) -> bool:
        """Was this ``bagged`` link written after its bag was sealed?"""
        return False

    def bag_lacks_tracker(self, bag: bytes) -> bool:
        return False

    def bag_lacks_escort(self, bag: bytes) -> bool:
        return False

    def paper_sheet(self, reference: bytes) -> PaperSheet | None:
        """The sheet a paper receipt's reference names, if this system made one so numbered."""
        return None

    # -- copies (rules P1 to P3)
    def copy_numbers(self, original: bytes) -> list[int]:
        """The numbers ("Bản số") of every copy of the envelope ``original``."""
        return []

    def envelope_exists(self, envelope_id: bytes) -> bool:
        return True

    def may_allow_copies(self, unit: bytes, user: bytes) -> bool:
        """Is ``user`` entitled to allow copies in ``unit`` (listed, or a head of it)?"""
        return True

    def term_years(self, classification: bytes, day: bytes) -> int | None:
        """Rule P5: the longest protection term, in years, of the dated rule in force on
        ``day`` (the classification date, ``YYYY-MM-DD``); None when no rule covers it."""
        return None
