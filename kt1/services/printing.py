"""Printing labels, counter receipts and test pages as stored jobs that are never lost.

Every print is first written down as a job (in nhãn: queued, printing, done, failed with
the reason), then tried once at once. A printer that is off, black-holes the connection or
resets it costs the clerk a few seconds, not a minute: the job stays queued, the clerk is
told so, and :func:`retry_due` (``kt1 print-jobs retry``, or a worker) tries again with
backoff. The printer is asked for its status before any byte of a label is sent, so a retry
never prints a label twice when the first try did not reach the paper. Only a printer that
takes the whole label and then resets or goes silent before confirming leaves a doubt; the
job is retried then too, and the attempt says so (stage ``confirm``, all bytes sent).

Reprints need a reason and are recorded with who, when and why. They live in the print-job
table, never in the custody hash chain: printing moves no envelope. :func:`print_history`
gives them to the envelope's timeline and :func:`reprints_without_reason` to ``verify``.

No network I/O happens inside a database transaction: a job is claimed (commit), printed,
then its outcome recorded (commit), so a slow printer never holds a lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

import printers
from kt1 import metrics
from kt1.errors import (
    DuplicateError,
    ForbiddenError,
    KT1Error,
    NoPrinterError,
    PrinterInvalidError,
    PrinterOfflineError,
    PrintJobFailedError,
    ReceiptNoHandoffError,
    ReceiptPartiesError,
    ReprintReasonRequiredError,
    UnknownEnvelopeError,
    UnknownPrinterError,
    UnknownPrintJobError,
    ValidationError,
)
from kt1.labels import LabelData, ReceiptData, geometry, render_label, render_receipt
from kt1.labels.content import VIETNAM
from kt1.labels.raster import render_test_page
from kt1.models import Envelope, Handoff, Unit, User
from kt1.models.enums import TRANSFER_EVENTS, Role, ServiceClass
from kt1.models.printing import (
    AttemptOutcome,
    PrintAttempt,
    Printer,
    PrintJob,
    PrintJobKind,
    PrintJobState,
)
from kt1.services.access import can_see, may_see_envelope
from kt1.services.context import Ctx
from kt1.services.custody import load_envelope
from kt1.services.text import clean_text
from kt1.services.tx import transactional

#: Seconds, short on purpose: a clerk at a counter must hear at once that a printer is off.
CONNECT_TIMEOUT = 3.0
WRITE_TIMEOUT = 5.0
#: Retry backoff: 10 s, 20 s, 40 s ... capped at 10 min; given up after MAX_ATTEMPTS tries
#: (about four and a half hours), until someone retries the job by hand.
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(minutes=10)
MAX_ATTEMPTS = 30
#: A job still "printing" after this long belongs to a process that died: requeue it.
STALE_AFTER = timedelta(minutes=5)
PAPER_WIDTHS = (58, 80)
_PENDING = (PrintJobState.QUEUED, PrintJobState.PRINTING)


@dataclass(frozen=True)
class LabelOptions:
    """Settings for what a label shows; the document number is off by default (rule 2)."""

    show_document_number: bool = False


@dataclass(frozen=True)
class PrintOutcome:
    """Where a job stands after an attempt (or after a request that found it busy)."""

    job_id: int
    kind: str
    state: PrintJobState
    printer: str
    attempts: int
    reason: str | None
    next_attempt_at: datetime | None
    bytes_sent: int | None
    number: str | None = None

    @property
    def is_done(self) -> bool:
        return self.state is PrintJobState.DONE


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 10 s doubling, capped."""
    step = BACKOFF_BASE * (2 ** max(0, min(attempts - 1, 16)))
    return min(step, BACKOFF_CAP)


# --------------------------------------------------------------------------- printers


def open_label_printer(uri: str, profile: str | None, width_mm: int) -> printers.LabelPrinter:
    """The driver for ``uri``; a wrong URI, profile or width is a ``printer_invalid`` error."""
    if width_mm not in PAPER_WIDTHS:
        raise PrinterInvalidError(reason=f"paper width must be 58 or 80 mm, not {width_mm}")
    try:
        return printers.open_printer(uri, profile=profile, width=geometry(width_mm).width,
                                     connect_timeout=CONNECT_TIMEOUT,
                                     write_timeout=WRITE_TIMEOUT)
    except printers.PrinterConfigError as exc:
        raise PrinterInvalidError(reason=exc.message) from None


