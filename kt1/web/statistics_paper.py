"""The periodic statistics report to the superior body (báo cáo thống kê bí mật nhà nước),
as PDF and as XLSX, in the same layout (docs/domain.md §8).

A cover (the unit, the national motto, the title, the period, the place and date), then the
tables (by classification, by service class, incidents by kind, month by month) and the
signature block: the person who drew up the figures (người lập biểu) and the head of the
agency (thủ trưởng cơ quan: signs and stamps). An official Vietnamese form, so its words are
Vietnamese whatever the page language; counts only, never a number or a subject.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, LongTable, PageBreak, Spacer, Table, TableStyle

from kt1.models.enums import Classification, IncidentKind, ServiceClass
from kt1.services.statistics import DATED_MOVEMENTS, MOVEMENTS, Statistics
from kt1.services.subjects import VIETNAM
from kt1.web.paper import _build, _grid, _header, _p, _signatures, _styles
from kt1.web.words import vi, vn_date, vn_time

TITLE = "BÁO CÁO THỐNG KÊ BÍ MẬT NHÀ NƯỚC"
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
#: The column heads of the kinds of movement (Vietnamese: the form's words).
MOVEMENT_WORDS = {
    "held": "Đang quản lý cuối kỳ",
    "sent": "Gửi đi",
    "received": "Nhận đến",
    "copied": "Sao, chụp",
    "declassified": "Giải mật",
    "destroyed": "Tiêu hủy",
    "incidents": "Sự cố",
}
SIGNERS = (("NGƯỜI LẬP BIỂU", "Ký, ghi rõ họ tên"),
           ("THỦ TRƯỞNG CƠ QUAN", "Ký tên, đóng dấu"))


def class_word(c: Classification) -> str:
    return f"{vi(c)} ({c.mark})" if c.mark else f"{vi(c)} (không mật)"


def period_words(s: Statistics) -> str:
    return f"Từ ngày {vn_date(s.start)} đến ngày {vn_date(s.end)}"


def place_date(s: Statistics, at: datetime) -> str:
    day = at.astimezone(VIETNAM)
    place = s.unit.province_name or ""
    return f"{place}, ngày {day:%d} tháng {day:%m} năm {day:%Y}".lstrip(", ")


def heading_lines(s: Statistics) -> list[str]:
    unit = s.unit
    return [unit.parent_name.upper(), unit.name.upper()] if unit.parent_name else [
        unit.name.upper()]


def tables(s: Statistics) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The report's tables as (caption, heads, rows of cells): the PDF, the XLSX and the
    page show the same figures."""
    heads = ["STT", "Độ mật", *(MOVEMENT_WORDS[m] for m in MOVEMENTS)]
    by_class: list[list[Any]] = [
        [i, class_word(c), *(s.by_class[c][m] for m in MOVEMENTS)]
        for i, c in enumerate(Classification, 1)]
    by_class.append(["", "Tổng cộng", *(s.total[m] for m in MOVEMENTS)])
    by_service: list[list[Any]] = [
        [i, vi(sv), *(s.by_service[sv][m] for m in MOVEMENTS)]
        for i, sv in enumerate(ServiceClass, 1)]
    by_service.append(["", "Tổng cộng", *(s.total[m] for m in MOVEMENTS)])
    incidents: list[list[Any]] = [[i, vi(k), s.incidents[k]]
                                  for i, k in enumerate(IncidentKind, 1)]
    incidents.append(["", "Tổng cộng", s.incident_total])
    month_cols = (*DATED_MOVEMENTS, "incidents")
    months: list[list[Any]] = [
        [i, f"{m.month[5:]}/{m.month[:4]}", *(m.counts[c] for c in month_cols)]
        for i, m in enumerate(s.months, 1)]
    return [
        ("I. Số liệu theo độ mật", heads, by_class),
        ("II. Số liệu theo loại dịch vụ KT1",
         ["STT", "Dịch vụ", *(MOVEMENT_WORDS[m] for m in MOVEMENTS)], by_service),
        ("III. Sự cố theo loại", ["STT", "Loại sự cố", "Số sự cố"], incidents),
        ("IV. Diễn biến theo tháng", ["STT", "Tháng", *(MOVEMENT_WORDS[c] for c in month_cols)],
         months),
    ]


def notes(s: Statistics) -> list[str]:
    return [
        f"Đang quản lý cuối kỳ: bưu gửi, tài liệu đơn vị đang giữ (chưa tiêu hủy) tính đến "
        f"hết ngày {vn_date(s.held_on)}, theo chuỗi giao nhận.",
        "Gửi đi: bản chính đơn vị vào Sổ đăng ký BMNN đi trong kỳ (không tính bản sao). "
        "Nhận đến: bưu gửi đơn vị vào Sổ đăng ký BMNN đến trong kỳ. Sao, chụp: bản sao đơn "
        "vị lập trong kỳ. Giải mật, tiêu hủy: quyết định đơn vị ghi nhận trong kỳ.",
        "Sự cố: sự cố mở trong kỳ do đơn vị báo, hoặc về bưu gửi đơn vị gửi đi hay nhận.",
    ]


def file_name(s: Statistics, ext: str) -> str:
    return f"thong-ke-bmnn-{s.unit.code}-{s.start:%Y%m%d}-{s.end:%Y%m%d}.{ext}"


# --------------------------------------------------------------------------- PDF


