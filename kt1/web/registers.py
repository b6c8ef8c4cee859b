"""The three registers as tables, on screen, as A4 PDF pages and as an XLSX workbook.

Each export starts with the volume's cover (parent body, unit, year, first and last date,
first and last number). The printed forms keep their Vietnamese words whatever the page
language: they are official Vietnamese forms. Cells come from
:func:`kt1.services.registers.build_register`; a subject appears only where that service
filled it in (``read_subject`` allowed the user).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from kt1.models import Envelope
from kt1.models.enums import AckMethod, SealState, ServiceClass, Urgency
from kt1.services.registers import Cover, Register, RegisterKind
from kt1.services.subjects import VIETNAM
from kt1.web.words import N_, note_text, vi, vn_date, vn_time

Cell = str | int | date | datetime | None

#: The classification words reach the pages through ``enum_label`` (built from
#: ``Classification.label_vi``); marked here so that extraction puts them in the catalog.
CLASSIFICATION_WORDS = (N_("Tuyệt mật"), N_("Tối mật"), N_("Mật"), N_("Thường"))
Word = Callable[[Any], str]

TITLES = {
    RegisterKind.OUTGOING: N_("Sổ đăng ký văn bản, tài liệu bí mật nhà nước đi"),
    RegisterKind.INCOMING: N_("Sổ đăng ký văn bản, tài liệu bí mật nhà nước đến"),
    RegisterKind.HANDOVER: N_("Sổ chuyển giao văn bản, tài liệu bí mật nhà nước"),
}
SHORT = {
    RegisterKind.OUTGOING: N_("Sổ đi"),
    RegisterKind.INCOMING: N_("Sổ đến"),
    RegisterKind.HANDOVER: N_("Sổ chuyển giao"),
}
FILE_STEM = {
    RegisterKind.OUTGOING: "so-di",
    RegisterKind.INCOMING: "so-den",
    RegisterKind.HANDOVER: "so-chuyen-giao",
}


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # share of the page width


COLUMNS: dict[RegisterKind, tuple[Column, ...]] = {
    RegisterKind.OUTGOING: (
        Column(N_("Số TT"), 0.05), Column(N_("Số, ký hiệu văn bản"), 0.12),
        Column(N_("Ngày văn bản"), 0.07), Column(N_("Độ mật, trích yếu"), 0.14),
        Column(N_("Người ký"), 0.08), Column(N_("Nơi nhận"), 0.14), Column(N_("Số bản"), 0.05),
        Column(N_("Ngày chuyển"), 0.09), Column(N_("Ký nhận"), 0.12),
        Column(N_("Ghi chú"), 0.14)),
    RegisterKind.INCOMING: (
        Column(N_("Ngày đến"), 0.09), Column(N_("Số đến"), 0.06), Column(N_("Nơi gửi"), 0.15),
        Column(N_("Số, ký hiệu văn bản"), 0.12), Column(N_("Ngày văn bản"), 0.07),
        Column(N_("Đơn vị, người nhận"), 0.14), Column(N_("Ngày chuyển"), 0.09),
        Column(N_("Ký nhận"), 0.12), Column(N_("Ghi chú"), 0.16)),
    RegisterKind.HANDOVER: (
        Column(N_("Số TT"), 0.05), Column(N_("Ngày giờ"), 0.1),
        Column(N_("Số, ký hiệu văn bản"), 0.15), Column(N_("Nơi nhận, người nhận"), 0.2),
        Column(N_("Số bì"), 0.05), Column(N_("Ký nhận, dấu bưu cục"), 0.2),
        Column(N_("Ghi chú"), 0.25)),
}


def _receipt(name: str, method: str, word: Word) -> str:
    if not name:
        return ""
    return f"{name} ({word(AckMethod(method))})" if method else name


def marks_of(e: Envelope, word: Word) -> list[str]:
    """The envelope's marks in a register's notes: class (letter), service, urgency..."""
    parts = [f"{word(e.classification)} ({e.mark})" if e.mark else word(e.classification)]
    if e.service is not ServiceClass.STANDARD:
        parts.append(word(e.service) + (f" {vn_time(e.agreed_at)}" if e.agreed_at else ""))
    # A Hỏa tốc document sent by the Hỏa tốc service: the mark once (not "Hỏa tốc; Hỏa tốc").
    if e.urgency is not Urgency.NORMAL and not (
            e.service is not ServiceClass.STANDARD and word(e.urgency) == word(e.service)):
        parts.append(word(e.urgency))
    if e.is_addressee_only:
        parts.append(word(N_("Chỉ người có tên mới được bóc bì")))
    if e.recall_by:
        parts.append(word(N_("Tài liệu thu hồi, hạn %(day)s")) % {"day": vn_date(e.recall_by)})
    return parts


def signer_of(e: Envelope) -> str:
    """The "Người ký" cell: the signer's name and title, as registered (docs/domain.md §5)."""
    if not e.signer_name:
        return ""
    return f"{e.signer_name}, {e.signer_title}" if e.signer_title else e.signer_name


