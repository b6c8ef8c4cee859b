"""Domain enumerations (docs/domain.md §2). Values are stable: they are stored and hashed."""

from __future__ import annotations

from enum import StrEnum


class UnitKind(StrEnum):
    AGENCY = "agency"  # cơ quan, tổ chức
    POST_OFFICE = "post_office"  # bưu cục KT1


class Role(StrEnum):
    REGISTRY_CLERK = "registry_clerk"  # văn thư
    COUNTER_CLERK = "counter_clerk"  # giao dịch viên bưu cục
    COURIER = "courier"  # bưu tá, áp tải
    SECURITY_OFFICER = "security_officer"  # cán bộ bảo mật
    ADMINISTRATOR = "administrator"  # quản trị hệ thống


class Classification(StrEnum):
    """Độ mật of the document inside."""

    TOP_SECRET = "top_secret"  # noqa: S105  (Tuyệt mật -> A)
    SECRET = "secret"  # noqa: S105  (Tối mật -> B)
    CONFIDENTIAL = "confidential"  # Mật -> C
    UNCLASSIFIED = "unclassified"  # plain KT1 item, no letter

    @property
    def mark(self) -> str | None:
        """The outer letter (dấu chữ A/B/C), the only classification sign outside."""
        return _MARKS[self]

    @property
    def layers(self) -> int:
        """Tuyệt mật travels in two envelopes (bì trong, bì ngoài); the others in one."""
        return 2 if self is Classification.TOP_SECRET else 1

    @property
    def label_vi(self) -> str:
        return _LABELS_VI[self]


_MARKS = {
    Classification.TOP_SECRET: "A",
    Classification.SECRET: "B",
    Classification.CONFIDENTIAL: "C",
    Classification.UNCLASSIFIED: None,
}
_LABELS_VI = {
    Classification.TOP_SECRET: "Tuyệt mật",
    Classification.SECRET: "Tối mật",
    Classification.CONFIDENTIAL: "Mật",
    Classification.UNCLASSIFIED: "Thường",
}


class ServiceClass(StrEnum):
    STANDARD = "standard"  # KT1 thường
    FLASH = "flash"  # Hỏa tốc
    TIMED = "timed"  # Hẹn giờ


class Urgency(StrEnum):
    """Document urgency marks (Decree 30/2020); not a KT1 class of their own."""

    NORMAL = "normal"
    URGENT = "urgent"  # Khẩn
    VERY_URGENT = "very_urgent"  # Thượng khẩn
    FLASH = "flash"  # Hỏa tốc


class Route(StrEnum):
    INTRA_PROVINCE = "intra_province"  # nội tỉnh
    INTER_PROVINCE = "inter_province"  # liên tỉnh


class EventKind(StrEnum):
    """Custody events, one per stage of docs/domain.md."""

    REGISTERED_OUTGOING = "registered_outgoing"  # vào Sổ đăng ký BMNN đi
    ACCEPTED = "accepted"  # chấp nhận tại quầy
    BAGGED = "bagged"  # đóng túi
    #: Taken out of a bag still open (sửa nhầm: lấy ra khỏi túi chưa niêm phong); the status
    #: goes back to what it was before the bagging (accepted or at the office).
    UNBAGGED = "unbagged"
    BAG_SEALED = "bag_sealed"  # niêm phong túi
    DISPATCHED = "dispatched"  # chuyển đi
    BAG_RECEIVED = "bag_received"  # nhận túi
    BAG_OPENED = "bag_opened"  # mở túi
    OUT_FOR_DELIVERY = "out_for_delivery"  # đi phát
    DELIVERY_FAILED = "delivery_failed"  # phát không thành công
    DELIVERED = "delivered"  # đã phát
    REGISTERED_INCOMING = "registered_incoming"  # vào Sổ đăng ký BMNN đến
    PASSED_TO_ADDRESSEE = "passed_to_addressee"  # chuyển người có tên
    RETURNED = "returned"  # chuyển hoàn
    RECALLED = "recalled"  # thu hồi
    # Internal circulation (luân chuyển nội bộ) between people of the unit that holds the
    # document: the sender's before it leaves, the recipient's after the incoming register.
    CIRCULATED_FOR_DIRECTION = "circulated_for_direction"  # trình lãnh đạo cho ý kiến chỉ đạo
    CIRCULATED_FOR_HANDLING = "circulated_for_handling"  # giao chuyên viên xử lý
    CIRCULATED_TO_REGISTRY = "circulated_to_registry"  # trả văn thư (lưu, phát hành, hoàn)
    #: Custody handed over when a person leaves or moves (bàn giao khi thôi việc, chuyển
    #: công tác): to a colleague of the same unit and role family; the stage does not change.
    HANDED_OVER = "handed_over"
    # The end of a secret's life (docs/domain.md §8): decisions of the competent person,
    # recorded by the unit that holds the document; the holder does not change.
    PROTECTION_EXTENDED = "protection_extended"  # gia hạn thời hạn bảo vệ
    DECLASSIFIED = "declassified"  # giải mật (toàn bộ hoặc một phần)
    DESTROYED = "destroyed"  # tiêu hủy: the chain's last link
    #: A scan taken back by its operator within minutes (hủy lần quét nhầm): the link
    #: before it stays; this one gives the envelope back to who held it before, with the
    #: status it had then.
    VOIDED = "voided"


