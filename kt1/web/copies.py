"""Copies on the registry clerk's pages (sao, chụp; docs/domain.md §8, issue 12).

The copy register (sổ quản lý sao, chụp) on screen and on paper; on an original's envelope
page, the "Sao, chụp" form (who allowed it, how many, how, for whom; the partial
``templates/clerk/_copy.html`` calls :func:`copy_panel`); on a copy's page, which document
it copies and its "Bản số n/N"; the copy stamps ("BẢN SAO") as a PDF.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from kt1.database import service_context
from kt1.errors import KT1Error
from kt1.models import Envelope, User
from kt1.models.enums import HELD_STATUSES, CopyMethod, Role, Secrecy
from kt1.services import copies
from kt1.services import worklists as wl
from kt1.services.context import Ctx
from kt1.services.subjects import local_date
from kt1.web import requires
from kt1.web.clerk import _pdf
from kt1.web.copies_paper import copy_register_pdf, copy_stamps_pdf, stamps_for
from kt1.web.workforms import WorkForm

bp = Blueprint("clerk_copies", __name__, url_prefix="/clerk")
CLERK = Role.REGISTRY_CLERK

METHOD_LABELS = {CopyMethod.PHOTOCOPY: _l("Sao, chụp (photocopy)"),
                 CopyMethod.EXTRACT: _l("Trích sao"),
                 CopyMethod.SCAN: _l("Chụp, quét vào máy không nối mạng")}
#: Which form field a service's refusal belongs next to.
COPY_FIELDS = {"copy_approver_not_entitled": "approved_by", "unknown_unit": "recipient_unit",
               "recipient_unit": "recipient_unit"}


class CopyForm(WorkForm):
    approved_by = SelectField(_l("Người cho phép sao, chụp"), validators=[
        DataRequired(_l("Hãy chọn người cho phép sao, chụp."))])
    count = IntegerField(_l("Số bản sao"), default=1, validators=[
        InputRequired(_l("Hãy nhập số bản sao.")),
        NumberRange(min=1, max=copies.MAX_BATCH, message=_l("Từ 1 đến 99 bản."))])
    method = SelectField(_l("Hình thức sao"), default=CopyMethod.PHOTOCOPY.value,
                         choices=[(m.value, label) for m, label in METHOD_LABELS.items()])
    recipient_unit = StringField(_l("Mã đơn vị nhận (để trống: như bản gốc)"), validators=[
        Optional(), Length(max=32)])
    recipient_name = StringField(_l("Người nhận"), validators=[Optional(), Length(max=120)])


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _copy_form(ctx: Ctx, me: User, formdata: Any = None) -> CopyForm:
    form = CopyForm(formdata=formdata)
    form.approved_by.choices = [("", _("— chọn —"))] + [
        (u.username, u.full_name) for u in copies.entitled_approvers(ctx, me.unit_id)]
    return form


def may_copy(me: User, envelope: Envelope) -> bool:
    """Whether the page offers the form (the service decides in the end)."""
    return (me.is_active and me.role is CLERK and envelope.holder_unit_id == me.unit_id
            and envelope.status in HELD_STATUSES and envelope.copy_of_id is None
            and not envelope.copy_forbidden and envelope.secrecy is not Secrecy.DESTROYED)


@bp.app_template_global("copy_panel")
def copy_panel(envelope: Envelope) -> dict[str, Any]:
    """What ``clerk/_copy.html`` shows for an envelope the signed-in clerk sees: a copy's
    original and "Bản số n/N", an original's copies made here and the form."""
    ctx, me = service_context(), _me()
    out: dict[str, Any] = {"is_copy": envelope.copy_of_id is not None, "form": None,
                           "copies": [], "original": None, "approver": None}
    if envelope.copy_of_id is not None:
        original = ctx.session.get(Envelope, envelope.copy_of_id)
        # the original's number is shown only to a unit that may see it
        if original is not None and ctx.session.execute(wl.visible_envelopes(me).where(
                Envelope.id == original.id)).first() is not None:
            out["original"] = original
        out["original_document"] = envelope.document_number
        out["approver"] = (ctx.session.get(User, envelope.copy_approved_by_id)
                           if envelope.copy_approved_by_id else None)
        out["method"] = METHOD_LABELS.get(envelope.copy_method) if envelope.copy_method else ""
        out["register_no"] = copies.register_number(envelope)
        return out
    out["copies"] = [c for c in copies.copies_of(ctx, envelope)
                     if c.sender_unit_id == me.unit_id]
    out["forbidden"] = envelope.copy_forbidden
    if may_copy(me, envelope):
        out["form"] = g.get("copy_form") or _copy_form(ctx, me)
    return out


