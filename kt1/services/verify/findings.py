"""The findings catalogue: every code ``kt1 verify`` reports, its severity and its vi/en
messages (docs/rules.md lists which rule each belongs to), and the report on one envelope.

Statuses, worst first: ``broken`` (a finding of severity ``broken``: the record fails a
custody rule or was tampered with), ``overdue`` (nothing broken, but a deadline passed while
the envelope was not done), ``complete`` (nothing broken and a terminal state: registered on
arrival or passed on to the addressee, returned or recalled; it may still carry ``notice``
findings), ``in_transit`` (nothing broken and within its deadlines).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kt1.errors import KT1Error
from kt1.services.rules.custody import TERMINAL
from kt1.services.rules.facts import Hit

BROKEN = "broken"
OVERDUE = "overdue"
NOTICE = "notice"
SEVERITY_RANK = {NOTICE: 0, OVERDUE: 1, BROKEN: 2}

COMPLETE = "complete"
IN_TRANSIT = "in_transit"
STATUSES = (COMPLETE, IN_TRANSIT, OVERDUE, BROKEN)


@dataclass(frozen=True)
class FindingSpec:
    severity: str
    vi: str
    en: str


#: Every finding code, its default severity and its messages. Codes are stable.
FINDINGS: dict[str, FindingSpec] = {
    # -- tamper evidence (rule 15)
    "chain_missing": FindingSpec(
        BROKEN, "Bưu gửi không có bản ghi giao nhận nào.",
        "The envelope has no custody record at all."),
    "chain_hash_mismatch": FindingSpec(
        BROKEN, "Bản ghi giao nhận số {seq} đã bị sửa: mã băm không khớp với nội dung.",
        "Handoff {seq} was altered: its hash does not match its content."),
    "chain_link_broken": FindingSpec(
        BROKEN, "Chuỗi giao nhận bị đứt ở bản ghi số {seq}: có bản ghi bị xóa, chèn hoặc đổi "
                "thứ tự.",
        "The chain is broken at handoff {seq}: a record was deleted, inserted or reordered."),
    "chain_sequence_broken": FindingSpec(
        BROKEN, "Số thứ tự bản ghi giao nhận không liên tục: vị trí {position} mang số {seq}.",
        "Handoff numbering is not continuous: position {position} is numbered {seq}."),
    "chain_head_mismatch": FindingSpec(
        BROKEN, "Đầu chuỗi ghi trên bưu gửi ({recorded} bản ghi) không khớp chuỗi thực tế "
                "({actual} bản ghi): bản ghi mới nhất có thể đã bị cắt.",
        "The chain head recorded on the envelope ({recorded} handoffs) does not match its "
        "chain ({actual} handoffs): the newest handoffs may have been cut off."),
    "envelope_missing": FindingSpec(
        BROKEN, "Có bản ghi giao nhận của bưu gửi mã nội bộ {envelope_id} nhưng bưu gửi đã "
                "bị xóa.",
        "Handoffs exist for internal envelope {envelope_id}, but its envelope record was "
        "deleted."),
    # -- rules 1, 2: the outside of the envelope
    "mark_mismatch": FindingSpec(
        BROKEN, "Dấu chữ ngoài bì ({mark}) không tương ứng với độ mật (phải là {expected}).",
        "The outer letter ({mark}) does not match the classification (should be {expected})."),
    "layers_mismatch": FindingSpec(
        BROKEN, "Số lớp bì ({layers}) không đúng với độ mật (phải là {expected}).",
        "The number of envelope layers ({layers}) does not match the classification "
        "(should be {expected})."),
    # -- rule 3
    "not_registered_before_handoff": FindingSpec(
        BROKEN, "Bưu gửi đã được giao nhận trước khi vào Sổ đăng ký BMNN đi.",
        "The envelope changed hands before it was entered in the outgoing register."),
    # -- rules 4, 5: signed, unbroken custody
    "event_out_of_order": FindingSpec(
        BROKEN, "Sự kiện {kind} (bản ghi số {seq}) không thể xảy ra sau trạng thái {status}.",
        "Event {kind} (handoff {seq}) cannot follow status {status}."),
    "void_invalid": FindingSpec(
        BROKEN, "Bản ghi hủy lần quét số {seq} không hợp lệ: chỉ hủy được lần giao nhận cuối "
                "(giao đi phát, chuyển người có tên, luân chuyển nội bộ; ở đây: {kind}) và trả "
                "bưu gửi về người giữ trước đó.",
        "The void at handoff {seq} is invalid: only the last handoff (out for delivery, "
        "passed to the addressee, internal circulation; here: {kind}) is voided, and the "
        "envelope goes back to its holder before it."),
    "receipt_missing": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} không có chữ ký nhận của người nhận.",
        "Handoff {seq} has no receipt signed by the receiver."),
    "receipt_not_by_receiver": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} do người khác ký nhận, không phải người nhận.",
        "Handoff {seq} was signed by someone other than the receiver."),
    "giver_not_holder": FindingSpec(
        BROKEN, "Người giao ở bản ghi số {seq} không phải người đang giữ bưu gửi.",
        "The giver of handoff {seq} was not the envelope's holder."),
    "holder_missing": FindingSpec(
        BROKEN, "Sau bản ghi số {seq} không có người nào giữ bưu gửi.",
        "After handoff {seq} nobody holds the envelope."),
    "holder_mismatch": FindingSpec(
        BROKEN, "Người giữ ghi trên bưu gửi khác người nhận cuối cùng trong chuỗi giao nhận "
                "(hai người giữ).",
        "The holder recorded on the envelope is not the last receiver in its chain "
        "(two holders)."),
    "time_backwards": FindingSpec(
        BROKEN, "Thời điểm của bản ghi số {seq} sớm hơn bản ghi trước.",
        "Handoff {seq} is timed before the one before it."),
    "event_in_future": FindingSpec(
        BROKEN, "Bản ghi số {seq} có thời điểm ở tương lai.",
        "Handoff {seq} is timed in the future."),
    "device_clock_skew": FindingSpec(
        BROKEN, "Ở bản ghi số {seq}, giờ thiết bị lệch quá xa giờ máy chủ ghi nhận.",
        "At handoff {seq} the device time is too far from the time the server recorded it."),
    # -- rule 6
    "receipt_over_open_discrepancy": FindingSpec(
        BROKEN, "Bản ghi số {seq} được ký nhận khi sai lệch số {incident} chưa được giải quyết.",
        "Handoff {seq} was signed while discrepancy {incident} was still open."),
    # -- rule 7
    "seal_anomaly": FindingSpec(
        BROKEN, "Niêm phong bất thường ({state_vi}) tại bản ghi số {seq}.",
        "Seal anomaly ({state}) at handoff {seq}."),
    "seal_anomaly_unreported": FindingSpec(
        BROKEN, "Niêm phong bất thường tại bản ghi số {seq} nhưng không có biên bản sự cố.",
        "Seal anomaly at handoff {seq} with no incident report."),
    "seal_incident_without_report": FindingSpec(
        BROKEN, "Sự cố niêm phong số {incident} (bản ghi số {seq}) không có nội dung biên bản.",
        "Seal incident {incident} (handoff {seq}) has no report text."),
    # -- rule 8: bags
    "bag_custody_gap": FindingSpec(
        BROKEN, "Bản ghi số {seq}: khi bưu gửi ở trong túi, mọi lần giao nhận phải là của "
                "chính túi đó, từ lúc đóng túi đến lúc mở túi.",
        "Handoff {seq}: while the envelope is in a bag, every handoff must be that bag's, "
        "from bagging to opening."),
    "seal_number_changed": FindingSpec(
        BROKEN, "Số niêm phong ở bản ghi số {seq} khác số đã ghi khi niêm phong túi.",
        "The seal number at handoff {seq} differs from the one recorded at sealing."),
    "manifest_mismatch": FindingSpec(
        BROKEN, "Bảng kê túi không khớp ở bản ghi số {seq}: {detail_vi}.",
        "The bag manifest does not match at handoff {seq}: {detail_en}."),
    "bag_tracker_missing": FindingSpec(
        BROKEN, "Túi chứa bưu gửi Tuyệt mật không có thiết bị định vị (bản ghi số {seq}).",
        "A bag holding this Tuyệt mật envelope had no GPS tracker (handoff {seq})."),
    "bag_escort_missing": FindingSpec(
        BROKEN, "Túi được chuyển bằng xe không chuyên dùng mà không có người áp tải "
                "(bản ghi số {seq}).",
        "The bag travelled in a non-dedicated vehicle without an escort (handoff {seq})."),
    # -- rules 9, 12: arrival
    "arrival_unregistered": FindingSpec(
        BROKEN, "Bưu gửi được chuyển tiếp mà chưa được đơn vị nhận vào Sổ đăng ký BMNN đến "
                "(bản ghi số {seq}).",
        "The envelope was passed on before the recipient unit entered it in the incoming "
        "register (handoff {seq})."),
    "arrival_registration_late": FindingSpec(
        OVERDUE, "Bưu gửi không được vào sổ đến trong ngày hoặc ngày làm việc tiếp theo "
                 "(hạn {due}).",
        "The envelope was not registered on arrival the same or the next working day "
        "(due {due})."),
    # -- rule 10
    "addressee_only_violated": FindingSpec(
        BROKEN, "Bì \"Chỉ người có tên mới được bóc bì\" được chuyển cho người không có thẩm "
                "quyền (bản ghi số {seq}).",
        "An addressee-only envelope went to someone without the authority to open it "
        "(handoff {seq})."),
    # -- rule 11
    "recall_overdue": FindingSpec(
        OVERDUE, "Tài liệu thu hồi không được trả lại trước hạn {due}.",
        "The recalled document was not back by its date ({due})."),
    # -- rule 14: the subject line (trích yếu)
    "subject_recorded_against_rule": FindingSpec(
        BROKEN, "Trích yếu của bưu gửi {classification} được lưu trái quy định áp dụng ngày "
                "đăng ký ({policy_vi}).",
        "A subject is stored for this {classification} envelope against the rule in force "
        "when it was registered ({policy})."),
    # -- rule A6: leaving or moving
    # -- custody inside a unit (rules A6, A7)
    "circulated_outside_unit": FindingSpec(
        BROKEN, "Bản ghi số {seq} luân chuyển nội bộ bưu gửi ra ngoài đơn vị đang giữ nó.",
        "Handoff {seq} circulates the document outside the unit that holds it."),
    "circulated_to_self": FindingSpec(
        BROKEN, "Bản ghi số {seq} luân chuyển nội bộ cho chính người giao.",
        "Handoff {seq} circulates the document to its own giver."),
    "direction_not_by_head": FindingSpec(
        BROKEN, "Bản ghi số {seq} trình xin ý kiến chỉ đạo cho người không phải lãnh đạo đơn vị.",
        "Handoff {seq} sends the document for direction to someone who is not a head of the "
        "unit."),
    "handover_outside_unit": FindingSpec(
        BROKEN, "Bản ghi số {seq} bàn giao bưu gửi cho người của đơn vị khác.",
        "Handoff {seq} hands the item over to a person of another unit."),
    "handed_to_self": FindingSpec(
        BROKEN, "Bản ghi số {seq} bàn giao bưu gửi cho chính người giao.",
        "Handoff {seq} hands the item over to its own giver."),
    "held_by_inactive_user": FindingSpec(
        BROKEN, "Bưu gửi vẫn do tài khoản đã khóa ({holder}) giữ: phải bàn giao hết trước khi "
                "khóa tài khoản.",
        "The envelope is still held by a deactivated account ({holder}): everything held must "
        "be handed over before an account is closed."),
    # -- rule A8: paper receipts
    "paper_receipt_unbound": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} ký nhận trên giấy nhưng số phiếu ghi kèm không phải "
                "bảng kê giao hay phiếu chuyển giao nội bộ do hệ thống in, đã ký và có ghi bưu "
                "gửi này.",
        "Handoff {seq} was signed on paper, but its reference is no handover sheet or "
        "internal handover sheet this system printed, signed, that lists this item."),
    # -- rules P1 to P3: copies (docs/domain.md §8)
    "copy_unapproved": FindingSpec(
        BROKEN, "Bản sao không có phê duyệt hợp lệ ({why_vi}): người phê duyệt {approver}, "
                "ngày phê duyệt {approved_on}.",
        "The copy has no valid approval ({why}): approver {approver}, approved on "
        "{approved_on}."),
    "copy_number_out_of_sequence": FindingSpec(
        BROKEN, "Bản số {no}/{total} sai thứ tự đánh số các bản sao của tài liệu gốc: "
                "{why_vi}.",
        "Copy no. {no}/{total} breaks the numbering of the original's copies: {why}."),
    "copy_original_unknown": FindingSpec(
        BROKEN, "Bản sao ghi tài liệu gốc (mã {original}) không có trong hệ thống.",
        "The copy names an original (id {original}) that does not exist."),
    # -- rules P4 to P7: the end of a secret's life (docs/domain.md §8)
    "protection_term_missing": FindingSpec(
        BROKEN, "Tài liệu mật chưa có thời hạn bảo vệ: thiếu ngày xác định độ mật hoặc ngày "
                "hết thời hạn bảo vệ.",
        "A classified document has no protection term: its classification date or the end "
        "of its term is missing."),
    "protection_term_too_long": FindingSpec(
        BROKEN, "Thời hạn bảo vệ đến {until} dài hơn quy định cho phép ({years} năm, tối đa "
                "đến {longest}) và không có quyết định gia hạn nào.",
        "The protection term until {until} is longer than the rule allows ({years} years, "
        "until {longest} at most) and no extension decided it."),
    "used_after_destruction": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} ({kind}) được ghi sau khi tài liệu đã bị tiêu hủy.",
        "Handoff {seq} ({kind}) was recorded after the document was destroyed."),
    "item_in_transit": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} ghi một quyết định về thời hạn bảo vệ khi bưu gửi đang "
                "trên đường vận chuyển ({status}).",
        "Handoff {seq} records a decision on the protection term while the item was in "
        "transit ({status})."),
    "destruction_needs_decision": FindingSpec(
        BROKEN, "Lần giao nhận số {seq} ghi tiêu hủy nhưng không có số quyết định, số biên bản "
                "tiêu hủy hoặc đủ thành viên hội đồng.",
        "Handoff {seq} records a destruction without a decision number, a record number or "
        "enough council members."),
    # -- time limits (§4)
    # -- rule T2: incidents reach the head of the unit
    "incident_unacknowledged": FindingSpec(
        OVERDUE, "Sự cố số {incident} ({kind_vi}) chưa được thủ trưởng đơn vị hoặc cán bộ bảo "
                 "mật nơi gửi xác nhận đã nắm (hạn {due}).",
        "Incident {incident} ({kind}) was not acknowledged by a head of unit or the sender's "
        "security officer (due {due})."),
    "deadline_missed": FindingSpec(
        OVERDUE, "Quá chỉ tiêu thời gian: chưa phát lần đầu trước hạn {due}.",
        "Deadline missed: no first delivery attempt by {due}."),
    "deadline_rule_missing": FindingSpec(
        NOTICE, "Không có chỉ tiêu thời gian áp dụng cho tuyến {route}, dịch vụ {service} "
                "vào ngày chấp nhận.",
        "No time limit was in force for route {route}, service {service} on the acceptance "
        "date."),
}

@dataclass(frozen=True)
class Finding:
    """One rule an envelope's record fails, with the handoff it concerns."""

    code: str
    seq: int | None
    severity: str
    message_vi: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "seq": self.seq, "severity": self.severity,
                "message_vi": self.message_vi, "message": self.message_en}


