"""The administrator's pages (quản trị hệ thống): units, users, devices, printers, rules.

Administrators manage the whole installation, so these pages are not scoped to a unit;
only administrators open them. A secret made here (a device token, a staff badge code, a
new password) is shown once, in the response to the request that made it, and never put
in the session, a flash message or a log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from kt1.database import service_context
from kt1.errors import KT1Error, PrinterOfflineError, PrintJobFailedError
from kt1.models import User
from kt1.models.enums import Role, Route, ServiceClass, UnitKind
from kt1.services import badges, deadlines, devices, directory, leaving, printing
from kt1.services import worklists as wl
from kt1.services.context import Ctx
from kt1.services.holdings import holdings_of
from kt1.services.subjects import local_date
from kt1.web import requires
from kt1.web.adminforms import (
    KIND_WORDS,
    ROLE_WORDS,
    BadgeForm,
    DayOffForm,
    DeviceForm,
    HandOverAllForm,
    MoveUserForm,
    PrinterForm,
    RuleSetForm,
    ServingForm,
    UnitEditForm,
    UnitForm,
    UserEditForm,
    UserFilterForm,
    UserForm,
    YearForm,
)
from kt1.web.forms import EmptyForm
from kt1.web.leaving_paper import handover_record_pdf
from kt1.web.officer import page_of
from kt1.web.workforms import identification

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN = Role.ADMINISTRATOR


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return,unused-ignore]


def _page_no() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _unit_choices(ctx: Ctx, active_only: bool = True) -> list[tuple[str, str]]:
    """Units to pick from; a deactivated unit takes nothing new (but is still filtered on)."""
    return [(u.code, f"{u.code} — {u.name}")
            for u in directory.list_units(ctx, active_only=active_only)]


@bp.app_template_filter("role_label")
def _role_label(value: Any) -> str:
    word = ROLE_WORDS.get(Role(value))
    return _(word) if word else str(value)


@bp.app_template_filter("unit_kind_label")
def _unit_kind_label(value: Any) -> str:
    from kt1.models.enums import UnitKind

    word = KIND_WORDS.get(UnitKind(value))
    return _(word) if word else str(value)


@bp.get("/")
@requires(ADMIN)
def index() -> Any:
    """What there is to manage, with counts."""
    ctx = service_context()
    return render_template(
        "admin/index.html",
        units=wl.count(ctx, directory.units_query()),
        users=wl.count(ctx, directory.users_query()),
        devices=len(devices.list_devices(ctx)),
        printers=len(printing.list_printers(ctx)),
        rule_sets=len(deadlines.list_rule_sets(ctx)))


# --------------------------------------------------------------------------- units


@bp.route("/units", methods=["GET", "POST"])
@requires(ADMIN)
def units() -> Any:
    """Every unit (agencies and KT1 post offices), and the form to add one."""
    ctx, me = service_context(), _me()
    form = UnitForm()
    status = 200
    if form.validate_on_submit():
        try:
            unit = directory.add_unit(
                ctx, me, form.code.data or "", form.name.data or "", form.kind.data or "",
                form.province_code.data or "", form.province_name.data or "",
                address=form.address.data or "", parent_name=form.parent_name.data or "")
        except KT1Error as exc:
            form.show_error(exc)
            status = exc.status
        else:
            flash(_("Đã thêm đơn vị %(code)s — %(name)s.", code=unit.code, name=unit.name),
                  "success")
            return redirect(url_for(".units"), code=303)
    elif request.method == "POST":
        status = 422
    page = wl.paginate(ctx, directory.units_query(), _page_no())
    return render_template("admin/units.html", form=form, page=page,
                           action=EmptyForm()), status


@bp.route("/units/<code>/serving", methods=["GET", "POST"])
@requires(ADMIN)
def unit_serving(code: str) -> Any:
    """The KT1 post offices that serve an agency: only they accept its envelopes
    (docs/access.md). Ticking none leaves the agency with no office to send through."""
    ctx, me = service_context(), _me()
    unit = directory.find_unit(ctx, code)
    if unit.kind is not UnitKind.AGENCY:
        abort(404)
    form = ServingForm()
    form.offices.choices = [(u.code, f"{u.code} — {u.name} ({u.province_name})")
                            for u in wl.post_offices(ctx)]
    status = 200
    if form.validate_on_submit():
        try:
            unit = directory.set_serving_offices(ctx, me, unit.code, list(form.offices.data or []))
        except KT1Error as exc:
            form.show_error(exc, {"unknown_unit": "offices", "post_office": "offices"})
            status = exc.status
        else:
            if unit.serving_offices:
                flash(_("Đã lưu: %(unit)s được phục vụ bởi %(offices)s.", unit=unit.code,
                        offices=", ".join(o.code for o in unit.serving_offices)), "success")
            else:
                flash(_("Đã lưu: %(unit)s không còn bưu cục KT1 nào phục vụ; bưu cục sẽ không "
                        "nhận bưu gửi của đơn vị.", unit=unit.code), "success")
            return redirect(url_for(".unit_serving", code=unit.code), code=303)
    elif request.method == "POST":
        status = 422
    else:
        form.offices.data = [o.code for o in unit.serving_offices]
    return render_template("admin/serving.html", form=form, unit=unit), status


@bp.route("/units/<code>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def unit_edit(code: str) -> Any:
    """Correct a unit's name, province, address or parent body (the code and kind stay)."""
    ctx, me = service_context(), _me()
    unit = directory.find_unit(ctx, code)
    form = UnitEditForm()
    status = 200
    if form.validate_on_submit():
        try:
            unit = directory.update_unit(
                ctx, me, unit.code, name=form.name.data or "",
                province_code=form.province_code.data or "",
                province_name=form.province_name.data or "", address=form.address.data or "",
                parent_name=form.parent_name.data or "")
        except KT1Error as exc:
            form.show_error(exc)
            status = exc.status
        else:
            flash(_("Đã lưu đơn vị %(code)s — %(name)s.", code=unit.code, name=unit.name),
                  "success")
            return redirect(url_for(".units"), code=303)
    elif request.method == "POST":
        status = 422
    else:
        form.process(obj=unit)
    return render_template("admin/unit_edit.html", form=form, unit=unit), status


