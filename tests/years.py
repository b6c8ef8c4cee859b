"""The year a stored record's number carries, read back from the record itself.

Numbers of registers and reports carry the Vietnam calendar year of the instant the service
used (``local_date(now).year``). Pages, the API and the CLI run on the real clock, so a test
that expects such a number reads that instant back from the database rather than calling
``now()`` a second time: a run a minute before midnight on 31 December (Vietnam time) would
otherwise expect one year while the record got the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from kt1.models import Envelope, Handoff, HandoverRecord, SelfInspection
from kt1.services.subjects import VIETNAM, local_date
from tests.conftest import Clock


def vn_year(moment: datetime) -> int:
    """The Vietnam calendar year of ``moment``."""
    return local_date(moment).year


def handover_record_year(session: Session, number: str) -> int:
    """The year of the handover record (biên bản bàn giao) ``number`` by its creation time."""
    session.rollback()
    created = session.execute(select(HandoverRecord.created_at).where(
        HandoverRecord.number == number)).scalar_one()
    return vn_year(created)


def inspection(session: Session, unit_id: int, seq_from_end: int = 0) -> SelfInspection:
    """The unit's latest self-inspection report (or the one ``seq_from_end`` before it)."""
    session.rollback()
    return session.execute(select(SelfInspection).where(SelfInspection.unit_id == unit_id)
                           .order_by(SelfInspection.id.desc()).offset(seq_from_end).limit(1)
                           ).unique().scalar_one()


def registered_year(session: Session, number: str) -> int:
    """The year of the envelope ``number``'s first event (its registration, or a copy's
    making): the instant its register number was taken from."""
    session.rollback()
    first = session.execute(select(Handoff.event_at).join(Envelope, Envelope.id ==
                                                          Handoff.envelope_id)
                            .where(Envelope.number == number, Handoff.seq == 0)).scalar_one()
    return vn_year(first)


class RecentClock(Clock):
    """A test clock for pages that show the register of the real clock's year: ``events``
    ticks from it end just before the real clock, all in the real clock's Vietnamese year
    (within the last 50 minutes, closer together in the first minutes of 1 January). Every
    tick is one equal step, whatever ``minutes`` it is asked for."""

    def __init__(self, events: int) -> None:
        super().__init__()
        real = datetime.now(UTC)
        new_year = datetime(vn_year(real), 1, 1, tzinfo=VIETNAM)
        self.now = max(real - timedelta(minutes=50), new_year)
        self.step = max((real - self.now) / (events + 1), timedelta(milliseconds=1))

    def tick(self, minutes: float = 0) -> datetime:
        self.now += self.step
        return self.now
