"""The statistics page (thống kê BMNN): the form and its defaults, the tables and the inline
SVG charts, the empty state, the PDF and XLSX reports, and the refusals (a reversed period,
another unit answering as an unknown one, a role that keeps no statistics)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from kt1.extensions import db
from kt1.services.context import Ctx, Settings
from kt1.web import statistics as statistics_module
from tests.conftest import Clock, Network, pdf_text
from tests.services.test_statistics import NOVEMBER_TOTAL, build_scenario
from tests.web.conftest import BASE, Browser

NOVEMBER = "/reports/statistics/?unit=BNV&date_from=2026-11-01&date_to=2026-11-30"
ORDER = ("held", "sent", "received", "copied", "declassified", "destroyed")


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def download(b: Browser, path: str) -> Any:
    """A file download (the Browser reads pages as text)."""
    b._fresh_globals()
    return b.client.get(path, base_url=BASE)


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch, ctx: Ctx, network: Network, clock: Clock,
             app: Flask) -> Any:
    """BNV's November (tests/services/test_statistics.py), the pages on the test's clock."""

    def context() -> Ctx:
        return Ctx(session=db.session(), settings=Settings.from_mapping(app.config), now=clock)

    monkeypatch.setattr(statistics_module, "service_context", context)
    return build_scenario(ctx, network, clock)


def _cells(html: str, table_id: str) -> list[str]:
    """The numbers of the "Tổng cộng" row of a table of the page."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    total = table.split('class="total"', 1)[1].split("</tr>", 1)[0]
    return re.findall(r"<strong>(\d+)</strong>", total)


def test_the_officer_produces_the_statistics(signed_in: Any, scenario: Any) -> None:
    b: Browser = signed_in("bm_bnv")
    home = page(b.get("/"))
    assert "/reports/statistics/" in home  # the menu link
    r = b.get(NOVEMBER)
    assert r.status_code == 200
    html = page(r)
    assert _cells(html, "by-class") == [str(NOVEMBER_TOTAL[m]) for m in ORDER]
    assert _cells(html, "by-service") == [str(NOVEMBER_TOTAL[m]) for m in ORDER]
    assert _cells(html, "by-incident") == ["1"]
    # the two charts, inline SVG drawn on the server, nothing loaded from elsewhere
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="chart-by-class"' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg" id="chart-by-month"' in html
    assert html.count('class="bar"') == 4 * 6 and "<polyline" in html
    assert "style=" not in html.split('id="chart-by-class"', 1)[1].split("</svg>", 1)[0]
    assert "https://" not in html and "statistics-empty" not in html
    assert "style-src 'self'" in r.headers["Content-Security-Policy"]
    assert "report.pdf?unit=BNV&amp;date_from=2026-11-01&amp;date_to=2026-11-30" in html


def test_the_form_opens_on_the_own_unit_and_this_quarter(signed_in: Any,
                                                          scenario: Any) -> None:
    b: Browser = signed_in("head_bnv")  # a head of unit, a registry clerk by role
    html = page(b.get("/reports/statistics/"))
    assert 'value="BNV"' in html
    assert 'value="2026-10-01"' in html and 'value="2026-12-31"' in html
    year = page(b.get("/reports/statistics/?span=year"))
    assert 'value="2026-01-01"' in year and 'value="2026-12-31"' in year
    assert _cells(year, "by-class")[1] == "4"  # sent: e1, e2, e3 and e4 (on 01/12)


def test_an_empty_period(signed_in: Any, scenario: Any) -> None:
    b: Browser = signed_in("bm_bnv")
    html = page(b.get("/reports/statistics/?unit=BNV&date_from=2025-01-01&date_to=2025-03-31"))
    assert 'id="statistics-empty"' in html
    assert "Trong kỳ này đơn vị không quản lý" in html
    assert 'id="export-pdf"' in html  # a "nothing happened" report can still be sent


def test_the_pdf_report(signed_in: Any, scenario: Any) -> None:
    b: Browser = signed_in("bm_bnv")
    r = download(b, NOVEMBER.replace("/?", "/report.pdf?"))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "thong-ke-bmnn-BNV-20261101-20261130.pdf" in r.headers["Content-Disposition"]
    text = pdf_text(r.data)
    for words in ("BÁO CÁO THỐNG KÊ BÍ MẬT NHÀ NƯỚC", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                  "Độc lập - Tự do - Hạnh phúc", "BỘ NỘI VỤ", "từ ngày 01/11/2026 đến ngày "
                  "30/11/2026", "NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG CƠ QUAN", "Ký tên, đóng dấu",
                  "Hư hỏng", "Tuyệt mật (A)", "Hỏa tốc"):
        assert words in text, words
    totals = [line.split() for line in text.splitlines() if "Tổng cộng" in line]
    # by classification and by service: held sent received copied declassified destroyed
    assert totals[0][-6:] == [str(NOVEMBER_TOTAL[m]) for m in ORDER]
    assert totals[1][-6:] == totals[0][-6:]
    assert totals[2][-1] == "1"  # incidents


def test_the_xlsx_report(signed_in: Any, scenario: Any) -> None:
    b: Browser = signed_in("bm_bnv")
    r = download(b, NOVEMBER.replace("/?", "/report.xlsx?"))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.data))["Báo cáo"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    flat = [str(c) for row in rows for c in row if c is not None]
    assert "BÁO CÁO THỐNG KÊ BÍ MẬT NHÀ NƯỚC" in flat
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat
    assert "NGƯỜI LẬP BIỂU" in flat and "THỦ TRƯỞNG CƠ QUAN" in flat
    totals = [row for row in rows if row[1] == "Tổng cộng"]
    assert list(totals[0][2:8]) == [NOVEMBER_TOTAL[m] for m in ORDER]
    secret = next(row for row in rows if row[1] == "Tuyệt mật (A)")
    assert list(secret[2:8]) == [2, 1, 0, 1, 0, 0]  # e2 and its copy held, e2 sent, its copy


def test_refusals(signed_in: Any, scenario: Any) -> None:
    officer: Browser = signed_in("bm_bnv")
    reversed_ = officer.get("/reports/statistics/?unit=BNV&date_from=2026-11-30"
                            "&date_to=2026-11-01")
    assert reversed_.status_code == 422 and "period_reversed" in page(reversed_)
    too_long = officer.get("/reports/statistics/report.pdf?unit=BNV&date_from=2010-01-01"
                           "&date_to=2026-11-01")
    assert too_long.status_code == 422 and "period_too_long" in page(too_long)
    other: Browser = signed_in("bm_hcm")
    seen = other.get(NOVEMBER)
    missing = other.get(NOVEMBER.replace("unit=BNV", "unit=NOPE"))
    assert seen.status_code == missing.status_code == 404
    assert page(seen).replace("BNV", "X") == page(missing).replace("NOPE", "X")
    assert other.get(NOVEMBER.replace("/?", "/report.pdf?")).status_code == 404
    assert other.get(NOVEMBER.replace("/?", "/report.xlsx?")).status_code == 404
    clerk: Browser = signed_in("vt_bnv")
    assert clerk.get(NOVEMBER).status_code == 403
    assert clerk.get(NOVEMBER.replace("/?", "/report.pdf?")).status_code == 403
    assert "/reports/statistics/" not in page(clerk.get("/"))


def test_the_page_in_english(signed_in: Any, scenario: Any) -> None:
    b: Browser = signed_in("bm_bnv")
    b.get("/")
    b.post("/language", {"lang": "en", "next": "/"})
    html = page(b.get(NOVEMBER))
    assert "State secrets statistics" in html and "Top secret" in html
