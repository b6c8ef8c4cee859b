"""Flask-WTF forms of the registry clerk's and the post office's pages, in Vietnamese.

Choices that depend on the unit (recipients, printers, couriers) are filled in by the view.
The services check everything again; these only give early, precise messages next to the
field, and keep what the user typed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)
from wtforms.widgets import CheckboxInput, ListWidget

from kt1.errors import KT1Error
from kt1.models import User
from kt1.models.base import utcnow
from kt1.models.enums import (
    AckMethod,
    Authority,
    Classification,
    DeliveryFailure,
    SealState,
    ServiceClass,
    Urgency,
)
from kt1.services.access import Receipt
from kt1.services.badges import BADGE_CODE
from kt1.services.subjects import VIETNAM
from kt1.web.words import enum_label

#: WTForms' own messages, in Vietnamese (WTForms ships no Vietnamese catalogue).
_WTFORMS_VI = {
    "Not a valid integer value.": _l("Hãy nhập một số nguyên."),
    "Not a valid date value.": _l("Ngày không hợp lệ."),
    "Not a valid datetime value.": _l("Thời điểm không hợp lệ."),
    "Not a valid choice.": _l("Lựa chọn không hợp lệ."),
    "This field is required.": _l("Trường này bắt buộc."),
}


class _Translations:
    """WTForms translations: Vietnamese when the page is in Vietnamese."""

    def gettext(self, string: str) -> str:
        if str(get_locale() or "vi").startswith("vi") and string in _WTFORMS_VI:
            return str(_WTFORMS_VI[string])
        return string

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class WorkForm(FlaskForm):
    """Base of these forms: Vietnamese messages for WTForms' own errors."""

    class Meta:
        def get_translations(self, form: Any) -> _Translations:
            return _Translations()

    #: Errors of the whole form (a refusal by a service that names no field).
    form_errors_extra: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.form_errors_extra = []

    def show_error(self, exc: KT1Error, fields: dict[str, str] | None = None) -> None:
        """Put a service's refusal next to the field it names, or above the form."""
        name = (fields or {}).get(exc.slug) or str(exc.details.get("field", ""))
        name = (fields or {}).get(name, name)
        field = getattr(self, name, None) if name else None
        if isinstance(field, Field):
            field.errors = [*list(field.errors or []), exc.message_local]
        else:
            self.form_errors_extra.append(exc.message_local)


def _fail(field: Field, message: str) -> bool:
    """Add a form-level rule's message to ``field``; returns False (the form is invalid)."""
    field.errors = [*list(field.errors or []), message]
    return False


def identification(user: User, typed: str | None) -> Receipt:
    """What a person typed or scanned to identify at a handover: a staff badge code (a scan
    of the badge's barcode) or else their PIN (docs/access.md, both sides present)."""
    code = (typed or "").strip()
    if BADGE_CODE.match(code.upper()):
        return Receipt(user=user, method=AckMethod.BADGE, secret=code.upper())
    return Receipt(user=user, method=AckMethod.PIN, secret=code)


def identity_field(label: Any, required: str | None = None) -> PasswordField:
    """A PIN, or a staff badge scanned into the field (the badge scanner types its code)."""
    first = DataRequired(required) if required else Optional()
    return PasswordField(label, validators=[first, Length(max=64)])


def choices_of(enum_cls: Any) -> list[tuple[str, str]]:
    return [(e.value, enum_label(e)) for e in enum_cls]


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes (envelopes to pick from a list)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


_NUMBER_SPLIT = re.compile(r"[\s,;]+")


def split_numbers(*texts: str | list[str] | None) -> list[str]:
    """Item numbers typed or scanned one per line (or separated by spaces, commas),
    upper-cased, first occurrence kept."""
    out: list[str] = []
    for text in texts:
        parts = text if isinstance(text, list) else _NUMBER_SPLIT.split(text or "")
        for part in parts:
            item = part.strip().upper()
            if item and item not in out:
                out.append(item)
    return out


# --------------------------------------------------------------------------- registry clerk


