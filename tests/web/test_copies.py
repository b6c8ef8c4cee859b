"""Copies on the registry clerk's pages (issue 12 item 1): the "Sao, chụp" form on an
original's page, the copy's page, the copy register on screen and on paper, the stamps; each
refused to another unit's clerk (reads and writes) and without a CSRF token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from kt1.models import Envelope
from kt1.services.context import Ctx
from kt1.services.copies import make_copies
from tests.conftest import Clock, Network, pdf_text
from tests.journey import register
from tests.web.conftest import Browser
from tests.web.pdf import get_pdf
from tests.years import registered_year


def copies_of(ctx: Ctx, original: Envelope) -> list[Envelope]:
    ctx.session.rollback()
    return list(ctx.session.execute(select(Envelope).where(
        Envelope.copy_of_id == original.id).order_by(Envelope.copy_no)).scalars())


def count_copies(ctx: Ctx) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count()).select_from(Envelope).where(
        Envelope.copy_of_id.is_not(None))).scalar_one())


def form(**kw: Any) -> dict[str, Any]:
    return {"approved_by": "head_bnv", "count": "2", "method": "photocopy",
            "recipient_unit": "", "recipient_name": "", **kw}


def test_a_clerk_makes_copies_from_the_originals_page(
        ctx: Ctx, network: Network, clock: Clock, signed_in: Any) -> None:
    original = register(ctx, network, document_number="88/KH-BNV",
                        subject="SUBJECT-SECRET-PLAN-42")
    ctx.session.commit()
    b: Browser = signed_in("vt_bnv")
    page = b.get(f"/clerk/envelopes/{original.number}").get_data(as_text=True)
    assert "Sao, chụp" in page and "Người cho phép sao, chụp" in page
    assert 'value="head_bnv"' in page and 'value="vt_bnv"' not in page  # entitled only

    done = b.post(f"/clerk/envelopes/{original.number}/copies", form())
    assert done.status_code == 303, done.get_data(as_text=True)
    made = copies_of(ctx, original)
    assert [c.copy_label for c in made] == ["Bản số 1/2", "Bản số 2/2"]
    page = b.get(f"/clerk/envelopes/{original.number}").get_data(as_text=True)
    assert "Bản số 1/2" in page and made[1].number in page

    # the copy's own page says what it copies
    copy_page = b.get(f"/clerk/envelopes/{made[0].number}").get_data(as_text=True)
    assert "Bản sao" in copy_page and "Bản số 1/2" in copy_page
    assert original.number in copy_page and "HEAD_BNV" in copy_page
    assert 'action="/clerk/envelopes/' + made[0].number + '/copies"' not in copy_page

    stamps = get_pdf(b, f"/clerk/envelopes/{original.number}/stamps.pdf")
    assert stamps.status_code == 200 and stamps.mimetype == "application/pdf"
    text = pdf_text(stamps.get_data())
    assert "BẢN SAO" in text and "Bản số 2/2" in text and "88/KH-BNV" in text
    assert "SUBJECT" not in text

    year = registered_year(ctx.session, made[0].number)  # the instant the copies were numbered
    book = b.get("/clerk/copies/").get_data(as_text=True)
    assert f"1/{year}" in book and f"2/{year}" in book and made[0].number in book
    assert "SUBJECT" not in book
    pdf = get_pdf(b, "/clerk/copies/register.pdf")
    assert pdf.status_code == 200
    text = pdf_text(pdf.get_data())
    assert "SỔ QUẢN LÝ SAO, CHỤP" in text and "Bản số 1/2" in text and "SUBJECT" not in text


def test_a_refused_copy_is_shown_next_to_its_field_and_writes_nothing(
        ctx: Ctx, network: Network, clock: Clock, signed_in: Any) -> None:
    original = register(ctx, network)
    forbidden = register(ctx, network, copy_forbidden=True)
    ctx.session.commit()
    b: Browser = signed_in("vt_bnv")
    b.get(f"/clerk/envelopes/{original.number}")
    wrong = b.post(f"/clerk/envelopes/{original.number}/copies",
                   form(approved_by="vt_bnv"))
    assert wrong.status_code == 422
    assert "Lựa chọn không hợp lệ" in wrong.get_data(as_text=True)  # not among the entitled
    bad = b.post(f"/clerk/envelopes/{original.number}/copies", form(count="0"))
    assert bad.status_code == 422 and "Từ 1 đến 99 bản" in bad.get_data(as_text=True)
    nowhere = b.post(f"/clerk/envelopes/{original.number}/copies",
                     form(recipient_unit="NOPE"))
    assert nowhere.status_code == 404 and "NOPE" in nowhere.get_data(as_text=True)
    no_csrf = b.post(f"/clerk/envelopes/{original.number}/copies", form(), csrf=False)
    assert no_csrf.status_code in (400, 422)
    page = b.get(f"/clerk/envelopes/{forbidden.number}").get_data(as_text=True)
    assert "Không được sao chụp" in page
    assert f'action="/clerk/envelopes/{forbidden.number}/copies"' not in page
    refused = b.post(f"/clerk/envelopes/{forbidden.number}/copies", form())
    assert refused.status_code == 409
    assert "Không được sao chụp" in refused.get_data(as_text=True)
    assert count_copies(ctx) == 0


def test_another_units_clerk_gets_not_found_for_reads_and_writes(
        ctx: Ctx, network: Network, clock: Clock, signed_in: Any) -> None:
    original = register(ctx, network)
    (c,) = make_copies(ctx, network["vt_bnv"], original.number, approved_by="head_bnv")
    ctx.session.commit()
    b: Browser = signed_in("vt_hn")
    for path in (f"/clerk/envelopes/{original.number}/stamps.pdf",
                 f"/clerk/envelopes/{c.number}/stamps.pdf",
                 f"/clerk/envelopes/{c.number}"):
        assert b.get(path).status_code == 404, path
    b.get("/clerk/copies/")
    write = b.post(f"/clerk/envelopes/{original.number}/copies",
                   form(approved_by="head_bnv", count="1"))
    assert write.status_code == 404
    book = b.get("/clerk/copies/").get_data(as_text=True)
    assert c.number not in book and original.number not in book
    assert count_copies(ctx) == 1
    officer: Browser = signed_in("bm_bnv")
    assert officer.get("/clerk/copies/").status_code == 403
    assert officer.get(f"/clerk/envelopes/{original.number}/stamps.pdf").status_code == 403
