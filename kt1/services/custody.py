"""Recording custody handoffs (giao nhận): the heart of the chain of custody.

Every write goes through :func:`append_link`, which judges it by the custody rules, extends the
envelope's hash chain and moves the envelope's current holder, all in the caller's
transaction. Public use cases are each one transaction (:func:`transactional`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kt1.errors import (
    CustodyConflictError,
    ForbiddenError,
    GiverIdentificationInvalidError,
    GiverIdentificationMissingError,
    KT1Error,
    NotCurrentHolderError,
    PaperReceiptUnboundError,
    ScanIdConflictError,
    UnitNotServedError,
    UnknownEnvelopeError,
    ValidationError,
    VoidNotAllowedError,
    VoidWindowPassedError,
    WrongUnitError,
)
from kt1.models import (
    Bag,
    Envelope,
    Handoff,
    HandoverLine,
    HandoverSheet,
    Incident,
    Scan,
    Unit,
    User,
)
from kt1.models.base import utcnow
from kt1.models.enums import (
    INTERNAL_EVENTS,
    STAGE_KEEPING_EVENTS,
    TRANSFER_EVENTS,
    VOIDABLE_EVENTS,
    AckMethod,
    Authority,
    DeliveryFailure,
    EnvelopeStatus,
    EventKind,
    IncidentKind,
    IncidentStatus,
    Role,
    SealState,
    status_after,
)
from kt1.models.handover import SheetStatus
from kt1.services.access import Receipt, may_see_envelope, receipt_valid, serves, verify_receipt
from kt1.services.chain import HASHED_FIELDS, canonical, envelope_identity, link_hash
from kt1.services.context import Ctx
from kt1.services.identifiers import next_value, parse_number
from kt1.services.judging import RequestWorld, judge_new, person, refusal
from kt1.services.rules.roles import receiver_may_receive
from kt1.services.subjects import local_date
from kt1.services.text import clean_scan_id, clean_text
from kt1.services.tx import transactional

OPERATIONAL_ROLES = (Role.REGISTRY_CLERK, Role.COUNTER_CLERK, Role.COURIER)

#: Single-envelope events recorded through :func:`record_handoff` (bag events go through
#: :mod:`kt1.services.bagging`, registration through :mod:`kt1.services.registration`).
SINGLE_EVENTS = frozenset({
    *INTERNAL_EVENTS,
    EventKind.ACCEPTED,
    EventKind.OUT_FOR_DELIVERY,
    EventKind.DELIVERY_FAILED,
    EventKind.DELIVERED,
    EventKind.REGISTERED_INCOMING,
    EventKind.PASSED_TO_ADDRESSEE,
    EventKind.RETURNED,
    EventKind.RECALLED,
})


# --------------------------------------------------------------------------- scans


def fingerprint(operation: str, payload: dict[str, Any]) -> str:
    """Stable digest of what a scan asked for, to tell a replay from a reused id."""
    body = json.dumps({"op": operation, **payload}, sort_keys=True, default=str,
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def claim_scan(session: Session, scan_id: str, operation: str, payload: dict[str, Any],
               actor: User) -> Scan | None:
    """Record ``scan_id`` as used, or return the earlier scan if this is an exact replay.

    The same id with different content is refused with ``scan_id_conflict``. The row is
    flushed at once, so a concurrent duplicate fails on the primary key and is retried.
    """
    digest = fingerprint(operation, payload)
    # One statement in the usual case (a new scan id): insert, and only on a conflict read
    # the earlier scan. The row is written at once, so a concurrent duplicate waits on the
    # primary key and then sees ours.
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else (
        sqlite.insert)
    created = session.execute(
        insert(Scan).values(scan_id=scan_id, operation=operation, fingerprint=digest,
                            actor_id=actor.id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["scan_id"]).returning(Scan.scan_id)
    ).first()
    if created is not None:
        return None
    earlier = session.execute(
        select(Scan).where(Scan.scan_id == scan_id).execution_options(populate_existing=True)
    ).scalar_one()
    if (earlier.fingerprint != digest or earlier.operation != operation
            or earlier.actor_id != actor.id):
        raise ScanIdConflictError(scan_id=scan_id)
    return earlier


# --------------------------------------------------------------------------- loading


def load_envelope(ctx: Ctx, number: str, *, lock: bool = False) -> Envelope:
    """Parse a scanned number and load its envelope, locking the row for a write.

    On PostgreSQL the row is read once without and once with ``FOR UPDATE``: if another
    transaction committed a handoff of this envelope while we waited for the lock, the
    chain moved under us and the request is refused as a ``custody_conflict`` instead of
    being judged against a state its sender never saw.
    """
    return _load(ctx, number, lock=lock, discrepancy=False)[0]


def load_for_handoff(ctx: Ctx, number: str) -> tuple[Envelope, int | None]:
    """:func:`load_envelope`, locked, with everything the custody rules need in the same
    statement: the holder and its unit (joined), and the open discrepancy on the envelope
    or on the bag it is in (rule 6), as a column."""
    return _load(ctx, number, lock=True, discrepancy=True)


def _open_discrepancy_column() -> Any:
    on_bag = and_(Envelope.bag_id.is_not(None), Incident.bag_id == Envelope.bag_id)
    return (select(Incident.id)
            .where(Incident.kind == IncidentKind.DISCREPANCY,
                   Incident.status == IncidentStatus.OPEN,
                   or_(Incident.envelope_id == Envelope.id, on_bag))
            .order_by(Incident.id).limit(1).correlate(Envelope).scalar_subquery()
            .label("open_discrepancy"))


def _load(ctx: Ctx, number: str, *, lock: bool, discrepancy: bool
          ) -> tuple[Envelope, int | None]:
    code = str(parse_number(number, ctx.settings.service_letters, ctx.settings.country_code))
    # populate_existing: an envelope kept in the session from an earlier transaction is
    # re-read, never judged on stale state.
    columns: list[Any] = [Envelope]
    if discrepancy:
        columns.append(_open_discrepancy_column())
    stmt = select(*columns).where(Envelope.number == code).execution_options(
        populate_existing=True)
    session = ctx.session
    if not lock or session.get_bind().dialect.name != "postgresql":
        row = session.execute(stmt).unique().one_or_none()
        if row is None:
            raise UnknownEnvelopeError(number=code)
        return row[0], (row[1] if discrepancy else None)
    seen = session.execute(
        select(Envelope.chain_length).where(Envelope.number == code)).scalar_one_or_none()
    if seen is None:
        raise UnknownEnvelopeError(number=code)
    row = session.execute(stmt.with_for_update(of=Envelope)).unique().one()
    if row[0].chain_length != seen:
        raise CustodyConflictError()
    return row[0], (row[1] if discrepancy else None)


def holder_label(envelope: Envelope) -> str:
    user = envelope.holder_user
    return f"{user.username}@{envelope.holder_unit.code}" if user else envelope.holder_unit.code


# --------------------------------------------------------------------------- appending


@dataclass
class Link:
    """What :func:`append_link` writes; the caller has checked who may do it.

    One attribute per hashed field of :data:`kt1.services.chain.HANDOFF_FIELDS` (with its
    type and default) but those the chain decides (``envelope_id``, ``seq``,
    ``recorded_at``; ``recorded_by_id`` comes from ``recorded_by``).
    """

    kind: EventKind
    scan_id: str
    event_at: datetime
    recorded_by: User
    to_unit_id: int
    to_user_id: int | None
    from_unit_id: int | None = None
    from_user_id: int | None = None
    bag_id: int | None = None
    location: str = ""
    device: str = ""
    seal_state: SealState = SealState.NOT_APPLICABLE
    seal_number: str | None = None
    count: int = 1
    ack_user_id: int | None = None
    ack_method: AckMethod | None = None
    ack_reference: str | None = None
    reason: DeliveryFailure | None = None
    authority: Authority | None = None
    note: str = ""


def append_link(ctx: Ctx, envelope: Envelope, link: Link, *, report: str = "",
                judged: bool = False) -> Handoff:
    """Append one link to ``envelope``'s chain and move its state. No commit here.

    The link is judged by the custody rules (docs/rules.md) as the verifier will judge it,
    unless the caller judged it already (``judged``: :func:`record_in`); ``report`` is the
    incident report that goes with a seal anomaly. A bag's use case checks rule 6 for the
    whole bag before it writes the bag's links, so they are not asked one by one.
    """
    if link.event_at.tzinfo is None:
        raise ValidationError(field="event_at", reason="needs a time zone")
    # Every hashed field comes from the link but for those the chain itself decides
    # (chain.HANDOFF_FIELDS is the one list of them; Link has an attribute per other field).
    decided: dict[str, Any] = {
        "envelope_id": envelope.id,
        "seq": envelope.chain_length,
        "recorded_at": ctx.now(),
        "recorded_by_id": link.recorded_by.id,
    }
    if not judged:
        values = {**vars(link), **decided}
        bag = ctx.session.get(Bag, envelope.bag_id) if envelope.bag_id else None
        world = RequestWorld(ctx.now(), ctx.settings.max_clock_skew, [], report)
        hits = judge_new(envelope, values, world, bag_seal=bag.seal_number if bag else None)
        if hits:
            def names() -> dict[str, str]:
                receiver = ctx.session.get(User, link.to_user_id) if link.to_user_id else None
                giver_unit = unit_by_id(ctx.session, link.from_unit_id)
                return {"giver": link.recorded_by.username, "holder": holder_label(envelope),
                        "actor": link.recorded_by.username,
                        "receiver": receiver.username if receiver else "?",
                        "giver_unit": giver_unit.code if giver_unit else "?",
                        "bag": bag.number if bag else "?", "seal": link.seal_number or "-"}
            raise refusal(hits[0], envelope, names)
    handoff = Handoff(
        **{f.name: decided[f.name] if f.name in decided else getattr(link, f.name)
           for f in HASHED_FIELDS},
        prev_hash=envelope.last_hash,
    )
    identity = envelope_identity(envelope) if handoff.seq == 0 else None
    handoff.hash = link_hash(handoff.prev_hash, canonical(handoff, identity))
    ctx.session.add(handoff)
    envelope.chain_length = handoff.seq + 1
    envelope.last_hash = handoff.hash
    envelope.last_event_at = link.event_at
    envelope.status = status_after(link.kind, envelope.status)
    envelope.holder_unit_id = link.to_unit_id
    envelope.holder_user_id = link.to_user_id
    # the session keeps objects across commits: reload the holder relations on next use
    ctx.session.expire(envelope, ["holder_unit", "holder_user"])
    if link.kind is EventKind.ACCEPTED and envelope.accepted_at is None:
        envelope.accepted_at = link.event_at
    return handoff


def open_discrepancy_exists(session: Session, envelope: Envelope) -> bool:
    """Is a discrepancy open on this envelope, or on the bag it is in (docs/rules.md, rule 6)?"""
    stmt = select(Incident.id).where(
        Incident.kind == IncidentKind.DISCREPANCY,
        Incident.status == IncidentStatus.OPEN,
        (Incident.envelope_id == envelope.id) | (
            (Incident.bag_id == envelope.bag_id) if envelope.bag_id else False),
    ).limit(1)
    return session.execute(stmt).first() is not None


def open_seal_incident(ctx: Ctx, actor: User, *, envelope: Envelope | None, bag: Bag | None,
                       handoff: Handoff | None, state: SealState, report: str,
                       details: dict[str, Any]) -> Incident:
    """Rule 7: a broken or mismatched seal is an incident, in the inbox of the head and the
    sender (kt1/services/incidents.py)."""
    now = ctx.now()
    incident = Incident(
        kind=IncidentKind.SEAL_ANOMALY,
        envelope_id=envelope.id if envelope else None,
        bag_id=bag.id if bag else None,
        handoff_id=handoff.id if handoff else None,
        unit_id=actor.unit_id,
        reported_by_id=actor.id,
        report=report,
        details={"seal_state": str(state), **details},
        opened_at=now,
    )
    ctx.session.add(incident)
    return incident


# --------------------------------------------------------------------------- handoffs


@dataclass
class HandoffRequest:
    """A single-envelope custody event as a scanner or a page sends it."""

    number: str
    kind: EventKind
    scan_id: str
    event_at: datetime
    giver: User | None = None  # defaults to the current holder for non-transfer events
    receiver: User | None = None
    receipt: Receipt | None = None
    #: The giver's identification when the actor is not the giver (PIN, badge, or for an
    #: acceptance the handover sheet as paper): custody moves only with both sides present.
    giver_receipt: Receipt | None = None
    location: str = ""
    device: str = ""
    seal_state: SealState | None = None
    seal_number: str | None = None
    count: int = 1
    reason: DeliveryFailure | None = None
    authority: Authority | None = None
    note: str = ""
    incident_report: str | None = None  # required when the seal is not intact
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "number": self.number.strip().upper(),
            "kind": str(self.kind),
            "event_at": self.event_at.isoformat(),
            "giver": self.giver.id if self.giver else None,
            "receiver": self.receiver.id if self.receiver else None,
            "receipt": self.receipt.fingerprint() if self.receipt else None,
            **({"giver_receipt": self.giver_receipt.fingerprint()} if self.giver_receipt
               else {}),
            "location": self.location,
            "device": self.device,
            "seal_state": str(self.seal_state) if self.seal_state else None,
            "seal_number": self.seal_number,
            "count": self.count,
            "reason": str(self.reason) if self.reason else None,
            "authority": str(self.authority) if self.authority else None,
            "note": self.note,
        }


@dataclass
class Recorded:
    """A stored handoff, and whether this call was a replay of an earlier scan."""

    handoff: Handoff
    envelope: Envelope
    replayed: bool = False


def _replayed(session: Session, scan: Scan) -> Recorded:
    handoff = session.execute(
        select(Handoff).where(Handoff.scan_id == scan.scan_id).order_by(Handoff.id).limit(1)
    ).scalar_one()
    envelope = session.get(Envelope, handoff.envelope_id)
    if envelope is None:  # impossible while the foreign key holds
        raise UnknownEnvelopeError(number="?")
    return Recorded(handoff=handoff, envelope=envelope, replayed=True)


def _require_unit(user: User, unit_id: int, unit_code: str) -> None:
    if user.unit_id != unit_id:
        raise WrongUnitError(username=user.username, unit=unit_code)


def _check_receiver(kind: EventKind, envelope: Envelope, giver: User, receiver: User) -> None:
    """Who may receive each kind of handoff (docs/rules.md, rule A4; write only)."""
    found = receiver_may_receive(kind, person(receiver), person(giver),
                                 envelope.recipient_unit_id, envelope.sender_unit_id)
    if found is None:
        return
    if found.code == "forbidden":
        reason = found.params["reason"]
        raise ForbiddenError(f"{receiver.username} ({receiver.role}) {reason}"
                             if reason.startswith("cannot") else reason)
    unit = {"giver": giver.unit, "recipient": envelope.recipient_unit,
            "sender": envelope.sender_unit}[found.params["unit"]]
    raise WrongUnitError(username=receiver.username, unit=unit.code)


def _giver_identified(actor: User, receipt: Receipt | None, giver: User) -> bool:
    """Did the giver identify by PIN or staff badge? (checked once per receipt)"""
    return (receipt is not None and receipt.user.id == giver.id
            and receipt.method in (AckMethod.PIN, AckMethod.BADGE)
            and receipt_valid(actor, receipt))


def _giver_shows(actor: User, receipt: Receipt | None, giver: User | None,
                 holder: User | None) -> bool:
    """Is the holder present as the giver: the actor, or identified by PIN/badge?"""
    if giver is None or holder is None or giver.id != holder.id:
        return False
    return giver.id == actor.id or _giver_identified(actor, receipt, giver)


def _sheet_listing(session: Session, envelope: Envelope, unit_id: int, office_id: int
                   ) -> str | None:
    """The number of the open handover sheet on which ``unit_id`` lists the envelope for
    ``office_id`` (one indexed query, no objects loaded)."""
    return session.execute(
        select(HandoverSheet.number)
        .join(HandoverLine, HandoverLine.sheet_id == HandoverSheet.id)
        .where(HandoverLine.envelope_id == envelope.id, HandoverLine.accepted_at.is_(None),
               HandoverSheet.unit_id == unit_id, HandoverSheet.post_office_id == office_id,
               HandoverSheet.status == SheetStatus.OPEN).limit(1)
    ).scalar()


def _check_giver(actor: User, req: HandoffRequest, giver: User, sheet: str | None) -> None:
    """Custody moves only with both sides present (docs/access.md, "both sides present").

    The giver is the actor, or identifies by PIN or staff badge; for an acceptance at a post
    office, the item may instead be listed on a handover sheet that the giver's unit made
    for this office (paper the giver's side issued).
    """
    if giver.id == actor.id:
        return
    receipt = req.giver_receipt
    if receipt is None:
        if sheet is None:
            raise GiverIdentificationMissingError()
        return
    if receipt.user.id != giver.id:
        raise GiverIdentificationInvalidError()
    if receipt.method is AckMethod.PAPER:
        if req.kind is not EventKind.ACCEPTED:
            raise GiverIdentificationInvalidError()
        _check_paper(receipt, sheet)
        return
    if not _giver_identified(actor, receipt, giver):
        raise GiverIdentificationInvalidError()


def _check_paper(receipt: Receipt, sheet: str | None) -> None:
    """A paper receipt at acceptance names the handover sheet that lists the item."""
    if receipt.method is not AckMethod.PAPER:
        return
    reference = (receipt.reference or "").strip().upper()
    if sheet is None or reference != sheet:
        raise PaperReceiptUnboundError()


def _needs_sheet(actor: User, req: HandoffRequest, giver: User) -> bool:
    """Only an acceptance without the giver's own identification, or with a paper receipt,
    looks for the handover sheet that lists the item."""
    if req.kind is not EventKind.ACCEPTED:
        return False
    papers = [r for r in (req.receipt, req.giver_receipt)
              if r is not None and r.method is AckMethod.PAPER]
    return bool(papers) or (giver.id != actor.id and req.giver_receipt is None)


def _judge(ctx: Ctx, envelope: Envelope, link: Link, actor: User, giver: User,
           receiver: User | None, report: str, open_discrepancy: int | None) -> None:
    """Refuse the handoff with the error of the first custody rule it breaks."""
    values = {**vars(link), "envelope_id": envelope.id, "seq": envelope.chain_length,
              "recorded_at": ctx.now(), "recorded_by_id": actor.id,
              "to_unit_id": receiver.unit_id if receiver else None}
    world = RequestWorld(ctx.now(), ctx.settings.max_clock_skew,
                         [p for p in (giver, receiver) if p is not None], report,
                         open_discrepancy)
    hits = judge_new(envelope, values, world)
    if hits:
        def names() -> dict[str, str]:
            bag = ctx.session.get(Bag, envelope.bag_id) if envelope.bag_id else None
            return {"giver": giver.username, "holder": holder_label(envelope),
                    "actor": actor.username, "bag": bag.number if bag else "?",
                    "giver_unit": giver.unit.code,
                    "receiver": receiver.username if receiver else "?"}
        raise refusal(hits[0], envelope, names)


def _both_sides(ctx: Ctx, actor: User, req: HandoffRequest, envelope: Envelope, giver: User,
                receiver: User) -> None:
    """Custody moves only with both sides present (docs/access.md): the office serves the
    giver's unit, the giver identifies, the receiver's receipt is genuine."""
    sheet = (_sheet_listing(ctx.session, envelope, giver.unit_id, receiver.unit_id)
             if _needs_sheet(actor, req, giver) else None)
    if req.kind is EventKind.ACCEPTED and not serves(
            ctx.session, receiver.unit_id, giver.unit_id):
        raise UnitNotServedError(office=receiver.unit.code, unit=giver.unit.code)
    _check_giver(actor, req, giver, sheet)
    assert req.receipt is not None  # noqa: S101  (rule 4: refused above without one)
    if req.kind is EventKind.ACCEPTED:
        _check_paper(req.receipt, sheet)
    verify_receipt(actor, req.receipt)


def already_recorded(ctx: Ctx, actor: User, req: HandoffRequest) -> Handoff | None:
    """The handoff that already did what ``req`` asks (a second scan of an envelope its
    receiver already holds at this stage), or None. Read only, for a friendly answer to a
    refused re-scan: the refusal itself (nothing written) is :func:`record_in`'s."""
    try:
        envelope = load_envelope(ctx, req.number)
    except KT1Error:
        return None
    if not may_see_envelope(ctx.session, actor, envelope):
        return None
    receiver = req.receiver if req.kind in TRANSFER_EVENTS else actor
    if receiver is None or envelope.holder_user_id != receiver.id:
        return None
    last = ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id == envelope.id)
        .order_by(Handoff.seq.desc()).limit(1)).scalar_one_or_none()
    if last is None or last.kind is not req.kind or last.to_user_id != receiver.id:
        return None
    return last


