"""Signed checkpoints of the custody log (docs/rules.md, rule 15).

A checkpoint is the RFC 6962 Merkle root over every handoff hash so far, leaves in handoff
id order, signed with this installation's Ed25519 key (``CHECKPOINT_KEY``). It is stored
(append-only) and exported as a short text file that can be printed on the day's dispatch
list or handed to a second custodian. Later, :func:`check_file` proves with a consistency
proof that the current log still begins with exactly the log that file signed: an edited,
deleted, reordered or cut-off handoff breaks the proof even if whoever did it also dropped
the database triggers and rewrote the envelope's own chain.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from binascii import Error as BinasciiError
from binascii import unhexlify
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import func, select
from sqlalchemy.orm import scoped_session

from kt1.errors import ForbiddenError, KT1Error
from kt1.models import Checkpoint, Handoff, Installation, User
from kt1.models.enums import Role
from kt1.services.context import Ctx
from kt1.services.merkle import (
    LEAF_PREFIX,
    LogDigest,
    digest_log,
    leaf_hash,
    verify_consistency,
)

FILE_HEADER = "KT1-CHECKPOINT v1"
SIGNED_FIELDS = ("installation", "checkpoint", "created_at", "tree_size", "last_handoff_id",
                 "root", "public_key")
FETCH = 20_000


# --------------------------------------------------------------------------- errors


class CheckpointKeyMissingError(KT1Error):
    slug = "checkpoint_key_missing"
    status = 503
    message_vi = ("Chưa cấu hình khóa ký điểm kiểm tra (KT1_CHECKPOINT_KEY); không thể ký hay "
                  "kiểm tra điểm kiểm tra.")
    message_en = ("No checkpoint signing key is configured (KT1_CHECKPOINT_KEY): checkpoints "
                  "cannot be signed or checked.")


class CheckpointFileError(KT1Error):
    slug = "checkpoint_file_invalid"
    status = 422
    message_vi = "Tệp điểm kiểm tra không đọc được: {reason}."
    message_en = "The checkpoint file cannot be read: {reason}."


class CheckpointAlteredError(KT1Error):
    slug = "checkpoint_altered"
    status = 422
    message_vi = ("Chữ ký của tệp điểm kiểm tra không khớp nội dung: tệp đã bị sửa, "
                  "không được dùng làm bằng chứng.")
    message_en = ("The checkpoint file's signature does not match its content: the file was "
                  "altered and proves nothing.")


class CheckpointWrongKeyError(KT1Error):
    slug = "checkpoint_wrong_key"
    status = 422
    message_vi = ("Tệp điểm kiểm tra được ký bằng khóa khác (khóa {file_key}), không phải khóa "
                  "của hệ thống này ({our_key}).")
    message_en = ("The checkpoint file was signed with another key ({file_key}), not this "
                  "installation's ({our_key}).")


class CheckpointForeignError(KT1Error):
    slug = "checkpoint_other_installation"
    status = 422
    message_vi = ("Tệp điểm kiểm tra thuộc hệ thống khác (mã {file_installation}); hệ thống "
                  "này có mã {our_installation}.")
    message_en = ("The checkpoint file belongs to another installation ({file_installation}); "
                  "this one is {our_installation}.")


class EmptyLogError(KT1Error):
    slug = "log_empty"
    status = 409
    message_vi = "Chưa có lần giao nhận nào được ghi; chưa có gì để lập điểm kiểm tra."
    message_en = "No handoff has been recorded yet: there is nothing to checkpoint."


class LogInconsistentError(KT1Error):
    slug = "log_inconsistent"
    status = 409
    message_vi = ("Sổ giao nhận hiện tại không còn chứa nguyên vẹn sổ đã ký ở điểm kiểm tra "
                  "số {checkpoint}: có bản ghi đã bị sửa, xóa, đổi thứ tự hoặc cắt bớt. "
                  "Không lập điểm kiểm tra mới; hãy báo cán bộ bảo mật.")
    message_en = ("The custody log no longer contains the log signed at checkpoint "
                  "{checkpoint} unchanged: a handoff was edited, deleted, reordered or cut "
                  "off. No new checkpoint was made; tell the security officer.")


class UnknownCheckpointError(KT1Error):
    slug = "unknown_checkpoint"
    status = 404
    message_vi = "Không có điểm kiểm tra {checkpoint}."
    message_en = "No checkpoint {checkpoint}."


# --------------------------------------------------------------------------- keys


def load_signing_key(text: str) -> Ed25519PrivateKey:
    """An Ed25519 private key from 32 raw bytes in base64 (standard or urlsafe) or a PEM."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ValueError("not a PEM private key") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 private key is 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def _signing_key(ctx: Ctx) -> Ed25519PrivateKey:
    if not ctx.settings.checkpoint_key:
        raise CheckpointKeyMissingError()
    try:
        return load_signing_key(ctx.settings.checkpoint_key)
    except ValueError as exc:  # validated at start-up; a Settings built by hand may not be
        raise CheckpointKeyMissingError() from exc