#: The handoffs a ``voided`` link may take back: single-envelope handoffs that set no time
#: limit's milestone and no register number (so the chain's state before them is restored
#: by the holder and the status alone).
VOIDABLE_EVENTS = frozenset({
    EventKind.OUT_FOR_DELIVERY,
    EventKind.PASSED_TO_ADDRESSEE,
    EventKind.CIRCULATED_FOR_DIRECTION,
    EventKind.CIRCULATED_FOR_HANDLING,
    EventKind.CIRCULATED_TO_REGISTRY,
})


#: Internal circulation inside a unit (luân chuyển nội bộ): the stage does not change.
INTERNAL_EVENTS = frozenset({
    EventKind.CIRCULATED_FOR_DIRECTION,
    EventKind.CIRCULATED_FOR_HANDLING,
    EventKind.CIRCULATED_TO_REGISTRY,
})

#: Events after which the envelope is where it was in the postal stages (same status):
#: only the person holding it changed.
STAGE_KEEPING_EVENTS = INTERNAL_EVENTS | {EventKind.HANDED_OVER}

#: Decisions on a held document's protection (docs/domain.md §8). Extension and
#: declassification keep the status; destruction ends the chain.
LIFE_EVENTS = frozenset({
    EventKind.PROTECTION_EXTENDED, EventKind.DECLASSIFIED, EventKind.DESTROYED})

#: Events that move custody from one person to another and need the receiver's signature.
TRANSFER_EVENTS = frozenset({
    EventKind.ACCEPTED,
    EventKind.DISPATCHED,
    EventKind.BAG_RECEIVED,
    EventKind.OUT_FOR_DELIVERY,
    EventKind.DELIVERED,
    EventKind.PASSED_TO_ADDRESSEE,
    EventKind.RETURNED,
    EventKind.RECALLED,
    *STAGE_KEEPING_EVENTS,
})

#: Events recorded against a bag: every envelope inside gets one.
BAG_EVENTS = frozenset({
    EventKind.BAGGED,
    EventKind.BAG_SEALED,
    EventKind.DISPATCHED,
    EventKind.BAG_RECEIVED,
    EventKind.BAG_OPENED,
})


class EnvelopeStatus(StrEnum):
    REGISTERED = "registered"
    ACCEPTED = "accepted"
    BAGGED = "bagged"
    BAG_SEALED = "bag_sealed"
    IN_TRANSIT = "in_transit"
    BAG_RECEIVED = "bag_received"
    AT_OFFICE = "at_office"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    ARRIVED = "arrived"
    WITH_ADDRESSEE = "with_addressee"
    RETURNED = "returned"
    RECALLED = "recalled"
    DESTROYED = "destroyed"  # đã tiêu hủy


