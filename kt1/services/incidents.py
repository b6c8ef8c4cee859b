"""Incidents (sự cố): reported, then told to the heads of the units involved and to the
sender (docs/rules.md, rules 7 and T2).

Every incident appears in the inbox (hộp thư sự cố) of its *recipients*: the heads of unit
(``User.is_unit_head``) of the units involved — the unit that reported it, the unit holding
the envelope or bag, the sending unit — and the security officers of the sending unit. The
first time a head opens it, the head is recorded as told (``head_notified_at`` / ``_by``);
the first time someone of the sending unit opens it, the sender is (``sender_notified_at`` /
``_by``). One of them acknowledges it ("đã nắm": ``acknowledged_at`` / ``_by``); until then
it counts in their header, and after ``KT1_INCIDENT_ACK_WORKING_DAYS`` working days verify
reports it. Anyone else is answered as for an incident that does not exist (docs/access.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, union

from kt1.errors import (
    ForbiddenError,
    UnknownEnvelopeError,
    UnknownIncidentError,
    ValidationError,
)
from kt1.models import Bag, Envelope, HandoverSheet, Incident, ManifestLine, Unit, User
from kt1.models.enums import IncidentKind, IncidentStatus, Role
from kt1.services.access import handover_parties, may_see_envelope
from kt1.services.bagging import get_bag
from kt1.services.context import Ctx
from kt1.services.custody import load_envelope
from kt1.services.text import clean_text
from kt1.services.tx import transactional

REPORTING_ROLES = (Role.REGISTRY_CLERK, Role.COUNTER_CLERK, Role.COURIER, Role.SECURITY_OFFICER)


@transactional
def report_incident(ctx: Ctx, actor: User, kind: IncidentKind | str, report: str, *,
                    number: str | None = None, bag_number: str | None = None,
                    notify_sender: bool = True) -> Incident:
    """Open an incident on an envelope or a bag, with its report (biên bản).

    It goes to the inbox of its recipients (see the module); it is marked as told to the
    head and to the sender only when they open it. ``notify_sender=False``: the sending
    unit is not emailed (kt1/services/notices.py); it still has the incident in its inbox.
    """
    if actor.role not in REPORTING_ROLES or not actor.is_active:
        raise ForbiddenError()
    try:
        kind = IncidentKind(kind)
    except ValueError:
        raise ValidationError(field="kind", reason="unknown incident kind") from None
    text = clean_text(report, "report", 2000, required=True, multiline=True)
    if not number and not bag_number:
        raise ValidationError(field="number", reason="an envelope or a bag is required")
    envelope = load_envelope(ctx, number) if number else None
    if envelope is not None and not may_see_envelope(ctx.session, actor, envelope):
        raise UnknownEnvelopeError(number=envelope.number)  # as for a number that does not exist
    # A bag another unit handles answers as unknown too; every unit that may see a bag is a
    # party to its handovers (origin, destination, holder).
    bag = get_bag(ctx, bag_number, seen_by=actor.unit_id) if bag_number else None
    # Only a party to the item's current or next handover may report on it: an incident can
    # block receipts (rule 6), so nobody else may stop an envelope (docs/access.md).
    if envelope is not None and actor.unit_id not in handover_parties(ctx.session, envelope):
        raise ForbiddenError()
    now = ctx.now()
    incident = Incident(
        kind=kind, envelope_id=envelope.id if envelope else None,
        bag_id=bag.id if bag else None, unit_id=actor.unit_id, reported_by_id=actor.id,
        report=text, details={} if notify_sender else {"notify_sender": False},
        opened_at=now,
    )
    ctx.session.add(incident)
    ctx.session.flush()
    return incident


@transactional
def resolve_incident(ctx: Ctx, actor: User, incident_id: int, resolution: str) -> Incident:
    """Settle an incident (e.g. a reconciled discrepancy) so that receipts can be signed."""
    incident = ctx.session.get(Incident, incident_id)
    if incident is None:
        raise UnknownIncidentError(incident_id=incident_id)
    if actor.role not in (Role.SECURITY_OFFICER, Role.COUNTER_CLERK) or (
            actor.unit_id != incident.unit_id):
        raise ForbiddenError()
    if incident.status is IncidentStatus.RESOLVED:
        raise ValidationError(field="incident", reason="already resolved")
    incident.resolution = clean_text(resolution, "resolution", 2000, required=True,
                                     multiline=True)
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = ctx.now()
    incident.resolved_by_id = actor.id
    return incident


def open_incidents(ctx: Ctx, unit_id: int | None = None) -> list[Incident]:
    stmt = select(Incident).where(Incident.status == IncidentStatus.OPEN)
    if unit_id is not None:
        stmt = stmt.where(Incident.unit_id == unit_id)
    return list(ctx.session.execute(stmt.order_by(Incident.id)).scalars())


# --------------------------------------------------------------------------- the inbox


def _sending_incidents(unit_id: int) -> list[Select[Any]]:
    """Selects of the ids of incidents whose sending unit is ``unit_id``: the sender of the
    envelope, of an envelope on the bag's manifest, the unit that made the bag up, the agency
    whose handover sheet the discrepancy is about."""
    return [
        select(Incident.id).join(Envelope, Envelope.id == Incident.envelope_id)
        .where(Envelope.sender_unit_id == unit_id),
        select(Incident.id).join(ManifestLine, ManifestLine.bag_id == Incident.bag_id)
        .join(Envelope, Envelope.id == ManifestLine.envelope_id)
        .where(Envelope.sender_unit_id == unit_id, ManifestLine.removed_at.is_(None)),
        select(Incident.id).join(Bag, Bag.id == Incident.bag_id)
        .where(Bag.origin_unit_id == unit_id),
        select(HandoverSheet.incident_id.label("id"))
        .where(HandoverSheet.unit_id == unit_id, HandoverSheet.incident_id.is_not(None)),
    ]


def _involved_incidents(unit_id: int) -> list[Select[Any]]:
    """Selects of the ids of incidents ``unit_id`` is involved in: it reported it, holds
    the envelope or the bag, or sent it."""
    return [
        select(Incident.id).where(Incident.unit_id == unit_id),
        select(Incident.id).join(Envelope, Envelope.id == Incident.envelope_id)
        .where(Envelope.holder_unit_id == unit_id),
        select(Incident.id).join(Bag, Bag.id == Incident.bag_id)
        .where(Bag.holder_unit_id == unit_id),
        *_sending_incidents(unit_id),
    ]


def receives_incidents(user: User) -> bool:
    """Does this user have an incident inbox (a head of unit, a security officer)?"""
    return user.is_active and (user.is_unit_head or user.role is Role.SECURITY_OFFICER)


def _inbox_ids(user: User) -> Any:
    """The ids of the incidents ``user`` is a recipient of (a subquery), or None."""
    if not user.is_active:
        return None
    if user.is_unit_head:
        parts = _involved_incidents(user.unit_id)
    elif user.role is Role.SECURITY_OFFICER:
        parts = _sending_incidents(user.unit_id)
    else:
        return None
    return union(*parts).subquery()


def unacknowledged_count(ctx: Ctx, user: User) -> int:
    """How many of the user's incidents nobody has acknowledged yet (one query)."""
    ids = _inbox_ids(user)
    if ids is None:
        return 0
    return int(ctx.session.execute(
        select(func.count()).select_from(Incident)
        .where(Incident.id.in_(select(ids.c.id)), Incident.acknowledged_at.is_(None))
    ).scalar_one())