def rows(register: Register, word: Word = vi) -> list[list[Cell]]:
    """The register's cells, one list per entry, in the columns of :data:`COLUMNS`."""
    out: list[list[Cell]] = []
    for o in register.outgoing:
        e = o.envelope
        kind = word(e.classification) + (f" — {o.subject}" if o.subject else "")
        recipient = e.recipient_unit.name + (f" — {e.recipient_name}" if e.recipient_name else "")
        sent = o.sent
        out.append([
            e.register_seq, e.document_number, e.document_date, kind, signer_of(e), recipient,
            e.copies,
            _local(sent.at) if sent else None,
            _receipt(sent.ack_name, sent.ack_method, word) if sent else "",
            "; ".join([e.number, *marks_of(e, word)[1:]])])
    for i in register.incoming:
        e = i.envelope
        passed = i.passed
        went_to = passed.to_name if passed else (e.recipient_name or e.recipient_unit.name)
        out.append([
            _local(i.received.at) if i.received else None, e.incoming_seq,
            e.sender_unit.name, e.document_number, e.document_date, went_to,
            _local(passed.at) if passed else None,
            _receipt(passed.ack_name, passed.ack_method, word) if passed else "",
            "; ".join([e.number, *marks_of(e, word)])])
    for h in register.handover:
        link, e = h.handoff, h.envelope
        to = (f"{link.to_user.full_name} — " if link.to_user else "") + link.to_unit.name
        ack = ""
        if link.ack_user is not None:
            ack = _receipt(link.ack_user.full_name, str(link.ack_method or ""), word)
        if link.ack_reference:
            ack += f" [{link.ack_reference}]"
        notes = [word(link.kind), e.number]
        if link.seal_state is not SealState.NOT_APPLICABLE:
            notes.append(word(link.seal_state) + (f" {link.seal_number}"
                                                  if link.seal_number else ""))
        if link.note:
            notes.append(note_text(link.note, word))
        out.append([h.seq, _local(link.event_at), e.document_number, to, e.layers, ack,
                     "; ".join(notes)])
    return out


def _local(moment: datetime) -> datetime:
    """A UTC time as the naive Vietnam time written in a register."""
    return moment.astimezone(VIETNAM).replace(tzinfo=None)


