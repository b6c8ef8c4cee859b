"""``kt1 backup`` and ``kt1 restore`` (docs/backup.md).

Exit codes: 0 done; 2 refused (a damaged backup, a checksum that differs, a target that
already holds data, a missing pg_dump/pg_restore), with the slug and message on stderr.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app

from kt1.cli.common import command, ctx, dump
from kt1.extensions import db
from kt1.services import backup


def _configured_url() -> str:
    return str(current_app.config["DATABASE_URL"])


@click.command("backup")
@click.option("--output", "-o", type=click.Path(file_okay=False),
              help="The new directory to write (default: kt1-backup-YYYYMMDDTHHMMSSZ here).")
@click.option("--no-new-checkpoint", is_flag=True,
              help="Put the latest stored checkpoint in instead of signing a new one "
                   "(when KT1_CHECKPOINT_KEY is not on this machine).")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest.")
@command
def backup_command(output: str | None, no_new_checkpoint: bool, as_json: bool) -> None:
    """Back up the database with a signed checkpoint of the custody log (sao lưu).

    PostgreSQL through pg_dump --format=custom, SQLite through its online backup API, both
    while the application keeps running; with the checkpoint, its public key and a
    manifest.json (time, schema revisions, row counts, SHA-256 of every file).
    """
    directory = Path(output or f"kt1-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    result = backup.create_backup(ctx(), _configured_url(), directory,
                                  new_checkpoint=not no_new_checkpoint)
    m = result.manifest
    if as_json:
        dump({"directory": str(directory), **m})
        return
    click.echo(f"Đã sao lưu vào {directory}/ ({m['engine']}, {m['tool']}).")
    click.echo(f"  Phiên bản lược đồ / schema revisions: {', '.join(m['schema_revisions'])}")
    counts = m["counts"]
    click.echo(f"  {counts['envelope']} bưu gửi, {counts['handoff']} giao nhận, "
               f"{counts['unit']} đơn vị, {counts['user_account']} người dùng.")
    cp = m["checkpoint"]
    if cp is None:
        click.echo("  Chưa có giao nhận nào: bản sao lưu không kèm điểm kiểm tra.")
    else:
        made = "mới ký" if result.checkpoint_made else "đã có"
        click.echo(f"  Điểm kiểm tra số {cp['id']} ({made}): {cp['tree_size']} giao nhận, "
                   f"gốc {cp['root']}.")
        click.echo(f"  Khóa công khai / public key: {cp['public_key']}")
    click.echo("Giữ bản sao lưu cùng khóa SUBJECT_KEY ở nơi an toàn (khóa không nằm trong "
               "bản sao lưu). Keep the keys apart from the backup: they are not in it.")


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--to", "target_url",
              help="The database to restore into (default: the configured KT1_DATABASE_URL). "
                   "PostgreSQL: created when it does not exist.")
@click.option("--force", is_flag=True,
              help="Erase a target database that already holds data and restore over it.")
@click.option("--json", "as_json", is_flag=True)
@command
def restore_command(directory: str, target_url: str | None, force: bool,
                    as_json: bool) -> None:
    """Restore a backup into a new, empty database (khôi phục).

    Checks every file's SHA-256 against manifest.json before touching the target, refuses a
    target that holds data unless --force, and compares the restored schema revisions and
    row counts with the manifest. Then prove the custody log: the command it prints.
    """
    url = target_url or _configured_url()
    db.session.remove()
    db.engine.dispose()  # the configured database may be the target: no connection held
    result = backup.restore(Path(directory), url, force=force)
    manifest = backup.read_manifest(Path(directory))
    prefix = "" if target_url is None else f"KT1_DATABASE_URL='{result.target}' "
    proof = f"{prefix}kt1 verify --all --checkpoint {directory}"
    if as_json:
        dump({"target": result.target, "schema_revisions": result.revisions,
              "counts": result.counts, "replaced_tables": len(result.replaced),
              "created_database": result.created_database,
              "checkpoint": manifest.get("checkpoint"), "prove_with": proof})
        return
    click.echo(f"Tổng kiểm tra SHA-256 của bản sao lưu {directory}: khớp.")
    if result.created_database:
        click.echo(f"Đã tạo cơ sở dữ liệu mới {result.target}.")
    if result.replaced:
        click.echo(f"Đã xóa {len(result.replaced)} bảng có sẵn ở đích trước khi khôi phục.")
    click.echo(f"Đã khôi phục vào {result.target}: phiên bản lược đồ "
               f"{', '.join(result.revisions)}; {result.counts['envelope']} bưu gửi, "
               f"{result.counts['handoff']} giao nhận (khớp manifest.json).")
    if manifest.get("checkpoint"):
        click.echo("Chứng minh sổ giao nhận nguyên vẹn đến điểm kiểm tra của bản sao lưu / "
                   "prove the custody log is whole up to the backup's checkpoint:")
        click.echo(f"  {proof}")
    else:
        click.echo("Bản sao lưu không có điểm kiểm tra (sổ giao nhận rỗng khi sao lưu).")


COMMANDS = (backup_command, restore_command)
