"""The A4 sheet for laser printers, and the counter receipt (biên nhận)."""

from __future__ import annotations

from datetime import UTC, datetime

from kt1.labels import LabelData, ReceiptData, render_receipt
from kt1.labels.sheet import render_sheet
from tests.printers.zbar import decode, need_zbar, pdf_pages

NUMBERS = ["KT123456785VN", "KT000000080VN", "KT000000093VN", "KT000000107VN",
           "KT000000115VN"]


def label(number: str, mark: str | None) -> LabelData:
    return LabelData(number=number, mark=mark, service="flash", sender="Bộ Nội vụ",
                     recipient="UBND TP Hồ Chí Minh", recipient_address="86 Lê Thánh Tôn",
                     register_number="2026/000123")


def test_the_a4_sheet_embeds_the_shipped_font_and_every_label_scans() -> None:
    need_zbar()
    marks = ["A", "B", "C", None, "C"]
    pdf = render_sheet([label(n, m) for n, m in zip(NUMBERS, marks, strict=True)])
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf  # TrueType embedded
    assert b"+DejaVuSansCondensed" in pdf and b"+DejaVuSansCondensed-Bold" in pdf
    pages = pdf_pages(pdf, 300)  # a laser printer's resolution
    assert len(pages) == 2  # four labels of 80 mm on an A4 page, the fifth on the next
    assert pages[0].size == (2481, 3508)  # A4 at 300 dpi
    found = [hit for page in pages for hit in decode(page)]
    assert sorted(found) == sorted([("CODE-128", n) for n in NUMBERS]
                                   + [("QR-Code", n) for n in NUMBERS])


def test_a_receipt_lists_the_numbers_the_count_both_parties_and_the_time() -> None:
    data = ReceiptData(numbers=tuple(NUMBERS[:3]), at=datetime(2026, 11, 23, 2, 5, tzinfo=UTC),
                       giver_unit="Bộ Nội vụ", giver_name="Nguyễn Thị Hoa",
                       receiver_unit="Bưu cục KT1 Hà Nội", receiver_name="Đinh Văn Toàn")
    for paper in (58, 80):
        rendered = render_receipt(data, paper)
        lines = rendered.lines
        assert lines[0] == "BIÊN NHẬN BƯU GỬI KT1"
        assert "Thời gian: 09:05 23/11/2026" in lines
        assert "Bên giao: Bộ Nội vụ" in lines and "Nguyễn Thị Hoa" in lines
        assert "Bên nhận: Bưu cục KT1 Hà Nội" in lines and "Đinh Văn Toàn" in lines
        assert "Số lượng: 3 bưu gửi" in lines
        assert [n for n in NUMBERS[:3] if any(line.endswith(n) for line in lines)] == NUMBERS[:3]
        assert rendered.image.mode == "1" and rendered.image.width in (384, 576)
