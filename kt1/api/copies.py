"""Copies from a device at an agency (sao, chụp; docs/domain.md §8, issue 12):
``POST /api/v1/envelopes/{number}/copies`` registers copies of a document the device's unit
holds, approved by a person entitled to allow copies there; each copy is an envelope of its
own with "Bản số n/N". Same operator, scan-id idempotency and error bodies as ``/handoffs``.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from kt1.api.auth import operator, require_device
from kt1.api.inputs import Schema
from kt1.api.schemas import EnvelopeOut, ErrorOut
from kt1.api.serialize import envelope_out
from kt1.database import service_context
from kt1.models.enums import CopyMethod
from kt1.services import copies

blp = Blueprint("copies", __name__, description="Copies of secret documents (sao, chụp)")
blp.before_request(require_device)


class CopiesIn(Schema):
    operator = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "The registry clerk at the device"})
    approved_by = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                metadata={"description": "Username of the person who allowed "
                                                         "the copies"})
    approved_on = fields.Date(load_default=None,
                              metadata={"description": "Approval date (default: today)"})
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=99))
    method = fields.String(load_default=CopyMethod.PHOTOCOPY.value,
                           validate=validate.OneOf([m.value for m in CopyMethod]))
    recipient_unit = fields.String(load_default=None, validate=validate.Length(max=32))
    recipient_name = fields.String(load_default="", validate=validate.Length(max=120))
    copy_no = fields.Integer(load_default=None, validate=validate.Range(min=1),
                             metadata={"description": "A copy already numbered on paper"})
    scan_id = fields.String(required=True, validate=validate.Length(min=8, max=64))


class CopyOut(Schema):
    envelope = fields.Nested(EnvelopeOut)
    copy_no = fields.Integer()
    copy_total = fields.Integer()
    copy_label = fields.String()
    register_no = fields.String(metadata={"description": "Number in the copy register"})
    method = fields.String()
    approved_by = fields.String()
    approved_on = fields.Date()


class CopiesOut(Schema):
    original = fields.String()
    copies = fields.List(fields.Nested(CopyOut))


@blp.route("/envelopes/<string:number>/copies")
class Copies(MethodView):
    @blp.arguments(CopiesIn)
    @blp.response(201, CopiesOut, description="Registered")
    @blp.alt_response(403, schema=ErrorOut, description="wrong_unit, forbidden")
    @blp.alt_response(404, schema=ErrorOut, description="unknown_envelope, unknown_unit")
    @blp.alt_response(409, schema=ErrorOut,
                      description="original_destroyed, copy_forbidden, copy_of_copy, "
                                  "copy_number_taken, copy_number_out_of_sequence, "
                                  "scan_id_conflict")
    @blp.alt_response(422, schema=ErrorOut,
                      description="copy_approver_not_entitled, invalid_field")
    def post(self, data: dict[str, Any], number: str) -> tuple[dict[str, Any], int]:
        """Register copies of a document the device's unit holds (a registry clerk).

        Each copy gets its own item number, "Bản số n/N" after the document's earlier
        copies, and a number in the unit's copy register. 201 with the copies; a replayed
        scan id answers with the same copies.
        """
        ctx = service_context()
        actor = operator(data["operator"])
        made = copies.make_copies(
            ctx, actor, number, approved_by=data["approved_by"],
            approved_on=data["approved_on"], count=data["count"], method=data["method"],
            recipient_unit_code=data["recipient_unit"], recipient_name=data["recipient_name"],
            copy_no=data["copy_no"], scan_id=data["scan_id"])
        approver = data["approved_by"]
        return {"original": number.strip().upper(), "copies": [{
            "envelope": envelope_out(ctx.session, c), "copy_no": c.copy_no,
            "copy_total": c.copy_total, "copy_label": c.copy_label,
            "register_no": copies.register_number(c), "method": str(c.copy_method),
            "approved_by": approver, "approved_on": c.copy_approved_on} for c in made]}, 201