def _console_or_admin(actor: User | None) -> None:
    if actor is not None and (not actor.is_active or actor.role is not Role.ADMINISTRATOR):
        raise ForbiddenError()


@transactional
def add_printer(ctx: Ctx, actor: User | None, name: str, uri: str, *,
                profile: str | None = None, width_mm: int = 80, workstation: str = "",
                is_default: bool = False) -> Printer:
    """Register a printer at a workstation (``actor`` None: the server console).

    The URI, the python-escpos profile and the paper width are checked now. The first
    printer of a workstation becomes its default.
    """
    _console_or_admin(actor)
    name = clean_text(name, "name", 64, required=True)
    uri = clean_text(uri, "uri", 500, required=True)
    profile = clean_text(profile, "profile", 64) or None
    workstation = clean_text(workstation, "workstation", 128)
    if "://" in name:
        raise ValidationError(field="name", reason="a printer name cannot look like a URI")
    open_label_printer(uri, profile, width_mm)
    session = ctx.session
    if session.execute(select(Printer.id).where(Printer.name == name)).first():
        raise DuplicateError(what=f"Printer {name}")
    others = session.execute(
        select(Printer).where(Printer.workstation == workstation, Printer.is_active)
    ).scalars().all()
    if is_default:
        for other in others:
            other.is_default = False
    printer = Printer(name=name, uri=uri, profile=profile, width_mm=width_mm,
                      workstation=workstation, is_default=is_default or not others,
                      created_at=ctx.now())
    session.add(printer)
    session.flush()
    return printer


def list_printers(ctx: Ctx, workstation: str | None = None) -> list[Printer]:
    stmt = select(Printer).where(Printer.is_active).order_by(Printer.workstation, Printer.name)
    if workstation is not None:
        stmt = stmt.where(Printer.workstation == workstation)
    return list(ctx.session.execute(stmt).scalars())


def find_printer(ctx: Ctx, name: str) -> Printer:
    printer = ctx.session.execute(
        select(Printer).where(Printer.name == name.strip(), Printer.is_active)
    ).scalar_one_or_none()
    if printer is None:
        raise UnknownPrinterError(printer=name)
    return printer


@transactional
def update_printer(ctx: Ctx, actor: User | None, name: str, *, uri: str,
                   profile: str | None = None, width_mm: int = 80, workstation: str = "",
                   is_default: bool = False) -> Printer:
    """Change a printer's URI, profile, paper width, workstation or default flag (checked
    like :func:`add_printer`). Jobs already made keep the printer they were made for."""
    _console_or_admin(actor)
    printer = find_printer(ctx, name)
    uri = clean_text(uri, "uri", 500, required=True)
    profile = clean_text(profile, "profile", 64) or None
    workstation = clean_text(workstation, "workstation", 128)
    open_label_printer(uri, profile, width_mm)
    others = ctx.session.execute(
        select(Printer).where(Printer.workstation == workstation, Printer.is_active,
                              Printer.id != printer.id)).scalars().all()
    if is_default:
        for other in others:
            other.is_default = False
    printer.uri, printer.profile, printer.width_mm = uri, profile, width_mm
    printer.workstation = workstation
    printer.is_default = is_default or not any(o.is_default for o in others)
    ctx.session.flush()
    return printer


@transactional
def remove_printer(ctx: Ctx, actor: User | None, name: str) -> Printer:
    """Take a printer out of use (never deleted: its print jobs name it). When it was its
    workstation's default, the workstation's only other printer, if there is one, becomes
    the default."""
    _console_or_admin(actor)
    printer = find_printer(ctx, name)
    was_default = printer.is_default
    printer.is_active, printer.is_default = False, False
    if was_default:
        others = ctx.session.execute(
            select(Printer).where(Printer.workstation == printer.workstation,
                                  Printer.is_active, Printer.id != printer.id)
        ).scalars().all()
        if len(others) == 1:
            others[0].is_default = True
    ctx.session.flush()
    return printer


