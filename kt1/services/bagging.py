"""Bags (túi thư): make up, seal, dispatch, receive and open, with the manifest (bảng kê).

While an envelope is in a bag the bag's handoffs are its handoffs: each bag event writes
one link in the chain of every envelope listed on the manifest, all with the bag's id and
the same scan id, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from kt1.errors import (
    AcknowledgementInvalidError,
    AcknowledgementMissingError,
    BagAlreadySealedError,
    BagEmptyError,
    BagStateError,
    DiscrepancyOpenError,
    EnvelopeInBagError,
    EnvelopeNotInBagError,
    EscortRequiredError,
    ForbiddenError,
    GiverIdentificationInvalidError,
    GiverIdentificationMissingError,
    KT1Error,
    NotCurrentHolderError,
    ReportRequiredError,
    RouteMismatchError,
    ScanIdConflictError,
    SealMismatchError,
    TrackerRequiredError,
    UnknownBagError,
    UnknownEnvelopeError,
    UnknownUnitError,
    ValidationError,
    WrongUnitError,
)
from kt1.models import Bag, Envelope, Handoff, Incident, ManifestLine, Scan, Unit, User
from kt1.models.enums import (
    AckMethod,
    BagStatus,
    Classification,
    EnvelopeStatus,
    EventKind,
    IncidentKind,
    Role,
    SealState,
    UnitKind,
)
from kt1.services.access import (
    Receipt,
    may_see_envelope,
    receipt_valid,
    serves,
    unit_sees_bag,
    verify_receipt,
)
from kt1.services.context import Ctx
from kt1.services.custody import (
    Link,
    append_link,
    claim_scan,
    holder_label,
    load_envelope,
    open_discrepancy_exists,
    open_seal_incident,
)
from kt1.services.identifiers import next_value
from kt1.services.rules.bags import escort_required, tracker_required
from kt1.services.subjects import local_date
from kt1.services.text import clean_scan_id, clean_text
from kt1.services.tx import transactional


@dataclass
class BagResult:
    """The bag after an operation, the links written, and whether it was a replay."""

    bag: Bag
    handoffs: list[Handoff] = field(default_factory=list)
    replayed: bool = False
    incident: Incident | None = None
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def _lock_bag(ctx: Ctx, number: str, actor: User, *,
              shown_by: Callable[[Bag], bool] | None = None) -> Bag:
    """Load and lock a bag the actor's unit may see; any other answers as unknown.

    ``shown_by`` lets a bag that the unit cannot see yet through anyway when its holder is
    present and identified (a courier bringing it to an office on the way).
    """
    number = clean_text(number, "bag", 48, required=True).upper()
    stmt = select(Bag).where(Bag.number == number).execution_options(populate_existing=True)
    if ctx.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Bag)
    bag = ctx.session.execute(stmt).unique().scalar_one_or_none()
    if bag is None or not (unit_sees_bag(actor.unit_id, bag)
                           or (shown_by is not None and shown_by(bag))):
        raise UnknownBagError(number=number)
    return bag


def _visible_envelope(ctx: Ctx, actor: User, number: str) -> Envelope:
    """Load and lock an envelope the actor may see; any other answers as unknown."""
    envelope = load_envelope(ctx, number, lock=True)
    if not may_see_envelope(ctx.session, actor, envelope):
        raise UnknownEnvelopeError(number=envelope.number)
    return envelope


def _contents(ctx: Ctx, bag: Bag, *, lock: bool = True) -> list[Envelope]:
    stmt = select(Envelope).where(Envelope.bag_id == bag.id).order_by(Envelope.id) \
        .execution_options(populate_existing=True)
    if lock and ctx.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Envelope)
    return list(ctx.session.execute(stmt).unique().scalars())


def _counter_clerk_at(ctx: Ctx, actor: User, unit_id: int) -> None:
    if actor.role is not Role.COUNTER_CLERK or not actor.is_active:
        raise ForbiddenError()
    if actor.unit_id != unit_id:
        unit = ctx.session.get(Unit, unit_id)
        raise WrongUnitError(username=actor.username, unit=unit.code if unit else "?")


def _bag_holder(ctx: Ctx, bag: Bag) -> str:
    user = ctx.session.get(User, bag.holder_user_id) if bag.holder_user_id else None
    unit = ctx.session.get(Unit, bag.holder_unit_id)
    return f"{user.username if user else '-'}@{unit.code if unit else '?'}"


#: The bag states in which each operation is allowed (the pages offer exactly these).
ALLOWED_IN: dict[str, frozenset[BagStatus]] = {
    "add": frozenset({BagStatus.OPEN}),
    "remove": frozenset({BagStatus.OPEN}),
    "seal": frozenset({BagStatus.OPEN}),
    "dispatch": frozenset({BagStatus.SEALED, BagStatus.RECEIVED}),
    "receive": frozenset({BagStatus.IN_TRANSIT}),
    "open": frozenset({BagStatus.RECEIVED, BagStatus.OPENED}),
}


def _need_state(bag: Bag, action: str) -> None:
    if bag.status not in ALLOWED_IN[action]:
        raise BagStateError(bag=bag.number, status=str(bag.status), action=action)


@dataclass(frozen=True)
class BagActions:
    """What a counter clerk may do with a bag now (the page shows only these forms)."""

    add: bool
    #: take an envelope out again (the bag is still open, here)
    remove: bool
    seal: bool
    dispatch: bool
    receive: bool
    open: bool
    #: The receiving office reads the seal number on the bag itself when it takes it, so the
    #: recorded number is not shown to it while the bag is on its way.
    show_seal_number: bool


def bag_actions(actor: User, bag: Bag, contents: list[Envelope]) -> BagActions:
    """The operations the services would let ``actor`` try on ``bag`` (same conditions)."""
    here = bag.holder_unit_id == actor.unit_id
    bound_here = bag.destination_unit_id == actor.unit_id

    def allowed(action: str) -> bool:
        return bag.status in ALLOWED_IN[action]

    return BagActions(
        add=allowed("add") and here,
        remove=allowed("remove") and here,
        seal=allowed("seal") and here and bool(contents),
        dispatch=allowed("dispatch") and here and bag.holder_user_id == actor.id
        and not bound_here,
        receive=allowed("receive") and bound_here,
        open=allowed("open") and bound_here and here
        and any(e.bag_id == bag.id for e in contents),
        show_seal_number=seal_number_shown(actor, bag),
    )


def seal_number_shown(actor: User, bag: Bag) -> bool:
    """While a bag comes to the actor's office its recorded seal number is not shown there:
    the clerk who receives it reads the number on the bag, and a difference is what counts."""
    return not (bag.status is BagStatus.IN_TRANSIT and bag.destination_unit_id == actor.unit_id)


def _replay(ctx: Ctx, scan: Scan) -> BagResult:
    bag = ctx.session.get(Bag, scan.bag_id) if scan.bag_id is not None else None
    if bag is None:  # the scan id was used for something other than a bag
        raise ScanIdConflictError(scan_id=scan.scan_id)
    handoffs = list(ctx.session.execute(
        select(Handoff).where(Handoff.scan_id == scan.scan_id).order_by(Handoff.id)).scalars())
    incident = ctx.session.get(Incident, scan.incident_id) if scan.incident_id else None
    return BagResult(bag=bag, handoffs=handoffs, replayed=True, incident=incident)


def _claim(ctx: Ctx, scan_id: str, op: str, payload: dict[str, Any], actor: User
           ) -> Scan | None:
    return claim_scan(ctx.session, clean_scan_id(scan_id), op, payload, actor)


def _record_scan_bag(ctx: Ctx, scan_id: str, bag: Bag, incident: Incident | None = None) -> None:
    scan = ctx.session.get(Scan, scan_id)
    if scan is not None:
        scan.bag_id = bag.id
        scan.incident_id = incident.id if incident else None


@transactional
def open_bag(ctx: Ctx, actor: User, destination_code: str, scan_id: str) -> BagResult:
    """Start a new bag at the actor's post office, bound for another post office."""
    if actor.role is not Role.COUNTER_CLERK or not actor.is_active:
        raise ForbiddenError()
    if actor.unit.kind is not UnitKind.POST_OFFICE:
        raise ForbiddenError("bags are made up at KT1 post offices")
    earlier = _claim(ctx, scan_id, "bag_open", {"destination": destination_code}, actor)
    if earlier is not None:
        return _replay(ctx, earlier)
    dest = ctx.session.execute(
        select(Unit).where(Unit.code == destination_code)).scalar_one_or_none()
    if dest is None:
        raise UnknownUnitError(code=clean_text(destination_code, "destination", 32))
    if dest.kind is not UnitKind.POST_OFFICE or dest.id == actor.unit_id:
        raise ValidationError(field="destination", reason="must be another KT1 post office")
    now = ctx.now()
    day = local_date(now)
    seq = next_value(ctx.session, f"bag:{actor.unit.code}:{day.isoformat()}")
    bag = Bag(
        number=f"{actor.unit.code}-{day:%y%m%d}-{seq:03d}".upper(),
        origin_unit_id=actor.unit_id, destination_unit_id=dest.id, status=BagStatus.OPEN,
        holder_unit_id=actor.unit_id, holder_user_id=actor.id, created_by_id=actor.id,
        created_at=now,
    )
    ctx.session.add(bag)
    ctx.session.flush()
    _record_scan_bag(ctx, scan_id, bag)
    return BagResult(bag=bag)


