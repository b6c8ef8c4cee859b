"""The post office's pages: the counter clerk (giao dịch viên) and the courier (bưu tá).

Counter: accept a batch from an agency against its handover sheet (reconcile, report a
discrepancy, sign); make up, seal and dispatch bags with their manifest; receive bags
(seal check) and open them against the manifest; send envelopes out for delivery, and void
one's own last scan within minutes, with a reason (docs/rules.md rule 5).
Courier: the delivery round, with delivery signed by the recipient's registry clerk or a
failed attempt with its reason. Views parse, call one service per item, render.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kt1.database import service_context
from kt1.errors import (
    AcknowledgementInvalidError,
    GiverIdentificationInvalidError,
    GiverIdentificationMissingError,
    KT1Error,
    SealMismatchError,
)
from kt1.models import Bag, Envelope, Handoff, User
from kt1.models.enums import (
    VOIDABLE_EVENTS,
    AckMethod,
    DeliveryFailure,
    EventKind,
    Role,
    SealState,
)
from kt1.models.handover import SheetStatus
from kt1.services import bagging
from kt1.services import worklists as wl
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.custody import (
    HandoffRequest,
    deliver,
    last_link,
    may_void,
    record_handoff,
    void_last_scan,
)
from kt1.services.handover import (
    Reconciliation,
    list_sheets,
    reconcile,
    report_discrepancy,
    resolve_discrepancy,
    sign_sheet,
)
from kt1.web import local_path, lookup, paper, requires
from kt1.web.clerk import sheet_pdf_body
from kt1.web.words import vi, vn_time
from kt1.web.workforms import (
    BagAddForm,
    DeliverForm,
    DeliveryOutForm,
    DispatchForm,
    FailedForm,
    NewBagForm,
    ReceiveBagForm,
    RemoveFromBagForm,
    ScanForm,
    SealForm,
    SheetForm,
    VoidForm,
    identification,
)

bp = Blueprint("counter", __name__, url_prefix="/counter")
COUNTER = Role.COUNTER_CLERK
COURIER = Role.COURIER


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _scan_id() -> str:
    return str(uuid.uuid4())


def _each(numbers: list[str], call: Callable[[str], Any]) -> tuple[list[dict[str, Any]], int]:
    """Run ``call`` for each number (each its own transaction); per-number results, and the
    status of the page: 200 when at least one went through, else the first refusal's."""
    results: list[dict[str, Any]] = []
    first_error = 0
    for number in numbers[:200]:
        try:
            call(number)
        except KT1Error as exc:
            first_error = first_error or exc.status
            results.append({"number": number, "ok": False, "message": exc.message_local,
                            "slug": exc.slug})
        else:
            results.append({"number": number, "ok": True})
    ok = any(r["ok"] for r in results)
    return results, (200 if ok or not results else first_error)


# --------------------------------------------------------------------------- today


@bp.get("/")
@requires(COUNTER)
def index() -> Any:
    """The counter's work: sheets to sign, bags in work and coming, envelopes to deliver."""
    ctx, me = service_context(), _me()
    return render_template(
        "counter/index.html",
        sheets=list_sheets(ctx, me, status=SheetStatus.OPEN, limit=20),
        bags_here=list(ctx.session.execute(wl.bags_in_work(me)).unique().scalars()),
        bags_coming=list(ctx.session.execute(wl.bags_to_receive(me)).unique().scalars()),
        at_office=wl.count(ctx, wl.at_office(me)),
        failed=wl.count(ctx, wl.failed_deliveries(me)))


# --------------------------------------------------------------------------- handover sheets


@bp.get("/sheets")
@requires(COUNTER)
def sheets() -> Any:
    """Handover sheets brought to this office; open one by its number (scan the barcode on
    the sheet, or on a bag's manifest). A number that leads nowhere is said on this page."""
    ctx, me = service_context(), _me()
    wanted = lookup.clean(request.args.get("number"))
    error, status = None, 200
    if wanted:
        try:
            found = lookup.resolve(ctx, me, wanted)
        except KT1Error as exc:
            error, status = exc.message_local, exc.status
        else:
            return redirect(found.url or url_for("lookup.lookup", q=wanted))
    return render_template("counter/sheets.html", sheets=list_sheets(ctx, me, limit=50),
                           error=error, wanted=wanted), status