@transactional
def record_handoff(ctx: Ctx, actor: User, req: HandoffRequest) -> Recorded:
    """Record one single-envelope custody event (một lần giao nhận) in one transaction
    (:func:`record_in` for the rules)."""
    return record_in(ctx, actor, req)


def record_in(ctx: Ctx, actor: User, req: HandoffRequest) -> Recorded:
    """Record one single-envelope custody event in the caller's transaction (no commit):
    use cases that write more than one event in one transaction compose this.

    Refused, with nothing written, unless: the actor's unit may see the envelope (else it
    answers as an unknown number); the giver holds it and it is not in a bag; both sides
    are present (the giver is the actor or identifies, the receiver signs); a post office
    accepts only from an agency it serves; the event follows the postal stages; the
    receiver may receive it; no discrepancy is open; and the event time neither runs
    backwards nor lies ahead. Replaying the same scan id returns the stored handoff.
    """
    s = ctx.settings
    scan_id = clean_scan_id(req.scan_id)
    if req.kind not in SINGLE_EVENTS:
        raise ValidationError(field="kind", reason=f"{req.kind} is not a single-envelope event")
    location = clean_text(req.location, "location", s.max_text_length)
    device = clean_text(req.device, "device", 64)
    note = clean_text(req.note, "note", s.max_text_length)
    seal_number = clean_text(req.seal_number, "seal_number", 64) or None
    if not 1 <= req.count <= 10_000:
        raise ValidationError(field="count", reason="must be between 1 and 10000")
    if actor.role not in OPERATIONAL_ROLES or not actor.is_active:
        raise ForbiddenError()

    earlier = claim_scan(ctx.session, scan_id, "handoff", req.payload(), actor)
    if earlier is not None:
        return _replayed(ctx.session, earlier)

    envelope, open_discrepancy = load_for_handoff(ctx, req.number)
    is_transfer = req.kind in TRANSFER_EVENTS
    holder = envelope.holder_user
    giver = req.giver or (req.giver_receipt.user if req.giver_receipt else None) or holder
    if not (req.kind is EventKind.ACCEPTED
            and _giver_shows(actor, req.giver_receipt, giver, holder)) and (
            not may_see_envelope(ctx.session, actor, envelope)):
        # Exactly the answer a number that does not exist gets (docs/access.md): only the
        # holder, present and identified, can show an item to a post office that never saw it.
        raise UnknownEnvelopeError(number=envelope.number)
    if giver is None:
        raise NotCurrentHolderError(number=envelope.number, giver="?",
                                    holder=holder_label(envelope))
    receiver = req.receiver if is_transfer else giver
    # a postal handover checks the envelope's seal; a pass from hand to hand inside a unit
    # (the document is out of its envelope by then) has none unless one is stated
    sealed = is_transfer and req.kind not in STAGE_KEEPING_EVENTS
    seal_state = req.seal_state or (SealState.INTACT if sealed else SealState.NOT_APPLICABLE)
    report = clean_text(req.incident_report, "incident_report", 2000, multiline=True)
    if req.event_at.tzinfo is None:
        raise ValidationError(field="event_at", reason="needs a time zone")
    if is_transfer:
        receipt = req.receipt
        ack_user = receipt.user.id if receipt else None
        ack_method, ack_ref = (receipt.method, receipt.reference) if receipt else (None, None)
    else:
        ack_user, ack_method, ack_ref = actor.id, AckMethod.SELF, None
    link = Link(
        kind=req.kind, scan_id=scan_id, event_at=req.event_at, recorded_by=actor,
        from_unit_id=giver.unit_id, from_user_id=giver.id,
        to_unit_id=receiver.unit_id if receiver else 0,
        to_user_id=receiver.id if receiver else None,
        location=location, device=device, seal_state=seal_state, seal_number=seal_number,
        count=req.count, ack_user_id=ack_user, ack_method=ack_method, ack_reference=ack_ref,
        reason=req.reason, authority=req.authority, note=note,
    )
    # The custody rules (docs/rules.md), judged as the verifier will judge the stored link.
    _judge(ctx, envelope, link, actor, giver, receiver, report, open_discrepancy)
    assert receiver is not None  # noqa: S101  (rule 5: someone holds it; refused above)
    if actor.unit_id not in {giver.unit_id, receiver.unit_id}:
        raise WrongUnitError(username=actor.username, unit=giver.unit.code)
    _check_receiver(req.kind, envelope, giver, receiver)
    if req.kind is EventKind.DELIVERY_FAILED and req.reason is None:
        raise ValidationError(field="reason", reason="required for a failed delivery")
    if req.kind is EventKind.REGISTERED_INCOMING:
        _require_unit(actor, envelope.recipient_unit_id, envelope.recipient_unit.code)
    if req.kind is EventKind.RECALLED and envelope.recall_by is None:
        raise ValidationError(field="kind", reason="only a 'Tài liệu thu hồi' item is recalled")
    if is_transfer:
        _both_sides(ctx, actor, req, envelope, giver, receiver)
    elif actor.id != giver.id:
        raise NotCurrentHolderError(number=envelope.number, giver=actor.username,
                                    holder=holder_label(envelope))

    handoff = append_link(ctx, envelope, link, judged=True)
    if req.kind is EventKind.REGISTERED_INCOMING:
        year = local_date(req.event_at).year
        envelope.incoming_year = year
        envelope.incoming_seq = next_value(ctx.session, f"in:{envelope.recipient_unit_id}:{year}")
    ctx.session.flush()
    if seal_state in (SealState.BROKEN, SealState.MISMATCHED):
        open_seal_incident(ctx, actor, envelope=envelope, bag=None, handoff=handoff,
                           state=seal_state, report=report, details={})
    return Recorded(handoff=handoff, envelope=envelope)