@dataclass(frozen=True)
class Target:
    """The printer a job goes to, copied into the job."""

    printer_id: int | None
    name: str
    uri: str
    profile: str | None
    width_mm: int


def resolve_target(ctx: Ctx, printer: str | None, workstation: str, *,
                   profile: str | None = None, width_mm: int | None = None) -> Target:
    """A printer by name, an ad-hoc URI, or the workstation's default printer."""
    if printer and "://" in printer:
        uri = clean_text(printer, "printer", 500, required=True)
        width = width_mm or 80
        open_label_printer(uri, profile, width)
        return Target(None, uri[:64], uri, profile, width)
    if printer:
        found = find_printer(ctx, printer)
    else:
        candidates = list_printers(ctx, workstation)
        defaults = [p for p in candidates if p.is_default] or candidates
        if len(defaults) != 1:
            raise NoPrinterError(workstation=workstation or "(none)")
        found = defaults[0]
    target = Target(found.id, found.name, found.uri, profile or found.profile,
                    width_mm or found.width_mm)
    if width_mm or profile:  # an override must still suit the printer
        open_label_printer(target.uri, target.profile, target.width_mm)
    return target


# --------------------------------------------------------------------------- label content


def label_data(envelope: Envelope, options: LabelOptions | None = None) -> LabelData:
    """What the outer envelope shows. Never the subject, never the classification word.

    A Tuyệt mật item travels in two envelopes: the named recipient, the "Chỉ người có tên
    mới được bóc bì" stamp and the document number belong on the inner one, so the outer
    label is ordinary mail plus the letter A (docs/rules.md, rule 2).
    """
    options = options or LabelOptions()
    outer_only = envelope.layers >= 2
    return LabelData(
        number=envelope.number,
        mark=envelope.mark,
        service=str(envelope.service),
        sender=envelope.sender_unit.name,
        recipient=envelope.recipient_unit.name,
        recipient_address=envelope.recipient_unit.address,
        register_number=envelope.register_number,
        agreed_at=envelope.agreed_at if envelope.service is ServiceClass.TIMED else None,
        recipient_name="" if outer_only else envelope.recipient_name,
        is_addressee_only=envelope.is_addressee_only and not outer_only,
        document_number=(envelope.document_number
                         if options.show_document_number and not outer_only else None),
        copy_label=envelope.copy_label,
        urgency=str(envelope.urgency),
    )


def _may_print_label(actor: User, envelope: Envelope) -> None:
    """The sender's registry clerks and security officers, and counter clerks who see it."""
    if not actor.is_active:
        raise ForbiddenError()
    if actor.role in (Role.REGISTRY_CLERK, Role.SECURITY_OFFICER):
        if actor.unit_id == envelope.sender_unit_id:
            return
    elif actor.role is Role.COUNTER_CLERK and can_see(actor, envelope):
        return
    raise ForbiddenError()


def _job_for(kind: PrintJobKind, actor: User | None, target: Target, workstation: str,
             now: datetime) -> PrintJob:
    return PrintJob(kind=kind, state=PrintJobState.QUEUED, user_id=actor.id if actor else None,
                    printer_id=target.printer_id, printer_name=target.name, uri=target.uri,
                    profile=target.profile, width_mm=target.width_mm, workstation=workstation,
                    attempts=0, max_attempts=MAX_ATTEMPTS, requested_at=now,
                    next_attempt_at=now)


