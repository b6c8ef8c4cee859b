"""Incidents reach the head of the unit (issue 11 item 5; docs/rules.md rule T2): the inbox
of the heads of the units involved and of the sender's security officers, the notice marked
when they open it, the acknowledgement, refusals, and the email notices over SMTP."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import update

from kt1.errors import UnknownIncidentError
from kt1.models import Incident, User
from kt1.models.enums import IncidentKind, SealState
from kt1.services import bagging
from kt1.services import incidents as svc
from kt1.services.context import Ctx
from kt1.services.incidents import report_incident
from tests.conftest import Clock, Network, new_scan, pin
from tests.fakes.smtp import smtp_server
from tests.journey import carry, register

REPORT = "Dây niêm phong bị đứt, buộc lại bằng dây khác"


def broken_seal(ctx: Ctx, net: Network, clock: Clock) -> tuple[Any, Incident]:
    """BNV's envelope in a bag from BC-HN, received broken at BC-HCM: a bag incident."""
    env = register(ctx, net)
    out = carry(ctx, net, clock, env, until="dispatched")
    result = bagging.receive_bag(
        ctx, net["gd_hcm"], out["bag"], net["bt_hn"], "NP-000123", pin(net["gd_hcm"]),
        new_scan(), clock.tick(60), seal_state=SealState.BROKEN, incident_report=REPORT,
        courier_receipt=pin(net["bt_hn"]))
    assert result.incident is not None
    return env, result.incident


def make_head(ctx: Ctx, user: User) -> None:
    ctx.session.execute(update(User).where(User.id == user.id).values(is_unit_head=True))
    ctx.session.commit()
    ctx.session.refresh(user)


def inbox_ids(ctx: Ctx, user: User) -> list[int]:
    return [row.id for row in svc.inbox(ctx, user)]


