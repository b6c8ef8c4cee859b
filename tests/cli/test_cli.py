"""The ``kt1`` command line against a real database (both backends)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from kt1 import demo
from kt1.extensions import db
from kt1.models import CopyApprover, Envelope, Handoff, HandoverRecord, Incident, Unit, User
from kt1.models.enums import (
    INTERNAL_EVENTS,
    AckMethod,
    Classification,
    EventKind,
    IncidentKind,
    Role,
    SealState,
)
from kt1.services.access import check_secret
from kt1.services.context import Ctx
from tests.conftest import Network
from tests.journey import PROVENANCE, register

KT1 = [sys.executable, "-m", "kt1"]


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


@pytest.mark.bare_db
def test_demo_fills_a_network_with_envelopes_in_every_stage(app: Flask) -> None:
    result = run(app, "demo", "--password", "demo-pass-123")
    assert result.exit_code == 0, result.output
    assert "demo-pass-123" in result.output
    session = db.session
    units = session.execute(select(Unit).where(Unit.code.in_(
        ["VPTU", "UBND-HN", "UBND-HCM", "CA-HCM", "BC-HK", "BC-BD", "BC-HCM"]))).scalars().all()
    assert len(units) == 7
    assert len({u.province_code for u in units}) == 2
    roles = set(session.execute(select(User.role)).scalars())
    assert roles == set(Role)
    count = session.execute(select(func.count(Envelope.id))).scalar_one()
    assert 55 <= count <= 90
    # an approved copy in transit, its approver configured for the unit (issue 12)
    copies = session.execute(select(Envelope).where(
        Envelope.copy_of_id.is_not(None))).unique().scalars().all()
    assert {c.copy_label for c in copies} >= {"Bản số 1/2", "Bản số 2/2"}
    assert any(str(c.status) == "in_transit" for c in copies)
    assert all(c.copy_approved_by_id and c.copy_approved_on for c in copies)
    assert session.execute(select(func.count(CopyApprover.id))).scalar_one() >= 1
    statuses = {str(s) for s in session.execute(select(Envelope.status)).scalars()}
    assert {"registered", "accepted", "bagged", "bag_sealed", "in_transit", "bag_received",
            "at_office", "out_for_delivery", "delivery_failed", "delivered", "arrived",
            "with_addressee", "returned", "recalled"} <= statuses
    classes = {str(c) for c in session.execute(select(Envelope.classification)).scalars()}
    assert classes == {"top_secret", "secret", "confidential", "unclassified"}
    # every Tuyệt mật and Tối mật envelope names its drafter, signer and basis
    secret = session.execute(select(Envelope).where(Envelope.classification.in_(
        ["top_secret", "secret"]))).unique().scalars().all()
    assert secret and all(e.drafter_name and e.signer_name and e.signer_title
                          and e.classification_basis for e in secret)
    assert any(e.drafter_user_id for e in secret)
    services = {str(c) for c in session.execute(select(Envelope.service)).scalars()}
    assert services == {"standard", "flash", "timed"}
    kinds = set(session.execute(select(Handoff.kind)).scalars())
    assert kinds >= INTERNAL_EVENTS  # internal circulation, docs/rules.md rule A7
    broken = session.execute(select(Incident).where(
        Incident.kind == IncidentKind.SEAL_ANOMALY)).scalars().all()
    assert len(broken) == 1 and broken[0].report
    assert broken[0].acknowledged_at is not None  # the head said "đã nắm"
    # a signed internal paper sheet was used as a receipt (docs/rules.md, rule A8)
    assert session.execute(select(func.count(Handoff.id)).where(
        Handoff.ack_method == AckMethod.PAPER)).scalar_one() >= 1
    # a person who left properly: everything handed over on a record, then locked
    left = session.execute(select(User).where(User.username == "chuyenvien2.ubndhcm")
                           ).unique().scalar_one()
    assert not left.is_active
    assert session.execute(select(func.count(Envelope.id)).where(
        Envelope.holder_user_id == left.id)).scalar_one() == 0
    record = session.execute(select(HandoverRecord).where(
        HandoverRecord.giver_id == left.id)).unique().scalar_one()
    assert len(record.items) == 2
    assert session.execute(select(func.count(Handoff.id)).where(
        Handoff.kind == EventKind.HANDED_OVER)).scalar_one() == 2
    assert session.execute(select(func.count(Handoff.id)).where(
        Handoff.seal_state == SealState.BROKEN)).scalar_one() >= 1

    # protection terms (docs/domain.md §8): every classified document has its term; one is
    # due for review at VPTU, one declassified, one destroyed by a council with a record
    assert session.execute(select(func.count(Envelope.id)).where(
        Envelope.classification != "unclassified",
        Envelope.protection_until.is_(None))).scalar_one() == 0
    secrecy = [str(s) for s in session.execute(select(Envelope.secrecy)).scalars()]
    assert secrecy.count("declassified") == 1 and secrecy.count("destroyed") == 1
    due = json.loads(run(app, "protection", "due", "--unit", "VPTU", "--json").output)
    assert [d["document_number"] for d in due] == ["45/BC-TU"]
    kinds = set(session.execute(select(Handoff.kind)).scalars())
    assert {EventKind.PROTECTION_EXTENDED, EventKind.DECLASSIFIED, EventKind.DESTROYED} <= kinds

    # a second run creates nothing new and only resets the passwords
    before = session.execute(select(func.count(Handoff.id))).scalar_one()
    session.rollback()
    again = run(app, "demo", "--password", "other-pass-1")
    assert again.exit_code == 0
    assert "other-pass-1" in again.output
    assert session.execute(select(func.count(Handoff.id))).scalar_one() == before
    clerk = session.execute(select(User).where(User.username == "vanthu.vptu")).scalar_one()
    assert check_secret(clerk.password_hash, "other-pass-1")


@pytest.mark.bare_db
def test_envelope_show_gives_the_complete_timeline_of_a_delivered_envelope(app: Flask) -> None:
    run(app, "demo")
    listing = json.loads(run(app, "envelope", "list", "--json").output)
    assert {"number", "sender", "recipient", "letter", "service", "status"} <= set(listing[0])
    arrived = next(e for e in listing if e["status"] == "arrived")
    shown = json.loads(run(app, "envelope", "show", arrived["number"], "--json").output)
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds[0] == "registered_outgoing"
    assert "accepted" in kinds and "delivered" in kinds
    assert kinds[-1] == "registered_incoming"
    assert [e["seq"] for e in shown["events"]] == list(range(len(kinds)))
    for before, after in zip(shown["events"], shown["events"][1:], strict=False):
        assert after["prev_hash"] == before["hash"]
        assert after["from"] == before["to"]
    assert "has_subject" in shown
    assert demo.SUBJECT_TEXT not in json.dumps(shown, ensure_ascii=False)


def test_envelope_show_gives_the_drafter_signer_and_basis_and_verify_passes(
        app: Flask, ctx: Ctx, network: Network) -> None:
    """Issue 11 item 4: the drafter with an account hands the document to the registry in
    the first link, and the chain still verifies."""
    envelope = register(ctx, network, drafter_username="bm_bnv", drafter_name=None)
    shown = json.loads(run(app, "envelope", "show", envelope.number, "--json").output)
    assert shown["drafter"] == {"name": "BM_BNV", "user": "bm_bnv"}
    assert shown["signer"] == {"name": PROVENANCE["signer_name"],
                               "title": PROVENANCE["signer_title"]}
    assert shown["classification_basis"] == PROVENANCE["classification_basis"]
    assert shown["events"][0]["from"] == {"unit": "BNV", "user": "bm_bnv"}
    text = run(app, "envelope", "show", envelope.number).output
    assert "Người soạn thảo: BM_BNV (bm_bnv)" in text
    assert f"Người ký: {PROVENANCE['signer_name']}, {PROVENANCE['signer_title']}" in text
    assert f"Căn cứ xác định độ mật: {PROVENANCE['classification_basis']}" in text
    assert "bm_bnv@BNV" in text  # the first link's giver
    verified = run(app, "verify", envelope.number)
    assert verified.exit_code == 0, verified.output
    old = register(ctx, network, classification=Classification.CONFIDENTIAL)
    shown = json.loads(run(app, "envelope", "show", old.number, "--json").output)
    assert (shown["drafter"], shown["signer"], shown["classification_basis"]) == (
        None, None, None)


def test_envelope_show_with_a_wrong_check_digit_prints_the_slug_and_fails(app: Flask) -> None:
    result = run(app, "envelope", "show", "KT000000011VN")
    assert result.exit_code == 2
    assert "check_digit_invalid" in result.output


def test_envelope_show_of_an_unknown_number_says_so_in_json(app: Flask) -> None:
    result = run(app, "envelope", "show", "KT999999995VN", "--json")
    assert result.exit_code == 2
    assert json.loads(result.output)["error"] == "unknown_envelope"


def test_unit_and_user_can_be_added_and_listed(app: Flask) -> None:
    added = run(app, "unit", "add", "SO-NV-DN", "--name", "Sở Nội vụ Đà Nẵng", "--kind",
                "agency", "--province-code", "48", "--province-name", "Đà Nẵng")
    assert added.exit_code == 0, added.output
    units = json.loads(run(app, "unit", "list", "--json").output)
    assert any(u["code"] == "SO-NV-DN" and u["name"] == "Sở Nội vụ Đà Nẵng" for u in units)
    user = run(app, "user", "add", "vanthu.dn", "--name", "Nguyễn Văn A", "--role",
               "registry_clerk", "--unit", "SO-NV-DN", "--password", "mat-khau-dai-1",
               "--pin", "1357")
    assert user.exit_code == 0, user.output
    users = json.loads(run(app, "user", "list", "--unit", "SO-NV-DN", "--json").output)
    assert [u["username"] for u in users] == ["vanthu.dn"]
    assert "mat-khau-dai-1" not in json.dumps(users)


def test_the_post_offices_serving_an_agency_are_set_listed_and_cleared(app: Flask) -> None:
    added = run(app, "unit", "add", "SO-NV-DN", "--name", "Sở Nội vụ Đà Nẵng", "--kind",
                "agency", "--province-code", "48", "--province-name", "Đà Nẵng")
    assert added.exit_code == 0, added.output

    def listed() -> dict[str, object]:
        return {u["code"]: u["serving_offices"]
                for u in json.loads(run(app, "unit", "list", "--json").output)}

    assert listed()["SO-NV-DN"] == [] and listed()["BNV"] == ["BC-HN"]
    assert listed()["BC-HN"] is None  # a post office is not served
    text = run(app, "unit", "list").output
    assert "served by" in text and "(chưa có)" in text
    assert ("Chưa có bưu cục KT1 nào phục vụ đơn vị này: bưu cục sẽ không nhận bưu gửi của "
            "đơn vị") in text

    served = run(app, "unit", "serve", "so-nv-dn", "BC-HN", "bc-hcm", "BC-HN")
    assert served.exit_code == 0, served.output
    assert "Đơn vị SO-NV-DN được phục vụ bởi: BC-HCM, BC-HN." in served.output
    assert listed()["SO-NV-DN"] == ["BC-HCM", "BC-HN"]
    line = next(x for x in run(app, "unit", "list").output.splitlines() if "SO-NV-DN" in x)
    assert line.rstrip().endswith("BC-HCM, BC-HN")

    cleared = run(app, "unit", "serve", "SO-NV-DN", "--none")
    assert cleared.exit_code == 0, cleared.output
    assert "bưu cục sẽ không nhận bưu gửi của đơn vị" in cleared.output
    assert listed()["SO-NV-DN"] == []


@pytest.mark.parametrize(("args", "slug"), [
    (["SO-X", "BC-HN"], "unknown_unit"),
    (["BNV", "NOPE"], "unknown_unit"),
    (["BNV", "UBND-HN"], "invalid_field"),  # not a post office
    (["BC-HN", "BC-HCM"], "invalid_field"),  # a post office is not served
    (["BNV"], "at least one post office"),
    (["BNV", "BC-HN", "--none"], "not both"),
])
def test_serving_offices_that_cannot_be_are_refused_and_nothing_changes(
        app: Flask, args: list[str], slug: str) -> None:
    result = run(app, "unit", "serve", *args)
    assert result.exit_code == 2
    assert slug in result.output
    served = {u["code"]: u["serving_offices"]
              for u in json.loads(run(app, "unit", "list", "--json").output)}
    assert served["BNV"] == ["BC-HN"]


def test_adding_a_unit_twice_is_refused(app: Flask) -> None:
    args = ["unit", "add", "X-1", "--name", "X", "--kind", "agency", "--province-code", "01",
            "--province-name", "Hà Nội"]
    assert run(app, *args).exit_code == 0
    again = run(app, *args)
    assert again.exit_code == 2
    assert "already_exists" in again.output


def test_user_in_an_unknown_unit_is_refused(app: Flask) -> None:
    result = run(app, "user", "add", "ai.do", "--name", "A", "--role", "courier", "--unit",
                 "NOPE", "--password", "long-enough-1")
    assert result.exit_code == 2
    assert "unknown_unit" in result.output


def test_the_kt1_script_starts_migrates_and_lists_on_a_fresh_instance(tmp_path: Path) -> None:
    env = {"KT1_DEMO": "1", "KT1_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin"}
    out = subprocess.run([*KT1, "envelope", "list"], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert "Chưa có bưu gửi nào" in out.stdout
    assert (tmp_path / "instance" / "kt1.sqlite3").exists()


def test_the_app_refuses_to_start_without_a_secret_key_outside_demo_mode(tmp_path: Path) -> None:
    env = {"KT1_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin"}
    out = subprocess.run([*KT1, "unit", "list"], env=env, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode != 0
    assert "KT1_SECRET_KEY is not set" in out.stderr
    assert "Traceback" not in out.stderr


def test_envelope_show_lists_label_prints_and_reprints_with_their_reason(
        app: Flask, tmp_path: Path) -> None:
    from kt1.database import service_context
    from tests.conftest import Network
    from tests.journey import register

    ctx = service_context()
    users = {u.username: u for u in db.session.execute(select(User)).unique().scalars()}
    envelope = register(ctx, Network(users=users, badges={}))
    uri = f"escpos+file://{tmp_path / 'printer.bin'}"
    first = run(app, "label", "print", envelope.number, "--printer", uri, "--user", "vt_bnv")
    assert first.exit_code == 0, first.output
    refused = run(app, "label", "print", envelope.number, "--printer", uri, "--user", "vt_bnv")
    assert refused.exit_code == 2 and "reprint_reason_required" in refused.output
    again = run(app, "label", "print", envelope.number, "--printer", uri, "--user", "vt_bnv",
                "--reason", "Nhãn bị nhòe")
    assert again.exit_code == 0, again.output
    shown = json.loads(run(app, "envelope", "show", envelope.number, "--json").output)
    assert [p["event"] for p in shown["prints"]] == ["label_printed", "label_reprinted"]
    assert shown["prints"][1]["reprint_reason"] == "Nhãn bị nhòe"
    assert shown["prints"][1]["user"] == "vt_bnv"
    text = run(app, "envelope", "show", envelope.number).output
    assert "lý do in lại: Nhãn bị nhòe" in text