def _sheet_page(form: SheetForm, rec: Reconciliation | None, sheet: Any, status: int = 200
                ) -> Any:
    if rec is not None:
        form.broken.choices = [(e.number, e.number) for e in rec.matched]
    return render_template("counter/sheet.html", form=form, rec=rec, sheet=sheet), status


def _reconciled(ctx: Ctx, me: User, number: str, form: SheetForm) -> Reconciliation:
    return reconcile(ctx, me, number, form.items())


@bp.route("/sheets/<number>", methods=["GET", "POST"])
@requires(COUNTER)
def sheet(number: str) -> Any:
    """Reconcile: what the sheet lists against what was scanned (nothing is written)."""
    ctx, me = service_context(), _me()
    form = SheetForm()
    rec = _reconciled(ctx, me, number, form)
    if request.method == "POST" and not form.validate_on_submit():
        return _sheet_page(form, rec, rec.sheet, 422)
    shown = rec if request.method == "POST" else None
    return _sheet_page(form, shown, rec.sheet)


@bp.post("/sheets/<number>/report")
@requires(COUNTER)
def sheet_report(number: str) -> Any:
    """Report the difference (biên bản sai lệch); signing waits until it is settled."""
    ctx, me = service_context(), _me()
    form = SheetForm()
    status = 200
    if not form.validate_on_submit():
        status = 422
    elif not (form.report.data or "").strip():
        form.report.errors = [_("Hãy ghi nội dung biên bản sai lệch.")]
        status = 422
    else:
        try:
            incident = report_discrepancy(ctx, me, number, form.items(), form.report.data or "")
        except KT1Error as exc:
            form.show_error(exc)
            status = exc.status
        else:
            flash(_("Đã lập biên bản sai lệch số %(id)s, báo thủ trưởng bưu cục và nơi gửi. "
                    "Chưa ký nhận được cho đến khi sai lệch được giải quyết.", id=incident.id),
                  "success")
            form.report.data = ""
    rec = _reconciled(ctx, me, number, form)
    return _sheet_page(form, rec, rec.sheet, status)


@bp.post("/sheets/<number>/resolve")
@requires(COUNTER)
def sheet_resolve(number: str) -> Any:
    """Settle the sheet's discrepancy (what was found, what stays with the agency)."""
    ctx, me = service_context(), _me()
    form = SheetForm()
    status = 200
    if not form.validate_on_submit():
        status = 422
    elif not (form.resolution.data or "").strip():
        form.resolution.errors = [_("Hãy ghi cách đã giải quyết sai lệch.")]
        status = 422
    else:
        try:
            resolve_discrepancy(ctx, me, number, form.resolution.data or "")
        except KT1Error as exc:
            form.show_error(exc)
            status = exc.status
        else:
            flash(_("Sai lệch đã được giải quyết; có thể ký nhận các bưu gửi đã đối chiếu."),
                  "success")
            form.resolution.data = ""
    rec = _reconciled(ctx, me, number, form)
    return _sheet_page(form, rec, rec.sheet, status)


