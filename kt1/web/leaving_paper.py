"""The handover record (biên bản bàn giao) to print and sign when a person leaves or moves.

An A4 PDF in the style of the other paper forms (:mod:`kt1.web.paper`): the unit, who handed
over, who received and how they acknowledged, then every item by number (envelope numbers
with their letter A/B/C and the bag they are in, bag numbers, handover sheet numbers) and the
signature lines of both sides and the head of the unit. It never carries a subject (trích
yếu): the rows below have no subject field at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, LongTable, Spacer

from kt1.models import HandoverRecord
from kt1.models.leaving import RecordItemKind
from kt1.web.adminforms import ROLE_WORDS
from kt1.web.paper import Code128, _build, _grid, _header, _p, _signatures, _styles
from kt1.web.words import vi, vn_time

ITEM_WORDS = {
    RecordItemKind.ENVELOPE: "Bưu gửi",
    RecordItemKind.BAG: "Túi thư",
    RecordItemKind.SHEET: "Bảng kê giao",
}


@dataclass(frozen=True)
class RecordRow:
    """One item of the record, without any subject."""

    line_no: int
    kind: str
    number: str
    mark: str
    bag: str
    notes: str


def record_rows(record: HandoverRecord) -> list[RecordRow]:
    """The record's items as printed (numbers, letters, bags; never a subject)."""
    rows = []
    for item in record.items:
        number, mark, bag, notes = "", "", "", ""
        if item.kind is RecordItemKind.ENVELOPE and item.envelope is not None:
            number, mark = item.envelope.number, item.envelope.mark or ""
            bag = item.bag.number if item.bag is not None else ""
            notes = vi(item.envelope.status)
        elif item.kind is RecordItemKind.BAG and item.bag is not None:
            number = item.bag.number
            notes = f"{vi(item.bag.status)}, đến {item.bag.destination_unit.code}"
        elif item.kind is RecordItemKind.SHEET and item.sheet is not None:
            number = item.sheet.number
            notes = f"Chưa ký nhận, giao {item.sheet.post_office.code}"
        rows.append(RecordRow(item.line_no, ITEM_WORDS[item.kind], number, mark, bag, notes))
    return rows


def _person(name: str, username: str, role: Any) -> str:
    return f"{name} ({username}), {ROLE_WORDS.get(role, str(role)).lower()}"


def handover_record_pdf(record: HandoverRecord, printed_at: datetime) -> bytes:
    """The handover record to be signed by both sides and the head of the unit."""
    st = _styles()
    width = A4[0] - 24 * mm
    unit = record.unit
    rows: Sequence[RecordRow] = record_rows(record)
    giver, receiver = record.giver, record.receiver
    story: list[Any] = [
        _header(st, [unit.parent_name.upper(), unit.name.upper()] if unit.parent_name else
                [unit.name.upper()], width),
        Spacer(1, 5 * mm),
        _p("BIÊN BẢN BÀN GIAO BƯU GỬI, TÀI LIỆU BÍ MẬT NHÀ NƯỚC", st.title),
        _p(f"Số: {record.number} — lập lúc {vn_time(record.created_at)}", st.center),
        Spacer(1, 2 * mm),
        Code128(record.number),  # its number, to be found again by scanning (issue 13)
        Spacer(1, 3 * mm),
        _p(f"Đơn vị: {unit.name} ({unit.code})", st.body),
        _p(f"Bên giao (thôi việc hoặc chuyển công tác): "
           f"{_person(giver.full_name, giver.username, record.giver.role)}", st.body),
        _p(f"Bên nhận: {_person(receiver.full_name, receiver.username, receiver.role)}",
           st.body),
        _p(f"Bên nhận xác nhận: {vi(record.ack_method)}", st.body),
        Spacer(1, 3 * mm),
    ]
    heads = ["STT", "Loại", "Số hiệu", "Dấu", "Trong túi", "Ghi chú"]
    ratios = [0.06, 0.14, 0.22, 0.06, 0.24, 0.28]
    data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
    for r in rows:
        data.append([_p(r.line_no, st.cell), _p(r.kind, st.cell), _p(r.number, st.cell),
                     _p(r.mark, st.cell), _p(r.bag, st.cell), _p(r.notes, st.cell)])
    table = LongTable(data, colWidths=[width * x for x in ratios], repeatRows=1)
    table.setStyle(_grid())
    counts = {kind: sum(1 for r in rows if r.kind == word) for kind, word in ITEM_WORDS.items()}
    story += [table, Spacer(1, 4 * mm),
              _p(f"Tổng cộng: {counts[RecordItemKind.ENVELOPE]} bưu gửi, "
                 f"{counts[RecordItemKind.BAG]} túi thư, {counts[RecordItemKind.SHEET]} bảng "
                 "kê giao chưa ký nhận. Hai bên đã đối chiếu số hiệu và tình trạng niêm phong "
                 "từng bì, từng túi trước khi ký.", st.body),
              Spacer(1, 2 * mm),
              # docs/domain.md §8 (leaving or moving): the leaving person also commits to
              # keep secret what they came to know
              _p("Bên giao cam kết đã bàn giao đầy đủ tài liệu, vật chứa bí mật nhà nước "
                 "đang quản lý và tiếp tục giữ bí mật những nội dung đã biết theo quy định "
                 "của pháp luật về bảo vệ bí mật nhà nước.", st.body),
              Spacer(1, 6 * mm), KeepTogether(_signatures(st, [
                  ("BÊN GIAO", "Ký, ghi rõ họ tên"),
                  ("BÊN NHẬN", "Ký, ghi rõ họ tên"),
                  ("LÃNH ĐẠO ĐƠN VỊ", "Ký, ghi rõ họ tên, đóng dấu")], width))]
    return _build(story, title=f"Biên bản bàn giao {record.number}",
                  printed=f"In {vn_time(printed_at)}")