@dataclass(frozen=True)
class InboxRow:
    """One incident as the inbox lists it (no report text: it opens on its own page)."""

    id: int
    kind: IncidentKind
    status: IncidentStatus
    opened_at: datetime
    unit_code: str
    envelope_number: str | None
    bag_number: str | None
    acknowledged_at: datetime | None


def inbox(ctx: Ctx, user: User, limit: int = 200) -> list[InboxRow]:
    """The user's incidents, those not acknowledged first, newest first."""
    ids = _inbox_ids(user)
    if ids is None:
        return []
    rows = ctx.session.execute(
        select(Incident.id, Incident.kind, Incident.status, Incident.opened_at, Unit.code,
               Envelope.number, Bag.number, Incident.acknowledged_at)
        .join(Unit, Unit.id == Incident.unit_id)
        .outerjoin(Envelope, Envelope.id == Incident.envelope_id)
        .outerjoin(Bag, Bag.id == Incident.bag_id)
        .where(Incident.id.in_(select(ids.c.id)))
        .order_by(Incident.acknowledged_at.is_not(None), Incident.opened_at.desc(),
                  Incident.id.desc())
        .limit(limit)).all()
    return [InboxRow(*row) for row in rows]


@dataclass(frozen=True)
class IncidentUnits:
    """The units an incident concerns: all of them, and the sending ones."""

    involved: frozenset[int]
    sending: frozenset[int]