def on_route(ctx: Ctx, bag: Bag, envelope: Envelope) -> bool:
    """Is the bag going toward the envelope's recipient: does the bag's destination office
    serve the recipient unit (it is the office that delivers there)?"""
    return serves(ctx.session, bag.destination_unit_id, envelope.recipient_unit_id)


#: How a routing override is written in the ``bagged`` link's note (hashed with the link).
ROUTE_OVERRIDE = "route_override: "


@transactional
def add_to_bag(ctx: Ctx, actor: User, bag_number: str, number: str, scan_id: str,
               event_at: datetime, device: str = "", route_override: str | None = None
               ) -> BagResult:
    """Put an envelope held at this office into an open bag and list it on the manifest.

    An envelope whose recipient the bag's destination office does not serve is refused
    (``route_mismatch``) unless ``route_override`` gives the reason to put it in anyway;
    the reason is written in the ``bagged`` link's note.
    """
    override = clean_text(route_override, "route_override", ctx.settings.max_text_length)
    earlier = _claim(ctx, scan_id, "bag_add", {"bag": bag_number, "number": number.upper(),
                                               "event_at": event_at.isoformat(),
                                               **({"override": override} if override else {})},
                     actor)
    if earlier is not None:
        return _replay(ctx, earlier)
    bag = _lock_bag(ctx, bag_number, actor)
    _counter_clerk_at(ctx, actor, bag.origin_unit_id)
    _need_state(bag, "add")
    envelope = _visible_envelope(ctx, actor, number)
    if envelope.bag_id is not None:
        other = ctx.session.get(Bag, envelope.bag_id)
        raise EnvelopeInBagError(number=envelope.number, bag=other.number if other else "?")
    if envelope.holder_user_id != actor.id:
        raise NotCurrentHolderError(number=envelope.number, giver=actor.username,
                                    holder=holder_label(envelope))
    routed = on_route(ctx, bag, envelope)
    if not routed and not override:
        raise RouteMismatchError(number=envelope.number, bag=bag.number,
                                 destination=bag.destination_unit.name,
                                 recipient=envelope.recipient_unit.name)
    line_no = (ctx.session.execute(
        select(func.max(ManifestLine.line_no)).where(ManifestLine.bag_id == bag.id)
    ).scalar() or 0) + 1
    handoff = append_link(ctx, envelope, Link(
        kind=EventKind.BAGGED, scan_id=scan_id, event_at=event_at, recorded_by=actor,
        from_unit_id=actor.unit_id, from_user_id=actor.id, to_unit_id=actor.unit_id,
        to_user_id=actor.id, bag_id=bag.id, location=actor.unit.code, device=device,
        ack_user_id=actor.id, ack_method=AckMethod.SELF,
        note=f"{ROUTE_OVERRIDE}{override}" if not routed else "",
    ))
    envelope.bag_id = bag.id
    earlier_line = ctx.session.execute(select(ManifestLine).where(
        ManifestLine.bag_id == bag.id, ManifestLine.envelope_id == envelope.id)
    ).scalar_one_or_none()
    if earlier_line is not None:  # taken out of this bag before, and put back: listed again
        earlier_line.removed_at = None
        earlier_line.line_no, earlier_line.added_at = line_no, ctx.now()
    else:
        ctx.session.add(ManifestLine(bag_id=bag.id, envelope_id=envelope.id, line_no=line_no,
                                     added_at=ctx.now()))
    bag.last_event_at = event_at
    _record_scan_bag(ctx, scan_id, bag)
    ctx.session.flush()
    return BagResult(bag=bag, handoffs=[handoff])