@transactional
def queue_label(ctx: Ctx, actor: User, number: str, *, printer: str | None = None,
                workstation: str = "", reason: str | None = None,
                options: LabelOptions | None = None, width_mm: int | None = None) -> PrintJob:
    """Store a label job for ``number`` (nothing is sent yet).

    A label already printed makes this a reprint, which needs a reason. A job still
    waiting for the same envelope is reused (pointed at the printer now asked for) rather
    than doubled: asking again means "print it now", not "print two".
    """
    options = options or LabelOptions()
    session = ctx.session
    envelope = load_envelope(ctx, number)
    if not may_see_envelope(session, actor, envelope):
        raise UnknownEnvelopeError(number=envelope.number)  # as for a number never issued
    _may_print_label(actor, envelope)
    target = resolve_target(ctx, printer, workstation, width_mm=width_mm)
    why = clean_text(reason, "reason", 200) or None
    pending = session.execute(
        select(PrintJob).where(PrintJob.envelope_id == envelope.id,
                               PrintJob.kind == PrintJobKind.LABEL,
                               PrintJob.state.in_(_PENDING))
        .order_by(PrintJob.id).limit(1)).scalar_one_or_none()
    if pending is not None:
        if pending.state is PrintJobState.QUEUED and (printer or width_mm):
            pending.printer_id, pending.printer_name = target.printer_id, target.name
            pending.uri, pending.profile = target.uri, target.profile
            pending.width_mm = target.width_mm
        if pending.state is PrintJobState.QUEUED:
            pending.next_attempt_at = ctx.now()
        return pending
    printed = session.execute(
        select(PrintJob).where(PrintJob.envelope_id == envelope.id,
                               PrintJob.kind == PrintJobKind.LABEL,
                               PrintJob.state == PrintJobState.DONE)
        .order_by(PrintJob.id.desc()).limit(1)).scalar_one_or_none()
    if printed is not None and not why:
        raise ReprintReasonRequiredError(number=envelope.number)
    job = _job_for(PrintJobKind.LABEL, actor, target, workstation, ctx.now())
    job.envelope_id = envelope.id
    job.shows_document_number = bool(label_data(envelope, options).document_number)
    if printed is not None:
        job.is_reprint, job.reprint_reason, job.reprint_of_id = True, why, printed.id
    session.add(job)
    session.flush()
    return job


def print_label(ctx: Ctx, actor: User, number: str, *, printer: str | None = None,
                workstation: str = "", reason: str | None = None,
                options: LabelOptions | None = None, width_mm: int | None = None
                ) -> PrintOutcome:
    """Store a label job and print it now.

    Raises ``printer_offline`` (the job stays queued and is retried) or ``print_job_failed``
    after the job and the attempt are stored; returns the outcome when the label is out.
    """
    job = queue_label(ctx, actor, number, printer=printer, workstation=workstation,
                      reason=reason, options=options, width_mm=width_mm)
    return raise_for_outcome(run_job(ctx, job.id))


def print_test_page(ctx: Ctx, actor: User | None, printer: str, workstation: str = ""
                    ) -> PrintOutcome:
    """Print a test page on ``printer`` (a name or a URI), as a stored job."""
    job_id = _queue_simple(ctx, actor, PrintJobKind.TEST, printer, workstation, ())
    return raise_for_outcome(run_job(ctx, job_id))


# --------------------------------------------------------------------------- receipts


def receipt_data(ctx: Ctx, numbers: list[str], as_of: datetime | None = None,
                 actor: User | None = None
                 ) -> tuple[ReceiptData, list[Envelope], list[Handoff]]:
    """A counter receipt for ``numbers``: their latest handover (up to ``as_of``), which
    must have the same giver and receiver for all of them. With ``actor``, a number the
    actor may not see answers as unknown before anything else is said about it."""
    session = ctx.session
    envelopes = [load_envelope(ctx, n) for n in numbers]
    for envelope in envelopes:
        if actor is not None and not may_see_envelope(session, actor, envelope):
            raise UnknownEnvelopeError(number=envelope.number)
    handoffs: list[Handoff] = []
    for envelope in envelopes:
        stmt = (select(Handoff).where(Handoff.envelope_id == envelope.id,
                                      Handoff.kind.in_(list(TRANSFER_EVENTS)))
                .order_by(Handoff.seq.desc()).limit(1))
        if as_of is not None:
            stmt = stmt.where(Handoff.recorded_at <= as_of)
        handoff = session.execute(stmt).scalar_one_or_none()
        if handoff is None or handoff.from_unit_id is None:
            raise ReceiptNoHandoffError(number=envelope.number)
        handoffs.append(handoff)
    first = handoffs[0]
    parties = (first.from_unit_id, first.from_user_id, first.to_unit_id, first.to_user_id)
    for envelope, h in zip(envelopes, handoffs, strict=True):
        if (h.from_unit_id, h.from_user_id, h.to_unit_id, h.to_user_id) != parties:
            raise ReceiptPartiesError(number=envelope.number)

    def unit(unit_id: int | None) -> str:
        found = session.get(Unit, unit_id) if unit_id is not None else None
        return found.name if found else ""

    def person(user_id: int | None) -> str:
        found = session.get(User, user_id) if user_id is not None else None
        return found.full_name if found else ""

    data = ReceiptData(
        numbers=tuple(e.number for e in envelopes), at=max(h.event_at for h in handoffs),
        giver_unit=unit(first.from_unit_id), giver_name=person(first.from_user_id),
        receiver_unit=unit(first.to_unit_id), receiver_name=person(first.to_user_id))
    return data, envelopes, handoffs


