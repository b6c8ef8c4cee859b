"""Vietnamese words for the stored enum values, and Vietnam-time formatting.

The stored values stay English and stable; people read these. Pages translate them
(``enum_label``, through Babel: the words are the msgids, marked with ``N_`` for
extraction); the printed forms (registers, sheets, manifests) keep the Vietnamese words,
since they are official Vietnamese forms.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask_babel import gettext

from kt1.models.enums import (
    AckMethod,
    Authority,
    BagStatus,
    Classification,
    DeliveryFailure,
    EnvelopeStatus,
    EventKind,
    IncidentKind,
    IncidentStatus,
    SealState,
    Secrecy,
    ServiceClass,
    Urgency,
)
from kt1.models.handover import SheetStatus
from kt1.models.printing import PrintJobState
from kt1.services.subjects import VIETNAM


def N_(text: str) -> str:
    """Mark a msgid for extraction without translating it here."""
    return text


WORDS: dict[type[StrEnum], dict[str, str]] = {
    Classification: {c.value: N_(c.label_vi) for c in Classification},
    EnvelopeStatus: {
        "registered": N_("Đã vào sổ đi"),
        "accepted": N_("Bưu cục đã nhận"),
        "bagged": N_("Đã đóng túi"),
        "bag_sealed": N_("Túi đã niêm phong"),
        "in_transit": N_("Đang vận chuyển"),
        "bag_received": N_("Bưu cục đến đã nhận túi"),
        "at_office": N_("Tại bưu cục"),
        "out_for_delivery": N_("Đang đi phát"),
        "delivery_failed": N_("Phát không thành công"),
        "delivered": N_("Đã phát, chờ vào sổ đến"),
        "arrived": N_("Đã vào sổ đến"),
        "with_addressee": N_("Đã chuyển người có tên"),
        "returned": N_("Đã chuyển hoàn"),
        "recalled": N_("Đã thu hồi"),
        "destroyed": N_("Đã tiêu hủy"),
    },
    EventKind: {
        "registered_outgoing": N_("Vào sổ đi"),
        "accepted": N_("Chấp nhận tại quầy"),
        "bagged": N_("Đóng vào túi"),
        "unbagged": N_("Lấy ra khỏi túi"),
        "bag_sealed": N_("Niêm phong túi"),
        "dispatched": N_("Chuyển đi"),
        "bag_received": N_("Nhận túi"),
        "bag_opened": N_("Mở túi"),
        "out_for_delivery": N_("Giao bưu tá đi phát"),
        "delivery_failed": N_("Phát không thành công"),
        "delivered": N_("Phát cho văn thư"),
        "registered_incoming": N_("Vào sổ đến"),
        "passed_to_addressee": N_("Chuyển người có tên"),
        "returned": N_("Chuyển hoàn"),
        "recalled": N_("Thu hồi"),
        "circulated_for_direction": N_("Trình lãnh đạo cho ý kiến chỉ đạo"),
        "circulated_for_handling": N_("Giao xử lý"),
        "circulated_to_registry": N_("Trả văn thư"),
        "handed_over": N_("Bàn giao"),
        "protection_extended": N_("Gia hạn thời hạn bảo vệ"),
        "declassified": N_("Giải mật"),
        "destroyed": N_("Tiêu hủy"),
        "voided": N_("Hủy lần quét nhầm"),
    },
    Secrecy: {
        "protected": N_("Còn thời hạn bảo vệ"),
        "partly_declassified": N_("Đã giải mật một phần"),
        "declassified": N_("Đã giải mật toàn bộ"),
        "destroyed": N_("Đã tiêu hủy"),
    },
    ServiceClass: {
        "standard": N_("KT1 thường"),
        "flash": N_("Hỏa tốc"),
        "timed": N_("Hẹn giờ"),
    },
    Urgency: {
        "normal": N_("Thường"),
        "urgent": N_("Khẩn"),
        "very_urgent": N_("Thượng khẩn"),
        "flash": N_("Hỏa tốc"),
    },
    SealState: {
        "not_applicable": N_("Không niêm phong"),
        "intact": N_("Nguyên vẹn"),
        "broken": N_("Có dấu hiệu bóc mở"),
        "mismatched": N_("Số niêm phong không khớp"),
    },
    DeliveryFailure: {
        "addressee_absent": N_("Người nhận vắng mặt"),
        "unit_closed": N_("Cơ quan đóng cửa"),
        "address_unknown": N_("Không rõ địa chỉ"),
        "refused": N_("Từ chối nhận"),
        "damaged": N_("Bưu gửi hư hỏng"),
        "other": N_("Lý do khác"),
    },
    BagStatus: {
        "open": N_("Đang đóng túi"),
        "sealed": N_("Đã niêm phong"),
        "in_transit": N_("Đang vận chuyển"),
        "received": N_("Đã nhận túi"),
        "opened": N_("Đã mở túi"),
    },
    SheetStatus: {
        "open": N_("Chờ bưu cục ký nhận"),
        "signed": N_("Bưu cục đã ký nhận"),
        "cancelled": N_("Đã hủy"),
    },
    Authority: {
        "addressee": N_("Người có tên"),
        "head_of_unit": N_("Thủ trưởng đơn vị (người có tên vắng, Hỏa tốc)"),
        "authorised": N_("Người được thủ trưởng ủy quyền (Hỏa tốc)"),
    },
    AckMethod: {
        "self": N_("Tự ghi"),
        "session": N_("Ký điện tử (đăng nhập)"),
        "pin": N_("Ký bằng mã PIN"),
        "badge": N_("Quẹt thẻ"),
        "paper": N_("Ký trên giấy"),
    },
    IncidentKind: {
        "seal_anomaly": N_("Niêm phong bất thường"),
        "discrepancy": N_("Sai lệch"),
        "loss": N_("Mất"),
        "damage": N_("Hư hỏng"),
    },
    IncidentStatus: {
        "open": N_("Chưa giải quyết"),
        "resolved": N_("Đã giải quyết"),
    },
    PrintJobState: {
        "queued": N_("Chờ in"),
        "printing": N_("Đang in"),
        "done": N_("Đã in"),
        "failed": N_("In lỗi"),
    },
}


def vi(value: Any) -> str:
    """The Vietnamese word for an enum value (the value itself when there is none)."""
    if value is None:
        return ""
    words = WORDS.get(type(value))
    if words is None:
        return str(value)
    return words.get(str(value), str(value))


def enum_label(value: Any) -> str:
    """The word for an enum value in the page's language."""
    word = vi(value)
    return gettext(word) if word else ""


