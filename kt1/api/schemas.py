"""marshmallow schemas at the API edge (scanner vendors read them in the OpenAPI document)."""

from __future__ import annotations

from marshmallow import fields, validate

from kt1.api.inputs import Schema
from kt1.models.enums import (
    INTERNAL_EVENTS,
    AckMethod,
    Authority,
    DeliveryFailure,
    EventKind,
    IncidentKind,
    SealState,
)
from kt1.services.chain import API_FIELDS
from kt1.services.custody import SINGLE_EVENTS

SCAN_ID = fields.String(
    required=True, validate=validate.Regexp(r"^[A-Za-z0-9._:-]{8,64}$"),
    metadata={"description": "Client-generated unique id of this scan (a UUID). "
                             "Replaying it returns the stored result."})
NUMBER = fields.String(
    required=True, validate=validate.Length(min=1, max=32),
    metadata={"description": "S10 item number as scanned, e.g. KT000000080VN",
              "example": "KT000000080VN"})
USERNAME = fields.String(validate=validate.Length(min=1, max=64))
EVENT_AT = fields.AwareDateTime(
    required=True, metadata={"description": "Device time of the scan, with its offset"})


class ReceiptIn(Schema):
    """How the receiver acknowledged (ký nhận): their PIN, a scan of their staff badge, or
    their signature on a sheet this system printed (``paper``, with the sheet's number)."""

    username = USERNAME
    method = fields.String(required=True, validate=validate.OneOf(
        [AckMethod.PIN.value, AckMethod.BADGE.value, AckMethod.PAPER.value]))
    secret = fields.String(load_only=True, validate=validate.Length(max=64),
                           metadata={"description": "PIN or badge code (never echoed)"})
    reference = fields.String(validate=validate.Length(max=64), metadata={
        "description": "For `paper`: the number of a sheet this system printed. At an "
                       "acceptance, the handover sheet (bảng kê giao) the giver's unit made "
                       "for this office, listing the item; at any other handoff, an internal "
                       "handover sheet (phiếu chuyển giao nội bộ) of the receiving unit for "
                       "this receiver, marked signed, with the item's line ticked. Anything "
                       "else is refused as `paper_receipt_unbound`."})


class WriteIn(Schema):
    scan_id = SCAN_ID
    operator = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "Username of the person at the device"})


class HandoffIn(WriteIn):
    number = NUMBER
    kind = fields.String(required=True, validate=validate.OneOf(
        sorted(k.value for k in SINGLE_EVENTS)))
    event_at = EVENT_AT
    giver = USERNAME
    receiver = USERNAME
    receipt = fields.Nested(ReceiptIn)
    giver_receipt = fields.Nested(ReceiptIn, metadata={
        "description": "The giver's identification when the operator is not the giver "
                       "(custody moves only with both sides present): their PIN or a scan "
                       "of their staff badge; for an acceptance, `paper` with the number of "
                       "the handover sheet that lists the item. `username` defaults to "
                       "`giver`."})
    location = fields.String(load_default="", validate=validate.Length(max=200))
    seal_state = fields.String(validate=validate.OneOf([s.value for s in SealState]))
    seal_number = fields.String(validate=validate.Length(max=64))
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))
    reason = fields.String(validate=validate.OneOf([r.value for r in DeliveryFailure]))
    authority = fields.String(validate=validate.OneOf([a.value for a in Authority]))
    note = fields.String(load_default="", validate=validate.Length(max=200))
    incident_report = fields.String(validate=validate.Length(max=2000))


class SignatureIn(Schema):
    """A person's identification at the device: their PIN, or a scan of their staff badge."""

    username = USERNAME
    method = fields.String(required=True, validate=validate.OneOf(
        [AckMethod.PIN.value, AckMethod.BADGE.value]))
    secret = fields.String(required=True, load_only=True, validate=validate.Length(
        min=1, max=64), metadata={"description": "PIN or badge code (never echoed)"})


