"""``kt1 printer``, ``kt1 label``, ``kt1 receipt`` and ``kt1 print-jobs``.

Printing commands act for a user (``--user`` or ``KT1_USER``), so that every job says who
asked for it; the workstation is this computer's host name unless ``--workstation`` says
otherwise.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import click
from flask import current_app

from kt1.cli.common import command, ctx, dump, table
from kt1.errors import ValidationError
from kt1.labels import render_label
from kt1.labels.content import VIETNAM
from kt1.labels.sheet import render_sheet
from kt1.models import User
from kt1.services import printing
from kt1.services.custody import load_envelope
from kt1.services.directory import find_user

user_option = click.option(
    "--user", "username", envvar="KT1_USER", required=True,
    help="Who is printing (username); or set KT1_USER.")
workstation_option = click.option(
    "--workstation", default=socket.gethostname, show_default="this host's name",
    help="The workstation whose printers to use.")


def _user(username: str) -> User:
    return find_user(ctx(), username)


def _options() -> printing.LabelOptions:
    return printing.LabelOptions(
        show_document_number=bool(current_app.config.get("LABEL_SHOW_DOCUMENT_NUMBER", False)))


def _say_outcome(outcome: printing.PrintOutcome, what: str) -> None:
    if outcome.is_done:
        click.echo(f"Đã in {what} trên máy in {outcome.printer} (lệnh in số {outcome.job_id}).")
    else:
        click.echo(f"Lệnh in số {outcome.job_id} ({what}) đang ở trạng thái {outcome.state}; "
                   "xem `kt1 print-jobs`.")


# --------------------------------------------------------------------------- printers


@click.group("printer")
def printer_group() -> None:
    """Label and receipt printers, per workstation."""


@printer_group.command("add")
@click.argument("name")
@click.argument("uri")
@click.option("--profile", default=None,
              help="python-escpos profile, e.g. TM-T20II, POS-5890 (decides native barcodes).")
@click.option("--width", "width_mm", type=click.Choice(["58", "80"]), default="80",
              show_default=True, help="Paper width in mm.")
@workstation_option
@click.option("--default", "is_default", is_flag=True, help="Default printer of the workstation.")
@command
def printer_add(name: str, uri: str, profile: str | None, width_mm: str, workstation: str,
                is_default: bool) -> None:
    """Add a printer: NAME and a driver URI such as escpos+tcp://10.0.0.5:9100."""
    printer = printing.add_printer(ctx(), None, name, uri, profile=profile,
                                   width_mm=int(width_mm), workstation=workstation,
                                   is_default=is_default)
    device = printing.open_label_printer(printer.uri, printer.profile, printer.width_mm)
    click.echo(f"Đã thêm máy in {printer.name} ({printer.width_mm} mm) cho máy trạm "
               f"{printer.workstation}{' - mặc định' if printer.is_default else ''}.")
    click.echo(f"  {device.describe()}")


@printer_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@command
def printer_list(as_json: bool) -> None:
    """List printers."""
    rows = [{"name": p.name, "uri": p.uri, "profile": p.profile, "width_mm": p.width_mm,
             "workstation": p.workstation, "is_default": p.is_default}
            for p in printing.list_printers(ctx())]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có máy in nào. Thêm bằng `kt1 printer add NAME URI`.")
    else:
        table([[str(r["name"]), str(r["workstation"]), str(r["width_mm"]),
                str(r["profile"] or "-"), "*" if r["is_default"] else "", str(r["uri"])]
               for r in rows],
              ["name", "workstation", "mm", "profile", "default", "uri"])


@printer_group.command("test")
@click.argument("name")
@click.option("--user", "username", envvar="KT1_USER", default=None,
              help="Who is printing (optional for a test page).")
@workstation_option
@command
def printer_test(name: str, username: str | None, workstation: str) -> None:
    """Print a test page on printer NAME (or a URI)."""
    actor = _user(username) if username else None
    outcome = printing.print_test_page(ctx(), actor, name, workstation)
    _say_outcome(outcome, "trang in thử")


# --------------------------------------------------------------------------- labels


@click.group("label")
def label_group() -> None:
    """Outer-envelope labels: print, preview."""


@label_group.command("print")
@click.argument("number")
@click.option("--printer", default=None, help="Printer name or URI (default: the "
              "workstation's default printer).")
@click.option("--reason", default=None, help="Why, when the label was already printed "
              "(a reprint needs a reason).")
@click.option("--width", "width_mm", type=click.Choice(["58", "80"]), default=None,
              help="Paper width (default: the printer's).")
@user_option
@workstation_option
@command
def label_print(number: str, printer: str | None, reason: str | None, width_mm: str | None,
                username: str, workstation: str) -> None:
    """Print the label of envelope NUMBER."""
    outcome = printing.print_label(ctx(), _user(username), number, printer=printer,
                                   workstation=workstation, reason=reason, options=_options(),
                                   width_mm=int(width_mm) if width_mm else None)
    _say_outcome(outcome, f"nhãn {outcome.number}")