@transactional
def _queue_receipt(ctx: Ctx, actor: User, numbers: list[str], printer: str | None,
                   workstation: str) -> int:
    _data, envelopes, handoffs = receipt_data(ctx, numbers, actor=actor)
    h = handoffs[0]
    if not actor.is_active or actor.unit_id not in (h.from_unit_id, h.to_unit_id):
        raise ForbiddenError()
    target = resolve_target(ctx, printer, workstation)
    job = _job_for(PrintJobKind.RECEIPT, actor, target, workstation, ctx.now())
    job.numbers = ",".join(e.number for e in envelopes)
    job.envelope_id = envelopes[0].id if len(envelopes) == 1 else None
    ctx.session.add(job)
    ctx.session.flush()
    return job.id


def print_receipt(ctx: Ctx, actor: User, numbers: list[str], *, printer: str | None = None,
                  workstation: str = "") -> PrintOutcome:
    """Print a counter receipt (biên nhận) for items handed over together, as a stored job."""
    if not numbers:
        raise ValidationError(field="numbers", reason="at least one item number")
    if len(numbers) > 150:
        raise ValidationError(field="numbers", reason="at most 150 items on one receipt")
    job_id = _queue_receipt(ctx, actor, numbers, printer, workstation)
    return raise_for_outcome(run_job(ctx, job_id))


@transactional
def _queue_simple(ctx: Ctx, actor: User | None, kind: PrintJobKind, printer: str,
                  workstation: str, numbers: tuple[str, ...]) -> int:
    if actor is not None and not actor.is_active:
        raise ForbiddenError()
    target = resolve_target(ctx, printer, workstation)
    job = _job_for(kind, actor, target, workstation, ctx.now())
    job.numbers = ",".join(numbers)
    ctx.session.add(job)
    ctx.session.flush()
    return job.id


# --------------------------------------------------------------------------- running jobs


def _document(ctx: Ctx, job: PrintJob) -> printers.Document:
    if job.kind is PrintJobKind.LABEL:
        envelope = ctx.session.get(Envelope, job.envelope_id)
        if envelope is None:
            raise ValueError("the job's envelope is gone")
        options = LabelOptions(show_document_number=job.shows_document_number)
        return render_label(label_data(envelope, options), job.width_mm).document
    if job.kind is PrintJobKind.RECEIPT:
        data, _e, _h = receipt_data(ctx, job.numbers.split(","), as_of=job.requested_at)
        return render_receipt(data, job.width_mm).document
    return render_test_page(job.printer_name, job.width_mm).document


@transactional
def _claim(ctx: Ctx, job_id: int) -> int | None:
    """queued -> printing, one more attempt; None when someone else has it or it is over."""
    now = ctx.now()
    claimed = ctx.session.execute(
        update(PrintJob)
        .where(PrintJob.id == job_id, PrintJob.state == PrintJobState.QUEUED)
        .values(state=PrintJobState.PRINTING, started_at=now, attempts=PrintJob.attempts + 1)
        .execution_options(synchronize_session=False))
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    attempt = ctx.session.execute(
        select(PrintJob.attempts).where(PrintJob.id == job_id)).scalar_one()
    ctx.session.add(PrintAttempt(job_id=job_id, number=attempt, started_at=now))
    return int(attempt)


def _finish(ctx: Ctx, job_id: int, attempt_no: int, outcome: AttemptOutcome,
            **recorded: Any) -> PrintOutcome:
    """Record an attempt's outcome (committed), then count it (``kt1_print_attempts``)."""
    result = _record_finish(ctx, job_id, attempt_no, outcome, **recorded)
    metrics.count_print_attempt(result.kind, outcome.value)
    return result


