"""The registry clerk's pages (văn thư, at an agency).

Register an envelope and print its label; the outgoing register on screen and on paper;
hand a batch to the post office with a handover sheet; receive envelopes into the incoming
register; pass addressee-only envelopes to the named person. Views parse the form, call
one service and render; every list comes from :mod:`kt1.services.worklists`, which starts
from the one place that scopes rows by unit and role.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from kt1.database import service_context
from kt1.errors import (
    AcknowledgementInvalidError,
    ForbiddenError,
    GiverIdentificationInvalidError,
    GiverIdentificationMissingError,
    KT1Error,
    PrinterOfflineError,
    PrintJobFailedError,
    ReprintReasonRequiredError,
)
from kt1.labels import render_label
from kt1.labels.sheet import render_sheet
from kt1.models import Envelope, User
from kt1.models.enums import (
    AckMethod,
    Authority,
    Classification,
    EventKind,
    Role,
    ServiceClass,
    SubjectPolicy,
    Urgency,
)
from kt1.models.handover import SheetStatus
from kt1.models.printing import PrintJobState
from kt1.services import worklists as wl
from kt1.services.access import Receipt, receipt_valid
from kt1.services.arrivals import receive_incoming
from kt1.services.context import Ctx
from kt1.services.custody import (
    last_link,
    may_void,
    pass_to_addressee,
    timeline,
    void_last_scan,
)
from kt1.services.handover import cancel_sheet, get_sheet, list_sheets, prepare_sheet
from kt1.services.paper import note_print
from kt1.services.printing import (
    LabelOptions,
    label_data,
    list_printers,
    print_history,
    print_label,
    record_label_pdf,
)
from kt1.services.protection import add_years, term_rule
from kt1.services.provenance import provenance_policy
from kt1.services.registers import Register, RegisterKind, build_register
from kt1.services.registration import EnvelopeDraft, register_envelope
from kt1.services.subjects import local_date, subject_policy
from kt1.web import paper, requires
from kt1.web import registers as paper_registers
from kt1.web.registers import marks_of, signer_of
from kt1.web.words import enum_label, vi, vn_date, vn_time
from kt1.web.workforms import (
    HandoverForm,
    IncomingForm,
    PassForm,
    PrintForm,
    RegisterFilterForm,
    RegisterForm,
    VoidForm,
    identification,
    local_to_utc,
)

bp = Blueprint("clerk", __name__, url_prefix="/clerk")
CLERK = Role.REGISTRY_CLERK

#: Which form field a service's refusal belongs next to.
REGISTER_FIELDS = {
    "subject_not_allowed": "subject",
    "subject_approval_required": "subject_approved_by",
    "unknown_unit": "recipient_unit",
    "unknown_user": "recipient_username",
    "drafter": "drafter_name",  # provenance_required names the drafter, typed or picked
    "protection_term_too_long": "protection_until",
}


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _pdf(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.app_template_filter("enum_label")
def _enum_label(value: Any) -> str:
    return enum_label(value)


@bp.app_template_filter("vn_time")
def _vn_time(value: Any) -> str:
    return vn_time(value)


@bp.app_template_filter("vn_date")
def _vn_date(value: Any) -> str:
    return vn_date(value)


@bp.app_template_filter("iso_vn_time")
def _iso_vn_time(value: str | None) -> str:
    return vn_time(datetime.fromisoformat(value)) if value else ""


@bp.app_template_filter("print_state")
def _print_state(value: str) -> str:
    return enum_label(PrintJobState(value))


# --------------------------------------------------------------------------- today


@bp.get("/")
@requires(CLERK)
def index() -> Any:
    """What is waiting for the clerk: to hand over, to register on arrival, to pass on."""
    ctx, me = service_context(), _me()
    return render_template(
        "clerk/index.html",
        to_hand_over=wl.count(ctx, wl.awaiting_handover(me)),
        open_sheets=list_sheets(ctx, me, status=SheetStatus.OPEN, limit=10),
        coming_in=wl.count(ctx, wl.coming_in(me)),
        to_pass=wl.count(ctx, wl.awaiting_addressee(me)))


# --------------------------------------------------------------------------- registering


def _subject_policies(ctx: Ctx) -> dict[str, str]:
    today = local_date(ctx.now())
    return {c.value: str(subject_policy(ctx.session, c, today)) for c in Classification}


def _provenance_rows(ctx: Ctx) -> list[tuple[str, bool]]:
    """Each classification with whether today's rule asks for drafter, signer and basis."""
    today = local_date(ctx.now())
    rows = []
    for c in Classification:
        p = provenance_policy(ctx.session, c, today)
        rows.append((enum_label(c), p.drafter or p.signer or p.basis))
    return rows