def incident_units(ctx: Ctx, incident: Incident) -> IncidentUnits:
    """The units involved in ``incident`` and the sending units among them."""
    session = ctx.session
    sending: set[int] = set()
    involved: set[int] = {incident.unit_id}
    if incident.envelope_id is not None:
        row = session.execute(select(Envelope.sender_unit_id, Envelope.holder_unit_id)
                              .where(Envelope.id == incident.envelope_id)).one()
        sending.add(row[0])
        involved.add(row[1])
    if incident.bag_id is not None:
        row = session.execute(select(Bag.origin_unit_id, Bag.holder_unit_id)
                              .where(Bag.id == incident.bag_id)).one()
        sending.add(row[0])
        involved.add(row[1])
        sending.update(session.execute(
            select(Envelope.sender_unit_id).distinct()
            .join(ManifestLine, ManifestLine.envelope_id == Envelope.id)
            .where(ManifestLine.bag_id == incident.bag_id,
                   ManifestLine.removed_at.is_(None))).scalars())
    sending.update(session.execute(select(HandoverSheet.unit_id)
                                   .where(HandoverSheet.incident_id == incident.id)).scalars())
    return IncidentUnits(involved=frozenset(involved | sending), sending=frozenset(sending))


def is_recipient(user: User, units: IncidentUnits) -> bool:
    if not user.is_active:
        return False
    return ((user.is_unit_head and user.unit_id in units.involved)
            or (user.role is Role.SECURITY_OFFICER and user.unit_id in units.sending))


def _own_incident(ctx: Ctx, user: User, incident_id: int) -> tuple[Incident, IncidentUnits]:
    """The incident if ``user`` is one of its recipients; anyone else is answered as for an
    incident that does not exist (docs/access.md: an item a unit may not see)."""
    incident = ctx.session.get(Incident, incident_id)
    if incident is None:
        raise UnknownIncidentError(incident_id=incident_id)
    units = incident_units(ctx, incident)
    if not is_recipient(user, units):
        raise UnknownIncidentError(incident_id=incident_id)
    return incident, units


def _mark_told(ctx: Ctx, user: User, incident: Incident, units: IncidentUnits) -> None:
    now = ctx.now()
    if user.is_unit_head and incident.head_notified_at is None:
        incident.head_notified_at, incident.head_notified_by_id = now, user.id
    if user.unit_id in units.sending and incident.sender_notified_at is None:
        incident.sender_notified_at, incident.sender_notified_by_id = now, user.id


@transactional
def open_notice(ctx: Ctx, user: User, incident_id: int) -> Incident:
    """A recipient opens an incident: the first head to open it is recorded as told, and the
    first of the sending unit as the sender told."""
    incident, units = _own_incident(ctx, user, incident_id)
    _mark_told(ctx, user, incident, units)
    return incident


@transactional
def acknowledge(ctx: Ctx, user: User, incident_id: int) -> Incident:
    """A recipient acknowledges the incident ("đã nắm"); pressing it again changes nothing."""
    incident, units = _own_incident(ctx, user, incident_id)
    _mark_told(ctx, user, incident, units)
    if incident.acknowledged_at is None:
        incident.acknowledged_at, incident.acknowledged_by_id = ctx.now(), user.id
    return incident


def recipients(ctx: Ctx, incident: Incident) -> list[User]:
    """Every active user whose inbox has ``incident``."""
    units = incident_units(ctx, incident)
    users = ctx.session.execute(select(User).where(
        User.is_active.is_(True),
        (User.is_unit_head.is_(True) & User.unit_id.in_(units.involved))
        | ((User.role == Role.SECURITY_OFFICER) & User.unit_id.in_(units.sending)),
    ).order_by(User.id)).unique().scalars()
    return list(users)
