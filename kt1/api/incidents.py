"""``POST /api/v1/incidents``: report loss, damage, a discrepancy or a seal anomaly."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from kt1.api.auth import operator, require_device
from kt1.api.schemas import ErrorOut, IncidentIn, IncidentOut
from kt1.database import service_context
from kt1.models import Incident
from kt1.services.incidents import report_incident

blp = Blueprint("incidents", __name__, description="Incidents (sự cố)")
blp.before_request(require_device)


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.arguments(IncidentIn)
    @blp.response(201, IncidentOut)
    @blp.alt_response(422, schema=ErrorOut, description="invalid_field")
    def post(self, data: dict[str, Any]) -> Incident:
        """Open an incident on an envelope or a bag.

        It goes to the inbox of the heads of the units involved and of the sender, who
        acknowledge it there (`notify_sender=false`: the sender is not emailed).
        """
        return report_incident(service_context(), operator(data["operator"]), data["kind"],
                               data["report"], number=data.get("number"),
                               bag_number=data.get("bag"),
                               notify_sender=data["notify_sender"])