@bp.post("/units/<code>/deactivate")
@requires(ADMIN)
def unit_deactivate(code: str) -> Any:
    """Deactivate a unit: refused while anything is held or open there (``unit_in_use``)."""
    return _set_unit_active(code, False)


@bp.post("/units/<code>/activate")
@requires(ADMIN)
def unit_activate(code: str) -> Any:
    return _set_unit_active(code, True)


def _set_unit_active(code: str, active: bool) -> Any:
    ctx, me = service_context(), _me()
    unit = directory.find_unit(ctx, code)
    if EmptyForm().validate_on_submit():
        try:
            unit = directory.set_unit_active(ctx, me, unit.code, active)
        except KT1Error as exc:
            flash(exc.message_local, "error")
        else:
            if active:
                flash(_("Đơn vị %(code)s hoạt động trở lại.", code=unit.code), "success")
            else:
                flash(_("Đơn vị %(code)s đã ngừng hoạt động: không nhận thêm người dùng, thiết "
                        "bị hay bưu gửi gửi đến.", code=unit.code), "success")
    return redirect(url_for(".units") + f"#unit-{unit.code}", code=303)


# --------------------------------------------------------------------------- users


def _users_page(ctx: Ctx, form: UserForm, status: int = 200, **shown: Any) -> Any:
    filt = UserFilterForm(request.args)
    choices = _unit_choices(ctx, active_only=False)
    filt.unit.choices = [("", _("Mọi đơn vị")), *choices]
    filt.validate()
    unit = filt.unit.data if not filt.unit.errors else ""
    q = (filt.q.data or "").strip()[:64]
    page = wl.paginate(ctx, directory.users_query(unit or None, q), _page_no())
    args = {k: v for k, v in (("unit", unit), ("q", q)) if v}
    return render_template("admin/users.html", form=form, filt=filt, page=page, args=args,
                           action=EmptyForm(), **shown), status


