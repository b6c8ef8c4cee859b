"""Backups that prove themselves after a restore (``kt1 backup``, ``kt1 restore``; docs/backup.md).

A backup is one directory:

``database.dump`` (PostgreSQL, ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite,
the online backup API)
    the whole database, taken from one consistent snapshot;
``checkpoint.txt``
    a signed checkpoint of the custody log (kt1/services/checkpoints.py), made just before
    the snapshot, so the snapshot's log extends it;
``public-key.txt``
    the Ed25519 public key that signed it (the private key is never in a backup);
``manifest.json``
    when, which schema revisions, how many rows of the main tables, and the size and SHA-256
    of every file above. It is written last: a directory without it is not a backup.

A restore checks every checksum before it touches the target, refuses a target that already
holds data unless told, and compares the restored revisions and row counts with the manifest.
``kt1 verify --all --checkpoint DIR`` then proves the restored custody log still contains
the checkpoint's log unchanged (an RFC 6962 consistency proof against the signed root).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import URL, make_url

from kt1.errors import (
    BackupChecksumError,
    BackupEngineMismatchError,
    BackupInvalidError,
    BackupToolFailedError,
    BackupToolMissingError,
    RestoreMismatchError,
    RestoreTargetNotEmptyError,
)
from kt1.services import checkpoints
from kt1.services.checkpoints import CheckpointKeyMissingError, EmptyLogError
from kt1.services.context import Ctx

FORMAT = "kt1-backup 1"
MANIFEST = "manifest.json"
CHECKPOINT_FILE = "checkpoint.txt"
PUBLIC_KEY_FILE = "public-key.txt"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
#: Tables whose row counts the manifest records and a restore must give back exactly.
COUNTED = ("unit", "user_account", "envelope", "handoff", "bag", "manifest_line", "incident",
           "checkpoint")
#: A target whose tables hold no row of these is a new database (a fresh migration writes
#: only the installation id and the shipped rule data).
DATA_TABLES = ("unit", "user_account", "envelope", "handoff", "checkpoint")


# --------------------------------------------------------------------------- databases


@dataclass(frozen=True)
class Target:
    """A database named by its URL: the engine, and how to reach it without a password on
    a command line (``PGPASSWORD`` goes in the environment)."""

    engine: str
    url: URL

    @classmethod
    def parse(cls, url: str) -> Target:
        parsed = make_url(url)
        engine = parsed.get_backend_name()
        if engine not in DATABASE_FILES:
            raise BackupInvalidError(path=parsed.render_as_string(hide_password=True),
                                     reason=f"unsupported database engine {engine}")
        return cls(engine, parsed)

    @property
    def shown(self) -> str:
        """The URL with its password hidden, for messages."""
        return self.url.set(drivername=self.engine).render_as_string(hide_password=True)

    @property
    def path(self) -> Path:
        return Path(self.url.database or "")

    def libpq(self, database: str | None = None) -> str:
        """A libpq URL without the password (see :meth:`env`)."""
        url = self.url.set(drivername="postgresql", password=None)
        if database is not None:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.url.password:
            env["PGPASSWORD"] = str(self.url.password)
        return env

    def connect(self, database: str | None = None, autocommit: bool = False
                ) -> psycopg.Connection[Any]:
        return psycopg.connect(self.libpq(database), autocommit=autocommit,
                               password=self.url.password or None)


def pg_tool(name: str) -> str:
    """``pg_dump`` / ``pg_restore``: from PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    if not candidates:
        raise BackupToolMissingError(tool=name)
    return candidates[-1]


def _run(tool: str, args: list[str], target: Target) -> str:
    path = pg_tool(tool)
    # the tool's own path and arguments built here; the password goes in the environment
    proc = subprocess.run([path, *args], capture_output=True, text=True,  # noqa: S603
                          env=target.env(), check=False)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        raise BackupToolFailedError(tool=tool, detail=(lines[-1] if lines else
                                                       f"exit code {proc.returncode}")[:300])
    return proc.stdout