@bp.post("/sheets/<number>/sign")
@requires(COUNTER)
def sheet_sign(number: str) -> Any:
    """Sign for the envelopes handed over (ký nhận), each with its seal state."""
    ctx, me = service_context(), _me()
    form = SheetForm()
    rec = _reconciled(ctx, me, number, form)
    if not form.validate_on_submit():
        return _sheet_page(form, rec, rec.sheet, 422)
    broken = list(form.broken.data or [])
    if broken and not (form.report.data or "").strip():
        form.report.errors = [_("Bì có dấu hiệu bóc mở: phải nhập nội dung biên bản.")]
        return _sheet_page(form, rec, rec.sheet, 422)
    try:
        signed = sign_sheet(ctx, me, number, form.items(), broken=broken,
                            report=form.report.data or "")
    except KT1Error as exc:
        form.show_error(exc, {"numbers": "scanned"})
        rec = _reconciled(ctx, me, number, form)
        return _sheet_page(form, rec, rec.sheet, exc.status)
    if signed.replayed:
        flash(_("Bảng kê %(sheet)s đã được ký nhận trước đó.", sheet=signed.sheet.number), "info")
    else:
        flash(_("Đã ký nhận %(count)s bưu gửi theo bảng kê %(sheet)s.",
                count=len(signed.accepted), sheet=signed.sheet.number), "success")
        if broken:
            flash(_("Đã lập biên bản niêm phong bất thường cho %(numbers)s.",
                    numbers=", ".join(broken)), "error")
        if signed.unprinted:
            flash(_("Lưu ý: nhãn của %(numbers)s chưa từng được in trên máy in nhãn; hãy kiểm "
                    "tra nhãn trên bì trước khi đóng túi.",
                    numbers=", ".join(signed.unprinted)), "warning")
    return redirect(url_for(".sheet", number=signed.sheet.number), code=303)


@bp.get("/sheets/<number>/sheet.pdf")
@requires(COUNTER)
def sheet_pdf(number: str) -> Any:
    """The handover sheet as printed by the agency, with the counter's signature once signed."""
    ctx, me = service_context(), _me()
    response = Response(sheet_pdf_body(ctx, number, me), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="bang-ke-{number.upper()}.pdf"'
    return response


# --------------------------------------------------------------------------- bags


@bp.route("/bags", methods=["GET", "POST"])
@requires(COUNTER)
def bags() -> Any:
    """The office's bags; make up a new one for another office."""
    ctx, me = service_context(), _me()
    form = NewBagForm()
    form.destination.choices = [(u.code, u.name)
                                for u in wl.post_offices(ctx, except_unit=me.unit_id)]
    status = 200
    if form.validate_on_submit():
        try:
            result = bagging.open_bag(ctx, me, form.destination.data or "", _scan_id())
        except KT1Error as exc:
            form.show_error(exc, {"destination": "destination"})
            status = exc.status
        else:
            flash(_("Đã mở túi %(bag)s. Quét các bưu gửi cho vào túi.",
                    bag=result.bag.number), "success")
            return redirect(url_for(".bag", number=result.bag.number), code=303)
    elif request.method == "POST":
        status = 422
    q = (request.args.get("q") or "").strip()[:48]
    page = wl.paginate(ctx, wl.office_bags(me, q), max(1, request.args.get("page", 1,
                                                                              type=int) or 1))
    return render_template("counter/bags.html", form=form, page=page, q=q), status


def _bag_forms(ctx: Ctx, me: User) -> dict[str, Any]:
    dispatch = DispatchForm(prefix="d")
    dispatch.courier.choices = [("", _("— Chọn bưu tá —"))] + [
        (u.username, f"{u.full_name} ({u.username})")
        for u in wl.colleagues(ctx, me.unit_id, [Role.COURIER])]
    return {"add": BagAddForm(prefix="a"), "seal": SealForm(prefix="s"), "dispatch": dispatch,
            "receive": ReceiveBagForm(prefix="r"), "unpack": ScanForm(prefix="o"),
            "remove": RemoveFromBagForm(prefix="x")}


def _bag_page(ctx: Ctx, me: User, bag: Bag, forms: dict[str, Any] | None = None,
              status: int = 200, **extra: Any) -> Any:
    forms = forms or _bag_forms(ctx, me)
    contents = wl.bag_contents(ctx, bag)
    can = bagging.bag_actions(me, bag, contents)
    loose = wl.loose_for_bag(ctx, me, bag) if can.add else []
    return render_template(
        "counter/bag.html", bag=bag, contents=contents, loose=loose, forms=forms,
        lines={line.envelope_id: line for line in bag.lines},
        off_route={e.id for e in [*contents, *loose] if not bagging.on_route(ctx, bag, e)},
        can_add=can.add, can_remove=can.remove, can_seal=can.seal, can_dispatch=can.dispatch,
        can_receive=can.receive, can_open=can.open, show_seal_number=can.show_seal_number,
        **extra), status


@bp.get("/bags/<number>")
@requires(COUNTER)
def bag(number: str) -> Any:
    """One bag: its manifest and what can be done with it here now."""
    ctx, me = service_context(), _me()
    return _bag_page(ctx, me, wl.find_bag(ctx, me, number))


@bp.post("/bags/<number>/add")
@requires(COUNTER)
def bag_add(number: str) -> Any:
    """Put scanned envelopes into the open bag (each listed on the manifest)."""
    ctx, me = service_context(), _me()
    found = wl.find_bag(ctx, me, number)
    forms = _bag_forms(ctx, me)
    form = forms["add"]
    picked = request.form.getlist("picked")
    if picked:  # ticked in the list and scanned: both go in
        form.numbers.data = "\n".join([*picked, form.numbers.data or ""]).strip()
    if not form.validate_on_submit():
        return _bag_page(ctx, me, found, forms, 422)
    override = (form.route_override.data or "").strip() or None
    results, status = _each(form.items(), lambda n: bagging.add_to_bag(
        ctx, me, found.number, wl.find_envelope(ctx, me, n).number, _scan_id(), ctx.now(),
        route_override=override))
    # An envelope for a place the bag does not go to waits, with its number kept in the
    # field, for the clerk to take it back or to give the reason to put it in anyway.
    off_route = [r["number"] for r in results if r.get("slug") == "route_mismatch"]
    if off_route:
        form.numbers.data = "\n".join(off_route)
    elif status == 200:
        form.numbers.data = ""
    if status == 200:
        form.route_override.data = ""
    ctx.session.expire_all()
    return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, status, results=results,
                     route_warning=bool(off_route))