#: Status after each event (the events of :data:`STAGE_KEEPING_EVENTS` keep the status).
STATUS_AFTER: dict[EventKind, EnvelopeStatus] = {
    EventKind.REGISTERED_OUTGOING: EnvelopeStatus.REGISTERED,
    EventKind.ACCEPTED: EnvelopeStatus.ACCEPTED,
    EventKind.BAGGED: EnvelopeStatus.BAGGED,
    EventKind.BAG_SEALED: EnvelopeStatus.BAG_SEALED,
    EventKind.DISPATCHED: EnvelopeStatus.IN_TRANSIT,
    EventKind.BAG_RECEIVED: EnvelopeStatus.BAG_RECEIVED,
    EventKind.BAG_OPENED: EnvelopeStatus.AT_OFFICE,
    EventKind.OUT_FOR_DELIVERY: EnvelopeStatus.OUT_FOR_DELIVERY,
    EventKind.DELIVERY_FAILED: EnvelopeStatus.DELIVERY_FAILED,
    EventKind.DELIVERED: EnvelopeStatus.DELIVERED,
    EventKind.REGISTERED_INCOMING: EnvelopeStatus.ARRIVED,
    EventKind.PASSED_TO_ADDRESSEE: EnvelopeStatus.WITH_ADDRESSEE,
    EventKind.RETURNED: EnvelopeStatus.RETURNED,
    EventKind.RECALLED: EnvelopeStatus.RECALLED,
    EventKind.DESTROYED: EnvelopeStatus.DESTROYED,
}

#: Which events may follow each status (the order of the postal stages). Internal
#: circulation happens inside the sender before acceptance and inside the recipient after
#: the incoming register; a hand-over (bàn giao) may happen at any stage with a holder.
_ALLOWED_STAGES: dict[EnvelopeStatus, frozenset[EventKind]] = {
    EnvelopeStatus.REGISTERED: frozenset({EventKind.ACCEPTED}),
    EnvelopeStatus.ACCEPTED: frozenset({
        EventKind.BAGGED, EventKind.OUT_FOR_DELIVERY, EventKind.RETURNED}),
    EnvelopeStatus.BAGGED: frozenset({EventKind.BAG_SEALED, EventKind.UNBAGGED}),
    EnvelopeStatus.BAG_SEALED: frozenset({EventKind.DISPATCHED}),
    EnvelopeStatus.IN_TRANSIT: frozenset({EventKind.BAG_RECEIVED}),
    EnvelopeStatus.BAG_RECEIVED: frozenset({EventKind.BAG_OPENED, EventKind.DISPATCHED}),
    EnvelopeStatus.AT_OFFICE: frozenset({
        EventKind.OUT_FOR_DELIVERY, EventKind.BAGGED, EventKind.RETURNED}),
    EnvelopeStatus.OUT_FOR_DELIVERY: frozenset({
        EventKind.DELIVERED, EventKind.DELIVERY_FAILED}),
    EnvelopeStatus.DELIVERY_FAILED: frozenset({
        EventKind.OUT_FOR_DELIVERY, EventKind.RETURNED, EventKind.DELIVERED}),
    EnvelopeStatus.DELIVERED: frozenset({EventKind.REGISTERED_INCOMING}),
    EnvelopeStatus.ARRIVED: frozenset({EventKind.PASSED_TO_ADDRESSEE, EventKind.RECALLED}),
    EnvelopeStatus.WITH_ADDRESSEE: frozenset({EventKind.RECALLED}),
    EnvelopeStatus.RETURNED: frozenset(),
    EnvelopeStatus.RECALLED: frozenset(),
    EnvelopeStatus.DESTROYED: frozenset(),
}
_CIRCULATING = frozenset({
    EnvelopeStatus.REGISTERED, EnvelopeStatus.ARRIVED, EnvelopeStatus.WITH_ADDRESSEE})
#: Where a document rests in a unit, so that a decision on its protection may be recorded
#: (never in transit: docs/domain.md §8).
HELD_STATUSES = frozenset({
    EnvelopeStatus.REGISTERED, EnvelopeStatus.ARRIVED, EnvelopeStatus.WITH_ADDRESSEE,
    EnvelopeStatus.RETURNED, EnvelopeStatus.RECALLED})
