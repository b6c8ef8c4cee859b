"""Receiving envelopes at the recipient agency (vào Sổ đăng ký BMNN đến, docs/rules.md, rule 9).

The registry clerk scans each envelope the courier brings: when the courier has not yet
recorded the delivery on his device, the clerk's scan records it (the clerk, signed in,
is the receiver who signs), and the envelope goes into the incoming register at once, in
one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kt1.errors import ForbiddenError, WrongUnitError
from kt1.models import Envelope, User
from kt1.models.enums import AckMethod, EnvelopeStatus, EventKind, Role
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.custody import HandoffRequest, record_in
from kt1.services.tx import transactional
from kt1.services.worklists import find_envelope


@dataclass
class Arrival:
    """An envelope entered in the incoming register, and whether the delivery was
    recorded by this scan too."""

    envelope: Envelope
    incoming_number: str
    took_delivery: bool


@transactional
def receive_incoming(ctx: Ctx, clerk: User, number: str, scan_id: str,
                     event_at: datetime | None = None,
                     courier_receipt: Receipt | None = None) -> Arrival:
    """Take an envelope from the courier if needed, then register its arrival.

    Taking it from the courier is a handover with both sides present: the courier
    identifies with his PIN or staff badge (``courier_receipt``).
    """
    if clerk.role is not Role.REGISTRY_CLERK or not clerk.is_active:
        raise ForbiddenError()
    envelope = find_envelope(ctx, clerk, number)
    if envelope.recipient_unit_id != clerk.unit_id:
        raise WrongUnitError(username=clerk.username, unit=envelope.recipient_unit.code)
    at = event_at or ctx.now()
    took = False
    if envelope.status in (EnvelopeStatus.OUT_FOR_DELIVERY, EnvelopeStatus.DELIVERY_FAILED):
        record_in(ctx, clerk, HandoffRequest(
            number=envelope.number, kind=EventKind.DELIVERED, scan_id=f"{scan_id}:d",
            event_at=at, giver=envelope.holder_user, receiver=clerk,
            receipt=Receipt(user=clerk, method=AckMethod.SESSION),
            giver_receipt=courier_receipt, location=clerk.unit.code))
        # The holder moved to the clerk: reload the relationship the next check reads.
        ctx.session.expire(envelope, ["holder_user", "holder_unit"])
        took = True
    recorded = record_in(ctx, clerk, HandoffRequest(
        number=envelope.number, kind=EventKind.REGISTERED_INCOMING, scan_id=scan_id,
        event_at=at, location=clerk.unit.code))
    env = recorded.envelope
    return Arrival(envelope=env, incoming_number=f"{env.incoming_year}/{env.incoming_seq:06d}",
                   took_delivery=took)