@bp.post("/bags/<number>/remove")
@requires(COUNTER)
def bag_remove(number: str) -> Any:
    """Take an envelope out of the open bag again (put in by mistake), with the reason: an
    ``unbagged`` link in its chain, nothing deleted."""
    ctx, me = service_context(), _me()
    found = wl.find_bag(ctx, me, number)
    forms = _bag_forms(ctx, me)
    form = forms["remove"]
    if not form.validate_on_submit():
        return _bag_page(ctx, me, found, forms, 422)
    try:
        envelope = wl.find_envelope(ctx, me, form.number.data or "")
        bagging.remove_from_bag(ctx, me, found.number, envelope.number, _scan_id(),
                                ctx.now(), reason=form.reason.data or "")
    except KT1Error as exc:
        form.show_error(exc, {"invalid_field": "reason"})
        ctx.session.expire_all()
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, exc.status)
    flash(_("Đã lấy bưu gửi %(number)s ra khỏi túi %(bag)s.", number=envelope.number,
            bag=found.number), "success")
    return redirect(url_for(".bag", number=found.number), code=303)


@bp.post("/bags/<number>/seal")
@requires(COUNTER)
def bag_seal(number: str) -> Any:
    """Seal the bag (niêm phong) with its seal number; Tuyệt mật needs a GPS tracker."""
    ctx, me = service_context(), _me()
    found = wl.find_bag(ctx, me, number)
    forms = _bag_forms(ctx, me)
    form = forms["seal"]
    if not form.validate_on_submit():
        return _bag_page(ctx, me, found, forms, 422)
    try:
        bagging.seal_bag(ctx, me, found.number, form.seal_number.data or "", _scan_id(),
                         ctx.now(), tracker_id=form.tracker_id.data or None)
    except KT1Error as exc:
        form.show_error(exc, {"tracker_required": "tracker_id"})
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, exc.status)
    flash(_("Đã niêm phong túi %(bag)s, số niêm phong %(seal)s. In bảng kê túi để gửi kèm.",
            bag=found.number, seal=form.seal_number.data), "success")
    return redirect(url_for(".bag", number=found.number), code=303)


