"""Internal handover sheets (phiếu chuyển giao nội bộ): paper for a handover inside a unit.

Whoever holds envelopes in an agency lists them on a numbered sheet for a named receiver of
the same unit (:func:`prepare_internal_sheet`) and prints it (every print is recorded,
:func:`kt1.services.paper.record_print`). The receiver signs the paper. The receiving unit
(the receiver, or a registry clerk of the unit) then marks it signed: the sheet's barcode is
scanned, then each line is ticked or scanned (:func:`mark_signed`). Only then may a handoff of
a ticked envelope to that receiver be signed ``method=paper`` with the sheet's number
(docs/access.md, "both sides present"; docs/rules.md, rule A8). A sheet of another unit does
not exist for the asker (docs/access.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from kt1.errors import (
    EnvelopeInBagError,
    EnvelopeOnSheetError,
    ForbiddenError,
    NotCurrentHolderError,
    SheetStateError,
    UnknownEnvelopeError,
    UnknownSheetError,
    UnknownUserError,
    ValidationError,
)
from kt1.models import Envelope, User
from kt1.models.enums import AckMethod, Authority, EnvelopeStatus, EventKind, Role, UnitKind
from kt1.models.handover import SheetStatus
from kt1.models.paper import InternalLine, InternalSheet
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.custody import HandoffRequest, holder_label, record_in
from kt1.services.handover import parse_numbers, sheet_numbers, visible_envelope
from kt1.services.identifiers import next_value
from kt1.services.paper import prints_of
from kt1.services.subjects import local_date
from kt1.services.text import clean_text
from kt1.services.tx import transactional

PREFIX = "CG"  # chuyển giao; post-office sheets are "GB-…", so the numbers never meet


def _active_in_agency(actor: User) -> None:
    if not actor.is_active or actor.role is Role.ADMINISTRATOR:
        raise ForbiddenError()
    if actor.unit.kind is not UnitKind.AGENCY:
        raise ForbiddenError("internal handover sheets are an agency's")


def _open_sheet_of(ctx: Ctx, envelope: Envelope) -> InternalSheet | None:
    return ctx.session.execute(
        select(InternalSheet).join(InternalLine, InternalLine.sheet_id == InternalSheet.id)
        .where(InternalLine.envelope_id == envelope.id,
               InternalSheet.status == SheetStatus.OPEN).limit(1)).unique().scalar_one_or_none()


@transactional
def prepare_internal_sheet(ctx: Ctx, actor: User, receiver_username: str,
                           numbers: list[str]) -> InternalSheet:
    """List envelopes the actor holds on a new internal sheet for a named receiver of the
    same unit. Each must be held by the actor, not in a bag, and on no other open internal
    sheet; a receiver of another unit is answered as one who does not exist."""
    _active_in_agency(actor)
    name = clean_text(receiver_username, "receiver", 64, required=True).lower()
    receiver = ctx.session.execute(
        select(User).where(User.username == name, User.unit_id == actor.unit_id,
                           User.is_active.is_(True))).unique().scalar_one_or_none()
    if receiver is None:
        raise UnknownUserError(username=name)
    if receiver.id == actor.id:
        raise ValidationError(field="receiver", reason="the receiver is someone else")
    parsed = sheet_numbers(ctx, numbers)
    envelopes = []
    for number in parsed:
        envelope = visible_envelope(ctx, actor, number)
        if envelope is None:
            raise UnknownEnvelopeError(number=number)
        if envelope.holder_user_id != actor.id:
            raise NotCurrentHolderError(number=number, giver=actor.username,
                                        holder=holder_label(envelope))
        if envelope.bag_id is not None:
            raise EnvelopeInBagError(number=number, bag="?")
        other = _open_sheet_of(ctx, envelope)
        if other is not None:
            raise EnvelopeOnSheetError(number=number, sheet=other.number)
        envelopes.append(envelope)
    now = ctx.now()
    year = local_date(now).year
    seq = next_value(ctx.session, f"isheet:{actor.unit_id}:{year}")
    sheet = InternalSheet(
        number=f"{PREFIX}-{actor.unit.code}-{year}-{seq:05d}", unit_id=actor.unit_id,
        year=year, seq=seq, giver_id=actor.id, receiver_id=receiver.id,
        status=SheetStatus.OPEN, created_at=now)
    ctx.session.add(sheet)
    ctx.session.flush()
    for line_no, envelope in enumerate(envelopes, start=1):
        ctx.session.add(InternalLine(sheet_id=sheet.id, envelope_id=envelope.id,
                                     line_no=line_no))
    ctx.session.flush()
    ctx.session.expire(sheet, ["lines"])
    return sheet


def get_internal_sheet(ctx: Ctx, actor: User, number: str) -> InternalSheet:
    """A sheet of the actor's unit; any other number, or another unit's sheet, is not found
    (the same answer)."""
    code = clean_text(number, "sheet", 48, required=True).upper()
    sheet = None
    if actor.is_active:
        sheet = ctx.session.execute(
            select(InternalSheet).where(InternalSheet.number == code,
                                        InternalSheet.unit_id == actor.unit_id)
        ).unique().scalar_one_or_none()
    if sheet is None:
        raise UnknownSheetError(number=code)
    return sheet


def list_internal_sheets(ctx: Ctx, actor: User, *, limit: int = 50) -> list[InternalSheet]:
    """The unit's internal sheets, newest first."""
    if not actor.is_active:
        return []
    return list(ctx.session.execute(
        select(InternalSheet).where(InternalSheet.unit_id == actor.unit_id)
        .order_by(InternalSheet.id.desc()).limit(limit)).unique().scalars())