@transactional
def remove_from_bag(ctx: Ctx, actor: User, bag_number: str, number: str, scan_id: str,
                    event_at: datetime, reason: str, device: str = "") -> BagResult:
    """Take an envelope out of a bag that is still open (sửa nhầm khi đóng túi).

    Nothing is deleted: an ``unbagged`` link in the envelope's chain records who took it out,
    when and why; its status goes back to what it was when it was bagged (accepted, or at
    the office); its manifest line is kept, marked taken out. Refused once the bag is sealed
    (``bag_state_invalid``), for an envelope not in this bag (``envelope_not_in_bag``); a bag
    or envelope of another unit answers as an unknown number.
    """
    why = clean_text(reason, "reason", ctx.settings.max_text_length, required=True)
    earlier = _claim(ctx, scan_id, "bag_remove", {"bag": bag_number, "number": number.upper(),
                                                  "reason": why,
                                                  "event_at": event_at.isoformat()}, actor)
    if earlier is not None:
        return _replay(ctx, earlier)
    bag = _lock_bag(ctx, bag_number, actor)
    _counter_clerk_at(ctx, actor, bag.holder_unit_id)
    envelope = _visible_envelope(ctx, actor, number)
    _need_state(bag, "remove")
    if envelope.bag_id != bag.id:
        raise EnvelopeNotInBagError(number=envelope.number, bag=bag.number)
    if envelope.holder_user_id != actor.id:
        raise NotCurrentHolderError(number=envelope.number, giver=actor.username,
                                    holder=holder_label(envelope))
    before = status_before_bagging(ctx, envelope)
    handoff = append_link(ctx, envelope, Link(
        kind=EventKind.UNBAGGED, scan_id=scan_id, event_at=event_at, recorded_by=actor,
        from_unit_id=actor.unit_id, from_user_id=actor.id, to_unit_id=actor.unit_id,
        to_user_id=actor.id, bag_id=bag.id, location=actor.unit.code, device=device,
        ack_user_id=actor.id, ack_method=AckMethod.SELF, note=why,
    ))
    envelope.status = before
    envelope.bag_id = None
    line = ctx.session.execute(select(ManifestLine).where(
        ManifestLine.bag_id == bag.id, ManifestLine.envelope_id == envelope.id,
        ManifestLine.removed_at.is_(None))).scalar_one_or_none()
    if line is not None:
        line.removed_at = ctx.now()
    bag.last_event_at = event_at
    _record_scan_bag(ctx, scan_id, bag)
    ctx.session.flush()
    ctx.session.expire(bag, ["lines", "all_lines"])
    return BagResult(bag=bag, handoffs=[handoff])


