"""The incident inbox (hộp thư sự cố) of heads of unit and security officers.

Each incident is listed for its recipients (kt1/services/incidents.py): the heads of the
units involved and the sending unit's security officers. Opening one records that they were
told; "Đã nắm" acknowledges it. Anyone else gets the 404 of an incident that does not exist
(docs/access.md). Views parse, call one service and render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kt1.database import service_context
from kt1.errors import UnknownIncidentError
from kt1.models import Bag, Envelope, Unit, User
from kt1.models.enums import Role
from kt1.services import incidents as svc
from kt1.web import requires
from kt1.web.forms import EmptyForm

bp = Blueprint("incident_inbox", __name__, url_prefix="/incidents")
#: A head of unit may hold any role: which incidents a user gets is the service's to say.
ANY_ROLE = tuple(Role)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return,unused-ignore]


@bp.get("/")
@requires(*ANY_ROLE)
def inbox() -> Any:
    """The signed-in head's or security officer's incidents, unacknowledged first."""
    me = _me()
    if not svc.receives_incidents(me):
        abort(403)
    ctx = service_context()
    rows = svc.inbox(ctx, me)
    from kt1.services.worker import notices_for  # the worker's reminders (docs/worker.md)

    return render_template("incidents/inbox.html", rows=rows,
                           notices=notices_for(ctx, me, limit=50))


@bp.get("/<int:incident_id>")
@requires(*ANY_ROLE)
def show(incident_id: int) -> Any:
    """One incident with its report; the first opening by a head or the sender is recorded."""
    ctx, me = service_context(), _me()
    try:
        incident = svc.open_notice(ctx, me, incident_id)
    except UnknownIncidentError:
        abort(404)
    session = ctx.session
    names = {u.id: u.full_name for u in session.query(User).filter(User.id.in_([
        i for i in (incident.reported_by_id, incident.head_notified_by_id,
                    incident.sender_notified_by_id, incident.acknowledged_by_id,
                    incident.resolved_by_id) if i is not None])).all()}
    return render_template(
        "incidents/show.html", incident=incident, names=names, form=EmptyForm(),
        unit=session.get(Unit, incident.unit_id),
        envelope=session.get(Envelope, incident.envelope_id) if incident.envelope_id else None,
        bag=session.get(Bag, incident.bag_id) if incident.bag_id else None)


@bp.post("/<int:incident_id>/acknowledge")
@requires(*ANY_ROLE)
def acknowledge(incident_id: int) -> Any:
    """"Đã nắm": the incident is acknowledged (again: nothing changes)."""
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        svc.acknowledge(service_context(), _me(), incident_id)
    except UnknownIncidentError:
        abort(404)
    flash(_("Đã xác nhận nắm sự cố số %(id)s.", id=incident_id), "success")
    return redirect(url_for("incident_inbox.show", incident_id=incident_id))
