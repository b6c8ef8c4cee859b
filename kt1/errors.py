"""One exception family; each error has a stable slug that the CLI, API and pages report.

Messages never carry secret content (the subject, trích yếu): only numbers, codes and field names.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ConfigError(RuntimeError):
    """The configuration is missing or malformed; the app refuses to start."""


class KT1Error(Exception):
    """Base of every domain error. ``slug`` is stable and machine-readable."""

    slug: ClassVar[str] = "kt1_error"
    status: ClassVar[int] = 400
    message_vi: ClassVar[str] = "Yêu cầu không hợp lệ."
    message_en: ClassVar[str] = "Invalid request."

    def __init__(self, message: str | None = None, **details: Any) -> None:
        self.details = details
        self.message = message or self.message_en.format(**details)
        super().__init__(self.message)

    @property
    def message_local(self) -> str:
        """The Vietnamese message for the UI."""
        try:
            return self.message_vi.format(**self.details)
        except (KeyError, IndexError):
            return self.message_vi

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.slug,
            "status": self.status,
            "message": self.message,
            "message_vi": self.message_local,
            "details": self.details,
        }


def _error(slug: str, status: int, vi: str, en: str) -> type[KT1Error]:
    name = "".join(part.capitalize() for part in slug.split("_")) + "Error"
    return type(name, (KT1Error,), {"slug": slug, "status": status, "message_vi": vi,
                                    "message_en": en})


class ValidationError(KT1Error):
    """A field is missing, too long, has control characters or an unknown value."""

    slug = "invalid_field"
    status = 422
    message_vi = "Trường {field} không hợp lệ: {reason}."
    message_en = "Field {field} is invalid: {reason}."


# Identifiers (S10 numbers)
NumberLengthError = _error(
    "number_length_invalid", 422,
    "Số hiệu phải có 13 ký tự (đã nhận {length}).",
    "An item number has 13 characters (got {length}).")
NumberLettersError = _error(
    "number_letters_invalid", 422,
    "Hai chữ cái đầu của số hiệu không phải {expected}.",
    "The service letters are not {expected}.")
NumberCountryError = _error(
    "number_country_invalid", 422,
    "Mã nước của số hiệu phải là {expected}.",
    "The country code must be {expected}.")
NumberSerialError = _error(
    "number_serial_invalid", 422,
    "Phần số của số hiệu phải gồm 9 chữ số.",
    "The serial part must be 9 digits.")
CheckDigitError = _error(
    "check_digit_invalid", 422,
    "Sai số kiểm tra: số hiệu {number} không hợp lệ (kiểm tra lại mã vạch).",
    "Wrong check digit: {number} is not a valid item number.")
UnknownEnvelopeError = _error(
    "unknown_envelope", 404,
    "Không tìm thấy bưu gửi số {number}.",
    "No envelope with number {number}.")
UnknownBagError = _error(
    "unknown_bag", 404,
    "Không tìm thấy túi số {number}.",
    "No bag with number {number}.")
UnknownUnitError = _error(
    "unknown_unit", 404,
    "Không tìm thấy đơn vị {code}.",
    "No unit with code {code}.")
UnknownUserError = _error(
    "unknown_user", 404,
    "Không tìm thấy người dùng {username}.",
    "No user {username}.")
DuplicateError = _error(
    "already_exists", 409,
    "{what} đã tồn tại.",
    "{what} already exists.")

# Access
ForbiddenError = _error(
    "forbidden", 403,
    "Bạn không có quyền thực hiện thao tác này.",
    "You are not allowed to do this.")
WrongUnitError = _error(
    "wrong_unit", 403,
    "Người dùng {username} không thuộc đơn vị {unit}.",
    "User {username} does not belong to unit {unit}.")

# Custody
NotCurrentHolderError = _error(
    "not_current_holder", 409,
    "Bưu gửi {number} không do {giver} giữ; người đang giữ là {holder}.",
    "{giver} does not hold {number}; it is held by {holder}.")
AcknowledgementMissingError = _error(
    "acknowledgement_missing", 422,
    "Người nhận phải ký nhận.",
    "The receiver must acknowledge the handoff.")
AcknowledgementInvalidError = _error(
    "acknowledgement_invalid", 422,
    "Xác nhận của người nhận không đúng.",
    "The receiver's acknowledgement is not valid.")
EventOrderError = _error(
    "event_out_of_order", 409,
    "Sự kiện {kind} không thể xảy ra khi bưu gửi đang ở trạng thái {status}.",
    "Event {kind} cannot follow status {status}.")
EventTimeBackwardsError = _error(
    "event_time_backwards", 409,
    "Thời điểm quét sớm hơn sự kiện trước đó.",
    "The event time is earlier than the previous event.")
EventTimeFutureError = _error(
    "event_time_future", 422,
    "Thời điểm quét ở tương lai; kiểm tra đồng hồ thiết bị.",
    "The event time is in the future; check the device clock.")
DiscrepancyOpenError = _error(
    "discrepancy_open", 409,
    "Còn sai lệch chưa giải quyết; chưa thể ký nhận.",
    "A discrepancy is still open: the receipt cannot be signed.")
ScanIdConflictError = _error(
    "scan_id_conflict", 409,
    "Mã lượt quét {scan_id} đã dùng cho một thao tác khác.",
    "Scan id {scan_id} was already used for different content.")
CustodyConflictError = _error(
    "custody_conflict", 409,
    "Bưu gửi vừa được một thao tác khác ghi nhận cùng lúc; hãy kiểm tra rồi quét lại.",
    "The item was changed by a concurrent handoff at the same moment; check and scan again.")
EnvelopeInBagError = _error(
    "envelope_in_bag", 409,
    "Bưu gửi {number} đang ở trong túi {bag}.",
    "{number} is inside bag {bag}.")

GiverIdentificationMissingError = _error(
    "giver_identification_missing", 422,
    "Người giao phải có mặt và xác nhận bằng mã PIN hoặc thẻ nhân viên (khi chấp nhận tại "
    "quầy: hoặc bưu gửi có trong bảng kê giao đơn vị gửi lập cho bưu cục này).",
    "The giver must be present and identify with a PIN or staff badge (at a counter "
    "acceptance, the item may instead be listed on the giver's unit's handover sheet).")
GiverIdentificationInvalidError = _error(
    "giver_identification_invalid", 422,
    "Xác nhận của người giao không đúng.",
    "The giver's identification is not valid.")
UnitNotServedError = _error(
    "unit_not_served", 403,
    "Bưu cục {office} không phục vụ đơn vị {unit}; không thể chấp nhận bưu gửi của đơn vị này.",
    "Post office {office} does not serve {unit}; it cannot accept its items.")
class PaperReceiptUnboundError(KT1Error):
    """A paper receipt names no sheet this system printed that covers the handoff
    (docs/access.md, "both sides present"). ``why`` says which part failed; a sheet of
    another unit answers as one that does not exist (``unknown``)."""

    slug = "paper_receipt_unbound"
    status = 422
    message_vi = ("Ký nhận trên giấy chỉ hợp lệ với số bảng kê giao có ghi bưu gửi này, do đơn "
                  "vị gửi lập cho bưu cục này (khi chấp nhận), hoặc số phiếu chuyển giao nội bộ "
                  "do hệ thống in, đã ký và đã đánh dấu dòng bưu gửi này (các lần giao khác).")
    message_en = ("A paper receipt must name a handover sheet that lists this item, made by "
                  "the giver's unit for this office (at acceptance), or an internal handover "
                  "sheet this system printed, marked signed, with this item's line ticked "
                  "(any other handoff).")
    #: what each ``why`` adds to the message (vi, en)
    REASONS: ClassVar[dict[str, tuple[str, str]]] = {
        "unknown": ("Không có phiếu nào mang số này.",
                    "No sheet has this number."),
        "not_listed": ("Phiếu không ghi bưu gửi này.",
                       "The sheet does not list this item."),
        "post_office_sheet": ("Số này là bảng kê giao bưu cục, không phải phiếu chuyển giao "
                              "nội bộ.",
                              "This is a post-office handover sheet, not an internal one."),
        "other_receiver": ("Phiếu lập cho người nhận khác.",
                           "The sheet is made out to another receiver."),
        "unsigned": ("Phiếu chưa được đánh dấu đã ký.",
                     "The sheet is not marked signed."),
        "not_ticked": ("Dòng của bưu gửi này trên phiếu chưa được đánh dấu.",
                       "This item's line on the sheet is not ticked."),
    }

    def __init__(self, message: str | None = None, *, why: str = "unknown",
                 **details: Any) -> None:
        why = why if why in self.REASONS else "unknown"
        super().__init__(message or f"{self.message_en} {self.REASONS[why][1]}", why=why,
                         **details)

    @property
    def message_local(self) -> str:
        return f"{self.message_vi} {self.REASONS[self.details['why']][0]}"


# Bags
class BagStateError(KT1Error):
    """The bag is not in a state that allows the operation; the Vietnamese message names the
    state and the operation in Vietnamese (the details keep the stored English values)."""

    slug = "bag_state_invalid"
    status = 409
    message_vi = "Túi {bag} đang ở trạng thái {status}; không thể {action}."
    message_en = "Bag {bag} is {status}; cannot {action}."
    #: The operations of kt1/services/bagging.py (ALLOWED_IN), as a clerk says them.
    ACTIONS_VI: ClassVar[dict[str, str]] = {
        "add": "cho thêm bưu gửi vào túi", "remove": "lấy bưu gửi ra khỏi túi",
        "seal": "niêm phong túi", "dispatch": "chuyển túi đi", "receive": "nhận túi",
        "open": "mở túi"}

    @property
    def message_local(self) -> str:
        from kt1.models.enums import BagStatus
        from kt1.web.words import WORDS  # the words the pages show for a bag's state

        status = str(self.details.get("status", ""))
        action = str(self.details.get("action", ""))
        return self.message_vi.format(
            bag=self.details.get("bag", ""),
            status=WORDS[BagStatus].get(status, status).lower(),
            action=self.ACTIONS_VI.get(action, action))
BagAlreadySealedError = _error(
    "bag_already_sealed", 409,
    "Túi {bag} đã được niêm phong (số niêm phong {seal_number}).",
    "Bag {bag} is already sealed (seal {seal_number}).")
BagEmptyError = _error(
    "bag_empty", 409,
    "Túi {bag} chưa có bưu gửi nào.",
    "Bag {bag} holds no envelope.")
SealMismatchError = _error(
    "seal_mismatch", 409,
    "Số niêm phong {seen} khác số đã ghi khi niêm phong; kiểm tra lại, nếu đúng là sai lệch "
    "hãy xác nhận bất thường niêm phong để lập biên bản.",
    "Seal number {seen} differs from the one recorded at sealing; check it, and if it really "
    "differs, confirm a seal anomaly to open an incident.")
TrackerRequiredError = _error(
    "tracker_required", 422,
    "Túi chứa bưu gửi Tuyệt mật phải có thiết bị định vị.",
    "A bag holding a Tuyệt mật item needs a GPS tracker.")
EscortRequiredError = _error(
    "escort_required", 422,
    "Xe không chuyên dùng phải có người áp tải.",
    "A non-dedicated vehicle needs an escort.")

# Subject (trích yếu)
SubjectNotAllowedError = _error(
    "subject_not_allowed", 422,
    "Không được ghi trích yếu cho bưu gửi {classification} theo quy định hiện hành.",
    "The rule in force does not allow a subject for {classification} items.")
SubjectApprovalRequiredError = _error(
    "subject_approval_required", 422,
    "Ghi trích yếu tài liệu Tuyệt mật cần có người xác định độ mật phê duyệt.",
    "A Tuyệt mật subject needs the approval of the person who classified it.")

# Who drafted, who signed, why it is secret (docs/domain.md §8, classification basis)
ProvenanceRequiredError = _error(
    "provenance_required", 422,
    "Bưu gửi {classification} phải ghi {label}.",
    "A {classification} item must record its {label_en} (field {field}).")

DatabaseUnavailableError = _error(
    "database_unavailable", 503,
    "Không kết nối được cơ sở dữ liệu; chưa có gì được ghi. Hãy thử lại.",
    "The database cannot be reached; nothing was written. Try again.")
InternalError = _error(
    "internal_error", 500,
    "Lỗi hệ thống khi ghi lượt quét này; lượt này chưa được ghi. Hãy thử lại hoặc báo quản trị.",
    "Internal error while recording this scan; nothing of it was written. Try again or tell "
    "the administrator.")
NotAttemptedError = _error(
    "not_attempted", 503,
    "Chưa xử lý: lô dừng ở lượt quét thứ {stopped_at} vì không kết nối được cơ sở dữ liệu; "
    "lượt này chưa được ghi, hãy gửi lại.",
    "Not attempted: the batch stopped at item {stopped_at} because the database could not be "
    "reached; nothing of this scan was written, send it again.")
ReportRequiredError = _error(
    "report_required", 422,
    "Niêm phong bất thường: phải nhập nội dung biên bản.",
    "A seal anomaly needs a report text.")
UnknownIncidentError = _error(
    "unknown_incident", 404,
    "Không tìm thấy sự cố số {incident_id}.",
    "No incident {incident_id}.")

# Scanner devices and the API edge
TokenMissingError = _error(
    "token_missing", 401,
    "Thiếu mã truy cập của thiết bị.",
    "The device token is missing (Authorization: Bearer TOKEN).")
TokenInvalidError = _error(
    "token_invalid", 401,
    "Mã truy cập của thiết bị không đúng.",
    "The device token is not valid.")
TokenRevokedError = _error(
    "token_revoked", 401,
    "Thiết bị đã bị thu hồi quyền truy cập.",
    "This device's token was revoked.")
DependsOnRefusedError = _error(
    "depends_on_refused", 409,
    "Bị từ chối vì lượt quét trước của bưu gửi {number} trong cùng lô đã bị từ chối.",
    "Refused because an earlier scan of {number} in this batch was refused.")

# Printing (labels, receipts): a job is always stored before these are raised
PrinterOfflineError = _error(
    "printer_offline", 503,
    "Máy in {printer} đang tắt hoặc không phản hồi. Lệnh in số {job_id} đã được lưu và sẽ "
    "được in lại tự động (lần thử tới lúc {retry_at}).",
    "Printer {printer} is off or not answering ({reason}). Print job {job_id} is kept and "
    "will be retried automatically (next attempt at {retry_at}).")
PrintJobFailedError = _error(
    "print_job_failed", 502,
    "Không in được lệnh in số {job_id} trên máy in {printer}: {reason}",
    "Print job {job_id} on printer {printer} failed: {reason}")
ReprintReasonRequiredError = _error(
    "reprint_reason_required", 422,
    "Nhãn của bưu gửi {number} đã được in; muốn in lại phải ghi lý do.",
    "The label of {number} was already printed: a reprint needs a reason.")
UnknownPrinterError = _error(
    "unknown_printer", 404,
    "Không tìm thấy máy in {printer}.",
    "No printer {printer}.")
NoPrinterError = _error(
    "no_printer", 404,
    "Máy trạm {workstation} chưa có máy in mặc định; hãy chọn máy in (--printer).",
    "Workstation {workstation} has no default printer: choose one (--printer).")
PrinterInvalidError = _error(
    "printer_invalid", 422,
    "Cấu hình máy in không hợp lệ: {reason}",
    "Invalid printer configuration: {reason}")
UnknownPrintJobError = _error(
    "unknown_print_job", 404,
    "Không tìm thấy lệnh in số {job_id}.",
    "No print job {job_id}.")
ReceiptPartiesError = _error(
    "receipt_parties_differ", 422,
    "Một biên nhận chỉ gồm các bưu gửi có cùng bên giao và bên nhận ({number} khác).",
    "One receipt covers items with the same giver and receiver ({number} differs).")
ReceiptNoHandoffError = _error(
    "receipt_no_handoff", 409,
    "Bưu gửi {number} chưa được giao nhận lần nào; chưa có gì để lập biên nhận.",
    "{number} has not been handed over yet: there is nothing to give a receipt for.")

# Web sign-in
SignInFailedError = _error(
    "sign_in_failed", 401,
    "Tên đăng nhập hoặc mật khẩu không đúng.",
    "Wrong username or password.")
SignInThrottledError = _error(
    "sign_in_throttled", 429,
    "Đăng nhập sai quá nhiều lần; tài khoản tạm khóa {minutes} phút.",
    "Too many failed sign-ins: this name is locked for {minutes} minutes.")

# Handover sheets (bảng kê giao bưu gửi, agency to post office)
UnknownSheetError = _error(
    "unknown_sheet", 404,
    "Không tìm thấy bảng kê giao số {number}.",
    "No handover sheet {number}.")
SheetStateError = _error(
    "sheet_state_invalid", 409,
    "Bảng kê {sheet} đang ở trạng thái {status}; không thể {action}.",
    "Handover sheet {sheet} is {status}; cannot {action}.")
EnvelopeOnSheetError = _error(
    "envelope_on_sheet", 409,
    "Bưu gửi {number} đã có trong bảng kê giao {sheet} (chưa ký nhận).",
    "{number} is already on handover sheet {sheet} (not yet signed for).")
DiscrepancyUnreportedError = _error(
    "discrepancy_unreported", 409,
    "Bưu gửi quét được khác bảng kê {sheet}: phải lập biên bản sai lệch và giải quyết "
    "trước khi ký nhận.",
    "What was scanned differs from sheet {sheet}: report the discrepancy and settle it "
    "before signing.")

# Inside a unit: internal circulation and hand-over (docs/rules.md, rules A6 and A7)
HandedToSelfError = _error(
    "handed_to_self", 422,
    "Người giao và người nhận phải là hai người khác nhau.",
    "The giver and the receiver must be two different people.")
DirectionNeedsHeadError = _error(
    "direction_needs_head", 422,
    "Trình xin ý kiến chỉ đạo phải chuyển cho lãnh đạo đơn vị; {receiver} không phải lãnh đạo "
    "đơn vị.",
    "A document for direction goes to a head of the unit; {receiver} is not one.")
AddresseeFirstError = _error(
    "addressee_first", 409,
    "Bưu gửi {number} ghi \"Chỉ người có tên mới được bóc bì\": phải chuyển cho người có tên "
    "trước khi luân chuyển nội bộ.",
    "Envelope {number} is addressee-only: pass it to the named person before it circulates.")

# Leaving or moving (bàn giao khi thôi việc, chuyển công tác): issue 11
UserHoldsItemsError = _error(
    "user_holds_items", 409,
    "{username} đang giữ {envelopes} bưu gửi, {bags} túi thư và {sheets} bảng kê giao chưa "
    "ký nhận: hãy bàn giao tất cả cho đồng nghiệp trước khi khóa tài khoản, chuyển đơn vị "
    "hoặc đổi vai trò.",
    "{username} holds {envelopes} envelope(s), {bags} bag(s) and {sheets} open handover "
    "sheet(s): hand everything over to a colleague before deactivating, moving or changing "
    "the role.")
LastCustodianError = _error(
    "last_custodian", 409,
    "{username} là {role} cuối cùng còn làm việc của {unit}, nơi đang giữ {envelopes} bưu "
    "gửi: hãy thêm hoặc chuyển người khác đến trước.",
    "{username} is the last active {role} of {unit}, which holds {envelopes} envelope(s): "
    "add or move someone there first.")
RoleUnitKindError = _error(
    "role_unit_mismatch", 422,
    "Vai trò {role} không làm việc tại {unit} ({kind}).",
    "Role {role} does not work at {unit} ({kind}).")
HandoverReceiverInactiveError = _error(
    "handover_receiver_inactive", 422,
    "Tài khoản {receiver} đã bị khóa: không thể nhận bàn giao.",
    "{receiver}'s account is deactivated: it cannot receive a handover.")
HandoverRoleFamilyError = _error(
    "handover_role_family", 422,
    "{receiver} ({receiver_role}) không cùng nhóm vai trò với {username} ({role}): chỉ bàn "
    "giao cho người làm cùng công việc.",
    "{receiver} ({receiver_role}) is not of {username}'s role family ({role}): hand over only "
    "to someone doing the same work.")
NothingToHandOverError = _error(
    "nothing_to_hand_over", 409,
    "{username} không giữ bưu gửi, túi thư hay bảng kê giao nào: không có gì để bàn giao.",
    "{username} holds no envelope, bag or open handover sheet: there is nothing to hand over.")
UnknownHandoverRecordError = _error(
    "unknown_handover_record", 404,
    "Không tìm thấy biên bản bàn giao số {number}.",
    "No handover record {number}.")

# Statistics of state secrets and the periodic report (thống kê BMNN, docs/domain.md §8)
# (one refusal for every report's period: statistics and self-inspection)
PeriodReversedError = _error(
    "period_reversed", 422,
    "Kỳ báo cáo không hợp lệ: ngày kết thúc ({end}) trước ngày bắt đầu ({start}).",
    "The period ends ({end}) before it starts ({start}).")
PeriodTooLongError = _error(
    "period_too_long", 422,
    "Kỳ thống kê từ {start} đến {end} dài quá {years} năm.",
    "The period from {start} to {end} is longer than {years} years.")
# Self-inspection reports (báo cáo tự kiểm tra): issue 12, item 4
# (a reversed period is PeriodReversedError above)
UnknownSelfInspectionError = _error(
    "unknown_self_inspection", 404,
    "Không tìm thấy báo cáo tự kiểm tra số {number}.",
    "No self-inspection report {number}.")
SelfInspectionSignedError = _error(
    "self_inspection_signed", 409,
    "Báo cáo tự kiểm tra {number} đã được ký lúc {signed_at}: không ký lại được.",
    "Self-inspection report {number} was already signed at {signed_at}: it is not signed "
    "again.")
SelfInspectionSignerError = _error(
    "self_inspection_signer", 403,
    "Chỉ thủ trưởng đơn vị mới ký báo cáo tự kiểm tra.",
    "Only a head of the unit signs a self-inspection report.")
SelfInspectionAlteredError = _error(
    "self_inspection_altered", 409,
    "Nội dung báo cáo tự kiểm tra {number} không còn khớp mã kiểm tra đã ghi: không ký được.",
    "The content of self-inspection report {number} no longer matches its recorded digest: "
    "it cannot be signed.")
UnknownRemediationError = _error(
    "unknown_remediation", 404,
    "Không tìm thấy việc khắc phục số {remediation}.",
    "No remediation {remediation}.")
RemediationClosedError = _error(
    "remediation_closed", 409,
    "Việc khắc phục số {remediation} đã hoàn thành ngày {done_on}: không sửa được; nếu tồn "
    "tại tái diễn, lần tự kiểm tra sau sẽ mở việc khắc phục mới.",
    "Remediation {remediation} was done on {done_on}: it is not edited; if the problem comes "
    "back, the next self-inspection opens a new one.")
# Copies (sao, chụp; docs/domain.md §8): issue 12, rules P1 to P3
OriginalDestroyedError = _error(
    "original_destroyed", 409,
    "Tài liệu {number} đã bị tiêu hủy: không thể sao, chụp.",
    "Document {number} was destroyed: it cannot be copied.")
CopyForbiddenError = _error(
    "copy_forbidden", 409,
    "Tài liệu {number} có dấu \"Không được sao chụp\": không thể sao, chụp.",
    "Document {number} is marked \"không được sao chụp\" (no copies): it cannot be copied.")
CopyOfCopyError = _error(
    "copy_of_copy", 409,
    "Bưu gửi {number} là một bản sao: chỉ được sao, chụp từ bản gốc.",
    "{number} is itself a copy: copies are made from the original only.")
CopyApproverNotEntitledError = _error(
    "copy_approver_not_entitled", 422,
    "{approver} không có thẩm quyền cho phép sao, chụp tài liệu tại {unit}.",
    "{approver} is not entitled to allow copies in {unit}.")
CopyNumberTakenError = _error(
    "copy_number_taken", 409,
    "Tài liệu {number} đã có Bản số {copy_no}.",
    "Document {number} already has copy no. {copy_no} (Bản số {copy_no}).")
CopyNumberOutOfSequenceError = _error(
    "copy_number_out_of_sequence", 409,
    "Bản số {copy_no} không liền sau bản số cuối cùng của tài liệu {number} ({last}): các "
    "bản sao được đánh số liên tục.",
    "Copy no. {copy_no} does not follow the last copy of {number} ({last}): copies are "
    "numbered without gaps.")
# The end of a secret's life: protection terms, extension, declassification, destruction
# (docs/domain.md §8; kt1/services/protection.py)
ProtectionTermTooLongError = _error(
    "protection_term_too_long", 422,
    "Thời hạn bảo vệ đến {until} dài hơn quy định cho phép: {years} năm kể từ ngày xác định "
    "độ mật {classified_on} (tối đa đến {longest}).",
    "A protection term until {until} is longer than the rule allows: {years} years from the "
    "classification date {classified_on} (until {longest} at most).")
ExtensionNotLongerError = _error(
    "extension_not_longer", 422,
    "Gia hạn phải kéo dài thời hạn bảo vệ: ngày mới {new_until} không sau ngày hết hạn hiện "
    "tại {current}.",
    "An extension must lengthen the term: the new end {new_until} is not after the current "
    "end {current}.")
DestructionNeedsDecisionError = _error(
    "destruction_needs_decision", 422,
    "Chỉ tiêu hủy khi có quyết định của người có thẩm quyền và biên bản của hội đồng: còn "
    "thiếu {missing_vi}.",
    "A destruction needs the competent person's decision and the council's record: "
    "{missing} is missing.")
class ItemInTransitError(KT1Error):
    """A protection decision on an item that is moving; the Vietnamese message names its
    status in Vietnamese (the details keep the stored value)."""

    slug = "item_in_transit"
    status = 409
    message_vi = ("Bưu gửi {number} đang trên đường vận chuyển ({status}): chỉ ghi quyết định "
                  "gia hạn, giải mật hay tiêu hủy khi tài liệu đang được đơn vị lưu giữ.")
    message_en = ("Item {number} is in transit ({status}): a decision to extend, declassify or "
                  "destroy is recorded only while the document rests with a unit.")

    @property
    def message_local(self) -> str:
        from kt1.models.enums import EnvelopeStatus
        from kt1.web.words import WORDS  # the words the pages show for a status

        status = str(self.details.get("status", ""))
        return self.message_vi.format(
            number=self.details.get("number", ""),
            status=WORDS[EnvelopeStatus].get(status, status).lower())
UsedAfterDestructionError = _error(
    "used_after_destruction", 409,
    "Tài liệu {number} đã được tiêu hủy: không thể ghi thêm sự kiện nào.",
    "Document {number} was destroyed: nothing more can be recorded on it.")
AlreadyDeclassifiedError = _error(
    "already_declassified", 409,
    "Tài liệu {number} đã được giải mật toàn bộ.",
    "Document {number} is already fully declassified.")
UnknownNumberError = _error(
    "unknown_number", 404,
    "Không tìm thấy số {number}.",
    "Nothing found with number {number}.")
AlreadyReceivedError = _error(
    "already_received", 409,
    "Bưu gửi {number} đã được ghi nhận rồi: {holder} đang giữ. Không ghi thêm gì.",
    "{number} was already recorded: {holder} holds it. Nothing more was written.")
UnitInUseError = _error(
    "unit_in_use", 409,
    "Đơn vị {unit} còn {users} người dùng đang làm việc, {envelopes} bưu gửi đang giữ, {bags} "
    "túi thư chưa đóng xong, {sheets} bảng kê giao chưa ký nhận và {devices} thiết bị quét: "
    "hãy chuyển người, bàn giao tài liệu và thu hồi thiết bị trước khi ngừng hoạt động đơn vị.",
    "Unit {unit} still has {users} active user(s), holds {envelopes} envelope(s), {bags} "
    "unfinished bag(s), {sheets} unsigned handover sheet(s) and {devices} scanner(s): move the "
    "people, hand over the documents and revoke the devices before deactivating the unit.")
UnitInactiveError = _error(
    "unit_inactive", 409,
    "Đơn vị {unit} đã ngừng hoạt động.",
    "Unit {unit} has been deactivated.")
# Corrections (issue 13): taking an envelope out of a bag still open, the routing check
EnvelopeNotInBagError = _error(
    "envelope_not_in_bag", 409,
    "Bưu gửi {number} không có trong túi {bag}.",
    "{number} is not in bag {bag}.")
RouteMismatchError = _error(
    "route_mismatch", 409,
    "Bưu gửi {number} gửi đến {recipient}, nhưng túi {bag} đi {destination}, bưu cục không "
    "phục vụ nơi nhận này. Kiểm tra lại túi; nếu vẫn cần cho vào túi này, ghi rõ lý do.",
    "{number} is addressed to {recipient}, but bag {bag} goes to {destination}, which does "
    "not serve that recipient. Check the bag; to put it in anyway, give the reason.")
VoidNotAllowedError = _error(
    "void_not_allowed", 409,
    "Không thể hủy lần quét cuối của bưu gửi {number} ({kind}): chỉ người đã quét mới hủy "
    "được, khi đó là lần giao đi phát, chuyển người có tên hoặc luân chuyển nội bộ do chính "
    "người đó giao đi.",
    "The last scan of {number} ({kind}) cannot be voided: only its operator voids it, when "
    "it handed the item out for delivery, to the addressee or inside the unit.")
VoidWindowPassedError = _error(
    "void_window_passed", 409,
    "Lần quét cuối của bưu gửi {number} đã quá {minutes} phút, không hủy được nữa: hãy ghi "
    "một lần giao nhận mới, hoặc báo sự cố.",
    "The last scan of {number} is more than {minutes} minutes old and can no longer be "
    "voided: record a new handoff, or report an incident.")
# The background worker (issue 14, docs/worker.md): a schema upgrade waits for workers of
# another version to stop
WorkerRunningError = _error(
    "worker_running", 409,
    "Đang có tiến trình nền (kt1 worker) chạy phiên bản khác: {workers}. Hãy dừng các tiến "
    "trình này trước khi nâng cấp cơ sở dữ liệu.",
    "A background worker (kt1 worker) of another version is running: {workers}. Stop it "
    "before upgrading the database.")
# Backup and restore (issue 14): `kt1 backup`, `kt1 restore` (kt1/services/backup.py)
BackupInvalidError = _error(
    "backup_invalid", 422,
    "Thư mục sao lưu {path} không dùng được: {reason}.",
    "The backup {path} cannot be used: {reason}.")
BackupChecksumError = _error(
    "backup_checksum_mismatch", 422,
    "Tệp {file} trong bản sao lưu không khớp tổng kiểm tra ghi trong manifest.json ({reason}): "
    "bản sao lưu đã hỏng hoặc bị sửa, không khôi phục từ nó.",
    "{file} in the backup does not match the checksum in manifest.json ({reason}): the "
    "backup is damaged or was altered; nothing was restored from it.")
BackupEngineMismatchError = _error(
    "backup_engine_mismatch", 422,
    "Bản sao lưu là của cơ sở dữ liệu {backup}, không khôi phục được vào {target}.",
    "The backup is of a {backup} database; it cannot be restored into {target}.")
RestoreTargetNotEmptyError = _error(
    "restore_target_not_empty", 409,
    "Cơ sở dữ liệu đích {target} đã có dữ liệu ({tables} bảng, {rows} dòng đơn vị, người "
    "dùng, bưu gửi, giao nhận, điểm kiểm tra). Hãy khôi phục vào một cơ sở dữ liệu mới; chỉ "
    "khi chắc chắn muốn xóa hết dữ liệu đó mới dùng --force.",
    "The target database {target} is not empty ({tables} tables, {rows} rows of units, "
    "users, envelopes, handoffs and checkpoints). Restore into a new database; only if you "
    "mean to erase what it holds, pass --force.")
BackupToolMissingError = _error(
    "backup_tool_missing", 503,
    "Không tìm thấy chương trình {tool} (cài gói postgresql-client cùng phiên bản máy chủ).",
    "{tool} was not found (install the postgresql-client of the server's version).")
BackupToolFailedError = _error(
    "backup_tool_failed", 500,
    "{tool} báo lỗi: {detail}",
    "{tool} failed: {detail}")
RestoreMismatchError = _error(
    "restore_mismatch", 500,
    "Cơ sở dữ liệu sau khi khôi phục không khớp manifest.json: {reason}.",
    "The restored database does not match manifest.json: {reason}.")