def status_before_bagging(ctx: Ctx, envelope: Envelope) -> EnvelopeStatus:
    """The status an envelope in an open bag had when it was bagged: at the office if a bag
    was opened on it before (bags are made up from accepted or arrived envelopes only),
    else accepted. The verifier's replay keeps the same (``ChainState.before_bag``)."""
    opened = ctx.session.execute(select(Handoff.id).where(
        Handoff.envelope_id == envelope.id, Handoff.kind == EventKind.BAG_OPENED).limit(1)
    ).first()
    return EnvelopeStatus.AT_OFFICE if opened is not None else EnvelopeStatus.ACCEPTED


def _bag_links(ctx: Ctx, bag: Bag, envelopes: list[Envelope], link: Link, report: str = ""
               ) -> list[Handoff]:
    """Write the same bag event into the chain of every envelope in the bag (each judged
    by the custody rules; nothing is written if one is refused: one transaction)."""
    handoffs = []
    for envelope in envelopes:
        handoffs.append(append_link(ctx, envelope, Link(**{**link.__dict__, "bag_id": bag.id,
                                                           "count": len(envelopes)}),
                                    report=report))
    bag.holder_unit_id = link.to_unit_id
    bag.holder_user_id = link.to_user_id
    ctx.session.expire(bag, ["holder_user"])
    bag.last_event_at = link.event_at
    return handoffs