class RegisterForm(WorkForm):
    recipient_unit = SelectField(_l("Nơi nhận (cơ quan)"), validators=[
        DataRequired(_l("Hãy chọn cơ quan nhận."))])
    classification = SelectField(_l("Độ mật"), default=Classification.SECRET.value,
                                 validators=[DataRequired(_l("Hãy chọn độ mật."))])
    service = SelectField(_l("Dịch vụ KT1"), default=ServiceClass.STANDARD.value)
    agreed_at = DateTimeLocalField(_l("Thời điểm hẹn (Hẹn giờ)"), format="%Y-%m-%dT%H:%M",
                                   validators=[Optional()])
    urgency = SelectField(_l("Độ khẩn"), default=Urgency.NORMAL.value)
    is_addressee_only = BooleanField(_l("Chỉ người có tên mới được bóc bì"))
    recipient_name = StringField(_l("Người nhận có tên"), validators=[
        Length(max=120, message=_l("Tối đa %(max)d ký tự."))])
    recipient_username = StringField(_l("Tài khoản của người nhận (nếu có)"), validators=[
        Optional(), Length(max=64, message=_l("Tối đa %(max)d ký tự."))])
    document_number = StringField(_l("Số, ký hiệu văn bản"), validators=[
        DataRequired(_l("Hãy nhập số, ký hiệu văn bản (ví dụ 15/KH-UBND).")),
        Length(max=64, message=_l("Tối đa %(max)d ký tự."))])
    document_date = DateField(_l("Ngày văn bản"), validators=[Optional()])
    copies = IntegerField(_l("Số bản"), default=1, validators=[
        InputRequired(_l("Hãy nhập số bản.")),
        NumberRange(1, 999, _l("Số bản từ %(min)s đến %(max)s."))])
    recall_by = DateField(_l("Tài liệu thu hồi: hạn trả"), validators=[Optional()])
    subject = TextAreaField(_l("Trích yếu"), validators=[
        Optional(), Length(max=1000, message=_l("Tối đa %(max)d ký tự."))])
    subject_approved_by = StringField(_l("Người xác định độ mật đã phê duyệt ghi trích yếu"),
                                      validators=[Optional(), Length(max=120)])
    # who drafted and signed it, why it is secret (docs/domain.md §8); which of them is
    # required is the dated rule's (kt1/services/provenance.py), judged by the service
    drafter_username = SelectField(_l("Người soạn thảo (tài khoản trong đơn vị)"),
                                   validate_choice=False)
    drafter_name = StringField(_l("Người soạn thảo (họ tên, nếu không có tài khoản)"),
                               validators=[Length(max=120, message=_l("Tối đa %(max)d ký tự."))])
    signer_name = StringField(_l("Người ký"), validators=[
        Length(max=120, message=_l("Tối đa %(max)d ký tự."))])
    signer_title = StringField(_l("Chức vụ người ký"), validators=[
        Length(max=120, message=_l("Tối đa %(max)d ký tự."))])
    classification_basis = StringField(_l("Căn cứ xác định độ mật"), validators=[
        Length(max=500, message=_l("Tối đa %(max)d ký tự."))])
    # the protection term (docs/domain.md §8): from the dated rule on the classification
    # date unless the classifier wrote a shorter one; and the "không được sao chụp" mark
    classified_on = DateField(_l("Ngày xác định độ mật"), validators=[Optional()])
    protection_until = DateField(_l("Thời hạn bảo vệ đến"), validators=[Optional()])
    copy_forbidden = BooleanField(_l("Không được sao chụp"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.classification.choices = choices_of(Classification)
        self.service.choices = choices_of(ServiceClass)
        self.urgency.choices = choices_of(Urgency)

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then the rules that tie fields together."""
        ok = super().validate(extra_validators)
        timed = self.service.data == ServiceClass.TIMED.value
        agreed = local_to_utc(self.agreed_at.data)
        if timed and agreed is None and not self.agreed_at.errors:
            ok = _fail(self.agreed_at, _("Bưu gửi Hẹn giờ cần thời điểm hẹn."))
        elif not timed and agreed is not None:
            ok = _fail(self.agreed_at, _("Chỉ ghi thời điểm hẹn cho dịch vụ Hẹn giờ."))
        elif agreed is not None and agreed <= utcnow():
            ok = _fail(self.agreed_at, _("Thời điểm hẹn phải ở tương lai."))
        if self.is_addressee_only.data and not (self.recipient_name.data or "").strip() and not (
                self.recipient_username.data or "").strip():
            ok = _fail(self.recipient_name,
                       _("Bưu gửi “Chỉ người có tên…” phải ghi người nhận."))
        if (self.subject_approved_by.data or "").strip() and not (
                self.subject.data or "").strip():
            ok = _fail(self.subject_approved_by, _("Chỉ ghi người phê duyệt khi có trích yếu."))
        return ok


class PrintForm(WorkForm):
    printer = SelectField(_l("Máy in"), validators=[DataRequired(_l("Hãy chọn máy in."))])
    reason = StringField(_l("Lý do in lại"), validators=[
        Optional(), Length(max=200, message=_l("Tối đa %(max)d ký tự."))])


class RegisterFilterForm(WorkForm):
    """The outgoing register's filters (GET, no CSRF)."""

    class Meta:
        csrf = False

        def get_translations(self, form: Any) -> _Translations:
            return _Translations()

    q = StringField(_l("Tìm số hiệu hoặc số văn bản"), validators=[Optional(), Length(max=64)])
    year = IntegerField(_l("Năm"), validators=[Optional(), NumberRange(2000, 2100)])
    day_from = DateField(_l("Từ ngày"), validators=[Optional()])
    day_to = DateField(_l("Đến ngày"), validators=[Optional()])


class _SheetLinesForm(WorkForm):
    """The envelopes listed on a sheet: ticked from a list (``picked``, labelled by each
    form) or scanned, at least one."""

    picked = MultiCheckboxField(_l("Bưu gửi chờ giao"), validate_choice=False)
    scanned = TextAreaField(_l("Hoặc quét / nhập số hiệu (mỗi dòng một số)"), validators=[
        Optional(), Length(max=4000)])

    def numbers(self) -> list[str]:
        return split_numbers(self.picked.data or [], self.scanned.data)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.numbers():
            ok = _fail(self.scanned, _("Hãy chọn hoặc quét ít nhất một bưu gửi."))
        return ok


class HandoverForm(_SheetLinesForm):
    post_office = SelectField(_l("Bưu cục KT1 nhận"), validators=[
        DataRequired(_l("Hãy chọn bưu cục."))])
    picked = MultiCheckboxField(_l("Bưu gửi chờ giao"), validate_choice=False)


class InternalSheetForm(_SheetLinesForm):
    """Making an internal handover sheet (phiếu chuyển giao nội bộ) for a colleague."""

    receiver = SelectField(_l("Người nhận (cùng đơn vị)"), validators=[
        DataRequired(_l("Hãy chọn người nhận."))])
    picked = MultiCheckboxField(_l("Bưu gửi bạn đang giữ"), validate_choice=False)


class SheetScanForm(WorkForm):
    """Scanning a sheet's barcode (or typing its number) to open it."""

    sheet = StringField(_l("Số phiếu (quét mã vạch trên phiếu)"), validators=[
        DataRequired(_l("Hãy quét mã vạch hoặc nhập số phiếu.")), Length(max=48)])


class MarkSignedForm(WorkForm):
    """Marking a printed internal sheet signed: tick or scan each line signed for."""

    ticked = MultiCheckboxField(_l("Dòng đã ký nhận"), validate_choice=False)
    scanned = TextAreaField(_l("Hoặc quét từng bưu gửi (mỗi dòng một số)"), validators=[
        Optional(), Length(max=4000)])

    def numbers(self) -> list[str]:
        return split_numbers(self.ticked.data or [], self.scanned.data)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.numbers():
            ok = _fail(self.scanned, _("Hãy đánh dấu hoặc quét ít nhất một dòng."))
        return ok


class ScanForm(WorkForm):
    """Numbers typed or scanned, one per line (incoming register, adding to a bag...)."""

    numbers = TextAreaField(_l("Số hiệu bưu gửi (quét hoặc nhập, mỗi dòng một số)"),
                            validators=[DataRequired(_l("Hãy quét hoặc nhập ít nhất một số "
                                                        "hiệu.")),
                                        Length(max=4000)])

    def items(self) -> list[str]:
        return split_numbers(self.numbers.data)


class IncomingForm(ScanForm):
    """The incoming register: numbers scanned, and the courier who hands them over (when he
    has not recorded the delivery himself) with his PIN or staff badge."""

    courier = SelectField(_l("Bưu tá đang giao"), validators=[Optional()])
    courier_pin = identity_field(_l("Bưu tá xác nhận: mã PIN, hoặc quét thẻ nhân viên"))

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.courier.data and not (self.courier_pin.data or "").strip():
            ok = _fail(self.courier_pin, _("Bưu tá phải nhập mã PIN hoặc quét thẻ nhân viên "
                                           "để giao bưu gửi."))
        elif (self.courier_pin.data or "").strip() and not self.courier.data:
            ok = _fail(self.courier, _("Hãy chọn bưu tá đang giao bưu gửi."))
        return ok


class PassForm(WorkForm):
    number = StringField(_l("Số hiệu bưu gửi"), validators=[
        DataRequired(_l("Hãy quét hoặc chọn bưu gửi.")), Length(max=32)])
    receiver = SelectField(_l("Người nhận"), validators=[
        DataRequired(_l("Hãy chọn người nhận."))])
    pin = PasswordField(_l("Mã PIN của người nhận (ký nhận)"), validators=[
        DataRequired(_l("Người nhận phải nhập mã PIN để ký nhận.")), Length(max=16)])
    authority = SelectField(_l("Nhận với tư cách"), default=Authority.ADDRESSEE.value)
    note = StringField(_l("Văn bản ủy quyền (khi nhận thay)"), validators=[
        Optional(), Length(max=200)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.authority.choices = choices_of(Authority)


# --------------------------------------------------------------------------- post office


class SheetForm(WorkForm):
    """Reconciling a handover sheet at the counter (đối chiếu), and what follows."""

    scanned = TextAreaField(_l("Bưu gửi nhận được (quét hoặc nhập, mỗi dòng một số)"),
                            validators=[Optional(), Length(max=4000)])
    broken = MultiCheckboxField(_l("Bì có dấu hiệu bóc mở"), validate_choice=False)
    report = TextAreaField(_l("Nội dung biên bản"), validators=[Optional(),
                                                                 Length(max=2000)])
    resolution = TextAreaField(_l("Cách đã giải quyết"), validators=[Optional(),
                                                                      Length(max=2000)])

    def items(self) -> list[str]:
        return split_numbers(self.scanned.data)


class NewBagForm(WorkForm):
    destination = SelectField(_l("Bưu cục đến"), validators=[
        DataRequired(_l("Hãy chọn bưu cục đến."))])


class BagAddForm(ScanForm):
    """Numbers put into a bag, and the reason to put in one the bag's route does not serve
    (shown after the counter warned about it)."""

    route_override = StringField(
        _l("Lý do vẫn cho vào túi này (bưu gửi không đúng tuyến của túi)"),
        validators=[Optional(), Length(max=200)])


class RemoveFromBagForm(WorkForm):
    """Take one envelope out of an open bag, with the reason (sửa nhầm)."""

    number = HiddenField(validators=[DataRequired()])
    reason = StringField(_l("Lý do lấy ra"), validators=[
        DataRequired(_l("Hãy ghi lý do lấy bưu gửi ra khỏi túi.")), Length(max=200)])


class VoidForm(WorkForm):
    """Void one's own last scan within minutes (hủy lần quét nhầm), with the reason."""

    reason = StringField(_l("Lý do hủy lần quét"), validators=[
        DataRequired(_l("Hãy ghi lý do hủy lần quét.")), Length(max=200)])


class SealForm(WorkForm):
    seal_number = StringField(_l("Số niêm phong"), validators=[
        DataRequired(_l("Hãy nhập số niêm phong.")), Length(max=64)])
    tracker_id = StringField(_l("Thiết bị định vị (bắt buộc khi có bưu gửi Tuyệt mật)"),
                             validators=[Optional(), Length(max=64)])


class DispatchForm(WorkForm):
    courier = SelectField(_l("Bưu tá / người áp tải nhận túi"), validators=[
        DataRequired(_l("Hãy chọn bưu tá."))])
    pin = PasswordField(_l("Mã PIN của bưu tá (ký nhận)"), validators=[
        DataRequired(_l("Bưu tá phải nhập mã PIN để ký nhận.")), Length(max=16)])
    vehicle = StringField(_l("Phương tiện (biển số)"), validators=[
        DataRequired(_l("Hãy nhập phương tiện.")), Length(max=64)])
    is_dedicated = BooleanField(_l("Xe chuyên dùng KT1"), default=True)
    escort_name = StringField(_l("Người áp tải (bắt buộc nếu xe không chuyên dùng)"),
                              validators=[Optional(), Length(max=120)])

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.is_dedicated.data and not (self.escort_name.data or "").strip():
            ok = _fail(self.escort_name, _("Xe không chuyên dùng phải có người áp tải."))
        return ok


class ReceiveBagForm(WorkForm):
    seal_number = StringField(_l("Số niêm phong đọc được trên túi"), validators=[
        DataRequired(_l("Hãy nhập số niêm phong trên túi.")), Length(max=64)])
    courier_pin = identity_field(
        _l("Bưu tá giao túi xác nhận: mã PIN, hoặc quét thẻ nhân viên"),
        _l("Bưu tá giao túi phải có mặt: nhập mã PIN của bưu tá hoặc quét thẻ nhân viên."))
    seal_state = SelectField(_l("Tình trạng niêm phong"), default=SealState.INTACT.value)
    report = TextAreaField(_l("Biên bản (bắt buộc khi niêm phong bất thường)"),
                           validators=[Optional(), Length(max=2000)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seal_state.choices = [(s.value, enum_label(s)) for s in (
            SealState.INTACT, SealState.BROKEN, SealState.MISMATCHED)]

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.seal_state.data != SealState.INTACT.value and not (
                self.report.data or "").strip():
            ok = _fail(self.report, _("Niêm phong bất thường: phải nhập nội dung biên bản."))
        return ok


class DeliveryOutForm(WorkForm):
    courier = SelectField(_l("Bưu tá đi phát"), validators=[
        DataRequired(_l("Hãy chọn bưu tá."))])
    pin = PasswordField(_l("Mã PIN của bưu tá (ký nhận)"), validators=[
        DataRequired(_l("Bưu tá phải nhập mã PIN để ký nhận.")), Length(max=16)])
    picked = MultiCheckboxField(_l("Bưu gửi giao đi phát"), validate_choice=False)
    scanned = TextAreaField(_l("Hoặc quét / nhập số hiệu (mỗi dòng một số)"), validators=[
        Optional(), Length(max=4000)])

    def numbers(self) -> list[str]:
        return split_numbers(self.picked.data or [], self.scanned.data)

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.numbers():
            ok = _fail(self.scanned, _("Hãy chọn hoặc quét ít nhất một bưu gửi."))
        return ok


class DeliverForm(WorkForm):
    """Delivery of one envelope of the round (its number travels in a plain field)."""

    receiver = SelectField(_l("Văn thư nhận"), validators=[
        DataRequired(_l("Hãy chọn văn thư nhận."))])
    pin = PasswordField(_l("Mã PIN của văn thư (ký nhận)"), validators=[
        DataRequired(_l("Văn thư phải nhập mã PIN để ký nhận.")), Length(max=16)])


class FailedForm(WorkForm):
    """A failed delivery attempt of one envelope of the round."""

    reason = SelectField(_l("Lý do không phát được"), validators=[
        DataRequired(_l("Hãy chọn lý do."))])
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=200)])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason.choices = choices_of(DeliveryFailure)


def local_to_utc(value: datetime | None) -> datetime | None:
    """A ``datetime-local`` value (Vietnam wall-clock time) as an aware UTC time."""
    if value is None:
        return None
    return value.replace(tzinfo=VIETNAM).astimezone(UTC)


class IncidentFromFindingForm(WorkForm):
    """Open an incident from a verification finding (the officer's envelope page)."""

    finding = HiddenField(validators=[DataRequired(), Length(max=64)])
    report = TextAreaField(_l("Nội dung biên bản sự cố"), validators=[
        DataRequired(), Length(max=2000)])
