"""Custody on leaving or moving (bàn giao khi thôi việc, chuyển công tác): issue 11.

Before a person is deactivated, moved to another unit or given another role, whatever they
hold goes to a named colleague of the same unit and role family
(:data:`kt1.services.holdings.ROLE_FAMILIES`), present and acknowledging by PIN or staff
badge (docs/access.md, "both sides present"): every envelope gets a ``handed_over`` link in
its custody chain (the stage does not change), every bag they hold and every open handover
sheet they gave goes to the colleague, and a numbered handover record (biên bản bàn giao)
lists it all for both sides and the head of the unit to sign. One transaction: all of it or
nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from kt1.errors import (
    AcknowledgementInvalidError,
    AcknowledgementMissingError,
    DiscrepancyOpenError,
    ForbiddenError,
    HandedToSelfError,
    HandoverReceiverInactiveError,
    HandoverRoleFamilyError,
    NothingToHandOverError,
    UnknownHandoverRecordError,
    WrongUnitError,
)
from kt1.models import HandoverRecord, HandoverRecordItem, User
from kt1.models.enums import AckMethod, EventKind, Role
from kt1.models.handover import SheetStatus
from kt1.models.leaving import RecordItemKind
from kt1.models.paper import InternalSheet
from kt1.services.access import Receipt, verify_receipt
from kt1.services.context import Ctx
from kt1.services.custody import Link, append_link, open_discrepancy_exists
from kt1.services.directory import find_user
from kt1.services.holdings import Holdings, holdings_of, role_family
from kt1.services.identifiers import next_value
from kt1.services.subjects import local_date
from kt1.services.text import clean_text
from kt1.services.tx import transactional

#: How the receiver acknowledges a hand-over: present, with their PIN or staff badge.
ACK_METHODS = (AckMethod.PIN, AckMethod.BADGE)


def _admin(actor: User | None) -> None:
    """``None`` is the operator at the server console (the CLI), trusted like an admin."""
    if actor is not None and (actor.role is not Role.ADMINISTRATOR or not actor.is_active):
        raise ForbiddenError()


def holdings(ctx: Ctx, username: str) -> Holdings:
    """What the user holds: envelopes, bags, open handover sheets they gave."""
    return holdings_of(ctx, find_user(ctx, username))


def colleagues(ctx: Ctx, user: User) -> list[User]:
    """Who may take over ``user``'s custody: the active people of the same unit and role
    family, but the user, by username."""
    return list(ctx.session.execute(
        select(User).where(User.unit_id == user.unit_id, User.is_active, User.id != user.id,
                           User.role.in_(list(role_family(user.role))))
        .order_by(User.username)).unique().scalars())


def check_receiver(leaving: User, receiver: User) -> None:
    """A colleague of the same unit and role family, active, not the leaving person
    (docs/rules.md, rules A4 and A6: the rulebook's slugs for oneself and another unit; an
    inactive account or another role family, which A4 answers with a bare ``forbidden``,
    get a message of their own)."""
    if receiver.id == leaving.id:
        raise HandedToSelfError()
    if receiver.unit_id != leaving.unit_id:
        raise WrongUnitError(username=receiver.username, unit=leaving.unit.code)
    if not receiver.is_active:
        raise HandoverReceiverInactiveError(receiver=receiver.username)
    if receiver.role not in role_family(leaving.role):
        raise HandoverRoleFamilyError(receiver=receiver.username,
                                      receiver_role=str(receiver.role),
                                      username=leaving.username, role=str(leaving.role))


@transactional
def hand_over_all(ctx: Ctx, actor: User | None, leaving_username: str, to_username: str,
                  receipt: Receipt | None) -> HandoverRecord:
    """Hand everything ``leaving_username`` holds to ``to_username`` (administrator or the
    server console), who acknowledges with ``receipt`` (PIN or staff badge).

    Refused, with nothing written: to oneself, to another unit, to an inactive account, to
    another role family; without the receiver's PIN or badge, or with a wrong one; when
    there is nothing to hand over; while a discrepancy is open on an envelope or its bag
    (docs/rules.md, rule 6); and whatever the custody rules refuse for a link.
    """
    _admin(actor)
    leaving = find_user(ctx, leaving_username)
    receiver = find_user(ctx, to_username)
    check_receiver(leaving, receiver)
    if receipt is None:
        raise AcknowledgementMissingError()
    if receipt.user.id != receiver.id or receipt.method not in ACK_METHODS:
        raise AcknowledgementInvalidError()
    verify_receipt(actor or receiver, receipt)

    held = holdings_of(ctx, leaving, lock=True)
    if held.empty:
        raise NothingToHandOverError(username=leaving.username)
    for envelope in held.envelopes:
        if open_discrepancy_exists(ctx.session, envelope):
            raise DiscrepancyOpenError()

    now = ctx.now()
    year = local_date(now).year
    unit = leaving.unit
    seq = next_value(ctx.session, f"handover-record:{unit.id}:{year}")
    record = HandoverRecord(
        number=f"BBG-{unit.code}-{year}-{seq:05d}", unit_id=unit.id, year=year, seq=seq,
        giver_id=leaving.id, receiver_id=receiver.id,
        recorded_by_id=actor.id if actor is not None else None, ack_method=receipt.method,
        created_at=now)
    ctx.session.add(record)
    ctx.session.flush()
    scan_id = f"handover-record-{record.id}"
    recorder = actor if actor is not None else receiver
    line_no = 0

    def item(kind: RecordItemKind, **refs: int | None) -> None:
        nonlocal line_no
        line_no += 1
        ctx.session.add(HandoverRecordItem(record_id=record.id, line_no=line_no, kind=kind,
                                           **refs))

    for envelope in held.envelopes:  # in id order, locked
        handoff = append_link(ctx, envelope, Link(
            kind=EventKind.HANDED_OVER, scan_id=scan_id, event_at=now, recorded_by=recorder,
            from_unit_id=leaving.unit_id, from_user_id=leaving.id,
            to_unit_id=receiver.unit_id, to_user_id=receiver.id,
            ack_user_id=receiver.id, ack_method=receipt.method,
            note=clean_text(record.number, "note", 200), bag_id=envelope.bag_id))
        ctx.session.flush()
        item(RecordItemKind.ENVELOPE, envelope_id=envelope.id, bag_id=envelope.bag_id,
             handoff_id=handoff.id)
    for bag in held.bags:
        bag.holder_user_id = receiver.id
        ctx.session.expire(bag, ["holder_user"])
        item(RecordItemKind.BAG, bag_id=bag.id)
    for sheet in held.sheets:
        # the sheet's envelopes go to the receiver above, so the sheet is theirs to give
        sheet.giver_id = receiver.id
        ctx.session.expire(sheet, ["giver"])
        item(RecordItemKind.SHEET, sheet_id=sheet.id)
    _void_internal_sheets(ctx, leaving, now)
    ctx.session.flush()
    ctx.session.expire(record, ["items"])
    return record


def _void_internal_sheets(ctx: Ctx, leaving: User, now: Any) -> None:
    """Internal handover sheets (docs/rules.md, rule A8) that name the leaving person as giver
    or receiver and are not yet used up are cancelled: what they list was handed over above
    (as giver), or stays with its giver (as receiver), and a paper receipt can name a sheet
    only while both people on it still hold their posts."""
    sheets = ctx.session.execute(
        select(InternalSheet).where(
            or_(InternalSheet.giver_id == leaving.id, InternalSheet.receiver_id == leaving.id),
            InternalSheet.status.in_([SheetStatus.OPEN, SheetStatus.SIGNED]))
    ).unique().scalars()
    for sheet in sheets:
        sheet.status = SheetStatus.CANCELLED
        sheet.cancelled_at = now


def get_record(ctx: Ctx, number: str) -> HandoverRecord:
    code = clean_text(number, "record", 48, required=True).upper()
    record = ctx.session.execute(
        select(HandoverRecord).where(HandoverRecord.number == code)
    ).unique().scalar_one_or_none()
    if record is None:
        raise UnknownHandoverRecordError(number=code)
    return record


def records_of(ctx: Ctx, user: User, limit: int = 50) -> list[HandoverRecord]:
    """The handover records the user gave or received, newest first."""
    return list(ctx.session.execute(
        select(HandoverRecord).where(or_(HandoverRecord.giver_id == user.id,
                                         HandoverRecord.receiver_id == user.id))
        .order_by(HandoverRecord.id.desc()).limit(limit)).unique().scalars())