@transactional
def seal_bag(ctx: Ctx, actor: User, bag_number: str, seal_number: str, scan_id: str,
             event_at: datetime, tracker_id: str | None = None, device: str = "") -> BagResult:
    """Seal the bag (niêm phong) and record the seal number; a bag is sealed once."""
    seal = clean_text(seal_number, "seal_number", 64, required=True)
    tracker = clean_text(tracker_id, "tracker_id", 64) or None
    earlier = _claim(ctx, scan_id, "bag_seal", {"bag": bag_number, "seal": seal,
                                                "tracker": tracker,
                                                "event_at": event_at.isoformat()}, actor)
    if earlier is not None:
        return _replay(ctx, earlier)
    bag = _lock_bag(ctx, bag_number, actor)
    _counter_clerk_at(ctx, actor, bag.holder_unit_id)
    if bag.seal_number is not None:
        raise BagAlreadySealedError(bag=bag.number, seal_number=bag.seal_number)
    _need_state(bag, "seal")
    envelopes = _contents(ctx, bag)
    if not envelopes:
        raise BagEmptyError(bag=bag.number)
    if tracker_required(any(e.classification is Classification.TOP_SECRET for e in envelopes),
                        tracker):
        raise TrackerRequiredError()  # docs/rules.md, rule 8
    handoffs = _bag_links(ctx, bag, envelopes, Link(
        kind=EventKind.BAG_SEALED, scan_id=scan_id, event_at=event_at, recorded_by=actor,
        from_unit_id=actor.unit_id, from_user_id=actor.id, to_unit_id=actor.unit_id,
        to_user_id=actor.id, location=actor.unit.code, device=device,
        seal_state=SealState.INTACT, seal_number=seal, ack_user_id=actor.id,
        ack_method=AckMethod.SELF,
    ))
    bag.seal_number = seal
    bag.sealed_at = event_at
    bag.tracker_id = tracker
    bag.status = BagStatus.SEALED
    _record_scan_bag(ctx, scan_id, bag)
    return BagResult(bag=bag, handoffs=handoffs)


def _signed(actor: User, receiver: User, receipt: Receipt | None) -> Receipt:
    """The receiver's checked receipt, or ``acknowledgement_missing``/``_invalid``."""
    if receipt is None:
        raise AcknowledgementMissingError()
    if receipt.user.id != receiver.id:
        raise AcknowledgementInvalidError()
    verify_receipt(actor, receipt)
    return receipt


def _no_open_discrepancy(ctx: Ctx, envelopes: list[Envelope]) -> None:
    """Rule 6: no receipt is signed for a bag while a discrepancy on it, or on an envelope
    in it, is open (the verifier's ``receipt_over_open_discrepancy``)."""
    if any(open_discrepancy_exists(ctx.session, e) for e in envelopes):
        raise DiscrepancyOpenError()


@transactional
def dispatch_bag(ctx: Ctx, actor: User, bag_number: str, courier: User,
                 receipt: Receipt | None, scan_id: str, event_at: datetime, *,
                 vehicle: str, is_dedicated_vehicle: bool, escort_name: str | None = None,
                 device: str = "") -> BagResult:
    """Hand the sealed bag to the courier (chuyển đi); a non-dedicated vehicle needs an escort."""
    vehicle_txt = clean_text(vehicle, "vehicle", 64, required=True)
    escort = clean_text(escort_name, "escort_name", 120) or None
    earlier = _claim(ctx, scan_id, "bag_dispatch", {
        "bag": bag_number, "courier": courier.id, "vehicle": vehicle_txt,
        "dedicated": is_dedicated_vehicle, "escort": escort,
        "receipt": receipt.fingerprint() if receipt else None,
        "event_at": event_at.isoformat()}, actor)
    if earlier is not None:
        return _replay(ctx, earlier)
    bag = _lock_bag(ctx, bag_number, actor)
    _counter_clerk_at(ctx, actor, bag.holder_unit_id)
    if bag.holder_user_id != actor.id:
        raise NotCurrentHolderError(number=bag.number, giver=actor.username,
                                    holder=_bag_holder(ctx, bag))
    _need_state(bag, "dispatch")
    if courier.role is not Role.COURIER or not courier.is_active:
        raise ForbiddenError(f"{courier.username} is not a courier")
    if escort_required(is_dedicated_vehicle, escort):
        raise EscortRequiredError()  # docs/rules.md, rule 8
    receipt = _signed(actor, courier, receipt)
    envelopes = _contents(ctx, bag)
    _no_open_discrepancy(ctx, envelopes)
    handoffs = _bag_links(ctx, bag, envelopes, Link(
        kind=EventKind.DISPATCHED, scan_id=scan_id, event_at=event_at, recorded_by=actor,
        from_unit_id=actor.unit_id, from_user_id=actor.id, to_unit_id=courier.unit_id,
        to_user_id=courier.id, location=actor.unit.code, device=device,
        seal_state=SealState.INTACT, seal_number=bag.seal_number,
        ack_user_id=courier.id, ack_method=receipt.method, ack_reference=receipt.reference,
        note=f"vehicle={vehicle_txt}" + (f"; escort={escort}" if escort else ""),
    ))
    bag.vehicle = vehicle_txt
    bag.is_dedicated_vehicle = is_dedicated_vehicle
    bag.escort_name = escort
    bag.status = BagStatus.IN_TRANSIT
    _record_scan_bag(ctx, scan_id, bag)
    return BagResult(bag=bag, handoffs=handoffs)