@bp.post("/envelopes/<number>/copies")
@requires(CLERK)
def make(number: str) -> Any:
    """Register copies of a held document; then the stamps are ready to print."""
    ctx, me = service_context(), _me()
    env = wl.find_envelope(ctx, me, number)
    form = _copy_form(ctx, me, request.form)
    if form.validate_on_submit():
        try:
            made = copies.make_copies(
                ctx, me, env.number, approved_by=form.approved_by.data,
                count=form.count.data, method=form.method.data,
                recipient_unit_code=(form.recipient_unit.data or "").strip().upper() or None,
                recipient_name=form.recipient_name.data or "")
        except KT1Error as exc:
            form.show_error(exc, COPY_FIELDS)
            return _envelope_page_with(ctx, me, env, form, exc.status)
        flash(_("Đã vào sổ %(n)s bản sao: %(numbers)s. In dấu bản sao để đóng lên từng bản.",
                n=len(made), numbers=", ".join(f"{c.number} ({c.copy_label})" for c in made)),
              "success")
        return redirect(url_for("clerk.envelope", number=env.number) + "#copies", code=303)
    return _envelope_page_with(ctx, me, env, form, 422)


def _envelope_page_with(ctx: Ctx, me: User, env: Envelope, form: CopyForm,
                        status: int) -> Any:
    from kt1.web.clerk import _envelope_page, _print_form

    g.copy_form = form  # re-shown with its errors by copy_panel
    return _envelope_page(ctx, me, env, _print_form(ctx), status)


@bp.get("/envelopes/<number>/stamps.pdf")
@requires(CLERK)
def stamps(number: str) -> Any:
    """The "BẢN SAO" stamps: of this copy, or of the copies this unit made of this
    original."""
    ctx, me = service_context(), _me()
    env = wl.find_envelope(ctx, me, number)
    if env.copy_of_id is not None:
        chosen = [env] if env.sender_unit_id == me.unit_id else []
    else:
        chosen = [c for c in copies.copies_of(ctx, env) if c.sender_unit_id == me.unit_id]
    return _pdf(copy_stamps_pdf(stamps_for(ctx.session, chosen), ctx.now()),
                f"dau-ban-sao-{env.number}.pdf")


def _year(ctx: Ctx) -> int:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2100 else local_date(ctx.now()).year


@bp.get("/copies/")
@requires(CLERK)
def register() -> Any:
    """The unit's copy register (sổ quản lý sao, chụp) for a year."""
    ctx, me = service_context(), _me()
    year = _year(ctx)
    unit, lines = copies.copy_register(ctx, me, None, year)
    return render_template("clerk/copies.html", unit=unit, lines=lines, year=year,
                           methods=METHOD_LABELS)


@bp.get("/copies/register.pdf")
@requires(CLERK)
def register_pdf() -> Any:
    """The copy register as A4 pages to print and sign (never with a subject)."""
    ctx, me = service_context(), _me()
    year = _year(ctx)
    unit, lines = copies.copy_register(ctx, me, None, year)
    return _pdf(copy_register_pdf(unit, lines, me.full_name, ctx.now()),
                f"so-sao-chup-{unit.code}-{year}.pdf")