# ----------------------------------------------------------------- named use cases


def accept_at_counter(ctx: Ctx, clerk: User, number: str, giver: User, receipt: Receipt,
                      scan_id: str, event_at: datetime, **kw: Any) -> Recorded:
    """Counter clerk accepts an envelope from an agency clerk (chấp nhận)."""
    return record_handoff(ctx, clerk, HandoffRequest(
        number=number, kind=EventKind.ACCEPTED, scan_id=scan_id, event_at=event_at,
        giver=giver, receiver=clerk, receipt=receipt, **kw))


def deliver(ctx: Ctx, courier: User, number: str, receiver: User, receipt: Receipt,
            scan_id: str, event_at: datetime, **kw: Any) -> Recorded:
    """Courier hands the envelope to the recipient unit's registry clerk (phát)."""
    return record_handoff(ctx, courier, HandoffRequest(
        number=number, kind=EventKind.DELIVERED, scan_id=scan_id, event_at=event_at,
        giver=courier, receiver=receiver, receipt=receipt, **kw))


def register_arrival(ctx: Ctx, clerk: User, number: str, scan_id: str,
                     event_at: datetime, **kw: Any) -> Recorded:
    """Registry clerk enters the envelope in the incoming register (Sổ đăng ký BMNN đến)."""
    return record_handoff(ctx, clerk, HandoffRequest(
        number=number, kind=EventKind.REGISTERED_INCOMING, scan_id=scan_id,
        event_at=event_at, **kw))