@transactional
def receive_bag(ctx: Ctx, actor: User, bag_number: str, courier: User, seal_number: str,
                receipt: Receipt | None, scan_id: str, event_at: datetime, *,
                seal_state: SealState = SealState.INTACT, incident_report: str | None = None,
                device: str = "", courier_receipt: Receipt | None = None) -> BagResult:
    """Take the bag from the courier at an office and check its seal (nhận túi).

    The courier hands it over in person: he identifies with his PIN or staff badge
    (``courier_receipt``), and the clerk signs (``receipt``). An office that is neither the
    bag's origin nor its destination sees it only when the courier who holds it is there.

    A seal number that differs from the recorded one is refused as ``seal_mismatch`` and
    nothing is written (a misread is the usual cause). When the clerk confirms the
    anomaly (``seal_state`` broken or mismatched, with a report), the bag is received and
    an incident is opened, reported to the head of the unit and to the sender.
    """
    seen = clean_text(seal_number, "seal_number", 64, required=True)
    report = clean_text(incident_report, "incident_report", 2000, multiline=True)
    earlier = _claim(ctx, scan_id, "bag_receive", {
        "bag": bag_number, "courier": courier.id, "seal": seen, "state": str(seal_state),
        "receipt": receipt.fingerprint() if receipt else None,
        **({"courier_receipt": courier_receipt.fingerprint()} if courier_receipt else {}),
        "event_at": event_at.isoformat()}, actor)
    if earlier is not None:
        return _replay(ctx, earlier)
    if actor.role is not Role.COUNTER_CLERK or actor.unit.kind is not UnitKind.POST_OFFICE:
        raise ForbiddenError()
    shown = (courier_receipt is not None and courier_receipt.user.id == courier.id
             and courier_receipt.method in (AckMethod.PIN, AckMethod.BADGE)
             and receipt_valid(actor, courier_receipt))
    bag = _lock_bag(ctx, bag_number, actor,
                    shown_by=lambda b: shown and b.holder_user_id == courier.id)
    _need_state(bag, "receive")
    if bag.holder_user_id != courier.id:
        raise NotCurrentHolderError(number=bag.number, giver=courier.username,
                                    holder=_bag_holder(ctx, bag))
    anomaly = seal_state in (SealState.BROKEN, SealState.MISMATCHED)
    if seen != bag.seal_number and not anomaly:
        raise SealMismatchError(seen=seen, recorded="***")
    if anomaly and not report:
        raise ReportRequiredError()
    if seal_state is SealState.NOT_APPLICABLE:
        raise ValidationError(field="seal_state", reason="a bag always has a seal")
    if courier.id != actor.id:
        if courier_receipt is None:
            raise GiverIdentificationMissingError()
        if not shown:
            raise GiverIdentificationInvalidError()
    receipt = _signed(actor, actor, receipt)
    envelopes = _contents(ctx, bag)
    _no_open_discrepancy(ctx, envelopes)
    handoffs = _bag_links(ctx, bag, envelopes, Link(
        kind=EventKind.BAG_RECEIVED, scan_id=scan_id, event_at=event_at, recorded_by=actor,
        from_unit_id=courier.unit_id, from_user_id=courier.id, to_unit_id=actor.unit_id,
        to_user_id=actor.id, location=actor.unit.code, device=device,
        seal_state=seal_state, seal_number=seen, ack_user_id=actor.id,
        ack_method=receipt.method, ack_reference=receipt.reference,
    ), report=report if anomaly else "")
    bag.status = BagStatus.RECEIVED
    incident = None
    ctx.session.flush()
    if anomaly:
        incident = open_seal_incident(
            ctx, actor, envelope=None, bag=bag, handoff=handoffs[0] if handoffs else None,
            state=seal_state, report=report,
            details={"seal_seen": seen, "numbers": [e.number for e in envelopes]})
        ctx.session.flush()
    _record_scan_bag(ctx, scan_id, bag, incident)
    return BagResult(bag=bag, handoffs=handoffs, incident=incident)


