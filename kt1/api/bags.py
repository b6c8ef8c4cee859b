"""Bag operations for counter scanners: open, add, seal, dispatch, receive, open (unpack)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from kt1.api.auth import device, operator, require_device
from kt1.api.handoffs import receipt_from
from kt1.api.schemas import (
    BagAddIn,
    BagDispatchIn,
    BagOpenIn,
    BagOut,
    BagReceiveIn,
    BagResultOut,
    BagSealIn,
    BagUnpackIn,
    ErrorOut,
)
from kt1.api.serialize import bag_out, bag_result_out
from kt1.database import service_context
from kt1.models.enums import SealState
from kt1.services import bagging
from kt1.services.bagging import BagResult
from kt1.services.directory import find_user

blp = Blueprint("bags", __name__, description="Bags (túi thư) and their manifests")
blp.before_request(require_device)


def _reply(res: BagResult) -> tuple[dict[str, Any], int]:
    return bag_result_out(service_context().session, res), 200 if res.replayed else 201


@blp.route("/bags")
class Bags(MethodView):
    @blp.arguments(BagOpenIn)
    @blp.response(201, BagResultOut)
    @blp.alt_response(200, schema=BagResultOut, description="Replay")
    def post(self, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """Start a bag at this post office for another post office."""
        return _reply(bagging.open_bag(service_context(), operator(data["operator"]),
                                       data["destination"], data["scan_id"]))


@blp.route("/bags/<string:bag>")
class BagView(MethodView):
    @blp.response(200, BagOut)
    @blp.alt_response(404, schema=ErrorOut, description="unknown_bag")
    def get(self, bag: str) -> dict[str, Any]:
        """A bag and its manifest, for the units it travels between."""
        ctx = service_context()
        # a bag of other units answers exactly as a number that does not exist
        found = bagging.get_bag(ctx, bag, seen_by=device().unit_id)
        return bag_out(ctx.session, found)


@blp.route("/bags/<string:bag>/envelopes")
class BagEnvelopes(MethodView):
    @blp.arguments(BagAddIn)
    @blp.response(201, BagResultOut)
    @blp.alt_response(200, schema=BagResultOut, description="Replay")
    @blp.alt_response(409, schema=ErrorOut,
                      description="envelope_in_bag, bag_state_invalid, route_mismatch")
    def post(self, data: dict[str, Any], bag: str) -> tuple[dict[str, Any], int]:
        """Put a scanned envelope into an open bag (listed on the manifest). One whose
        recipient the bag's destination office does not serve is refused
        (``route_mismatch``) unless ``route_override`` gives the reason."""
        return _reply(bagging.add_to_bag(service_context(), operator(data["operator"]), bag,
                                         data["number"], data["scan_id"], data["event_at"],
                                         device=device().name,
                                         route_override=data.get("route_override")))


@blp.route("/bags/<string:bag>/seal")
class BagSeal(MethodView):
    @blp.arguments(BagSealIn)
    @blp.response(201, BagResultOut)
    @blp.alt_response(200, schema=BagResultOut, description="Replay")
    @blp.alt_response(409, schema=ErrorOut, description="bag_already_sealed, bag_empty")
    def post(self, data: dict[str, Any], bag: str) -> tuple[dict[str, Any], int]:
        """Seal the bag with a numbered seal (Tuyệt mật contents need a tracker)."""
        return _reply(bagging.seal_bag(service_context(), operator(data["operator"]), bag,
                                       data["seal_number"], data["scan_id"], data["event_at"],
                                       tracker_id=data.get("tracker_id"),
                                       device=device().name))


@blp.route("/bags/<string:bag>/dispatch")
class BagDispatch(MethodView):
    @blp.arguments(BagDispatchIn)
    @blp.response(201, BagResultOut)
    @blp.alt_response(200, schema=BagResultOut, description="Replay")
    def post(self, data: dict[str, Any], bag: str) -> tuple[dict[str, Any], int]:
        """Hand the sealed bag to a courier, who signs for it."""
        ctx = service_context()
        courier = find_user(ctx, data["courier"])
        return _reply(bagging.dispatch_bag(
            ctx, operator(data["operator"]), bag, courier,
            receipt_from(ctx, data["receipt"], courier.username), data["scan_id"],
            data["event_at"], vehicle=data["vehicle"],
            is_dedicated_vehicle=data["is_dedicated_vehicle"],
            escort_name=data.get("escort_name"), device=device().name))


@blp.route("/bags/<string:bag>/receive")
class BagReceive(MethodView):
    @blp.arguments(BagReceiveIn)
    @blp.response(201, BagResultOut)
    @blp.alt_response(200, schema=BagResultOut, description="Replay")
    @blp.alt_response(409, schema=ErrorOut, description="seal_mismatch")
    def post(self, data: dict[str, Any], bag: str) -> tuple[dict[str, Any], int]:
        """Take the bag from the courier and check its seal number."""
        ctx = service_context()
        actor = operator(data["operator"])
        courier = find_user(ctx, data["courier"])
        return _reply(bagging.receive_bag(
            ctx, actor, bag, courier, data["seal_number"],
            receipt_from(ctx, data["receipt"], actor.username), data["scan_id"],
            data["event_at"], seal_state=SealState(data["seal_state"]),
            incident_report=data.get("incident_report"), device=device().name,
            courier_receipt=receipt_from(ctx, data.get("courier_receipt"), courier.username)))


@blp.route("/bags/<string:bag>/open")
class BagUnpack(MethodView):
    @blp.arguments(BagUnpackIn)
    @blp.response(201, BagResultOut, description="Opened; `missing` and `extra` list the "
                                                 "differences from the manifest")
    @blp.alt_response(200, schema=BagResultOut, description="Replay")
    def post(self, data: dict[str, Any], bag: str) -> tuple[dict[str, Any], int]:
        """Open a received bag and check the scanned contents against the manifest."""
        return _reply(bagging.open_bag_contents(
            service_context(), operator(data["operator"]), bag, data["numbers"],
            data["scan_id"], data["event_at"], device=device().name))
