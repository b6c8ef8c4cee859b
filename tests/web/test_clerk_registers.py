"""The clerk's registers as XLSX, and the incoming register printed (PDF) too; a Hỏa tốc
document sent Hỏa tốc carries the mark once ("Hỏa tốc", never "Hỏa tốc; Hỏa tốc")."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from kt1.models.enums import Classification, ServiceClass, Urgency
from kt1.services.context import Ctx
from kt1.web.registers import marks_of
from kt1.web.words import vi
from tests.conftest import Clock, Network, pdf_text
from tests.journey import carry, register
from tests.web.pdf import get_pdf
from tests.years import vn_year

SUBJECT = "SUBJECT-CLERK-XLSX-9"


def cells(body: bytes) -> list[str]:
    book = load_workbook(io.BytesIO(body))
    return [str(v) for ws in book for r in ws.iter_rows(values_only=True) for v in r
            if v is not None]


def flash(ctx: Ctx, network: Network, clock: Clock) -> Any:
    env = register(ctx, network, service=ServiceClass.FLASH, urgency=Urgency.FLASH,
                   subject=SUBJECT, document_number="21/BNV-HT")
    carry(ctx, network, clock, env)  # all the way into UBND-HCM's incoming register
    return env


def test_the_flash_mark_is_written_once(ctx: Ctx, network: Network) -> None:
    env = register(ctx, network, service=ServiceClass.FLASH, urgency=Urgency.FLASH,
                   classification=Classification.TOP_SECRET)
    assert marks_of(env, vi).count("Hỏa tốc") == 1
    urgent = register(ctx, network, service=ServiceClass.FLASH, urgency=Urgency.VERY_URGENT)
    assert marks_of(urgent, vi)[1:] == ["Hỏa tốc", "Thượng khẩn"]


def test_the_outgoing_register_downloads_as_xlsx_without_a_duplicated_mark_or_subject(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    env = flash(ctx, network, clock)
    b = signed_in("vt_bnv")
    assert "/clerk/outgoing/register.xlsx" in b.get("/clerk/outgoing").get_data(as_text=True)
    response = get_pdf(b, f"/clerk/outgoing/register.xlsx?year={vn_year(clock.now)}")
    assert response.status_code == 200 and response.get_data().startswith(b"PK")
    assert "attachment" in response.headers["Content-Disposition"]
    text = cells(response.get_data())
    assert any(env.number in c for c in text) and "21/BNV-HT" in text
    notes = next(c for c in text if c.startswith(env.number))
    assert notes.count("Hỏa tốc") == 1, notes
    assert not any(SUBJECT in c for c in text)


def test_the_incoming_register_prints_and_downloads(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    env = flash(ctx, network, clock)
    b = signed_in("vt_hcm")
    page = b.get("/clerk/incoming").get_data(as_text=True)
    assert 'id="incoming-pdf"' in page and 'id="incoming-xlsx"' in page
    pdf = get_pdf(b, f"/clerk/incoming/register.pdf?year={vn_year(clock.now)}")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.get_data())
    assert env.number in text and "21/BNV-HT" in text
    assert "Hỏa tốc" in text
    assert SUBJECT not in text and "Hỏa tốc; Hỏa tốc" not in text
    book = get_pdf(b, f"/clerk/incoming/register.xlsx?year={vn_year(clock.now)}")
    values = cells(book.get_data())
    notes = next(c for c in values if c.startswith(env.number))
    assert notes.count("Hỏa tốc") == 1, notes
    assert "21/BNV-HT" in values


def test_another_units_clerk_gets_an_empty_register(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    env = flash(ctx, network, clock)
    b = signed_in("vt_hn")
    for path in ("/clerk/incoming/register.xlsx", "/clerk/outgoing/register.xlsx"):
        values = cells(get_pdf(b, f"{path}?year={vn_year(clock.now)}").get_data())
        assert not any(env.number in v for v in values)
    text = pdf_text(get_pdf(b, f"/clerk/incoming/register.pdf?year={vn_year(clock.now)}"
                            ).get_data())
    assert env.number not in text