def make_finding(code: str, seq: int | None = None, severity: str | None = None,
                 **params: Any) -> Finding:
    spec = FINDINGS[code]
    params = {"seq": seq, **params}
    return Finding(code=code, seq=seq, severity=severity or spec.severity,
                   message_vi=spec.vi.format(**params), message_en=spec.en.format(**params))


@dataclass
class EnvelopeReport:
    """The verdict on one envelope."""

    number: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    chain_length: int = 0
    due: float | None = None  # deadline of the first delivery attempt, epoch seconds

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.findings]

    @property
    def due_at(self) -> datetime | None:
        return datetime.fromtimestamp(self.due, UTC) if self.due is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "chain_length": self.chain_length,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "findings": [f.to_dict() for f in self.findings],
        }


class NothingToVerifyError(KT1Error):
    slug = "nothing_to_verify"
    status = 404
    message_vi = "Cơ sở dữ liệu chưa có bưu gửi nào; chưa có gì để kiểm tra."
    message_en = "The database holds no envelope yet: there is nothing to verify."


def finding_of(hit: Hit, seq: int | None = None) -> Finding:
    """The finding a rule's hit becomes, at handoff ``seq``."""
    return make_finding(hit.code, seq, hit.severity, **hit.params)


def verdict(number: str, findings: list[Finding], status: bytes | None, length: int,
            due: float | None) -> EnvelopeReport:
    """The report on one envelope: its worst finding, else whether it is done."""
    worst = max(SEVERITY_RANK[f.severity] for f in findings) if findings else -1
    if worst == 2:
        status_name = BROKEN
    elif worst == 1:
        status_name = OVERDUE
    elif status in TERMINAL:
        status_name = COMPLETE
    else:
        status_name = IN_TRANSIT
    return EnvelopeReport(number=number, status=status_name, findings=findings,
                          chain_length=length, due=due)
