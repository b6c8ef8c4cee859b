"""Registering an outgoing envelope (vào Sổ đăng ký BMNN đi) and numbering it."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select

from kt1.errors import (
    ForbiddenError,
    SubjectApprovalRequiredError,
    SubjectNotAllowedError,
    UnitInactiveError,
    UnknownUnitError,
    UnknownUserError,
    ValidationError,
)
from kt1.models import Envelope, Handoff, Unit, User
from kt1.models.enums import (
    AckMethod,
    Classification,
    EnvelopeStatus,
    EventKind,
    Role,
    Route,
    ServiceClass,
    SubjectPolicy,
    UnitKind,
    Urgency,
)
from kt1.services.context import Ctx
from kt1.services.custody import Link, append_link, claim_scan
from kt1.services.identifiers import allocate_number, next_value
from kt1.services.protection import registration_term
from kt1.services.provenance import clean_provenance
from kt1.services.subjects import SubjectCipher, local_date, subject_policy
from kt1.services.text import clean_scan_id, clean_text
from kt1.services.tx import transactional

E = TypeVar("E", bound=StrEnum)


def _enum(enum_cls: type[E], value: str, field: str) -> E:
    try:
        return enum_cls(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum_cls)
        raise ValidationError(field=field, reason=f"must be one of {allowed}") from None


@dataclass
class EnvelopeDraft:
    """What a registry clerk fills in to register an envelope."""

    classification: Classification | str
    recipient_unit_code: str
    document_number: str
    service: ServiceClass | str = ServiceClass.STANDARD
    agreed_at: datetime | None = None
    urgency: Urgency | str = Urgency.NORMAL
    recipient_name: str = ""
    recipient_username: str | None = None
    is_addressee_only: bool = False
    document_date: date | None = None
    copies: int = 1
    recall_by: date | None = None
    subject: str | None = None
    subject_approved_by: str | None = None
    # who drafted and signed the document, and why it is secret (docs/domain.md §8):
    # the drafter by username (a user of the sender unit) or by name
    drafter_username: str | None = None
    drafter_name: str | None = None
    signer_name: str | None = None
    signer_title: str | None = None
    classification_basis: str | None = None
    # "không được sao chụp", the day the classification was decided (default: the document
    # date) and a protection term shorter than the rule's, as the classifier wrote it
    # (docs/domain.md §8)
    copy_forbidden: bool = False
    classified_on: date | None = None
    protection_until: date | None = None
    scan_id: str | None = None
    event_at: datetime | None = None


def route_between(sender: Unit, recipient: Unit) -> Route:
    """Nội tỉnh when both units are in the same province, otherwise liên tỉnh."""
    same = sender.province_code == recipient.province_code
    return Route.INTRA_PROVINCE if same else Route.INTER_PROVINCE


@transactional
def register_envelope(ctx: Ctx, actor: User, draft: EnvelopeDraft) -> Envelope:
    """Register an envelope in the outgoing register and start its custody chain.

    Allocates the S10 number and the register number, derives the outer letter, the
    layers and the route, stores the subject only where the dated rule allows (encrypted),
    records the drafter, signer and classification basis the dated provenance rule asks for,
    and writes the first link (``registered_outgoing``) held by the registering clerk: from
    the drafter when the drafter is a user of the unit (their hand-over to the registry).
    """
    s = ctx.settings
    session = ctx.session
    if actor.role is not Role.REGISTRY_CLERK or not actor.is_active:
        raise ForbiddenError()
    if actor.unit.kind is not UnitKind.AGENCY:
        raise ForbiddenError("only an agency registers outgoing envelopes")

    classification = _enum(Classification, draft.classification, "classification")
    service = _enum(ServiceClass, draft.service, "service")
    urgency = _enum(Urgency, draft.urgency, "urgency")
    document_number = clean_text(draft.document_number, "document_number", 64, required=True)
    recipient_name = clean_text(draft.recipient_name, "recipient_name", 120)
    approved_by = clean_text(draft.subject_approved_by, "subject_approved_by", 120) or None
    subject = clean_text(draft.subject, "subject", 1000) or None
    if not 1 <= draft.copies <= 999:
        raise ValidationError(field="copies", reason="must be between 1 and 999")
    now = ctx.now()
    event_at = draft.event_at or now
    if event_at.tzinfo is None:  # checked before any comparison or local-date lookup
        raise ValidationError(field="event_at", reason="needs a time zone")
    if service is ServiceClass.TIMED:
        if draft.agreed_at is None or draft.agreed_at.tzinfo is None:
            raise ValidationError(field="agreed_at", reason="a Hẹn giờ item needs the agreed time")
        if draft.agreed_at <= event_at:
            raise ValidationError(field="agreed_at", reason="must be in the future")
    elif draft.agreed_at is not None:
        raise ValidationError(field="agreed_at", reason="only for Hẹn giờ items")
    if draft.is_addressee_only and not (recipient_name or draft.recipient_username):
        raise ValidationError(field="recipient_name", reason="required when addressee-only")

    recipient_unit = session.execute(
        select(Unit).where(Unit.code == draft.recipient_unit_code)).scalar_one_or_none()
    if recipient_unit is None:
        raise UnknownUnitError(code=clean_text(draft.recipient_unit_code, "recipient_unit", 32))
    if recipient_unit.kind is not UnitKind.AGENCY:
        raise ValidationError(field="recipient_unit", reason="must be an agency")
    if not recipient_unit.is_active:
        raise UnitInactiveError(unit=recipient_unit.code)
    recipient_user = None
    if draft.recipient_username:
        recipient_user = session.execute(
            select(User).where(User.username == draft.recipient_username)).scalar_one_or_none()
        if recipient_user is None:
            raise UnknownUserError(username=draft.recipient_username)
        if recipient_user.unit_id != recipient_unit.id:
            raise ValidationError(field="recipient_username", reason="not in the recipient unit")
        recipient_name = recipient_name or recipient_user.full_name

    provenance = clean_provenance(
        session, actor, classification, local_date(now),
        drafter_username=draft.drafter_username, drafter_name=draft.drafter_name,
        signer_name=draft.signer_name, signer_title=draft.signer_title,
        classification_basis=draft.classification_basis)
    drafter = provenance.drafter_user
    term = registration_term(
        session, classification, classified_on=draft.classified_on,
        shorter_until=draft.protection_until, document_date=draft.document_date,
        registered_on=local_date(event_at))

    ciphertext = None
    if subject:
        policy = subject_policy(session, classification, local_date(now))
        if policy is SubjectPolicy.FORBIDDEN:
            raise SubjectNotAllowedError(classification=classification.label_vi)
        if policy is SubjectPolicy.APPROVAL_REQUIRED and not approved_by:
            raise SubjectApprovalRequiredError()
        ciphertext = SubjectCipher(s.subject_key).encrypt(subject)
    elif approved_by:
        approved_by = None  # an approval without a subject records nothing

    scan_id = clean_scan_id(draft.scan_id) if draft.scan_id else f"reg-{uuid.uuid4()}"
    if draft.scan_id:
        # Every field of the draft, so that a reused scan id with other content is refused
        # rather than answered with a different envelope. The subject enters only as a
        # keyed digest: the scan table must not hold a guessable hash of a trích yếu.
        subject_mac = hmac.new(s.subject_key.encode(), subject.encode(),
                               hashlib.sha256).hexdigest() if subject else None
        earlier = claim_scan(session, scan_id, "register", {
            "classification": str(classification), "recipient": recipient_unit.code,
            "document_number": document_number, "service": str(service),
            "agreed_at": draft.agreed_at.isoformat() if draft.agreed_at else None,
            "urgency": str(urgency), "recipient_name": recipient_name,
            "recipient_username": draft.recipient_username,
            "addressee_only": draft.is_addressee_only,
            "document_date": draft.document_date.isoformat() if draft.document_date else None,
            "copies": draft.copies,
            "recall_by": draft.recall_by.isoformat() if draft.recall_by else None,
            "subject": subject_mac, "subject_approved_by": approved_by,
            "event_at": draft.event_at.isoformat() if draft.event_at else None,
            # only when set, so that a scan claimed before these fields existed replays
            **{k: v for k, v in (
                ("drafter_username", drafter.username if drafter else None),
                ("drafter_name", provenance.drafter_name),
                ("signer_name", provenance.signer_name),
                ("signer_title", provenance.signer_title),
                ("classification_basis", provenance.classification_basis),
                ("copy_forbidden", True if draft.copy_forbidden else None),
                ("classified_on", draft.classified_on.isoformat()
                 if draft.classified_on else None),
                ("protection_until", draft.protection_until.isoformat()
                 if draft.protection_until else None)) if v is not None},
        }, actor)
        if earlier is not None:
            return session.execute(
                select(Envelope).join(Handoff, Handoff.envelope_id == Envelope.id)
                .where(Handoff.scan_id == scan_id)).unique().scalar_one()

    envelope = Envelope(
        classification=classification,
        mark=classification.mark,
        layers=classification.layers,
        service=service,
        agreed_at=draft.agreed_at,
        route=route_between(actor.unit, recipient_unit),
        urgency=urgency,
        recipient_unit_id=recipient_unit.id,
        recipient_name=recipient_name,
        recipient_user_id=recipient_user.id if recipient_user else None,
        is_addressee_only=draft.is_addressee_only,
        document_number=document_number,
        document_date=draft.document_date,
        copies=draft.copies,
        recall_by=draft.recall_by,
        subject_ciphertext=ciphertext,
        subject_approved_by=approved_by,
        drafter_user_id=drafter.id if drafter else None,
        drafter_name=provenance.drafter_name,
        signer_name=provenance.signer_name,
        signer_title=provenance.signer_title,
        classification_basis=provenance.classification_basis,
        copy_forbidden=draft.copy_forbidden,
        classified_on=term.classified_on,
        protection_until=term.until,
    )
    start_outgoing(ctx, actor, envelope, scan_id=scan_id, event_at=event_at, giver=drafter)
    return envelope


def start_outgoing(ctx: Ctx, actor: User, envelope: Envelope, *, scan_id: str,
                   event_at: datetime, giver: User | None = None) -> Envelope:
    """Enter an envelope the caller built (its document's facts) in the actor's unit's
    outgoing register (Sổ đăng ký BMNN đi) and start its custody chain.

    Gives it a fresh S10 number and the next register number of the year, sets who
    registered it and when, and writes the first link (``registered_outgoing``) held by
    the registering clerk, from ``giver`` when a user of the unit handed the document to the
    registry (the drafter). Used by registration and by copies (kt1/services/copies.py).
    """
    s = ctx.settings
    session = ctx.session
    year = local_date(event_at).year
    envelope.number = allocate_number(session, s.service_letters, s.country_code)
    envelope.sender_unit_id = actor.unit_id
    envelope.register_year = year
    envelope.register_seq = next_value(session, f"out:{actor.unit_id}:{year}")
    envelope.registered_at = ctx.now()
    envelope.registered_by_id = actor.id
    envelope.status = EnvelopeStatus.REGISTERED
    envelope.holder_unit_id = actor.unit_id
    envelope.holder_user_id = actor.id
    session.add(envelope)
    session.flush()
    append_link(ctx, envelope, Link(
        kind=EventKind.REGISTERED_OUTGOING, scan_id=scan_id, event_at=event_at,
        recorded_by=actor, to_unit_id=actor.unit_id, to_user_id=actor.id,
        from_unit_id=actor.unit_id if giver else None,
        from_user_id=giver.id if giver else None,
        location=actor.unit.code, ack_user_id=actor.id, ack_method=AckMethod.SELF,
    ))
    return envelope
