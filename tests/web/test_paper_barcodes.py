"""Barcodes on paper (issue 13, item 5): every handover sheet, internal sheet, bag manifest and
handover record (biên bản bàn giao) carries the Code 128 of its number. Each PDF is fetched as
its users fetch it, rasterised with poppler's pdftoppm and read back with zbar."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from kt1.models.enums import AckMethod
from kt1.services import bagging, custody, handover, sheets
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.leaving import hand_over_all
from tests.conftest import PIN, Network, need, new_scan, pin
from tests.journey import register
from tests.printers.zbar import decode, need_zbar
from tests.web.pdf import get_pdf


def barcodes(pdf: bytes, dpi: int = 200) -> list[tuple[str, str]]:
    """Every barcode zbar reads on every page, rasterised by pdftoppm."""
    need_zbar()
    need(shutil.which("pdftoppm") is not None, "pdftoppm (poppler-utils) is not installed")
    found: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "paper.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(source),
                        str(Path(tmp) / "page")], check=True, timeout=60)
        for png in sorted(Path(tmp).glob("page*.png")):
            with Image.open(png) as image:
                found += decode(image)
    return found


def fetched(b: Any, path: str) -> bytes:
    response = get_pdf(b, path)
    assert response.status_code == 200, path
    body: bytes = response.get_data()
    assert body.startswith(b"%PDF")
    return body


@pytest.fixture
def paper(ctx: Ctx, network: Network) -> dict[str, str]:
    """One of each: a handover sheet, an internal sheet, a dispatched bag, a handover record."""
    listed = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [listed.number], "BC-HN").number
    mine = register(ctx, network, clerk="vt_hcm", recipient="BNV")
    internal = sheets.prepare_internal_sheet(ctx, network["vt_hcm"], "cv_hcm",
                                             [mine.number]).number
    bagged = register(ctx, network)
    now = datetime.now(UTC)
    custody.accept_at_counter(ctx, network["gd_hn"], bagged.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), now,
                              giver_receipt=pin(network["vt_bnv"]))
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    bagging.add_to_bag(ctx, network["gd_hn"], bag, bagged.number, new_scan(), now)
    register(ctx, network, clerk="cv_hcm", recipient="BNV")
    record = hand_over_all(ctx, None, "cv_hcm", "head_hcm", Receipt(
        user=network["head_hcm"], method=AckMethod.PIN, secret=PIN)).number
    return {"sheet": sheet, "internal": internal, "bag": bag, "record": record}


def test_every_sheet_manifest_and_record_carries_the_code_128_of_its_number(
        signed_in: Any, paper: dict[str, str]) -> None:
    clerk, counter = signed_in("vt_bnv"), signed_in("gd_hn")
    printed = {
        "sheet": fetched(clerk, f"/clerk/handover/{paper['sheet']}/sheet.pdf"),
        "counter-sheet": fetched(counter, f"/counter/sheets/{paper['sheet']}/sheet.pdf"),
        "internal": fetched(signed_in("vt_hcm"),
                            f"/clerk/internal/{paper['internal']}/sheet.pdf"),
        "bag": fetched(counter, f"/counter/bags/{paper['bag']}/manifest.pdf"),
        "record": fetched(signed_in("admin"),
                          f"/admin/handover-records/{paper['record']}.pdf"),
    }
    for kind, pdf in printed.items():
        number = paper["sheet" if kind == "counter-sheet" else kind]
        assert ("CODE-128", number) in barcodes(pdf), kind


def test_each_barcode_read_back_opens_its_page_through_the_header_search(
        signed_in: Any, paper: dict[str, str]) -> None:
    counter = signed_in("gd_hn")
    manifest = fetched(counter, f"/counter/bags/{paper['bag']}/manifest.pdf")
    (read,) = [data for kind, data in barcodes(manifest) if kind == "CODE-128"]
    assert counter.get(f"/lookup?q={read}").headers["Location"] == f"/counter/bags/{read}"
    record = fetched(signed_in("admin"), f"/admin/handover-records/{paper['record']}.pdf")
    (read,) = [data for kind, data in barcodes(record) if kind == "CODE-128"]
    assert signed_in("admin").get(f"/lookup?q={read}").headers["Location"] == (
        f"/admin/handover-records/{read}")