@bp.post("/bags/<number>/dispatch")
@requires(COUNTER)
def bag_dispatch(number: str) -> Any:
    """Hand the sealed bag to the courier, who signs with his PIN (chuyển đi)."""
    ctx, me = service_context(), _me()
    found = wl.find_bag(ctx, me, number)
    forms = _bag_forms(ctx, me)
    form = forms["dispatch"]
    if not form.validate_on_submit():
        return _bag_page(ctx, me, found, forms, 422)
    courier = wl.user_in_unit(ctx, me.unit_id, form.courier.data or "")
    if courier is None:
        form.courier.errors = [_("Bưu tá phải thuộc bưu cục của bạn.")]
        return _bag_page(ctx, me, found, forms, 422)
    try:
        bagging.dispatch_bag(
            ctx, me, found.number, courier,
            Receipt(user=courier, method=AckMethod.PIN, secret=form.pin.data), _scan_id(),
            ctx.now(), vehicle=form.vehicle.data or "",
            is_dedicated_vehicle=bool(form.is_dedicated.data),
            escort_name=form.escort_name.data or None)
    except AcknowledgementInvalidError:
        form.pin.errors = [_("Mã PIN của bưu tá không đúng.")]
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, 422)
    except KT1Error as exc:
        form.show_error(exc, {"escort_required": "escort_name", "forbidden": "courier"})
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, exc.status)
    flash(_("Đã giao túi %(bag)s cho %(name)s.", bag=found.number, name=courier.full_name),
          "success")
    return redirect(url_for(".bag", number=found.number), code=303)


@bp.post("/bags/<number>/receive")
@requires(COUNTER)
def bag_receive(number: str) -> Any:
    """Take the bag from the courier and check its seal number (nhận túi).

    The courier hands it over in person and identifies with his PIN or staff badge (both
    sides present, docs/access.md); a wrong one is refused next to its field and nothing is
    written. A different seal number is refused with the precise message and nothing is
    written; after reading it again the clerk may confirm the anomaly with a report (an
    incident).
    """
    ctx, me = service_context(), _me()
    found = wl.find_bag(ctx, me, number)
    forms = _bag_forms(ctx, me)
    form = forms["receive"]
    if not form.validate_on_submit():
        return _bag_page(ctx, me, found, forms, 422)
    courier = found.holder_user
    if courier is None:
        form.form_errors_extra.append(_("Không rõ ai đang giữ túi này."))
        return _bag_page(ctx, me, found, forms, 409)
    try:
        result = bagging.receive_bag(
            ctx, me, found.number, courier, form.seal_number.data or "",
            Receipt(user=me, method=AckMethod.SESSION), _scan_id(), ctx.now(),
            seal_state=SealState(form.seal_state.data),
            incident_report=form.report.data or None,
            courier_receipt=identification(courier, form.courier_pin.data))
    except (GiverIdentificationInvalidError, GiverIdentificationMissingError):
        form.courier_pin.errors = [_(
            "Mã PIN hoặc thẻ nhân viên của bưu tá %(name)s không đúng: chưa nhận túi.",
            name=courier.full_name)]
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, 422)
    except SealMismatchError as exc:
        form.seal_number.errors = [exc.message_local]
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, exc.status,
                         mismatch=True)
    except KT1Error as exc:
        form.show_error(exc, {"report_required": "report"})
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, exc.status)
    flash(_("Đã nhận túi %(bag)s từ %(name)s.", bag=found.number, name=courier.full_name),
          "success")
    if result.incident is not None:
        flash(_("Đã lập biên bản niêm phong bất thường số %(id)s, báo thủ trưởng và nơi gửi.",
                id=result.incident.id), "error")
    return redirect(url_for(".bag", number=found.number), code=303)


@bp.post("/bags/<number>/open")
@requires(COUNTER)
def bag_open(number: str) -> Any:
    """Open the bag and check what came out against the manifest (thiếu / thừa)."""
    ctx, me = service_context(), _me()
    found = wl.find_bag(ctx, me, number)
    forms = _bag_forms(ctx, me)
    form = forms["unpack"]
    if not form.validate_on_submit():
        return _bag_page(ctx, me, found, forms, 422)
    try:
        result = bagging.open_bag_contents(ctx, me, found.number, form.items(), _scan_id(),
                                           ctx.now())
    except KT1Error as exc:
        form.show_error(exc, {"numbers": "numbers"})
        return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, exc.status)
    if result.incident is not None:
        flash(_("Túi %(bag)s không khớp bảng kê: đã lập biên bản sai lệch số %(id)s.",
                bag=found.number, id=result.incident.id), "error")
    else:
        flash(_("Đã mở túi %(bag)s: đủ %(count)s bưu gửi theo bảng kê.", bag=found.number,
                count=len(result.handoffs)), "success")
    ctx.session.expire_all()
    return _bag_page(ctx, me, wl.find_bag(ctx, me, number), forms, 200,
                     missing=result.missing, extra=result.extra)


