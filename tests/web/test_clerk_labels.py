"""The label from the web: a PNG preview on the clerk's envelope page (exactly what the
printer gets, so never the subject), and "In ra PDF" when no printer is declared yet."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image

from kt1.labels import render_label
from kt1.models.enums import ServiceClass, Urgency
from kt1.services import printing
from kt1.services.context import Ctx
from kt1.services.printing import label_data
from tests.conftest import Clock, Network, pdf_text
from tests.journey import register
from tests.web.pdf import get_pdf

SUBJECT = "SUBJECT-LABEL-PREVIEW-5"


@pytest.fixture
def before_2026(clock: Clock) -> Clock:
    """Under Decree 26/2020 a subject may be recorded."""
    clock.now = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    return clock


def test_the_preview_is_the_printed_label_and_carries_no_subject(
        signed_in: Any, ctx: Ctx, network: Network, before_2026: Clock) -> None:
    env = register(ctx, network, subject=SUBJECT, urgency=Urgency.VERY_URGENT,
                   service=ServiceClass.FLASH)
    b = signed_in("vt_bnv")
    body = b.get(f"/clerk/envelopes/{env.number}").get_data(as_text=True)
    assert f'src="/clerk/envelopes/{env.number}/label.png"' in body
    response = get_pdf(b, f"/clerk/envelopes/{env.number}/label.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script" not in policy
    png = response.get_data()
    assert SUBJECT.encode() not in png
    expected = render_label(label_data(env), 80)
    assert "THƯỢNG KHẨN" in expected.lines and SUBJECT not in "\n".join(expected.lines)
    assert Image.open(io.BytesIO(png)).tobytes() == expected.image.tobytes()
    narrow = Image.open(io.BytesIO(
        get_pdf(b, f"/clerk/envelopes/{env.number}/label.png?width=58").get_data()))
    assert narrow.width == 384


def test_the_recipients_clerk_may_not_preview_and_another_unit_finds_nothing(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    env = register(ctx, network)
    assert signed_in("vt_hcm").get(f"/clerk/envelopes/{env.number}/label.png").status_code in (
        403, 404)
    assert signed_in("vt_hn").get(f"/clerk/envelopes/{env.number}/label.png").status_code == 404
    assert signed_in("gd_hn").get(f"/clerk/envelopes/{env.number}/label.png").status_code == 403


def test_without_a_printer_the_clerk_prints_to_pdf(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    assert printing.list_printers(ctx) == []
    env = register(ctx, network, document_number="31/BNV-PDF")
    b = signed_in("vt_bnv")
    body = b.get(f"/clerk/envelopes/{env.number}").get_data(as_text=True)
    assert "Chưa có máy in nào được khai báo" in body
    assert f'href="/clerk/envelopes/{env.number}/label.pdf"' in body and "In ra PDF" in body
    assert "/admin/printers" in body  # where the administrator declares one
    pdf = get_pdf(b, f"/clerk/envelopes/{env.number}/label.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert env.number in pdf_text(pdf.get_data())