def installation_id(ctx: Ctx) -> str:
    value = ctx.session.execute(select(Installation.id).order_by(Installation.created_at)
                                ).scalars().first()
    if value is None:  # the migration creates it; a database restored without it is refused
        raise CheckpointFileError(reason="this database has no installation id")
    return value


# --------------------------------------------------------------------------- the log


def begin_snapshot(ctx: Ctx) -> None:
    """Start a transaction that sees one consistent snapshot (REPEATABLE READ on PostgreSQL).

    Counting the leaves and streaming them must agree; on SQLite one transaction already
    sees one snapshot. Anything the session held uncommitted is discarded: every use case
    commits its own work.
    """
    session = ctx.session
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection()


def _dbapi(ctx: Ctx) -> tuple[object, bool]:
    conn = ctx.session.connection()
    raw = conn.connection.dbapi_connection
    return raw, conn.dialect.name == "postgresql"


def stream_rows(ctx: Ctx, sql: str, params: tuple[object, ...] = (), name: str = "kt1_stream",
                size: int = FETCH) -> Iterator[list[tuple[object, ...]]]:
    """Batches of rows of ``sql`` through a server-side cursor (PostgreSQL) or a plain
    SQLite cursor, never the whole result at once. ``sql`` uses ``%s`` placeholders."""
    raw, is_pg = _dbapi(ctx)
    if is_pg:
        cur = raw.cursor(name=name)  # type: ignore[attr-defined]
        cur.itersize = size
    else:
        cur = raw.cursor()  # type: ignore[attr-defined]
        sql = sql.replace("%s", "?")
    try:
        cur.execute(sql, params)
        while True:
            rows = cur.fetchmany(size)
            if not rows:
                break
            yield rows
    finally:
        cur.close()


def _leaf(h: bytes) -> bytes:
    try:
        data = unhexlify(h)
    except (BinasciiError, ValueError):  # a hash edited into non-hex still makes a leaf
        data = h
    return leaf_hash(data)