@transactional
def _record_finish(ctx: Ctx, job_id: int, attempt_no: int, outcome: AttemptOutcome, *,
                   error: str | None = None, stage: str | None = None, bytes_sent: int = 0,
                   sha256: str | None = None) -> PrintOutcome:
    now = ctx.now()
    session = ctx.session
    job = session.get(PrintJob, job_id, populate_existing=True)
    attempt = session.execute(select(PrintAttempt).where(
        PrintAttempt.job_id == job_id, PrintAttempt.number == attempt_no)).scalar_one()
    if job is None:
        raise UnknownPrintJobError(job_id=job_id)
    attempt.finished_at, attempt.outcome = now, outcome
    attempt.stage, attempt.bytes_sent = stage, bytes_sent
    attempt.error = error[:500] if error else None
    if outcome is AttemptOutcome.DONE:
        job.state, job.finished_at, job.reason = PrintJobState.DONE, now, None
        job.next_attempt_at, job.bytes_sent, job.payload_sha256 = None, bytes_sent, sha256
    elif outcome is AttemptOutcome.UNAVAILABLE and job.attempts < job.max_attempts:
        job.state, job.reason = PrintJobState.QUEUED, attempt.error
        job.next_attempt_at = now + backoff(job.attempts)
    else:
        if outcome is AttemptOutcome.UNAVAILABLE:
            error = f"gave up after {job.attempts} attempts: {error}"
        job.state, job.finished_at, job.next_attempt_at = PrintJobState.FAILED, now, None
        job.reason = error[:500] if error else "failed"
    session.flush()
    return _outcome(ctx, job)


def _outcome(ctx: Ctx, job: PrintJob) -> PrintOutcome:
    number = None
    if job.envelope_id is not None:
        number = ctx.session.execute(
            select(Envelope.number).where(Envelope.id == job.envelope_id)).scalar_one()
    return PrintOutcome(job_id=job.id, kind=str(job.kind), state=job.state,
                        printer=job.printer_name, attempts=job.attempts, reason=job.reason,
                        next_attempt_at=job.next_attempt_at, bytes_sent=job.bytes_sent,
                        number=number or (job.numbers or None))


def run_job(ctx: Ctx, job_id: int) -> PrintOutcome:
    """Try a queued job once now: claim it, render, send, record what happened.

    Also what a worker calls (through :func:`retry_due`). A job another process is
    printing, or one already finished, is returned as it stands.
    """
    attempt = _claim(ctx, job_id)
    if attempt is None:
        job = ctx.session.get(PrintJob, job_id, populate_existing=True)
        if job is None:
            raise UnknownPrintJobError(job_id=job_id)
        outcome = _outcome(ctx, job)
        ctx.session.rollback()
        return outcome
    try:
        job = ctx.session.get(PrintJob, job_id, populate_existing=True)
        if job is None:
            raise UnknownPrintJobError(job_id=job_id)
        document = _document(ctx, job)
        device = open_label_printer(job.uri, job.profile, job.width_mm)
    except (KT1Error, ValueError) as exc:
        ctx.session.rollback()
        reason = exc.message if isinstance(exc, KT1Error) else str(exc)
        return _finish(ctx, job_id, attempt, AttemptOutcome.FAILED, error=reason,
                       stage="render")
    # End the read transaction before any network I/O: a printer that takes its time
    # must not hold a database lock (SQLite takes the write lock at BEGIN).
    ctx.session.rollback()
    try:
        result = device.print(document)
    except printers.PrinterError as exc:
        error = exc.message
        if exc.stage == "confirm":
            # The printer took every byte but never confirmed (it reset or went silent).
            # The rule: retry. The attempt keeps stage and byte count, so a second
            # label, if the first did come out, is accounted for.
            error += "; the whole label had been sent, so the retry may print a second copy"
        result_kind = AttemptOutcome.UNAVAILABLE if exc.retryable else AttemptOutcome.FAILED
        return _finish(ctx, job_id, attempt, result_kind, error=error, stage=exc.stage,
                       bytes_sent=exc.bytes_sent)
    return _finish(ctx, job_id, attempt, AttemptOutcome.DONE, stage="done",
                   bytes_sent=result.bytes_sent, sha256=result.sha256)