@bp.get("/bags/<number>/manifest.pdf")
@requires(COUNTER)
def bag_manifest(number: str) -> Any:
    """The bag's manifest to print, sign and send with the bag."""
    ctx, me = service_context(), _me()
    found = wl.find_bag(ctx, me, number)
    lines = {line.envelope_id: line for line in found.lines}
    rows = []
    for e in wl.bag_contents(ctx, found):
        line = lines[e.id]
        state = ""
        if line.found_at_opening is True:
            state = "Có"
        elif line.found_at_opening is False:
            state = "Thiếu"
        rows.append(paper.ManifestRow(
            line_no=line.line_no, number=e.number, mark=e.mark or "", service=vi(e.service),
            sender=e.sender_unit.name, recipient=e.recipient_unit.name, state=state))
    facts = [("Trạng thái", vi(found.status)),
             ("Số niêm phong", "(đọc trên túi khi nhận)" if not bagging.seal_number_shown(me, found)
              else found.seal_number or "(chưa niêm phong)"),
             ("Niêm phong lúc", vn_time(found.sealed_at) or "—"),
             ("Thiết bị định vị", found.tracker_id or "—"),
             ("Phương tiện", (found.vehicle or "—") + (
                 " (xe chuyên dùng)" if found.is_dedicated_vehicle else "")),
             ("Người áp tải", found.escort_name or "—")]
    body = paper.manifest_pdf(
        bag_number=found.number, origin=found.origin_unit.name,
        origin_parent=found.origin_unit.parent_name, destination=found.destination_unit.name,
        facts=facts, rows=rows, printed_at=ctx.now())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="bang-ke-tui-{found.number}.pdf"'
    return response


# --------------------------------------------------------------------------- delivery


def _delivery_form(ctx: Ctx, me: User, waiting: list[Any]) -> DeliveryOutForm:
    form = DeliveryOutForm()
    form.courier.choices = [("", _("— Chọn bưu tá —"))] + [
        (u.username, f"{u.full_name} ({u.username})")
        for u in wl.colleagues(ctx, me.unit_id, [Role.COURIER])]
    form.picked.choices = [(e.number, e.number) for e in waiting]
    return form


@bp.route("/delivery", methods=["GET", "POST"])
@requires(COUNTER)
def delivery() -> Any:
    """Give envelopes at the office to a courier for a delivery round (đi phát)."""
    ctx, me = service_context(), _me()
    waiting = list(ctx.session.execute(wl.at_office(me)).unique().scalars())
    form = _delivery_form(ctx, me, waiting)
    results: list[dict[str, Any]] = []
    status = 200
    if form.validate_on_submit():
        courier = wl.user_in_unit(ctx, me.unit_id, form.courier.data or "")
        if courier is None:
            form.courier.errors = [_("Bưu tá phải thuộc bưu cục của bạn.")]
            status = 422
        else:
            receipt = Receipt(user=courier, method=AckMethod.PIN, secret=form.pin.data)
            results, status = _each(form.numbers(), lambda n: record_handoff(
                ctx, me, HandoffRequest(
                    number=wl.find_envelope(ctx, me, n).number,
                    kind=EventKind.OUT_FOR_DELIVERY, scan_id=_scan_id(),
                    event_at=ctx.now(), receiver=courier, receipt=receipt,
                    location=me.unit.code)))
            done = sum(1 for r in results if r["ok"])
            if done:
                flash(_("Đã giao %(count)s bưu gửi cho %(name)s đi phát.", count=done,
                        name=courier.full_name), "success")
            ctx.session.expire_all()
            voidable_now(ctx, me, results)
            waiting = list(ctx.session.execute(wl.at_office(me)).unique().scalars())
            form.picked.choices = [(e.number, e.number) for e in waiting]
            form.picked.data = []
            if done == len(results):
                form.scanned.data = ""
    elif request.method == "POST":
        status = 422
    form.pin.data = ""
    failed = list(ctx.session.execute(wl.failed_deliveries(me)).unique().scalars())
    return render_template("counter/delivery.html", form=form, waiting=waiting,
                           results=results, failed=failed,
                           recent=recent_voidable(ctx, me, skip={r["number"] for r in results}),
                           last=wl.latest_handoffs(ctx, failed)), status


