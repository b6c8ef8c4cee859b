"""``POST /api/v1/envelopes/{number}/void``: the operator voids their own last scan of an
envelope within minutes, with the reason (hủy lần quét nhầm; docs/rules.md rule 5).

Nothing is deleted: a ``voided`` link gives the envelope back to whoever held it before the
mistaken scan (:func:`kt1.services.custody.void_last_scan` decides everything). Same scan-id
idempotency and error bodies as ``/handoffs``; another unit's envelope is answered exactly as
a number that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from kt1.api.auth import device, operator, require_device
from kt1.api.schemas import ErrorOut, HandoffResultOut, WriteIn
from kt1.api.serialize import recorded_out
from kt1.database import service_context
from kt1.services.custody import void_last_scan

blp = Blueprint("voids", __name__,
                description="Void one's own last scan within minutes (hủy lần quét nhầm)")
blp.before_request(require_device)


class VoidIn(WriteIn):
    """The operator at the device voids the last scan they recorded, with the reason."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "Why the scan is voided (kept in the chain's `voided` link); never "
                       "the subject"})


@blp.route("/envelopes/<string:number>/void")
class Void(MethodView):
    @blp.arguments(VoidIn)
    @blp.response(201, HandoffResultOut, description="Voided: the `voided` link and the "
                                                     "envelope as it is now")
    @blp.alt_response(200, schema=HandoffResultOut, description="Replay of an earlier scan id")
    @blp.alt_response(403, schema=ErrorOut, description="wrong_unit, forbidden")
    @blp.alt_response(404, schema=ErrorOut,
                      description="unknown_envelope (also for another unit's envelope)")
    @blp.alt_response(409, schema=ErrorOut,
                      description="void_not_allowed (the last scan is not the operator's, "
                                  "or sets a milestone, or the envelope is in a bag), "
                                  "void_window_passed (older than VOID_WINDOW_MINUTES), "
                                  "scan_id_conflict")
    @blp.alt_response(422, schema=ErrorOut,
                      description="invalid_field (an empty reason), check_digit_invalid, ...")
    def post(self, data: dict[str, Any], number: str) -> tuple[dict[str, Any], int]:
        """Void the envelope's last scan, recorded by this operator, who gave it away:
        going out for delivery, passing to the addressee, internal circulation.

        Allowed within `VOID_WINDOW_MINUTES` (10 by default) of the scan. The envelope goes
        back to the operator with the status it had before; the `voided` link keeps the
        reason. 201 when new; 200 with the same body when the scan id is replayed.
        """
        ctx = service_context()
        actor = operator(data["operator"])
        rec = void_last_scan(ctx, actor, number, data["reason"], data["scan_id"],
                             device=device().name)
        return recorded_out(ctx.session, rec), 200 if rec.replayed else 201
