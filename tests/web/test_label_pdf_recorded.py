"""The clerk's "In ra PDF" label download is recorded as a print job (``label_pdf``, done):
the envelope's print history shows it, the counter is no longer warned that its label was
never printed, and printing on a label printer afterwards is no reprint. A user who may not
download the label gets the answer of a number never issued, and nothing is recorded."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import select

from kt1.models import PrintJob
from kt1.models.printing import PrintJobKind, PrintJobState
from kt1.services import printing
from kt1.services.context import Ctx
from tests.conftest import Network
from tests.web.pdf import get_pdf
from tests.web.test_counter import page, sheet_of


def jobs(ctx: Ctx, envelope_id: int) -> list[PrintJob]:
    ctx.session.rollback()
    found = list(ctx.session.execute(
        select(PrintJob).where(PrintJob.envelope_id == envelope_id).order_by(PrintJob.id)
    ).scalars())
    ctx.session.rollback()
    return found


def test_a_downloaded_pdf_label_counts_as_printed(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    number, (downloaded, bare) = sheet_of(ctx, network, 2)
    assert printing.unprinted_labels(ctx, [downloaded, bare]) == [downloaded.number, bare.number]
    clerk = signed_in("vt_bnv")
    pdf = get_pdf(clerk, f"/clerk/envelopes/{downloaded.number}/label.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    (job,) = jobs(ctx, downloaded.id)
    assert job.kind is PrintJobKind.LABEL_PDF and job.state is PrintJobState.DONE
    assert job.user_id == network["vt_bnv"].id and job.printer_name == "PDF"
    assert job.payload_sha256 == hashlib.sha256(pdf.get_data()).hexdigest()
    assert job.finished_at is not None and not job.is_reprint
    assert jobs(ctx, bare.id) == []
    assert printing.unprinted_labels(ctx, [downloaded, bare]) == [bare.number]

    # the envelope's print history says what happened
    history = page(clerk.get(f"/clerk/envelopes/{downloaded.number}"))
    assert "Tải nhãn PDF (in trên máy in văn phòng)" in history

    # the counter's reconciliation warns about the other one only
    counter = signed_in("gd_hn")
    counter.get(f"/counter/sheets/{number}")
    checked = page(counter.post(f"/counter/sheets/{number}",
                                {"scanned": f"{downloaded.number}\n{bare.number}"}))
    warning = checked.split('id="unprinted"')[1].split("</p>")[0]
    assert bare.number in warning and downloaded.number not in warning

    # a label printer afterwards: a first print on a label printer, no reason asked
    name = f"q-{uuid.uuid4().hex[:6]}"
    printing.add_printer(ctx, None, name, f"memory://{name}")
    printing.print_label(ctx, network["vt_bnv"], downloaded.number, printer=name)
    kinds = [(j.kind, j.is_reprint) for j in jobs(ctx, downloaded.id)]
    assert kinds == [(PrintJobKind.LABEL_PDF, False), (PrintJobKind.LABEL, False)]
    assert printing.reprints_without_reason(ctx, downloaded) == []


def test_each_download_is_recorded(signed_in: Any, ctx: Ctx, network: Network) -> None:
    _number, (env,) = sheet_of(ctx, network, 1)
    clerk = signed_in("vt_bnv")
    for _ in range(2):
        assert get_pdf(clerk, f"/clerk/envelopes/{env.number}/label.pdf").status_code == 200
    assert [j.kind for j in jobs(ctx, env.id)] == [PrintJobKind.LABEL_PDF] * 2


def test_no_download_and_nothing_recorded_for_those_who_may_not(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    _number, (env,) = sheet_of(ctx, network, 1)
    # an unrelated agency: as for a number never issued; the recipient's clerk may not
    assert signed_in("vt_hn").get(f"/clerk/envelopes/{env.number}/label.pdf").status_code \
        == signed_in("vt_hn").get("/clerk/envelopes/KT999999995VN/label.pdf").status_code \
        == 404
    assert signed_in("vt_hcm").get(f"/clerk/envelopes/{env.number}/label.pdf").status_code \
        in (403, 404)
    assert signed_in("gd_hn").get(f"/clerk/envelopes/{env.number}/label.pdf").status_code \
        in (403, 404)
    assert jobs(ctx, env.id) == []