def statistics_pdf(s: Statistics, *, printed_by: str, printed_at: datetime) -> bytes:
    """The report as an A4 PDF: a cover page, the tables, the signature block."""
    st = _styles()
    width = A4[0] - 24 * mm
    big = st.title.clone("big", fontSize=17, leading=23)
    cover: list[Any] = [
        _header(st, heading_lines(s), width),
        Spacer(1, 3 * mm),
        _two(st, f"Số: ....../BC-{s.unit.code}", place_date(s, printed_at), width),
        Spacer(1, 55 * mm),
        _p(TITLE, big),
        _p(f"Kỳ báo cáo: {period_words(s).lower()}", st.center),
        Spacer(1, 8 * mm),
        _p(f"Đơn vị báo cáo: {s.unit.name} ({s.unit.code})", st.center),
        _p("Kính gửi: " + (s.unit.parent_name or "Cơ quan cấp trên") + "; Ban Chỉ đạo công "
           "tác bảo vệ bí mật nhà nước", st.center),
        PageBreak(),
        _p(f"{TITLE} — {s.unit.name}", st.title),
        _p(period_words(s), st.center),
        Spacer(1, 4 * mm),
    ]
    story = cover
    for caption, heads, rows in tables(s):
        story.append(_p(caption, st.body.clone("caption", fontName=st.head.fontName)))
        story.append(Spacer(1, 1.5 * mm))
        first = 0.07 if len(heads) > 3 else 0.1
        second = 0.23 if len(heads) > 3 else 0.5
        rest = (1 - first - second) / max(1, len(heads) - 2)
        ratios = [first, second, *([rest] * (len(heads) - 2))]
        data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
        data += [[_p(str(v), st.cell) for v in row] for row in rows] or [
            [_p("", st.cell)] * len(heads)]
        table = LongTable(data, colWidths=[width * r for r in ratios], repeatRows=1)
        style = _grid()
        style.add("ALIGN", (2, 1), (-1, -1), "RIGHT")
        table.setStyle(style)
        story += [table, Spacer(1, 4 * mm)]
    story += [_p(n, st.small) for n in notes(s)]
    story += [Spacer(1, 6 * mm), KeepTogether([
        _two(st, "", place_date(s, printed_at), width),
        Spacer(1, 2 * mm),
        _signatures(st, SIGNERS, width)])]
    return _build(story, title=f"Thống kê BMNN {s.unit.code} {vn_date(s.start)}-"
                               f"{vn_date(s.end)}",
                  printed=f"In {vn_time(printed_at)} bởi {printed_by}")


def _two(st: Any, left: str, right: str, width: float) -> Table:
    table = Table([[_p(left, st.center), _p(right, st.center)]],
                  colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


# --------------------------------------------------------------------------- XLSX


def statistics_xlsx(s: Statistics, *, printed_by: str, printed_at: datetime) -> bytes:
    """The report as a workbook: one sheet ``Báo cáo`` laid out like the PDF (the heading
    and motto, the title rows, each table with its caption, the signature block)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    book = Workbook()
    sheet = book.active
    sheet.title = "Báo cáo"
    widths = [6, 26, 14, 12, 12, 12, 12, 12, 12]
    for i, w in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = w
    bold, center = Font(bold=True), Alignment(horizontal="center", wrap_text=True)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    row = 1

    def put(col: int, value: Any, *, font: Font | None = None, align: Alignment | None = None,
            border: bool = False) -> None:
        cell = sheet.cell(row=row, column=col, value=value)
        if font is not None:
            cell.font = font
        if align is not None:
            cell.alignment = align
        if border:
            cell.border = box

    def merged(first: int, last: int, value: Any, font: Font | None = None) -> None:
        put(first, value, font=font, align=center)
        sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)

    heading = heading_lines(s)
    for i in range(max(len(heading), len(MOTTO))):
        merged(1, 3, heading[i] if i < len(heading) else "", bold)
        merged(4, 9, MOTTO[i] if i < len(MOTTO) else "", bold)
        row += 1
    merged(1, 3, f"Số: ....../BC-{s.unit.code}")
    merged(4, 9, place_date(s, printed_at))
    row += 2
    merged(1, 9, TITLE, Font(bold=True, size=14))
    row += 1
    merged(1, 9, period_words(s))
    row += 1
    merged(1, 9, f"Đơn vị báo cáo: {s.unit.name} ({s.unit.code})")
    row += 2
    for caption, heads, rows in tables(s):
        put(1, caption, font=bold)
        row += 1
        for col, head in enumerate(heads, 1):
            put(col, head, font=bold, align=center, border=True)
        row += 1
        for line in rows:
            for col, value in enumerate(line, 1):
                put(col, value, border=True,
                    font=bold if line[1] == "Tổng cộng" else None)
            row += 1
        row += 1
    for note in notes(s):
        put(1, note)
        row += 1
    row += 1
    merged(4, 9, place_date(s, printed_at))
    row += 1
    for (title, _hint), (first, last) in zip(SIGNERS, ((1, 3), (4, 9)), strict=True):
        merged(first, last, title, bold)
    row += 1
    for (_title, hint), (first, last) in zip(SIGNERS, ((1, 3), (4, 9)), strict=True):
        merged(first, last, f"({hint})")
    row += 5
    put(1, f"In {vn_time(printed_at)} bởi {printed_by}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
