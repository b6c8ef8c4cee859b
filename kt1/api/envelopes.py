"""``GET /api/v1/envelopes/{number}``: look up a scanned code."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import exists, or_, select

from kt1.api.auth import device, require_device
from kt1.api.schemas import EnvelopeOut, ErrorOut
from kt1.api.serialize import envelope_out
from kt1.database import service_context
from kt1.errors import UnknownEnvelopeError
from kt1.models import Envelope, Handoff
from kt1.models.enums import UnitKind
from kt1.services.custody import load_envelope

blp = Blueprint("envelopes", __name__, description="Look up envelopes by their scanned number")
blp.before_request(require_device)


def device_may_see(envelope: Envelope) -> bool:
    """A post office sees the outer marks of any KT1 item presented to it (what the label
    shows); an agency sees only what it sent, receives, holds or has held."""
    dev = device()
    if dev.unit.kind is UnitKind.POST_OFFICE:
        return True
    unit = dev.unit_id
    if unit in (envelope.sender_unit_id, envelope.recipient_unit_id, envelope.holder_unit_id):
        return True
    touched = select(exists().where(
        Handoff.envelope_id == envelope.id,
        or_(Handoff.to_unit_id == unit, Handoff.from_unit_id == unit)))
    return bool(service_context().session.execute(touched).scalar())


@blp.route("/envelopes/<string:number>")
class EnvelopeLookup(MethodView):
    @blp.response(200, EnvelopeOut)
    @blp.alt_response(404, schema=ErrorOut, description="unknown_envelope")
    @blp.alt_response(422, schema=ErrorOut,
                      description="number_length_invalid, check_digit_invalid, ...")
    def get(self, number: str) -> dict[str, Any]:
        """Validate a scanned number and return what this device's unit may see of it."""
        ctx = service_context()
        envelope = load_envelope(ctx, number)
        if not device_may_see(envelope):
            # do not confirm that a number exists to a unit that may not see it
            raise UnknownEnvelopeError(number=envelope.number)
        return envelope_out(ctx.session, envelope)