# --------------------------------------------------------------------------- courier


def _round_page(ctx: Ctx, me: User, status: int = 200,
                forms: dict[tuple[str, str], Any] | None = None) -> Any:
    items = list(ctx.session.execute(wl.courier_round(me)).unique().scalars())
    forms = forms or {}
    rows = []
    for e in items:
        deliver_form = forms.get(("deliver", e.number)) or DeliverForm(
            prefix=f"d{e.id}", formdata=None)
        deliver_form.receiver.choices = [("", _("— Chọn văn thư nhận —"))] + [
            (u.username, f"{u.full_name} ({u.username})")
            for u in wl.colleagues(ctx, e.recipient_unit_id, [Role.REGISTRY_CLERK])]
        failed_form = forms.get(("failed", e.number)) or FailedForm(
            prefix=f"f{e.id}", formdata=None)
        rows.append({"envelope": e, "deliver": deliver_form, "failed": failed_form})
    return render_template("counter/round.html", rows=rows,
                           last=wl.latest_handoffs(ctx, items)), status


@bp.get("/round")
@requires(COURIER)
def round_page() -> Any:
    """The courier's round: what he carries, to deliver or to report as not delivered."""
    ctx, me = service_context(), _me()
    return _round_page(ctx, me)


def _round_envelope(ctx: Ctx, me: User) -> Any:
    """The envelope a round form is about (its prefix names it), scoped to the courier."""
    number = (request.form.get("number") or "").strip()
    return wl.find_envelope(ctx, me, number)


@bp.post("/round/deliver")
@requires(COURIER)
def round_deliver() -> Any:
    """Deliver to the recipient unit's registry clerk, who signs with her PIN (phát)."""
    ctx, me = service_context(), _me()
    envelope = _round_envelope(ctx, me)
    form = DeliverForm(prefix=f"d{envelope.id}")
    form.receiver.choices = [(u.username, u.username) for u in wl.colleagues(
        ctx, envelope.recipient_unit_id, [Role.REGISTRY_CLERK])]
    forms: dict[tuple[str, str], Any] = {("deliver", envelope.number): form}
    if not form.validate_on_submit():
        return _round_page(ctx, me, 422, forms)
    receiver = wl.user_in_unit(ctx, envelope.recipient_unit_id, form.receiver.data or "")
    if receiver is None:
        form.receiver.errors = [_("Người nhận phải là văn thư của cơ quan nhận.")]
        return _round_page(ctx, me, 422, forms)
    try:
        deliver(ctx, me, envelope.number, receiver,
                Receipt(user=receiver, method=AckMethod.PIN, secret=form.pin.data),
                _scan_id(), ctx.now(), location=envelope.recipient_unit.code)
    except AcknowledgementInvalidError:
        form.pin.errors = [_("Mã PIN của văn thư không đúng.")]
        return _round_page(ctx, me, 422, forms)
    except KT1Error as exc:
        form.show_error(exc)
        return _round_page(ctx, me, exc.status, forms)
    flash(_("Đã phát bưu gửi %(number)s cho %(name)s.", number=envelope.number,
            name=receiver.full_name), "success")
    return redirect(url_for(".round_page"), code=303)


