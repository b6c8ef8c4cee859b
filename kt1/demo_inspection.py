"""Demo data for self-inspection (tự kiểm tra, issue 12 item 4): UBND-HCM inspected itself
twice today.

Its security officer ran the report in the morning: an envelope stuck at the destination
post office for twelve days (overdue) and a damaged envelope reported by its registry (an
open incident). Remediations were assigned: the post office is asked to deliver, the
officer settles the incident. The head acknowledged the incident and the officer resolved
it; the second report shows it fixed since the first (its remediation closed with it),
while the overdue delivery's remediation stays open. The head signed the second report.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from kt1.models import Envelope, Remediation, Unit, User
from kt1.models.enums import EnvelopeStatus, IncidentKind
from kt1.services import incidents
from kt1.services import inspection as svc
from kt1.services.context import Ctx
from kt1.services.subjects import local_date

UNIT = "UBND-HCM"
OFFICER = "baomat.ubndhcm"
HEAD = "lanhdao.ubndhcm"
CLERK = "vanthu.ubndhcm"
#: How far back the demo's data goes, at most (kt1/demo.py: twelve days for the oldest).
SPAN_DAYS = 31


def seed_inspection(ctx: Ctx, users: dict[str, User], now: datetime) -> None:
    """Two self-inspection reports of UBND-HCM: one remediation closed, one open."""
    saved = ctx.now
    moment = [now - timedelta(hours=5)]

    def at(minutes: float) -> None:
        moment[0] += timedelta(minutes=minutes)

    ctx.now = lambda: moment[0]
    try:
        unit_id = ctx.session.execute(select(Unit.id).where(Unit.code == UNIT)).scalar_one()
        held = ctx.session.execute(
            select(Envelope.number).where(Envelope.holder_unit_id == unit_id,
                                          Envelope.status == EnvelopeStatus.ARRIVED)
            .order_by(Envelope.id).limit(1)).scalar()
        if held is not None:
            incidents.report_incident(
                ctx, users[CLERK], IncidentKind.DAMAGE,
                "Bì ngoài bị rách một góc khi mở túi; bì trong còn nguyên, niêm phong tốt.",
                number=held, notify_sender=False)
        at(10)
        today = local_date(moment[0])
        since = period_start(today)
        first = svc.run_self_inspection(ctx, users[OFFICER], UNIT, since)
        for rem in _open(ctx, unit_id):
            if rem.code == "incident_open":
                svc.update_remediation(ctx, users[OFFICER], rem.id,
                                       assignee_username=OFFICER, due_on=today,
                                       note="Lập biên bản, thay bì ngoài, báo nơi gửi")
            else:
                svc.update_remediation(ctx, users[OFFICER], rem.id,
                                       assignee_name="Bưu cục KT1 TP Hồ Chí Minh",
                                       due_on=today + timedelta(days=2),
                                       note=f"Đề nghị bưu cục phát ngay (báo cáo {first.number})")
        at(60)
        for incident in incidents.open_incidents(ctx, unit_id):
            incidents.acknowledge(ctx, users[HEAD], incident.id)
            at(5)
            incidents.resolve_incident(ctx, users[OFFICER], incident.id,
                                       "Đã thay bì ngoài, niêm phong lại, báo nơi gửi")
        at(60)
        second = svc.run_self_inspection(ctx, users[OFFICER], UNIT, since)
        at(30)
        svc.sign_report(ctx, users[HEAD], second.number, "Chánh Văn phòng UBND thành phố")
    finally:
        ctx.now = saved


def period_start(today: date) -> date:
    """1 January, or earlier in January: the period always covers the demo's last month
    (its overdue envelope was accepted twelve days ago, so in the first days of January it
    falls in December of the year before)."""
    return min(date(today.year, 1, 1), today - timedelta(days=SPAN_DAYS))


def _open(ctx: Ctx, unit_id: int) -> list[Remediation]:
    ctx.session.rollback()
    return list(ctx.session.execute(
        select(Remediation).where(Remediation.unit_id == unit_id,
                                  Remediation.closed_in_id.is_(None))
        .order_by(Remediation.id)).unique().scalars())
