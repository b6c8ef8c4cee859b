"""Internal circulation from a device at an agency (luân chuyển nội bộ, docs/rules.md rule
A7): ``POST /api/v1/envelopes/{number}/circulate`` passes an envelope to a colleague of the
unit, who signs with their PIN or staff badge; ``GET /api/v1/held`` lists what one person of
the device's unit holds. Same receipts, scan-id idempotency and error bodies as
``/handoffs``."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from kt1.api.auth import device, operator, require_device
from kt1.api.handoffs import receipt_from
from kt1.api.inputs import Schema
from kt1.api.schemas import CirculateIn, EnvelopeOut, ErrorOut, HandoffResultOut
from kt1.api.serialize import envelope_out, recorded_out
from kt1.database import service_context
from kt1.models.enums import EventKind, SealState
from kt1.services import worklists as wl
from kt1.services.custody import HandoffRequest, record_handoff
from kt1.services.directory import find_user

blp = Blueprint("circulate", __name__,
                description="Internal circulation inside an agency (luân chuyển nội bộ)")
blp.before_request(require_device)

HELD_LIMIT = 500


class HeldQuery(Schema):
    operator = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "Username of the person at the device"})


class HeldOut(Schema):
    operator = fields.String(required=True)
    envelopes = fields.List(fields.Nested(EnvelopeOut), required=True)


@blp.route("/envelopes/<string:number>/circulate")
class Circulate(MethodView):
    @blp.arguments(CirculateIn)
    @blp.response(201, HandoffResultOut, description="Recorded")
    @blp.alt_response(200, schema=HandoffResultOut, description="Replay of an earlier scan id")
    @blp.alt_response(403, schema=ErrorOut, description="wrong_unit, forbidden")
    @blp.alt_response(404, schema=ErrorOut, description="unknown_envelope")
    @blp.alt_response(409, schema=ErrorOut,
                      description="not_current_holder, event_out_of_order, addressee_first, "
                                  "scan_id_conflict")
    @blp.alt_response(422, schema=ErrorOut,
                      description="direction_needs_head, handed_to_self, "
                                  "acknowledgement_invalid, giver_identification_missing, "
                                  "invalid_field")
    def post(self, data: dict[str, Any], number: str) -> tuple[dict[str, Any], int]:
        """Pass a held envelope to a colleague of the unit, who signs (PIN or badge).

        Allowed inside the sender before a post office accepts the envelope, and inside the
        recipient after its incoming register; for direction only to a head of the unit;
        an addressee-only envelope only once its named person has it. 201 when new; 200
        with the same body when the scan id is replayed.
        """
        ctx = service_context()
        actor = operator(data["operator"])
        giver = find_user(ctx, data["giver"]) if data.get("giver") else actor
        receiver = find_user(ctx, data["receiver"])
        rec = record_handoff(ctx, actor, HandoffRequest(
            number=number, kind=EventKind(data["kind"]), scan_id=data["scan_id"],
            event_at=data["event_at"], giver=giver, receiver=receiver,
            receipt=receipt_from(ctx, data["receipt"], receiver.username),
            giver_receipt=receipt_from(ctx, data.get("giver_receipt"), giver.username),
            location=data.get("location", ""), device=device().name,
            note=data.get("note", ""), seal_state=SealState.NOT_APPLICABLE))
        return recorded_out(ctx.session, rec), 200 if rec.replayed else 201


@blp.route("/held")
class Held(MethodView):
    @blp.arguments(HeldQuery, location="query")
    @blp.response(200, HeldOut)
    @blp.alt_response(403, schema=ErrorOut, description="wrong_unit, forbidden")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """What one person of the device's unit holds now (most recently moved first)."""
        ctx = service_context()
        actor = operator(args["operator"])
        items = ctx.session.execute(wl.held_by(actor).limit(HELD_LIMIT)).unique().scalars()
        return {"operator": actor.username,
                "envelopes": [envelope_out(ctx.session, e) for e in items]}
