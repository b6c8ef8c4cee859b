"""Internal handover sheets (phiếu chuyển giao nội bộ) on the registry clerk's pages.

Make a sheet of envelopes one holds for a colleague of the unit and print it (each print is
recorded); open a sheet by scanning its barcode; mark it signed by ticking or scanning each
line; then record the handoffs it covers, signed on paper with the sheet's number
(docs/access.md, "both sides present"; docs/rules.md, rule A8). Views parse the form, call
one service (:mod:`kt1.services.sheets`) and render.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as N_
from flask_login import current_user

from kt1.database import service_context
from kt1.errors import KT1Error
from kt1.models import Envelope, User
from kt1.models.enums import Role
from kt1.models.handover import SheetStatus
from kt1.services import sheets as svc
from kt1.services import worklists as wl
from kt1.services.access import visible_envelopes
from kt1.services.context import Ctx
from kt1.services.paper import note_print, prints_of
from kt1.web import paper, requires
from kt1.web.words import vn_time
from kt1.web.workforms import InternalSheetForm, MarkSignedForm, SheetScanForm

bp = Blueprint("internal", __name__, url_prefix="/clerk/internal")
CLERK = Role.REGISTRY_CLERK
#: Who may open a sheet of their unit and mark it signed (the service checks that they are
#: its receiver or a registry clerk).
AGENCY = (Role.REGISTRY_CLERK, Role.SECURITY_OFFICER)


#: An internal sheet's status as its page shows it (the post-office sheet's words name the
#: post office).
INTERNAL_STATUS = {
    SheetStatus.OPEN: N_("Chờ người nhận ký"),
    SheetStatus.SIGNED: N_("Người nhận đã ký"),
    SheetStatus.CANCELLED: N_("Đã hủy"),
}


@bp.app_template_filter("internal_status")
def _internal_status(value: SheetStatus) -> str:
    return str(INTERNAL_STATUS[SheetStatus(value)])


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _held(ctx: Ctx, me: User) -> list[Envelope]:
    """Envelopes the user holds, loose (not in a bag)."""
    return list(ctx.session.execute(
        visible_envelopes(me).where(Envelope.holder_user_id == me.id,
                                    Envelope.bag_id.is_(None))
        .order_by(Envelope.last_event_at)).unique().scalars())


@bp.route("/", methods=["GET", "POST"])
@requires(*AGENCY)
def index() -> Any:
    """Make an internal sheet; open one by its barcode; the unit's recent sheets."""
    ctx, me = service_context(), _me()
    form = InternalSheetForm()
    people = [u for u in wl.colleagues(ctx, me.unit_id) if u.id != me.id]
    form.receiver.choices = [("", _("— Chọn người nhận —"))] + [
        (u.username, f"{u.full_name} ({u.username})") for u in people]
    held = _held(ctx, me)
    status = 200
    if form.validate_on_submit():
        try:
            sheet = svc.prepare_internal_sheet(ctx, me, form.receiver.data or "",
                                               form.numbers())
        except KT1Error as exc:
            form.show_error(exc, {"numbers": "scanned", "unknown_user": "receiver",
                                  "receiver": "receiver"})
            status = exc.status
        else:
            flash(_("Đã lập phiếu chuyển giao %(sheet)s gồm %(count)s bưu gửi. In phiếu để "
                    "người nhận ký.", sheet=sheet.number, count=len(sheet.lines)), "success")
            return redirect(url_for(".sheet", number=sheet.number), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("clerk/internal.html", form=form, held=held,
                           scan=SheetScanForm(formdata=None),
                           sheets=svc.list_internal_sheets(ctx, me, limit=20)), status


@bp.post("/scan")
@requires(*AGENCY)
def scan() -> Any:
    """The sheet's barcode scanned (or its number typed): open it to mark it signed."""
    ctx, me = service_context(), _me()
    form = SheetScanForm()
    if form.validate_on_submit():
        try:
            found = svc.get_internal_sheet(ctx, me, form.sheet.data or "")
        except KT1Error as exc:
            flash(exc.message_local, "error")
        else:
            return redirect(url_for(".sheet", number=found.number), code=303)
    else:
        flash(_("Hãy quét mã vạch hoặc nhập số phiếu."), "error")
    return redirect(url_for(".index"), code=303)


def _sheet_page(ctx: Ctx, me: User, number: str, form: MarkSignedForm | None = None,
                status: int = 200) -> Any:
    found = svc.get_internal_sheet(ctx, me, number)
    prints = prints_of(ctx, found.number)
    form = form or MarkSignedForm(formdata=None)
    may_pass = (found.status is SheetStatus.SIGNED and found.giver_id == me.id and any(
        line.ticked_at and line.envelope.holder_user_id == me.id for line in found.lines))
    return render_template(
        "clerk/internal_sheet.html", sheet=found, prints=prints, form=form,
        may_mark=svc.may_mark(me, found) and found.status is not SheetStatus.CANCELLED
        and bool(prints),
        may_cancel=found.status is SheetStatus.OPEN
        and (found.giver_id == me.id or me.role is Role.REGISTRY_CLERK),
        may_pass=may_pass), status


@bp.get("/<number>")
@requires(*AGENCY)
def sheet(number: str) -> Any:
    ctx, me = service_context(), _me()
    return _sheet_page(ctx, me, number)


@bp.post("/<number>/sign")
@requires(*AGENCY)
def sign(number: str) -> Any:
    """Mark the sheet signed: the lines ticked or scanned get their time."""
    ctx, me = service_context(), _me()
    form = MarkSignedForm()
    if form.validate_on_submit():
        try:
            found = svc.mark_signed(ctx, me, number, form.numbers())
        except KT1Error as exc:
            form.show_error(exc, {"numbers": "scanned"})
            return _sheet_page(ctx, me, number, form, exc.status)
        ticked = sum(1 for line in found.lines if line.ticked_at)
        flash(_("Đã đánh dấu phiếu %(sheet)s đã ký: %(ticked)s/%(count)s dòng.",
                sheet=found.number, ticked=ticked, count=len(found.lines)), "success")
        return redirect(url_for(".sheet", number=found.number), code=303)
    return _sheet_page(ctx, me, number, form, 422)


@bp.post("/<number>/pass")
@requires(CLERK)
def pass_on(number: str) -> Any:
    """Record the handoffs the signed sheet covers (signed on paper with its number)."""
    ctx, me = service_context(), _me()
    try:
        passed = svc.pass_by_sheet(ctx, me, number)
    except KT1Error as exc:
        flash(exc.message_local, "error")
    else:
        flash(_("Đã ghi nhận chuyển giao %(count)s bưu gửi theo phiếu %(sheet)s.",
                count=len(passed), sheet=number.upper()), "success")
    return redirect(url_for(".sheet", number=number.upper()), code=303)


@bp.post("/<number>/cancel")
@requires(*AGENCY)
def cancel(number: str) -> Any:
    ctx, me = service_context(), _me()
    found = svc.cancel_internal_sheet(ctx, me, number)
    flash(_("Đã hủy phiếu chuyển giao %(sheet)s.", sheet=found.number), "success")
    return redirect(url_for(".index"), code=303)


def internal_pdf_body(ctx: Ctx, me: User, number: str) -> tuple[str, bytes]:
    """The sheet's PDF, its print recorded (who, when, the items listed now)."""
    found = svc.get_internal_sheet(ctx, me, number)
    rows = [paper.InternalRow(
        line_no=line.line_no, number=line.envelope.number, mark=line.envelope.mark or "",
        document_number=line.envelope.document_number,
        sender=line.envelope.sender_unit.name,
        ticked=f"Đã nhận {vn_time(line.ticked_at)}" if line.ticked_at else "")
        for line in found.lines]
    signed = None
    if found.status is SheetStatus.SIGNED and found.signed_by is not None:
        signed = (f"Đã đánh dấu đã ký: {found.signed_by.full_name}, "
                  f"{vn_time(found.signed_at)}.")
    elif found.status is SheetStatus.CANCELLED:
        signed = f"Phiếu đã hủy lúc {vn_time(found.cancelled_at)}."
    body = paper.internal_sheet_pdf(
        sheet_number=found.number, unit_name=found.unit.name,
        parent_name=found.unit.parent_name, giver_name=found.giver.full_name,
        receiver_name=found.receiver.full_name, created_at=found.created_at, rows=rows,
        signed=signed, printed_at=ctx.now())
    sheet_number = found.number
    note_print(ctx, me, found)
    return sheet_number, body


@bp.get("/<number>/sheet.pdf")
@requires(*AGENCY)
def sheet_pdf(number: str) -> Any:
    """The sheet to print and sign."""
    ctx, me = service_context(), _me()
    sheet_number, body = internal_pdf_body(ctx, me, number)
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="phieu-chuyen-giao-{sheet_number}.pdf"')
    return response



