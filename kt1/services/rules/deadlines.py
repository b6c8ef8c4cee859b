"""Time limits (docs/rules.md: §4 limits, rule 11 recall, rules 9 and 12 registration on
arrival), judged by the verifier only: a deadline passes with time, not with an event.

Each function takes the chain's state after its last link and ``now`` (epoch seconds), and
returns its hits; a limit missed by an envelope that is done is a ``notice``, one still
running late is ``overdue``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from kt1.services.deadlines import SECONDS_PER_DAY, UTC_OFFSET, Deadlines, day_number
from kt1.services.rules.facts import WIRE_NULL, ChainState, Hit, hit

NOTICE, OVERDUE = "notice", "overdue"


def epoch(wire_time: bytes) -> float:
    return datetime.fromisoformat(wire_time.decode()).timestamp()


def local(seconds: float) -> str:
    """A time for a message, in Vietnam local time."""
    return datetime.fromtimestamp(seconds + UTC_OFFSET, UTC).strftime("%d/%m/%Y %H:%M")


def delivery_deadline(env: Any, st: ChainState, terminal: bool, now: float,
                      deadlines: Deadlines) -> tuple[list[Hit], float | None]:
    """§4: the first delivery attempt comes within the limit in force on the acceptance
    day (or by the agreed time). Returns the hits and the deadline (epoch seconds)."""
    if st.accepted_at is None:
        return [], None
    agreed = epoch(env.agreed_at) if env.agreed_at != WIRE_NULL else None
    route, service = env.route.decode(), env.service.decode()
    due = deadlines.due_epoch(epoch(st.accepted_at), route, service, agreed)
    if due is None:
        return [hit("deadline_rule_missing", route=route, service=service)], None
    if st.attempt_at is not None:
        if epoch(st.attempt_at) > due:
            return [hit("deadline_missed", NOTICE if terminal else OVERDUE, due=local(due))], due
    elif not terminal and now > due:
        return [hit("deadline_missed", OVERDUE, due=local(due))], due
    return [], due


def registered_on_arrival(st: ChainState, now: float, deadlines: Deadlines) -> Hit | None:
    """Rules 9, 12: a delivered envelope enters the incoming register the same or the next
    working day."""
    if st.delivered_at is None:
        return None
    delivered = epoch(st.delivered_at)
    incoming = epoch(st.incoming_at) if st.incoming_at is not None else None
    # The end of the next working day is always more than a day after the delivery.
    if incoming is not None and incoming - delivered <= SECONDS_PER_DAY:
        return None
    register_by = deadlines.calendar.end_of_next_working_day_epoch(delivered)
    if incoming is not None:
        if incoming > register_by:
            return hit("arrival_registration_late", NOTICE, due=local(register_by))
    elif st.status == b"delivered" and now > register_by:
        return hit("arrival_registration_late", OVERDUE, due=local(register_by))
    return None


def recalled_in_time(env: Any, st: ChainState, now: float) -> Hit | None:
    """Rule 11: a "Tài liệu thu hồi" item is back by the end of the date written on it."""
    if env.recall_by == WIRE_NULL:
        return None
    day = date.fromisoformat(env.recall_by.decode())
    back_by = (day_number(day) + 1) * SECONDS_PER_DAY - UTC_OFFSET
    shown = day.strftime("%d/%m/%Y")
    if st.recalled_at is not None:
        if epoch(st.recalled_at) > back_by:
            return hit("recall_overdue", NOTICE, due=shown)
    elif st.status != b"returned" and now > back_by:
        return hit("recall_overdue", OVERDUE, due=shown)
    return None
