"""The custody rulebook as data: every rule, its legal source, and how it is judged.

One :class:`Rule` per rule of docs/domain.md §3 (numbers ``"1"`` to ``"15"``), per time limit
of §4 (``"T1"``), per access rule of docs/access.md (``"A1"``...) and per safeguard of the
write path that is this project's own design (``"R1"``...). Each rule names:

- ``refusals``: the slugs of the :class:`kt1.errors.KT1Error` subclasses that the write path
  (registration, custody, bagging, handover sheets, arrivals) raises when a request would
  break the rule, so nothing is written;
- ``codes``: the finding codes (keys of ``kt1.services.verify.FINDINGS``) that
  ``kt1 verify`` reports when a stored record breaks it;
- ``judged_by``: :data:`WRITE_AND_VERIFY`, :data:`VERIFY_ONLY` (what only the stored record
  and the passing of time show: tamper evidence, deadlines, clock skew) or
  :data:`WRITE_ONLY` (what the record cannot show: PIN and badge validity, visibility, scan
  ids).

Every finding code belongs to exactly one rule, and so does every slug listed here
(``tests/unit/test_rulebook_doc.py``). The generic slugs ``forbidden`` and ``wrong_unit`` are
listed once, under A4; ``note`` says where another rule also refuses with them. Input checks
and plain lookups (``invalid_field``, ``unknown_unit``, ``unit_inactive``, ``unknown_user``,
``unknown_incident``) are no rule's. ``docs/rules.md`` is generated from this module
(``kt1 rules explain --markdown``). This module imports nothing of the services: it is
plain data that the verifier and the write path may both import.
"""

from __future__ import annotations

from dataclasses import dataclass

WRITE_AND_VERIFY = "write and verify"
VERIFY_ONLY = "verify only"
WRITE_ONLY = "write only"
JUDGED_BY = (WRITE_AND_VERIFY, VERIFY_ONLY, WRITE_ONLY)

#: The groups of rules, by the prefix of their number ("" for docs/domain.md §3).
GROUPS: tuple[tuple[str, str, str], ...] = (
    ("", "Custody rules (docs/domain.md §3)",
     "Each is something the custody record must prove for every envelope."),
    ("T", "Time limits (docs/domain.md §4)",
     "Dated rule data (`kt1 rules list`), counted in working days."),
    ("A", "Access: who may see and move what (docs/access.md)",
     "What the record cannot show, so only the write path judges it."),
    ("P", "A secret's life beyond transport: copies and protection terms (docs/domain.md §8)",
     "Copies are items of their own; protection terms are dated rule data."),
    ("R", "Recording safeguards [ours]",
     "How the write path keeps the record true to what happened."),
)


@dataclass(frozen=True)
class Rule:
    """One custody rule; see the module docstring for the fields."""

    number: str
    title_vi: str
    title_en: str
    source: str
    refusals: tuple[str, ...]
    codes: tuple[str, ...]
    judged_by: str
    #: How the rule is judged where the lists alone do not say (shared slugs, what is not
    #: checked yet); empty when there is nothing to add.
    note: str = ""

    def __post_init__(self) -> None:
        if self.judged_by not in JUDGED_BY:
            raise ValueError(f"rule {self.number}: judged_by must be one of {JUDGED_BY}")
        if self.judged_by == VERIFY_ONLY and self.refusals:
            raise ValueError(f"rule {self.number}: a verify-only rule has no refusals")
        if self.judged_by == WRITE_ONLY and self.codes:
            raise ValueError(f"rule {self.number}: a write-only rule has no finding codes")

    @property
    def group(self) -> str:
        """The prefix of the number: "" (§3), "T", "A", "P" or "R"."""
        return self.number.rstrip("0123456789")


RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------ docs/domain.md §3
    Rule(
        "1", "Dấu chữ ngoài bì tương ứng với độ mật", "Letter matches classification",
        "Decree 26/2020 Art. 4(1)(b) [law]",
        refusals=(), codes=("mark_mismatch",), judged_by=WRITE_AND_VERIFY,
        note="Registration derives the letter A/B/C from the classification, so the write "
             "path cannot store a wrong one; the verifier checks the stored letter."),
    Rule(
        "2", "Bì trong, bì ngoài theo độ mật", "Envelope layers",
        "Decree 26/2020 Art. 4(1)(b) [law]",
        refusals=(), codes=("layers_mismatch",), judged_by=WRITE_AND_VERIFY,
        note="Registration derives the layers from the classification (two for Tuyệt mật); "
             "the outer label shows only the letter, the KT1 mark, addresses and service "
             "marks (the document number only if LABEL_SHOW_DOCUMENT_NUMBER is set)."),
    Rule(
        "3", "Vào Sổ đăng ký BMNN đi trước khi giao", "Registered before it leaves",
        "Decree 26/2020 Art. 4(1)(a) [law]",
        refusals=(), codes=("not_registered_before_handoff",), judged_by=WRITE_AND_VERIFY,
        note="An envelope exists only through registration, whose first link is "
             "`registered_outgoing`; the first handover must follow it (`event_out_of_order`, "
             "rule 5)."),
    Rule(
        "4", "Mọi lần giao nhận được ghi sổ và người nhận ký nhận",
        "Every handover is recorded and signed by the receiver",
        "Law 29/2018 Art. 13(6) [law]; Decree 26/2020 Art. 4(1)(c)",
        refusals=("acknowledgement_missing", "acknowledgement_invalid"),
        codes=("receipt_missing", "receipt_not_by_receiver"), judged_by=WRITE_AND_VERIFY,
        note="Whether a PIN or badge was valid is judged only when it is written; the record "
             "keeps who signed and how."),
    Rule(
        "5", "Chuỗi giao nhận không đứt đoạn", "Unbroken custody",
        "[ours], from rules 4 and 6",
        refusals=("not_current_holder", "event_out_of_order", "event_time_backwards",
                  "custody_conflict", "already_received", "void_not_allowed",
                  "void_window_passed"),
        codes=("event_out_of_order", "giver_not_holder", "holder_missing", "holder_mismatch",
               "time_backwards", "void_invalid"),
        judged_by=WRITE_AND_VERIFY,
        note="`custody_conflict`: another handoff of the same envelope was written at the "
             "same moment (two holders); the request is refused, never judged on a stale "
             "state. `already_received`: the scanner API's answer, instead of "
             "`not_current_holder` or `event_out_of_order`, when the envelope's last handoff "
             "is this very stage and its receiver still holds it (a second scan); nothing is "
             "written either way. A scan recorded by mistake is not deleted: its operator "
             "voids it within minutes (VOID_WINDOW_MINUTES) with a reason, a `voided` link "
             "that gives the envelope back to its holder before it, with the status it had "
             "then."),
    Rule(
        "6", "Đối chiếu trước khi ký nhận", "Reconcile before signing",
        "Decree 26/2020 Art. 4(3) [law]",
        refusals=("discrepancy_open", "discrepancy_unreported", "envelope_on_sheet",
                  "sheet_state_invalid"),
        codes=("receipt_over_open_discrepancy",), judged_by=WRITE_AND_VERIFY,
        note="At the counter the scan is compared with the handover sheet (bảng kê giao); "
             "a difference is reported as a discrepancy and settled before signing. An "
             "envelope is on at most one open sheet."),
    Rule(
        "7", "Niêm phong bất thường phải lập biên bản", "Seal anomalies become incidents",
        "Decree 26/2020 Art. 4(2)(c) [law]",
        refusals=("report_required",),
        codes=("seal_anomaly", "seal_anomaly_unreported", "seal_incident_without_report"),
        judged_by=WRITE_AND_VERIFY,
        note="A handoff with a broken or mismatched seal needs a report; it opens an "
             "incident that goes to the inbox of the heads of the units involved and of the "
             "sender, who must acknowledge it in time (T2)."),
    Rule(
        "8", "Túi gửi niêm phong suốt hành trình", "Bags",
        "Circular 16/2017 Art. 9 [law, superseded]",
        refusals=("envelope_in_bag", "bag_state_invalid", "bag_already_sealed", "bag_empty",
                  "seal_mismatch", "tracker_required", "escort_required",
                  "envelope_not_in_bag", "route_mismatch"),
        codes=("bag_custody_gap", "seal_number_changed", "manifest_mismatch",
               "bag_tracker_missing", "bag_escort_missing"),
        judged_by=WRITE_AND_VERIFY,
        note="While an envelope is in a bag, the bag's handovers are its handovers; the seal "
             "number recorded at sealing is checked at receipt, and what comes out is checked "
             "against the manifest (a difference opens a discrepancy, rule 6). An envelope "
             "goes into a bag whose destination office serves its recipient, or with the "
             "reason written in the bagging; one put in by mistake is taken out while the "
             "bag is still open (an unbagged link: nothing is deleted)."),
    Rule(
        "9", "Vào Sổ đăng ký BMNN đến khi nhận", "Registered on arrival",
        "Decree 26/2020 Art. 4(2)(a) [law]",
        refusals=(), codes=("arrival_unregistered",), judged_by=WRITE_AND_VERIFY,
        note="The write path lets an envelope be passed on only after `registered_incoming` "
             "(`event_out_of_order`, rule 5), by the recipient unit (`wrong_unit`, A4)."),
    Rule(
        "10", "Bì \"Chỉ người có tên mới được bóc bì\"", "Addressee-only envelopes",
        "Decree 26/2020 Art. 4(2)(b) [law]",
        refusals=(), codes=("addressee_only_violated",), judged_by=WRITE_AND_VERIFY,
        note="Refused as `forbidden` (A4) unless the receiver is the named person, or, for an "
             "absent addressee of a Hỏa tốc envelope, the head of the unit or a person the "
             "head authorised in writing (`invalid_field` when the authorisation is not "
             "named)."),
    Rule(
        "11", "Tài liệu thu hồi phải trả lại đúng hạn", "Recall",
        "Decree 26/2020 Art. 4(4) [law]",
        refusals=(), codes=("recall_overdue",), judged_by=VERIFY_ONLY,
        note="Overdue while the date has passed and the item is not back; a notice once it "
             "came back late."),
    Rule(
        "12", "Vào sổ, chuyển giao kịp thời", "Urgent handling",
        "Decree 30/2020 Art. 4(2)(c) [law]",
        refusals=(), codes=("arrival_registration_late",), judged_by=VERIFY_ONLY,
        note="The verifier allows the same or the next working day after delivery for every "
             "envelope; it does not yet hold Hỏa tốc, Thượng khẩn and Khẩn documents to "
             "\"immediately\"."),
    Rule(
        "13", "Sổ điện tử đủ nội dung sổ giấy, in ra để ký", "Electronic registers",
        "Circular 24/2020 Art. 3(3) [law]; Decree 26/2020 Art. 4(7) [law]",
        refusals=(), codes=(), judged_by=WRITE_ONLY,
        note="Met by design, not judged per envelope: the outgoing, incoming and handover "
             "registers are printed to be signed (`kt1/services/registers.py`), and the app "
             "fetches nothing from the internet at run time."),
    Rule(
        "14", "Ghi trích yếu theo quy định", "Subject line",
        "Decree 26/2020 (approval) [law]; Decree 63/2026 (not recorded) [summary]",
        refusals=("subject_not_allowed", "subject_approval_required"),
        codes=("subject_recorded_against_rule",), judged_by=WRITE_AND_VERIFY,
        note="A dated rule (editable data): the rule in force on the registration date "
             "decides."),
    Rule(
        "15", "Chống sửa đổi bản ghi giao nhận", "Tamper evidence",
        "[ours]",
        refusals=(),
        codes=("chain_missing", "chain_hash_mismatch", "chain_link_broken",
               "chain_sequence_broken", "chain_head_mismatch", "envelope_missing"),
        judged_by=VERIFY_ONLY,
        note="Each envelope's handoffs are hash-chained and append-only in the database; "
             "signed Merkle checkpoints of the whole log (`kt1 checkpoint`) catch a log that "
             "was cut off or rewritten."),
    # ------------------------------------------------------------ docs/domain.md §4
    Rule(
        "T1", "Chỉ tiêu thời gian đến lần phát đầu tiên",
        "Time limit to the first delivery attempt",
        "Circular 16/2017 Art. 4 [law, superseded]",
        refusals=(), codes=("deadline_missed", "deadline_rule_missing"),
        judged_by=VERIFY_ONLY,
        note="From acceptance (J) to the first delivery attempt, in working days (J+1 to "
             "J+3.5 by route and service); a Hẹn giờ item is due at its agreed time. The rule "
             "set in force on the acceptance date decides."),
    Rule(
        "T2", "Thủ trưởng đơn vị nắm sự cố trong thời hạn",
        "Incidents reach the head of the unit in time",
        "[ours], from Decree 26/2020 Art. 4(2)(c)",
        refusals=(), codes=("incident_unacknowledged",), judged_by=VERIFY_ONLY,
        note="Every incident goes to the inbox (hộp thư sự cố) of the heads of the units "
             "involved (the reporting unit, the holder, the sender) and of the sending unit's "
             "security officers; opening it records who was told, and one of them "
             "acknowledges it (đã nắm) within KT1_INCIDENT_ACK_WORKING_DAYS working days "
             "(default 1). The verifier flags each envelope whose incident, or its bag's, is "
             "still unacknowledged after that."),
    # ------------------------------------------------------------ docs/access.md
    Rule(
        "A1", "Bưu gửi không được xem thì coi như không tồn tại",
        "An item a unit may not see does not exist for it",
        "[ours]",
        refusals=("unknown_envelope", "unknown_bag", "unknown_sheet"), codes=(),
        judged_by=WRITE_ONLY,
        note="Every read and write answers a number the unit may not see exactly as a number "
             "never issued."),
    Rule(
        "A2", "Bên giao phải có mặt", "The giver is present",
        "[ours], from Law 29/2018 Art. 13(6)",
        refusals=("giver_identification_missing", "giver_identification_invalid"),
        codes=(), judged_by=WRITE_ONLY,
        note="The giver records the handover, or identifies by PIN or staff badge; at a "
             "counter acceptance, a handover sheet the giver's unit made for this office "
             "stands for the giver (a paper receipt naming another sheet is refused under "
             "A7)."),
    Rule(
        "A3", "Bưu cục KT1 chỉ nhận bưu gửi của cơ quan mình phục vụ",
        "A post office accepts only from the agencies it serves",
        "[ours]",
        refusals=("unit_not_served",), codes=(), judged_by=WRITE_ONLY),
    Rule(
        "A4", "Đúng vai trò, đúng đơn vị", "The right role and unit for each stage",
        "[ours]",
        refusals=("forbidden", "wrong_unit"), codes=(), judged_by=WRITE_ONLY,
        note="Who may record each stage: an active account of the role that does it, in the "
             "unit where it happens. Rules 9, 10 and A5 also refuse with these slugs."),
    Rule(
        "A5", "Chỉ bên liên quan mới được báo sự cố",
        "Only a party to the item's handover reports on it",
        "[ours]",
        refusals=(), codes=(), judged_by=WRITE_ONLY,
        note="The holder, the unit that handed it over last, or the unit it goes to next; "
             "another unit that may see the item is refused as `forbidden` (A4)."),
    Rule(
        "A6", "Bàn giao hết trước khi thôi việc, chuyển công tác",
        "Everything held is handed over before an account is closed",
        "Provincial inspection findings, 2024 (docs/domain.md §8, leaving or moving)",
        refusals=("handed_to_self", "user_holds_items", "last_custodian",
                  "handover_receiver_inactive", "handover_role_family",
                  "nothing_to_hand_over"),
        codes=("held_by_inactive_user", "handover_outside_unit", "handed_to_self"),
        judged_by=WRITE_AND_VERIFY,
        note="Before someone leaves or moves, every secret item they hold is handed over, one "
             "signed `handed_over` link per item, to an active colleague of the same unit and "
             "role family (another unit: `wrong_unit`), who signs by PIN or badge, with a "
             "numbered handover record (biên bản bàn giao). Deactivating, moving or changing "
             "the role of a person who holds anything is refused, and so is leaving a unit "
             "that holds items with nobody of the role family. The verifier flags an item "
             "still held by a deactivated account (records from before this was refused)."),
    Rule(
        "A7", "Luân chuyển nội bộ trong đơn vị, có ký nhận",
        "Internal circulation stays inside the unit and is signed",
        "Provincial inspection findings, 2024 (docs/domain.md §8, internal handovers); "
        "Decree 26/2020 Art. 4(2)(b) [law] for addressee-only envelopes",
        refusals=("direction_needs_head", "addressee_first"),
        codes=("circulated_outside_unit", "circulated_to_self", "direction_not_by_head"),
        judged_by=WRITE_AND_VERIFY,
        note="Between people of the sender before acceptance, or of the recipient after the "
             "incoming register: for direction (to a head of the unit), for handling, back to "
             "the registry; each signed by its receiver (rule 4). Another unit is refused as "
             "`wrong_unit` (A4), oneself as `handed_to_self` (A6); an addressee-only envelope "
             "circulates only after the named person received it (reported as "
             "`addressee_only_violated`, rule 10)."),
    Rule(
        "A8", "Ký nhận trên giấy phải gắn với phiếu do hệ thống in",
        "A paper receipt names a sheet this system printed",
        "[ours], from Law 29/2018 Art. 13(6) (docs/access.md, both sides present)",
        refusals=("paper_receipt_unbound",), codes=("paper_receipt_unbound",),
        judged_by=WRITE_AND_VERIFY,
        note="A free-text paper reference binds to nothing. At an acceptance it names the "
             "handover sheet (bảng kê giao) the giver's unit made for the receiving office, "
             "listing the item; at any other handoff an internal handover sheet (phiếu chuyển "
             "giao nội bộ) of the receiving unit, for the signer, marked signed by that unit, "
             "with the item's line ticked. A sheet of another unit is answered as one that "
             "does not exist."),
    # ------------------------------------------------------------ docs/domain.md §8: copies
    Rule(
        "P1", "Sao, chụp phải được người có thẩm quyền cho phép",
        "A copy is made only with the approval of a person entitled to allow it",
        "Law 29/2018 Art. 11 [summary] (docs/domain.md §8, copies)",
        refusals=("copy_approver_not_entitled", "copy_forbidden"), codes=("copy_unapproved",),
        judged_by=WRITE_AND_VERIFY,
        note="A copy (bản sao: photocopy, extract, scan to an isolated machine) records who "
             "approved it and the date. Who may approve: the people an administrator listed "
             "for the unit (`kt1 copy approvers`), or, when it lists none, its heads of unit; "
             "active and of the unit that makes the copy. A document marked \"không được "
             "sao chụp\" refuses copies. The verifier judges the approver against today's "
             "list leniently (listed for the unit, or a head of it)."),
    Rule(
        "P2", "Bản sao được đánh số liên tục (Bản số n/N)",
        "Copies are numbered without gaps (Bản số n/N)",
        "Law 29/2018 Art. 11 [summary]; Circular 24/2020 copy register (docs/domain.md §8)",
        refusals=("copy_number_taken", "copy_number_out_of_sequence"),
        codes=("copy_number_out_of_sequence",), judged_by=WRITE_AND_VERIFY,
        note="The copies of one original are numbered 1, 2, … across approvals; a batch's "
             "N is its highest number (a first batch of 3: 1/3 to 3/3, a later one of 2: "
             "4/5 and 5/5). Each copy has its own S10 number, its outgoing register number "
             "and its number in the unit's copy register (sổ quản lý sao, chụp). The copy's "
             "facts are sealed into its first link: an edit is also `chain_hash_mismatch`."),
    Rule(
        "P3", "Bản sao gắn với tài liệu gốc còn hiệu lực",
        "A copy names a live original",
        "Law 29/2018 Art. 11 [summary] (docs/domain.md §8)",
        refusals=("original_destroyed", "copy_of_copy"), codes=("copy_original_unknown",),
        judged_by=WRITE_AND_VERIFY,
        note="A copy is made from an original the copying unit holds (another unit's, or "
             "one not held, is `unknown_envelope`, A1), never from a destroyed document or "
             "from a copy; the verifier flags a copy whose original is not on record."),
    # ------------------------------------------------------------ docs/domain.md §8: terms
    Rule(
        "P4", "Tài liệu mật phải có thời hạn bảo vệ", "A classified document has its term",
        "Law 29/2018 Art. 19 [law]; Law 117/2025 from 01/03/2026 [summary]",
        refusals=(), codes=("protection_term_missing",), judged_by=VERIFY_ONLY,
        note="Registration records the classification date (by default the document's "
             "date) and the end of the term from the dated rule (table `protection_rule`, "
             "`kt1 protection rules`); the verifier flags a classified document, neither "
             "destroyed nor fully declassified, without them (data from before terms were "
             "recorded whose document date was unknown)."),
    Rule(
        "P5", "Thời hạn bảo vệ không dài hơn quy định", "A term no longer than the rule allows",
        "Law 29/2018 Art. 19, 20 [law]",
        refusals=("protection_term_too_long",), codes=("protection_term_too_long",),
        judged_by=WRITE_AND_VERIFY,
        note="30 years Tuyệt mật, 20 Tối mật, 10 Mật from the classification date, by the "
             "rule in force on that date; a shorter term is entered when the classifier "
             "wrote one. Only an extension (gia hạn, a `protection_extended` link naming the "
             "decision and the new end) moves the end further."),
    Rule(
        "P6", "Không sử dụng tài liệu đã tiêu hủy", "Nothing after a destruction",
        "Law 29/2018 Art. 23 [summary]",
        refusals=("used_after_destruction",), codes=("used_after_destruction",),
        judged_by=WRITE_AND_VERIFY,
        note="A destruction (tiêu hủy) is the chain's last link: any handoff, circulation, "
             "copy or decision after it is refused, and reported by the verifier, with this "
             "slug (judged before the postal order of rule 5)."),
    Rule(
        "P7", "Gia hạn, giải mật, tiêu hủy theo quyết định, khi tài liệu đang lưu giữ",
        "Extension, declassification and destruction by decision, while held",
        "Law 29/2018 Art. 20, 22, 23 [summary]",
        refusals=("item_in_transit", "destruction_needs_decision", "extension_not_longer",
                  "already_declassified"),
        codes=("item_in_transit", "destruction_needs_decision"), judged_by=WRITE_AND_VERIFY,
        note="Recorded by a registry clerk (or the head) of the unit holding the document, "
             "as a link whose holder does not change, with a decision row (number, date, "
             "who decided): an extension must end later than the current term; a destruction "
             "names the council (at least two members) and its record (biên bản tiêu hủy). "
             "Never on an item in transit. `extension_not_longer` and "
             "`already_declassified` are judged by the write path only."),
    # ------------------------------------------------------------ recording safeguards
    Rule(
        "R1", "Thời điểm sự kiện không ở tương lai", "No event in the future",
        "[ours]",
        refusals=("event_time_future",), codes=("event_in_future",),
        judged_by=WRITE_AND_VERIFY,
        note="A device clock may run ahead of the server by MAX_CLOCK_SKEW_SECONDS at most."),
    Rule(
        "R2", "Giờ thiết bị khớp giờ máy chủ", "The device clock agrees with the server's",
        "[ours]",
        refusals=(), codes=("device_clock_skew",), judged_by=VERIFY_ONLY,
        note="The time a scan says it happened and the time the server recorded it are "
             "compared (a scan held back, or a slow device clock)."),
    Rule(
        "R3", "Mỗi mã lượt quét chỉ dùng cho một thao tác", "One scan id, one operation",
        "[ours]",
        refusals=("scan_id_conflict",), codes=(), judged_by=WRITE_ONLY,
        note="A replay of the same scan returns the stored result; the same id with other "
             "content is refused."),
    Rule(
        "R4", "Số hiệu bưu gửi hợp lệ", "Valid item numbers",
        "[ours] (docs/domain.md §6)",
        refusals=("number_length_invalid", "number_letters_invalid", "number_country_invalid",
                  "number_serial_invalid", "check_digit_invalid"),
        codes=(), judged_by=WRITE_ONLY,
        note="UPU S10 numbers with a check digit; every scanned number is also looked up."),
    Rule(
        "R5", "Ghi người soạn thảo, người ký và căn cứ xác định độ mật",
        "Drafter, signer and classification basis",
        "[ours] from provincial inspection findings, 2024 (docs/domain.md §8)",
        refusals=("provenance_required",), codes=(), judged_by=WRITE_ONLY,
        note="A dated rule (editable data, table `provenance_rule`): the rule in force on the "
             "registration date says which of them must be recorded (shipped: all three for "
             "Tuyệt mật and Tối mật). They are sealed into the first link when set, so an "
             "edit is rule 15's `chain_hash_mismatch`; a drafter with an account is the first "
             "link's giver."),
)

_BY_NUMBER = {rule.number: rule for rule in RULES}
_BY_CODE = {code: rule for rule in RULES for code in rule.codes}
_BY_REFUSAL = {slug: rule for rule in RULES for slug in rule.refusals}


def rule(number: str) -> Rule:
    """The rule numbered ``number`` ("1".."15", "T1", "A1"...); KeyError if there is none."""
    return _BY_NUMBER[number]


def rule_for_code(code: str) -> Rule | None:
    """The rule a verifier finding code belongs to, or None for an unknown code."""
    return _BY_CODE.get(code)


def rule_for_refusal(slug: str) -> Rule | None:
    """The rule a write-path refusal slug belongs to, or None if it is no rule's."""
    return _BY_REFUSAL.get(slug)
