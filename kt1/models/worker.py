"""The background worker's records (``kt1 worker``, kt1/services/worker.py, docs/worker.md):
its heartbeat, and the notices it has sent, so none is sent twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kt1.models.base import Base, utcnow


class WorkerHeartbeat(Base):
    """One worker process: who (``host:pid``), since when, its last beat, the code version
    and schema heads it runs with. A worker that stopped cleanly sets ``stopped_at``."""

    __tablename__ = "worker_heartbeat"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    stopped_at: Mapped[datetime | None]
    version: Mapped[str] = mapped_column(String(64))
    schema_heads: Mapped[str] = mapped_column(String(500))


class WorkerNotice(Base):
    """A notice the worker gave a user: an envelope past its deadline (``kind`` overdue,
    ``ref`` its number) or an incident nobody acknowledged in time (``incident_unacknowledged``,
    ``ref`` its id). One row per (kind, ref, user): a notice is never given twice.
    ``emailed_at``: when it was also sent by email (SMTP configured, the user has an address).
    """

    __tablename__ = "worker_notice"
    __table_args__ = (UniqueConstraint("kind", "ref", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    emailed_at: Mapped[datetime | None]