class CirculateIn(WriteIn):
    """Internal circulation inside the unit that holds the envelope (luân chuyển nội bộ,
    docs/rules.md rule A7): the sender's before acceptance, the recipient's after the
    incoming register."""

    kind = fields.String(required=True, validate=validate.OneOf(
        sorted(k.value for k in INTERNAL_EVENTS)), metadata={
        "description": "`circulated_for_direction` (to a head of the unit, for direction), "
                       "`circulated_for_handling` (to an officer), `circulated_to_registry` "
                       "(back to the registry: filing, dispatch, return)"})
    event_at = EVENT_AT
    receiver = fields.String(required=True, validate=validate.Length(min=1, max=64),
                             metadata={"description": "Username of the colleague"})
    receipt = fields.Nested(SignatureIn, required=True, metadata={
        "description": "The receiver signs: PIN or staff badge. `username` defaults to "
                       "`receiver`."})
    giver = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "The holder handing it over; defaults to `operator`"})
    giver_receipt = fields.Nested(SignatureIn, metadata={
        "description": "The giver's identification when the operator is not the giver. "
                       "`username` defaults to `giver`."})
    note = fields.String(load_default="", validate=validate.Length(max=200), metadata={
        "description": "Direction (ý kiến chỉ đạo) or a short note; never the subject"})
    location = fields.String(load_default="", validate=validate.Length(max=200))


class BatchIn(Schema):
    items = fields.List(
        fields.Dict(), required=True, validate=validate.Length(min=1),
        metadata={"description": "Up to 500 handoffs (each shaped like HandoffIn), applied "
                                 "in order, each in its own transaction"})


class PartyOut(Schema):
    unit = fields.String()
    user = fields.String(allow_none=True)


def _handoff_out_fields() -> dict[str, fields.Field]:
    """The fields of :class:`HandoffOut`, one per exposed handoff field (``api`` in
    chain.HANDOFF_FIELDS); a dotted name makes a party (:class:`PartyOut`)."""
    out: dict[str, fields.Field] = {}
    for f in API_FIELDS:
        assert f.api is not None  # noqa: S101 (API_FIELDS holds exposed fields only)
        key, _, member = f.api.partition(".")
        if member:
            assert member in PartyOut._declared_fields  # noqa: S101
            # null when its first member (the unit) is, see serialize.handoff_out
            out.setdefault(key, fields.Nested(PartyOut, allow_none=f.nullable))
            continue
        kind = (fields.String if f.ref is not None or f.is_text
                else fields.DateTime if f.form == "time" else fields.Integer)
        out[key] = kind(allow_none=True) if f.nullable else kind()
    return out


#: One handoff as the API shows it (fields derived from chain.HANDOFF_FIELDS).
HandoffOut: type[Schema] = type("HandoffOut", (Schema,), _handoff_out_fields())


class ProtectionOut(Schema):
    """The document's protection term (docs/domain.md §8): the classification date, the
    end of the term (None: unclassified, or not recorded), where it is in its life
    (``protected``, ``partly_declassified``, ``declassified``, ``destroyed``), and whether
    it may be copied at all."""

    classified_on = fields.Date(allow_none=True)
    until = fields.Date(allow_none=True)
    secrecy = fields.String()
    copy_forbidden = fields.Boolean()


class EnvelopeOut(Schema):
    number = fields.String()
    letter = fields.String(allow_none=True)
    service = fields.String()
    agreed_at = fields.DateTime(allow_none=True)
    route = fields.String()
    sender = fields.Nested(PartyOut)
    recipient = fields.Nested(PartyOut)
    is_addressee_only = fields.Boolean()
    status = fields.String()
    holder = fields.Nested(PartyOut)
    bag = fields.String(allow_none=True)
    chain_length = fields.Integer()
    last_event_at = fields.DateTime(allow_none=True)
    protection = fields.Nested(ProtectionOut)


class WarningOut(Schema):
    """Something to point out beside a recorded handoff, never a refusal
    (``label_never_printed``: at acceptance, the envelope's label never came out of a
    printer, nor as a PDF)."""

    code = fields.String()
    message_vi = fields.String()
    message_en = fields.String()


class HandoffResultOut(Schema):
    handoff = fields.Nested(HandoffOut)
    envelope = fields.Nested(EnvelopeOut)
    warnings = fields.List(fields.Nested(WarningOut))


