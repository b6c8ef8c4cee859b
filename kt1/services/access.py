"""Who may see and do what: one place for unit and role scoping, and receipt checks."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, exists, false, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kt1.errors import (
    AcknowledgementInvalidError,
    ForbiddenError,
)
from kt1.models import Bag, Envelope, Handoff, Unit, User
from kt1.models.enums import AckMethod, EnvelopeStatus, Role, UnitKind
from kt1.models.handover import HandoverLine, HandoverSheet, SheetStatus
from kt1.models.units import serving_office


def hash_secret(secret: str) -> str:
    """Password or PIN hash (werkzeug's scrypt)."""
    return generate_password_hash(secret, method="scrypt")


def check_secret(hashed: str | None, secret: str | None) -> bool:
    return bool(hashed and secret and check_password_hash(hashed, secret))


def badge_digest(code: str) -> str:
    """Badge codes are long random tokens, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(code.encode()).hexdigest()


def require_role(actor: User, *roles: Role) -> None:
    if not actor.is_active or actor.role not in roles:
        raise ForbiddenError()


def envelope_scope(unit_id: int, kind: UnitKind) -> ColumnElement[bool]:
    """The envelopes a unit may see (least privilege, docs/access.md).

    An agency sees what it sent, what is addressed to it, and what it holds or has held.
    A KT1 post office sees only what is or was in its custody, what an agency listed for it
    on a handover sheet, and what is in a bag bound for it. Anything else answers as a
    number that does not exist.
    """
    touched = exists().where(
        Handoff.envelope_id == Envelope.id,
        or_(Handoff.to_unit_id == unit_id, Handoff.from_unit_id == unit_id),
    )
    if kind is UnitKind.POST_OFFICE:
        on_sheet = exists().where(
            HandoverLine.envelope_id == Envelope.id,
            HandoverSheet.id == HandoverLine.sheet_id,
            HandoverSheet.post_office_id == unit_id,
            HandoverSheet.status != SheetStatus.CANCELLED,
        )
        bound_here = exists().where(Bag.id == Envelope.bag_id,
                                    Bag.destination_unit_id == unit_id)
        return or_(Envelope.holder_unit_id == unit_id, touched, on_sheet, bound_here)
    return or_(
        Envelope.sender_unit_id == unit_id,
        Envelope.recipient_unit_id == unit_id,
        Envelope.holder_unit_id == unit_id,
        touched,
    )


def visible_envelopes(actor: User) -> Select[Envelope]:
    """Envelopes the actor may see (:func:`envelope_scope` of their unit).

    Administrators see every envelope's metadata (never its subject); an inactive user
    sees nothing.
    """
    query = select(Envelope)
    if not actor.is_active:
        return query.where(false())
    if actor.role is Role.ADMINISTRATOR:
        return query
    return query.where(envelope_scope(actor.unit_id, actor.unit.kind))


def unit_sees_envelope(session: Session, unit: Unit, envelope_id: int) -> bool:
    """Does ``unit`` (a device's or a user's) see this envelope? One indexed query."""
    return session.execute(
        select(Envelope.id).where(Envelope.id == envelope_id,
                                  envelope_scope(unit.id, unit.kind))
    ).first() is not None


def may_see_envelope(session: Session, actor: User, envelope: Envelope) -> bool:
    """The single-envelope form of :func:`visible_envelopes`."""
    if not actor.is_active:
        return False
    if actor.role is Role.ADMINISTRATOR:
        return True
    if actor.unit_id == envelope.holder_unit_id:
        return True  # the common case of a write, without a query
    return unit_sees_envelope(session, actor.unit, envelope.id)


def bag_scope(unit_id: int) -> ColumnElement[bool]:
    """Bags a unit may see: made up at, bound for, or now held by it."""
    return or_(Bag.origin_unit_id == unit_id, Bag.destination_unit_id == unit_id,
               Bag.holder_unit_id == unit_id)


def visible_bags(actor: User) -> Select[Bag]:
    """Bags the actor may see (:func:`bag_scope` of their unit)."""
    query = select(Bag)
    if not actor.is_active:
        return query.where(false())
    if actor.role is Role.ADMINISTRATOR:
        return query
    return query.where(bag_scope(actor.unit_id))


def unit_sees_bag(unit_id: int, bag: Bag) -> bool:
    return unit_id in {bag.origin_unit_id, bag.destination_unit_id, bag.holder_unit_id}


def visible_sheets(actor: User) -> Select[HandoverSheet]:
    """Handover sheets the actor may see: those of their agency or taken to their office."""
    query = select(HandoverSheet)
    if not actor.is_active:
        return query.where(false())
    if actor.role is Role.ADMINISTRATOR:
        return query
    unit = actor.unit_id
    return query.where(or_(HandoverSheet.unit_id == unit, HandoverSheet.post_office_id == unit))


def serves(session: Session, post_office_id: int, unit_id: int) -> bool:
    """Is the KT1 post office one of those serving the agency (it accepts its envelopes)?"""
    return session.execute(
        select(serving_office.c.unit_id).where(serving_office.c.unit_id == unit_id,
                                               serving_office.c.post_office_id == post_office_id)
    ).first() is not None


def handover_parties(session: Session, envelope: Envelope) -> set[int]:
    """Units party to the envelope's current or next handover (who may report on it).

    The holder; the giver of the last handoff; and whoever is to take it next: the post
    office an open handover sheet lists it for, the office a bag carrying it is bound for,
    or the recipient agency while it is out for delivery.
    """
    parties = {envelope.holder_unit_id}
    last_giver = session.execute(
        select(Handoff.from_unit_id).where(Handoff.envelope_id == envelope.id)
        .order_by(Handoff.seq.desc()).limit(1)).scalar()
    if last_giver is not None:
        parties.add(last_giver)
    if envelope.status is EnvelopeStatus.REGISTERED:
        parties.update(session.execute(
            select(HandoverSheet.post_office_id)
            .join(HandoverLine, HandoverLine.sheet_id == HandoverSheet.id)
            .where(HandoverLine.envelope_id == envelope.id,
                   HandoverSheet.status == SheetStatus.OPEN)).scalars())
    if envelope.bag_id is not None:
        parties.update(session.execute(
            select(Bag.destination_unit_id, Bag.holder_unit_id)
            .where(Bag.id == envelope.bag_id)).one())
    if envelope.status in (EnvelopeStatus.OUT_FOR_DELIVERY, EnvelopeStatus.DELIVERY_FAILED):
        parties.add(envelope.recipient_unit_id)
    return parties


def can_see(actor: User, envelope: Envelope) -> bool:
    """Cheap check for one loaded envelope (without the history part of the scope)."""
    if not actor.is_active:
        return False
    if actor.role is Role.ADMINISTRATOR:
        return True
    if actor.unit.kind is UnitKind.POST_OFFICE:
        return actor.unit_id == envelope.holder_unit_id
    return actor.unit_id in {
        envelope.sender_unit_id, envelope.recipient_unit_id, envelope.holder_unit_id}


def can_read_subject(actor: User, envelope: Envelope) -> bool:
    """Only the sender unit's registry clerks and security officers read a subject."""
    return (
        actor.is_active
        and actor.unit_id == envelope.sender_unit_id
        and actor.role in (Role.REGISTRY_CLERK, Role.SECURITY_OFFICER)
    )


@dataclass(frozen=True)
class Receipt:
    """The receiver's acknowledgement (ký nhận) of a handoff, and how it was given."""

    user: User
    method: AckMethod
    secret: str | None = None  # PIN or badge code; checked, never stored or hashed into the chain
    reference: str | None = None  # paper handover-sheet number
    #: The actor this receipt was already checked for: one receipt signs many envelopes (a
    #: courier's round, a batch at the counter) and its scrypt PIN check runs once.
    checked_for: int | None = field(default=None, compare=False, repr=False)

    def fingerprint(self) -> dict[str, object]:
        return {"user": self.user.id, "method": str(self.method), "reference": self.reference}


def verify_receipt(actor: User, receipt: Receipt) -> None:
    """Check that the receipt really comes from ``receipt.user``."""
    user = receipt.user
    if not user.is_active:
        raise AcknowledgementInvalidError()
    if receipt.checked_for == actor.id:
        return
    ok = False
    if receipt.method is AckMethod.SESSION:
        ok = user.id == actor.id
    elif receipt.method is AckMethod.PIN:
        ok = check_secret(user.pin_hash, receipt.secret)
    elif receipt.method is AckMethod.BADGE:
        ok = bool(user.badge_hash and receipt.secret) and hmac.compare_digest(
            user.badge_hash or "", badge_digest(receipt.secret or ""))
    elif receipt.method is AckMethod.PAPER:
        ok = bool(receipt.reference) and actor.unit_id == user.unit_id
    if not ok:
        raise AcknowledgementInvalidError()
    object.__setattr__(receipt, "checked_for", actor.id)  # frozen: set once, after the check


def receipt_valid(actor: User, receipt: Receipt) -> bool:
    """:func:`verify_receipt` as a yes/no answer."""
    try:
        verify_receipt(actor, receipt)
    except AcknowledgementInvalidError:
        return False
    return True