def pass_to_addressee(ctx: Ctx, clerk: User, number: str, addressee: User, receipt: Receipt,
                      scan_id: str, event_at: datetime,
                      authority: Authority = Authority.ADDRESSEE, **kw: Any) -> Recorded:
    """Registry clerk passes the unopened envelope to the named person (docs/rules.md, rule 10)."""
    return record_handoff(ctx, clerk, HandoffRequest(
        number=number, kind=EventKind.PASSED_TO_ADDRESSEE, scan_id=scan_id,
        event_at=event_at, giver=clerk, receiver=addressee, receipt=receipt,
        authority=authority, **kw))


def timeline(ctx: Ctx, envelope: Envelope) -> list[Handoff]:
    """The envelope's custody chain, in order."""
    return list(ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id == envelope.id).order_by(Handoff.seq)
    ).scalars())


def unit_by_id(session: Session, unit_id: int | None) -> Unit | None:
    return session.get(Unit, unit_id) if unit_id is not None else None


# ----------------------------------------------------------------- corrections


def chain_state_before_last(ctx: Ctx, envelope: Envelope) -> Any:
    """The chain's state just before its last link, replayed by the rules' own
    :func:`~kt1.services.rules.advance` (the verifier's replay, on one short chain)."""
    from kt1.services.rules.custody import advance
    from kt1.services.rules.facts import ChainState, link_from

    st = ChainState()
    for h in timeline(ctx, envelope)[:-1]:
        ln = link_from({f.name: getattr(h, f.name) for f in HASHED_FIELDS})
        advance(st, ln._replace(hash=h.hash.encode()))
    return st