def vn_time(value: datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A UTC time shown in Vietnam time (UTC+7)."""
    return value.astimezone(VIETNAM).strftime(fmt) if value else ""


def vn_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(VIETNAM).date()
    return value.strftime("%d/%m/%Y")


#: Labels of the ``key=value`` parts some handoff notes carry (kt1/services/bagging.py).
NOTE_KEYS = {"vehicle": N_("Phương tiện"), "escort": N_("Người áp tải")}


def note_words(note: str | None, word: Any = vi) -> list[tuple[str, str]] | None:
    """``vehicle=29C-123.45; escort=Nguyễn Văn Hộ`` as labelled words, or ``None`` for a
    note in plain words (shown as it is)."""
    parts = [p.strip() for p in (note or "").split(";") if p.strip()]
    if not parts:
        return None
    out = []
    for part in parts:
        name, sep, value = part.partition("=")
        if not sep or name.strip() not in NOTE_KEYS:
            return None
        out.append((word(NOTE_KEYS[name.strip()]), value.strip()))
    return out


def note_text(note: str | None, word: Any = vi) -> str:
    """A handoff note as one line of words (``Phương tiện: 29C-123.45; Người áp tải: …``)."""
    words = note_words(note, word)
    if words is None:
        return note or ""
    return "; ".join(f"{label}: {value}" for label, value in words)