def text_of(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.strftime("%d/%m/%Y %H:%M")
    if isinstance(cell, date):
        return cell.strftime("%d/%m/%Y")
    return str(cell)


def cover_lines(cover: Cover) -> list[tuple[str, str]]:
    """The cover's facts (label, value), in Vietnamese."""
    dash = "—"
    return [
        (N_("Cơ quan chủ quản"), cover.parent_name or dash),
        (N_("Đơn vị"), f"{cover.unit_name} ({cover.unit_code})"),
        (N_("Năm"), str(cover.year)),
        (N_("Từ ngày"), vn_date(cover.first_date) or dash),
        (N_("Đến ngày"), vn_date(cover.last_date) or dash),
        (N_("Từ số"), str(cover.first_number) if cover.first_number is not None else dash),
        (N_("Đến số"), str(cover.last_number) if cover.last_number is not None else dash),
        (N_("Số mục"), str(cover.entries)),
    ]


def file_name(register: Register, ext: str) -> str:
    c = register.cover
    return f"{FILE_STEM[c.kind]}-{c.unit_code}-{c.year}.{ext}"


# --------------------------------------------------------------------------- PDF


def register_pdf(register: Register, *, printed_by: str, printed_at: datetime) -> bytes:
    """A4 landscape: the cover page, then the register's table with its header on every
    page, page numbers and the print stamp at the foot."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        LongTable,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    from kt1.labels.fonts import register_pdf_fonts

    regular, bold = register_pdf_fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=13)
    cell = ParagraphStyle("cell", parent=body, fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName=bold, alignment=TA_CENTER)
    center = ParagraphStyle("center", parent=body, alignment=TA_CENTER)
    title = ParagraphStyle("title", parent=center, fontName=bold, fontSize=18, leading=24)
    big = ParagraphStyle("big", parent=center, fontSize=13, leading=18)

    def p(text: Any, style: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text_of(text)).replace("\n", "<br/>"), style)

    c = register.cover
    page = landscape(A4)
    width = page[0] - 24 * mm
    name = TITLES[c.kind].upper()
    story: list[Any] = [
        Spacer(1, 10 * mm),
        p(c.parent_name.upper(), big) if c.parent_name else Spacer(1, 1),
        p(c.unit_name.upper(), big),
        Spacer(1, 25 * mm),
        p(name, title),
        Spacer(1, 6 * mm),
        p(f"Năm {c.year}", big),
        Spacer(1, 15 * mm),
    ]
    facts = Table([[p(label, body), p(value, body)] for label, value in cover_lines(c)],
                  colWidths=[55 * mm, 110 * mm])
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [facts, PageBreak()]
    columns = COLUMNS[c.kind]
    data: list[list[Any]] = [[p(col.title, head) for col in columns]]
    data += [[p(value, cell) for value in line] for line in rows(register)]
    if len(data) == 1:
        data.append([p("Không có mục nào trong khoảng này.", cell)] + [""] * (len(columns) - 1))
    table = LongTable(data, colWidths=[width * col.width for col in columns], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.93, 0.95)),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    story += [p(name, ParagraphStyle("t2", parent=center, fontName=bold)),
              p(f"{c.unit_name} — năm {c.year}", center), Spacer(1, 3 * mm), table,
              Spacer(1, 4 * mm),
              p(f"Tổng số: {c.entries} mục. In lúc {vn_time(printed_at)} bởi {printed_by}.",
                cell)]
    stamp = f"{name} — {c.unit_code} {c.year} · In {vn_time(printed_at)}"

    def foot(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillGray(0.3)
        canvas.drawString(12 * mm, 8 * mm, stamp)
        canvas.drawRightString(page[0] - 12 * mm, 8 * mm, f"Trang {doc.page}")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=page, leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=16 * mm, title=stamp,
                            author="KT1 Track")
    doc.build(story, onFirstPage=foot, onLaterPages=foot)
    return out.getvalue()


# --------------------------------------------------------------------------- XLSX


def register_xlsx(register: Register, *, printed_by: str, printed_at: datetime) -> bytes:
    """A workbook with two sheets: ``Bìa`` (the cover) and ``Sổ`` (one row per entry, dates
    as real dates). Written in openpyxl's write-only mode, so a long year stays small in
    memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    c = register.cover
    book = Workbook(write_only=True)
    cover = book.create_sheet("Bìa")
    cover.column_dimensions["A"].width = 22
    cover.column_dimensions["B"].width = 60
    heading = WriteOnlyCell(cover, value=TITLES[c.kind].upper())
    heading.font = Font(bold=True, size=14)
    cover.append([heading])
    cover.append([])
    for label, value in cover_lines(c):
        key = WriteOnlyCell(cover, value=label)
        key.font = Font(bold=True)
        cover.append([key, value])
    cover.append([])
    cover.append(["In lúc", vn_time(printed_at)])
    cover.append(["Người in", printed_by])

    sheet = book.create_sheet("Sổ")
    columns = COLUMNS[c.kind]
    letters = "ABCDEFGHIJKLMNOP"
    for letter, col in zip(letters, columns, strict=False):
        sheet.column_dimensions[letter].width = max(8, round(col.width * 160))
    sheet.freeze_panes = "A2"
    header = []
    for col in columns:
        cell = WriteOnlyCell(sheet, value=col.title)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    for line in rows(register):
        sheet.append([_xlsx_cell(sheet, value) for value in line])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(sheet: Any, value: Cell) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD/MM/YYYY HH:MM"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD/MM/YYYY"
        return cell
    return value


def screen_rows(register: Register, word: Word, start: int, stop: int) -> Sequence[list[str]]:
    """Some of the register's rows as text, for the page (``word``: the page's language)."""
    return [[text_of(v) for v in line] for line in rows(register, word)[start:stop]]
