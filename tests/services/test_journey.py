"""An envelope's whole journey through the real services, on every backend."""

from __future__ import annotations

import itertools

from kt1.models import Envelope
from kt1.models.enums import EnvelopeStatus, EventKind
from kt1.services import custody
from kt1.services.chain import canonical, envelope_identity, link_hash
from kt1.services.context import Ctx
from tests.conftest import Clock, Network
from tests.journey import carry, register


def test_an_envelope_travels_from_registration_to_arrival_with_an_unbroken_chain(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope)
    envelope = ctx.session.get(Envelope, envelope.id)
    assert envelope is not None
    chain = custody.timeline(ctx, envelope)
    assert [h.kind for h in chain] == [
        EventKind.REGISTERED_OUTGOING, EventKind.ACCEPTED, EventKind.BAGGED,
        EventKind.BAG_SEALED, EventKind.DISPATCHED, EventKind.BAG_RECEIVED,
        EventKind.BAG_OPENED, EventKind.OUT_FOR_DELIVERY, EventKind.DELIVERED,
        EventKind.REGISTERED_INCOMING,
    ]
    assert envelope.status is EnvelopeStatus.ARRIVED
    assert envelope.holder_user_id == network["vt_hcm"].id
    assert envelope.incoming_seq == 1
    prev = "0" * 64
    for h in chain:
        identity = envelope_identity(envelope) if h.seq == 0 else None
        assert h.prev_hash == prev
        assert h.hash == link_hash(prev, canonical(h, identity))
        prev = h.hash
    assert envelope.last_hash == prev
    for before, after in itertools.pairwise(chain):
        assert after.from_user_id == before.to_user_id
        assert after.event_at >= before.event_at
