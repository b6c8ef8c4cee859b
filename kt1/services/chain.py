"""The per-envelope hash chain (docs/domain.md §3, rule 15).

``hash = SHA-256(prev_hash_bytes || canonical_json)``. The canonical form is compact JSON
with sorted keys and UTF-8 text; times are UTC ISO-8601 with microseconds. Changing this
format breaks every stored chain, so it is versioned (``v``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from kt1.models import Envelope, Handoff

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


def canonical(h: Handoff, identity: dict[str, Any] | None = None) -> bytes:
    """Canonical bytes of one handoff; ``identity`` is included for the first link only."""
    body: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "envelope_id": h.envelope_id,
        "seq": h.seq,
        "kind": str(h.kind),
        "bag_id": h.bag_id,
        "scan_id": h.scan_id,
        "from_unit_id": h.from_unit_id,
        "from_user_id": h.from_user_id,
        "to_unit_id": h.to_unit_id,
        "to_user_id": h.to_user_id,
        "location": h.location,
        "event_at": _time(h.event_at),
        "recorded_at": _time(h.recorded_at),
        "seal_state": str(h.seal_state),
        "seal_number": h.seal_number,
        "count": h.count,
        "ack_user_id": h.ack_user_id,
        "ack_method": _str(h.ack_method),
        "ack_reference": h.ack_reference,
        "device": h.device,
        "recorded_by_id": h.recorded_by_id,
        "reason": _str(h.reason),
        "authority": _str(h.authority),
        "note": h.note,
    }
    if identity is not None:
        body["envelope"] = identity
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: str, content: bytes) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + content).hexdigest()
