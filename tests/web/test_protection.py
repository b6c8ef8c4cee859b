"""Protection terms on screen (docs/domain.md §8): the registration form's term fields, the
"due for review" page, and the forms on a document's page to extend, declassify and
destroy it; refusals in Vietnamese with nothing written, another unit answered as for a
number never issued."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select

from kt1.models import Envelope, ProtectionDecision
from kt1.models.enums import Classification, EnvelopeStatus, Secrecy
from kt1.services.context import Ctx
from kt1.services.identifiers import format_number
from tests.conftest import Clock, Network
from tests.journey import carry, register
from tests.web.test_clerk import register_form

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def stored(ctx: Ctx, number: str | None = None) -> Envelope:
    ctx.session.rollback()
    stmt = select(Envelope).order_by(Envelope.id.desc()).limit(1)
    if number:
        stmt = select(Envelope).where(Envelope.number == number)
    return ctx.session.execute(stmt).unique().scalar_one()


def test_the_registration_form_records_the_term_and_the_no_copy_mark(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("vt_bnv")
    form = page(b.get("/clerk/envelopes/new"))
    assert "Ngày xác định độ mật" in form and "Thời hạn bảo vệ đến" in form
    assert "Không được sao chụp" in form and "10 năm" in form and "30 năm" in form
    response = b.post("/clerk/envelopes/new", register_form(
        classification="confidential", document_date="2026-11-20",
        classified_on="2026-11-18", protection_until="2028-11-18", copy_forbidden="y"))
    assert response.status_code == 303, page(response)
    env = stored(ctx)
    assert (env.classified_on, env.protection_until, env.copy_forbidden) == (
        date(2026, 11, 18), date(2028, 11, 18), True)
    # left empty: the document's date and the rule's term
    response = b.post("/clerk/envelopes/new", register_form(classification="secret"))
    assert response.status_code == 303, page(response)
    env = stored(ctx)
    assert (env.classified_on, env.protection_until, env.copy_forbidden) == (
        date(2026, 11, 20), date(2046, 11, 20), False)


def test_a_term_longer_than_the_rule_is_refused_next_to_its_field(
        signed_in: Any, ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    b = signed_in("vt_bnv")
    b.get("/clerk/envelopes/new")
    before = snapshot()
    response = b.post("/clerk/envelopes/new", register_form(
        classification="confidential", document_date="2026-11-20",
        protection_until="2040-01-01"))
    assert response.status_code == 422
    body = page(response)
    assert "dài hơn quy định cho phép" in body and "2036-11-20" in body
    assert snapshot() == before


def test_decisions_on_the_envelope_page(signed_in: Any, ctx: Ctx, network: Network,
                                        clock: Clock, snapshot: Snapshot) -> None:
    env = register(ctx, network, classification=Classification.CONFIDENTIAL,
                   document_date=date(2026, 1, 5))
    carry(ctx, network, clock, env)  # rests with vt_hcm
    b = signed_in("vt_hcm")
    shown = page(b.get(f"/clerk/envelopes/{env.number}"))
    assert "Thời hạn bảo vệ" in shown and "05/01/2036" in shown
    assert 'id="protection-extend"' in shown and 'id="protection-destroy"' in shown

    before = snapshot()
    short = b.post(f"/protection/envelopes/{env.number}/extend", {
        "extend-decision_number": "15/QĐ-UBND", "extend-decided_by": "Nguyễn Văn Quyết",
        "extend-new_until": "2030-01-01"})
    assert short.status_code == 422
    assert "Gia hạn phải kéo dài thời hạn bảo vệ" in page(short)
    assert snapshot() == before
    done = b.post(f"/protection/envelopes/{env.number}/extend", {
        "extend-decision_number": "15/QĐ-UBND", "extend-decided_by": "Nguyễn Văn Quyết",
        "extend-decided_by_title": "Chủ tịch", "extend-new_until": "2041-01-05"})
    assert done.status_code == 303, page(done)
    assert stored(ctx, env.number).protection_until == date(2041, 1, 5)
    shown = page(b.get(f"/clerk/envelopes/{env.number}"))
    assert "Đã gia hạn thời hạn bảo vệ đến 05/01/2041." in shown
    assert "Gia hạn thời hạn bảo vệ" in shown and "15/QĐ-UBND" in shown

    b.get(f"/clerk/envelopes/{env.number}")
    part = b.post(f"/protection/envelopes/{env.number}/declassify", {
        "declassify-decision_number": "16/QĐ-UBND", "declassify-decided_by": "Nguyễn Văn Quyết",
        "declassify-partial": "y", "declassify-scope_note": "Phụ lục 2"})
    assert part.status_code == 303, page(part)
    assert stored(ctx, env.number).secrecy is Secrecy.PARTLY_DECLASSIFIED

    b.get(f"/clerk/envelopes/{env.number}")
    before = snapshot()
    alone = b.post(f"/protection/envelopes/{env.number}/destroy", {
        "destroy-decision_number": "17/QĐ-UBND", "destroy-decided_by": "Nguyễn Văn Quyết",
        "destroy-council_members": "Trần Văn An", "destroy-record_number": "BB-01"})
    assert alone.status_code == 422
    assert "hội đồng tiêu hủy" in page(alone)
    assert snapshot() == before
    gone = b.post(f"/protection/envelopes/{env.number}/destroy", {
        "destroy-decision_number": "17/QĐ-UBND", "destroy-decided_by": "Nguyễn Văn Quyết",
        "destroy-council_members": "Trần Văn An\r\nLê Thị Bình\r\nPhạm Văn Cường",
        "destroy-record_number": "BB-01"})
    assert gone.status_code == 303, page(gone)
    env = stored(ctx, env.number)
    assert env.status is EnvelopeStatus.DESTROYED
    shown = page(b.get(f"/clerk/envelopes/{env.number}"))
    assert "Đã tiêu hủy" in shown and "Trần Văn An, Lê Thị Bình, Phạm Văn Cường" in shown
    assert 'id="protection-destroy"' not in shown  # nothing more to decide


def test_another_unit_gets_the_unknown_number_page_for_reads_and_writes(
        signed_in: Any, ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    env = register(ctx, network)  # BNV -> UBND-HCM, never shown to UBND-HN
    never = format_number("KT", 999_999, "VN")
    b = signed_in("vt_hn")
    before = snapshot()
    for number in (env.number, never):
        b.get("/protection/due")
        response = b.post(f"/protection/envelopes/{number}/destroy", {
            "destroy-decision_number": "1", "destroy-decided_by": "A",
            "destroy-council_members": "A\nB", "destroy-record_number": "BB-1"})
        assert response.status_code == 404
        assert b.get(f"/clerk/envelopes/{number}").status_code == 404
    assert snapshot() == before
    assert ctx.session.execute(select(func.count(ProtectionDecision.id))).scalar_one() == 0


def test_the_due_page_lists_the_units_documents_with_an_empty_state(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("bm_hn")
    body = page(b.get("/protection/due"))
    assert "Không có tài liệu nào sắp hết thời hạn bảo vệ" in body
    assert "Thời hạn bảo vệ" in body  # the nav link
    env = register(ctx, network, classification=Classification.CONFIDENTIAL,
                   document_date=date(2019, 3, 1), protection_until=date(2027, 2, 1))
    far = register(ctx, network, classification=Classification.CONFIDENTIAL,
                   document_date=date(2026, 3, 1))
    for user in ("vt_bnv", "bm_bnv"):
        body = page(signed_in(user).get("/protection/due"))
        assert env.number in body and far.number not in body and "01/02/2027" in body
    assert far.number in page(signed_in("bm_bnv").get("/protection/due?within=240"))
    assert env.number not in page(b.get("/protection/due"))
    assert signed_in("gd_hn").get("/protection/due").status_code == 403
