"""Who may see and do what: one place for unit and role scoping, and receipt checks."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from sqlalchemy import Select, exists, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from kt1.errors import (
    AcknowledgementInvalidError,
    ForbiddenError,
)
from kt1.models import Bag, Envelope, Handoff, User
from kt1.models.enums import AckMethod, Role
from kt1.models.handover import HandoverSheet


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


def visible_envelopes(actor: User) -> Select[Envelope]:
    """Envelopes the actor may see: those sent by, addressed to, or ever held by their unit.

    Administrators see every envelope's metadata (never its subject).
    """
    query = select(Envelope)
    if actor.role is Role.ADMINISTRATOR:
        return query
    unit = actor.unit_id
    touched = exists().where(
        Handoff.envelope_id == Envelope.id,
        or_(Handoff.to_unit_id == unit, Handoff.from_unit_id == unit),
    )
    return query.where(or_(
        Envelope.sender_unit_id == unit,
        Envelope.recipient_unit_id == unit,
        Envelope.holder_unit_id == unit,
        touched,
    ))


def visible_bags(actor: User) -> Select[Bag]:
    """Bags the actor may see: made up at, bound for, or now held by their unit."""
    query = select(Bag)
    if actor.role is Role.ADMINISTRATOR:
        return query
    unit = actor.unit_id
    return query.where(or_(
        Bag.origin_unit_id == unit, Bag.destination_unit_id == unit, Bag.holder_unit_id == unit))


def visible_sheets(actor: User) -> Select[HandoverSheet]:
    """Handover sheets the actor may see: those of their agency or taken to their office."""
    query = select(HandoverSheet)
    if actor.role is Role.ADMINISTRATOR:
        return query
    unit = actor.unit_id
    return query.where(or_(HandoverSheet.unit_id == unit, HandoverSheet.post_office_id == unit))


def can_see(actor: User, envelope: Envelope) -> bool:
    """Cheap check for one loaded envelope (the chain part is checked by the caller's query)."""
    if not actor.is_active:
        return False
    if actor.role is Role.ADMINISTRATOR:
        return True
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

    def fingerprint(self) -> dict[str, object]:
        return {"user": self.user.id, "method": str(self.method), "reference": self.reference}


def verify_receipt(actor: User, receipt: Receipt) -> None:
    """Check that the receipt really comes from ``receipt.user``."""
    user = receipt.user
    if not user.is_active:
        raise AcknowledgementInvalidError()
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