def raise_for_outcome(outcome: PrintOutcome) -> PrintOutcome:
    """The outcome when the job is done; otherwise the error a clerk should see at once."""
    if outcome.state is PrintJobState.QUEUED:
        retry_at = outcome.next_attempt_at
        raise PrinterOfflineError(
            printer=outcome.printer, job_id=outcome.job_id, reason=outcome.reason or "",
            retry_at=retry_at.astimezone(VIETNAM).strftime("%H:%M:%S (UTC+7)") if retry_at else "-")
    if outcome.state is PrintJobState.FAILED:
        raise PrintJobFailedError(printer=outcome.printer, job_id=outcome.job_id,
                                  reason=outcome.reason or "")
    return outcome


@transactional
def _recover_stale(ctx: Ctx) -> int:
    """Jobs left "printing" by a process that died: back to the queue, attempt recorded."""
    limit = ctx.now() - STALE_AFTER
    stale = ctx.session.execute(select(PrintJob).where(
        PrintJob.state == PrintJobState.PRINTING, PrintJob.started_at < limit)).scalars().all()
    for job in stale:
        job.state, job.next_attempt_at = PrintJobState.QUEUED, ctx.now()
        job.reason = "interrupted while printing (the printing process stopped)"
        attempt = ctx.session.execute(select(PrintAttempt).where(
            PrintAttempt.job_id == job.id, PrintAttempt.number == job.attempts)
        ).scalar_one_or_none()
        if attempt is not None and attempt.outcome is None:
            attempt.outcome, attempt.finished_at = AttemptOutcome.INTERRUPTED, ctx.now()
    return len(stale)


def retry_due(ctx: Ctx, *, everything: bool = False, limit: int = 100) -> list[PrintOutcome]:
    """Retry queued jobs whose backoff has passed (``everything``: all queued jobs now).

    What ``kt1 print-jobs retry`` and a background worker call. Jobs go in the order they
    were asked for; once a printer is found unavailable, its other jobs wait for the next
    round instead of each waiting out the timeout again.
    """
    _recover_stale(ctx)
    stmt = (select(PrintJob.id, PrintJob.uri).where(PrintJob.state == PrintJobState.QUEUED)
            .order_by(PrintJob.requested_at, PrintJob.id).limit(limit))
    if not everything:
        now = ctx.now()
        stmt = stmt.where(or_(PrintJob.next_attempt_at.is_(None),
                              PrintJob.next_attempt_at <= now))
    rows = ctx.session.execute(stmt).all()
    ctx.session.rollback()
    down: set[str] = set()
    outcomes = []
    for job_id, uri in rows:
        if uri in down:
            continue
        outcome = run_job(ctx, job_id)
        if outcome.state is PrintJobState.QUEUED:
            down.add(uri)
        outcomes.append(outcome)
    return outcomes


@transactional
def _requeue(ctx: Ctx, job_id: int) -> None:
    job = ctx.session.get(PrintJob, job_id)
    if job is None:
        raise UnknownPrintJobError(job_id=job_id)
    if job.state is PrintJobState.FAILED:
        job.state, job.finished_at = PrintJobState.QUEUED, None
        job.max_attempts = job.attempts + MAX_ATTEMPTS
    if job.state is PrintJobState.QUEUED:
        job.next_attempt_at = ctx.now()


def retry_job(ctx: Ctx, job_id: int) -> PrintOutcome:
    """Try one job now; a failed job is put back in the queue first (by hand, on purpose)."""
    _requeue(ctx, job_id)
    return run_job(ctx, job_id)


# --------------------------------------------------------------------------- records


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_record(job: PrintJob, number: str | None, username: str | None) -> dict[str, Any]:
    """A job as plain data (CLI ``--json``, API, timeline)."""
    return {
        "job_id": job.id,
        "kind": str(job.kind),
        "number": number,
        "numbers": job.numbers.split(",") if job.numbers else ([number] if number else []),
        "printer": job.printer_name,
        "uri": job.uri,
        "width_mm": job.width_mm,
        "state": str(job.state),
        "reason": job.reason,
        "attempts": job.attempts,
        "next_attempt_at": _iso(job.next_attempt_at),
        "requested_at": _iso(job.requested_at),
        "finished_at": _iso(job.finished_at),
        "user": username,
        "is_reprint": job.is_reprint,
        "reprint_reason": job.reprint_reason,
        "reprint_of": job.reprint_of_id,
    }


