"""Self-inspection pages (issue 12, item 4; kt1/web/inspection.py): the list and the run form,
a report with its items and links, remediation edits, the head's signature, the PDF, and
the refusals (another unit's report or remediation is a 404 like one that does not exist)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from kt1.models import Remediation, SelfInspection
from kt1.services import inspection as svc
from kt1.services.context import Ctx
from kt1.services.subjects import local_date
from tests.conftest import Clock, Network, pdf_text
from tests.services.test_inspection import build
from tests.web.conftest import Browser
from tests.web.pdf import get_pdf
from tests.years import inspection, vn_year

BASE_PATH = "/reports/self-inspection"
ROUTES = {("GET", f"{BASE_PATH}/"), ("POST", f"{BASE_PATH}/run"),
          ("GET", f"{BASE_PATH}/<number>"),
          ("POST", f"{BASE_PATH}/<number>/remediation/<int:remediation_id>"),
          ("POST", f"{BASE_PATH}/<number>/sign"), ("GET", f"{BASE_PATH}/<number>/report.pdf")}


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def count_cell(html: str, code: str) -> str:
    match = re.search(rf'id="item-{code}"[^>]*>.*?<td class="count">(\d+)</td>', html, re.S)
    assert match, code
    return match.group(1)


def remediation(ctx: Ctx, code: str) -> Remediation:
    ctx.session.rollback()
    return ctx.session.execute(select(Remediation).where(
        Remediation.code == code).order_by(Remediation.id.desc()).limit(1)
    ).unique().scalar_one()


def test_an_officer_runs_a_report_edits_a_remediation_and_the_head_signs(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    made = build(ctx, network, clock)
    b: Browser = signed_in("bm_bnv")
    home = b.get("/")
    assert f'href="{BASE_PATH}/"' in page(home)
    empty = b.get(f"{BASE_PATH}/")
    assert empty.status_code == 200 and "chưa có báo cáo tự kiểm tra nào" in page(empty)
    since = date(vn_year(clock.now), 1, 1)  # the year the test's clock made the data in
    ran = b.post(f"{BASE_PATH}/run", {"day_from": since.isoformat(), "day_to": ""})
    assert ran.status_code == 303
    # the page runs on the real clock: the number carries the year of the report's own run
    report = inspection(ctx.session, network["bm_bnv"].unit_id)
    number = f"TKT-BNV-{vn_year(report.run_at)}-001"
    assert report.number == number and ran.headers["Location"].endswith(f"{BASE_PATH}/{number}")
    opened = local_date(report.run_at)
    shown = b.get(f"{BASE_PATH}/{number}")
    html = page(shown)
    assert shown.status_code == 200
    assert count_cell(html, "held_by_leaver") == "1"
    assert count_cell(html, "copy_unapproved") == "0"
    assert f'href="/officer/envelopes/{made["bad_letter"].number}"' in html
    assert "Bảng kê giao, phiếu chuyển giao nội bộ đã in nhưng chưa ký nhận" in html
    assert made["sheet"] in html
    assert "15/KH-BNV" not in html or "trích yếu" not in html  # numbers only
    assert 'id="sign"' not in html  # an officer does not sign

    rem = remediation(ctx, "held_by_leaver")
    due = opened + timedelta(days=27)
    saved = b.post(f"{BASE_PATH}/{number}/remediation/{rem.id}", {
        f"r{rem.id}-assignee": "head_bnv", f"r{rem.id}-due_on": due.isoformat(),
        f"r{rem.id}-note": "Bàn giao lại tài liệu"})
    assert saved.status_code == 303, page(saved)
    got = remediation(ctx, "held_by_leaver")
    assert (got.assignee_user_id, str(got.due_on), got.note) == (
        network["head_bnv"].id, due.isoformat(), "Bàn giao lại tài liệu")
    wrong = b.post(f"{BASE_PATH}/{number}/remediation/{rem.id}", {
        f"r{rem.id}-assignee": "", f"r{rem.id}-done_on": (opened + timedelta(days=40)).isoformat()})
    assert wrong.status_code == 422
    assert remediation(ctx, "held_by_leaver").done_on is None
    refused_sign = b.post(f"{BASE_PATH}/{number}/sign", {"title": ""})
    assert refused_sign.status_code == 403
    assert "Chỉ thủ trưởng đơn vị mới ký" in page(refused_sign)

    head = signed_in("head_bnv")
    report_page = page(head.get(f"{BASE_PATH}/{number}"))
    assert 'id="sign"' in report_page
    assert f'href="/clerk/envelopes/{made["bad_letter"].number}"' in report_page
    assert f'href="/incidents/{made["incident"]}"' in report_page
    signed = head.post(f"{BASE_PATH}/{number}/sign", {"title": "Chánh Văn phòng"})
    assert signed.status_code == 303
    after = page(head.get(f"{BASE_PATH}/{number}"))
    assert "HEAD_BNV, Chánh Văn phòng" in after and 'id="sign"' not in after
    again = head.post(f"{BASE_PATH}/{number}/sign", {"title": ""})
    assert again.status_code == 409 and "đã được ký" in page(again)
    # remediation goes on after the signature (the pages run on the real clock)
    today = local_date(datetime.now(UTC))
    done = head.post(f"{BASE_PATH}/{number}/remediation/{rem.id}", {
        f"r{rem.id}-assignee": "", f"r{rem.id}-done_on": today.isoformat()})
    assert done.status_code == 303
    assert not remediation(ctx, "held_by_leaver").is_open

    pdf = get_pdf(head, f"{BASE_PATH}/{number}/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    assert "BÁO CÁO TỰ KIỂM TRA CÔNG TÁC BẢO VỆ BÍ MẬT NHÀ NƯỚC" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert number in text and made["bad_letter"].number in text
    assert "Đã ký: HEAD_BNV" in text
    signed_on = local_date(inspection(ctx.session, network["bm_bnv"].unit_id).signed_at)
    assert signed_on.strftime("%d/%m/%Y") in text
    ctx.session.rollback()
    digest = ctx.session.execute(select(SelfInspection.digest)).scalar_one()
    assert digest[:40] in text.replace("\n", "").replace(" ", "")


def test_fixed_since_the_previous_report_is_shown(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    from kt1.services import handover

    made = build(ctx, network, clock)
    svc.run_self_inspection(ctx, None, "BNV")
    handover.cancel_sheet(ctx, network["vt_bnv"], made["sheet"])
    second = svc.run_self_inspection(ctx, None, "BNV")
    b = signed_in("bm_bnv")
    html = page(b.get(f"{BASE_PATH}/{second.number}"))
    fixed = re.search(r'id="item-handover_unsigned".*?<td class="fixed">(.*?)</td>', html, re.S)
    assert fixed and made["sheet"] in fixed.group(1) and fixed.group(1).startswith("1:")
    assert count_cell(html, "handover_unsigned") == "0"
    text = pdf_text(get_pdf(b, f"{BASE_PATH}/{second.number}/report.pdf").data)
    assert "ĐÃ KHẮC PHỤC SO VỚI BÁO CÁO TRƯỚC" in text and made["sheet"] in text
    assert "Báo cáo chưa được ký." in text


def test_another_unit_gets_404_for_reads_and_writes_and_others_403(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    build(ctx, network, clock)
    report = svc.run_self_inspection(ctx, None, "BNV")
    rem = remediation(ctx, "held_by_leaver")
    b = signed_in("bm_hn")  # security officer of another unit
    base = f"{BASE_PATH}/{report.number}"
    ghost = f"{BASE_PATH}/TKT-BNV-2026-999"
    for path in (base, f"{base}/report.pdf"):
        assert b.get(path).status_code == 404, path
    assert page(b.get(base)).replace(report.number, "X") == page(b.get(ghost)).replace(
        "TKT-BNV-2026-999", "X")
    b.get(f"{BASE_PATH}/")
    assert b.post(f"{base}/sign", {"title": ""}).status_code == 404
    assert b.post(f"{base}/remediation/{rem.id}",
                  {f"r{rem.id}-note": "x"}).status_code == 404
    head_hn = signed_in("head_hcm")
    head_hn.get(f"{BASE_PATH}/")
    assert head_hn.post(f"{base}/sign", {"title": ""}).status_code == 404
    # the remediation of another unit under one's own report: 404 as well
    own = svc.run_self_inspection(ctx, None, "UBND-HCM")
    assert head_hn.post(f"{BASE_PATH}/{own.number}/remediation/{rem.id}",
                        {f"r{rem.id}-note": "x"}).status_code == 404
    ctx.session.rollback()
    assert remediation(ctx, "held_by_leaver").note == ""
    assert ctx.session.get(SelfInspection, report.id).signed_at is None
    # a registry clerk who is not a head has no such pages
    clerk = signed_in("vt_bnv")
    assert clerk.get(f"{BASE_PATH}/").status_code == 403
    assert clerk.get(base).status_code == 403
    assert f'href="{BASE_PATH}/"' not in page(clerk.get("/"))
    # a reversed period is refused at the form
    officer = signed_in("bm_bnv")
    officer.get(f"{BASE_PATH}/")
    bad = officer.post(f"{BASE_PATH}/run", {"day_from": "2026-05-01", "day_to": "2026-04-01"})
    assert bad.status_code == 422 and "ngày kết thúc (01/04/2026) trước" in page(bad)


def test_every_route_is_guarded(app: Flask) -> None:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("inspection."):
            continue
        assert getattr(app.view_functions[rule.endpoint], "roles", None), rule.endpoint
        found |= {(m, rule.rule) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert found == ROUTES