def may_mark(actor: User, sheet: InternalSheet) -> bool:
    """The receiving unit marks a sheet signed: the receiver, or a registry clerk of it."""
    return actor.is_active and actor.unit_id == sheet.unit_id and (
        actor.id == sheet.receiver_id or actor.role is Role.REGISTRY_CLERK)


@transactional
def mark_signed(ctx: Ctx, actor: User, number: str, scanned: Iterable[str]) -> InternalSheet:
    """Mark a printed sheet signed by its receiver and tick the lines scanned or ticked
    (each gets its time). Ticking more lines of a signed sheet later is allowed; a line is
    never unticked."""
    sheet = get_internal_sheet(ctx, actor, number)
    if not may_mark(actor, sheet):
        raise ForbiddenError()
    if sheet.status is SheetStatus.CANCELLED:
        raise SheetStateError(sheet=sheet.number, status=str(sheet.status), action="sign")
    if not prints_of(ctx, sheet.number):
        raise SheetStateError(sheet=sheet.number, status="not printed", action="sign")
    numbers, invalid = parse_numbers(ctx, scanned)
    if invalid:
        raise invalid[0][1]
    lines = {line.envelope.number: line for line in sheet.lines}
    stray = [n for n in numbers if n not in lines]
    if stray:
        raise ValidationError(field="numbers", reason=f"{stray[0]} is not on {sheet.number}")
    if not numbers:
        raise ValidationError(field="numbers", reason="tick or scan at least one line")
    now = ctx.now()
    for n in numbers:
        if lines[n].ticked_at is None:
            lines[n].ticked_at = now
            lines[n].ticked_by_id = actor.id
    if sheet.status is SheetStatus.OPEN:
        sheet.status = SheetStatus.SIGNED
        sheet.signed_at = now
        sheet.signed_by_id = actor.id
    return sheet


@transactional
def cancel_internal_sheet(ctx: Ctx, actor: User, number: str) -> InternalSheet:
    """Withdraw an open sheet (its giver or a registry clerk of the unit)."""
    sheet = get_internal_sheet(ctx, actor, number)
    if actor.id != sheet.giver_id and actor.role is not Role.REGISTRY_CLERK:
        raise ForbiddenError()
    if sheet.status is not SheetStatus.OPEN:
        raise SheetStateError(sheet=sheet.number, status=str(sheet.status), action="cancel")
    sheet.status = SheetStatus.CANCELLED
    sheet.cancelled_at = ctx.now()
    return sheet


@transactional
def pass_by_sheet(ctx: Ctx, actor: User, number: str) -> list[str]:
    """Record the handoff to the sheet's receiver (``passed_to_addressee``) of every ticked
    envelope the actor still holds and has entered in the incoming register, each signed
    ``method=paper`` with the sheet's number; the actor is the giver. One transaction: a
    line the custody rules refuse refuses them all, and nothing is written."""
    sheet = get_internal_sheet(ctx, actor, number)
    if actor.id != sheet.giver_id:
        raise ForbiddenError()
    if sheet.status is not SheetStatus.SIGNED:
        raise SheetStateError(sheet=sheet.number, status=str(sheet.status), action="pass")
    passed = []
    for line in sheet.lines:
        envelope = line.envelope
        if line.ticked_at is None or envelope.holder_user_id != actor.id or (
                envelope.status is not EnvelopeStatus.ARRIVED):
            continue
        record_in(ctx, actor, HandoffRequest(
            number=envelope.number, kind=EventKind.PASSED_TO_ADDRESSEE,
            scan_id=f"isheet-{sheet.id}-{envelope.id}", event_at=ctx.now(), giver=actor,
            receiver=sheet.receiver,
            receipt=Receipt(user=sheet.receiver, method=AckMethod.PAPER, reference=sheet.number),
            authority=Authority.ADDRESSEE, location=actor.unit.code,
            note=f"Phiếu chuyển giao {sheet.number}"))
        passed.append(envelope.number)
    if not passed:
        raise ValidationError(field="numbers", reason="no ticked item is waiting to be passed")
    return passed
