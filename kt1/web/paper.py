"""Paper forms to print and sign: the outgoing register, the handover sheet, the bag manifest.

A4 PDFs drawn with reportlab in the shipped DejaVu font (embedded, so Vietnamese prints on
any printer). They are official Vietnamese forms, so their words are Vietnamese whatever
the page language. None of them ever carries a subject (trích yếu): the rows handed in
here have no subject field at all.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from kt1.labels.codes import CODE128_QUIET, code128_pattern
from kt1.labels.fonts import register_pdf_fonts
from kt1.web.words import vn_date, vn_time


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    head: ParagraphStyle
    title: ParagraphStyle
    center: ParagraphStyle


def _styles() -> Styles:
    regular, bold = register_pdf_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=13)
    return Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        cell=ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        head=ParagraphStyle("head", parent=body, fontName=bold, fontSize=8.5, leading=10.5,
                            alignment=TA_CENTER),
        title=ParagraphStyle("title", parent=body, fontName=bold, fontSize=14, leading=18,
                             alignment=TA_CENTER, spaceAfter=4),
        center=ParagraphStyle("center", parent=body, alignment=TA_CENTER),
    )


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(text or "")).replace("\n", "<br/>"), style)


def _numbered(title: str, printed: str) -> type[Canvas]:
    """A canvas that writes "Trang x/y" and the print stamp at the foot of every page."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            regular, _bold = register_pdf_fonts()
            for state in self._pages:
                self.__dict__.update(state)
                width, _height = self._pagesize
                self.setFont(regular, 7.5)
                self.setFillGray(0.3)
                self.drawString(12 * mm, 8 * mm, f"{title} · {printed}")
                self.drawRightString(width - 12 * mm, 8 * mm,
                                     f"Trang {self._pageNumber}/{total}")
                super().showPage()
            super().save()

    return NumberedCanvas


def _grid(header_rows: int = 1) -> TableStyle:
    return TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.Color(0.92, 0.93, 0.95)),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ])


