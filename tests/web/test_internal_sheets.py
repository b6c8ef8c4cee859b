"""Internal handover sheets on the clerk's pages (issue 11): make one for a colleague, print
it with its barcode (each print recorded), scan the barcode to open it, tick or scan each
line, then record the handoffs it covers signed on paper. Another unit never sees a sheet.
Printed sheets carry a Code 128 barcode of their number that zbar reads."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kt1.models import Envelope, Handoff, HandoverSheet
from kt1.models.enums import AckMethod, EventKind
from kt1.models.handover import SheetStatus
from kt1.models.paper import InternalSheet, SheetKind, SheetPrint
from kt1.services import handover
from kt1.services.context import Ctx
from tests.conftest import Clock, Network
from tests.journey import carry, register
from tests.printers.zbar import decode, need_zbar, pdf_pages
from tests.web.pdf import get_pdf, pdf_text


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def barcodes(pdf: bytes) -> list[tuple[str, str]]:
    need_zbar()
    return [found for image in pdf_pages(pdf, 200) for found in decode(image)]


def arrived(ctx: Ctx, net: Network, clock: Clock, **kw: Any) -> Envelope:
    envelope = register(ctx, net, **kw)
    carry(ctx, net, clock, envelope, until="arrived")
    return envelope


def prints(ctx: Ctx, number: str) -> list[SheetPrint]:
    ctx.session.rollback()
    return list(ctx.session.execute(select(SheetPrint).where(
        SheetPrint.sheet_number == number).order_by(SheetPrint.id)).unique().scalars())


def test_a_sheet_is_made_printed_with_its_barcode_scanned_ticked_and_passed_on_paper(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    one = arrived(ctx, network, clock, subject="SUBJECT-NOT-ON-PAPER")
    two = arrived(ctx, network, clock)
    clerk = signed_in("vt_hcm")
    listing = page(clerk.get("/clerk/internal/"))
    assert "Phiếu chuyển giao nội bộ" in listing and one.number in listing
    made = clerk.post("/clerk/internal/", {"receiver": "cv_hcm", "picked": [one.number],
                                           "scanned": two.number})
    assert made.status_code == 303, page(made)
    sheet = ctx.session.execute(select(InternalSheet)).unique().scalar_one()
    assert made.headers["Location"] == f"/clerk/internal/{sheet.number}"
    assert [line.envelope.number for line in sheet.lines] == [one.number, two.number]
    shown = page(clerk.get(made.headers["Location"]))
    assert "Chưa in" in shown and "Đánh dấu đã ký nhận" not in shown
    # the printed sheet: its number as Code 128, the items, never the subject
    pdf = get_pdf(clerk, f"/clerk/internal/{sheet.number}/sheet.pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert ("CODE-128", sheet.number) in barcodes(pdf.get_data())
    text = pdf_text(pdf.get_data())
    assert one.number.encode() in text and b"SUBJECT-NOT-ON-PAPER" not in text
    (printed,) = prints(ctx, sheet.number)
    assert (printed.kind, printed.printed_by_id, printed.items) == (
        SheetKind.INTERNAL, network["vt_hcm"].id, [one.number, two.number])
    # the receiver scans the sheet's barcode, then scans the one envelope she took
    receiver = signed_in("cv_hcm")
    receiver.get("/clerk/internal/")
    opened = receiver.post("/clerk/internal/scan", {"sheet": f" {sheet.number.lower()} "})
    assert opened.status_code == 303 and opened.headers["Location"].endswith(sheet.number)
    assert "Đánh dấu đã ký nhận" in page(receiver.get(opened.headers["Location"]))
    stray = receiver.post(f"/clerk/internal/{sheet.number}/sign",
                          {"scanned": register(ctx, network).number})
    assert stray.status_code == 422
    signed = receiver.post(f"/clerk/internal/{sheet.number}/sign", {"scanned": one.number})
    assert signed.status_code == 303, page(signed)
    ctx.session.expire_all()
    sheet = ctx.session.get(InternalSheet, sheet.id)
    assert sheet.status is SheetStatus.SIGNED
    assert [bool(line.ticked_at) for line in sheet.lines] == [True, False]
    # the clerk records the handoff the sheet covers: signed on paper with its number
    clerk.get(f"/clerk/internal/{sheet.number}")
    passed = clerk.post(f"/clerk/internal/{sheet.number}/pass")
    assert passed.status_code == 303
    ctx.session.rollback()
    last = ctx.session.execute(select(Handoff).where(Handoff.envelope_id == one.id)
                               .order_by(Handoff.seq.desc()).limit(1)).scalar_one()
    assert (last.kind, last.ack_method, last.ack_reference) == (
        EventKind.PASSED_TO_ADDRESSEE, AckMethod.PAPER, sheet.number)
    assert ctx.session.get(Envelope, two.id).holder_user_id == network["vt_hcm"].id


def test_another_units_sheet_answers_as_a_number_that_does_not_exist(
        signed_in: Any, ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = arrived(ctx, network, clock)
    clerk = signed_in("vt_hcm")
    clerk.get("/clerk/internal/")
    clerk.post("/clerk/internal/", {"receiver": "cv_hcm", "picked": [envelope.number]})
    number = ctx.session.execute(select(InternalSheet.number)).scalar_one()
    ghost = number[:-5] + "99999"
    other = signed_in("vt_bnv")
    for path in ("/clerk/internal/{}", "/clerk/internal/{}/sheet.pdf"):
        a = other.get(path.format(number))
        b = other.get(path.format(ghost))
        assert a.status_code == b.status_code == 404
        assert page(a).replace(number, "N") == page(b).replace(ghost, "N")
    other.get("/clerk/internal/")
    for name in ("sign", "cancel"):
        a = other.post(f"/clerk/internal/{number}/{name}", {"scanned": envelope.number})
        b = other.post(f"/clerk/internal/{ghost}/{name}", {"scanned": envelope.number})
        assert a.status_code == b.status_code == 404, name
    scanned = other.post("/clerk/internal/scan", {"sheet": number}, follow_redirects=True)
    assert "Không tìm thấy" in page(scanned)
    assert prints(ctx, number) == []


@pytest.mark.parametrize("username", ["gd_hn", "bt_hn", "admin"])
def test_the_pages_are_forbidden_to_post_office_roles_and_the_administrator(
        signed_in: Any, username: str) -> None:
    b = signed_in(username)
    b.get("/")
    for method, path in (("GET", "/clerk/internal/"), ("POST", "/clerk/internal/"),
                         ("POST", "/clerk/internal/scan"),
                         ("GET", "/clerk/internal/CG-X-2026-00001"),
                         ("GET", "/clerk/internal/CG-X-2026-00001/sheet.pdf"),
                         ("POST", "/clerk/internal/CG-X-2026-00001/sign"),
                         ("POST", "/clerk/internal/CG-X-2026-00001/pass"),
                         ("POST", "/clerk/internal/CG-X-2026-00001/cancel")):
        response = b.get(path) if method == "GET" else b.post(path, {})
        assert response.status_code == 403, (method, path, response.status_code)


def test_the_post_office_sheet_carries_its_barcode_and_each_print_is_recorded(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [envelope.number], "BC-HN")
    clerk = signed_in("vt_bnv")
    pdf = get_pdf(clerk, f"/clerk/handover/{sheet.number}/sheet.pdf")
    assert ("CODE-128", sheet.number) in barcodes(pdf.get_data())
    counter = signed_in("gd_hn")
    again = get_pdf(counter, f"/counter/sheets/{sheet.number}/sheet.pdf")
    assert again.status_code == 200
    recorded = prints(ctx, sheet.number)
    assert [(p.kind, p.printed_by_id, p.items) for p in recorded] == [
        (SheetKind.POST_OFFICE, network["vt_bnv"].id, [envelope.number]),
        (SheetKind.POST_OFFICE, network["gd_hn"].id, [envelope.number])]
    ctx.session.rollback()
    assert ctx.session.execute(select(func.count()).select_from(HandoverSheet)).scalar() == 1
