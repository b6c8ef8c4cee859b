"""``kt1 copy add|approvers|register`` (issue 12 item 1): copies printed with their number
and "Bản số n/N", refusals with exit 2 and the slug and nothing written, the copy stamps and
the copy register as PDFs (never a subject)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from kt1.extensions import db
from kt1.models import Envelope
from kt1.services.context import Ctx
from tests.conftest import Clock, Network, pdf_text
from tests.journey import register
from tests.years import registered_year


def run(app: Flask, *args: str) -> Any:
    db.session.rollback()
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def count_copies() -> int:
    db.session.rollback()
    return db.session.execute(select(func.count()).select_from(Envelope).where(
        Envelope.copy_of_id.is_not(None))).scalar_one()


def test_copy_add_prints_each_copy_and_writes_the_stamps(
        app: Flask, ctx: Ctx, network: Network, clock: Clock, tmp_path: Path) -> None:
    original = register(ctx, network, document_number="77/KH-BNV",
                        subject="SUBJECT-SECRET-PLAN-42")
    stamps = tmp_path / "stamps.pdf"
    done = run(app, "copy", "add", original.number, "--approved-by", "head_bnv",
               "--user", "vt_bnv", "--count", "2", "-o", str(stamps))
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert "Bản số 1/2" in lines[0] and "Bản số 2/2" in lines[1]
    numbers = [line.split()[0] for line in lines]
    assert original.number not in numbers and len(set(numbers)) == 2
    text = pdf_text(stamps.read_bytes())
    assert "BẢN SAO" in text and "Bản số 1/2" in text and "Bản số 2/2" in text
    assert "77/KH-BNV" in text and "HEAD_BNV" in text and "SUBJECT" not in text

    more = json.loads(run(app, "copy", "add", original.number, "--approved-by", "head_bnv",
                          "--user", "vt_bnv", "--method", "scan", "--json").output)
    assert [(c["copy_label"], c["method"]) for c in more["copies"]] == [("Bản số 3/3", "scan")]

    book = json.loads(run(app, "copy", "register", "--unit", "BNV", "--json").output)
    year = registered_year(db.session, numbers[0])  # the instant the copies were numbered
    assert [c["register_no"] for c in book["copies"]] == [f"1/{year}", f"2/{year}", f"3/{year}"]
    assert {c["original"] for c in book["copies"]} == {original.number}
    assert book["copies"][0]["approved_by"] == "head_bnv"
    pdf = tmp_path / "register.pdf"
    assert run(app, "copy", "register", "--unit", "BNV", "-o", str(pdf)).exit_code == 0
    text = pdf_text(pdf.read_bytes())
    assert "SỔ QUẢN LÝ SAO, CHỤP" in text and "SUBJECT" not in text
    assert "Bản số 3/3" in text


def test_refusals_print_the_slug_exit_2_and_write_nothing(
        app: Flask, ctx: Ctx, network: Network, clock: Clock) -> None:
    original = register(ctx, network)
    forbidden = register(ctx, network, copy_forbidden=True)
    cases = [
        ((original.number, "--approved-by", "vt_bnv", "--user", "vt_bnv"),
         "copy_approver_not_entitled"),
        ((original.number, "--approved-by", "head_hcm", "--user", "vt_hcm"),
         "unknown_envelope"),
        ((forbidden.number, "--approved-by", "head_bnv", "--user", "vt_bnv"),
         "copy_forbidden"),
        ((original.number, "--approved-by", "head_bnv", "--user", "vt_bnv", "--count", "0"),
         "invalid_field"),
        ((original.number, "--approved-by", "head_bnv", "--user", "vt_bnv", "--copy-no",
          "2"), "copy_number_out_of_sequence"),
    ]
    for args, slug in cases:
        result = run(app, "copy", "add", *args)
        assert result.exit_code == 2, (slug, result.output)
        assert f"[{slug}]" in result.output
        assert count_copies() == 0
    as_json = run(app, "copy", "add", original.number, "--approved-by", "vt_bnv", "--user",
                  "vt_bnv", "--json")
    assert as_json.exit_code == 2
    assert json.loads(as_json.output)["error"] == "copy_approver_not_entitled"


def test_copy_approvers_lists_adds_and_removes(
        app: Flask, ctx: Ctx, network: Network, clock: Clock) -> None:
    heads = json.loads(run(app, "copy", "approvers", "--unit", "BNV", "--json").output)
    assert heads == {"unit": "BNV", "source": "heads_of_unit", "approvers": [
        {"username": "head_bnv", "full_name": "HEAD_BNV"}]}
    added = json.loads(run(app, "copy", "approvers", "--unit", "BNV", "--add", "bm_bnv",
                           "--json").output)
    assert added["source"] == "listed"
    assert [a["username"] for a in added["approvers"]] == ["bm_bnv"]
    other = run(app, "copy", "approvers", "--unit", "BNV", "--add", "vt_hcm")
    assert other.exit_code == 2 and "[wrong_unit]" in other.output
    gone = json.loads(run(app, "copy", "approvers", "--unit", "BNV", "--remove", "bm_bnv",
                          "--json").output)
    assert gone["source"] == "heads_of_unit"
    assert "head_bnv" in run(app, "copy", "approvers", "--unit", "BNV").output
