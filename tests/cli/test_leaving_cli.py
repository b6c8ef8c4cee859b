"""``kt1 user deactivate|move|holdings|handover`` (issue 11): refused with exit 2 and the
slug while the user holds anything; ``handover`` hands it all over on the receiver's PIN and
writes the handover record's PDF (numbers only, never a subject)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from kt1.extensions import db
from kt1.models import Envelope, User
from kt1.services.context import Ctx
from tests.conftest import PIN, Network
from tests.journey import register
from tests.web.pdf import pdf_text
from tests.years import handover_record_year


def run(app: Flask, *args: str) -> Any:
    db.session.rollback()
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def user(username: str) -> User:
    db.session.rollback()
    return db.session.execute(select(User).where(User.username == username)).unique().scalar_one()


def test_a_holder_is_refused_then_hands_over_and_leaves(
        app: Flask, ctx: Ctx, network: Network, tmp_path: Path) -> None:
    env = register(ctx, network, document_number="77/KH-BNV", subject="SUBJECT-SECRET-PLAN-42")
    held = json.loads(run(app, "user", "holdings", "vt_bnv", "--json").output)
    assert [e["number"] for e in held["envelopes"]] == [env.number]
    assert held["bags"] == [] and held["sheets"] == []
    assert env.number in run(app, "user", "holdings", "vt_bnv").output

    refused = run(app, "user", "deactivate", "vt_bnv")
    assert refused.exit_code == 2
    assert "Lỗi [user_holds_items]: vt_bnv đang giữ 1 bưu gửi" in refused.output
    moved = run(app, "user", "move", "vt_bnv", "--unit", "UBND-HN")
    assert moved.exit_code == 2 and "[user_holds_items]" in moved.output
    assert user("vt_bnv").is_active and user("vt_bnv").unit.code == "BNV"

    wrong = run(app, "user", "handover", "vt_bnv", "--to", "head_bnv", "--pin", "0000")
    assert wrong.exit_code == 2 and "[acknowledgement_invalid]" in wrong.output
    other = run(app, "user", "handover", "vt_bnv", "--to", "vt_hn", "--pin", PIN)
    assert other.exit_code == 2 and "[wrong_unit]" in other.output

    pdf = tmp_path / "bien-ban.pdf"
    done = run(app, "user", "handover", "vt_bnv", "--to", "head_bnv", "--pin", PIN,
               "-o", str(pdf))
    assert done.exit_code == 0, done.output
    number = done.stdout.splitlines()[0]
    assert number == f"BBG-BNV-{handover_record_year(db.session, number)}-00001"
    body = pdf.read_bytes()
    text = pdf_text(body)
    assert body.startswith(b"%PDF") and env.number.encode() in text
    assert number.encode() in text
    assert b"SUBJECT-SECRET" not in body and b"SUBJECT-SECRET" not in text
    db.session.rollback()
    moved_env = db.session.execute(select(Envelope).where(Envelope.number == env.number)
                                   ).unique().scalar_one()
    assert moved_env.holder_user_id == network["head_bnv"].id
    assert json.loads(run(app, "user", "holdings", "vt_bnv", "--json").output)["envelopes"] == []

    again = run(app, "user", "handover", "vt_bnv", "--to", "head_bnv", "--pin", PIN)
    assert again.exit_code == 2 and "[nothing_to_hand_over]" in again.output
    moved = run(app, "user", "move", "vt_bnv", "--unit", "UBND-HN")
    assert moved.exit_code == 0, moved.output
    assert user("vt_bnv").unit.code == "UBND-HN"
    assert run(app, "user", "deactivate", "vt_bnv").exit_code == 0
    assert not user("vt_bnv").is_active


def test_move_keeps_roles_in_their_kind_of_unit(app: Flask, network: Network) -> None:
    wrong = run(app, "user", "move", "vt_hn", "--unit", "BC-HN")
    assert wrong.exit_code == 2 and "[role_unit_mismatch]" in wrong.output
    done = run(app, "user", "move", "vt_hn", "--unit", "BC-HN", "--role", "courier")
    assert done.exit_code == 0, done.output
    assert "BC-HN" in done.output
    moved = user("vt_hn")
    assert (moved.unit.code, str(moved.role)) == ("BC-HN", "courier")
    unknown = run(app, "user", "holdings", "nobody")
    assert unknown.exit_code == 2 and "[unknown_user]" in unknown.output