@transactional
def open_bag_contents(ctx: Ctx, actor: User, bag_number: str, scanned: list[str],
                      scan_id: str, event_at: datetime, device: str = "") -> BagResult:
    """Open a received bag (mở túi) and check what came out against the manifest.

    Each listed envelope that was scanned leaves the bag. A listed envelope not scanned,
    or a scanned one not listed, opens a discrepancy incident (docs/rules.md, rules 6
    and 8); the missing ones stay recorded in the bag until the discrepancy is settled.
    """
    earlier = _claim(ctx, scan_id, "bag_unpack", {
        "bag": bag_number, "scanned": sorted(n.strip().upper() for n in scanned),
        "event_at": event_at.isoformat()}, actor)
    if earlier is not None:
        return _replay(ctx, earlier)
    bag = _lock_bag(ctx, bag_number, actor)
    _counter_clerk_at(ctx, actor, bag.holder_unit_id)
    # An opened bag that still lists envelopes (missing at the first opening) is opened
    # again when they turn up; the open discrepancy check below then decides.
    _need_state(bag, "open")
    if bag.destination_unit_id != actor.unit_id:
        raise WrongUnitError(username=actor.username, unit=bag.destination_unit.code)
    contents = _contents(ctx, bag)
    if bag.status is BagStatus.OPENED and not contents:
        raise BagStateError(bag=bag.number, status=str(bag.status), action="open")
    listed = {e.number: e for e in contents}
    seen: dict[str, Envelope | None] = {}
    for raw in scanned:
        try:
            env = load_envelope(ctx, raw)
            seen[env.number] = env
        except KT1Error:  # an unreadable or unknown item is reported as extra
            seen[clean_text(raw, "number", 32).upper()] = None
    found = [listed[n] for n in listed if n in seen]
    missing = sorted(set(listed) - set(seen))
    extra = sorted(set(seen) - set(listed))
    if any(open_discrepancy_exists(ctx.session, e) for e in found):
        raise DiscrepancyOpenError()
    handoffs = _bag_links(ctx, bag, found, Link(
        kind=EventKind.BAG_OPENED, scan_id=scan_id, event_at=event_at, recorded_by=actor,
        from_unit_id=actor.unit_id, from_user_id=actor.id, to_unit_id=actor.unit_id,
        to_user_id=actor.id, location=actor.unit.code, device=device,
        seal_state=SealState.INTACT, seal_number=bag.seal_number, ack_user_id=actor.id,
        ack_method=AckMethod.SELF,
    ))
    lines = {line.envelope_id: line for line in bag.lines}
    for env in found:
        env.bag_id = None
        lines[env.id].found_at_opening = True
    for number in missing:
        lines[listed[number].id].found_at_opening = False
    bag.status = BagStatus.OPENED
    incident = None
    ctx.session.flush()
    if missing or extra:
        incident = Incident(
            kind=IncidentKind.DISCREPANCY, bag_id=bag.id, unit_id=actor.unit_id,
            reported_by_id=actor.id,
            report=f"Bag {bag.number}: {len(missing)} missing, {len(extra)} not on the manifest",
            details={"missing": missing, "extra": extra},
            opened_at=ctx.now(),
        )
        ctx.session.add(incident)
        ctx.session.flush()
    _record_scan_bag(ctx, scan_id, bag, incident)
    return BagResult(bag=bag, handoffs=handoffs, incident=incident, missing=missing,
                     extra=extra)


def get_bag(ctx: Ctx, number: str, *, seen_by: int | None = None) -> Bag:
    """A bag by number; with ``seen_by`` (a unit id) one that unit may not see is unknown."""
    code = clean_text(number, "bag", 48, required=True).upper()
    bag = ctx.session.execute(
        select(Bag).where(Bag.number == code)).unique().scalar_one_or_none()
    if bag is None or (seen_by is not None and not unit_sees_bag(seen_by, bag)):
        raise UnknownBagError(number=code)
    return bag


__all__ = [
    "BagResult",
    "add_to_bag",
    "dispatch_bag",
    "get_bag",
    "on_route",
    "open_bag",
    "open_bag_contents",
    "receive_bag",
    "remove_from_bag",
    "seal_bag",
]