def _leaves(ctx: Ctx, last: list[int]) -> Iterator[bytes]:
    """Leaf hashes of every handoff in id order; ``last`` receives the last id seen.

    On PostgreSQL the rows come by COPY straight from libpq, in this transaction.
    """
    raw, is_pg = _dbapi(ctx)
    if not is_pg:
        for rows in stream_rows(ctx, "SELECT id, hash FROM handoff ORDER BY id",
                                name="kt1_leaves"):
            for _id, h in rows:
                yield _leaf(str(h).encode())
            last[0] = int(rows[-1][0])  # type: ignore[call-overload]
        return
    from psycopg import pq

    pgconn = raw.pgconn  # type: ignore[attr-defined]
    result = pgconn.exec_(b"COPY (SELECT id, hash FROM handoff ORDER BY id) TO STDOUT")
    if result.status != pq.ExecStatus.COPY_OUT:
        raise RuntimeError(pgconn.get_error_message().decode(errors="replace"))
    get = pgconn.get_copy_data
    sha256 = hashlib.sha256
    line = b""
    while True:
        size, data = get(0)
        if size < 0:
            break
        line = bytes(data)
        h = line[line.index(b"\t") + 1:-1]
        try:
            yield sha256(LEAF_PREFIX + unhexlify(h)).digest()
        except (BinasciiError, ValueError):
            yield _leaf(h)
    final = pgconn.get_result()
    while final is not None:
        final = pgconn.get_result()
    if line:
        last[0] = int(line[:line.index(b"\t")])


def digest_current_log(ctx: Ctx, prefix: int | None = None) -> tuple[LogDigest, int | None]:
    """The tree over the whole current log, and the proof for ``prefix`` leaves, in one pass.

    Call inside :func:`begin_snapshot`. Returns the digest and the last handoff id.
    """
    size = ctx.session.execute(select(func.count(Handoff.id))).scalar_one()
    last = [0]
    if prefix is not None and prefix > size:
        digest = digest_log(_leaves(ctx, last), size)
        return digest, last[0] or None
    digest = digest_log(_leaves(ctx, last), size, prefix)
    return digest, last[0] or None


# --------------------------------------------------------------------------- files


@dataclass(frozen=True)
class CheckpointFile:
    """The exported, signed form of a checkpoint."""

    installation: str
    checkpoint: int
    created_at: str
    tree_size: int
    last_handoff_id: int | None
    root: str
    public_key: str
    signature: str

    def fields(self) -> dict[str, str]:
        return {
            "installation": self.installation,
            "checkpoint": str(self.checkpoint),
            "created_at": self.created_at,
            "tree_size": str(self.tree_size),
            "last_handoff_id": "" if self.last_handoff_id is None else str(self.last_handoff_id),
            "root": self.root,
            "public_key": self.public_key,
        }

    def signed_message(self) -> bytes:
        fields = self.fields()
        lines = [FILE_HEADER, *(f"{k}: {fields[k]}" for k in SIGNED_FIELDS)]
        return ("\n".join(lines) + "\n").encode()

    def render(self) -> str:
        """The file's text: the signed lines, the signature, and a note for the reader."""
        return (self.signed_message().decode() + f"signature: {self.signature}\n"
                "# Điểm kiểm tra sổ giao nhận KT1: in kèm danh sách chuyển phát trong ngày, "
                "giao người giữ thứ hai.\n"
                "# Check later with: kt1 verify --checkpoint THIS_FILE\n")


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_file(checkpoint: Checkpoint) -> CheckpointFile:
    return CheckpointFile(
        installation=checkpoint.installation_id, checkpoint=checkpoint.id,
        created_at=_time(checkpoint.created_at), tree_size=checkpoint.tree_size,
        last_handoff_id=checkpoint.last_handoff_id, root=checkpoint.root_hash,
        public_key=checkpoint.public_key, signature=checkpoint.signature)


_HEX = re.compile(r"^[0-9a-f]+$")


