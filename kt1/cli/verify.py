"""``kt1 verify``, ``kt1 checkpoint``, ``kt1 rules`` and ``kt1 dayoff``.

Exit codes of ``kt1 verify`` and ``kt1 checkpoint verify``: 0 when nothing is broken (overdue
envelopes are reported but are not a broken record), 1 when an envelope is broken or the log
no longer extends a checkpoint, 2 for bad input (an unknown number, an empty database, a
checkpoint file that was altered, signed with another key or made by another installation).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import click

from kt1.cli.common import command, ctx, dump, table
from kt1.models.enums import Route, ServiceClass
from kt1.services import checkpoints, deadlines
from kt1.services.checkpoints import CheckpointFileError, Consistency
from kt1.services.verify import (
    CSV_HEADER,
    EnvelopeReport,
    Summary,
    csv_rows,
    verify,
)

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _read_checkpoint(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise CheckpointFileError(reason="it is not a text file") from None


def _checkpoint_and_key(path: str, key_path: str | None) -> tuple[str, str | None]:
    """The checkpoint text and the public key to check it with (None: the configured one).

    ``path`` is an exported checkpoint file or a backup directory (docs/backup.md): its
    ``checkpoint.txt``, checked with its ``public-key.txt`` unless ``--public-key`` names one.
    """
    from kt1.services.backup import CHECKPOINT_FILE, PUBLIC_KEY_FILE, read_public_key

    where = Path(path)
    key_file = Path(key_path) if key_path else None
    if where.is_dir():
        if not (where / CHECKPOINT_FILE).is_file():
            raise CheckpointFileError(reason=f"the directory has no {CHECKPOINT_FILE} (a backup "
                                      "made before anything was recorded?)")
        if key_file is None and (where / PUBLIC_KEY_FILE).is_file():
            key_file = where / PUBLIC_KEY_FILE
        where = where / CHECKPOINT_FILE
    text = _read_checkpoint(str(where))
    if key_file is None:
        return text, None
    try:
        key = read_public_key(key_file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise CheckpointFileError(reason="the public key file is not a text file") from None
    return text, key


def _consistency_dict(result: Consistency) -> dict[str, Any]:
    return {"checkpoint": result.checkpoint, "tree_size": result.old_size,
            "log_size": result.new_size, "consistent": result.consistent,
            "message": result.message_en, "message_vi": result.message_vi}


def _echo_consistency(result: Consistency) -> None:
    mark = "OK" if result.consistent else "VI PHẠM / BROKEN"
    click.echo(f"Điểm kiểm tra số {result.checkpoint}: {mark}")
    click.echo(f"  {result.message_vi}")
    click.echo(f"  {result.message_en}")


def _echo_report(report: EnvelopeReport) -> None:
    due = f"  hạn phát {report.due_at:%Y-%m-%d %H:%M}Z" if report.due_at else ""
    click.echo(f"{report.number}  {report.status}  ({report.chain_length} giao nhận){due}")
    for f in report.findings:
        where = f" #{f.seq}" if f.seq is not None else ""
        click.echo(f"  - [{f.code}]{where} {f.message_vi}")
        click.echo(f"    {f.message_en}")


@click.command("verify")
@click.argument("numbers", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Every envelope.")
@click.option("--since", type=DATE, help="Envelopes with a handoff on or after this day "
                                        "(YYYY-MM-DD, Vietnam time).")
@click.option("--json", "as_json", is_flag=True, help="One object per envelope, then a summary.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False),
              help="Also write the findings to this CSV file (for officers).")
@click.option("--checkpoint", "checkpoint_path", type=click.Path(exists=True),
              help="Prove that the log still contains this exported checkpoint unchanged "
                   "(a checkpoint file, or a backup directory: its checkpoint.txt).")
@click.option("--public-key", "key_path", type=click.Path(exists=True, dir_okay=False),
              help="Check the checkpoint's signature with this public key file (hex) when "
                   "no KT1_CHECKPOINT_KEY is configured; a backup's public-key.txt by default.")
@command
def verify_command(numbers: tuple[str, ...], all_: bool, since: datetime | None,
                   as_json: bool, csv_path: str | None, checkpoint_path: str | None,
                   key_path: str | None = None) -> None:
    """Check the chain of custody of envelopes (kiểm tra chuỗi giao nhận).

    Each envelope gets a status (complete, in_transit, overdue, broken) and its findings,
    each with a stable code. Exit code 0 when nothing is broken, 1 otherwise.
    """
    if numbers and (all_ or since):
        raise click.UsageError("give envelope numbers, or --all / --since, not both")
    if not numbers and not all_ and since is None and not checkpoint_path:
        raise click.UsageError("give envelope numbers, --all, --since DATE or --checkpoint FILE")
    c = ctx()
    consistency = None
    if checkpoint_path:
        text, key = _checkpoint_and_key(checkpoint_path, key_path)
        consistency = checkpoints.check_file(c, text, key)
        if key is not None and not c.settings.checkpoint_key and not as_json:
            click.echo(f"Khóa công khai dùng để kiểm tra chữ ký / public key used: {key}")
            click.echo("  (so với khóa in trên điểm kiểm tra lưu giấy / compare it with the "
                       "key printed on a checkpoint kept on paper)")
    reports: Iterator[EnvelopeReport] = iter(())
    if numbers or all_ or since is not None:
        reports = verify(c, list(numbers) or None, since.date() if since else None)
    summary = Summary()
    out_csv: TextIO | None = open(csv_path, "w", newline="", encoding="utf-8") \
        if csv_path else None  # noqa: SIM115 (closed below, streamed while verifying)
    try:
        writer = csv.writer(out_csv) if out_csv else None
        if writer:
            writer.writerow(CSV_HEADER)
        if as_json:
            click.echo('{"envelopes": [', nl=False)
        for report in reports:
            if as_json:
                sep = "\n  " if summary.envelopes == 0 else ",\n  "
                click.echo(sep + json.dumps(report.to_dict(), ensure_ascii=False), nl=False)
            elif numbers or report.findings:
                _echo_report(report)
            summary.add(report)
            if writer:
                writer.writerows(csv_rows(report))
    finally:
        if out_csv:
            out_csv.close()
    if as_json:
        click.echo("\n],")
        click.echo(f'"summary": {json.dumps(summary.to_dict(), ensure_ascii=False)},')
        log = _consistency_dict(consistency) if consistency else None
        click.echo(f'"checkpoint": {json.dumps(log, ensure_ascii=False)}}}')
    else:
        if since is not None and summary.envelopes == 0:
            click.echo(f"Không có bưu gửi nào có giao nhận từ {since:%Y-%m-%d}.")
        if numbers or all_ or since is not None:
            click.echo(f"Đã kiểm tra {summary.envelopes} bưu gửi:")
            for line in summary.lines():
                click.echo(f"  {line}")
        if consistency:
            _echo_consistency(consistency)
        if csv_path:
            click.echo(f"Danh sách phát hiện (CSV): {csv_path}")
    if summary.broken or (consistency is not None and not consistency.consistent):
        raise SystemExit(1)


# --------------------------------------------------------------------------- checkpoints


@click.group("checkpoint")
def checkpoint_group() -> None:
    """Signed checkpoints of the custody log (điểm kiểm tra sổ giao nhận).

    Run ``kt1 checkpoint create --daily`` from a timer (cron, systemd) each day; print the
    exported file on the day's dispatch list or hand it to a second custodian.
    """


@checkpoint_group.command("create")
@click.option("--daily", is_flag=True,
              help="Do nothing if a checkpoint was already made today (for a timer).")
@command
def checkpoint_create(daily: bool) -> None:
    """Sign the Merkle root of every handoff so far and store it."""
    c = ctx()
    if daily:
        today = deadlines.local_date(c.now())
        made = [cp for cp in checkpoints.list_checkpoints(c)
                if deadlines.local_date(cp.created_at) == today]
        if made:
            click.echo(f"Đã có điểm kiểm tra hôm nay (số {made[-1].id}); không tạo thêm.")
            return
    checkpoint = checkpoints.create_checkpoint(c)
    click.echo(f"Đã tạo điểm kiểm tra số {checkpoint.id}: {checkpoint.tree_size} giao nhận, "
               f"gốc {checkpoint.root_hash}.")
    click.echo("Xuất tệp để in hoặc giao người giữ thứ hai: kt1 checkpoint export")


@checkpoint_group.command("export")
@click.option("--id", "number", type=int, help="Which checkpoint (default: the latest).")
@click.option("--output", "-o", type=click.Path(dir_okay=False),
              help="Write to this file instead of the screen.")
@command
def checkpoint_export(number: int | None, output: str | None) -> None:
    """Write a checkpoint as a small signed text file."""
    text = checkpoints.export_checkpoint(ctx(), number)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Đã ghi {output}.")
    else:
        click.echo(text, nl=False)


@checkpoint_group.command("verify")
@click.argument("path", type=click.Path(exists=True))
@click.option("--public-key", "key_path", type=click.Path(exists=True, dir_okay=False),
              help="Check the signature with this public key file when no key is configured.")
@click.option("--json", "as_json", is_flag=True)
@command
def checkpoint_verify(path: str, as_json: bool, key_path: str | None = None) -> None:
    """Prove that the log still contains the log of an exported checkpoint, unchanged.

    PATH is a checkpoint file or a backup directory (docs/backup.md)."""
    text, key = _checkpoint_and_key(path, key_path)
    result = checkpoints.check_file(ctx(), text, key)
    if as_json:
        dump(_consistency_dict(result))
    else:
        _echo_consistency(result)
    if not result.consistent:
        raise SystemExit(1)


@checkpoint_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@command
def checkpoint_list(as_json: bool) -> None:
    """List the stored checkpoints."""
    rows = [{"id": cp.id, "created_at": cp.created_at.isoformat(), "tree_size": cp.tree_size,
             "root": cp.root_hash} for cp in checkpoints.list_checkpoints(ctx())]
    if as_json:
        dump(rows)
    elif not rows:
        click.echo("Chưa có điểm kiểm tra nào. Tạo bằng `kt1 checkpoint create`.")
    else:
        table([[str(v) for v in r.values()] for r in rows], ["id", "created_at", "size", "root"])


# --------------------------------------------------------------------------- rules


@click.group("rules")
def rules_group() -> None:
    """Time limits (chỉ tiêu thời gian) as dated rule sets; ``explain``: every custody rule."""


def _rule_set_dict(rule_set: Any) -> dict[str, Any]:
    return {"effective_from": rule_set.effective_from.isoformat(), "name": rule_set.name,
            "source": rule_set.source,
            "limits": {f"{r.route}/{r.service}": r.working_days for r in rule_set.rules}}


@rules_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@command
def rules_list(as_json: bool) -> None:
    """Every rule set, oldest first; each applies to envelopes accepted from its date."""
    sets = [_rule_set_dict(rs) for rs in deadlines.list_rule_sets(ctx())]
    if as_json:
        dump(sets)
        return
    for rs in sets:
        click.echo(f"Từ {rs['effective_from']}: {rs['name']}")
        if rs["source"]:
            click.echo(f"  nguồn: {rs['source']}")
        for key, days in sorted(rs["limits"].items()):
            click.echo(f"  {key:<32} J+{days:g} ngày làm việc")
    click.echo("Hẹn giờ: hạn là thời điểm đã hẹn; tính từ chấp nhận đến lần phát đầu tiên.")


@rules_group.command("add")
@click.option("--effective-from", type=DATE, required=True,
              help="First acceptance day it applies to (must be after today).")
@click.option("--name", required=True)
@click.option("--source", default="", help="The legal text, e.g. 'Thông tư 15/2022/TT-BTTTT'.")
@click.option("--intra", type=float, required=True, help="Standard, within a province.")
@click.option("--inter", type=float, required=True, help="Standard, between provinces.")
@click.option("--flash-intra", type=float, required=True, help="Hỏa tốc, within a province.")
@click.option("--flash-inter", type=float, required=True, help="Hỏa tốc, between provinces.")
@command
def rules_add(effective_from: datetime, name: str, source: str, intra: float, inter: float,
              flash_intra: float, flash_inter: float) -> None:
    """Add a rule set that takes effect on a future date (never rewrites past verdicts)."""
    values = {
        (Route.INTRA_PROVINCE, ServiceClass.STANDARD): intra,
        (Route.INTER_PROVINCE, ServiceClass.STANDARD): inter,
        (Route.INTRA_PROVINCE, ServiceClass.FLASH): flash_intra,
        (Route.INTER_PROVINCE, ServiceClass.FLASH): flash_inter,
    }
    rule_set = deadlines.add_rule_set(ctx(), None, effective_from.date(), name, values, source)
    click.echo(f"Đã thêm bộ chỉ tiêu áp dụng từ {rule_set.effective_from}.")


@rules_group.command("remove")
@click.argument("effective_from", type=DATE)
@command
def rules_remove(effective_from: datetime) -> None:
    """Withdraw a rule set that has not taken effect yet."""
    deadlines.remove_rule_set(ctx(), None, effective_from.date())
    click.echo(f"Đã bỏ bộ chỉ tiêu áp dụng từ {effective_from:%Y-%m-%d}.")


# --------------------------------------------------------------------------- days off


@click.group("dayoff")
def dayoff_group() -> None:
    """Extra days off (ngày nghỉ bổ sung) on top of Vietnam's public holidays."""


@dayoff_group.command("add")
@click.argument("day", type=DATE)
@click.option("--reason", required=True)
@command
def dayoff_add(day: datetime, reason: str) -> None:
    """Add a day off: deadlines that span it move by a working day."""
    added = deadlines.add_day_off(ctx(), None, day.date(), reason)
    click.echo(f"Đã thêm ngày nghỉ {added.day}.")


@dayoff_group.command("list")
@click.option("--year", type=int, help="Also list that year's public holidays.")
@click.option("--json", "as_json", is_flag=True)
@command
def dayoff_list(year: int | None, as_json: bool) -> None:
    """The days off added by an administrator (and a year's public holidays)."""
    rows = deadlines.list_days_off(ctx(), year)
    if as_json:
        dump([{**r, "day": r["day"].isoformat()} for r in rows])
    elif not rows:
        click.echo("Chưa có ngày nghỉ bổ sung nào.")
    else:
        table([[r["day"].isoformat(), r["reason"], r["source"]] for r in rows],
              ["day", "reason", "source"])


COMMANDS = (verify_command, checkpoint_group, rules_group, dayoff_group)