def _term_rows(ctx: Ctx) -> list[tuple[str, int, str]]:
    """Each classification with the years of the term rule in force today and the end it
    gives a document classified today (docs/domain.md §8), for the form's hint."""
    today = local_date(ctx.now())
    rows = []
    for c in Classification:
        rule = term_rule(ctx.session, c, today)
        if rule is not None:
            rows.append((enum_label(c), rule.years, vn_date(add_years(today, rule.years))))
    return rows


@bp.route("/envelopes/new", methods=["GET", "POST"])
@requires(CLERK)
def register() -> Any:
    """Register an outgoing envelope (vào Sổ đăng ký BMNN đi)."""
    ctx, me = service_context(), _me()
    form = RegisterForm()
    form.recipient_unit.choices = [("", _("— Chọn cơ quan nhận —"))] + [
        (u.code, u.name) for u in wl.agencies(ctx, except_unit=me.unit_id)]
    form.drafter_username.choices = [("", _("— Không có tài khoản: ghi họ tên —"))] + [
        (u.username, f"{u.full_name} ({u.username})") for u in wl.colleagues(ctx, me.unit_id)]
    policies = _subject_policies(ctx)
    status = 200
    if form.validate_on_submit():
        policy = policies.get(form.classification.data or "", "forbidden")
        draft = EnvelopeDraft(
            classification=form.classification.data or "",
            recipient_unit_code=form.recipient_unit.data or "",
            document_number=form.document_number.data or "",
            service=form.service.data or ServiceClass.STANDARD,
            agreed_at=local_to_utc(form.agreed_at.data),
            urgency=form.urgency.data or Urgency.NORMAL,
            recipient_name=form.recipient_name.data or "",
            recipient_username=(form.recipient_username.data or "").strip().lower() or None,
            is_addressee_only=bool(form.is_addressee_only.data),
            document_date=form.document_date.data,
            copies=form.copies.data or 1,
            recall_by=form.recall_by.data,
            subject=form.subject.data or None,
            subject_approved_by=(form.subject_approved_by.data or None)
            if policy == SubjectPolicy.APPROVAL_REQUIRED else None,
            drafter_username=form.drafter_username.data or None,
            drafter_name=form.drafter_name.data or None,
            signer_name=form.signer_name.data or None,
            signer_title=form.signer_title.data or None,
            classification_basis=form.classification_basis.data or None,
            classified_on=form.classified_on.data,
            protection_until=form.protection_until.data,
            copy_forbidden=bool(form.copy_forbidden.data),
        )
        try:
            envelope = register_envelope(ctx, me, draft)
        except KT1Error as exc:
            form.show_error(exc, REGISTER_FIELDS)
            status = exc.status
        else:
            flash(_("Đã vào sổ đi số %(seq)s: bưu gửi %(number)s. Hãy in nhãn.",
                    seq=envelope.register_number, number=envelope.number), "success")
            return redirect(url_for(".envelope", number=envelope.number), code=303)
    elif request.method == "POST":
        status = 422
    return render_template(
        "clerk/register.html", form=form, policies=policies,
        provenance_rows=_provenance_rows(ctx), term_rows=_term_rows(ctx),
        policy_rows=[(c.value, enum_label(c), policies[c.value]) for c in Classification],
        any_subject=any(p != SubjectPolicy.FORBIDDEN for p in policies.values())), status


# --------------------------------------------------------------------------- one envelope


def _print_form(ctx: Ctx) -> PrintForm:
    form = PrintForm()
    printers = list_printers(ctx)
    form.printer.choices = [(p.name, f"{p.name} · {p.workstation}" if p.workstation else p.name)
                            for p in printers]
    if request.method == "GET":
        remembered = session.get("printer")
        names = [p.name for p in printers]
        default = next((p.name for p in printers if p.is_default), names[0] if names else None)
        form.printer.data = remembered if remembered in names else default
    return form


