"""Printers per workstation, print jobs that are never lost, and every attempt to print them.

ESC/POS and ZPL printers never confirm that a label came out, so every print is a stored job
with its outcome, and every reprint carries who asked, when and why. None of this is part of
the custody hash chain: printing a label moves no envelope.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kt1.models.base import Base, StrEnumType, utcnow
from kt1.models.envelopes import Envelope
from kt1.models.units import User


class PrintJobKind(StrEnum):
    LABEL = "label"  # nhãn bì ngoài
    RECEIPT = "receipt"  # biên nhận tại quầy
    TEST = "test"  # trang in thử
    LABEL_PDF = "label_pdf"  # nhãn tải về dạng PDF, in trên máy in văn phòng ("In ra PDF")


class PrintJobState(StrEnum):
    QUEUED = "queued"  # waiting for its (next) attempt
    PRINTING = "printing"  # an attempt is under way
    DONE = "done"  # the printer took the whole job
    FAILED = "failed"  # given up: see ``reason``


class AttemptOutcome(StrEnum):
    DONE = "done"
    UNAVAILABLE = "unavailable"  # printer off, unreachable, black hole, reset: retried
    FAILED = "failed"  # wrong configuration or content: not retried
    INTERRUPTED = "interrupted"  # the process died during the attempt


class Printer(Base):
    """A label or receipt printer at a workstation, reached through a driver URI."""

    __tablename__ = "printer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    uri: Mapped[str] = mapped_column(String(500))
    profile: Mapped[str | None] = mapped_column(String(64))  # python-escpos profile
    width_mm: Mapped[int] = mapped_column(default=80)  # paper: 58 or 80
    workstation: Mapped[str] = mapped_column(String(128), index=True, default="")
    is_default: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Printer {self.name} {self.width_mm}mm>"


class PrintJob(Base):
    """One thing to print (a label, a receipt, a test page), kept whatever happens to it.

    The printer's name, URI, profile and width are copied in, so a job is retried on the
    printer it was sent to even if that printer's record changes later.
    """

    __tablename__ = "print_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PrintJobKind] = mapped_column(StrEnumType(PrintJobKind))
    state: Mapped[PrintJobState] = mapped_column(StrEnumType(PrintJobState), index=True)
    envelope_id: Mapped[int | None] = mapped_column(ForeignKey("envelope.id"), index=True)
    numbers: Mapped[str] = mapped_column(String(2000), default="")  # receipt: item numbers
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printer.id"))
    printer_name: Mapped[str] = mapped_column(String(64))
    uri: Mapped[str] = mapped_column(String(500))
    profile: Mapped[str | None] = mapped_column(String(64))
    width_mm: Mapped[int]
    workstation: Mapped[str] = mapped_column(String(128), default="")
    shows_document_number: Mapped[bool] = mapped_column(default=False)
    is_reprint: Mapped[bool] = mapped_column(default=False)
    reprint_reason: Mapped[str | None] = mapped_column(String(200))
    reprint_of_id: Mapped[int | None] = mapped_column(ForeignKey("print_job.id"))
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=30)  # raised when retried by hand
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    reason: Mapped[str | None] = mapped_column(String(500))  # why the last attempt failed
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    bytes_sent: Mapped[int | None]
    payload_sha256: Mapped[str | None] = mapped_column(String(64))

    envelope: Mapped[Envelope | None] = relationship(foreign_keys=[envelope_id])
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<PrintJob {self.id} {self.kind} {self.state}>"


class PrintAttempt(Base):
    """One try at sending a job: when, how far it got, and what the printer did."""

    __tablename__ = "print_attempt"
    __table_args__ = (UniqueConstraint("job_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("print_job.id"), index=True)
    number: Mapped[int]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[AttemptOutcome | None] = mapped_column(StrEnumType(AttemptOutcome))
    stage: Mapped[str | None] = mapped_column(String(16))  # connect, status, write, confirm
    bytes_sent: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))

    def __repr__(self) -> str:
        return f"<PrintAttempt {self.job_id}#{self.number} {self.outcome}>"
