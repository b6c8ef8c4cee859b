"""Print jobs that are never lost, on both databases, against a real (fake) TCP printer.

A printer that is off (closed port), black-holes the connection or resets it: the clerk is
told at once, the job survives, is retried with backoff, and prints once the printer is
back, exactly once. Reprints need a reason, are recorded with who, when and why, and stay
out of the custody hash chain.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from kt1.errors import (
    DuplicateError,
    ForbiddenError,
    KT1Error,
    PrinterInvalidError,
    PrinterOfflineError,
    ReceiptPartiesError,
    ReprintReasonRequiredError,
    UnknownEnvelopeError,
    UnknownPrinterError,
)
from kt1.models import Envelope, Handoff
from kt1.models.printing import AttemptOutcome, PrintAttempt, PrintJob, PrintJobKind, PrintJobState
from kt1.services import custody, printing
from kt1.services.context import Ctx
from printers import captured
from tests.conftest import Clock, Network, new_scan, pin
from tests.fakes.printer import FakePrinter, parse_escpos
from tests.journey import register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]
WS = "quay-1"


@pytest.fixture
def fake() -> Iterator[FakePrinter]:
    with FakePrinter() as printer:
        yield printer


def add(ctx: Ctx, fake: FakePrinter, name: str = "nhan-1", **kw: Any) -> None:
    kw.setdefault("profile", "TM-T20II")
    kw.setdefault("width_mm", 80)
    printing.add_printer(ctx, None, name, fake.uri(), workstation=WS, **kw)


def attempts(ctx: Ctx, job_id: int) -> list[PrintAttempt]:
    ctx.session.rollback()
    return list(ctx.session.execute(select(PrintAttempt).where(
        PrintAttempt.job_id == job_id).order_by(PrintAttempt.number)).scalars())


def job(ctx: Ctx, job_id: int) -> PrintJob:
    ctx.session.rollback()
    found = ctx.session.get(PrintJob, job_id, populate_existing=True)
    assert found is not None
    return found


def chain(ctx: Ctx, envelope_id: int) -> list[str]:
    return list(ctx.session.execute(select(Handoff.hash).where(
        Handoff.envelope_id == envelope_id).order_by(Handoff.seq)).scalars())


def test_a_label_prints_on_the_workstations_default_printer_and_the_job_is_kept(
        ctx: Ctx, network: Network, clock: Clock, fake: FakePrinter) -> None:
    add(ctx, fake)
    envelope = register(ctx, network)
    outcome = printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
    assert outcome.is_done and outcome.attempts == 1 and outcome.number == envelope.number
    stored = job(ctx, outcome.job_id)
    assert stored.state is PrintJobState.DONE and stored.kind is PrintJobKind.LABEL
    assert stored.user_id == network["vt_bnv"].id and stored.envelope_id == envelope.id
    assert stored.printer_name == "nhan-1" and stored.bytes_sent and stored.payload_sha256
    assert [a.outcome for a in attempts(ctx, outcome.job_id)] == [AttemptOutcome.DONE]
    printouts = fake.printouts()
    assert len(printouts) == 1 and printouts[0].code128 == [envelope.number]
    assert printouts[0].qr == [envelope.number]


@pytest.mark.parametrize("mode", ["closed", "black_hole", "reset"])
def test_a_printer_that_is_off_keeps_the_job_which_prints_exactly_once_when_it_is_back(
        ctx: Ctx, network: Network, clock: Clock, mode: str) -> None:
    with FakePrinter(mode=mode) as fake:
        add(ctx, fake)
        envelope = register(ctx, network)
        links = chain(ctx, envelope.id)
        started = time.monotonic()
        with pytest.raises(PrinterOfflineError) as err:
            printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
        assert time.monotonic() - started < 3, "the clerk hears at once, not after a minute"
        assert err.value.slug == "printer_offline"
        assert "sẽ được in lại tự động" in err.value.message_local
        job_id = err.value.details["job_id"]
        first = job(ctx, job_id)
        assert first.state is PrintJobState.QUEUED and first.attempts == 1 and first.reason
        assert first.next_attempt_at == clock.now + timedelta(seconds=10)

        assert printing.retry_due(ctx) == []  # backoff not over yet
        clock.tick(1)
        [still] = printing.retry_due(ctx)
        assert still.state is PrintJobState.QUEUED and still.attempts == 2
        assert job(ctx, job_id).next_attempt_at == clock.now + timedelta(seconds=20)

        fake.mode = "online"
        clock.tick(1)
        [done] = printing.retry_due(ctx)
        assert done.is_done and done.job_id == job_id and done.attempts == 3
        clock.tick(10)
        assert printing.retry_due(ctx) == []

        printouts = fake.printouts()
        assert len(printouts) == 1, "printed once, exactly once"
        assert printouts[0].code128 == [envelope.number]
        outcomes = [a.outcome for a in attempts(ctx, job_id)]
        assert outcomes == [AttemptOutcome.UNAVAILABLE, AttemptOutcome.UNAVAILABLE,
                            AttemptOutcome.DONE]
        assert all(a.bytes_sent == 0 for a in attempts(ctx, job_id)[:2])
        assert chain(ctx, envelope.id) == links  # printing never touches the custody chain


def test_a_label_cut_off_by_a_reset_is_printed_whole_on_the_retry(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with FakePrinter(mode="reset", reset_after=6000) as fake:
        add(ctx, fake)
        envelope = register(ctx, network)
        with pytest.raises(PrinterOfflineError) as err:
            printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
        job_id = err.value.details["job_id"]
        [failed] = attempts(ctx, job_id)
        assert failed.stage in ("write", "confirm") and failed.bytes_sent > 0
        assert fake.printouts() == []  # half a raster image prints nothing usable
        fake.mode = "online"
        clock.tick(1)
        [done] = printing.retry_due(ctx)
        assert done.is_done
        assert len(fake.printouts()) == 1


def test_asking_again_while_the_printer_is_off_does_not_queue_a_second_label(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with FakePrinter(mode="closed") as fake:
        add(ctx, fake)
        envelope = register(ctx, network)
        ids = set()
        for _ in range(2):
            with pytest.raises(PrinterOfflineError) as err:
                printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
            ids.add(err.value.details["job_id"])
        assert len(ids) == 1
        fake.mode = "online"
        # no reason asked: nothing has come out of the printer yet
        outcome = printing.print_label(ctx, network["vt_bnv"], envelope.number,
                                       workstation=WS)
        assert outcome.is_done and outcome.job_id in ids and outcome.attempts == 3
        assert ctx.session.execute(select(func.count(PrintJob.id))).scalar_one() == 1
        assert len(fake.printouts()) == 1


def test_a_reprint_without_a_reason_is_refused_and_nothing_is_written(
        ctx: Ctx, network: Network, clock: Clock, fake: FakePrinter,
        snapshot: Snapshot) -> None:
    add(ctx, fake)
    envelope = register(ctx, network)
    printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
    before = snapshot()
    for reason in (None, "", "   "):
        with pytest.raises(ReprintReasonRequiredError) as err:
            printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS,
                                 reason=reason)
        assert err.value.slug == "reprint_reason_required"
    assert snapshot() == before
    assert len(fake.printouts()) == 1


def test_a_reprint_records_who_when_and_why_on_the_timeline_and_not_in_the_chain(
        ctx: Ctx, network: Network, clock: Clock, fake: FakePrinter) -> None:
    add(ctx, fake)
    envelope = register(ctx, network)
    links = chain(ctx, envelope.id)
    first = printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
    clock.tick(30)
    again = printing.print_label(ctx, network["bm_bnv"], envelope.number, workstation=WS,
                                 reason="Nhãn bị rách khi dán")
    assert again.is_done
    envelope = ctx.session.execute(
        select(Envelope).where(Envelope.id == envelope.id)).unique().scalar_one()
    history = printing.print_history(ctx, envelope)
    assert [h["event"] for h in history] == ["label_printed", "label_reprinted"]
    assert history[1]["user"] == "bm_bnv"
    assert history[1]["reprint_reason"] == "Nhãn bị rách khi dán"
    assert history[1]["at"] == clock.now.isoformat()
    assert history[1]["reprint_of"] == first.job_id and history[1]["state"] == "done"
    assert all(h["type"] == "print" for h in history)
    assert chain(ctx, envelope.id) == links and envelope.chain_length == len(links)
    assert printing.reprints_without_reason(ctx) == []
    assert len(fake.printouts()) == 2


def test_verify_finds_a_reprint_written_without_a_reason(
        ctx: Ctx, network: Network, clock: Clock, fake: FakePrinter) -> None:
    add(ctx, fake)
    envelope = register(ctx, network)
    first = printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
    stored = job(ctx, first.job_id)
    # a second label written around the service (e.g. straight into the table)
    ctx.session.add(PrintJob(
        kind=PrintJobKind.LABEL, state=PrintJobState.DONE, envelope_id=envelope.id,
        user_id=network["vt_bnv"].id, printer_name=stored.printer_name, uri=stored.uri,
        width_mm=80, requested_at=clock.tick(), attempts=1))
    ctx.session.commit()
    findings = printing.reprints_without_reason(ctx)
    assert len(findings) == 1
    assert findings[0]["code"] == "reprint_without_reason"
    assert findings[0]["number"] == envelope.number and findings[0]["user"] == "vt_bnv"
    assert printing.reprints_without_reason(ctx, envelope) == findings


def test_one_retry_round_waits_once_for_a_printer_that_is_down(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with FakePrinter(mode="black_hole") as fake:
        add(ctx, fake)
        ids = []
        for _ in range(2):
            envelope = register(ctx, network)
            with pytest.raises(PrinterOfflineError) as err:
                printing.print_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
            ids.append(err.value.details["job_id"])
        clock.tick(1)
        started = time.monotonic()
        outcomes = printing.retry_due(ctx)
        assert time.monotonic() - started < 3
        assert [o.job_id for o in outcomes] == ids[:1]
        assert job(ctx, ids[1]).attempts == 1
        fake.mode = "online"
        clock.tick(1)
        assert all(o.is_done for o in printing.retry_due(ctx))
        assert len(fake.printouts()) == 2


def test_a_job_left_printing_by_a_process_that_died_is_requeued_and_printed(
        ctx: Ctx, network: Network, clock: Clock, fake: FakePrinter) -> None:
    add(ctx, fake)
    envelope = register(ctx, network)
    queued = printing.queue_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
    assert printing._claim(ctx, queued.id) == 1  # claimed, then the process "died"
    clock.tick(1)
    assert printing.retry_due(ctx) == []  # it may still be printing
    clock.tick(10)
    [done] = printing.retry_due(ctx)
    assert done.is_done and done.attempts == 2
    assert [a.outcome for a in attempts(ctx, queued.id)] == [AttemptOutcome.INTERRUPTED,
                                                              AttemptOutcome.DONE]


def test_a_job_gives_up_after_its_attempts_and_can_be_retried_by_hand(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    with FakePrinter(mode="closed") as fake:
        add(ctx, fake)
        envelope = register(ctx, network)
        queued = printing.queue_label(ctx, network["vt_bnv"], envelope.number, workstation=WS)
        job(ctx, queued.id).max_attempts = 2
        ctx.session.commit()
        assert printing.run_job(ctx, queued.id).state is PrintJobState.QUEUED
        clock.tick(1)
        [gave_up] = printing.retry_due(ctx)
        assert gave_up.state is PrintJobState.FAILED
        assert gave_up.reason and gave_up.reason.startswith("gave up after 2 attempts")
        clock.tick(60)
        assert printing.retry_due(ctx, everything=True) == []  # failed jobs wait for a person
        fake.mode = "online"
        assert printing.retry_job(ctx, queued.id).is_done
        assert len(fake.printouts()) == 1


def test_a_wrong_printer_is_refused_before_any_job_is_written(
        ctx: Ctx, network: Network, snapshot: Snapshot) -> None:
    envelope = register(ctx, network)
    printing.add_printer(ctx, None, "small", "memory://small", profile="POS-5890", width_mm=58)
    before = snapshot()
    cases: list[tuple[type[KT1Error], dict[str, Any]]] = [
        (UnknownPrinterError, {"printer": "no-such-printer"}),
        (PrinterInvalidError, {"printer": "small", "width_mm": 80}),  # 576 dots on a 384
        (PrinterInvalidError, {"printer": "escpos+tcp://127.0.0.1:9?colour=red"}),
        (PrinterInvalidError, {"printer": "ftp://127.0.0.1"}),
    ]
    for error, kw in cases:
        with pytest.raises(error):
            printing.print_label(ctx, network["vt_bnv"], envelope.number, **kw)
    assert snapshot() == before


def test_a_clerk_of_another_unit_cannot_print_the_label(
        ctx: Ctx, network: Network, fake: FakePrinter, snapshot: Snapshot) -> None:
    add(ctx, fake)
    envelope = register(ctx, network)
    before = snapshot()
    # the recipient agency sees the envelope but does not print its label
    with pytest.raises(ForbiddenError):
        printing.print_label(ctx, network["vt_hcm"], envelope.number, workstation=WS)
    # an office it was never shown to may not even learn that it exists
    for user in ("bt_hn", "gd_hn", "vt_hn"):
        with pytest.raises(UnknownEnvelopeError):
            printing.print_label(ctx, network[user], envelope.number, workstation=WS)
    assert snapshot() == before
    assert fake.printouts() == []


def test_printers_are_checked_when_added_with_one_default_per_workstation(
        ctx: Ctx, network: Network, fake: FakePrinter, snapshot: Snapshot) -> None:
    first = printing.add_printer(ctx, None, "a", fake.uri(), profile="POS-5890", width_mm=58,
                                 workstation=WS)
    assert first.is_default
    second = printing.add_printer(ctx, network["admin"], "b", "zpl+tcp://10.0.0.9",
                                  width_mm=80, workstation=WS, is_default=True)
    ctx.session.rollback()
    assert second.is_default and not ctx.session.get(type(first), first.id).is_default
    before = snapshot()
    refusals: list[tuple[type[KT1Error], Callable[[], object]]] = [
        (PrinterInvalidError, lambda: printing.add_printer(
            ctx, None, "c", fake.uri(), profile="NO-SUCH", workstation=WS)),
        (PrinterInvalidError, lambda: printing.add_printer(
            ctx, None, "c", fake.uri(), profile="POS-5890", width_mm=80)),
        (PrinterInvalidError, lambda: printing.add_printer(
            ctx, None, "c", fake.uri(), profile="TM-T20II", width_mm=100)),
        (DuplicateError, lambda: printing.add_printer(ctx, None, "a", fake.uri())),
        (ForbiddenError, lambda: printing.add_printer(ctx, network["vt_bnv"], "d", fake.uri())),
    ]
    for error, call in refusals:
        with pytest.raises(error):
            call()
    assert snapshot() == before


def test_a_counter_receipt_lists_the_items_accepted_together(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    name = f"receipts-{uuid.uuid4().hex[:8]}"
    printing.add_printer(ctx, None, "quay", f"memory://{name}", profile="POS-5890",
                         width_mm=58, workstation=WS)
    numbers = []
    for _ in range(2):
        envelope = register(ctx, network)
        custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                                  pin(network["gd_hn"]), new_scan(), clock.tick(),
                                  giver_receipt=pin(network["vt_bnv"]))
        numbers.append(envelope.number)
    outcome = printing.print_receipt(ctx, network["gd_hn"], numbers, printer="quay")
    assert outcome.is_done
    printout = parse_escpos(captured(name)[-1])
    assert printout.image is not None and printout.image.width == 384
    data, _envelopes, _handoffs = printing.receipt_data(ctx, numbers)
    assert data.numbers == tuple(numbers) and data.giver_name == "VT_BNV"
    assert data.receiver_name == "GD_HN"
    envelope = ctx.session.execute(
        select(Envelope).where(Envelope.number == numbers[0])).unique().scalar_one()
    assert "receipt_printed" in [h["event"] for h in printing.print_history(ctx, envelope)]

    lone = register(ctx, network, clerk="vt_hn", recipient="BNV")
    custody.accept_at_counter(ctx, network["gd_hn"], lone.number, network["vt_hn"],
                              pin(network["gd_hn"]), new_scan(), clock.tick(),
                              giver_receipt=pin(network["vt_hn"]))
    with pytest.raises(ReceiptPartiesError):
        printing.print_receipt(ctx, network["gd_hn"], [*numbers, lone.number], printer="quay")


def test_a_test_page_is_a_stored_job_with_a_code_that_is_not_an_item_number(
        ctx: Ctx, network: Network, fake: FakePrinter) -> None:
    add(ctx, fake, width_mm=58, profile="POS-5890")
    outcome = printing.print_test_page(ctx, None, "nhan-1")
    assert outcome.is_done and outcome.kind == "test"
    assert len(fake.printouts()) == 1


# --------------------------------------------------------------------------- the CLI


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def test_a_clerk_prints_from_the_command_line_and_nothing_is_lost_while_the_printer_is_off(
        app: Flask, ctx: Ctx, network: Network, fake: FakePrinter, tmp_path: Path) -> None:
    envelope = register(ctx, network)
    number = envelope.number
    ws = ("--workstation", WS)
    added = run(app, "printer", "add", "quay-1", fake.uri(), "--profile", "TM-T20II",
                "--width", "80", *ws)
    assert added.exit_code == 0, added.output
    assert "TM-T20II" in added.output and "native" in added.output
    printed = run(app, "label", "print", number, "--user", "vt_bnv", *ws)
    assert printed.exit_code == 0, printed.output
    assert f"Đã in nhãn {number}" in printed.output

    again = run(app, "label", "print", number, "--user", "vt_bnv", *ws)
    assert again.exit_code == 2 and "reprint_reason_required" in again.output

    fake.mode = "closed"
    started = time.monotonic()
    offline = run(app, "label", "print", number, "--user", "vt_bnv", "--reason",
                  "Nhãn bị ướt", *ws)
    assert time.monotonic() - started < 3
    assert offline.exit_code == 2 and "printer_offline" in offline.output
    assert "sẽ được in lại tự động" in offline.output

    jobs = json.loads(run(app, "print-jobs", "--json").output)
    assert [(j["number"], j["printer"], j["state"]) for j in jobs] == [
        (number, "quay-1", "queued"), (number, "quay-1", "done")]
    assert jobs[0]["reason"] and jobs[0]["reprint_reason"] == "Nhãn bị ướt"
    listing = run(app, "print-jobs")
    assert "queued" in listing.output and number in listing.output

    fake.mode = "online"
    retried = run(app, "print-jobs", "retry", "--all")
    assert retried.exit_code == 0 and "done" in retried.output
    assert len(fake.printouts()) == 2
    assert run(app, "print-jobs", "retry").output.strip() == "Không có lệnh in nào đến hạn."

    png, pdf = tmp_path / "label.png", tmp_path / "sheet.pdf"
    shown = run(app, "label", "preview", number, "-o", str(png), "--width", "58")
    assert shown.exit_code == 0, shown.output
    assert Image.open(png).size[0] == 384
    sheet = run(app, "label", "preview", number, "-o", str(pdf))
    assert sheet.exit_code == 0 and pdf.read_bytes().startswith(b"%PDF")

    tested = run(app, "printer", "test", "quay-1", *ws)
    assert tested.exit_code == 0, tested.output
    assert "quay-1" in run(app, "printer", "list").output


def test_the_cli_needs_to_know_who_is_printing(app: Flask, ctx: Ctx, network: Network,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KT1_USER", raising=False)
    envelope = register(ctx, network)
    result = run(app, "label", "print", envelope.number, "--printer", "memory://x")
    assert result.exit_code != 0 and "--user" in result.output