def _envelope_page(ctx: Ctx, me: User, envelope: Envelope, form: PrintForm,
                   status: int = 200, void_form: VoidForm | None = None) -> Any:
    prints = print_history(ctx, envelope)
    last = last_link(ctx, envelope)
    voidable = may_void(ctx, me, envelope, last)
    return render_template(
        "clerk/envelope.html", envelope=envelope, chain=timeline(ctx, envelope),
        prints=prints, form=form, may_print=envelope.sender_unit_id == me.unit_id,
        printed=any(p["state"] == "done" and p["kind"] == "label" for p in prints),
        void_form=void_form or VoidForm(prefix="v"), last=last, may_void=voidable,
        void_until=last.recorded_at + ctx.settings.void_window if voidable and last
        else None), status


@bp.get("/envelopes/<number>")
@requires(CLERK)
def envelope(number: str) -> Any:
    """An envelope of the unit: its marks, where it is, its custody chain and its prints."""
    ctx, me = service_context(), _me()
    env = wl.find_envelope(ctx, me, number)
    return _envelope_page(ctx, me, env, _print_form(ctx))


@bp.post("/envelopes/<number>/label")
@requires(CLERK)
def print_envelope_label(number: str) -> Any:
    """Print the label; a reprint needs a reason. Says which printer and whether it came out."""
    ctx, me = service_context(), _me()
    env = wl.find_envelope(ctx, me, number)
    form = _print_form(ctx)
    if not form.validate_on_submit():
        return _envelope_page(ctx, me, env, form, 422)
    session["printer"] = form.printer.data
    try:
        outcome = print_label(ctx, me, env.number, printer=form.printer.data,
                              reason=form.reason.data or None)
    except ReprintReasonRequiredError as exc:
        form.reason.errors = [exc.message_local]
        return _envelope_page(ctx, me, env, form, exc.status)
    except (PrinterOfflineError, PrintJobFailedError) as exc:
        flash(exc.message_local, "error")
        return redirect(url_for(".envelope", number=env.number), code=303)
    except KT1Error as exc:
        form.show_error(exc)
        return _envelope_page(ctx, me, env, form, exc.status)
    flash(_("Đã in nhãn %(number)s trên máy in %(printer)s (lệnh in số %(job)s).",
            number=env.number, printer=outcome.printer, job=outcome.job_id), "success")
    return redirect(url_for(".envelope", number=env.number), code=303)


@bp.post("/envelopes/<number>/void")
@requires(CLERK)
def void_scan(number: str) -> Any:
    """Void one's own last scan of the envelope within minutes, with the reason: a
    ``voided`` link gives it back as it was (nothing deleted)."""
    ctx, me = service_context(), _me()
    env = wl.find_envelope(ctx, me, number)
    form = VoidForm(prefix="v")
    if not form.validate_on_submit():
        return _envelope_page(ctx, me, env, _print_form(ctx), 422, void_form=form)
    try:
        void_last_scan(ctx, me, env.number, form.reason.data or "", str(uuid.uuid4()))
    except KT1Error as exc:
        form.show_error(exc, {"invalid_field": "reason"})
        ctx.session.expire_all()
        return _envelope_page(ctx, me, wl.find_envelope(ctx, me, number), _print_form(ctx),
                              exc.status, void_form=form)
    flash(_("Đã hủy lần quét cuối của bưu gửi %(number)s.", number=env.number), "success")
    return redirect(url_for(".envelope", number=env.number), code=303)


def _label_of(number: str) -> tuple[Envelope, Any]:
    """The label the sender's clerk may see before printing (what the printer would get:
    never the subject, never the classification word)."""
    ctx, me = service_context(), _me()
    env = wl.find_envelope(ctx, me, number)
    if env.sender_unit_id != me.unit_id:
        raise ForbiddenError()
    options = LabelOptions(
        show_document_number=bool(current_app.config.get("LABEL_SHOW_DOCUMENT_NUMBER", False)))
    return env, label_data(env, options)


def _paper_mm() -> int:
    return 58 if request.args.get("width") == "58" else 80


