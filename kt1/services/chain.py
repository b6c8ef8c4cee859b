"""The per-envelope hash chain (docs/rules.md, rule 15).

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


#: The provenance facts (docs/domain.md §8: drafter, signer, classification basis) sealed
#: into the first link under ``provenance``, each by its key there and its envelope column.
PROVENANCE_KEYS: tuple[tuple[str, str], ...] = (
    ("basis", "classification_basis"),
    ("drafter_name", "drafter_name"),
    ("drafter_user_id", "drafter_user_id"),
    ("signer_name", "signer_name"),
    ("signer_title", "signer_title"),
)


def provenance_identity(envelope: Any) -> dict[str, Any] | None:
    """The provenance facts that are set, or None when none is (every envelope registered
    before they existed): a key is sealed only when set, so those chains hash as before."""
    facts = {key: getattr(envelope, column, None) for key, column in PROVENANCE_KEYS}
    set_facts = {key: value for key, value in facts.items() if value is not None}
    return set_facts or None


#: A copy's facts (docs/domain.md §8: which document, "Bản số n/N", who approved it and
#: when, how it was made) sealed into its first link under ``copy``, each by its key there
#: and its envelope column; numbers are JSON numbers, the others strings.
COPY_KEYS: tuple[tuple[str, str], ...] = (
    ("approved_by_id", "copy_approved_by_id"),
    ("approved_on", "copy_approved_on"),
    ("method", "copy_method"),
    ("no", "copy_no"),
    ("of", "copy_of_id"),
    ("total", "copy_total"),
)
COPY_NUMBERS = frozenset({"copy_approved_by_id", "copy_no", "copy_of_id", "copy_total"})


def copy_identity(envelope: Any) -> dict[str, Any] | None:
    """A copy's facts that are set, or None for an original (every envelope registered
    before copies existed hashes as before)."""
    if getattr(envelope, "copy_of_id", None) is None:
        return None
    facts: dict[str, Any] = {}
    for key, column in COPY_KEYS:
        value = getattr(envelope, column, None)
        if value is None:
            continue
        facts[key] = value if column in COPY_NUMBERS else (
            value.isoformat() if hasattr(value, "isoformat") else str(value))
    return facts


def envelope_identity(envelope: Envelope) -> dict[str, Any]:
    """The registration facts sealed into the first link (never the subject)."""
    identity = _identity(envelope)
    provenance = provenance_identity(envelope)
    if provenance is not None:
        identity["provenance"] = provenance
    copy = copy_identity(envelope)
    if copy is not None:
        identity["copy"] = copy
    return identity


def _identity(envelope: Envelope) -> dict[str, Any]:
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

    ``api`` is the field's name in the API's output (``None``: not shown there); a dotted
    name (``giver.unit``) puts it in a party object, which is ``null`` when its first member
    is. ``ref`` says what an id is shown as: ``unit`` (its code), ``user`` (the username),
    ``bag`` (the bag's number) or ``envelope`` (the envelope's number). ``api_pos`` orders
    the API's fields (as its OpenAPI document lists them).
    """

    name: str
    form: str
    nullable: bool
    hashed: bool = True
    api: str | None = None
    ref: str | None = None
    api_pos: int = 0

    @property
    def is_text(self) -> bool:
        return self.form in ("text", "enum")


#: THE list of a handoff's fields (docs/rules.md): the canonical hash form, the verifier's
#: SQL and row decoding, the write path and the API are all derived from it. Hashed fields
#: come first, in canonical (sorted-key) order. Changing it changes the hash format.
HANDOFF_FIELDS: tuple[HandoffField, ...] = (
    HandoffField("ack_method", "enum", True, api="ack_method", api_pos=14),
    HandoffField("ack_reference", "text", True),
    HandoffField("ack_user_id", "int", True, api="acknowledged_by", ref="user", api_pos=13),
    HandoffField("authority", "enum", True),
    HandoffField("bag_id", "int", True, api="bag", ref="bag", api_pos=4),
    HandoffField("count", "int", False),
    HandoffField("device", "text", False),
    HandoffField("envelope_id", "int", False, api="number", ref="envelope", api_pos=3),
    HandoffField("event_at", "time", False, api="event_at", api_pos=5),
    HandoffField("from_unit_id", "int", True, api="giver.unit", ref="unit", api_pos=7),
    HandoffField("from_user_id", "int", True, api="giver.user", ref="user", api_pos=8),
    HandoffField("kind", "enum", False, api="kind", api_pos=1),
    HandoffField("location", "text", False),
    HandoffField("note", "text", False),
    HandoffField("reason", "enum", True),
    HandoffField("recorded_at", "time", False, api="recorded_at", api_pos=6),
    HandoffField("recorded_by_id", "int", False, ref="user"),
    HandoffField("scan_id", "text", False, api="scan_id", api_pos=2),
    HandoffField("seal_number", "text", True, api="seal_number", api_pos=12),
    HandoffField("seal_state", "enum", False, api="seal_state", api_pos=11),
    HandoffField("seq", "int", False, api="seq", api_pos=0),
    HandoffField("to_unit_id", "int", False, api="receiver.unit", ref="unit", api_pos=9),
    HandoffField("to_user_id", "int", True, api="receiver.user", ref="user", api_pos=10),
    HandoffField("prev_hash", "text", False, hashed=False),
    HandoffField("hash", "text", False, hashed=False, api="hash", api_pos=15),
    HandoffField("id", "int", False, hashed=False),
)
HASHED_FIELDS: tuple[HandoffField, ...] = tuple(f for f in HANDOFF_FIELDS if f.hashed)
HASHED_NAMES: tuple[str, ...] = tuple(f.name for f in HASHED_FIELDS)
#: The fields shown in the API's output of a handoff (:func:`kt1.api.serialize.handoff_out`).
API_FIELDS: tuple[HandoffField, ...] = tuple(sorted(
    (f for f in HANDOFF_FIELDS if f.api is not None), key=lambda f: f.api_pos))
assert list(HASHED_NAMES) == sorted(HASHED_NAMES), "hashed fields in canonical order"  # noqa: S101


def put_shown(out: dict[str, Any], key: str, member: str, value: Any, shown: Any) -> None:
    """Place one shown handoff field in an output: at ``key``, or, for a dotted ``api`` name
    (``giver.unit``), as ``member`` of the party at ``key``, which is null when its first
    member (the unit) is."""
    if not member:
        out[key] = shown
    elif key not in out:
        out[key] = None if value is None else {member: shown}
    elif out[key] is not None:
        out[key][member] = shown


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
