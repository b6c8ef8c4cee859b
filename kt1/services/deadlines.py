"""Time limits (docs/domain.md §4) as dated rules, on a working-day calendar.

**Calendar.** A working day is a day that is not a weekend, not a Vietnamese public holiday
(the ``holidays`` package: Tết and the other lunar holidays, substitute days off, and the
Saturdays the government makes working days in exchange), and not an extra day off added by
an administrator (:class:`~kt1.models.DayOff`). Days are Vietnam dates (UTC+7).

**Counting.** A limit of ``N`` working days is ``N × 24`` hours of working-day time from the
moment of acceptance: the clock runs only during working days. An envelope accepted on
Friday at 10:00 with J+1.5 has Friday's remaining 14 hours, then 22 hours of Monday: its
deadline is Monday 22:00. One accepted on a Sunday starts counting at Monday 00:00.

**Which limit.** The rule set in force on the acceptance date (Vietnam time) decides, so a
rule set added later never changes the verdict on an envelope accepted earlier; a rule set
already in force is never edited (only a future one may be replaced or removed). The limit
runs from acceptance (J, the first ``accepted`` link) to the **first delivery attempt**:
the first ``delivered`` or ``delivery_failed`` link, whichever comes first. A Hẹn giờ item
has no J+N limit: its deadline is the agreed time. Extra days off are calendar facts, not
rules: one added later (a typhoon closure) does extend deadlines that span it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import holidays
from sqlalchemy import select

from kt1.errors import DuplicateError, ForbiddenError, KT1Error, ValidationError
from kt1.models import DayOff, DeadlineRule, DeadlineRuleSet, User
from kt1.models.enums import Role, Route, ServiceClass
from kt1.services.context import Ctx
from kt1.services.text import clean_text
from kt1.services.tx import transactional

VIETNAM = timezone(timedelta(hours=7))

#: The services that have a J+N limit; Hẹn giờ items keep their agreed time instead.
LIMITED_SERVICES = (ServiceClass.STANDARD, ServiceClass.FLASH)


class RuleInForceError(KT1Error):
    """A rule set already in force is never changed (its verdicts would be rewritten)."""

    slug = "rule_set_in_force"
    status = 409
    message_vi = ("Bộ chỉ tiêu áp dụng từ {effective_from} đã có hiệu lực; không được sửa. "
                  "Hãy thêm bộ chỉ tiêu mới với ngày hiệu lực sau hôm nay.")
    message_en = ("The rule set in force from {effective_from} cannot be changed; add a new "
                  "set that takes effect after today.")


class UnknownRuleSetError(KT1Error):
    slug = "unknown_rule_set"
    status = 404
    message_vi = "Không có bộ chỉ tiêu áp dụng từ {effective_from}."
    message_en = "No rule set takes effect on {effective_from}."


def local_date(moment: datetime) -> date:
    """The Vietnam calendar date of ``moment``."""
    return moment.astimezone(VIETNAM).date()


# --------------------------------------------------------------------------- calendar


EPOCH_DAY0 = date(1970, 1, 1).toordinal()
UTC_OFFSET = 7 * 3600  # Vietnam has no daylight saving time
SECONDS_PER_DAY = 86400


def epoch_of(moment: datetime) -> float:
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def local_day_number(seconds: float) -> int:
    """Days since 1970-01-01 of the Vietnam date at epoch ``seconds``."""
    return int((seconds + UTC_OFFSET) // SECONDS_PER_DAY)


def day_number(day: date) -> int:
    return day.toordinal() - EPOCH_DAY0


def day_of(number: int) -> date:
    return date.fromordinal(number + EPOCH_DAY0)


class WorkingCalendar:
    """Vietnam's working days: weekends and public holidays off, plus extra days off.

    Arithmetic runs on epoch seconds and day numbers so that deadlines for a million
    envelopes cost a few microseconds each; the datetime methods wrap it.
    """

    def __init__(self, extra_days_off: Iterable[date] = ()) -> None:
        self._public = holidays.country_holidays("VN")
        self._extra = frozenset(extra_days_off)
        self._cache: dict[int, bool] = {}

    def is_working_day(self, day: date) -> bool:
        return self._working(day_number(day))

    def _working(self, number: int) -> bool:
        known = self._cache.get(number)
        if known is None:
            day = day_of(number)
            known = day not in self._extra and self._public.is_working_day(day)
            self._cache[number] = known
        return known

    def holiday_name(self, day: date) -> str | None:
        return self._public.get(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return day_of(self._next_working(day_number(day)))

    def _next_working(self, number: int) -> int:
        number += 1
        while not self._working(number):
            number += 1
        return number

    def add_working_seconds(self, start: float, seconds: float) -> float:
        """Epoch ``start`` plus ``seconds`` counted only during working days."""
        if seconds < 0:
            raise ValueError("a time limit cannot be negative")
        local = start + UTC_OFFSET
        number = int(local // SECONDS_PER_DAY)
        into_day = local - number * SECONDS_PER_DAY
        if not self._working(number):
            number = self._next_working(number)
            into_day = 0.0
        available = SECONDS_PER_DAY - into_day
        if seconds <= available:
            return number * SECONDS_PER_DAY + into_day + seconds - UTC_OFFSET
        seconds -= available
        while True:
            number = self._next_working(number)
            if seconds <= SECONDS_PER_DAY:
                return number * SECONDS_PER_DAY + seconds - UTC_OFFSET
            seconds -= SECONDS_PER_DAY

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """``start`` plus ``days`` × 24 hours counted only on working days (UTC result)."""
        return from_epoch(self.add_working_seconds(epoch_of(start), days * SECONDS_PER_DAY))

    def end_of_next_working_day_epoch(self, moment: float) -> float:
        number = self._next_working(local_day_number(moment))
        return (number + 1) * SECONDS_PER_DAY - UTC_OFFSET

    def end_of_next_working_day(self, moment: datetime) -> datetime:
        """The end of the working day after ``moment``'s day (Decree 30/2020 Art. 4(2)(c):
        an incoming document is registered the same day or the next working day at latest)."""
        return from_epoch(self.end_of_next_working_day_epoch(epoch_of(moment)))


def load_calendar(ctx: Ctx) -> WorkingCalendar:
    days = ctx.session.execute(select(DayOff.day)).scalars()
    return WorkingCalendar(days)


# --------------------------------------------------------------------------- rules


class RuleBook:
    """Every rule set, by effective date: which limit was in force on a given day."""

    def __init__(self, starts: Iterable[date],
                 limits: Iterable[Mapping[tuple[str, str], float]]) -> None:
        self.starts = tuple(starts)
        self.limits = tuple(limits)
        self._numbers = tuple(day_number(d) for d in self.starts)

    def _index(self, number: int) -> int:
        return bisect_right(self._numbers, number) - 1

    def limit(self, on: date, route: str, service: str) -> float | None:
        """Working days allowed for ``route``/``service`` under the set in force on ``on``."""
        return self.limit_on_day(day_number(on), str(route), str(service))

    def limit_on_day(self, number: int, route: str, service: str) -> float | None:
        """:meth:`limit` for a day number (days since 1970-01-01)."""
        i = self._index(number)
        return self.limits[i].get((route, service)) if i >= 0 else None

    def rule_set_date(self, on: date) -> date | None:
        i = self._index(day_number(on))
        return self.starts[i] if i >= 0 else None


def load_rules(ctx: Ctx) -> RuleBook:
    rows = ctx.session.execute(
        select(DeadlineRuleSet.effective_from, DeadlineRule.route, DeadlineRule.service,
               DeadlineRule.working_days)
        .outerjoin(DeadlineRule, DeadlineRule.rule_set_id == DeadlineRuleSet.id)
        .order_by(DeadlineRuleSet.effective_from)
    ).all()
    by_date: dict[date, dict[tuple[str, str], float]] = {}
    for effective_from, route, service, working_days in rows:
        limits = by_date.setdefault(effective_from, {})
        if route is not None:
            limits[(str(route), str(service))] = float(working_days)
    starts = sorted(by_date)
    return RuleBook(starts, [by_date[d] for d in starts])


@dataclass(frozen=True)
class Deadline:
    """When the first delivery attempt is due, and why."""

    due_at: datetime
    working_days: float | None  # None for a Hẹn giờ item (agreed time)
    rule_set_from: date | None


class Deadlines:
    """Deadline arithmetic for many envelopes: the rule book and calendar loaded once."""

    def __init__(self, rules: RuleBook, calendar: WorkingCalendar) -> None:
        self.rules = rules
        self.calendar = calendar

    @classmethod
    def load(cls, ctx: Ctx) -> Deadlines:
        return cls(load_rules(ctx), load_calendar(ctx))

    def due_epoch(self, accepted: float, route: str, service: str,
                  agreed: float | None = None) -> float | None:
        """:meth:`due` on epoch seconds; None when no rule (or no agreed time) applies."""
        if service == "timed":
            return agreed
        days = self.rules.limit_on_day(local_day_number(accepted), route, service)
        if days is None:
            return None
        return self.calendar.add_working_seconds(accepted, days * SECONDS_PER_DAY)

    def due(self, accepted_at: datetime, route: str, service: str,
            agreed_at: datetime | None = None) -> Deadline | None:
        """The deadline of an envelope accepted at ``accepted_at``; None when no rule covers it."""
        if str(service) == ServiceClass.TIMED:
            if agreed_at is None:
                return None
            return Deadline(due_at=agreed_at, working_days=None, rule_set_from=None)
        accepted_on = local_date(accepted_at)
        days = self.rules.limit(accepted_on, str(route), str(service))
        if days is None:
            return None
        return Deadline(due_at=self.calendar.add_working_days(accepted_at, days),
                        working_days=days, rule_set_from=self.rules.rule_set_date(accepted_on))


# ----------------------------------------------------------------- administration


def _admin(actor: User | None) -> None:
    """``None`` is the operator at the server console (the CLI), trusted like an admin."""
    if actor is not None and (actor.role is not Role.ADMINISTRATOR or not actor.is_active):
        raise ForbiddenError()


def _limits(values: Mapping[tuple[Any, Any], float]) -> dict[tuple[Route, ServiceClass], float]:
    out: dict[tuple[Route, ServiceClass], float] = {}
    for (route, service), days in values.items():
        try:
            r, s = Route(route), ServiceClass(service)
        except ValueError:
            raise ValidationError(field="rule", reason=f"unknown route or service {route}/"
                                                       f"{service}") from None
        if s not in LIMITED_SERVICES:
            raise ValidationError(field="service",
                                  reason="a Hẹn giờ item keeps its agreed time, not a J+N limit")
        try:
            d = float(days)
        except (TypeError, ValueError):
            raise ValidationError(field="working_days", reason="must be a number") from None
        if not 0 < d <= 60 or d * 2 != int(d * 2):
            raise ValidationError(field="working_days",
                                  reason="between 0.5 and 60, in steps of half a day")
        out[(r, s)] = d
    missing = [f"{r}/{s}" for r in Route for s in LIMITED_SERVICES if (r, s) not in out]
    if missing:
        raise ValidationError(field="rule", reason="a rule set needs every route and service; "
                                                   "missing " + ", ".join(missing))
    return out


@transactional
def add_rule_set(ctx: Ctx, actor: User | None, effective_from: date, name: str,
                 values: Mapping[tuple[Any, Any], float],
                 source: str = "") -> DeadlineRuleSet:
    """Add a rule set that takes effect on a future date (after today, Vietnam time).

    It must give a limit for every route and every service with a J+N limit. A future set
    with the same date is replaced; a set already in force is refused.
    """
    _admin(actor)
    today = local_date(ctx.now())
    if effective_from <= today:
        raise RuleInForceError(
            "A new rule set must take effect after today, so that no envelope already "
            "accepted changes verdict.", effective_from=effective_from.isoformat())
    limits = _limits(values)
    name = clean_text(name, "name", 120, required=True)
    source = clean_text(source, "source", 200)
    existing = ctx.session.execute(
        select(DeadlineRuleSet).where(DeadlineRuleSet.effective_from == effective_from)
    ).scalar_one_or_none()
    if existing is not None:
        ctx.session.delete(existing)
        ctx.session.flush()
    rule_set = DeadlineRuleSet(effective_from=effective_from, name=name, source=source,
                               created_at=ctx.now(),
                               created_by_id=actor.id if actor else None)
    rule_set.rules = [DeadlineRule(route=r, service=s, working_days=d)
                      for (r, s), d in sorted(limits.items())]
    ctx.session.add(rule_set)
    ctx.session.flush()
    return rule_set


@transactional
def remove_rule_set(ctx: Ctx, actor: User | None, effective_from: date) -> None:
    """Withdraw a rule set that has not taken effect yet."""
    _admin(actor)
    rule_set = ctx.session.execute(
        select(DeadlineRuleSet).where(DeadlineRuleSet.effective_from == effective_from)
    ).scalar_one_or_none()
    if rule_set is None:
        raise UnknownRuleSetError(effective_from=effective_from.isoformat())
    if effective_from <= local_date(ctx.now()):
        raise RuleInForceError(effective_from=effective_from.isoformat())
    ctx.session.delete(rule_set)


def list_rule_sets(ctx: Ctx) -> list[DeadlineRuleSet]:
    return list(ctx.session.execute(
        select(DeadlineRuleSet).order_by(DeadlineRuleSet.effective_from)).unique().scalars())


@transactional
def add_day_off(ctx: Ctx, actor: User | None, day: date, reason: str) -> DayOff:
    """Add an extra day off to the working calendar (ngày nghỉ bổ sung)."""
    _admin(actor)
    reason = clean_text(reason, "reason", 200, required=True)
    if ctx.session.execute(select(DayOff.id).where(DayOff.day == day)).first():
        raise DuplicateError(what=f"Day off {day.isoformat()}")
    day_off = DayOff(day=day, reason=reason, added_at=ctx.now(),
                     added_by_id=actor.id if actor else None)
    ctx.session.add(day_off)
    ctx.session.flush()
    return day_off


def list_days_off(ctx: Ctx, year: int | None = None) -> list[dict[str, Any]]:
    """Days off in ``year`` (default: all added ones), public holidays included when a year
    is given, each with its reason and where it comes from."""
    added = {d.day: d for d in ctx.session.execute(
        select(DayOff).order_by(DayOff.day)).scalars()}
    out: list[dict[str, Any]] = []
    if year is not None:
        for day, name in sorted(holidays.country_holidays("VN", years=year).items()):
            out.append({"day": day, "reason": name, "source": "holidays"})
        added = {d: v for d, v in added.items() if d.year == year}
    for day, row in added.items():
        out.append({"day": day, "reason": row.reason, "source": "administrator"})
    return sorted(out, key=lambda r: r["day"])