def list_jobs(ctx: Ctx, *, state: PrintJobState | str | None = None, limit: int = 200
              ) -> list[dict[str, Any]]:
    """Recent print jobs, newest first, each with its envelope number, printer, state and
    reason."""
    stmt = (select(PrintJob, Envelope.number, User.username)
            .outerjoin(Envelope, PrintJob.envelope_id == Envelope.id)
            .outerjoin(User, PrintJob.user_id == User.id)
            .order_by(PrintJob.id.desc()).limit(limit))
    if state:
        stmt = stmt.where(PrintJob.state == PrintJobState(state))
    return [job_record(job, number, username)
            for job, number, username in ctx.session.execute(stmt).unique()]


def print_history(ctx: Ctx, envelope: Envelope) -> list[dict[str, Any]]:
    """Every print of ``envelope``'s label (and every receipt naming it), oldest first, for
    the envelope's timeline. Each entry has ``type: "print"``, ``at`` (ISO time asked),
    ``event`` (``label_printed``, ``label_reprinted``, ``receipt_printed``), who, the printer,
    the state, the failure reason, for a reprint its reason (why), and
    ``unconfirmed_attempts`` (tries that sent the whole label unconfirmed)."""
    stmt = (select(PrintJob, User.username)
            .outerjoin(User, PrintJob.user_id == User.id)
            .where(or_(PrintJob.envelope_id == envelope.id,
                       PrintJob.numbers.contains(envelope.number)))
            .order_by(PrintJob.requested_at, PrintJob.id))
    unconfirmed = {job_id: int(count) for job_id, count in ctx.session.execute(
        select(PrintAttempt.job_id, func.count(PrintAttempt.id))
        .join(PrintJob, PrintAttempt.job_id == PrintJob.id)
        .where(PrintJob.envelope_id == envelope.id, PrintAttempt.stage == "confirm")
        .group_by(PrintAttempt.job_id))}
    out = []
    for job, username in ctx.session.execute(stmt).unique():
        if job.kind is PrintJobKind.LABEL:
            event = "label_reprinted" if job.is_reprint else "label_printed"
        else:
            event = f"{job.kind}_printed"
        out.append({"type": "print", "event": event, "at": _iso(job.requested_at),
                    **job_record(job, envelope.number, username),
                    # tries that sent the whole label without the printer confirming it
                    "unconfirmed_attempts": unconfirmed.get(job.id, 0)})
    return out


def reprints_without_reason(ctx: Ctx, envelope: Envelope | None = None
                            ) -> list[dict[str, Any]]:
    """Findings for ``verify``: label jobs asked for after a label of the same envelope had
    already come out, with no recorded reason (or marked as a reprint without one).

    The service refuses such reprints, so a finding means the table was written some other
    way. Each finding: ``code`` (``reprint_without_reason``), ``number``, ``job_id``,
    ``requested_at``, ``user``.
    """
    stmt = (select(PrintJob, Envelope.number, User.username)
            .join(Envelope, PrintJob.envelope_id == Envelope.id)
            .outerjoin(User, PrintJob.user_id == User.id)
            .where(PrintJob.kind == PrintJobKind.LABEL)
            .order_by(PrintJob.envelope_id, PrintJob.requested_at, PrintJob.id))
    if envelope is not None:
        stmt = stmt.where(PrintJob.envelope_id == envelope.id)
    findings = []
    printed: set[int] = set()
    for job, number, username in ctx.session.execute(stmt).unique():
        has_reason = bool(job.reprint_reason and job.reprint_reason.strip())
        if (job.envelope_id in printed or job.is_reprint) and not has_reason:
            findings.append({"code": "reprint_without_reason", "number": number,
                             "job_id": job.id, "requested_at": _iso(job.requested_at),
                             "user": username})
        if job.state is PrintJobState.DONE and job.envelope_id is not None:
            printed.add(job.envelope_id)
    return findings
