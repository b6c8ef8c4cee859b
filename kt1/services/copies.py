"""Copies as tracked items (sao, chụp; docs/domain.md §8, issue 12).

A copy of a registered document (photocopy, extract, scan to an isolated machine) is made
only with the recorded approval of a person entitled to allow copies in the unit that holds
the original (người có thẩm quyền cho phép sao, chụp: the unit's ``copy_approver`` rows, or
its heads of unit when it has none), on a date. Each copy is an envelope of its own
(:class:`~kt1.models.Envelope` with ``copy_of_id``): its own S10 number, its place in the
outgoing register, "Bản số n/N" (numbered without gaps per original, across approvals), a
number in the unit's copy register (sổ quản lý sao, chụp), and its own custody chain whose
first link seals the copy's facts (kt1/services/chain.py, ``copy_identity``). It then
travels and is verified like any envelope (docs/rules.md, rules P1 to P3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from kt1.errors import (
    CopyApproverNotEntitledError,
    CopyForbiddenError,
    CopyNumberOutOfSequenceError,
    CopyNumberTakenError,
    CopyOfCopyError,
    ForbiddenError,
    OriginalDestroyedError,
    UnknownEnvelopeError,
    UnknownUnitError,
    UnknownUserError,
    ValidationError,
    WrongUnitError,
)
from kt1.models import CopyApprover, Envelope, Handoff, Unit, User
from kt1.models.enums import (
    HELD_STATUSES,
    CopyMethod,
    EnvelopeStatus,
    Role,
    Secrecy,
    ServiceClass,
    UnitKind,
)
from kt1.services.context import Ctx
from kt1.services.custody import claim_scan
from kt1.services.identifiers import next_value
from kt1.services.registration import route_between, start_outgoing
from kt1.services.subjects import local_date
from kt1.services.text import clean_scan_id, clean_text
from kt1.services.tx import transactional

#: The most copies one approval makes.
MAX_BATCH = 99

#: How each method reads on paper (the copy stamp and the register).
METHOD_VI = {CopyMethod.PHOTOCOPY: "Sao, chụp (photocopy)", CopyMethod.EXTRACT: "Trích sao",
             CopyMethod.SCAN: "Chụp, quét vào máy không nối mạng"}


def register_number(envelope: Envelope) -> str | None:
    """The copy's number in its unit's copy register: ``seq/year``."""
    if envelope.copy_register_seq is None:
        return None
    return f"{envelope.copy_register_seq}/{envelope.copy_register_year}"


# --------------------------------------------------------------------------- approvers


def _is_clerk(actor: User) -> bool:
    return (actor.is_active and actor.role is Role.REGISTRY_CLERK
            and actor.unit.kind is UnitKind.AGENCY)


def approver_rows(ctx: Ctx, unit_id: int) -> list[CopyApprover]:
    return list(ctx.session.execute(
        select(CopyApprover).where(CopyApprover.unit_id == unit_id)
        .order_by(CopyApprover.id)).unique().scalars())


def entitled_approvers(ctx: Ctx, unit_id: int) -> list[User]:
    """Who may allow copies in the unit: its ``copy_approver`` rows, or its heads of unit
    when it has none; active people of the unit only."""
    rows = approver_rows(ctx, unit_id)
    query = select(User).where(User.unit_id == unit_id, User.is_active.is_(True))
    if rows:
        query = query.where(User.id.in_([r.user_id for r in rows]))
    else:
        query = query.where(User.is_unit_head.is_(True))
    return list(ctx.session.execute(query.order_by(User.full_name)).unique().scalars())


def is_entitled(ctx: Ctx, user: User, unit_id: int) -> bool:
    return user.is_active and user.unit_id == unit_id and any(
        u.id == user.id for u in entitled_approvers(ctx, unit_id))


def find_unit(ctx: Ctx, code: str) -> Unit:
    unit = ctx.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise UnknownUnitError(code=clean_text(code, "unit", 32))
    return unit


@transactional
def add_approver(ctx: Ctx, actor: User | None, unit_code: str, username: str) -> CopyApprover:
    """Entitle a person of the unit to allow copies (``actor`` None: the server console).
    Once a unit has a row, only the people listed are entitled, not its heads. Adding a
    person already listed changes nothing."""
    _may_configure(actor)
    unit = find_unit(ctx, unit_code)
    user = ctx.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise UnknownUserError(username=clean_text(username, "username", 64))
    if user.unit_id != unit.id:
        raise WrongUnitError(username=user.username, unit=unit.code)
    if not user.is_active:
        raise ValidationError(field="username", reason="the account is deactivated")
    existing = next((r for r in approver_rows(ctx, unit.id) if r.user_id == user.id), None)
    if existing is not None:
        return existing  # already entitled: nothing to change
    row = CopyApprover(unit_id=unit.id, user_id=user.id, added_at=ctx.now())
    ctx.session.add(row)
    ctx.session.flush()
    return row


@transactional
def remove_approver(ctx: Ctx, actor: User | None, unit_code: str, username: str) -> None:
    _may_configure(actor)
    unit = find_unit(ctx, unit_code)
    row = next((r for r in approver_rows(ctx, unit.id) if r.user.username == username), None)
    if row is None:
        raise UnknownUserError(username=clean_text(username, "username", 64))
    ctx.session.delete(row)


def _may_configure(actor: User | None) -> None:
    """The administrator (or the server console) configures who may allow copies."""
    if actor is not None and (actor.role is not Role.ADMINISTRATOR or not actor.is_active):
        raise ForbiddenError()


# --------------------------------------------------------------------------- making copies


def held_original(ctx: Ctx, actor: User, number: str, *, lock: bool = False) -> Envelope:
    """The document numbered ``number`` that the actor's unit holds (a registry clerk's),
    else ``unknown_envelope``, exactly as for a number never issued (docs/access.md)."""
    number = (number or "").strip().upper()
    if not _is_clerk(actor):
        raise UnknownEnvelopeError(number=number[:13])
    query = select(Envelope).where(Envelope.number == number,
                                   Envelope.holder_unit_id == actor.unit_id)
    if lock and ctx.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Envelope)
    envelope = ctx.session.execute(query).unique().scalar_one_or_none()
    if envelope is None or envelope.status not in HELD_STATUSES | {EnvelopeStatus.DESTROYED}:
        raise UnknownEnvelopeError(number=number[:13])
    return envelope


@transactional
def make_copies(ctx: Ctx, actor: User, number: str, *, approved_by: str,
                approved_on: date | None = None, count: int = 1,
                method: CopyMethod | str = CopyMethod.PHOTOCOPY,
                recipient_unit_code: str | None = None, recipient_name: str = "",
                copy_no: int | None = None, scan_id: str | None = None,
                event_at: datetime | None = None) -> list[Envelope]:
    """Register ``count`` copies of a held document, approved by ``approved_by``, as new
    envelopes numbered "Bản số n/N" after the copies it already has; one transaction.

    ``approved_on`` defaults to today in Vietnam. The copies go to ``recipient_unit_code``,
    by default the original's recipient when the actor's unit sent the original, else the
    actor's own unit. ``copy_no`` registers copies already numbered on paper: the first
    must follow the last copy of the document. A replay with the same ``scan_id`` returns
    the same copies.
    """
    session = ctx.session
    original = held_original(ctx, actor, number, lock=True)
    if original.status is EnvelopeStatus.DESTROYED or original.secrecy is Secrecy.DESTROYED:
        raise OriginalDestroyedError(number=original.number)
    if original.copy_of_id is not None:
        raise CopyOfCopyError(number=original.number)
    if original.copy_forbidden:
        raise CopyForbiddenError(number=original.number)
    if isinstance(count, bool) or not 1 <= count <= MAX_BATCH:
        raise ValidationError(field="count", reason=f"must be between 1 and {MAX_BATCH}")
    try:
        how = CopyMethod(method)
    except ValueError:
        allowed = ", ".join(m.value for m in CopyMethod)
        raise ValidationError(field="method", reason=f"must be one of {allowed}") from None
    now = ctx.now()
    at = event_at or now
    if at.tzinfo is None:
        raise ValidationError(field="event_at", reason="needs a time zone")
    today = local_date(now)
    if approved_on is not None and approved_on > today:
        raise ValidationError(field="approved_on", reason="must not be in the future")
    approver_name = clean_text(approved_by, "approved_by", 64, required=True)
    approver = session.execute(
        select(User).where(User.username == approver_name)).unique().scalar_one_or_none()
    if approver is None or not is_entitled(ctx, approver, actor.unit_id):
        raise CopyApproverNotEntitledError(approver=approver_name, unit=actor.unit.code)
    recipient_name = clean_text(recipient_name, "recipient_name", 120)
    if recipient_unit_code:
        recipient = find_unit(ctx, recipient_unit_code)
        if recipient.kind is not UnitKind.AGENCY:
            raise ValidationError(field="recipient_unit", reason="must be an agency")
    elif original.sender_unit_id == actor.unit_id:
        recipient = original.recipient_unit
    else:
        recipient = actor.unit

    given_scan = scan_id
    scan_id = clean_scan_id(scan_id) if scan_id else f"copy-{uuid.uuid4()}"
    if given_scan:
        earlier = claim_scan(session, scan_id, "copy", {
            "number": original.number, "approved_by": approver.username,
            "approved_on": approved_on.isoformat() if approved_on else None, "count": count,
            "method": str(how), "recipient": recipient.code,
            "recipient_name": recipient_name, "copy_no": copy_no,
            "event_at": event_at.isoformat() if event_at else None,
        }, actor)
        if earlier is not None:
            return list(session.execute(
                select(Envelope).join(Handoff, Handoff.envelope_id == Envelope.id)
                .where(Handoff.scan_id == scan_id, Handoff.seq == 0)
                .order_by(Envelope.copy_no)).unique().scalars())

    last = session.execute(select(func.max(Envelope.copy_no)).where(
        Envelope.copy_of_id == original.id)).scalar() or 0
    first = last + 1
    if copy_no is not None:
        if isinstance(copy_no, bool) or copy_no < 1:
            raise ValidationError(field="copy_no", reason="must be 1 or more")
        taken = session.execute(select(Envelope.id).where(
            Envelope.copy_of_id == original.id,
            Envelope.copy_no == copy_no)).first()
        if taken is not None:
            raise CopyNumberTakenError(number=original.number, copy_no=copy_no)
        if copy_no != first:
            raise CopyNumberOutOfSequenceError(number=original.number,
                                               copy_no=copy_no, last=last)
    total = first + count - 1

    year = local_date(at).year
    copies = []
    for n in range(first, total + 1):
        envelope = Envelope(
            classification=original.classification,
            mark=original.mark,
            layers=original.layers,
            service=ServiceClass.STANDARD,
            route=route_between(actor.unit, recipient),
            urgency=original.urgency,
            recipient_unit_id=recipient.id,
            recipient_name=recipient_name,
            is_addressee_only=False,
            document_number=original.document_number,
            document_date=original.document_date,
            copies=1,
            # who drafted and signed the document and why it is secret: the original's
            drafter_user_id=original.drafter_user_id,
            drafter_name=original.drafter_name,
            signer_name=original.signer_name,
            signer_title=original.signer_title,
            classification_basis=original.classification_basis,
            copy_of_id=original.id,
            copy_no=n,
            copy_total=total,
            copy_method=how,
            copy_approved_by_id=approver.id,
            copy_approved_on=approved_on or today,
            copy_register_year=year,
            copy_register_seq=next_value(session, f"copy:{actor.unit_id}:{year}"),
            classified_on=original.classified_on,
            protection_until=original.protection_until,
            secrecy=original.secrecy,
        )
        copies.append(start_outgoing(ctx, actor, envelope, scan_id=scan_id,
                                     event_at=at))
    return copies


# --------------------------------------------------------------------------- the register


@dataclass(frozen=True)
class RegisterLine:
    """One line of the copy register (sổ quản lý sao, chụp). Never the subject."""

    envelope: Envelope
    original: Envelope | None
    approver: User | None
    made_by: User | None

    @property
    def register_no(self) -> str:
        return register_number(self.envelope) or ""

    @property
    def label(self) -> str:
        return self.envelope.copy_label or ""


def copy_register(ctx: Ctx, actor: User | None, unit_code: str | None = None,
                  year: int | None = None) -> tuple[Unit, list[RegisterLine]]:
    """The copies a unit made, in register order: a registry clerk or security officer of
    the unit reads its own (``unit_code`` None or their unit's); ``actor`` None is the server
    console, which names the unit. Another unit's register is ``unknown_unit``."""
    session = ctx.session
    if actor is not None:
        if not actor.is_active or actor.role not in (Role.REGISTRY_CLERK,
                                                     Role.SECURITY_OFFICER):
            raise ForbiddenError()
        if unit_code and unit_code != actor.unit.code:
            raise UnknownUnitError(code=clean_text(unit_code, "unit", 32))
        unit = actor.unit
    else:
        unit = find_unit(ctx, unit_code or "")
    query = select(Envelope).where(Envelope.sender_unit_id == unit.id,
                                   Envelope.copy_of_id.is_not(None))
    if year is not None:
        query = query.where(Envelope.copy_register_year == year)
    copies = list(session.execute(query.order_by(
        Envelope.copy_register_year, Envelope.copy_register_seq, Envelope.id)).unique().scalars())
    originals = {e.id: e for e in session.execute(select(Envelope).where(
        Envelope.id.in_({c.copy_of_id for c in copies}))).unique().scalars()} if copies else {}
    user_ids = {c.copy_approved_by_id for c in copies} | {c.registered_by_id for c in copies}
    users = {u.id: u for u in session.execute(select(User).where(
        User.id.in_(user_ids))).unique().scalars()} if copies else {}
    return unit, [RegisterLine(c, originals.get(c.copy_of_id or 0),
                               users.get(c.copy_approved_by_id or 0),
                               users.get(c.registered_by_id)) for c in copies]


def copies_of(ctx: Ctx, original: Envelope) -> list[Envelope]:
    """The copies of a document, by number."""
    return list(ctx.session.execute(select(Envelope).where(
        Envelope.copy_of_id == original.id).order_by(Envelope.copy_no)).unique().scalars())