@bp.post("/round/failed")
@requires(COURIER)
def round_failed() -> Any:
    """Record a failed delivery attempt with its reason code."""
    ctx, me = service_context(), _me()
    envelope = _round_envelope(ctx, me)
    form = FailedForm(prefix=f"f{envelope.id}")
    forms: dict[tuple[str, str], Any] = {("failed", envelope.number): form}
    if not form.validate_on_submit():
        return _round_page(ctx, me, 422, forms)
    try:
        record_handoff(ctx, me, HandoffRequest(
            number=envelope.number, kind=EventKind.DELIVERY_FAILED, scan_id=_scan_id(),
            event_at=ctx.now(), reason=DeliveryFailure(form.reason.data),
            note=form.note.data or "", location=envelope.recipient_unit.code))
    except KT1Error as exc:
        form.show_error(exc)
        return _round_page(ctx, me, exc.status, forms)
    flash(_("Đã ghi phát không thành công: %(number)s (%(reason)s).", number=envelope.number,
            reason=vi(DeliveryFailure(form.reason.data))), "success")
    return redirect(url_for(".round_page"), code=303)


# --------------------------------------------------------------------------- corrections


def voidable_now(ctx: Ctx, me: User, results: list[dict[str, Any]]) -> None:
    """Mark each result just recorded that its operator may still void (``void_until``:
    until when), for the "Hủy lần quét vừa rồi" control beside it."""
    for r in results:
        if not r["ok"]:
            continue
        envelope = wl.find_envelope(ctx, me, r["number"])
        r["number"] = envelope.number
        last = last_link(ctx, envelope)
        if last is not None and may_void(ctx, me, envelope, last):
            r["void_until"] = last.recorded_at + ctx.settings.void_window


#: How many of one's latest scans the delivery page looks at for "still voidable".
RECENT_SCANS = 50


def recent_voidable(ctx: Ctx, me: User, skip: set[str] | None = None) -> list[dict[str, Any]]:
    """Envelopes this clerk gave out lately whose hand-over they may still void (the last
    link of the envelope, within the window): the "Vừa giao, còn hủy được" list."""
    found = []
    rows = ctx.session.execute(  # each with its envelope, in one query
        select(Handoff, Envelope).join(Envelope, Envelope.id == Handoff.envelope_id)
        .where(Handoff.recorded_by_id == me.id, Handoff.kind.in_(list(VOIDABLE_EVENTS)))
        .order_by(Handoff.id.desc()).limit(RECENT_SCANS)).tuples()
    for h, envelope in rows:
        if envelope.number in (skip or set()) or h.seq != envelope.chain_length - 1:
            continue
        if may_void(ctx, me, envelope, h):
            found.append({"envelope": envelope, "handoff": h,
                          "until": h.recorded_at + ctx.settings.void_window})
    return found


def _next_page() -> str:
    """Where the void form came from (a local path of these pages only), else delivery."""
    return local_path(request.form.get("next"), url_for(".delivery"))


@bp.post("/envelopes/<number>/void")
@requires(COUNTER)
def void_scan(number: str) -> Any:
    """Void one's own last scan of the envelope within minutes, with the reason (hủy lần
    quét nhầm): a ``voided`` link gives it back as it was, nothing is deleted
    (docs/rules.md rule 5). Another office's envelope answers as an unknown number."""
    ctx, me = service_context(), _me()
    envelope = wl.find_envelope(ctx, me, number)
    form = VoidForm(prefix="v")
    back = _next_page()
    status = 422
    if form.validate_on_submit():
        try:
            void_last_scan(ctx, me, envelope.number, form.reason.data or "", _scan_id())
        except KT1Error as exc:
            form.show_error(exc, {"invalid_field": "reason"})
            status = exc.status
        else:
            flash(_("Đã hủy lần quét cuối của bưu gửi %(number)s: bưu gửi trở về bạn giữ.",
                    number=envelope.number), "success")
            return redirect(back, code=303)
    ctx.session.expire_all()
    envelope = wl.find_envelope(ctx, me, envelope.number)
    last = last_link(ctx, envelope)
    return render_template("counter/void.html", envelope=envelope, form=form, last=last,
                           back=back, may_void=may_void(ctx, me, envelope, last)), status
