"""Self-inspection reports (báo cáo tự kiểm tra) on screen: the unit's reports, the form that
runs the checklist for a period, a report with each item's numbers (linked to the envelope
page the viewer may open), what was fixed since the previous report, the remediation of each
item (editable), the head's signature and the PDF.

Heads of the unit and its security officers have these pages; only a head signs
(kt1/services/inspection.py). Another unit's report or remediation is a 404 exactly as one
that does not exist (docs/access.md). Views parse, call one service and render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from kt1.database import service_context
from kt1.errors import KT1Error
from kt1.models import User
from kt1.models.enums import Role
from kt1.services import inspection as svc
from kt1.web import requires
from kt1.web.inspection_paper import self_inspection_pdf
from kt1.web.workforms import WorkForm

bp = Blueprint("inspection", __name__, url_prefix="/reports/self-inspection")
#: A head of unit may hold any role: whether the user inspects is the service's to say.
ANY_ROLE = tuple(Role)


class RunForm(WorkForm):
    """The period of a new report (both optional: 1 January to today)."""

    day_from = DateField(_l("Từ ngày"), validators=[Optional()])
    day_to = DateField(_l("Đến ngày"), validators=[Optional()])


class RemediationForm(WorkForm):
    """Who fixes an item, by when, done when."""

    assignee = SelectField(_l("Người khắc phục"), choices=[], validate_choice=False)
    assignee_name = StringField(_l("hoặc tên (tổ, bộ phận)"),
                                validators=[Optional(), Length(max=120)])
    due_on = DateField(_l("Hạn khắc phục"), validators=[Optional()])
    done_on = DateField(_l("Ngày hoàn thành"), validators=[Optional()])
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=500)])


class SignForm(WorkForm):
    title = StringField(_l("Chức vụ"), validators=[Optional(), Length(max=120)])


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return,unused-ignore]


def _inspector() -> User:
    me = _me()
    if not svc.is_inspector(me):
        abort(403)
    return me


def _envelope_endpoint(me: User) -> str | None:
    """The envelope page this viewer may open (a security officer's, a registry clerk's)."""
    if me.role is Role.SECURITY_OFFICER:
        return "officer.envelope"
    if me.role is Role.REGISTRY_CLERK:
        return "clerk.envelope"
    return None


@bp.get("/")
@requires(*ANY_ROLE)
def index() -> Any:
    """The unit's reports, newest first, and the form that runs a new one."""
    me = _inspector()
    reports = svc.reports_of(service_context(), me)
    return render_template("reports/inspection_list.html", reports=reports, form=RunForm())


@bp.post("/run")
@requires(*ANY_ROLE)
def run() -> Any:
    """Run the checklist for the period and show the new report."""
    me = _inspector()
    ctx = service_context()
    form = RunForm()
    if form.validate_on_submit():
        try:
            report = svc.run_self_inspection(ctx, me, None, form.day_from.data,
                                             form.day_to.data)
        except KT1Error as exc:
            form.show_error(exc)
            return render_template("reports/inspection_list.html", form=form,
                                   reports=svc.reports_of(ctx, me)), exc.status
        flash(_("Đã lập báo cáo tự kiểm tra %(number)s.", number=report.number), "success")
        return redirect(url_for(".show", number=report.number), code=303)
    return render_template("reports/inspection_list.html", form=form,
                           reports=svc.reports_of(ctx, me)), 422


def _page(number: str, forms: dict[int, RemediationForm] | None = None,
          sign_form: SignForm | None = None, status: int = 200) -> Any:
    ctx, me = service_context(), _inspector()
    report = svc.get_report(ctx, me, number)
    views = svc.item_views(ctx, report)
    people = svc.unit_people(ctx, report.unit_id)
    choices = [("", _("— Chọn người —"))] + [
        (u.username, f"{u.full_name} ({u.username})") for u in people]
    forms = dict(forms or {})
    for view in views:
        rem = view.remediation
        if rem is not None and rem.id not in forms:
            form = RemediationForm(formdata=None, prefix=f"r{rem.id}")
            form.assignee.data = rem.assignee_user.username if rem.assignee_user else ""
            form.assignee_name.data = rem.assignee_name or ""
            form.due_on.data, form.note.data = rem.due_on, rem.note
            forms[rem.id] = form
    for form in forms.values():
        form.assignee.choices = choices
    english = str(get_locale() or "vi").startswith("en")
    return render_template(
        "reports/inspection.html", report=report, views=views, forms=forms,
        sign_form=sign_form or SignForm(formdata=None), english=english,
        may_sign=svc.may_sign(me, report.unit_id), envelope_endpoint=_envelope_endpoint(me),
        incident_link=me.is_unit_head), status


@bp.get("/<number>")
@requires(*ANY_ROLE)
def show(number: str) -> Any:
    """One report: its checklist items, fixed since the previous one, remediations."""
    return _page(number)


@bp.post("/<number>/remediation/<int:remediation_id>")
@requires(*ANY_ROLE)
def remediation(number: str, remediation_id: int) -> Any:
    """Set who fixes an item, by when, done when (goes on after the report is signed)."""
    ctx, me = service_context(), _inspector()
    report = svc.get_report(ctx, me, number)
    form = RemediationForm(prefix=f"r{remediation_id}")
    form.assignee.choices = [("", "")] + [(u.username, u.username)
                                          for u in svc.unit_people(ctx, report.unit_id)]
    if not form.validate_on_submit():
        return _page(number, {remediation_id: form}, status=422)
    try:
        svc.update_remediation(
            ctx, me, remediation_id, assignee_username=form.assignee.data or None,
            assignee_name=form.assignee_name.data or None, due_on=form.due_on.data,
            done_on=form.done_on.data, note=form.note.data)
    except KT1Error as exc:
        if exc.status == 404:
            raise
        form.show_error(exc, {"unknown_user": "assignee", "remediation_closed": "note"})
        return _page(number, {remediation_id: form}, status=exc.status)
    flash(_("Đã cập nhật việc khắc phục."), "success")
    return redirect(url_for(".show", number=report.number, _anchor=f"r{remediation_id}"),
                    code=303)


@bp.post("/<number>/sign")
@requires(*ANY_ROLE)
def sign(number: str) -> Any:
    """The head of the unit signs the report."""
    ctx, me = service_context(), _inspector()
    form = SignForm()
    if not form.validate_on_submit():
        return _page(number, sign_form=form, status=422)
    try:
        report = svc.sign_report(ctx, me, number, form.title.data or None)
    except KT1Error as exc:
        if exc.status == 404:
            raise
        form.show_error(exc)
        return _page(number, sign_form=form, status=exc.status)
    flash(_("Đã ký báo cáo tự kiểm tra %(number)s.", number=report.number), "success")
    return redirect(url_for(".show", number=report.number), code=303)


@bp.get("/<number>/report.pdf")
@requires(*ANY_ROLE)
def pdf(number: str) -> Any:
    """The report as a PDF (signed once the head has signed it)."""
    ctx, me = service_context(), _inspector()
    report = svc.get_report(ctx, me, number)
    body = self_inspection_pdf(report, svc.item_views(ctx, report), ctx.now())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="bao-cao-tu-kiem-tra-{report.number}.pdf"')
    return response

