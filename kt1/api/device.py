"""``GET /api/v1/device``: who this token is, and who may work at it (the scan page's set-up)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from kt1.api.auth import OPERATOR_ROLES, device, require_device
from kt1.api.schemas import DeviceOut, ErrorOut
from kt1.database import service_context
from kt1.services.directory import active_users_of

blp = Blueprint("device", __name__, description="The device this token belongs to")
blp.before_request(require_device)


@blp.route("/device")
class DeviceInfo(MethodView):
    @blp.response(200, DeviceOut)
    @blp.alt_response(401, schema=ErrorOut, description="token_missing, token_invalid, "
                                                         "token_revoked")
    def get(self) -> dict[str, Any]:
        """The device, its unit, and the unit's active users who may operate it."""
        dev = device()
        users = active_users_of(service_context(), dev.unit_id, OPERATOR_ROLES)
        return {
            "name": dev.name,
            "unit": {"code": dev.unit.code, "name": dev.unit.name, "kind": str(dev.unit.kind)},
            "operators": [{"username": u.username, "full_name": u.full_name,
                           "role": str(u.role)} for u in users],
        }

