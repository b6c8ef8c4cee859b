"""Who drafted, who signed, why it is secret (issue 11 item 4) on the clerk's and the
security officer's pages: the register form refuses what the dated rule requires in
Vietnamese, next to the field; the envelope pages show what was recorded; the outgoing
register prints the signer in "Người ký" (docs/domain.md §5, §8)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kt1.models import Envelope, Handoff
from kt1.services import custody
from kt1.services.context import Ctx
from tests.conftest import Network, new_scan, pin
from tests.journey import register
from tests.web.pdf import get_pdf, pdf_text
from tests.web.test_clerk import count, now, page, register_form

#: ASCII and short, so that the PDF's text can be searched (tests/web/pdf.py) in a narrow
#: column without being broken across lines
SIGNER, TITLE = "SIGNER-42", "TITLE-42"
BASIS = "Khoan 2 Dieu 1 DANH-MUC-BASIS"


def test_the_form_asks_for_drafter_signer_and_basis_and_lists_the_units_people(
        signed_in: Any, network: Network) -> None:
    body = page(signed_in("vt_bnv").get("/clerk/envelopes/new"))
    for label in ("Người soạn thảo", "Người ký", "Chức vụ người ký",
                  "Căn cứ xác định độ mật"):
        assert label in body
    assert 'value="bm_bnv"' in body and 'value="vt_hcm"' not in body  # the unit's people
    assert "Không in ra nhãn." in body
    assert "phải ghi đủ với:\n      Tuyệt mật, Tối mật." in body  # today's rule


def test_a_secret_registration_without_a_basis_is_refused_in_vietnamese_next_to_the_field(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    b.get("/clerk/envelopes/new")
    response = b.post("/clerk/envelopes/new", register_form(
        classification_basis="", signer_name="Trần Văn Ký"))
    assert response.status_code == 422
    body = page(response)
    message = "Bưu gửi Tối mật phải ghi căn cứ xác định độ mật"
    assert message in body
    field = body[body.index('id="classification_basis"'):]
    assert message in field[:field.index("</div>")]  # under the field itself
    assert 'value="Trần Văn Ký"' in body  # what was typed is kept
    assert count(ctx, Envelope) == 0

    response = b.post("/clerk/envelopes/new", register_form(
        classification="top_secret", drafter_name="", drafter_username=""))
    assert response.status_code == 422
    assert "Bưu gửi Tuyệt mật phải ghi người soạn thảo" in page(response)
    assert count(ctx, Envelope) == 0


def test_a_mat_item_may_be_registered_without_them(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    b.get("/clerk/envelopes/new")
    response = b.post("/clerk/envelopes/new", register_form(
        classification="confidential", drafter_name="", signer_name="", signer_title="",
        classification_basis=""))
    assert response.status_code == 303, page(response)
    shown = page(b.get(response.headers["Location"]))
    assert shown.count("Không ghi") == 3


def test_what_was_recorded_shows_on_the_envelope_pages_and_the_drafter_gives_the_first_link(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    b.get("/clerk/envelopes/new")
    response = b.post("/clerk/envelopes/new", register_form(
        drafter_username="bm_bnv", drafter_name="", signer_name=SIGNER, signer_title=TITLE,
        classification_basis=BASIS))
    assert response.status_code == 303, page(response)
    envelope = ctx.session.execute(select(Envelope)).unique().scalar_one()
    assert envelope.drafter_user_id == network["bm_bnv"].id
    first = ctx.session.execute(select(Handoff).where(Handoff.envelope_id == envelope.id)
                                ).scalar_one()
    assert first.from_user_id == network["bm_bnv"].id
    shown = page(b.get(response.headers["Location"]))
    assert "BM_BNV (bm_bnv)" in shown
    assert f"{SIGNER} — {TITLE}" in shown and BASIS in shown
    officer = page(signed_in("bm_bnv").get(f"/officer/envelopes/{envelope.number}"))
    assert f"{SIGNER} — {TITLE}" in officer and BASIS in officer


def test_the_outgoing_register_prints_the_signer(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network, document_number="31/KH-BNV", signer_name=SIGNER,
                        signer_title=TITLE, classification_basis=BASIS)
    custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), now(),
                              giver_receipt=pin(network["vt_bnv"]))
    clerk = signed_in("vt_bnv")
    assert f"{SIGNER}, {TITLE}" in page(clerk.get("/clerk/outgoing"))
    text = pdf_text(get_pdf(clerk, "/clerk/outgoing/register.pdf").get_data())
    assert SIGNER.encode() in text and TITLE.encode() in text
    assert b"DANH-MUC-BASIS" not in text  # the register has no column for the basis

    officer = signed_in("bm_bnv")
    year = envelope.register_year
    assert f"{SIGNER}, {TITLE}" in page(officer.get(f"/officer/registers/outgoing?year={year}"))
    text = pdf_text(get_pdf(officer, f"/officer/registers/outgoing/export.pdf?year={year}").data)
    assert SIGNER.encode() in text
