"""Paper for copies (sao, chụp; docs/domain.md §8): the copy stamp sheet and the copy register.

The copy stamp ("BẢN SAO") is printed for each copy and put on it: the copy's number in the
unit's copy register, "Bản số n/N", the original's document number and date, the outer
letter A/B/C of its classification, who allowed the copy and when, how it was made, and the
copy's item number as a Code 128. The copy register (sổ quản lý sao, chụp) lists a unit's
copies for the head of the unit to sign. Neither ever carries a subject (trích yếu): the
rows below have no subject field at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from kt1.models import Envelope, Unit, User
from kt1.services.copies import METHOD_VI, RegisterLine, register_number
from kt1.web.paper import (
    Code128,
    _build,
    _header,
    _p,
    _styles,
    register_tail,
)
from kt1.web.words import vi, vn_date, vn_time


@dataclass(frozen=True)
class CopyStamp:
    """What one copy's stamp shows (no subject, no classification word: the letter only)."""

    number: str  # the copy's S10 item number
    register_no: str  # số sao: its number in the unit's copy register
    copy_label: str  # "Bản số n/N"
    original_number: str  # the original's S10 item number
    document_number: str
    document_date: date | None
    mark: str  # the outer letter A/B/C ("" for a plain KT1 item)
    approver: str
    approved_on: date | None
    method: str
    unit: str


def stamp_of(copy: Envelope, original: Envelope | None, approver_name: str) -> CopyStamp:
    return CopyStamp(
        number=copy.number, register_no=register_number(copy) or "",
        copy_label=copy.copy_label or "", original_number=original.number if original else "?",
        document_number=copy.document_number, document_date=copy.document_date,
        mark=copy.mark or "", approver=approver_name, approved_on=copy.copy_approved_on,
        method=METHOD_VI.get(copy.copy_method, str(copy.copy_method or "")) if copy.copy_method
        else "", unit=copy.sender_unit.name)


def stamps_for(session: Session, copies: Sequence[Envelope]) -> list[CopyStamp]:
    """The stamps of ``copies`` (their originals and approvers looked up)."""
    out = []
    for c in copies:
        original = session.get(Envelope, c.copy_of_id) if c.copy_of_id else None
        approver = session.get(User, c.copy_approved_by_id) if c.copy_approved_by_id else None
        out.append(stamp_of(c, original, approver.full_name if approver else "-"))
    return out


def copy_stamps_pdf(stamps: Sequence[CopyStamp], printed_at: datetime) -> bytes:
    """One "BẢN SAO" stamp per copy, to cut out and fix on the copy's first page."""
    st = _styles()
    width = A4[0] - 24 * mm
    story: list[Any] = []
    for s in stamps:
        lines = [
            _p("BẢN SAO", st.title),
            _p(s.copy_label, st.center),
            _p(f"Số sao: {s.register_no} (sổ quản lý sao, chụp của {s.unit})", st.body),
            _p(f"Sao từ văn bản số {s.document_number}"
               + (f" ngày {vn_date(s.document_date)}" if s.document_date else "")
               + f" (bưu gửi gốc {s.original_number})", st.body),
            _p(f"Dấu độ mật: {s.mark or '-'}", st.body),
            _p(f"Hình thức sao: {s.method}", st.body),
            _p(f"Người cho phép sao: {s.approver}, ngày {vn_date(s.approved_on)}", st.body),
            Spacer(1, 2 * mm),
            Code128(s.number),
            _p("Người sao (ký, ghi rõ họ tên)", st.small),
            Spacer(1, 10 * mm),
        ]
        box = Table([[line] for line in lines], colWidths=[width * 0.7])
        box.setStyle(TableStyle([
            ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
            ("LEFTPADDING", (0, 0), (-1, -1), 6),
            ("RIGHTPADDING", (0, 0), (-1, -1), 6),
        ]))
        story += [KeepTogether([box]), Spacer(1, 6 * mm)]
    if not stamps:
        story.append(_p("Không có bản sao nào.", st.body))
    return _build(story, title="Dấu bản sao", printed=f"In {vn_time(printed_at)}")


def copy_register_pdf(unit: Unit, lines: Sequence[RegisterLine], printed_by: str,
                      printed_at: datetime) -> bytes:
    """The copy register pages (sổ quản lý sao, chụp tài liệu BMNN), A4 landscape."""
    st = _styles()
    width = landscape(A4)[0] - 24 * mm
    story: list[Any] = [
        _header(st, [unit.parent_name.upper(), unit.name.upper()] if unit.parent_name else
                [unit.name.upper()], width),
        Spacer(1, 4 * mm),
        _p("SỔ QUẢN LÝ SAO, CHỤP TÀI LIỆU, VẬT CHỨA BÍ MẬT NHÀ NƯỚC", st.title),
        Spacer(1, 3 * mm),
    ]
    heads = ["Số sao", "Ngày sao", "Văn bản gốc", "Độ mật", "Bản số", "Người cho phép",
             "Hình thức", "Người sao", "Nơi nhận", "Số hiệu bưu gửi", "Tình trạng"]
    ratios = [0.06, 0.07, 0.15, 0.06, 0.07, 0.12, 0.1, 0.1, 0.1, 0.1, 0.07]
    data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
    for ln in lines:
        c = ln.envelope
        original = (f"{c.document_number}"
                    + (f" ngày {vn_date(c.document_date)}" if c.document_date else "")
                    + (f" ({ln.original.number})" if ln.original else ""))
        approver = ln.approver.full_name if ln.approver else "-"
        data.append([_p(x, st.cell) for x in (
            ln.register_no, vn_time(c.registered_at, "%d/%m/%Y"), original,
            vi(c.classification), ln.label,
            f"{approver}, {vn_date(c.copy_approved_on)}",
            METHOD_VI.get(c.copy_method, "") if c.copy_method else "",
            ln.made_by.full_name if ln.made_by else "", c.recipient_unit.name, c.number,
            vi(c.status))])
    if not lines:
        data.append([_p("Chưa có bản sao nào.", st.cell)] + [""] * (len(heads) - 1))
    story += register_tail(st, width, data, ratios,
                           f"Tổng số: {len(lines)} bản sao. In lúc {vn_time(printed_at)} bởi "
                           f"{printed_by}.")
    return _build(story, title=f"Sổ quản lý sao, chụp — {unit.name}",
                  printed=f"In {vn_time(printed_at)}", wide=True)
