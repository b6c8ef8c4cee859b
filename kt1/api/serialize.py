"""Turning models into the API's output shapes (never the subject)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from kt1.models import Bag, Envelope, Handoff, Unit, User
from kt1.models.enums import EventKind
from kt1.services.bagging import BagResult
from kt1.services.chain import API_FIELDS, put_shown
from kt1.services.context import Ctx
from kt1.services.custody import Recorded
from kt1.services.printing import unprinted_labels


def _unit_code(session: Session, unit_id: int | None) -> str | None:
    unit = session.get(Unit, unit_id) if unit_id is not None else None
    return unit.code if unit else None


def _username(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id is not None else None
    return user.username if user else None


def envelope_out(session: Session, e: Envelope) -> dict[str, Any]:
    bag = session.get(Bag, e.bag_id) if e.bag_id else None
    return {
        "number": e.number,
        "letter": e.mark,
        "service": str(e.service),
        "agreed_at": e.agreed_at,
        "route": str(e.route),
        "sender": {"unit": e.sender_unit.code, "user": None},
        "recipient": {"unit": e.recipient_unit.code, "user": None},
        "is_addressee_only": e.is_addressee_only,
        "status": str(e.status),
        "holder": {"unit": e.holder_unit.code,
                   "user": e.holder_user.username if e.holder_user else None},
        "bag": bag.number if bag else None,
        "chain_length": e.chain_length,
        "last_event_at": e.last_event_at,
        "protection": {"classified_on": e.classified_on, "until": e.protection_until,
                       "secrecy": str(e.secrecy), "copy_forbidden": e.copy_forbidden},
    }


def _bag_number(session: Session, bag_id: int | None) -> str | None:
    bag = session.get(Bag, bag_id) if bag_id is not None else None
    return bag.number if bag else None


#: How an id with a ``ref`` (chain.HandoffField) is shown: the unit's code, the username...
_REFS: dict[str, Callable[[Session, Any], Any]] = {
    "unit": _unit_code, "user": _username, "bag": _bag_number}


def handoff_out(session: Session, h: Handoff, number: str) -> dict[str, Any]:
    """The API's view of a handoff: its fields with an ``api`` name (chain.HANDOFF_FIELDS);
    ``number`` is the number of its envelope."""
    out: dict[str, Any] = {}
    for f in API_FIELDS:
        assert f.api is not None  # noqa: S101 (API_FIELDS holds exposed fields only)
        value = getattr(h, f.name)
        if f.ref == "envelope":
            shown = number
        elif f.ref is not None:
            shown = _REFS[f.ref](session, value)
        elif f.form == "enum" and value is not None:
            shown = str(value)
        else:
            shown = value
        key, _, member = f.api.partition(".")
        put_shown(out, key, member, value, shown)
    return out


#: The warning given with an acceptance when the envelope's label never came out of a
#: printer, nor as a PDF (the counter's page says the same for a handover sheet).
LABEL_NEVER_PRINTED = {
    "code": "label_never_printed",
    "message_vi": "Nhãn của bưu gửi này chưa từng được in (trên máy in nhãn hoặc ra PDF): "
                  "hãy kiểm tra nhãn trên bì trước khi đóng túi.",
    "message_en": "This envelope's label was never printed (on a label printer or as a PDF): "
                  "check the label on the envelope before bagging it.",
}


def warnings_of(ctx: Ctx, rec: Recorded) -> list[dict[str, str]]:
    """What the scanner should point out beside a recorded handoff (never a refusal):
    at acceptance, a label never printed."""
    if rec.handoff.kind is EventKind.ACCEPTED and unprinted_labels(ctx, [rec.envelope]):
        return [dict(LABEL_NEVER_PRINTED)]
    return []


def recorded_out(session: Session, rec: Recorded, ctx: Ctx | None = None) -> dict[str, Any]:
    """A recorded handoff, its envelope, and its ``warnings`` (computed when ``ctx`` is
    given)."""
    return {"handoff": handoff_out(session, rec.handoff, rec.envelope.number),
            "envelope": envelope_out(session, rec.envelope),
            "warnings": warnings_of(ctx, rec) if ctx is not None else []}


def bag_out(session: Session, bag: Bag) -> dict[str, Any]:
    lines = []
    for line in bag.lines:
        env = session.get(Envelope, line.envelope_id)
        lines.append({"line_no": line.line_no, "number": env.number if env else None,
                      "letter": env.mark if env else None,
                      "found_at_opening": line.found_at_opening})
    return {
        "number": bag.number,
        "origin": bag.origin_unit.code,
        "destination": bag.destination_unit.code,
        "status": str(bag.status),
        "is_sealed": bag.seal_number is not None,
        "tracker_id": bag.tracker_id,
        "holder": {"unit": _unit_code(session, bag.holder_unit_id),
                   "user": _username(session, bag.holder_user_id)},
        "count": len(lines),
        "lines": lines,
    }


def bag_result_out(session: Session, res: BagResult) -> dict[str, Any]:
    session.refresh(res.bag)
    return {"bag": bag_out(session, res.bag),
            "incident_id": res.incident.id if res.incident else None,
            "missing": res.missing, "extra": res.extra}