class ErrorOut(Schema):
    """Every error: ``errors.message_vi`` holds the Vietnamese message of a domain error,
    ``errors.json`` the fields that failed validation."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = fields.String(required=True, metadata={"description": "HTTP status name"})
    message = fields.String(required=True)
    errors = fields.Dict(required=True)
    error = fields.String(required=True,
                          metadata={"description": "Stable machine-readable slug"})


class BatchItemOut(Schema):
    index = fields.Integer()
    scan_id = fields.String(allow_none=True)
    status = fields.Integer()
    result = fields.Nested(HandoffResultOut, allow_none=True)
    error = fields.Nested(ErrorOut, allow_none=True)


class BatchOut(Schema):
    accepted = fields.Integer()
    replayed = fields.Integer()
    refused = fields.Integer()
    failed = fields.Integer(metadata={"description": "Items that failed unexpectedly (500 "
                                                    "internal_error, 503 database_unavailable)"})
    not_attempted = fields.Integer(metadata={"description": "Items after a database failure "
                                                           "(503 not_attempted): send again"})
    results = fields.List(fields.Nested(BatchItemOut))


class BagOpenIn(WriteIn):
    destination = fields.String(required=True, validate=validate.Length(min=1, max=32))


class BagAddIn(WriteIn):
    number = NUMBER
    event_at = EVENT_AT
    #: the reason to put in an envelope whose recipient the bag's destination does not serve
    route_override = fields.String(validate=validate.Length(max=200))


class BagSealIn(WriteIn):
    seal_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    tracker_id = fields.String(validate=validate.Length(max=64))
    event_at = EVENT_AT


class BagDispatchIn(WriteIn):
    courier = fields.String(required=True, validate=validate.Length(min=1, max=64))
    receipt = fields.Nested(ReceiptIn, required=True)
    vehicle = fields.String(required=True, validate=validate.Length(min=1, max=64))
    is_dedicated_vehicle = fields.Boolean(required=True)
    escort_name = fields.String(validate=validate.Length(max=120))
    event_at = EVENT_AT


class BagReceiveIn(WriteIn):
    courier = fields.String(required=True, validate=validate.Length(min=1, max=64))
    seal_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    seal_state = fields.String(load_default=SealState.INTACT.value, validate=validate.OneOf(
        [SealState.INTACT.value, SealState.BROKEN.value, SealState.MISMATCHED.value]))
    receipt = fields.Nested(ReceiptIn, required=True)
    courier_receipt = fields.Nested(ReceiptIn, metadata={
        "description": "The courier's identification (PIN or staff badge): a bag changes "
                       "hands only with both sides present. `username` defaults to "
                       "`courier`."})
    incident_report = fields.String(validate=validate.Length(max=2000))
    event_at = EVENT_AT


class BagUnpackIn(WriteIn):
    numbers = fields.List(fields.String(validate=validate.Length(min=1, max=32)),
                          required=True, validate=validate.Length(max=500))
    event_at = EVENT_AT


class ManifestLineOut(Schema):
    line_no = fields.Integer()
    number = fields.String()
    letter = fields.String(allow_none=True)
    found_at_opening = fields.Boolean(allow_none=True)


class BagOut(Schema):
    number = fields.String()
    origin = fields.String()
    destination = fields.String()
    status = fields.String()
    is_sealed = fields.Boolean()
    tracker_id = fields.String(allow_none=True)
    holder = fields.Nested(PartyOut)
    count = fields.Integer()
    lines = fields.List(fields.Nested(ManifestLineOut))


class BagResultOut(Schema):
    bag = fields.Nested(BagOut)
    incident_id = fields.Integer(allow_none=True)
    missing = fields.List(fields.String())
    extra = fields.List(fields.String())


class IncidentIn(Schema):
    operator = fields.String(required=True, validate=validate.Length(min=1, max=64))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in IncidentKind]))
    number = fields.String(validate=validate.Length(min=1, max=32))
    bag = fields.String(validate=validate.Length(min=1, max=48))
    report = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    notify_sender = fields.Boolean(load_default=True)


class IncidentOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    opened_at = fields.DateTime()
    head_notified_at = fields.DateTime(allow_none=True)
    sender_notified_at = fields.DateTime(allow_none=True)


class UnitOut(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)


class OperatorOut(Schema):
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True)


class DeviceOut(Schema):
    name = fields.String(required=True)
    unit = fields.Nested(UnitOut, required=True)
    operators = fields.List(fields.Nested(OperatorOut), required=True)


__all__ = ["EventKind"]
