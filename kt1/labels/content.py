"""What goes on an outer-envelope label, a counter receipt (biên nhận) and a test page.

:class:`LabelData` is everything a label may show. It has, on purpose, no field for the
subject (trích yếu), for the classification word (Tuyệt mật / Tối mật / Mật) or for anything
that belongs on the inner envelope: what is not handed to the renderer cannot leak onto
paper. The outer letter A/B/C is the only classification sign outside (docs/rules.md,
rules 1 and 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from kt1.labels.layout import Builder, Layout, geometry

VIETNAM = timezone(timedelta(hours=7))

KT1_MARK = "KT1"
FLASH_MARK = "HỎA TỐC"
TIMED_MARK = "HẸN GIỜ"
ADDRESSEE_ONLY = "Chỉ người có tên mới được bóc bì"
#: The document's urgency mark (độ khẩn, Decree 30/2020), stamped on the envelope too.
URGENCY_MARKS = {"urgent": "KHẨN", "very_urgent": "THƯỢNG KHẨN", "flash": FLASH_MARK}


def local(moment: datetime) -> str:
    """``HH:MM dd/mm/yyyy`` in Vietnam time."""
    return moment.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


@dataclass(frozen=True)
class LabelData:
    """The outside of one KT1 envelope (bì ngoài)."""

    number: str  # S10 item number, e.g. KT123456785VN
    mark: str | None  # outer letter A / B / C, or None for a plain KT1 item
    service: str  # "standard", "flash" (Hỏa tốc) or "timed" (Hẹn giờ)
    sender: str  # sender unit name
    recipient: str  # recipient unit name
    recipient_address: str
    register_number: str  # outgoing register (Sổ đăng ký BMNN đi), e.g. 2026/000123
    agreed_at: datetime | None = None  # Hẹn giờ: the agreed delivery time
    recipient_name: str = ""  # named recipient, when it belongs on the outside
    is_addressee_only: bool = False  # "Chỉ người có tên mới được bóc bì", when outside
    document_number: str | None = None  # số, ký hiệu: only when the setting shows it
    copy_label: str | None = None  # a copy's "Bản số n/N" (docs/domain.md §8), else None
    urgency: str = "normal"  # "urgent" (Khẩn), "very_urgent" (Thượng khẩn), "flash" (Hỏa tốc)


def label_layout(data: LabelData, paper_mm: int = 80) -> Layout:
    """Lay out the label for 58 or 80 mm paper."""
    geo = geometry(paper_mm)
    b = Builder(geo)

    # Top row: the KT1 mark and the service marks on the left, the letter large on the right.
    top = b.y
    letter_w = 0
    if data.mark:
        letter_w, letter_h = b.boxed(data.mark, geo.letter, pad=10, right=True)
        b.y = top
    column = geo.width - 2 * geo.margin - (letter_w + geo.gap if data.mark else 0)
    b.boxed(KT1_MARK, geo.kt1, pad=8, max_width=column)
    if data.service == "flash":
        b.gap()
        b.boxed(FLASH_MARK, geo.title, inverse=True, max_width=column)
    elif data.service == "timed":
        b.gap()
        b.boxed(TIMED_MARK, geo.title, inverse=True, max_width=column)
        if data.agreed_at is not None:
            b.gap(2)
            b.text(local(data.agreed_at), geo.title, bold=True,
                   x1=geo.margin + column)
    urgency = URGENCY_MARKS.get(data.urgency)
    if urgency and not (data.service == "flash" and urgency == FLASH_MARK):  # never twice
        b.gap()
        b.boxed(urgency, geo.title, inverse=True, max_width=column)
    if data.mark:
        b.y = max(b.y, top + letter_h)
    b.gap()
    if data.is_addressee_only:
        b.boxed(ADDRESSEE_ONLY, geo.small, center=True)
        b.gap()

    b.text(f"Nơi gửi: {data.sender}", geo.small)
    b.gap(4)
    b.text(f"Nơi nhận: {data.recipient}", geo.body, bold=True)
    if data.recipient_name:
        b.text(f"Người nhận: {data.recipient_name}", geo.body)
    if data.recipient_address:
        b.text(data.recipient_address, geo.small)
    b.gap()
    b.rule()

    b.code128(data.number)
    b.text(data.number, geo.number, bold=True, align="center")
    b.qr(data.number)
    b.text(f"Số đăng ký đi: {data.register_number}", geo.small, align="center")
    if data.copy_label:
        b.text(data.copy_label, geo.body, bold=True, align="center")
    if data.document_number:
        b.text(f"Số, ký hiệu: {data.document_number}", geo.small, align="center")
    return b.finish(title=data.number)


@dataclass(frozen=True)
class ReceiptData:
    """A counter receipt (biên nhận): what was handed over, by whom, to whom, when."""

    numbers: tuple[str, ...]
    at: datetime
    giver_unit: str
    giver_name: str
    receiver_unit: str
    receiver_name: str
    title: str = "BIÊN NHẬN BƯU GỬI KT1"


def receipt_layout(data: ReceiptData, paper_mm: int = 80) -> Layout:
    """Lay out a counter receipt: parties, time, count, the numbers, two signature spaces."""
    geo = geometry(paper_mm)
    b = Builder(geo)
    b.text(data.title, geo.title, bold=True, align="center")
    b.text(f"Thời gian: {local(data.at)}", geo.small, align="center")
    b.gap()
    b.rule()
    b.gap()
    b.text(f"Bên giao: {data.giver_unit}", geo.body, bold=True)
    b.text(data.giver_name, geo.body)
    b.gap(4)
    b.text(f"Bên nhận: {data.receiver_unit}", geo.body, bold=True)
    b.text(data.receiver_name, geo.body)
    b.gap()
    b.text(f"Số lượng: {len(data.numbers)} bưu gửi", geo.body, bold=True)
    for i, number in enumerate(data.numbers, 1):
        b.text(f"{i:>3}. {number}", geo.body)
    b.gap()
    b.rule()
    b.gap()
    half = geo.width // 2
    top = b.y
    b.text("Bên giao ký", geo.small, align="center", x0=geo.margin, x1=half)
    b.y = top
    b.text("Bên nhận ký", geo.small, align="center", x0=half, x1=geo.width - geo.margin)
    b.gap(12 * geo.gap)  # room to sign
    return b.finish(title="bien-nhan")


def printer_test_layout(printer_name: str, paper_mm: int = 80) -> Layout:
    """A test page: Vietnamese letters, the width, a Code 128 and a QR that are not item
    numbers (a scanner at a counter rejects them instead of finding an envelope)."""
    geo = geometry(paper_mm)
    b = Builder(geo)
    b.boxed("KT1 Track", geo.title, center=True)
    b.gap()
    b.text("Trang in thử / test page", geo.body, bold=True, align="center")
    b.text(f"Máy in: {printer_name}", geo.body, align="center")
    b.text(f"Khổ giấy {paper_mm} mm, {geo.width} điểm, 203 dpi", geo.small, align="center")
    b.text("Tiếng Việt: Đường, Hỏa tốc, Hẹn giờ, bóc bì, ẩm ướt, ỹ ữ ặ", geo.small,
           align="center")
    b.rule()
    sample = f"TEST-{paper_mm}MM"
    b.code128(sample)
    b.text(sample, geo.number, bold=True, align="center")
    b.qr(sample)
    return b.finish(title=f"test-{printer_name}")