@bp.get("/envelopes/<number>/label.png")
@requires(CLERK)
def label_png(number: str) -> Any:
    """A preview of the label as the printer draws it (PNG at 203 dpi)."""
    _env, data = _label_of(number)
    response = Response(render_label(data, _paper_mm()).png(), mimetype="image/png")
    response.headers["Cache-Control"] = "no-store"
    # Opened on its own, the browser wraps the image in a page of its own making, styled
    # inline: allow that (and nothing else: no script, no request) for this image only.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
        "frame-ancestors 'none'")
    return response


@bp.get("/envelopes/<number>/label.pdf")
@requires(CLERK)
def label_pdf(number: str) -> Any:
    """The label on an A4 sheet, to print on an office printer when no label printer is
    declared yet ("In ra PDF"). The download is recorded as a print job (``label_pdf``), so
    the counter is not warned that this label was never printed."""
    env, data = _label_of(number)
    body = render_sheet([data], _paper_mm(), title=env.number)
    record_label_pdf(service_context(), _me(), env.number, body, width_mm=_paper_mm())
    response = _pdf(body, "")
    response.headers["Content-Disposition"] = f'attachment; filename="nhan-{env.number}.pdf"'
    return response


# --------------------------------------------------------------------------- outgoing register


def _register_filters(ctx: Ctx) -> tuple[RegisterFilterForm, int, date | None, date | None,
                                         str]:
    filt = RegisterFilterForm(request.args)
    filt.validate()
    year = filt.year.data if not filt.year.errors and filt.year.data else local_date(
        ctx.now()).year
    day_from = filt.day_from.data if not filt.day_from.errors else None
    day_to = filt.day_to.data if not filt.day_to.errors else None
    q = (filt.q.data or "").strip()[:64] if not filt.q.errors else ""
    return filt, year, day_from, day_to, q


@bp.get("/outgoing")
@requires(CLERK)
def outgoing() -> Any:
    """The outgoing register on screen: paginated, searchable by number."""
    ctx, me = service_context(), _me()
    filt, year, day_from, day_to, q = _register_filters(ctx)
    page = wl.paginate(ctx, wl.outgoing_register(me, year, q, day_from, day_to), _page())
    return render_template(
        "clerk/outgoing.html", filt=filt, page=page, year=year, q=q,
        sent=wl.handoffs_of(ctx, page.items, EventKind.ACCEPTED),
        args={k: v for k, v in request.args.items() if k != "page"})


def _notes(e: Envelope) -> str:
    return "; ".join([f"Bưu gửi {e.number}", *marks_of(e, vi)[1:]])


def _register_of(ctx: Ctx, me: User, kind: RegisterKind) -> Register:
    """The unit's register (year and days from the query string), without any subject:
    the clerk's paper and spreadsheets never carry one."""
    _filt, year, day_from, day_to, _q = _register_filters(ctx)
    reg = build_register(ctx, me, kind, year, day_from=day_from, day_to=day_to)
    reg.outgoing = [replace(o, subject=None) for o in reg.outgoing]
    reg.incoming = [replace(i, subject=None) for i in reg.incoming]
    return reg