def last_link(ctx: Ctx, envelope: Envelope) -> Handoff | None:
    return ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id == envelope.id)
        .order_by(Handoff.seq.desc()).limit(1)).scalar_one_or_none()


def may_void(ctx: Ctx, actor: User, envelope: Envelope, last: Handoff | None) -> bool:
    """Would :func:`void_last_scan` let ``actor`` void the envelope's last link now?"""
    return (last is not None and last.kind in VOIDABLE_EVENTS
            and last.recorded_by_id == actor.id and last.from_user_id == actor.id
            and envelope.bag_id is None
            and ctx.now() - last.recorded_at <= ctx.settings.void_window)


@transactional
def void_last_scan(ctx: Ctx, actor: User, number: str, reason: str, scan_id: str,
                   device: str = "") -> Recorded:
    """Void the envelope's last scan (hủy lần quét nhầm), by its operator, within the time
    allowed (``VOID_WINDOW_MINUTES``), with a reason.

    Nothing is deleted: a ``voided`` link gives the envelope back to whoever held it before
    the mistaken scan (the operator, who gave it away), with the status it had then; the
    reason is in its note. Only a handoff that set no milestone can be voided: going out
    for delivery, passing to the addressee, internal circulation (``void_not_allowed``
    otherwise, or when the actor is not the one who recorded it and gave it away);
    ``void_window_passed`` once the time is over. Another unit's envelope is unknown.
    """
    why = clean_text(reason, "reason", ctx.settings.max_text_length, required=True)
    if actor.role not in OPERATIONAL_ROLES or not actor.is_active:
        raise ForbiddenError()
    earlier = claim_scan(ctx.session, clean_scan_id(scan_id), "void",
                         {"number": number.strip().upper(), "reason": why}, actor)
    if earlier is not None:
        return _replayed(ctx.session, earlier)
    envelope = load_envelope(ctx, number, lock=True)
    if not may_see_envelope(ctx.session, actor, envelope):
        raise UnknownEnvelopeError(number=envelope.number)
    last = last_link(ctx, envelope)
    if last is None or last.kind not in VOIDABLE_EVENTS or last.recorded_by_id != actor.id \
            or last.from_user_id != actor.id or last.from_unit_id is None \
            or envelope.bag_id is not None:
        raise VoidNotAllowedError(number=envelope.number,
                                  kind=str(last.kind) if last else "-")
    window = ctx.settings.void_window
    if ctx.now() - last.recorded_at > window:
        raise VoidWindowPassedError(number=envelope.number,
                                    minutes=int(window.total_seconds() // 60))
    before = chain_state_before_last(ctx, envelope)
    now = ctx.now()
    handoff = append_link(ctx, envelope, Link(
        kind=EventKind.VOIDED, scan_id=clean_scan_id(scan_id),
        event_at=max(now, last.event_at), recorded_by=actor,
        from_unit_id=last.to_unit_id, from_user_id=last.to_user_id,
        to_unit_id=last.from_unit_id, to_user_id=last.from_user_id,
        location=actor.unit.code, device=clean_text(device, "device", 64),
        ack_user_id=actor.id, ack_method=AckMethod.SESSION,
        note=f"void #{last.seq + 1}: {why}",
    ))
    envelope.status = EnvelopeStatus(before.status.decode())
    ctx.session.flush()
    return Recorded(handoff=handoff, envelope=envelope)