@label_group.command("preview")
@click.argument("numbers", nargs=-1, required=True)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="FILE.png (one label) or FILE.pdf (an A4 sheet).")
@click.option("--width", "width_mm", type=click.Choice(["58", "80"]), default="80",
              show_default=True, help="Paper width in mm (the A4 sheet uses the same size).")
@command
def label_preview(numbers: tuple[str, ...], output: Path, width_mm: str) -> None:
    """Write a preview of the label of NUMBER: PNG at 203 dpi, or an A4 PDF sheet."""
    suffix = output.suffix.lower()
    if suffix not in (".png", ".pdf"):
        raise ValidationError(field="output", reason="the file must end in .png or .pdf")
    if suffix == ".png" and len(numbers) != 1:
        raise ValidationError(field="numbers", reason="a PNG preview shows one label")
    c = ctx()
    data = [printing.label_data(load_envelope(c, n), _options()) for n in numbers]
    if suffix == ".png":
        output.write_bytes(render_label(data[0], int(width_mm)).png())
    else:
        output.write_bytes(render_sheet(data, int(width_mm)))
    click.echo(f"Đã ghi {output} ({len(data)} nhãn, {width_mm} mm).")


# --------------------------------------------------------------------------- receipts


@click.group("receipt")
def receipt_group() -> None:
    """Counter receipts (biên nhận)."""


@receipt_group.command("print")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--printer", default=None, help="Printer name or URI.")
@user_option
@workstation_option
@command
def receipt_print(numbers: tuple[str, ...], printer: str | None, username: str,
                  workstation: str) -> None:
    """Print a receipt for the items NUMBERS handed over together."""
    outcome = printing.print_receipt(ctx(), _user(username), list(numbers), printer=printer,
                                     workstation=workstation)
    _say_outcome(outcome, f"biên nhận {len(numbers)} bưu gửi")


# --------------------------------------------------------------------------- jobs


@click.group("print-jobs", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--state", type=click.Choice([s.value for s in printing.PrintJobState]),
              default=None)
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def print_jobs_group(click_ctx: click.Context, as_json: bool, state: str | None,
                     limit: int) -> None:
    """Print jobs, newest first: envelope number, printer, state and reason."""
    if click_ctx.invoked_subcommand is None:
        click_ctx.invoke(print_jobs_list, as_json=as_json, state=state, limit=limit)


@command
def print_jobs_list(as_json: bool, state: str | None, limit: int) -> None:
    jobs = printing.list_jobs(ctx(), state=state, limit=limit)
    if as_json:
        dump(jobs)
    elif not jobs:
        click.echo("Chưa có lệnh in nào.")
    else:
        table([[str(j["job_id"]), j["kind"], j["number"] or ",".join(j["numbers"]) or "-",
                j["printer"], j["state"], str(j["attempts"]), (j["next_attempt_at"] or "")[:19],
                j["reprint_reason"] or "", (j["reason"] or "")[:70]] for j in jobs],
              ["job", "kind", "number", "printer", "state", "tries", "next (UTC)", "reprint",
               "reason"])


def _report(outcomes: list[printing.PrintOutcome]) -> None:
    for o in outcomes:
        what = o.number or o.kind
        if o.is_done:
            click.echo(f"job {o.job_id} {what}: done on {o.printer}")
        elif o.state is printing.PrintJobState.QUEUED:
            at = (o.next_attempt_at.astimezone(VIETNAM).strftime("%H:%M:%S (UTC+7)")
                  if o.next_attempt_at else "-")
            click.echo(f"job {o.job_id} {what}: still queued ({o.reason}); next try {at}")
        else:
            click.echo(f"job {o.job_id} {what}: {o.state} ({o.reason or ''})")


@print_jobs_group.command("retry")
@click.option("--all", "everything", is_flag=True, help="Every queued job now, ignoring backoff.")
@click.option("--job", "job_id", type=int, default=None,
              help="Only this job, now (a failed job is put back in the queue).")
@click.option("--watch", type=float, default=None, metavar="SECONDS",
              help="Keep retrying every SECONDS (Ctrl+C stops); `kt1 worker` does this and more.")
@command
def print_jobs_retry(everything: bool, job_id: int | None, watch: float | None) -> None:
    """Retry queued print jobs whose backoff has passed."""
    if job_id is not None:
        _report([printing.retry_job(ctx(), job_id)])
        return
    while True:
        outcomes = printing.retry_due(ctx(), everything=everything)
        if outcomes or watch is None:
            _report(outcomes) if outcomes else click.echo("Không có lệnh in nào đến hạn.")
        if watch is None:
            return
        time.sleep(max(watch, 0.5))