def parse_file(text: str) -> CheckpointFile:
    """Read a checkpoint file; anything malformed is a ``checkpoint_file_invalid`` error."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines or lines[0] != FILE_HEADER:
        raise CheckpointFileError(reason=f"it does not start with '{FILE_HEADER}'")
    values: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in (*SIGNED_FIELDS, "signature"):
            raise CheckpointFileError(reason=f"unexpected line '{line[:40]}'")
        if key in values:
            raise CheckpointFileError(reason=f"'{key}' appears twice")
        values[key] = value.strip()
    missing = [k for k in (*SIGNED_FIELDS, "signature") if k not in values]
    if missing:
        raise CheckpointFileError(reason="missing " + ", ".join(missing))
    try:
        number = int(values["checkpoint"])
        size = int(values["tree_size"])
        last = int(values["last_handoff_id"]) if values["last_handoff_id"] else None
    except ValueError:
        raise CheckpointFileError(reason="a number field is not a number") from None
    for key, length in (("root", 64), ("public_key", 64), ("signature", 128)):
        if len(values[key]) != length or not _HEX.match(values[key]):
            raise CheckpointFileError(reason=f"'{key}' must be {length} hex digits")
    if size < 0:
        raise CheckpointFileError(reason="tree_size is negative")
    return CheckpointFile(
        installation=values["installation"], checkpoint=number, created_at=values["created_at"],
        tree_size=size, last_handoff_id=last, root=values["root"],
        public_key=values["public_key"], signature=values["signature"])


def _signature_ok(public_key_hex: str, message: bytes, signature_hex: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def trusted_key(ctx: Ctx, public_key: str | None = None) -> str:
    """The public key checkpoints must be signed with: this installation's (from
    ``CHECKPOINT_KEY``) when it is configured, else ``public_key`` (hex), given by the
    operator, e.g. a backup's ``public-key.txt`` on a machine without the signing key
    (docs/backup.md). A given key that is not the configured one is refused."""
    if ctx.settings.checkpoint_key or public_key is None:
        ours = public_hex(_signing_key(ctx))
        if public_key is not None and public_key != ours:
            raise CheckpointWrongKeyError(file_key=public_key[:16] + "…",
                                          our_key=ours[:16] + "…")
        return ours
    return public_key


def authenticate(ctx: Ctx, file: CheckpointFile, public_key: str | None = None) -> None:
    """Refuse a file of another installation, signed by another key, or altered."""
    ours = installation_id(ctx)
    if file.installation != ours:
        raise CheckpointForeignError(file_installation=file.installation[:36],
                                     our_installation=ours)
    our_key = trusted_key(ctx, public_key)
    if file.public_key != our_key:
        raise CheckpointWrongKeyError(file_key=file.public_key[:16] + "…",
                                      our_key=our_key[:16] + "…")
    if not _signature_ok(our_key, file.signed_message(), file.signature):
        raise CheckpointAlteredError()


# --------------------------------------------------------------------------- use cases


def _may_checkpoint(actor: User | None) -> None:
    """``None`` is the operator at the server console (the CLI or the daily timer)."""
    if actor is not None and (not actor.is_active or actor.role not in (
            Role.ADMINISTRATOR, Role.SECURITY_OFFICER)):
        raise ForbiddenError()


def create_checkpoint(ctx: Ctx, actor: User | None = None) -> Checkpoint:
    """Build the Merkle tree over every handoff so far, sign its root and store it.

    Refused (``log_inconsistent``) when the log no longer extends the previous checkpoint,
    so a tampered log is never blessed by a fresh signature. One transaction.
    """
    _may_checkpoint(actor)
    key = _signing_key(ctx)
    begin_snapshot(ctx)
    try:
        ours = installation_id(ctx)
        previous = ctx.session.execute(
            select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1)).scalar_one_or_none()
        digest, last_id = digest_current_log(
            ctx, prefix=previous.tree_size if previous else None)
        if digest.size == 0:
            raise EmptyLogError()
        if previous is not None and (
                previous.tree_size > digest.size
                or digest.prefix_root is None
                or digest.prefix_root.hex() != previous.root_hash):
            raise LogInconsistentError(checkpoint=previous.id)
        # Rows are append-only (no UPDATE even to add the signature), and the number is
        # signed too, so it is chosen before the insert; a concurrent checkpoint collides
        # on the primary key and is refused.
        number = (ctx.session.execute(select(func.max(Checkpoint.id))).scalar() or 0) + 1
        checkpoint = Checkpoint(
            id=number, installation_id=ours, tree_size=digest.size, last_handoff_id=last_id,
            root_hash=digest.root.hex(), public_key=public_hex(key), signature="",
            created_at=ctx.now(), created_by_id=actor.id if actor else None)
        checkpoint.signature = key.sign(as_file(checkpoint).signed_message()).hex()
        ctx.session.add(checkpoint)
        ctx.session.commit()
        return checkpoint
    except BaseException:
        ctx.session.rollback()
        raise


def get_checkpoint(ctx: Ctx, number: int | None = None) -> Checkpoint:
    """A stored checkpoint by number, or the latest."""
    stmt = select(Checkpoint)
    stmt = stmt.where(Checkpoint.id == number) if number is not None else stmt.order_by(
        Checkpoint.id.desc()).limit(1)
    checkpoint = ctx.session.execute(stmt).scalar_one_or_none()
    if checkpoint is None:
        raise UnknownCheckpointError(checkpoint=number if number is not None else "(none yet)")
    return checkpoint


def list_checkpoints(ctx: Ctx) -> list[Checkpoint]:
    return list(ctx.session.execute(select(Checkpoint).order_by(Checkpoint.id)).scalars())


def export_checkpoint(ctx: Ctx, number: int | None = None) -> str:
    """The printable file of a stored checkpoint (the latest by default)."""
    return as_file(get_checkpoint(ctx, number)).render()


@dataclass(frozen=True)
class Consistency:
    """Does the current log still begin with the log a checkpoint signed?"""

    checkpoint: int
    old_size: int
    new_size: int
    consistent: bool
    new_root: str

    @property
    def message_en(self) -> str:
        if self.consistent:
            return (f"The log still contains checkpoint {self.checkpoint}'s {self.old_size} "
                    f"handoffs unchanged ({self.new_size} now).")
        if self.new_size < self.old_size:
            return (f"The log is shorter than checkpoint {self.checkpoint}: it had "
                    f"{self.old_size} handoffs, {self.new_size} remain. Handoffs were removed.")
        return (f"The log no longer contains checkpoint {self.checkpoint}'s {self.old_size} "
                "handoffs unchanged: one was edited, deleted or reordered.")

    @property
    def message_vi(self) -> str:
        if self.consistent:
            return (f"Sổ giao nhận vẫn chứa nguyên vẹn {self.old_size} bản ghi của điểm kiểm "
                    f"tra số {self.checkpoint} (hiện có {self.new_size}).")
        if self.new_size < self.old_size:
            return (f"Sổ giao nhận ngắn hơn điểm kiểm tra số {self.checkpoint}: trước có "
                    f"{self.old_size} bản ghi, nay còn {self.new_size}. Đã có bản ghi bị xóa.")
        return (f"Sổ giao nhận không còn chứa nguyên vẹn {self.old_size} bản ghi của điểm kiểm "
                f"tra số {self.checkpoint}: có bản ghi đã bị sửa, xóa hoặc đổi thứ tự.")


def check_file(ctx: Ctx, text: str, public_key: str | None = None) -> Consistency:
    """Authenticate an exported checkpoint file, then prove the current log extends it.

    The proof is an RFC 6962 consistency proof built from the current log and checked
    against the file's signed root: nothing stored in the database is trusted for it.
    ``public_key``: see :func:`trusted_key`.
    """
    file = parse_file(text)
    authenticate(ctx, file, public_key)
    begin_snapshot(ctx)
    try:
        digest, _last = digest_current_log(ctx, prefix=file.tree_size)
    finally:
        ctx.session.rollback()
    consistent = file.tree_size <= digest.size and verify_consistency(
        file.tree_size, digest.size, bytes.fromhex(file.root), digest.root, digest.proof)
    return Consistency(checkpoint=file.checkpoint, old_size=file.tree_size,
                       new_size=digest.size, consistent=consistent, new_root=digest.root.hex())
