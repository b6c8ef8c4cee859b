"""Self-inspection reports (issue 12, item 4): the checklist run against a unit's data, what
was fixed since the previous report, remediations tracked until closed, the head's signature,
and the refusals (another unit's report, unit or remediation is one that does not exist)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from kt1.errors import KT1Error
from kt1.models import Envelope, Remediation, SelfInspection, SelfInspectionItem, User
from kt1.models.enums import Classification, IncidentKind, Role
from kt1.services import directory, handover, incidents, paper
from kt1.services import inspection as svc
from kt1.services.context import Ctx
from tests.conftest import PASSWORD, Clock, Network
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def refused(slug: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> KT1Error:
    with pytest.raises(KT1Error) as info:
        fn(*args, **kw)
    assert info.value.slug == slug, info.value
    return info.value


def items(report: SelfInspection) -> dict[str, list[str]]:
    return {i.code: list(i.numbers) for i in report.items}


def counts(report: SelfInspection) -> dict[str, int]:
    return {i.code: i.count for i in report.items}


def item(report: SelfInspection, code: str) -> SelfInspectionItem:
    return next(i for i in report.items if i.code == code)


def open_remediation(ctx: Ctx, unit_id: int, code: str) -> Remediation | None:
    ctx.session.rollback()
    return ctx.session.execute(select(Remediation).where(
        Remediation.unit_id == unit_id, Remediation.code == code,
        Remediation.closed_in_id.is_(None))).unique().scalar_one_or_none()


def wrong_letter(ctx: Ctx, envelope: Envelope) -> None:
    """Tamper with the outer letter (a Tối mật document marked C instead of B)."""
    ctx.session.execute(update(Envelope).where(Envelope.id == envelope.id).values(mark="C"))
    ctx.session.commit()


def deactivate(ctx: Ctx, username: str) -> None:
    """Close an account behind the service's back (the refusal of the admin's page is what
    the self-inspection would have caught)."""
    ctx.session.execute(update(User).where(User.username == username).values(is_active=False))
    ctx.session.commit()


def build(ctx: Ctx, network: Network, clock: Clock) -> dict[str, Any]:
    """BNV: one of each thing its checklist looks for."""
    out: dict[str, Any] = {}
    out["sheet_env"] = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [out["sheet_env"].number], "BC-HN")
    paper.note_print(ctx, network["vt_bnv"], sheet)
    out["sheet"] = sheet.number
    out["bad_letter"] = register(ctx, network)
    wrong_letter(ctx, out["bad_letter"])
    leaver, _badge = directory.add_user(ctx, None, "vt2_bnv", "Lê Thị Nghỉ",
                                        Role.REGISTRY_CLERK, "BNV", PASSWORD, pin="1357")
    network.users["vt2_bnv"] = leaver
    out["left"] = register(ctx, network, clerk="vt2_bnv",
                           classification=Classification.CONFIDENTIAL)
    deactivate(ctx, "vt2_bnv")
    out["late"] = register(ctx, network)
    carry(ctx, network, clock, out["late"], until="accepted")
    incident = incidents.report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE,
                                         "Bì bị rách góc", number=out["sheet_env"].number)
    out["incident"] = str(incident.id)
    clock.now += timedelta(days=10)  # the delivery and the acknowledgement are late
    return out


def test_the_checklist_finds_each_item_with_its_numbers(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    made = build(ctx, network, clock)
    report = svc.run_self_inspection(ctx, network["bm_bnv"], "BNV")
    assert report.number == "TKT-BNV-2026-001"
    assert (report.period_from, report.period_to) == (date(2026, 1, 1), date(2026, 12, 3))
    assert report.run_by_id == network["bm_bnv"].id and report.previous_id is None
    assert [i.code for i in report.items] == [c.code for c in svc.CHECKLIST]
    assert items(report) == {
        "handover_unsigned": [made["sheet"]],
        "wrong_letter": [made["bad_letter"].number],
        "copy_unapproved": [],
        "protection_term_missing": [],
        "held_by_leaver": [made["left"].number],
        "delivery_overdue": [made["late"].number],
        "arrival_unregistered": [],
        "incident_open": [made["incident"]],
        "incident_unacknowledged": [made["incident"]],
    }
    assert all(i.fixed is None and i.new is None for i in report.items)
    assert len(report.digest) == 64
    # one open remediation for each item found, none for the clean ones
    ctx.session.rollback()
    rems = ctx.session.execute(select(Remediation).where(
        Remediation.opened_in_id == report.id)).unique().scalars().all()
    assert sorted(r.code for r in rems) == sorted(c for c, n in counts(report).items() if n)
    # a plain registry clerk of the unit is not an inspector; the head is
    refused("forbidden", svc.run_self_inspection, ctx, network["vt_bnv"], "BNV")
    head_view = svc.get_report(ctx, network["head_bnv"], report.number)
    assert head_view.id == report.id


def test_the_recipient_sees_its_unregistered_arrival_and_the_late_delivery(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    arrived = register(ctx, network)
    carry(ctx, network, clock, arrived, until="delivered")
    late = register(ctx, network)
    carry(ctx, network, clock, late, until="accepted")
    clock.now += timedelta(days=10)
    report = svc.run_self_inspection(ctx, network["head_hcm"], "UBND-HCM")
    assert report.number == "TKT-UBND-HCM-2026-001"
    assert items(report)["arrival_unregistered"] == [arrived.number]
    assert items(report)["delivery_overdue"] == [late.number]
    # the sender is not asked to register what it sent
    sender = svc.run_self_inspection(ctx, None, "BNV")
    assert items(sender)["arrival_unregistered"] == []
    assert items(sender)["delivery_overdue"] == [late.number]


def test_the_period_selects_what_happened_in_it(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    made = build(ctx, network, clock)
    # a period that ended before anything happened: only what the unit still holds counts
    early = svc.run_self_inspection(ctx, None, "BNV", date(2026, 1, 1), date(2026, 6, 30))
    assert items(early)["handover_unsigned"] == []
    assert items(early)["incident_open"] == []
    assert items(early)["held_by_leaver"] == [made["left"].number]
    assert items(early)["delivery_overdue"] == []  # held by the post office, not active then


def test_rerun_shows_what_was_fixed_and_remediations_are_tracked_until_closed(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    made = build(ctx, network, clock)
    bm, head = network["bm_bnv"], network["head_bnv"]
    unit_id = bm.unit_id
    first = svc.run_self_inspection(ctx, bm, "BNV")
    sheet_rem = open_remediation(ctx, unit_id, "handover_unsigned")
    letter_rem = open_remediation(ctx, unit_id, "wrong_letter")
    assert sheet_rem is not None and letter_rem is not None
    assert sheet_rem.opened_in_id == first.id
    svc.update_remediation(ctx, bm, sheet_rem.id, assignee_username="vt_bnv",
                           due_on=date(2026, 12, 10), note="Hủy bảng kê không dùng")
    ctx.session.rollback()
    got = ctx.session.get(Remediation, sheet_rem.id)
    assert (got.assignee, got.due_on, got.note) == ("VT_BNV", date(2026, 12, 10),
                                                    "Hủy bảng kê không dùng")
    svc.update_remediation(ctx, head, letter_rem.id, assignee_name="Tổ văn thư",
                           done_on=date(2026, 12, 3))
    ctx.session.rollback()
    got = ctx.session.get(Remediation, letter_rem.id)
    assert got.assignee == "Tổ văn thư" and not got.is_open and got.closed_in_id == first.id

    # fix two things: the sheet is withdrawn, the incident acknowledged and resolved
    handover.cancel_sheet(ctx, network["vt_bnv"], made["sheet"])
    incidents.acknowledge(ctx, head, int(made["incident"]))
    incidents.resolve_incident(ctx, bm, int(made["incident"]), "Đã lập biên bản, thay bì")
    clock.tick(60)
    second = svc.run_self_inspection(ctx, head, None)
    assert second.number == "TKT-BNV-2026-002" and second.previous_id == first.id
    assert item(second, "handover_unsigned").fixed == [made["sheet"]]
    assert item(second, "handover_unsigned").count == 0
    assert item(second, "incident_open").fixed == [made["incident"]]
    assert item(second, "incident_unacknowledged").fixed == [made["incident"]]
    assert item(second, "wrong_letter").fixed == []
    assert item(second, "wrong_letter").new == []
    assert item(second, "wrong_letter").numbers == [made["bad_letter"].number]
    # the sheet's remediation closes with the report that found the item clear
    ctx.session.rollback()
    got = ctx.session.get(Remediation, sheet_rem.id)
    assert got.closed_in_id == second.id and got.done_on == date(2026, 12, 3)
    assert open_remediation(ctx, unit_id, "handover_unsigned") is None
    # the letter was marked done but is still wrong: a new remediation is opened
    again = open_remediation(ctx, unit_id, "wrong_letter")
    assert again is not None and again.id != letter_rem.id and again.opened_in_id == second.id
    # an item still found keeps its one open remediation
    leaver = ctx.session.execute(select(Remediation).where(
        Remediation.code == "held_by_leaver")).unique().scalars().all()
    assert len(leaver) == 1 and leaver[0].opened_in_id == first.id and leaver[0].is_open

    # something new appears: listed as new, and its item gets a remediation
    fresh = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [fresh.number], "BC-HN")
    paper.note_print(ctx, network["vt_bnv"], sheet)
    third = svc.run_self_inspection(ctx, bm, "BNV")
    assert item(third, "handover_unsigned").new == [sheet.number]
    reopened = open_remediation(ctx, unit_id, "handover_unsigned")
    assert reopened is not None and reopened.opened_in_id == third.id
    # the report page shows, per item, the latest remediation opened by then
    assert svc.remediation_for(ctx, first, "handover_unsigned").id == sheet_rem.id
    assert svc.remediation_for(ctx, third, "handover_unsigned").id == reopened.id


def test_the_head_signs_once_and_the_report_does_not_change(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    build(ctx, network, clock)
    report = svc.run_self_inspection(ctx, network["bm_bnv"], "BNV")
    before = snapshot()
    refused("self_inspection_signer", svc.sign_report, ctx, network["bm_bnv"], report.number)
    refused("unknown_self_inspection", svc.sign_report, ctx, network["head_hcm"], report.number)
    assert snapshot() == before
    clock.tick()
    signed = svc.sign_report(ctx, network["head_bnv"], report.number, "Chánh Văn phòng")
    assert signed.signed_by_id == network["head_bnv"].id and signed.signed_at == clock.now
    assert (signed.signed_name, signed.signed_title) == ("HEAD_BNV", "Chánh Văn phòng")
    before = snapshot()
    error = refused("self_inspection_signed", svc.sign_report, ctx, network["head_bnv"],
                    report.number)
    assert "đã được ký" in error.message_local
    assert snapshot() == before
    # remediation goes on after the signature; the report's items stay as signed
    rem = open_remediation(ctx, network["bm_bnv"].unit_id, "held_by_leaver")
    assert rem is not None
    svc.update_remediation(ctx, network["bm_bnv"], rem.id, assignee_username="head_bnv",
                           due_on=date(2026, 12, 31))
    ctx.session.rollback()
    got = svc.get_report(ctx, network["bm_bnv"], report.number)
    assert got.digest == svc.content_digest(got, got.items) == report.digest


def test_a_report_altered_after_the_run_is_not_signed(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    build(ctx, network, clock)
    report = svc.run_self_inspection(ctx, None, "BNV")
    ctx.session.execute(update(SelfInspectionItem).where(
        SelfInspectionItem.inspection_id == report.id,
        SelfInspectionItem.code == "held_by_leaver").values(count=0, numbers=[]))
    ctx.session.commit()
    refused("self_inspection_altered", svc.sign_report, ctx, network["head_bnv"],
            report.number)
    ctx.session.rollback()
    assert ctx.session.get(SelfInspection, report.id).signed_at is None


def test_refusals_write_nothing_and_another_unit_is_a_unit_that_does_not_exist(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    build(ctx, network, clock)
    report = svc.run_self_inspection(ctx, network["bm_bnv"], "BNV")
    rem = open_remediation(ctx, network["bm_bnv"].unit_id, "wrong_letter")
    assert rem is not None
    before = snapshot()
    error = refused("period_reversed", svc.run_self_inspection, ctx, network["bm_bnv"], "BNV",
                    date(2026, 5, 1), date(2026, 4, 1))
    assert error.message_local == ("Kỳ báo cáo không hợp lệ: ngày kết thúc (01/04/2026) "
                                   "trước ngày bắt đầu (01/05/2026).")
    nowhere = refused("unknown_unit", svc.run_self_inspection, ctx, network["bm_bnv"], "KHONG")
    other = refused("unknown_unit", svc.run_self_inspection, ctx, network["bm_bnv"], "UBND-HN")
    assert nowhere.status == other.status == 404
    refused("unknown_unit", svc.reports_of, ctx, network["bm_hn"], "BNV")
    # reads: another unit's report is one never issued
    refused("unknown_self_inspection", svc.get_report, ctx, network["bm_hn"], report.number)
    refused("unknown_self_inspection", svc.get_report, ctx, network["bm_hn"],
            "TKT-BNV-2026-999")
    refused("forbidden", svc.get_report, ctx, network["vt_bnv"], report.number)
    # writes: signing, editing a remediation
    refused("unknown_self_inspection", svc.sign_report, ctx, network["head_hcm"],
            report.number)
    refused("unknown_remediation", svc.update_remediation, ctx, network["bm_hn"], rem.id,
            note="x")
    refused("unknown_remediation", svc.update_remediation, ctx, network["bm_hn"], 99999,
            note="x")
    refused("forbidden", svc.update_remediation, ctx, network["vt_bnv"], rem.id, note="x")
    refused("unknown_user", svc.update_remediation, ctx, network["bm_bnv"], rem.id,
            assignee_username="vt_hn")
    refused("invalid_field", svc.update_remediation, ctx, network["bm_bnv"], rem.id,
            done_on=date(2027, 1, 1))
    refused("invalid_field", svc.update_remediation, ctx, network["bm_bnv"], rem.id,
            due_on=date(2026, 1, 1))
    assert snapshot() == before
    svc.update_remediation(ctx, network["bm_bnv"], rem.id, done_on=date(2026, 12, 3))
    before = snapshot()
    refused("remediation_closed", svc.update_remediation, ctx, network["bm_bnv"], rem.id,
            note="sửa lại")
    assert snapshot() == before
    assert [r.number for r in svc.reports_of(ctx, network["head_bnv"])] == [report.number]
    assert svc.reports_of(ctx, network["bm_hcm"]) == []
