"""Acceptance at the counter warns about an envelope whose label was never printed: a
warning on the reconciliation and after signing, never a refusal."""

from __future__ import annotations

import uuid
from typing import Any

from kt1.models.enums import EnvelopeStatus
from kt1.services import printing
from kt1.services.context import Ctx
from tests.conftest import Network
from tests.web.test_counter import page, reload, sheet_of


def test_an_envelope_with_no_printed_label_is_accepted_with_a_warning(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    number, (labelled, bare) = sheet_of(ctx, network, 2)
    printer = f"q-{uuid.uuid4().hex[:6]}"
    printing.add_printer(ctx, None, printer, f"memory://{printer}")
    printing.print_label(ctx, network["vt_bnv"], labelled.number, printer=printer)
    b = signed_in("gd_hn")
    b.get(f"/counter/sheets/{number}")
    scanned = f"{labelled.number}\n{bare.number}"
    checked = page(b.post(f"/counter/sheets/{number}", {"scanned": scanned}))
    assert 'id="unprinted"' in checked
    warning = checked.split('id="unprinted"')[1].split("</p>")[0]
    assert bare.number in warning and labelled.number not in warning
    assert "Ký nhận 2 bưu gửi" in checked  # still signable
    signed = b.post(f"/counter/sheets/{number}/sign", {"scanned": scanned})
    assert signed.status_code == 303
    after = page(b.get(signed.headers["Location"]))
    assert "Đã ký nhận 2 bưu gửi" in after
    assert f"nhãn của {bare.number} chưa từng được in" in after
    assert reload(ctx, bare).status is EnvelopeStatus.ACCEPTED


def test_no_warning_when_every_label_was_printed(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    number, envelopes = sheet_of(ctx, network, 1)
    printer = f"q-{uuid.uuid4().hex[:6]}"
    printing.add_printer(ctx, None, printer, f"memory://{printer}")
    printing.print_label(ctx, network["vt_bnv"], envelopes[0].number, printer=printer)
    b = signed_in("gd_hn")
    b.get(f"/counter/sheets/{number}")
    checked = page(b.post(f"/counter/sheets/{number}", {"scanned": envelopes[0].number}))
    assert 'id="unprinted"' not in checked
    signed = b.post(f"/counter/sheets/{number}/sign", {"scanned": envelopes[0].number})
    assert "chưa từng được in" not in page(b.get(signed.headers["Location"]))