def test_an_incident_is_in_the_inbox_of_the_heads_involved_and_the_senders_officer(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    # not stamped at creation: nobody has seen it yet
    assert incident.head_notified_at is None and incident.sender_notified_at is None
    assert incident.acknowledged_at is None
    make_head(ctx, network["gd_hcm"])  # the head of the reporting office, which holds the bag
    for name in ("head_bnv", "bm_bnv", "gd_hcm"):
        assert inbox_ids(ctx, network[name]) == [incident.id], name
        assert svc.unacknowledged_count(ctx, network[name]) == 1, name
    # not the recipient agency, nor a clerk, nor a head of an uninvolved unit
    for name in ("head_hcm", "bm_hcm", "vt_bnv", "bm_hn", "gd_hn", "admin"):
        assert inbox_ids(ctx, network[name]) == [], name
        assert svc.unacknowledged_count(ctx, network[name]) == 0, name
    assert {u.username for u in svc.recipients(ctx, incident)} == {
        "head_bnv", "bm_bnv", "gd_hcm"}
    row = svc.inbox(ctx, network["head_bnv"])[0]
    assert row.bag_number is not None and row.unit_code == "BC-HCM"
    assert REPORT not in repr(row)  # the list never carries the report


def test_opening_marks_who_was_told_and_acknowledging_is_recorded_once(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    officer, head = network["bm_bnv"], network["head_bnv"]
    opened_at = clock.tick()
    svc.open_notice(ctx, officer, incident.id)
    ctx.session.refresh(incident)
    # the sending unit's security officer: the sender is told, not yet a head
    assert (incident.sender_notified_at, incident.sender_notified_by_id) == (opened_at, officer.id)
    assert incident.head_notified_at is None
    clock.tick()
    svc.open_notice(ctx, officer, incident.id)  # again: the first opening stays
    ctx.session.refresh(incident)
    assert incident.sender_notified_at == opened_at
    head_at = clock.tick()
    svc.open_notice(ctx, head, incident.id)
    ctx.session.refresh(incident)
    assert (incident.head_notified_at, incident.head_notified_by_id) == (head_at, head.id)
    assert incident.sender_notified_by_id == officer.id
    assert incident.acknowledged_at is None
    assert svc.unacknowledged_count(ctx, head) == 1

    ack_at = clock.tick()
    svc.acknowledge(ctx, head, incident.id)
    clock.tick()
    svc.acknowledge(ctx, head, incident.id)  # idempotent
    svc.acknowledge(ctx, officer, incident.id)  # already acknowledged: unchanged
    ctx.session.refresh(incident)
    assert (incident.acknowledged_at, incident.acknowledged_by_id) == (ack_at, head.id)
    assert svc.unacknowledged_count(ctx, head) == 0
    assert svc.unacknowledged_count(ctx, officer) == 0
    assert inbox_ids(ctx, head) == [incident.id]  # still listed, as acknowledged


def test_anyone_else_is_answered_as_for_an_unknown_incident_and_nothing_is_written(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Any) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    before = snapshot()
    for name in ("head_hcm", "bm_hcm", "vt_bnv", "gd_hcm", "admin"):
        for action in (svc.open_notice, svc.acknowledge):
            with pytest.raises(UnknownIncidentError) as refused:
                action(ctx, network[name], incident.id)
            with pytest.raises(UnknownIncidentError) as unknown:
                action(ctx, network[name], incident.id + 1000)
            assert refused.value.status == unknown.value.status == 404
            assert refused.value.slug == unknown.value.slug
    assert snapshot() == before


def test_an_envelope_incident_goes_to_its_holders_and_senders_heads(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)  # BNV -> UBND-HCM, held at BNV
    incident = report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE, "bì bị rách",
                               number=env.number)
    assert incident.head_notified_at is None and incident.sender_notified_at is None
    assert {u.username for u in svc.recipients(ctx, incident)} == {"head_bnv", "bm_bnv"}
    svc.acknowledge(ctx, network["head_bnv"], incident.id)
    ctx.session.refresh(incident)
    # the head of the sending unit: told as head and as sender
    assert incident.head_notified_by_id == incident.sender_notified_by_id == network["head_bnv"].id
    assert incident.acknowledged_by_id == network["head_bnv"].id


def test_a_deactivated_head_has_no_inbox(ctx: Ctx, network: Network, clock: Clock) -> None:
    _env, incident = broken_seal(ctx, network, clock)
    head = network["head_bnv"]
    ctx.session.execute(update(User).where(User.id == head.id).values(is_active=False))
    ctx.session.commit()
    ctx.session.refresh(head)
    assert svc.inbox(ctx, head) == [] and svc.unacknowledged_count(ctx, head) == 0
    with pytest.raises(UnknownIncidentError):
        svc.open_notice(ctx, head, incident.id)


# ------------------------------------------------------------------ email notices


def with_email(ctx: Ctx, name: str, network: Network, address: str) -> None:
    ctx.session.execute(update(User).where(User.id == network[name].id).values(email=address))
    ctx.session.commit()


def smtp_ctx(ctx: Ctx, clock: Clock, url: str | None) -> Ctx:
    settings = replace(ctx.settings, smtp_url=url, smtp_from="kt1@buudien.vn",
                       public_url="https://kt1.lan")
    return Ctx(session=ctx.session, settings=settings, now=clock)


def test_with_smtp_the_recipients_with_an_address_get_a_notice_without_the_report(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with_email(ctx, "head_bnv", network, "thutruong@bnv.gov.vn")
    with_email(ctx, "bm_bnv", network, "baomat@bnv.gov.vn")
    with_email(ctx, "vt_bnv", network, "vanthu@bnv.gov.vn")  # no inbox: no email
    env = register(ctx, network)
    with smtp_server() as mailbox:
        mail_ctx = smtp_ctx(ctx, clock, mailbox.url)
        incident = report_incident(mail_ctx, network["vt_bnv"], IncidentKind.DAMAGE,
                                   "bì bị rách ở góc", number=env.number)
    assert sorted(r for m in mailbox.messages for r in m.recipients) == [
        "baomat@bnv.gov.vn", "thutruong@bnv.gov.vn"]
    message = mailbox.messages[0].message
    body = message.get_content()
    assert message["From"] == "kt1@buudien.vn"
    assert f"Sự cố số {incident.id}" in message["Subject"]
    assert env.number in body and "BNV" in body
    assert f"https://kt1.lan/incidents/{incident.id}" in body
    assert "bì bị rách ở góc" not in body + message["Subject"]  # never the report
    # the notice is no acknowledgement
    ctx.session.refresh(incident)
    assert incident.head_notified_at is None and incident.acknowledged_at is None


def test_a_seal_incident_written_by_custody_is_emailed_after_commit(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with_email(ctx, "bm_bnv", network, "baomat@bnv.gov.vn")
    with smtp_server() as mailbox:
        mail_ctx = smtp_ctx(ctx, clock, mailbox.url)
        _env, _incident = broken_seal(mail_ctx, network, clock)
    assert [m.recipients for m in mailbox.messages] == [["baomat@bnv.gov.vn"]]
    body = mailbox.messages[0].message.get_content()
    assert "niêm phong bất thường" in body and REPORT not in body


def test_without_smtp_nothing_is_sent_and_nothing_fails(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with_email(ctx, "head_bnv", network, "thutruong@bnv.gov.vn")
    env = register(ctx, network)
    with smtp_server() as mailbox:
        incident = report_incident(smtp_ctx(ctx, clock, None), network["vt_bnv"],
                                   IncidentKind.DAMAGE, "bì bị rách", number=env.number)
    assert mailbox.messages == []
    assert svc.unacknowledged_count(ctx, network["head_bnv"]) == 1
    assert incident.id is not None


def test_an_smtp_failure_is_logged_without_content_and_keeps_the_incident(
        ctx: Ctx, network: Network, clock: Clock, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with_email(ctx, "head_bnv", network, "thutruong@bnv.gov.vn")
    env = register(ctx, network)
    # Alembic's fileConfig (kt1/migrations/env.py), run in this process to build the
    # PostgreSQL template, disables the loggers that existed then: enable this one again.
    monkeypatch.setattr(logging.getLogger("kt1.services.notices"), "disabled", False)
    caplog.set_level(logging.WARNING, logger="kt1.services.notices")
    with socket.socket() as bound:  # a port held but not listening: connecting is refused
        bound.bind(("127.0.0.1", 0))
        url = f"smtp://127.0.0.1:{bound.getsockname()[1]}"
        incident = report_incident(smtp_ctx(ctx, clock, url), network["vt_bnv"],
                                   IncidentKind.DAMAGE, "bì bị rách", number=env.number)
    ctx.session.rollback()
    assert ctx.session.get(Incident, incident.id) is not None  # committed all the same
    assert "incident notice not sent" in caplog.text
    assert "bì bị rách" not in caplog.text and "thutruong" not in caplog.text
