"""The self-inspection report (báo cáo tự kiểm tra) as an A4 PDF to sign and send up.

In the style of the other paper forms (:mod:`kt1.web.paper`): the unit and the national
motto, the title, the period, the checklist table (item, count, numbers concerned, the
remediation: who, by when, done), what was fixed since the unit's previous report, and the
signature block: the head's name, title and the time once signed, with the report's content
digest. Numbers only, never a subject (trích yếu).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, LongTable, Spacer, Table, TableStyle

from kt1.models import SelfInspection
from kt1.services.inspection import INCIDENT, ItemView
from kt1.web.paper import _build, _grid, _header, _p, _signatures, _styles
from kt1.web.words import vn_date, vn_time

TITLE = "BÁO CÁO TỰ KIỂM TRA CÔNG TÁC BẢO VỆ BÍ MẬT NHÀ NƯỚC"


def _numbers(view: ItemView, numbers: Sequence[str]) -> str:
    if view.check.kind == INCIDENT:
        return ", ".join(f"sự cố số {n}" for n in numbers)
    return ", ".join(numbers)


def _remediation(view: ItemView) -> tuple[str, str, str]:
    rem = view.remediation
    if rem is None:
        return "", "", ""
    who = rem.assignee or "(chưa giao)"
    if rem.note:
        who = f"{who}: {rem.note}"
    return (who, vn_date(rem.due_on) if rem.due_on else "",
            vn_date(rem.done_on) if rem.done_on else "Chưa")


def self_inspection_pdf(report: SelfInspection, views: Sequence[ItemView],
                        printed_at: datetime) -> bytes:
    st = _styles()
    width = A4[0] - 24 * mm
    unit = report.unit
    story: list[Any] = [
        _header(st, [unit.parent_name.upper(), unit.name.upper()] if unit.parent_name else
                [unit.name.upper()], width),
        Spacer(1, 5 * mm),
        _p(TITLE, st.title),
        _p(f"Số: {report.number}", st.center),
        _p(f"Kỳ kiểm tra: từ ngày {vn_date(report.period_from)} đến ngày "
           f"{vn_date(report.period_to)}", st.center),
        Spacer(1, 4 * mm),
        _p(f"Đơn vị: {unit.name} ({unit.code}). Kiểm tra lúc {vn_time(report.run_at)}"
           + (f", so với báo cáo trước số {report.previous.number}."
              if report.previous is not None else "; đây là báo cáo đầu tiên của đơn vị."),
           st.body),
        Spacer(1, 3 * mm),
    ]
    heads = ["STT", "Nội dung kiểm tra", "Số lượng", "Số hiệu liên quan", "Người khắc phục",
             "Hạn", "Hoàn thành"]
    ratios = [0.05, 0.25, 0.08, 0.25, 0.17, 0.10, 0.10]
    data: list[list[Any]] = [[_p(h, st.head) for h in heads]]
    for n, view in enumerate(views, start=1):
        who, due, done = _remediation(view)
        data.append([_p(n, st.cell), _p(f"{view.check.vi}\n({view.code})", st.cell),
                     _p(str(view.count), st.cell), _p(_numbers(view, view.numbers), st.cell),
                     _p(who, st.cell), _p(due, st.cell), _p(done, st.cell)])
    table = LongTable(data, colWidths=[width * x for x in ratios], repeatRows=1)
    table.setStyle(_grid())
    total = sum(v.count for v in views)
    story += [table, Spacer(1, 3 * mm),
              _p(f"Tổng cộng: {total} tồn tại ở {sum(1 for v in views if v.count)} nội dung "
                 "kiểm tra.", st.body), Spacer(1, 4 * mm)]

    story.append(_p("ĐÃ KHẮC PHỤC SO VỚI BÁO CÁO TRƯỚC", st.head))
    if report.previous is None:
        story.append(_p("Chưa có báo cáo trước.", st.body))
    else:
        fixed = [[_p(v.check.vi, st.cell), _p(str(len(v.fixed or [])), st.cell),
                  _p(_numbers(v, v.fixed or []), st.cell)] for v in views if v.fixed]
        if fixed:
            rows = [[_p(h, st.head) for h in ("Nội dung", "Đã khắc phục", "Số hiệu")], *fixed]
            fixed_table = LongTable(rows, colWidths=[width * 0.4, width * 0.15, width * 0.45],
                                    repeatRows=1)
            fixed_table.setStyle(_grid())
            story.append(fixed_table)
        else:
            story.append(_p("Không có tồn tại nào được khắc phục kể từ báo cáo "
                            f"{report.previous.number}.", st.body))
    story.append(Spacer(1, 6 * mm))
    if report.signed_at is not None:
        signed = Table([[_p("", st.center), _p(
            f"THỦ TRƯỞNG ĐƠN VỊ\n{report.signed_title or ''}\n\nĐã ký: {report.signed_name}\n"
            f"lúc {vn_time(report.signed_at)}", st.center)]],
            colWidths=[width * 0.5, width * 0.5])
        signed.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(KeepTogether([signed]))
    else:
        story.append(KeepTogether(_signatures(st, [
            ("NGƯỜI LẬP", "Ký, ghi rõ họ tên"),
            ("THỦ TRƯỞNG ĐƠN VỊ", "Ký, ghi rõ họ tên, đóng dấu")], width)))
        story.append(_p("Báo cáo chưa được ký.", st.small))
    story += [Spacer(1, 4 * mm), _p(f"Mã kiểm tra nội dung (SHA-256): {report.digest}",
                                    st.small)]
    return _build(story, title=f"Báo cáo tự kiểm tra {report.number}",
                  printed=f"In {vn_time(printed_at)}")
