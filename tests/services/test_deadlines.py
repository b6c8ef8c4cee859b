"""Time limits (docs/domain.md §4): working days, Tết, extra days off, dated rule sets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from kt1.errors import DuplicateError, ForbiddenError, ValidationError
from kt1.models.enums import Route, ServiceClass
from kt1.services import custody
from kt1.services.context import Ctx
from kt1.services.deadlines import (
    Deadlines,
    RuleInForceError,
    UnknownRuleSetError,
    WorkingCalendar,
    add_day_off,
    add_rule_set,
    list_days_off,
    list_rule_sets,
    remove_rule_set,
)
from kt1.services.verify import COMPLETE, OVERDUE
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register
from tests.services.test_verify import report_of

VN = timezone(timedelta(hours=7))
CIRCULAR_16 = {
    (Route.INTRA_PROVINCE, ServiceClass.STANDARD): 1.5,
    (Route.INTER_PROVINCE, ServiceClass.STANDARD): 3.5,
    (Route.INTRA_PROVINCE, ServiceClass.FLASH): 1.0,
    (Route.INTER_PROVINCE, ServiceClass.FLASH): 2.5,
}


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)  # type: ignore[misc]


# ------------------------------------------------------------------ the calendar


@pytest.mark.parametrize(("start", "days", "due"), [
    # Monday 10:00 + 1.5 working days: Tuesday 22:00
    (vn(2026, 11, 16, 10), 1.5, vn(2026, 11, 17, 22)),
    # Friday 10:00 + 1.5: 14 h of Friday, the weekend skipped, 22 h of Monday
    (vn(2026, 11, 20, 10), 1.5, vn(2026, 11, 23, 22)),
    # accepted on a Saturday: counting starts on Monday at 00:00
    (vn(2026, 11, 21, 15), 1, vn(2026, 11, 24, 0)),
    # Friday 20:00 + 3.5: 4 h of Friday, Monday, (Tuesday 24/11 is Vietnam Culture Day,
    # off), Wednesday, Thursday, and 8 h of the next Friday
    (vn(2026, 11, 20, 20), 3.5, vn(2026, 11, 27, 8)),
])
def test_working_days_skip_weekends(start: datetime, days: float, due: datetime) -> None:
    assert WorkingCalendar().add_working_days(start, days) == due


def test_the_deadline_runs_across_tet_without_counting_the_lunar_holidays() -> None:
    calendar = WorkingCalendar()
    # Tết Bính Ngọ 2026: Monday 16 to Friday 20 February, after a weekend
    for day in range(14, 23):
        assert not calendar.is_working_day(date(2026, 2, day)), day
    assert calendar.is_working_day(date(2026, 2, 13))
    assert calendar.is_working_day(date(2026, 2, 23))
    # Friday 13/2 at 10:00, J+1.5: 14 h that Friday, then nine days off, then 22 h
    assert calendar.add_working_days(vn(2026, 2, 13, 10), 1.5) == vn(2026, 2, 23, 22)
    # and Tết 2027 falls on other dates (6 February, a Saturday): it is lunar, not fixed
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2026, 2, 9))


def test_a_saturday_made_a_working_day_in_exchange_counts() -> None:
    calendar = WorkingCalendar()
    assert calendar.is_working_day(date(2026, 8, 22))  # Saturday, worked for 31/8
    assert not calendar.is_working_day(date(2026, 8, 31))


def test_an_extra_day_off_moves_the_deadline() -> None:
    start = vn(2026, 12, 22, 9)  # Tuesday
    assert WorkingCalendar().add_working_days(start, 1) == vn(2026, 12, 23, 9)
    assert WorkingCalendar([date(2026, 12, 23)]).add_working_days(start, 1) == vn(2026, 12, 24, 9)


def test_the_next_working_day_for_registering_an_arrival() -> None:
    calendar = WorkingCalendar()
    assert calendar.end_of_next_working_day(vn(2026, 11, 20, 16)) == vn(2026, 11, 24, 0)
    assert calendar.end_of_next_working_day(vn(2026, 11, 23, 16)) == vn(2026, 11, 26, 0)


# ------------------------------------------------------------------ dated rules


def test_the_circular_16_rule_set_ships_as_the_default(ctx: Ctx, network: Network) -> None:
    sets = list_rule_sets(ctx)
    assert len(sets) == 1
    limits = {(r.route, r.service): r.working_days for r in sets[0].rules}
    assert limits == CIRCULAR_16
    book = Deadlines.load(ctx)
    accepted = datetime(2026, 11, 23, 3, tzinfo=UTC)
    assert book.due(accepted, "inter_province", "flash").working_days == 2.5
    agreed = accepted + timedelta(days=2)
    timed = book.due(accepted, "inter_province", "timed", agreed)
    assert timed is not None and timed.due_at == agreed


def test_a_rule_change_applies_from_its_date_and_never_rewrites_earlier_verdicts(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    # Monday 23/11: the rule in force gives J+3.5 between provinces
    early = register(ctx, network)
    carry(ctx, network, clock, early, until="dispatched")
    tighter = {**CIRCULAR_16, (Route.INTER_PROVINCE, ServiceClass.STANDARD): 0.5}
    add_rule_set(ctx, network["admin"], date(2026, 11, 25), "Chỉ tiêu mới", tighter,
                 "Thông tư giả định")
    clock.now = datetime(2026, 11, 25, 2, tzinfo=UTC)  # Wednesday 09:00 in Hà Nội
    late = register(ctx, network)
    carry(ctx, network, clock, late, until="dispatched")
    # Thursday 26/11 16:00 UTC: the later envelope is past J+0.5, the earlier one is not
    now = datetime(2026, 11, 26, 16, tzinfo=UTC)
    early_report = report_of(ctx, early.number, now=now)
    late_report = report_of(ctx, late.number, now=now)
    assert early_report.findings == []
    assert late_report.status == OVERDUE
    assert [f.code for f in late_report.findings] == ["deadline_missed"]
    assert early_report.due_at == datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    assert late_report.due_at == datetime(2026, 11, 25, 14, 5, tzinfo=UTC)


def test_a_rule_set_in_force_cannot_be_added_or_removed(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    today = date(2026, 11, 23)
    with pytest.raises(RuleInForceError):
        add_rule_set(ctx, None, today, "Hôm nay", CIRCULAR_16)
    with pytest.raises(RuleInForceError):
        remove_rule_set(ctx, None, date(2000, 1, 1))
    future = add_rule_set(ctx, None, date(2027, 1, 1), "Sang năm", CIRCULAR_16)
    assert future.effective_from == date(2027, 1, 1)
    remove_rule_set(ctx, None, date(2027, 1, 1))
    with pytest.raises(UnknownRuleSetError):
        remove_rule_set(ctx, None, date(2027, 1, 1))


@pytest.mark.parametrize("values", [
    {(Route.INTRA_PROVINCE, ServiceClass.STANDARD): 1.5},  # incomplete
    {**CIRCULAR_16, (Route.INTRA_PROVINCE, ServiceClass.TIMED): 1.0},  # timed has no J+N
    {**CIRCULAR_16, (Route.INTRA_PROVINCE, ServiceClass.STANDARD): 0.3},  # not half days
    {**CIRCULAR_16, (Route.INTRA_PROVINCE, ServiceClass.STANDARD): -1},
])
def test_an_invalid_rule_set_is_refused(ctx: Ctx, network: Network, clock: Clock,
                                        values: dict) -> None:
    with pytest.raises(ValidationError):
        add_rule_set(ctx, None, date(2027, 1, 1), "Sai", values)
    assert len(list_rule_sets(ctx)) == 1


def test_only_an_administrator_edits_rules_and_days_off(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with pytest.raises(ForbiddenError):
        add_rule_set(ctx, network["vt_bnv"], date(2027, 1, 1), "x", CIRCULAR_16)
    with pytest.raises(ForbiddenError):
        add_day_off(ctx, network["bm_bnv"], date(2027, 1, 4), "x")


def test_an_administrator_day_off_extends_an_envelopes_deadline(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, clock, env, until="dispatched")
    now = datetime(2026, 11, 27, 16, tzinfo=UTC)  # after J+3.5 (Friday 21:05 Hà Nội)
    assert report_of(ctx, env.number, now=now).status == OVERDUE
    add_day_off(ctx, network["admin"], date(2026, 11, 25), "Bão số 12: nghỉ làm việc")
    with pytest.raises(DuplicateError):
        add_day_off(ctx, network["admin"], date(2026, 11, 25), "lần nữa")
    report = report_of(ctx, env.number, now=now)
    assert report.findings == []
    assert report.due_at == datetime(2026, 11, 30, 14, 5, tzinfo=UTC)  # Monday after
    days = list_days_off(ctx, 2026)
    assert {"day": date(2026, 11, 25), "reason": "Bão số 12: nghỉ làm việc",
            "source": "administrator"} in days
    assert any(d["day"] == date(2026, 2, 17) and d["source"] == "holidays" for d in days)


def test_a_delivery_attempt_in_time_meets_the_deadline_even_if_the_delivery_failed(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    from tests.journey import fail_delivery

    env = register(ctx, network)
    carry(ctx, network, clock, env, until="out_for_delivery")
    fail_delivery(ctx, network, clock, env.number)
    clock.tick(60 * 24 * 8)
    custody.deliver(ctx, network["bt_hcm"], env.number, network["vt_hcm"],
                    pin(network["vt_hcm"]), new_scan(), clock.tick())
    custody.register_arrival(ctx, network["vt_hcm"], env.number, new_scan(), clock.tick())
    report = report_of(ctx, env.number)
    assert report.findings == []
    assert report.status == COMPLETE
