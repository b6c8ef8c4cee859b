"""Statistics of state secrets for a unit and a period (kt1/services/statistics.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from kt1.errors import ForbiddenError, PeriodReversedError, PeriodTooLongError, UnknownUnitError
from kt1.models import Envelope
from kt1.models.enums import Classification, EventKind, IncidentKind, ServiceClass
from kt1.services import custody, incidents
from kt1.services import statistics as stats
from kt1.services.context import Ctx
from kt1.services.custody import Link
from tests.conftest import Clock, Network, new_scan
from tests.journey import carry, register

A, B, C, U = (Classification.TOP_SECRET, Classification.SECRET, Classification.CONFIDENTIAL,
              Classification.UNCLASSIFIED)


def make_copy(ctx: Ctx, net: Network, original: Envelope, no: int, total: int) -> Envelope:
    """A copy as the copies service makes one: its own registered item, linked to the
    original, "Bản số no/total" (registered, then given the copy facts)."""
    copy = register(ctx, net, classification=original.classification,
                    document_number=original.document_number)
    copy.copy_of_id, copy.copy_no, copy.copy_total = original.id, no, total
    ctx.session.commit()
    return copy


def life_event(ctx: Ctx, net: Network, clock: Clock, envelope: Envelope,
               kind: EventKind) -> None:
    """A declassification or destruction recorded by the holding unit (minimal link)."""
    custody.append_link(ctx, envelope, Link(
        kind=kind, scan_id=new_scan(), event_at=clock.tick(), recorded_by=net["bm_bnv"],
        to_unit_id=envelope.holder_unit_id, to_user_id=envelope.holder_user_id,
        from_unit_id=envelope.holder_unit_id, from_user_id=envelope.holder_user_id,
        note="QĐ 12/QĐ-BNV"), judged=True)
    ctx.session.commit()


@dataclass
class Scenario:
    e1: Envelope
    e2: Envelope
    e3: Envelope
    copy: Envelope
    e4: Envelope


def build_scenario(ctx: Ctx, network: Network, clock: Clock) -> Scenario:
    """BNV, 23/11/2026: registers e1 (B) and e3 (C) for UBND-HCM, e2 (A, Hỏa tốc) for
    UBND-HN. 25/11: e1 is carried to
    UBND-HCM and registered there; a copy of e2 is made; e3 is declassified, then
    destroyed; an incident (damage) is opened on e2. 01/12 at 01:00 Vietnam time (still
    30/11 in UTC): e4 (unclassified) is registered."""
    e1 = register(ctx, network, classification=B)
    e2 = register(ctx, network, classification=A, service=ServiceClass.FLASH,
                  recipient="UBND-HN")
    e3 = register(ctx, network, classification=C)
    clock.tick(2 * 24 * 60)
    carry(ctx, network, clock, e1)
    copy = make_copy(ctx, network, e2, 1, 1)
    life_event(ctx, network, clock, e3, EventKind.DECLASSIFIED)
    life_event(ctx, network, clock, e3, EventKind.DESTROYED)
    incidents.report_incident(ctx, network["vt_bnv"], IncidentKind.DAMAGE, "Bì rách góc",
                              number=e2.number)
    clock.now = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
    e4 = register(ctx, network, classification=U)
    clock.tick(60)
    return Scenario(e1, e2, e3, copy, e4)


#: What BNV's statistics for November 2026 hold (the web, CLI and browser tests check it).
NOVEMBER_TOTAL = {"held": 2, "sent": 3, "received": 0, "copied": 1, "declassified": 1,
                  "destroyed": 1}


@pytest.fixture
def scenario(ctx: Ctx, network: Network, clock: Clock) -> Scenario:
    return build_scenario(ctx, network, clock)


def _class(s: stats.Statistics, movement: str) -> dict[str, int]:
    return {c.value: s.by_class[c][movement] for c in Classification}


def test_counts_of_the_sending_unit(ctx: Ctx, network: Network, scenario: Scenario) -> None:
    s = stats.compute(ctx, network["bm_bnv"], "BNV", date(2026, 11, 1), date(2026, 11, 30))
    # the copy is not "sent"; e4 was registered on 01/12 Vietnam time, after the period
    assert _class(s, "sent") == {"top_secret": 1, "secret": 1, "confidential": 1,
                                 "unclassified": 0}
    assert _class(s, "copied") == {"top_secret": 1, "secret": 0, "confidential": 0,
                                   "unclassified": 0}
    # e1 left with the post office, e3 was destroyed: e2 and its copy are held
    assert _class(s, "held") == {"top_secret": 2, "secret": 0, "confidential": 0,
                                 "unclassified": 0}
    assert s.total["declassified"] == s.by_class[C]["declassified"] == 1
    assert s.total["destroyed"] == s.by_class[C]["destroyed"] == 1
    assert s.total["received"] == 0
    assert s.by_service[ServiceClass.FLASH]["sent"] == 1
    assert s.by_service[ServiceClass.FLASH]["copied"] == 0  # the copy is KT1 thường
    assert s.by_service[ServiceClass.STANDARD]["sent"] == 2
    assert s.incidents[IncidentKind.DAMAGE] == 1 and s.incident_total == 1
    assert [m.month for m in s.months] == ["2026-11"]
    assert s.months[0].counts == {"sent": 3, "received": 0, "copied": 1, "declassified": 1,
                                  "destroyed": 1, "incidents": 1}
    assert s.held_on == date(2026, 11, 30)
    data = s.to_dict()
    assert data["by_movement"]["sent"]["top_secret"] == 1
    assert data["total"] == NOVEMBER_TOTAL
    assert data["incidents"]["damage"] == 1


def test_the_next_month_and_a_local_day(ctx: Ctx, network: Network,
                                        scenario: Scenario) -> None:
    """e4, registered at 18:00 UTC on 30/11, is on 01/12 in Vietnam."""
    s = stats.compute(ctx, network["bm_bnv"], "BNV", date(2026, 12, 1), date(2026, 12, 31))
    assert s.total["sent"] == 1 and s.by_class[U]["sent"] == 1
    assert s.total["held"] == 3  # e2, the copy, e4: counted now, the period is not over
    assert s.held_on == date(2026, 12, 1)
    assert s.incident_total == 0
    whole = stats.compute(ctx, None, "BNV", date(2026, 10, 1), date(2026, 12, 31))
    assert [(m.month, m.counts["sent"]) for m in whole.months] == [
        ("2026-10", 0), ("2026-11", 3), ("2026-12", 1)]


def test_held_at_the_end_of_a_past_period(ctx: Ctx, network: Network,
                                          scenario: Scenario) -> None:
    """On 23/11 BNV still held e1, e2 and e3 (taken from the chain, not the current state),
    and UBND-HCM had received nothing yet."""
    s = stats.compute(ctx, network["bm_bnv"], "BNV", date(2026, 11, 1), date(2026, 11, 23))
    assert _class(s, "held") == {"top_secret": 1, "secret": 1, "confidential": 1,
                                 "unclassified": 0}
    assert s.total["copied"] == s.total["destroyed"] == s.incident_total == 0
    hcm = stats.compute(ctx, network["bm_hcm"], "UBND-HCM", date(2026, 11, 1),
                        date(2026, 11, 23))
    assert hcm.is_empty


def test_counts_of_the_receiving_unit(ctx: Ctx, network: Network, scenario: Scenario) -> None:
    s = stats.compute(ctx, network["head_hcm"], "UBND-HCM", date(2026, 11, 1),
                      date(2026, 11, 30))
    assert _class(s, "received") == {"top_secret": 0, "secret": 1, "confidential": 0,
                                     "unclassified": 0}
    assert _class(s, "held") == _class(s, "received")
    assert s.total["sent"] == s.total["copied"] == s.total["destroyed"] == 0
    assert s.incident_total == 0  # the incident is on an item of BNV's, not addressed here
    addressee = stats.compute(ctx, network["bm_hn"], "UBND-HN", date(2026, 11, 1),
                              date(2026, 11, 30))
    assert addressee.incidents[IncidentKind.DAMAGE] == 1  # e2 is addressed to UBND-HN
    assert addressee.total.is_empty
    # the post office carried e1 and holds nothing now
    office = stats.compute(ctx, network["admin"], "BC-HN", date(2026, 11, 1),
                           date(2026, 11, 30))
    assert office.total["held"] == 0 and office.total["sent"] == 0


def test_an_empty_period(ctx: Ctx, network: Network, scenario: Scenario) -> None:
    s = stats.compute(ctx, network["bm_bnv"], "BNV", date(2025, 1, 1), date(2025, 12, 31))
    assert s.is_empty
    assert len(s.months) == 12


def test_refused_periods(ctx: Ctx, network: Network) -> None:
    with pytest.raises(PeriodReversedError) as reversed_:
        stats.compute(ctx, network["bm_bnv"], "BNV", date(2026, 6, 2), date(2026, 6, 1))
    assert reversed_.value.slug == "period_reversed"
    assert "trước ngày bắt đầu" in reversed_.value.message_local
    with pytest.raises(PeriodTooLongError) as too_long:
        stats.compute(ctx, network["bm_bnv"], "BNV", date(2016, 1, 1), date(2026, 1, 1))
    assert too_long.value.slug == "period_too_long"
    assert "10 năm" in too_long.value.message_local
    # exactly ten years is allowed, a single day too
    stats.compute(ctx, network["bm_bnv"], "BNV", date(2016, 1, 1), date(2025, 12, 31))
    stats.compute(ctx, network["bm_bnv"], "BNV", date(2026, 6, 1), date(2026, 6, 1))


def test_another_unit_answers_as_an_unknown_one(ctx: Ctx, network: Network,
                                                scenario: Scenario) -> None:
    period = (date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(UnknownUnitError) as other:
        stats.compute(ctx, network["bm_hcm"], "BNV", *period)
    with pytest.raises(UnknownUnitError) as missing:
        stats.compute(ctx, network["bm_hcm"], "NO-SUCH", *period)
    assert other.value.slug == missing.value.slug == "unknown_unit"
    assert other.value.status == missing.value.status == 404
    assert other.value.message_local.replace("BNV", "X") == \
        missing.value.message_local.replace("NO-SUCH", "X")
    with pytest.raises(UnknownUnitError):  # a head of another unit too
        stats.compute(ctx, network["head_hcm"], "BNV", *period)
    # a registry clerk (not a head) keeps no statistics, not even their own unit's
    with pytest.raises(ForbiddenError):
        stats.compute(ctx, network["vt_bnv"], "BNV", *period)
    with pytest.raises(ForbiddenError):
        stats.compute(ctx, network["gd_hn"], "BC-HN", *period)
    # the head of the unit, and the administrator (any unit), may
    assert stats.compute(ctx, network["head_bnv"], "bnv", *period).total["sent"] == 3
    assert stats.compute(ctx, network["admin"], "BNV", *period).total["sent"] == 3


def test_default_period() -> None:
    assert stats.default_period(date(2026, 11, 23)) == (date(2026, 10, 1), date(2026, 12, 31))
    assert stats.default_period(date(2026, 2, 3)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert stats.default_period(date(2026, 5, 3), "year") == (date(2026, 1, 1),
                                                              date(2026, 12, 31))


def test_queries_do_not_grow_with_the_items(ctx: Ctx, network: Network, clock: Clock) -> None:
    """A handful of GROUP BY queries, whatever the number of items (no per-item loop)."""
    from sqlalchemy import event

    for _ in range(6):
        register(ctx, network, classification=C)
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    engine = ctx.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        stats.compute(ctx, None, "BNV", date(2026, 11, 1), date(2026, 11, 30) + timedelta(0))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([q for q in seen if "GROUP BY" in q]) == 5
    assert len(seen) <= 7
