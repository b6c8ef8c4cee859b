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
    pin = StringField(_l("Mã PIN ký nhận (4–8 chữ số)"), validators=[
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


class PrinterForm(WorkForm):
    name = StringField(_l("Tên máy in"), validators=[
        DataRequired(_l("Hãy nhập tên máy in.")), Length(max=64, message=_MAX)])
    uri = StringField(_l("Địa chỉ (URI)"), validators=[
        DataRequired(_l("Hãy nhập địa chỉ máy in, ví dụ escpos+tcp://10.0.0.5:9100.")),
        Length(max=500, message=_MAX)])
    profile = StringField(_l("Cấu hình python-escpos (không bắt buộc)"), validators=[
        Length(max=64, message=_MAX)])
    width_mm = SelectField(_l("Khổ giấy"), choices=[("80", "80 mm"), ("58", "58 mm")],
                           default="80")
    workstation = StringField(_l("Máy trạm"), validators=[Length(max=128, message=_MAX)])
    is_default = BooleanField(_l("Máy in mặc định của máy trạm"))


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
