"""``kt1 report self-inspection`` (issue 12, item 4): the stored report printed, as JSON (one
entry per checklist item with its code, count and numbers, and what was fixed since), and as
a PDF; refusals print the slug and the Vietnamese message and exit non-zero."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kt1.extensions import db
from kt1.models import SelfInspection
from kt1.services import handover
from kt1.services import inspection as svc
from kt1.services.context import Ctx
from tests.conftest import Clock, Network, pdf_text
from tests.services.test_inspection import build
from tests.years import inspection, vn_year


def run(app: Flask, *args: str) -> Any:
    db.session.rollback()
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def stored(ctx: Ctx) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count(SelfInspection.id))).scalar_one())


def test_json_lists_each_item_and_a_rerun_shows_what_was_fixed(
        app: Flask, ctx: Ctx, network: Network, clock: Clock, tmp_path: Path) -> None:
    made = build(ctx, network, clock)
    # the data was made by the test's clock, the command runs on the real one: the period
    # starts on 1 January of the data's year and the numbers carry the year of each run
    made_in = vn_year(clock.now)
    since = ("--from", f"{made_in}-01-01")
    bnv = network["bm_bnv"].unit_id
    out = run(app, "report", "self-inspection", "--unit", "BNV", *since, "--json")
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    first = inspection(ctx.session, bnv)
    assert data["number"] == f"TKT-BNV-{vn_year(first.run_at)}-001" and data["unit"] == "BNV"
    entries = {e["code"]: e for e in data["items"]}
    assert [e["code"] for e in data["items"]] == [c.code for c in svc.CHECKLIST]
    assert entries["handover_unsigned"]["count"] == 1
    assert entries["handover_unsigned"]["numbers"] == [made["sheet"]]
    assert entries["held_by_leaver"]["numbers"] == [made["left"].number]
    assert entries["copy_unapproved"] == {**entries["copy_unapproved"], "count": 0,
                                          "numbers": []}
    assert entries["handover_unsigned"]["fixed_since"] is None
    assert entries["handover_unsigned"]["remediation"]["open"] is True

    handover.cancel_sheet(ctx, network["vt_bnv"], made["sheet"])
    pdf = tmp_path / "tkt.pdf"
    again = run(app, "report", "self-inspection", "--unit", "bnv", *since,
                "--to", f"{made_in}-12-31", "--json", "-o", str(pdf))
    assert again.exit_code == 0, again.output
    entries = {e["code"]: e for e in json.loads(again.output)["items"]}
    assert entries["handover_unsigned"] == {**entries["handover_unsigned"], "count": 0,
                                            "numbers": [], "fixed_since": [made["sheet"]]}
    text = pdf_text(pdf.read_bytes())
    second = inspection(ctx.session, bnv)
    assert second.number in text and f"31/12/{made_in}" in text and made["sheet"] in text

    plain = run(app, "report", "self-inspection", "--unit", "BNV", *since)
    assert plain.exit_code == 0
    third = inspection(ctx.session, bnv)
    assert plain.output.splitlines()[0] == third.number
    assert [r.number for r in (first, second, third)] == [
        f"TKT-BNV-{vn_year(r.run_at)}-00{n}" for n, r in enumerate((first, second, third), 1)]
    assert made["left"].number in plain.output


def test_refusals_print_the_slug_and_write_nothing(
        app: Flask, ctx: Ctx, network: Network) -> None:
    reversed_ = run(app, "report", "self-inspection", "--unit", "BNV", "--from", "2026-05-01",
                    "--to", "2026-04-01")
    assert reversed_.exit_code == 2
    assert ("Lỗi [period_reversed]: Kỳ báo cáo không hợp lệ: ngày kết thúc (01/04/2026) "
            "trước ngày bắt đầu (01/05/2026).") in reversed_.output
    unknown = run(app, "report", "self-inspection", "--unit", "KHONG-CO", "--json")
    assert unknown.exit_code == 2
    assert json.loads(unknown.output)["error"] == "unknown_unit"
    assert stored(ctx) == 0


@pytest.mark.bare_db
def test_the_demo_has_a_signed_report_with_one_remediation_open_and_one_closed(
        app: Flask, ctx: Ctx) -> None:
    from kt1.models import Remediation

    built = run(app, "demo", "--password", "demo-pass-123")
    assert built.exit_code == 0, built.output
    ctx.session.rollback()
    reports = ctx.session.execute(select(SelfInspection).order_by(SelfInspection.id)
                                  ).unique().scalars().all()
    assert [r.number[:13] for r in reports] == ["TKT-UBND-HCM-"] * 2
    first, second = reports
    assert second.previous_id == first.id and second.signed_name == "Bùi Văn Thắng"
    assert first.signed_at is None
    fixed = {i.code: i.fixed for i in second.items}
    assert fixed["incident_open"] and len(fixed["incident_open"]) == 1
    rems = ctx.session.execute(select(Remediation)).unique().scalars().all()
    closed = [r for r in rems if not r.is_open]
    still = [r for r in rems if r.is_open]
    assert [r.code for r in closed] == ["incident_open"]
    assert closed[0].closed_in_id == second.id and closed[0].assignee == "Trịnh Văn Long"
    assert "delivery_overdue" in [r.code for r in still]
    assert all(r.due_on is not None for r in rems if r.code in (
        "incident_open", "delivery_overdue"))