def _header(st: Styles, left: list[str], width: float) -> Table:
    """The usual heading: the unit on the left, the national motto on the right."""
    right = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    table = Table([[_p("\n".join(left), st.center), _p("\n".join(right), st.center)]],
                  colWidths=[width * 0.45, width * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _signatures(st: Styles, boxes: Sequence[tuple[str, str]], width: float) -> Table:
    cells = [_p(f"{title}\n({hint})\n\n\n\n", st.center) for title, hint in boxes]
    table = Table([cells], colWidths=[width / len(boxes)] * len(boxes))
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


class Code128(Flowable):
    """A sheet's, a bag's or a record's number as a Code 128 barcode (vector bars on whole
    modules), with the number printed under it: the receiving side scans it to find the
    paper's page (docs/printing.md)."""

    def __init__(self, data: str, module: float = 0.4 * mm, height: float = 13 * mm) -> None:
        super().__init__()
        self.data, self.module, self.bar_height = data, module, height
        self.pattern = code128_pattern(data)
        self.width = (len(self.pattern) + 2 * CODE128_QUIET) * module
        self.height = height + 4 * mm
        self.hAlign = "CENTER"

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.black)
        x0, y0 = CODE128_QUIET * self.module, 4 * mm
        run_start = None
        for i, module in enumerate(self.pattern + "0"):
            if module == "1" and run_start is None:
                run_start = i
            elif module == "0" and run_start is not None:
                canvas.rect(x0 + run_start * self.module, y0, (i - run_start) * self.module,
                            self.bar_height, stroke=0, fill=1)
                run_start = None
        regular, _bold = register_pdf_fonts()
        canvas.setFont(regular, 9)
        canvas.drawCentredString(self.width / 2, 0.5 * mm, self.data)
        canvas.restoreState()


def _build(story: list[Any], *, title: str, printed: str, wide: bool = False) -> bytes:
    out = io.BytesIO()
    size = landscape(A4) if wide else A4
    doc = SimpleDocTemplate(out, pagesize=size, leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=16 * mm, title=title,
                            author="KT1 Track")
    doc.build(story, canvasmaker=_numbered(title, printed))
    return out.getvalue()


# --------------------------------------------------------------------------- outgoing register


@dataclass(frozen=True)
class OutgoingRow:
    """One line of the outgoing register (Sổ đăng ký BMNN đi), without any subject."""

    seq: int
    number: str
    document_number: str
    document_date: date | None
    classification: str
    recipient: str
    copies: int
    sent_at: datetime | None
    receipt: str
    notes: str
    signer: str = ""  # name, title (người ký, chức vụ)


def outgoing_register_pdf(*, unit_name: str, parent_name: str, year: int,
                          rows: Sequence[OutgoingRow], period: str, printed_by: str,
                          printed_at: datetime) -> bytes:
    """The outgoing register pages to print and sign (A4 landscape, 10 columns)."""
    st = _styles()
    width = landscape(A4)[0] - 24 * mm
    story: list[Any] = [
        _header(st, [parent_name.upper(), unit_name.upper()] if parent_name else
                [unit_name.upper()], width),
        Spacer(1, 4 * mm),
        _p(f"SỔ ĐĂNG KÝ VĂN BẢN, TÀI LIỆU BÍ MẬT NHÀ NƯỚC ĐI — NĂM {year}", st.title),
        _p(period, st.center),
        Spacer(1, 3 * mm),
    ]
    heads = ["Số TT", "Số, ký hiệu văn bản", "Ngày văn bản", "Độ mật", "Người ký",
             "Nơi nhận", "Số bản", "Ngày chuyển", "Ký nhận", "Ghi chú"]
    ratios = [0.05, 0.13, 0.08, 0.07, 0.09, 0.17, 0.05, 0.09, 0.13, 0.14]
    data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
    for r in rows:
        data.append([
            _p(r.seq, st.cell), _p(r.document_number, st.cell), _p(vn_date(r.document_date),
                                                                    st.cell),
            _p(r.classification, st.cell), _p(r.signer, st.cell), _p(r.recipient, st.cell),
            _p(r.copies, st.cell), _p(vn_time(r.sent_at), st.cell), _p(r.receipt, st.cell),
            _p(r.notes, st.cell)])
    if not rows:
        data.append([_p("Không có văn bản nào trong khoảng này.", st.cell)] + [""] * 9)
    story += register_tail(st, width, data, ratios,
                           f"Tổng số: {len(rows)} văn bản. In lúc {vn_time(printed_at)} bởi "
                           f"{printed_by}.")
    return _build(story, title=f"Sổ đăng ký BMNN đi {year} — {unit_name}",
                  printed=f"In {vn_time(printed_at)}", wide=True)



def register_tail(st: Any, width: float, data: list[list[Any]], ratios: list[float],
                  total: str) -> list[Any]:
    """A register's table (its head row repeated on each page), its total line and the
    signatures of the person keeping it and the head of the unit."""
    table = LongTable(data, colWidths=[width * x for x in ratios], repeatRows=1)
    table.setStyle(_grid())
    return [table, Spacer(1, 6 * mm), _p(total, st.small), Spacer(1, 4 * mm),
            KeepTogether(_signatures(st, [("NGƯỜI LẬP SỔ", "Ký, ghi rõ họ tên"),
                                          ("THỦ TRƯỞNG ĐƠN VỊ", "Ký, ghi rõ họ tên")],
                                     width))]

# --------------------------------------------------------------------------- handover sheet


@dataclass(frozen=True)
class SheetRow:
    line_no: int
    number: str
    mark: str
    document_number: str
    recipient: str
    service: str
    notes: str


def _sheet_head(st: Any, width: float, title: str, sheet_number: str, unit_name: str,
                parent_name: str, created_at: datetime, parties: tuple[str, str]) -> list[Any]:
    """The top of a sheet to be signed: the unit, the title, the number with its Code 128
    barcode (scanned to open the sheet), the giver and the receiver."""
    giver, receiver = parties
    return [
        _header(st, [parent_name.upper(), unit_name.upper()] if parent_name else
                [unit_name.upper()], width),
        Spacer(1, 5 * mm),
        _p(title, st.title),
        _p(f"Số: {sheet_number} — lập ngày {vn_time(created_at)}", st.center),
        Spacer(1, 2 * mm),
        Code128(sheet_number),
        Spacer(1, 3 * mm),
        _p(f"Bên giao: {giver}", st.body),
        _p(f"Bên nhận: {receiver}", st.body),
        Spacer(1, 3 * mm),
    ]


def handover_sheet_pdf(*, sheet_number: str, unit_name: str, parent_name: str,
                       giver_name: str, office_name: str, created_at: datetime,
                       rows: Sequence[SheetRow], signed: str | None,
                       printed_at: datetime) -> bytes:
    """The handover sheet (bảng kê giao bưu gửi KT1) to be signed by the counter clerk."""
    st = _styles()
    width = A4[0] - 24 * mm
    story = _sheet_head(st, width, "BẢNG KÊ GIAO BƯU GỬI KT1", sheet_number, unit_name,
                        parent_name, created_at,
                        (f"{unit_name} — văn thư {giver_name}", office_name))
    heads = ["STT", "Số hiệu bưu gửi", "Dấu", "Số, ký hiệu văn bản", "Nơi nhận", "Dịch vụ",
             "Ghi chú"]
    ratios = [0.06, 0.18, 0.06, 0.17, 0.25, 0.1, 0.18]
    data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
    for r in rows:
        data.append([_p(r.line_no, st.cell), _p(r.number, st.cell), _p(r.mark, st.cell),
                     _p(r.document_number, st.cell), _p(r.recipient, st.cell),
                     _p(r.service, st.cell), _p(r.notes, st.cell)])
    table = LongTable(data, colWidths=[width * x for x in ratios], repeatRows=1)
    table.setStyle(_grid())
    story += [table, Spacer(1, 4 * mm),
              _p(f"Tổng cộng: {len(rows)} bưu gửi. Hai bên đã đối chiếu số lượng và tình "
                 "trạng niêm phong từng bì trước khi ký nhận.", st.body)]
    if signed:
        story += [Spacer(1, 2 * mm), _p(signed, st.body)]
    story += [Spacer(1, 6 * mm), KeepTogether(_signatures(st, [
        ("BÊN GIAO", "Ký, ghi rõ họ tên"),
        ("BÊN NHẬN", "Ký, ghi rõ họ tên, đóng dấu bưu cục")], width))]
    return _build(story, title=f"Bảng kê giao {sheet_number}",
                  printed=f"In {vn_time(printed_at)}")


# --------------------------------------------------------------------------- internal sheet


@dataclass(frozen=True)
class InternalRow:
    line_no: int
    number: str
    mark: str
    document_number: str
    sender: str
    ticked: str


def internal_sheet_pdf(*, sheet_number: str, unit_name: str, parent_name: str,
                       giver_name: str, receiver_name: str, created_at: datetime,
                       rows: Sequence[InternalRow], signed: str | None,
                       printed_at: datetime) -> bytes:
    """The internal handover sheet (phiếu chuyển giao nội bộ), signed by the receiver; its
    barcode is scanned when the unit marks it signed."""
    st = _styles()
    width = A4[0] - 24 * mm
    story = _sheet_head(st, width, "PHIẾU CHUYỂN GIAO TÀI LIỆU MẬT NỘI BỘ", sheet_number,
                        unit_name, parent_name, created_at, (giver_name, receiver_name))
    heads = ["STT", "Số hiệu bưu gửi", "Dấu", "Số, ký hiệu văn bản", "Nơi gửi",
             "Đã nhận (đánh dấu)"]
    ratios = [0.06, 0.2, 0.07, 0.22, 0.27, 0.18]
    data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
    for r in rows:
        data.append([_p(r.line_no, st.cell), _p(r.number, st.cell), _p(r.mark, st.cell),
                     _p(r.document_number, st.cell), _p(r.sender, st.cell),
                     _p(r.ticked, st.cell)])
    table = LongTable(data, colWidths=[width * x for x in ratios], repeatRows=1)
    table.setStyle(_grid())
    story += [table, Spacer(1, 4 * mm),
              _p(f"Tổng cộng: {len(rows)} bưu gửi. Người nhận kiểm tra từng bì, đánh dấu "
                 "từng dòng đã nhận và ký nhận.", st.body)]
    if signed:
        story += [Spacer(1, 2 * mm), _p(signed, st.body)]
    story += [Spacer(1, 6 * mm), KeepTogether(_signatures(st, [
        ("NGƯỜI GIAO", "Ký, ghi rõ họ tên"),
        ("NGƯỜI NHẬN", "Ký, ghi rõ họ tên")], width))]
    return _build(story, title=f"Phiếu chuyển giao {sheet_number}",
                  printed=f"In {vn_time(printed_at)}")


# --------------------------------------------------------------------------- bag manifest


@dataclass(frozen=True)
class ManifestRow:
    line_no: int
    number: str
    mark: str
    service: str
    sender: str
    recipient: str
    state: str


def manifest_pdf(*, bag_number: str, origin: str, origin_parent: str, destination: str,
                 facts: Sequence[tuple[str, str]], rows: Sequence[ManifestRow],
                 printed_at: datetime) -> bytes:
    """The bag's manifest (bảng kê túi thư), travelling with the bag and signed at each end."""
    st = _styles()
    width = A4[0] - 24 * mm
    story: list[Any] = [
        _header(st, [origin_parent.upper(), origin.upper()] if origin_parent else
                [origin.upper()], width),
        Spacer(1, 5 * mm),
        _p("BẢNG KÊ TÚI THƯ KT1", st.title),
        _p(f"Số túi: {bag_number}", st.center),
        Spacer(1, 2 * mm),
        Code128(bag_number),  # scanned at the counter to open the bag (issue 13)
        Spacer(1, 3 * mm),
        _p(f"Từ: {origin} — Đến: {destination}", st.body),
    ]
    for label, value in facts:
        story.append(_p(f"{label}: {value}", st.body))
    story.append(Spacer(1, 3 * mm))
    heads = ["STT", "Số hiệu bưu gửi", "Dấu", "Dịch vụ", "Nơi gửi", "Nơi nhận",
             "Khi mở túi"]
    ratios = [0.06, 0.18, 0.06, 0.1, 0.22, 0.22, 0.16]
    data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
    for r in rows:
        data.append([_p(r.line_no, st.cell), _p(r.number, st.cell), _p(r.mark, st.cell),
                     _p(r.service, st.cell), _p(r.sender, st.cell), _p(r.recipient, st.cell),
                     _p(r.state, st.cell)])
    if not rows:
        data.append([_p("Túi chưa có bưu gửi nào.", st.cell)] + [""] * 6)
    table = LongTable(data, colWidths=[width * x for x in ratios], repeatRows=1)
    table.setStyle(_grid())
    story += [table, Spacer(1, 4 * mm), _p(f"Tổng cộng: {len(rows)} bưu gửi.", st.body),
              Spacer(1, 6 * mm), KeepTogether(_signatures(st, [
                  ("NGƯỜI LẬP", "Giao dịch viên"),
                  ("NGƯỜI NHẬN TÚI", "Bưu tá / áp tải"),
                  ("BƯU CỤC ĐẾN", "Ký, đóng dấu")], width))]
    return _build(story, title=f"Bảng kê túi {bag_number}", printed=f"In {vn_time(printed_at)}")
