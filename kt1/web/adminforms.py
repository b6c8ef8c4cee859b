"""Flask-WTF forms of the administrator's pages, in Vietnamese.

The services check everything again; these give early messages next to the field and
keep what was typed. Choices that depend on the database (units) are filled by the view.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from kt1.models.enums import Role, UnitKind
from kt1.web.words import N_
from kt1.web.workforms import MultiCheckboxField, WorkForm, identity_field

ROLE_WORDS = {
    Role.REGISTRY_CLERK: N_("Văn thư"),
    Role.COUNTER_CLERK: N_("Giao dịch viên bưu cục"),
    Role.COURIER: N_("Bưu tá, áp tải"),
    Role.SECURITY_OFFICER: N_("Cán bộ bảo mật"),
    Role.ADMINISTRATOR: N_("Quản trị hệ thống"),
}
KIND_WORDS = {
    UnitKind.AGENCY: N_("Cơ quan, tổ chức"),
    UnitKind.POST_OFFICE: N_("Bưu cục KT1"),
}
_MAX = _l("Tối đa %(max)d ký tự.")


class UnitForm(WorkForm):
    code = StringField(_l("Mã đơn vị"), validators=[
        DataRequired(_l("Hãy nhập mã đơn vị (ví dụ UBND-HP).")), Length(max=32, message=_MAX)])
    name = StringField(_l("Tên đơn vị"), validators=[
        DataRequired(_l("Hãy nhập tên đơn vị.")), Length(max=200, message=_MAX)])
    kind = SelectField(_l("Loại"), choices=[(k.value, _l(w)) for k, w in KIND_WORDS.items()])
    province_code = StringField(_l("Mã tỉnh"), validators=[
        DataRequired(_l("Hãy nhập mã tỉnh (ví dụ 01).")), Length(max=8, message=_MAX)])
    province_name = StringField(_l("Tên tỉnh"), validators=[
        DataRequired(_l("Hãy nhập tên tỉnh.")), Length(max=100, message=_MAX)])
    address = StringField(_l("Địa chỉ"), validators=[Length(max=200, message=_MAX)])
    parent_name = StringField(_l("Cơ quan chủ quản"), validators=[
        Length(max=200, message=_MAX)])


class ServingForm(WorkForm):
    """The KT1 post offices that serve an agency (accept its envelopes); none ticked clears
    them. The choices (every post office) are filled by the view."""

    offices = MultiCheckboxField(_l("Bưu cục KT1 phục vụ (nhận bưu gửi của đơn vị)"),
                                 validate_choice=False)


class UserForm(WorkForm):
    username = StringField(_l("Tên đăng nhập"), validators=[
        DataRequired(_l("Hãy nhập tên đăng nhập.")), Length(max=64, message=_MAX)])
    full_name = StringField(_l("Họ và tên"), validators=[
        DataRequired(_l("Hãy nhập họ và tên.")), Length(max=120, message=_MAX)])
    role = SelectField(_l("Vai trò"), choices=[(r.value, _l(w)) for r, w in ROLE_WORDS.items()])
    unit = SelectField(_l("Đơn vị"), validators=[DataRequired(_l("Hãy chọn đơn vị."))])
    password = PasswordField(_l("Mật khẩu ban đầu"), validators=[
        DataRequired(_l("Hãy nhập mật khẩu.")),
        Length(min=8, max=200, message=_l("Mật khẩu từ %(min)d đến %(max)d ký tự."))])
    pin = PasswordField(_l("Mã PIN ký nhận (4–8 chữ số)"), validators=[
        Optional(), Length(min=4, max=8, message=_l("Mã PIN từ 4 đến 8 chữ số."))])
    is_unit_head = BooleanField(_l("Thủ trưởng đơn vị"))
    email = StringField(_l("Thư điện tử (nhận thông báo sự cố, không bắt buộc)"), validators=[
        Optional(), Length(max=254, message=_MAX)])


class UserFilterForm(WorkForm):
    class Meta:
        csrf = False

    unit = SelectField(_l("Đơn vị"), validators=[Optional()])
    q = StringField(_l("Tên đăng nhập hoặc họ tên"), validators=[Optional(), Length(max=64)])


class MoveUserForm(WorkForm):
    """Move a user to another unit (chuyển công tác) and/or give them another role; the
    unit choices are filled by the view."""

    unit = SelectField(_l("Đơn vị mới"), validators=[DataRequired(_l("Hãy chọn đơn vị."))])
    role = SelectField(_l("Vai trò"), choices=[(r.value, _l(w)) for r, w in ROLE_WORDS.items()])


class HandOverAllForm(WorkForm):
    """Hand everything a user holds to a colleague (bàn giao tất cả), who identifies with
    their PIN or staff badge; the colleagues are filled by the view."""

    receiver = SelectField(_l("Bàn giao tất cả cho"), validators=[
        DataRequired(_l("Hãy chọn người nhận bàn giao."))])
    receiver_pin = identity_field(_l("Người nhận xác nhận: mã PIN, hoặc quét thẻ nhân viên"),
                                  _l("Người nhận phải nhập mã PIN hoặc quét thẻ nhân viên."))


class DeviceForm(WorkForm):
    name = StringField(_l("Tên thiết bị"), validators=[
        DataRequired(_l("Hãy nhập tên thiết bị (ví dụ quay-1-bc-hn).")),
        Length(max=64, message=_MAX)])
    unit = SelectField(_l("Đơn vị"), validators=[DataRequired(_l("Hãy chọn đơn vị."))])


def _escpos_models() -> list[tuple[str, str]]:
    """The python-escpos printer profiles by name (TM-T20II, POS-5890, ...)."""
    from escpos.capabilities import CAPABILITIES

    names = sorted(n for n in CAPABILITIES["profiles"] if n not in ("default", "simple"))
    return [(f"escpos:{n}", f"ESC/POS · {n}") for n in names]


#: What the model picker offers: an ESC/POS printer by its profile, a generic ESC/POS
#: one, a Zebra (ZPL) one, labels as PDF files, or a URI typed by hand.
MODEL_GENERIC = "escpos:"
MODEL_ZPL, MODEL_PDF, MODEL_URI = "zpl", "pdf", "uri"


def model_choices() -> list[tuple[str, Any]]:
    return [(MODEL_GENERIC, _l("ESC/POS · máy in nhiệt thông dụng")), *_escpos_models(),
            (MODEL_ZPL, _l("Zebra (ZPL II)")),
            (MODEL_PDF, _l("Không có máy in nhãn: in ra tệp PDF")),
            (MODEL_URI, _l("Khác: tự nhập địa chỉ (URI)"))]


class PrinterForm(WorkForm):
    """A printer: its model and where it is on the network; the view builds the URI
    (``escpos+tcp://host:port``, ``zpl+tcp://host:port``, ``pdf:///folder/``). A URI typed
    in the last field is used as it is (USB, serial, CUPS)."""

    name = StringField(_l("Tên máy in"), validators=[
        DataRequired(_l("Hãy nhập tên máy in.")), Length(max=64, message=_MAX)])
    model = SelectField(_l("Kiểu máy in"), choices=model_choices, default="escpos:TM-T20II")
    host = StringField(_l("Địa chỉ IP hoặc tên máy in trên mạng"), validators=[
        Optional(), Length(max=200, message=_MAX)])
    port = IntegerField(_l("Cổng"), default=9100, validators=[
        Optional(), NumberRange(1, 65535, _l("Cổng từ %(min)s đến %(max)s."))])
    folder = StringField(_l("Thư mục lưu tệp PDF"), validators=[
        Optional(), Length(max=400, message=_MAX)])
    uri = StringField(_l("Địa chỉ (URI), chỉ khi tự nhập"), validators=[
        Optional(), Length(max=500, message=_MAX)])
    width_mm = SelectField(_l("Khổ giấy"), choices=[("80", "80 mm"), ("58", "58 mm")],
                           default="80")
    workstation = StringField(_l("Máy trạm"), validators=[Length(max=128, message=_MAX)])
    is_default = BooleanField(_l("Máy in mặc định của máy trạm"))

    def built(self) -> tuple[str, str | None] | None:
        """The URI and python-escpos profile the fields make, or None (with the message
        next to the field) when a needed field is empty."""
        typed = (self.uri.data or "").strip()
        model = self.model.data or ""
        profile = model.split(":", 1)[1] if model.startswith("escpos:") else ""
        if typed:
            return typed, profile or None
        if model == MODEL_URI:
            self.uri.errors = [*self.uri.errors, _l(
                "Hãy nhập địa chỉ máy in, ví dụ escpos+usb://04b8:0202 hoặc cups://ten-hang.")]
            return None
        if model == MODEL_PDF:
            folder = (self.folder.data or "").strip().rstrip("/")
            if not folder.startswith("/"):
                self.folder.errors = [*self.folder.errors, _l(
                    "Hãy nhập thư mục trên máy chủ, ví dụ /var/lib/kt1/nhan.")]
                return None
            return f"pdf://{folder}/", None
        host = (self.host.data or "").strip()
        if not host or any(c in host for c in "/@?# "):
            self.host.errors = [*self.host.errors, _l(
                "Hãy nhập địa chỉ IP của máy in, ví dụ 10.0.0.5.")]
            return None
        scheme = "zpl+tcp" if model == MODEL_ZPL else "escpos+tcp"
        return f"{scheme}://{host}:{self.port.data or 9100}", profile or None

    def fill_from(self, uri: str, profile: str | None) -> None:
        """Set the fields from a stored printer's URI and profile."""
        from urllib.parse import urlsplit

        parts = urlsplit(uri)
        if parts.scheme in ("escpos+tcp", "zpl+tcp") and not parts.query and parts.hostname:
            self.model.data = MODEL_ZPL if parts.scheme == "zpl+tcp" else f"escpos:{profile or ''}"
            self.host.data, self.port.data = parts.hostname, parts.port or 9100
        elif parts.scheme == "pdf" and not parts.query:
            self.model.data, self.folder.data = MODEL_PDF, parts.path.rstrip("/")
        else:
            self.model.data, self.uri.data = MODEL_URI, uri
            if profile:
                self.model.data = f"escpos:{profile}"


class UserEditForm(WorkForm):
    """A user's name, email and head-of-unit flag (role and unit: :class:`MoveUserForm`)."""

    full_name = StringField(_l("Họ và tên"), validators=[
        DataRequired(_l("Hãy nhập họ và tên.")), Length(max=120, message=_MAX)])
    email = StringField(_l("Thư điện tử (nhận thông báo sự cố, không bắt buộc)"), validators=[
        Optional(), Length(max=254, message=_MAX)])
    is_unit_head = BooleanField(_l("Thủ trưởng đơn vị"))


class UnitEditForm(WorkForm):
    """A unit's name, province, address and parent body (its code and kind stay)."""

    name = UnitForm.name
    province_code = UnitForm.province_code
    province_name = UnitForm.province_name
    address = UnitForm.address
    parent_name = UnitForm.parent_name


class BadgeForm(WorkForm):
    """Print or download a staff badge: the code (hidden, only in the response that showed
    it; none for a new badge) and the printer; the choices are filled by the view."""

    code = HiddenField()
    printer = SelectField(_l("Máy in"), validate_choice=False)
    width_mm = SelectField(_l("Khổ giấy"), choices=[("80", "80 mm"), ("58", "58 mm")],
                           default="80")


def _days(label: Any) -> DecimalField:
    """A time limit in working days, in steps of half a day (checked again by the service)."""
    return DecimalField(label, places=1, validators=[
        InputRequired(_l("Hãy nhập số ngày.")),
        NumberRange(0.5, 60, _l("Từ %(min)s đến %(max)s ngày."))])


class RuleSetForm(WorkForm):
    effective_from = DateField(_l("Áp dụng từ ngày"), validators=[
        InputRequired(_l("Hãy chọn ngày bắt đầu áp dụng."))])
    name = StringField(_l("Tên bộ chỉ tiêu"), validators=[
        DataRequired(_l("Hãy đặt tên bộ chỉ tiêu.")), Length(max=120, message=_MAX)])
    source = StringField(_l("Căn cứ"), validators=[Length(max=200, message=_MAX)])
    intra_standard = _days(_l("Nội tỉnh, KT1 thường (ngày làm việc)"))
    inter_standard = _days(_l("Liên tỉnh, KT1 thường (ngày làm việc)"))
    intra_flash = _days(_l("Nội tỉnh, Hỏa tốc (ngày làm việc)"))
    inter_flash = _days(_l("Liên tỉnh, Hỏa tốc (ngày làm việc)"))


class DayOffForm(WorkForm):
    day = DateField(_l("Ngày nghỉ"), validators=[InputRequired(_l("Hãy chọn ngày."))])
    reason = StringField(_l("Lý do"), validators=[
        DataRequired(_l("Hãy ghi lý do (ví dụ nghỉ do bão).")), Length(max=200, message=_MAX)])


class YearForm(WorkForm):
    class Meta:
        csrf = False

    year = IntegerField(_l("Năm"), validators=[Optional(), NumberRange(2000, 2100)])