def tool_version(tool: str) -> str:
    path = pg_tool(tool)
    proc = subprocess.run([path, "--version"], capture_output=True, text=True,  # noqa: S603
                          check=False)
    return proc.stdout.strip()


def _counts(cursor: Any) -> dict[str, int]:
    out = {}
    for table in COUNTED:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (constant names)
        out[table] = int(cursor.fetchone()[0])
    return out


def _revisions(cursor: Any) -> list[str]:
    cursor.execute("SELECT version_num FROM alembic_version")
    return sorted(str(r[0]) for r in cursor.fetchall())


# --------------------------------------------------------------------------- files


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_entry(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def read_public_key(text: str) -> str:
    """The 64 hex digits of the first line that is not a comment (``public-key.txt``)."""
    for line in text.splitlines():
        line = line.strip().lower()
        if line and not line.startswith("#"):
            if re.fullmatch(r"[0-9a-f]{64}", line):
                return line
            break
    raise checkpoints.CheckpointFileError(reason="the public key file holds no 64-hex-digit "
                                                 "Ed25519 key")


# --------------------------------------------------------------------------- backup


@dataclass
class BackupResult:
    directory: Path
    manifest: dict[str, Any]
    checkpoint_made: bool = False


def _write_checkpoint(ctx: Ctx, directory: Path, new_checkpoint: bool
                      ) -> tuple[dict[str, Any] | None, bool]:
    """Sign a fresh checkpoint (or take the latest stored one) and write it with its key."""
    made = False
    checkpoint = None
    if new_checkpoint:
        if not ctx.settings.checkpoint_key:
            raise CheckpointKeyMissingError()
        try:
            checkpoint = checkpoints.create_checkpoint(ctx)
            made = True
        except EmptyLogError:
            checkpoint = None  # nothing recorded yet: nothing to sign
    else:
        stored = checkpoints.list_checkpoints(ctx)
        checkpoint = stored[-1] if stored else None
    if checkpoint is None:
        return None, made
    file = checkpoints.as_file(checkpoint)
    (directory / CHECKPOINT_FILE).write_text(file.render(), encoding="utf-8")
    (directory / PUBLIC_KEY_FILE).write_text(
        "# KT1 Track: the Ed25519 public key (hex) that signs this installation's "
        "checkpoints.\n# Compare it with the key printed on a checkpoint kept on paper.\n"
        f"{file.public_key}\n", encoding="utf-8")
    return {"id": file.checkpoint, "created_at": file.created_at, "tree_size": file.tree_size,
            "last_handoff_id": file.last_handoff_id, "root": file.root,
            "installation": file.installation, "public_key": file.public_key}, made


def _dump_sqlite(source: Target, out: Path) -> tuple[list[str], dict[str, int], str]:
    src = sqlite3.connect(f"file:{source.path}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        src.backup(dst)  # one consistent snapshot, while the application keeps writing
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        cur = dst.cursor()
        revisions, counts = _revisions(cur), _counts(cur)
    finally:
        dst.close()
        src.close()
    return revisions, counts, f"sqlite3 {sqlite3.sqlite_version} online backup API"


def _dump_postgres(source: Target, out: Path) -> tuple[list[str], dict[str, int], str]:
    """pg_dump from a snapshot exported by a transaction that also reads the revisions
    and the row counts, so the manifest describes exactly what the dump holds."""
    with source.connect(autocommit=True) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = str(cur.fetchone()[0])  # type: ignore[index]
            revisions, counts = _revisions(cur), _counts(cur)
            _run("pg_dump", ["--format=custom", f"--snapshot={snapshot}", f"--file={out}",
                             source.libpq()], source)
        conn.execute("ROLLBACK")
    return revisions, counts, tool_version("pg_dump")


def create_backup(ctx: Ctx, database_url: str, directory: Path,
                  new_checkpoint: bool = True) -> BackupResult:
    """Write a backup of ``database_url`` into ``directory`` (new, or an empty directory).

    ``new_checkpoint``: sign a checkpoint of the log first (needs ``CHECKPOINT_KEY``);
    otherwise the latest stored checkpoint goes in.
    """
    source = Target.parse(database_url)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupInvalidError(path=str(directory), reason="it already exists and is not an "
                                 "empty directory; choose a new one")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)  # state secrets' metadata: for the service's user alone
    try:
        checkpoint, made = _write_checkpoint(ctx, directory, new_checkpoint)
        ctx.session.rollback()
        ctx.session.close()
        db_file = directory / DATABASE_FILES[source.engine]
        try:
            if source.engine == "sqlite":
                revisions, counts, tool = _dump_sqlite(source, db_file)
            else:
                revisions, counts, tool = _dump_postgres(source, db_file)
        except psycopg.Error as exc:
            raise BackupToolFailedError(tool="PostgreSQL", detail=_first_line(exc)) from exc
        except sqlite3.Error as exc:
            raise BackupToolFailedError(tool="SQLite", detail=_first_line(exc)) from exc
        files = {p.name: _file_entry(p) for p in sorted(directory.iterdir())}
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "engine": source.engine,
            "database_file": db_file.name,
            "schema_revisions": revisions,
            "counts": counts,
            "tool": tool,
            "checkpoint": checkpoint,
            "files": files,
        }
        partial = directory / (MANIFEST + ".partial")
        partial.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                           encoding="utf-8")
        partial.replace(directory / MANIFEST)
        for path in directory.iterdir():
            path.chmod(0o600)
    except BaseException:
        for p in directory.iterdir():
            p.unlink()
        directory.rmdir()
        raise
    return BackupResult(directory, manifest, made)