def _shown_once(result: tuple[str, int]) -> Response:
    """A response that carries a secret: never stored by the browser or a proxy."""
    response = Response(result[0], status=result[1], mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _user_form(ctx: Ctx, blank: bool = False) -> UserForm:
    form = UserForm(formdata=None) if blank else UserForm()
    form.unit.choices = [("", _("— Chọn đơn vị —")), *_unit_choices(ctx)]
    return form


@bp.route("/users", methods=["GET", "POST"])
@requires(ADMIN)
def users() -> Any:
    """Users by unit and role; add one (the badge code is shown once)."""
    ctx, me = service_context(), _me()
    form = _user_form(ctx)
    if form.validate_on_submit():
        try:
            user, badge = directory.add_user(
                ctx, me, form.username.data or "", form.full_name.data or "",
                form.role.data or "", form.unit.data or "", form.password.data or "",
                pin=(form.pin.data or "").strip() or None,
                is_unit_head=bool(form.is_unit_head.data),
                email=(form.email.data or "").strip() or None)
        except KT1Error as exc:
            form.show_error(exc, {"unknown_unit": "unit"})
            return _users_page(ctx, form, exc.status)
        # The badge code goes in this response only (never in the session or a flash):
        # the new user's page, whose address the browser shows instead of this POST's, so
        # reloading it shows neither the code nor what was typed (the PIN, the password).
        return _shown_once(_user_page(ctx, user, 201, created=True, badge=badge))
    if request.method == "POST":
        return _users_page(ctx, form, 422)
    return _users_page(ctx, form)


@bp.post("/users/<username>/deactivate")
@requires(ADMIN)
def user_deactivate(username: str) -> Any:
    """Deactivate a user: their sessions end at once and they can no longer sign in."""
    return _set_active(username, False)


@bp.post("/users/<username>/activate")
@requires(ADMIN)
def user_activate(username: str) -> Any:
    return _set_active(username, True)


def _set_active(username: str, active: bool) -> Any:
    ctx, me = service_context(), _me()
    if not EmptyForm().validate_on_submit():
        return redirect(url_for(".users"), code=303)
    try:
        user = directory.set_user_active(ctx, me, username, active)
    except KT1Error as exc:
        if exc.status == 404:
            raise
        if exc.slug == "invalid_field" and not active:
            flash(_("Không thể khóa chính tài khoản của bạn."), "error")
            return redirect(url_for(".users"), code=303)
        # e.g. user_holds_items: what the user holds is handed over first (on their page)
        flash(exc.message_local, "error")
        return redirect(url_for(".user_page", username=username), code=303)
    if active:
        flash(_("Đã mở lại tài khoản %(user)s.", user=user.username), "success")
    else:
        flash(_("Đã khóa tài khoản %(user)s; mọi phiên đăng nhập của người này đã kết thúc.",
                user=user.username), "success")
    return redirect(url_for(".users", q=user.username), code=303)


# --------------------------------------------------------------------------- one user


def _move_form(ctx: Ctx, user: User) -> MoveUserForm:
    form = MoveUserForm()
    form.unit.choices = _unit_choices(ctx)
    if not user.unit.is_active:
        form.unit.choices = [(user.unit.code, f"{user.unit.code} — {user.unit.name}"),
                             *form.unit.choices]
    if not form.is_submitted():
        form.unit.data, form.role.data = user.unit.code, user.role.value
    return form


def _handover_form(ctx: Ctx, user: User) -> HandOverAllForm:
    form = HandOverAllForm()
    form.receiver.choices = [("", _("— Chọn người nhận —"))] + [
        (u.username, f"{u.full_name} ({u.username})") for u in leaving.colleagues(ctx, user)]
    return form


def _edit_form(user: User) -> UserEditForm:
    form = UserEditForm()
    if not form.is_submitted():
        form.full_name.data, form.email.data = user.full_name, user.email or ""
        form.is_unit_head.data = user.is_unit_head
    return form


def _printer_choices(ctx: Ctx) -> list[tuple[str, str]]:
    return [(p.name, f"{p.name} ({p.workstation})" if p.workstation else p.name)
            for p in printing.list_printers(ctx)]


def _badge_form(ctx: Ctx, code: str = "", *, posted: bool = False) -> BadgeForm:
    form = BadgeForm() if posted else BadgeForm(formdata=None)
    form.printer.choices = _printer_choices(ctx)
    if code:
        form.code.data = code
    return form


def _user_page(ctx: Ctx, user: User, status: int = 200, *, move: MoveUserForm | None = None,
               hand: HandOverAllForm | None = None, edit: UserEditForm | None = None,
               created: bool = False, badge: str = "",
               badge_form: BadgeForm | None = None) -> tuple[str, int]:
    held = holdings_of(ctx, user)
    return render_template(
        "admin/user.html", user=user, held=held, action=EmptyForm(),
        move=move or _move_form(ctx, user), hand=hand or _handover_form(ctx, user),
        edit=edit or _edit_form(user), created=created, badge=badge,
        badge_form=badge_form or _badge_form(ctx, badge), new_badge=_badge_form(ctx),
        records=leaving.records_of(ctx, user)), status


@bp.post("/users/<username>/edit")
@requires(ADMIN)
def user_edit(username: str) -> Any:
    """Correct the user's name and email, and set whether they head their unit."""
    ctx, me = service_context(), _me()
    user = directory.find_user(ctx, username)
    form = _edit_form(user)
    if not form.validate_on_submit():
        return _user_page(ctx, user, 422, edit=form)
    try:
        directory.update_user(ctx, me, user.username, full_name=form.full_name.data or "",
                              email=(form.email.data or "").strip() or None,
                              is_unit_head=bool(form.is_unit_head.data))
    except KT1Error as exc:
        form.show_error(exc)
        return _user_page(ctx, directory.find_user(ctx, username), exc.status, edit=form)
    flash(_("Đã lưu thông tin của %(user)s.", user=user.username), "success")
    return redirect(url_for(".user_page", username=user.username), code=303)


# A badge: printed on a chosen printer, or downloaded (PNG to look at, PDF to print on an
# office printer). With the code shown once (a new user) the current badge is printed;
# without it a new code is made and the old badge ends (``kt1 badge reissue``).


@bp.post("/users/<username>/badge/print")
@requires(ADMIN)
def badge_print(username: str) -> Any:
    ctx, me = service_context(), _me()
    user = directory.find_user(ctx, username)
    form = _badge_form(ctx, posted=True)
    code = (form.code.data or "").strip()
    if not form.validate_on_submit():
        return redirect(url_for(".user_page", username=user.username), code=303)
    width = int(form.width_mm.data or 80)
    try:
        if code:
            outcome = badges.print_badge(ctx, me, user.username, code,
                                         printer=form.printer.data or None, width_mm=width)
        else:
            outcome = badges.reissue_badge(ctx, me, user.username,
                                           printer=form.printer.data or None, width_mm=width)
    except KT1Error as exc:
        if exc.slug == "unknown_user":
            raise
        if code and exc.slug != "badge_code_invalid":
            # Still the response to a request that carries the code: shown again so that
            # another printer can be tried.
            form.show_error(exc, {"badge_not_printed": "printer", "unknown_printer": "printer",
                                  "printer_invalid": "printer", "no_printer": "printer"})
            ctx.session.rollback()
            return _shown_once(_user_page(ctx, directory.find_user(ctx, username), exc.status,
                                          created=True, badge=code, badge_form=form))
        flash(exc.message_local, "error")
        return redirect(url_for(".user_page", username=user.username), code=303)
    if outcome.is_new_code:
        flash(_("Đã in thẻ mới của %(user)s trên máy in %(printer)s; thẻ cũ không còn dùng "
                "được.", user=outcome.username, printer=outcome.printer), "success")
    else:
        flash(_("Đã in thẻ của %(user)s trên máy in %(printer)s.", user=outcome.username,
                printer=outcome.printer), "success")
    return redirect(url_for(".user_page", username=user.username), code=303)


@bp.post("/users/<username>/badge/<fmt>")
@requires(ADMIN)
def badge_download(username: str, fmt: str) -> Any:
    if fmt not in ("png", "pdf"):
        abort(404)
    ctx, me = service_context(), _me()
    user = directory.find_user(ctx, username)
    form = BadgeForm()
    if not form.validate_on_submit():
        return redirect(url_for(".user_page", username=user.username), code=303)
    code = (form.code.data or "").strip()
    width = 58 if form.width_mm.data == "58" else 80
    try:
        if code:
            rendered = badges.badge_from_code(ctx, me, user.username, code, width)
        else:
            rendered = badges.reissue_badge_file(ctx, me, user.username, width)
    except KT1Error as exc:
        if exc.slug == "unknown_user":
            raise
        flash(exc.message_local, "error")
        return redirect(url_for(".user_page", username=user.username), code=303)
    data = rendered.png() if fmt == "png" else badges.badge_pdf(rendered)
    response = Response(data, mimetype="image/png" if fmt == "png" else "application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="the-{user.username}.{fmt}"')
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/users/<username>")
@requires(ADMIN)
def user_page(username: str) -> Any:
    """One user: what they hold (numbers only), hand it all over to a colleague, lock the
    account, move them to another unit or change their role (refused while they hold
    anything), and their handover records."""
    ctx = service_context()
    return _user_page(ctx, directory.find_user(ctx, username))


@bp.post("/users/<username>/move")
@requires(ADMIN)
def user_move(username: str) -> Any:
    """Move the user to another unit and/or give them another role; their sessions end."""
    ctx, me = service_context(), _me()
    user = directory.find_user(ctx, username)
    form = _move_form(ctx, user)
    if not form.validate_on_submit():
        return _user_page(ctx, user, 422, move=form)
    try:
        moved = directory.move_user(ctx, me, user.username, form.unit.data or "",
                                    form.role.data or None)
    except KT1Error as exc:
        if exc.slug == "unknown_user":
            raise
        form.show_error(exc, {"unknown_unit": "unit", "role_unit_mismatch": "unit"})
        return _user_page(ctx, directory.find_user(ctx, username), exc.status, move=form)
    flash(_("Đã lưu: %(user)s làm %(role)s tại %(unit)s; mọi phiên đăng nhập của người này đã "
            "kết thúc.", user=moved.username, role=_role_label(moved.role),
            unit=moved.unit.code), "success")
    return redirect(url_for(".user_page", username=moved.username), code=303)


@bp.post("/users/<username>/handover")
@requires(ADMIN)
def user_handover(username: str) -> Any:
    """Hand everything the user holds to the chosen colleague, who types their PIN or scans
    their badge; then the handover record (biên bản bàn giao) to print."""
    ctx, me = service_context(), _me()
    user = directory.find_user(ctx, username)
    form = _handover_form(ctx, user)
    if not form.validate_on_submit():
        return _user_page(ctx, user, 422, hand=form)
    try:
        receiver = directory.find_user(ctx, form.receiver.data or "")
        record = leaving.hand_over_all(ctx, me, user.username, receiver.username,
                                       identification(receiver, form.receiver_pin.data))
    except KT1Error as exc:
        if exc.slug == "unknown_user" and exc.details.get("username") == username:
            raise
        form.show_error(exc, {"acknowledgement_invalid": "receiver_pin",
                              "acknowledgement_missing": "receiver_pin",
                              "unknown_user": "receiver"})
        return _user_page(ctx, directory.find_user(ctx, username), exc.status, hand=form)
    flash(_("Đã bàn giao: biên bản %(number)s.", number=record.number), "success")
    return redirect(url_for(".handover_record", number=record.number), code=303)


@bp.get("/handover-records/<number>")
@requires(ADMIN)
def handover_record(number: str) -> Any:
    """A handover record (biên bản bàn giao): who, to whom, when, the items; the PDF."""
    ctx = service_context()
    record = leaving.get_record(ctx, number)
    return render_template("admin/handover_record.html", record=record)


@bp.get("/handover-records/<number>.pdf")
@requires(ADMIN)
def handover_record_pdf_view(number: str) -> Any:
    """The handover record to print and sign (both sides and the head of the unit)."""
    ctx = service_context()
    record = leaving.get_record(ctx, number)
    response = Response(handover_record_pdf(record, ctx.now()), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{record.number}.pdf"'
    return response


@bp.post("/users/<username>/password")
@requires(ADMIN)
def user_password(username: str) -> Any:
    """Give the user a new random password, shown once; their sessions end at once."""
    ctx, me = service_context(), _me()
    if not EmptyForm().validate_on_submit():
        return redirect(url_for(".users"), code=303)
    user, password = directory.reset_password(ctx, me, username)
    return _shown_once(_users_page(ctx, _user_form(ctx, blank=True), 200, reset=user,
                                   password=password))


# --------------------------------------------------------------------------- devices


#: What a device-enrolment QR code carries before the token: the /scan/ page reads it.
ENROL_PREFIX = "KT1-DEVICE:"


def enrolment_qr(token: str) -> dict[str, Any]:
    """The device token as a QR code (its size in modules and an SVG path of the dark ones),
    shown once with the token; nothing of it is cached or stored: the server keeps only the
    token's hash."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(ENROL_PREFIX + token)
    code.make(fit=True)
    matrix = code.get_matrix()
    path = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix)
                   for x, dark in enumerate(row) if dark)
    return {"size": len(matrix), "path": path}


def _devices_page(ctx: Ctx, form: DeviceForm, status: int = 200, **shown: Any) -> Any:
    if shown.get("token"):
        shown["token_qr"] = enrolment_qr(str(shown["token"]))
    page = page_of(devices.list_devices(ctx), _page_no())
    return render_template("admin/devices.html", form=form, page=page, action=EmptyForm(),
                           **shown), status


def _device_form(ctx: Ctx) -> DeviceForm:
    form = DeviceForm()
    form.unit.choices = [("", _("— Chọn đơn vị —")), *_unit_choices(ctx)]
    return form


@bp.route("/devices", methods=["GET", "POST"])
@requires(ADMIN)
def devices_page() -> Any:
    """Scanner devices; issue one (its token is shown once), revoke one."""
    ctx, me = service_context(), _me()
    form = _device_form(ctx)
    if form.validate_on_submit():
        try:
            device, token = devices.add_device(ctx, me, form.name.data or "",
                                               form.unit.data or "")
        except KT1Error as exc:
            form.show_error(exc, {"unknown_unit": "unit", "already_exists": "name"})
            return _devices_page(ctx, form, exc.status)
        return _devices_page(ctx, _device_form(ctx), 201, created=device, token=token)
    if request.method == "POST":
        return _devices_page(ctx, form, 422)
    return _devices_page(ctx, form)


@bp.post("/devices/<name>/revoke")
@requires(ADMIN)
def device_revoke(name: str) -> Any:
    """Revoke a device's token at once (a lost or stolen scanner)."""
    ctx, me = service_context(), _me()
    if EmptyForm().validate_on_submit():
        try:
            device = devices.revoke_device(ctx, me, name)
        except KT1Error as exc:
            flash(exc.message_local, "error")
            return redirect(url_for(".devices_page"), code=303)
        flash(_("Đã thu hồi thiết bị %(name)s; mã của thiết bị không còn dùng được.",
                name=device.name), "success")
    return redirect(url_for(".devices_page"), code=303)


@bp.route("/devices/<name>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def device_edit(name: str) -> Any:
    """Rename a device in use or give it to another unit (its token stays)."""
    ctx, me = service_context(), _me()
    device = next((d for d in devices.list_devices(ctx) if d.name == name and d.is_active),
                  None)
    if device is None:
        abort(404)
    form = _device_form(ctx)
    status = 200
    if form.validate_on_submit():
        try:
            device = devices.update_device(ctx, me, device.name, form.name.data or "",
                                           form.unit.data or "")
        except KT1Error as exc:
            form.show_error(exc, {"unknown_unit": "unit", "unit_inactive": "unit",
                                  "already_exists": "name"})
            status = exc.status
        else:
            flash(_("Đã lưu thiết bị %(name)s (%(unit)s).", name=device.name,
                    unit=device.unit.code), "success")
            return redirect(url_for(".devices_page"), code=303)
    elif request.method == "POST":
        status = 422
    else:
        form.name.data, form.unit.data = device.name, device.unit.code
    return render_template("admin/device_edit.html", form=form, device=device), status


# --------------------------------------------------------------------------- printers


def _printers_page(ctx: Ctx, form: PrinterForm, status: int = 200, **shown: Any) -> Any:
    page = page_of(printing.list_printers(ctx), _page_no())
    return render_template("admin/printers.html", form=form, page=page, action=EmptyForm(),
                           **shown), status


def _printer_values(form: PrinterForm) -> dict[str, Any] | None:
    built = form.built()
    if built is None:
        return None
    uri, profile = built
    return {"uri": uri, "profile": profile, "width_mm": int(form.width_mm.data or 80),
            "workstation": form.workstation.data or "", "is_default": bool(form.is_default.data)}


_PRINTER_FIELDS = {"printer_invalid": "host", "already_exists": "name"}


def _printer_error_field(form: PrinterForm) -> dict[str, str]:
    """A refused URI is shown next to the field it was made from."""
    model = form.model.data or ""
    where = "uri" if (form.uri.data or "").strip() or model == "uri" else (
        "folder" if model == "pdf" else "host")
    return {**_PRINTER_FIELDS, "printer_invalid": where, "uri": where}


@bp.route("/printers", methods=["GET", "POST"])
@requires(ADMIN)
def printers() -> Any:
    """Printers per workstation; add one (its URI, made from the model and the network
    address, is checked now), print a test page, change or remove one."""
    ctx, me = service_context(), _me()
    form = PrinterForm()
    if form.validate_on_submit():
        values = _printer_values(form)
        if values is None:
            return _printers_page(ctx, form, 422)
        try:
            printer = printing.add_printer(ctx, me, form.name.data or "", **values)
        except KT1Error as exc:
            form.show_error(exc, _printer_error_field(form))
            return _printers_page(ctx, form, exc.status)
        flash(_("Đã thêm máy in %(name)s. Hãy in thử một trang.", name=printer.name),
              "success")
        return redirect(url_for(".printers"), code=303)
    if request.method == "POST":
        return _printers_page(ctx, form, 422)
    return _printers_page(ctx, form)


@bp.route("/printers/<printer>/edit", methods=["GET", "POST"])
@requires(ADMIN)
def printer_edit(printer: str) -> Any:
    """Change a printer's model, address, paper, workstation or default flag."""
    ctx, me = service_context(), _me()
    found = printing.find_printer(ctx, printer)
    form = PrinterForm()
    status = 200
    if form.is_submitted():
        form.name.data = found.name  # the name stays: print jobs are kept under it
    if form.validate_on_submit():
        values = _printer_values(form)
        if values is None:
            status = 422
        else:
            try:
                printing.update_printer(ctx, me, found.name, **values)
            except KT1Error as exc:
                form.show_error(exc, _printer_error_field(form))
                status = exc.status
            else:
                flash(_("Đã lưu máy in %(name)s. Hãy in thử một trang.", name=found.name),
                      "success")
                return redirect(url_for(".printers"), code=303)
    elif request.method == "POST":
        status = 422
    else:
        form.name.data = found.name
        form.fill_from(found.uri, found.profile)
        form.width_mm.data = str(found.width_mm)
        form.workstation.data, form.is_default.data = found.workstation, found.is_default
    return render_template("admin/printer_edit.html", form=form, printer=found), status


@bp.post("/printers/<name>/remove")
@requires(ADMIN)
def printer_remove(name: str) -> Any:
    """Take a printer out of use (its past print jobs keep its name)."""
    ctx, me = service_context(), _me()
    printer = printing.find_printer(ctx, name)
    if EmptyForm().validate_on_submit():
        printing.remove_printer(ctx, me, printer.name)
        flash(_("Đã bỏ máy in %(name)s khỏi danh sách.", name=printer.name), "success")
    return redirect(url_for(".printers"), code=303)


@bp.post("/printers/<name>/test")
@requires(ADMIN)
def printer_test(name: str) -> Any:
    """Print a test page and say whether it came out."""
    ctx, me = service_context(), _me()
    if not EmptyForm().validate_on_submit():
        return redirect(url_for(".printers"), code=303)
    printer = printing.find_printer(ctx, name)
    try:
        outcome = printing.print_test_page(ctx, me, printer.name)
    except (PrinterOfflineError, PrintJobFailedError) as exc:
        flash(_("Máy in %(name)s chưa in được trang thử: %(reason)s", name=printer.name,
                reason=exc.message_local), "error")
    else:
        flash(_("Máy in %(name)s đã nhận trang thử (lệnh in số %(job)s).", name=outcome.printer,
                job=outcome.job_id), "success")
    return redirect(url_for(".printers"), code=303)


# --------------------------------------------------------------------------- rules


def _rules_page(ctx: Ctx, form: RuleSetForm, day_form: DayOffForm, status: int = 200) -> Any:
    years = YearForm(request.args)
    years.validate()
    today = local_date(ctx.now())
    year = years.year.data if years.year.data and not years.year.errors else today.year
    return render_template(
        "admin/rules.html", form=form, day_form=day_form, action=EmptyForm(), year=year,
        rule_sets=list(reversed(deadlines.list_rule_sets(ctx))), today=today,
        days_off=page_of(deadlines.list_days_off(ctx, year), _page_no(), 50),
        routes=list(Route), services=list(deadlines.LIMITED_SERVICES)), status


@bp.get("/rules")
@requires(ADMIN)
def rules() -> Any:
    """Deadline rule sets (dated; one in force is never edited) and days off."""
    ctx = service_context()
    form = RuleSetForm()
    if not form.is_submitted():
        form.intra_standard.data, form.inter_standard.data = 1.5, 3.5
        form.intra_flash.data, form.inter_flash.data = 1.0, 2.5
    return _rules_page(ctx, form, DayOffForm())


@bp.post("/rules")
@requires(ADMIN)
def rule_set_add() -> Any:
    """Add a rule set that takes effect on a future date (replacing a future one)."""
    ctx, me = service_context(), _me()
    form = RuleSetForm()
    if not form.validate_on_submit():
        return _rules_page(ctx, form, DayOffForm(), 422)
    values = {
        (Route.INTRA_PROVINCE, ServiceClass.STANDARD): float(form.intra_standard.data or 0),
        (Route.INTER_PROVINCE, ServiceClass.STANDARD): float(form.inter_standard.data or 0),
        (Route.INTRA_PROVINCE, ServiceClass.FLASH): float(form.intra_flash.data or 0),
        (Route.INTER_PROVINCE, ServiceClass.FLASH): float(form.inter_flash.data or 0),
    }
    try:
        added = deadlines.add_rule_set(ctx, me, form.effective_from.data or date.min,
                                       form.name.data or "", values,
                                       source=form.source.data or "")
    except KT1Error as exc:
        field = {"rule_set_in_force": "effective_from"}.get(exc.slug)
        form.show_error(exc, {exc.slug: field} if field else None)
        return _rules_page(ctx, form, DayOffForm(), exc.status)
    flash(_("Đã thêm bộ chỉ tiêu áp dụng từ %(day)s.",
            day=added.effective_from.strftime("%d/%m/%Y")), "success")
    return redirect(url_for(".rules"), code=303)


@bp.post("/rules/<day>/remove")
@requires(ADMIN)
def rule_set_remove(day: str) -> Any:
    """Withdraw a rule set that has not taken effect yet."""
    ctx, me = service_context(), _me()
    if EmptyForm().validate_on_submit():
        try:
            effective = date.fromisoformat(day)
        except ValueError:
            flash(_("Ngày không hợp lệ."), "error")
            return redirect(url_for(".rules"), code=303)
        try:
            deadlines.remove_rule_set(ctx, me, effective)
        except KT1Error as exc:
            flash(exc.message_local, "error")
        else:
            flash(_("Đã bỏ bộ chỉ tiêu áp dụng từ %(day)s.", day=effective.strftime("%d/%m/%Y")),
                  "success")
    return redirect(url_for(".rules"), code=303)


@bp.post("/days-off")
@requires(ADMIN)
def day_off_add() -> Any:
    """Add an extra day off (a typhoon closure, a late government decision)."""
    ctx, me = service_context(), _me()
    day_form = DayOffForm()
    if not day_form.validate_on_submit():
        return _rules_page(ctx, RuleSetForm(formdata=None), day_form, 422)
    try:
        added = deadlines.add_day_off(ctx, me, day_form.day.data or date.min,
                                      day_form.reason.data or "")
    except KT1Error as exc:
        day_form.show_error(exc, {"already_exists": "day"})
        return _rules_page(ctx, RuleSetForm(formdata=None), day_form, exc.status)
    flash(_("Đã thêm ngày nghỉ %(day)s.", day=added.day.strftime("%d/%m/%Y")), "success")
    return redirect(url_for(".rules", year=added.day.year), code=303)
