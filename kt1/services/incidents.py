"""Incidents (sự cố): reported to the head of the unit and notified to the sender (rule 7)."""

from __future__ import annotations

from sqlalchemy import select

from kt1.errors import (
    ForbiddenError,
    UnknownEnvelopeError,
    UnknownIncidentError,
    ValidationError,
)
from kt1.models import Incident, User
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

    The head of the reporting unit is notified at once; the sender is notified unless the
    reporter says otherwise (the time of each notice is recorded).
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
        report=text, details={}, opened_at=now, head_notified_at=now,
        sender_notified_at=now if notify_sender else None,
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