# --------------------------------------------------------------------------- restore


def read_manifest(directory: Path) -> dict[str, Any]:
    """The manifest of a backup directory, its shape checked."""
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BackupInvalidError(path=str(directory), reason="it is not a directory")
    if not path.is_file():
        raise BackupInvalidError(path=str(directory), reason=f"it has no {MANIFEST} (an "
                                 "unfinished or damaged backup)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupInvalidError(path=str(directory),
                                 reason=f"{MANIFEST} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupInvalidError(path=str(directory), reason=f"{MANIFEST} is not a "
                                 f"'{FORMAT}' manifest")
    for key in ("engine", "database_file", "schema_revisions", "counts", "files"):
        if key not in manifest:
            raise BackupInvalidError(path=str(directory), reason=f"{MANIFEST} lacks '{key}'")
    if manifest["database_file"] not in manifest["files"]:
        raise BackupInvalidError(path=str(directory),
                                 reason=f"{MANIFEST} lists no checksum for the database")
    return manifest


def check_files(directory: Path, manifest: dict[str, Any]) -> None:
    """Every file the manifest lists is there, of its size and SHA-256."""
    for name, entry in manifest["files"].items():
        if Path(name).name != name:
            raise BackupInvalidError(path=str(directory), reason=f"a file name '{name[:40]}'")
        path = directory / name
        if not path.is_file():
            raise BackupChecksumError(file=name, reason="the file is missing")
        size = path.stat().st_size
        if size != entry.get("bytes"):
            raise BackupChecksumError(file=name, reason=f"{size} bytes, the manifest says "
                                      f"{entry.get('bytes')}")
        if sha256_file(path) != entry.get("sha256"):
            raise BackupChecksumError(file=name, reason="SHA-256 differs")


@dataclass
class RestoreResult:
    target: str
    revisions: list[str]
    counts: dict[str, int]
    replaced: list[str] = field(default_factory=list)
    created_database: bool = False


def _sqlite_contents(path: Path) -> tuple[list[str], int]:
    """The tables of a SQLite file and how many rows its data tables hold."""
    if not path.exists() or path.stat().st_size == 0:
        return [], 0
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        rows = sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                   for t in DATA_TABLES if t in tables)
    finally:
        conn.close()
    return tables, rows