#: The statuses a voidable handoff leads to (a ``voided`` link may follow them; whether the
#: last link was voidable is rule 5's ``void_invalid``).
_VOIDABLE_AFTER = frozenset({
    EnvelopeStatus.OUT_FOR_DELIVERY, EnvelopeStatus.WITH_ADDRESSEE, *_CIRCULATING})
ALLOWED_NEXT: dict[EnvelopeStatus, frozenset[EventKind]] = {
    status: kinds | (
        frozenset({EventKind.VOIDED}) if status in _VOIDABLE_AFTER else frozenset()) | (
        frozenset() if status is EnvelopeStatus.DESTROYED else {EventKind.HANDED_OVER}) | (
        INTERNAL_EVENTS if status in _CIRCULATING else frozenset()) | (
        LIFE_EVENTS if status in HELD_STATUSES else frozenset())
    for status, kinds in _ALLOWED_STAGES.items()
}


def status_after(kind: EventKind, status: EnvelopeStatus,
                 before_bag: EnvelopeStatus | None = None) -> EnvelopeStatus:
    """The envelope's status after ``kind`` recorded while it was at ``status``
    (``before_bag``: for :attr:`EventKind.UNBAGGED`, the status it had when it was bagged)."""
    if kind is EventKind.UNBAGGED:
        return before_bag or EnvelopeStatus.ACCEPTED
    return STATUS_AFTER.get(kind, status)


class CopyMethod(StrEnum):
    """How a copy (bản sao) of a secret document is made (docs/domain.md §8)."""

    PHOTOCOPY = "photocopy"  # sao, chụp (photocopy)
    EXTRACT = "extract"  # trích sao
    SCAN = "scan"  # chụp, quét vào máy tính không nối mạng


class Secrecy(StrEnum):
    """Where a document is in its protection life (docs/domain.md §8)."""

    PROTECTED = "protected"  # còn thời hạn bảo vệ
    PARTLY_DECLASSIFIED = "partly_declassified"  # giải mật một phần
    DECLASSIFIED = "declassified"  # giải mật toàn bộ
    DESTROYED = "destroyed"  # đã tiêu hủy


class SealState(StrEnum):
    NOT_APPLICABLE = "not_applicable"  # no seal at this handoff (loose envelope)
    INTACT = "intact"  # niêm phong nguyên vẹn
    BROKEN = "broken"  # dấu hiệu bóc mở
    MISMATCHED = "mismatched"  # số niêm phong không khớp


class AckMethod(StrEnum):
    """How the receiver acknowledged (ký nhận)."""

    SELF = "self"  # the holder records an event of their own (no transfer)
    SESSION = "session"  # the receiver is the signed-in user
    PIN = "pin"  # the receiver typed their PIN on the device
    BADGE = "badge"  # the receiver's staff badge was scanned
    PAPER = "paper"  # signed on the printed handover sheet, reference kept


class DeliveryFailure(StrEnum):
    ADDRESSEE_ABSENT = "addressee_absent"
    UNIT_CLOSED = "unit_closed"
    ADDRESS_UNKNOWN = "address_unknown"
    REFUSED = "refused"
    DAMAGED = "damaged"
    OTHER = "other"


class Authority(StrEnum):
    """On what authority an addressee-only envelope was opened or passed on."""

    ADDRESSEE = "addressee"  # the named person
    HEAD_OF_UNIT = "head_of_unit"  # absent addressee, Hỏa tốc: the head of the unit
    AUTHORISED = "authorised"  # a person the head authorised


class BagStatus(StrEnum):
    OPEN = "open"
    SEALED = "sealed"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    OPENED = "opened"


class IncidentKind(StrEnum):
    SEAL_ANOMALY = "seal_anomaly"
    DISCREPANCY = "discrepancy"
    LOSS = "loss"
    DAMAGE = "damage"


class IncidentStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class SubjectPolicy(StrEnum):
    """What the dated rule (docs/rules.md, rule 14) says about recording a subject."""

    ALLOWED = "allowed"
    APPROVAL_REQUIRED = "approval_required"
    FORBIDDEN = "forbidden"
