"""``kt1 report statistics``: JSON counts by classification, movement and service, incidents
and months; the text table; the PDF and XLSX reports; refusals with their slug, exit 2."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook

from kt1.cli import common
from kt1.extensions import db
from kt1.services.context import Ctx, Settings
from tests.conftest import Clock, Network, pdf_text
from tests.services.test_statistics import NOVEMBER_TOTAL, build_scenario

NOVEMBER = ("--unit", "BNV", "--from", "2026-11-01", "--to", "2026-11-30")


def run(app: Flask, *args: str) -> Any:
    db.session.rollback()
    return app.test_cli_runner().invoke(args=["report", "statistics", *args],
                                        catch_exceptions=False)


@pytest.fixture
def scenario(monkeypatch: pytest.MonkeyPatch, ctx: Ctx, network: Network, clock: Clock,
             app: Flask) -> Any:
    def context() -> Ctx:
        return Ctx(session=db.session(), settings=Settings.from_mapping(app.config), now=clock)

    monkeypatch.setattr(common, "service_context", context)
    return build_scenario(ctx, network, clock)


def test_json(app: Flask, scenario: Any) -> None:
    result = run(app, *NOVEMBER, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["unit"]["code"] == "BNV"
    assert data["total"] == NOVEMBER_TOTAL
    assert data["by_movement"]["sent"] == {"top_secret": 1, "secret": 1, "confidential": 1,
                                           "unclassified": 0}
    assert data["by_movement"]["held"]["top_secret"] == 2
    assert data["by_classification"]["confidential"]["destroyed"] == 1
    assert data["by_service"]["flash"]["sent"] == 1
    assert data["incidents"] == {"seal_anomaly": 0, "discrepancy": 0, "loss": 0, "damage": 1}
    assert data["months"] == [{"month": "2026-11", "sent": 3, "received": 0, "copied": 1,
                               "declassified": 1, "destroyed": 1, "incidents": 1}]


def test_text_and_files(app: Flask, scenario: Any, tmp_path: Path) -> None:
    text = run(app, *NOVEMBER)
    assert text.exit_code == 0
    assert "Tổng cộng" in text.output and "Hư hỏng 1" in text.output
    pdf = tmp_path / "bc.pdf"
    assert run(app, *NOVEMBER, "-o", str(pdf)).exit_code == 0
    body = pdf_text(pdf.read_bytes())
    assert "BÁO CÁO THỐNG KÊ BÍ MẬT NHÀ NƯỚC" in body and "THỦ TRƯỞNG CƠ QUAN" in body
    xlsx = tmp_path / "bc.xlsx"
    assert run(app, *NOVEMBER, "-o", str(xlsx)).exit_code == 0
    rows = list(load_workbook(io.BytesIO(xlsx.read_bytes()))["Báo cáo"].iter_rows(
        values_only=True))
    total = next(r for r in rows if r[1] == "Tổng cộng")
    assert list(total[2:8]) == [2, 3, 0, 1, 1, 1]


def test_refusals(app: Flask, scenario: Any, tmp_path: Path) -> None:
    reversed_ = run(app, "--unit", "BNV", "--from", "2026-11-30", "--to", "2026-11-01")
    assert reversed_.exit_code == 2 and "Lỗi [period_reversed]" in reversed_.output
    too_long = run(app, "--unit", "BNV", "--from", "2010-01-01", "--to", "2026-11-01",
                   "--json")
    assert too_long.exit_code == 2
    assert json.loads(too_long.output)["error"] == "period_too_long"
    unknown = run(app, "--unit", "NOPE", "--from", "2026-11-01", "--to", "2026-11-30")
    assert unknown.exit_code == 2 and "[unknown_unit]" in unknown.output
    # as a user of another unit: the same answer as for a unit that does not exist
    other = run(app, *NOVEMBER, "--user", "bm_hcm")
    assert other.exit_code == 2 and "[unknown_unit]" in other.output
    assert other.output.replace("BNV", "X") == unknown.output.replace("NOPE", "X")
    clerk = run(app, *NOVEMBER, "--user", "vt_bnv")
    assert clerk.exit_code == 2 and "[forbidden]" in clerk.output
    wrong = run(app, *NOVEMBER, "-o", str(tmp_path / "bc.txt"))
    assert wrong.exit_code == 2 and "[invalid_field]" in wrong.output
    assert not (tmp_path / "bc.txt").exists()
    mine = run(app, *NOVEMBER, "--user", "bm_bnv", "--json")
    assert json.loads(mine.output)["total"] == NOVEMBER_TOTAL
