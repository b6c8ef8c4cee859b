"""The per-envelope hash chain (docs/domain.md §3, rule 15).

``hash = SHA-256(prev_hash_bytes || canonical_json)``. The canonical form is compact JSON
with sorted keys and UTF-8 text; times are UTC ISO-8601 with microseconds. Changing this
format breaks every stored chain, so it is versioned (``v``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kt1.models import Envelope

FORMAT_VERSION = 1


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _str(value: Any) -> Any:
    return None if value is None else str(value)


def envelope_identity(envelope: Envelope) -> dict[str, Any]:
    """The registration facts sealed into the first link (never the subject)."""
    return {
        "number": envelope.number,
        "classification": str(envelope.classification),
        "mark": envelope.mark,
        "layers": envelope.layers,
        "service": str(envelope.service),
        "agreed_at": _time(envelope.agreed_at),
        "route": str(envelope.route),
        "urgency": str(envelope.urgency),
        "sender_unit_id": envelope.sender_unit_id,
        "recipient_unit_id": envelope.recipient_unit_id,
        "recipient_user_id": envelope.recipient_user_id,
        "is_addressee_only": envelope.is_addressee_only,
        "document_number": envelope.document_number,
        "copies": envelope.copies,
        "recall_by": envelope.recall_by.isoformat() if envelope.recall_by else None,
        "register": [envelope.register_year, envelope.register_seq],
        "registered_by_id": envelope.registered_by_id,
    }


@dataclass(frozen=True)
class HandoffField:
    """One field of a handoff (một lần giao nhận), as stored, hashed and shown.

    ``form`` says how the value is written in the canonical JSON and on the wire:
    ``text`` (a JSON string), ``int`` (a JSON number), ``time`` (UTC ISO-8601 with
    microseconds, see :func:`_time`) or ``enum`` (the enum's value as a JSON string).
    ``hashed`` fields are part of the canonical form; the others (the chain's own links)
    are not. ``nullable`` mirrors the column.
    """

    name: str
    form: str
    nullable: bool
    hashed: bool = True

    @property
    def is_text(self) -> bool:
        return self.form in ("text", "enum")


#: THE list of a handoff's fields (docs/rules.md): the canonical hash form, the verifier's
#: SQL and row decoding, the write path and the API are all derived from it. Hashed fields
#: come first, in canonical (sorted-key) order. Changing it changes the hash format.
HANDOFF_FIELDS: tuple[HandoffField, ...] = (
    HandoffField("ack_method", "enum", True),
    HandoffField("ack_reference", "text", True),
    HandoffField("ack_user_id", "int", True),
    HandoffField("authority", "enum", True),
    HandoffField("bag_id", "int", True),
    HandoffField("count", "int", False),
    HandoffField("device", "text", False),
    HandoffField("envelope_id", "int", False),
    HandoffField("event_at", "time", False),
    HandoffField("from_unit_id", "int", True),
    HandoffField("from_user_id", "int", True),
    HandoffField("kind", "enum", False),
    HandoffField("location", "text", False),
    HandoffField("note", "text", False),
    HandoffField("reason", "enum", True),
    HandoffField("recorded_at", "time", False),
    HandoffField("recorded_by_id", "int", False),
    HandoffField("scan_id", "text", False),
    HandoffField("seal_number", "text", True),
    HandoffField("seal_state", "enum", False),
    HandoffField("seq", "int", False),
    HandoffField("to_unit_id", "int", False),
    HandoffField("to_user_id", "int", True),
    HandoffField("prev_hash", "text", False, hashed=False),
    HandoffField("hash", "text", False, hashed=False),
    HandoffField("id", "int", False, hashed=False),
)
HASHED_FIELDS: tuple[HandoffField, ...] = tuple(f for f in HANDOFF_FIELDS if f.hashed)
HASHED_NAMES: tuple[str, ...] = tuple(f.name for f in HASHED_FIELDS)
assert list(HASHED_NAMES) == sorted(HASHED_NAMES), "hashed fields in canonical order"  # noqa: S101


def _json_value(f: HandoffField, value: Any) -> Any:
    if f.form == "time":
        return _time(value)
    if f.form == "enum":
        return _str(value)
    return value


def canonical(h: Any, identity: dict[str, Any] | None = None) -> bytes:
    """Canonical bytes of one handoff (any object with the hashed fields as attributes);
    ``identity`` is included for the first link only."""
    body: dict[str, Any] = {f.name: _json_value(f, getattr(h, f.name)) for f in HASHED_FIELDS}
    body["v"] = FORMAT_VERSION
    if identity is not None:
        body["envelope"] = identity
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + content).hexdigest()