def _pg_contents(conn: psycopg.Connection[Any]) -> tuple[list[str], int]:
    tables = [str(r[0]) for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
        "'information_schema') ORDER BY tablename").fetchall()]
    rows = 0
    for t in DATA_TABLES:
        if t in tables:
            row = conn.execute(f"SELECT count(*) FROM {t}").fetchone()  # noqa: S608
            rows += int(row[0]) if row else 0
    return tables, rows


def _refuse_or_replace(target: Target, tables: list[str], rows: int, force: bool) -> bool:
    """True when the target holds tables to remove first (a fresh schema, or ``force``)."""
    if not tables:
        return False
    if not force and (rows or "alembic_version" not in tables):  # data, or someone else's
        raise RestoreTargetNotEmptyError(target=target.shown, tables=len(tables), rows=rows)
    return True


def _restore_sqlite(target: Target, db_file: Path, force: bool) -> list[str]:
    tables, rows = _sqlite_contents(target.path)
    replace = _refuse_or_replace(target, tables, rows, force)
    target.path.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    dst = sqlite3.connect(target.path)
    try:
        src.backup(dst)  # replaces every page of the target, in one step
    finally:
        dst.close()
        src.close()
    return tables if replace else []


def _database_exists(target: Target) -> bool:
    try:
        with target.connect(autocommit=True):
            return True
    except psycopg.OperationalError as exc:
        if "does not exist" in str(exc):
            return False
        raise


def _restore_postgres(target: Target, db_file: Path, force: bool) -> tuple[list[str], bool]:
    name = target.url.database or ""
    created = False
    if not _database_exists(target):  # created through the server's maintenance database
        with target.connect("postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name.replace(chr(34), "")}"')
        created = True
    replaced: list[str] = []
    if not created:
        with target.connect(autocommit=True) as conn:
            tables, rows = _pg_contents(conn)
            if _refuse_or_replace(target, tables, rows, force):
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
                replaced = tables
    _run("pg_restore", ["--exit-on-error", "--single-transaction", "--no-owner",
                        "--no-privileges", f"--dbname={target.libpq()}", str(db_file)], target)
    return replaced, created


def restore(directory: Path, target_url: str, force: bool = False) -> RestoreResult:
    """Restore a backup into ``target_url`` after checking it; then compare with its manifest.

    The target must be new (absent, or without tables), or a freshly migrated database
    without data; a database with data is replaced only with ``force``.
    """
    manifest = read_manifest(directory)
    check_files(directory, manifest)
    target = Target.parse(target_url)
    if manifest["engine"] != target.engine:
        raise BackupEngineMismatchError(backup=manifest["engine"], target=target.engine)
    try:
        return _restore(manifest, directory / manifest["database_file"], target, force)
    except psycopg.Error as exc:  # the server refused a connection or a statement
        raise BackupToolFailedError(tool="PostgreSQL", detail=_first_line(exc)) from exc
    except sqlite3.Error as exc:
        raise BackupToolFailedError(tool="SQLite", detail=_first_line(exc)) from exc


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _restore(manifest: dict[str, Any], db_file: Path, target: Target, force: bool
             ) -> RestoreResult:
    created = False
    if target.engine == "sqlite":
        replaced = _restore_sqlite(target, db_file, force)
        conn: Any = sqlite3.connect(target.path)
        try:
            cur = conn.cursor()
            revisions, counts = _revisions(cur), _counts(cur)
        finally:
            conn.close()
    else:
        replaced, created = _restore_postgres(target, db_file, force)
        with target.connect() as conn, conn.cursor() as cur:
            revisions, counts = _revisions(cur), _counts(cur)
    if revisions != sorted(manifest["schema_revisions"]):
        raise RestoreMismatchError(reason=f"schema revisions {revisions}, the manifest says "
                                   f"{manifest['schema_revisions']}")
    differ = {t: (counts.get(t), n) for t, n in manifest["counts"].items() if counts.get(t) != n}
    if differ:
        raise RestoreMismatchError(reason="row counts (restored, manifest) " + ", ".join(
            f"{t}: {a}/{b}" for t, (a, b) in sorted(differ.items())))
    return RestoreResult(target.shown, revisions, counts, replaced, created)