def _xlsx(reg: Register, me: User, ctx: Ctx) -> Response:
    body = paper_registers.register_xlsx(reg, printed_by=me.full_name, printed_at=ctx.now())
    response = Response(
        body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{paper_registers.file_name(reg, "xlsx")}"')
    return response


@bp.get("/outgoing/register.xlsx")
@requires(CLERK)
def outgoing_xlsx() -> Any:
    """The outgoing register as an XLSX workbook (cover sheet, one row per entry)."""
    ctx, me = service_context(), _me()
    return _xlsx(_register_of(ctx, me, RegisterKind.OUTGOING), me, ctx)


@bp.get("/incoming/register.xlsx")
@requires(CLERK)
def incoming_xlsx() -> Any:
    """The incoming register as an XLSX workbook (cover sheet, one row per entry)."""
    ctx, me = service_context(), _me()
    return _xlsx(_register_of(ctx, me, RegisterKind.INCOMING), me, ctx)


@bp.get("/incoming/register.pdf")
@requires(CLERK)
def incoming_pdf() -> Any:
    """The incoming register as A4 pages (cover first) to print and sign."""
    ctx, me = service_context(), _me()
    reg = _register_of(ctx, me, RegisterKind.INCOMING)
    body = paper_registers.register_pdf(reg, printed_by=me.full_name, printed_at=ctx.now())
    return _pdf(body, paper_registers.file_name(reg, "pdf"))


@bp.get("/outgoing/register.pdf")
@requires(CLERK)
def outgoing_pdf() -> Any:
    """The outgoing register as A4 pages to print and sign (never with a subject)."""
    ctx, me = service_context(), _me()
    _filt, year, day_from, day_to, q = _register_filters(ctx)
    envelopes = list(ctx.session.execute(
        wl.outgoing_register(me, year, q, day_from, day_to)).unique().scalars())
    sent = wl.handoffs_of(ctx, envelopes, EventKind.ACCEPTED)
    rows = []
    for e in envelopes:
        h = sent.get(e.id)
        rows.append(paper.OutgoingRow(
            seq=e.register_seq, number=e.number, document_number=e.document_number,
            document_date=e.document_date, classification=vi(e.classification),
            recipient=e.recipient_unit.name + (f" — {e.recipient_name}"
                                               if e.recipient_name else ""),
            copies=e.copies, sent_at=h.at if h else None,
            receipt=f"{h.ack_name} ({vi(AckMethod(h.ack_method))})" if h and h.ack_name else "",
            notes=_notes(e), signer=signer_of(e)))
    period = (f"Từ ngày {vn_date(day_from) or '01/01/' + str(year)} "
              f"đến ngày {vn_date(day_to) or '31/12/' + str(year)}")
    if q:
        period += f" — tìm “{q}”"
    body = paper.outgoing_register_pdf(
        unit_name=me.unit.name, parent_name=me.unit.parent_name, year=year, rows=rows,
        period=period, printed_by=me.full_name, printed_at=ctx.now())
    return _pdf(body, f"so-di-{me.unit.code}-{year}.pdf")


# ------------------------------------------------------------------- handover to the post office


@bp.route("/handover", methods=["GET", "POST"])
@requires(CLERK)
def handover() -> Any:
    """Pick envelopes to take to the post office and make the handover sheet."""
    ctx, me = service_context(), _me()
    form = HandoverForm()
    offices = wl.post_offices(ctx)
    form.post_office.choices = [(u.code, u.name) for u in offices]
    waiting = list(ctx.session.execute(wl.awaiting_handover(me)).unique().scalars())
    form.picked.choices = [(e.number, e.number) for e in waiting]
    if request.method == "GET" and offices:
        same = [u.code for u in offices if u.province_code == me.unit.province_code]
        form.post_office.data = same[0] if same else offices[0].code
    status = 200
    if form.validate_on_submit():
        try:
            sheet = prepare_sheet(ctx, me, form.numbers(), form.post_office.data or "")
        except KT1Error as exc:
            form.show_error(exc, {"numbers": "scanned", "post_office": "post_office"})
            status = exc.status
        else:
            flash(_("Đã lập bảng kê %(sheet)s gồm %(count)s bưu gửi. In bảng kê, mang bưu gửi "
                    "ra bưu cục để đối chiếu và ký nhận.", sheet=sheet.number,
                    count=len(sheet.lines)), "success")
            return redirect(url_for(".sheet", number=sheet.number), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("clerk/handover.html", form=form, waiting=waiting,
                           sheets=list_sheets(ctx, me, limit=20)), status


@bp.get("/handover/<number>")
@requires(CLERK)
def sheet(number: str) -> Any:
    ctx, me = service_context(), _me()
    found = get_sheet(ctx, me, number)
    return render_template("clerk/sheet.html", sheet=found,
                           may_cancel=found.status is SheetStatus.OPEN
                           and found.unit_id == me.unit_id)


def sheet_pdf_body(ctx: Ctx, sheet_number: str, actor: User) -> bytes:
    """The handover sheet PDF (shared with the counter's page), its print recorded."""
    found = get_sheet(ctx, actor, sheet_number)
    rows = []
    for line in found.lines:
        e = line.envelope
        notes = []
        if e.layers > 1:
            notes.append("2 lớp bì")
        if found.status is SheetStatus.SIGNED:
            notes.append("Đã nhận" if line.accepted_at else "Không nhận")
        rows.append(paper.SheetRow(
            line_no=line.line_no, number=e.number, mark=e.mark or "",
            document_number=e.document_number, recipient=e.recipient_unit.name,
            service=vi(e.service), notes="; ".join(notes)))
    signed = None
    if found.status is SheetStatus.SIGNED and found.signed_by is not None:
        accepted = sum(1 for line in found.lines if line.accepted_at)
        signed = (f"Bưu cục đã ký nhận điện tử: {found.signed_by.full_name}, "
                  f"{vn_time(found.signed_at)}; nhận {accepted}/{len(found.lines)} bưu gửi.")
    elif found.status is SheetStatus.CANCELLED:
        signed = f"Bảng kê đã hủy lúc {vn_time(found.cancelled_at)}."
    body = paper.handover_sheet_pdf(
        sheet_number=found.number, unit_name=found.unit.name,
        parent_name=found.unit.parent_name, giver_name=found.giver.full_name,
        office_name=found.post_office.name, created_at=found.created_at, rows=rows,
        signed=signed, printed_at=ctx.now())
    note_print(ctx, actor, found)  # every print is recorded, with the items listed now
    return body


@bp.get("/handover/<number>/sheet.pdf")
@requires(CLERK)
def sheet_pdf(number: str) -> Any:
    """The handover sheet to print and take to the counter."""
    ctx, me = service_context(), _me()
    return _pdf(sheet_pdf_body(ctx, number, me), f"bang-ke-{number.upper()}.pdf")


@bp.post("/handover/<number>/cancel")
@requires(CLERK)
def sheet_cancel(number: str) -> Any:
    ctx, me = service_context(), _me()
    found = cancel_sheet(ctx, me, number)
    flash(_("Đã hủy bảng kê %(sheet)s; các bưu gửi trên đó có thể lập bảng kê khác.",
            sheet=found.number), "success")
    return redirect(url_for(".handover"), code=303)


# --------------------------------------------------------------------------- incoming


def _courier_refusal(ctx: Ctx, me: User, number: str, exc: KT1Error) -> str:
    """What the incoming page says for a refusal (precise about the courier's side)."""
    if isinstance(exc, GiverIdentificationMissingError):
        return _("Bưu gửi còn do bưu tá giữ: chọn bưu tá đang giao và để bưu tá nhập mã PIN "
                 "hoặc quét thẻ nhân viên.")
    if isinstance(exc, GiverIdentificationInvalidError):
        holder = wl.find_envelope(ctx, me, number).holder_user
        if holder is not None:
            return _("Bưu gửi này do bưu tá %(name)s (%(user)s) giữ, không phải bưu tá đã chọn.",
                     name=holder.full_name, user=holder.username)
    return exc.message_local


@bp.route("/incoming", methods=["GET", "POST"])
@requires(CLERK)
def incoming() -> Any:
    """Scan arriving envelopes into the incoming register (Sổ đăng ký BMNN đến).

    An envelope the courier still holds is taken from him first: he is there and identifies
    with his PIN or staff badge (docs/access.md, both sides present). A wrong PIN or badge
    is refused next to its field and nothing at all is written.
    """
    ctx, me = service_context(), _me()
    couriers = wl.couriers_bringing(ctx, me)
    form = IncomingForm()
    form.courier.choices = [("", _("— Không có bưu tá (bưu gửi đã phát cho đơn vị) —"))] + [
        (u.username, f"{u.full_name} ({u.username})") for u in couriers]
    results: list[dict[str, Any]] = []
    status = 200
    if form.validate_on_submit():
        courier_receipt = None
        if form.courier.data:
            courier = next(u for u in couriers if u.username == form.courier.data)
            courier_receipt = identification(courier, form.courier_pin.data)
            if not receipt_valid(me, courier_receipt):
                form.courier_pin.errors = [_(
                    "Mã PIN hoặc thẻ nhân viên của bưu tá %(name)s không đúng: chưa ghi gì.",
                    name=courier.full_name)]
                status = 422
        failures = 0
        for number in form.items()[:200] if status == 200 else []:
            try:
                arrival = receive_incoming(ctx, me, number, str(uuid.uuid4()),
                                           courier_receipt=courier_receipt)
            except KT1Error as exc:
                failures += 1
                results.append({"number": number, "ok": False,
                                "message": _courier_refusal(ctx, me, number, exc),
                                "slug": exc.slug, "status": exc.status})
            else:
                results.append({"number": arrival.envelope.number, "ok": True,
                                "incoming": arrival.incoming_number,
                                "took_delivery": arrival.took_delivery,
                                "addressee_only": arrival.envelope.is_addressee_only})
        if any(r.get("slug") == GiverIdentificationMissingError.slug for r in results):
            form.courier.errors = [_("Có bưu gửi còn do bưu tá giữ: hãy chọn bưu tá đang giao.")]
        if failures == len(results) and results:
            status = int(results[0]["status"])
        if failures == 0 and results:
            form.numbers.data = ""
            form.courier.data = ""
    elif request.method == "POST":
        status = 422
    form.courier_pin.data = ""
    q = (request.args.get("q") or "").strip()[:64]
    year = local_date(ctx.now()).year
    page = wl.paginate(ctx, wl.incoming_register(me, year, q), _page())
    if results:
        ctx.session.expire_all()
        form.courier.choices = form.courier.choices[:1] + [
            (u.username, f"{u.full_name} ({u.username})")
            for u in wl.couriers_bringing(ctx, me)]
    waiting = list(ctx.session.execute(wl.coming_in(me).limit(50)).unique().scalars())
    return render_template("clerk/incoming.html", form=form, results=results, page=page,
                           q=q, year=year, waiting=waiting,
                           passed=wl.handoffs_of(ctx, page.items,
                                                 EventKind.PASSED_TO_ADDRESSEE)), status


# --------------------------------------------------------------------------- addressee-only


@bp.route("/addressee", methods=["GET", "POST"])
@requires(CLERK)
def addressee() -> Any:
    """Pass an addressee-only envelope, unopened, to the named person (rule 10)."""
    ctx, me = service_context(), _me()
    form = PassForm()
    people = wl.colleagues(ctx, me.unit_id)
    form.receiver.choices = [("", _("— Chọn người nhận —"))] + [
        (u.username, f"{u.full_name} ({u.username})") for u in people]
    waiting = list(ctx.session.execute(wl.awaiting_addressee(me)).unique().scalars())
    status = 200
    if request.method == "GET" and request.args.get("number"):
        try:
            chosen = wl.find_envelope(ctx, me, request.args["number"])
        except KT1Error as exc:
            flash(exc.message_local, "error")
        else:
            form.number.data = chosen.number
            if chosen.recipient_user is not None:
                form.receiver.data = chosen.recipient_user.username
    if form.validate_on_submit():
        receiver = wl.user_in_unit(ctx, me.unit_id, form.receiver.data or "")
        if receiver is None:
            form.receiver.errors = [_("Người nhận phải thuộc đơn vị của bạn.")]
            status = 422
        else:
            try:
                chosen = wl.find_envelope(ctx, me, form.number.data or "")
                recorded = pass_to_addressee(
                    ctx, me, chosen.number, receiver,
                    Receipt(user=receiver, method=AckMethod.PIN, secret=form.pin.data),
                    str(uuid.uuid4()), ctx.now(), authority=Authority(form.authority.data),
                    note=form.note.data or "", location=me.unit.code)
            except AcknowledgementInvalidError:
                form.pin.errors = [_("Mã PIN không đúng; người nhận hãy nhập lại.")]
                status = 422
            except ForbiddenError as exc:
                form.form_errors_extra.append(_(
                    "Người này không được nhận bưu gửi này: chỉ người có tên trên bì; nếu người "
                    "có tên vắng mặt và bưu gửi là Hỏa tốc thì thủ trưởng đơn vị hoặc người được "
                    "thủ trưởng ủy quyền."))
                status = exc.status
            except KT1Error as exc:
                form.show_error(exc, {"number": "number"})
                status = exc.status
            else:
                flash(_("Đã chuyển bưu gửi %(number)s cho %(name)s (đã ký nhận bằng mã PIN).",
                        number=recorded.envelope.number, name=receiver.full_name), "success")
                return redirect(url_for(".addressee"), code=303)
    elif request.method == "POST":
        status = 422
    form.pin.data = ""
    return render_template("clerk/addressee.html", form=form, waiting=waiting), status

