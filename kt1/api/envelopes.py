"""``GET /api/v1/envelopes/{number}``: look up a scanned code."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from kt1.api.auth import device, require_device
from kt1.api.schemas import EnvelopeOut, ErrorOut
from kt1.api.serialize import envelope_out
from kt1.database import service_context
from kt1.errors import UnknownEnvelopeError
from kt1.services.access import unit_sees_envelope
from kt1.services.custody import load_envelope

blp = Blueprint("envelopes", __name__, description="Look up envelopes by their scanned number")
blp.before_request(require_device)


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
        if not unit_sees_envelope(ctx.session, device().unit, envelope.id):
            # do not confirm that a number exists to a unit that may not see it
            raise UnknownEnvelopeError(number=envelope.number)
        return envelope_out(ctx.session, envelope)
