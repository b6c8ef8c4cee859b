"""The subject line (trích yếu): stored only where the dated rule allows, encrypted at rest,
readable only by the sender unit's registry clerks and security officers, and never in a
repr, a log or an error message (docs/rules.md, rule 14, issue 2 item 4)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from kt1.errors import ForbiddenError, KT1Error
from kt1.models import Envelope
from kt1.models.enums import Classification
from kt1.services import custody
from kt1.services.context import Ctx
from kt1.services.subjects import SubjectCipher, read_subject
from tests.conftest import SUBJECT_KEY, Clock, Network
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]

SUBJECT = "Kế hoạch diễn tập phòng thủ khu vực Quân khu 7 năm 2027 (mã kiểm-tra QX7-CANARY)"
CANARY = "QX7-CANARY"
DOC = "77/KH-BNV-DOCMARK"  # stored in clear: the control that our byte search can see data


def subject_envelope(ctx: Ctx, net: Network, **kw: Any) -> Envelope:
    return register(ctx, net, classification=kw.pop("classification", Classification.SECRET),
                    document_number=DOC, subject=SUBJECT, **kw)


def database_files(ctx: Ctx) -> list[Path]:
    url = make_url(str(ctx.session.get_bind().url))
    main = Path(str(url.database))
    return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-journal")) if p.exists()]


# ------------------------------------------------------------------- at rest


def test_the_subject_is_stored_encrypted_and_decrypts_with_the_configured_key(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = subject_envelope(ctx, network)
    raw = ctx.session.execute(
        text("SELECT subject_ciphertext FROM envelope WHERE id = :id"), {"id": envelope.id}
    ).scalar_one()
    raw = bytes(raw)
    assert raw and SUBJECT.encode() not in raw and CANARY.encode() not in raw
    assert SubjectCipher(SUBJECT_KEY).decrypt(raw) == SUBJECT
    assert envelope.has_subject


def test_no_table_holds_the_subject_in_clear(
        ctx: Ctx, network: Network, clock: Clock, snapshot: Snapshot) -> None:
    subject_envelope(ctx, network)
    dump = repr(snapshot())
    assert DOC in dump
    assert CANARY not in dump and "diễn tập" not in dump


# Reads the database file itself: SQLite only (PostgreSQL's files belong to its server, and
# the row-level check above covers it).
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_sqlite_file_bytes_do_not_contain_the_subject(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    subject_envelope(ctx, network)
    ctx.session.close()
    files = database_files(ctx)
    blob = b"".join(p.read_bytes() for p in files)
    assert DOC.encode() in blob  # the search does see committed rows
    for needle in (CANARY, SUBJECT, "diễn tập phòng thủ"):
        for encoding in ("utf-8", "utf-16-le"):
            assert needle.encode(encoding) not in blob, (needle, encoding)


# ----------------------------------------------------------------------- readers


@pytest.mark.parametrize("who", ["vt_bnv", "bm_bnv", "head_bnv"])
def test_the_sender_units_registry_clerks_and_security_officers_read_the_subject(
        ctx: Ctx, network: Network, clock: Clock, who: str) -> None:
    envelope = subject_envelope(ctx, network)
    assert read_subject(network[who], envelope, ctx.settings.subject_key) == SUBJECT


@pytest.mark.parametrize("who", [
    "vt_hcm", "bm_hcm", "cv_hcm",  # the recipient unit: it opens the document, not our record
    "vt_hn", "bm_hn",  # another agency
    "gd_hn", "bt_hn", "gd_hcm", "bt_hcm",  # the post offices that carry it
    "admin",  # administrators see metadata, never the subject
])
def test_nobody_else_reads_the_subject(
        ctx: Ctx, network: Network, clock: Clock, who: str) -> None:
    envelope = subject_envelope(ctx, network)
    carry(ctx, network, clock, envelope, until="arrived")
    with pytest.raises(ForbiddenError) as exc:
        read_subject(network[who], envelope, ctx.settings.subject_key)
    assert exc.value.slug == "forbidden"
    assert CANARY not in str(exc.value)


def test_a_deactivated_security_officer_no_longer_reads_the_subject(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = subject_envelope(ctx, network)
    network["bm_bnv"].is_active = False
    ctx.session.commit()
    with pytest.raises(ForbiddenError):
        read_subject(network["bm_bnv"], envelope, ctx.settings.subject_key)


def test_an_envelope_without_a_subject_reads_as_none(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    assert not envelope.has_subject
    assert read_subject(network["vt_bnv"], envelope, ctx.settings.subject_key) is None


def test_a_wrong_subject_key_is_a_configuration_fault_that_does_not_leak_the_token(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = subject_envelope(ctx, network)
    other_key = "A" * 43 + "="
    with pytest.raises(RuntimeError) as exc:
        read_subject(network["vt_bnv"], envelope, other_key)
    assert CANARY not in str(exc.value)


# ------------------------------------------------------------------- dated rule


def test_a_top_secret_subject_is_recorded_with_the_classifiers_approval_before_2026_03_01(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    clock.now = datetime(2026, 2, 10, 3, 0, tzinfo=UTC)
    envelope = subject_envelope(ctx, network, classification=Classification.TOP_SECRET,
                                subject_approved_by="Thứ trưởng Nguyễn Văn X")
    assert envelope.subject_approved_by == "Thứ trưởng Nguyễn Văn X"
    assert read_subject(network["bm_bnv"], envelope, ctx.settings.subject_key) == SUBJECT


def test_the_subject_rule_follows_the_vietnamese_calendar_date_of_the_event(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    # 2026-02-28 16:59 UTC is 23:59 on 28 Feb in Hà Nội: the 2020 decree still applies.
    clock.now = datetime(2026, 2, 28, 16, 59, tzinfo=UTC)
    before = subject_envelope(ctx, network, classification=Classification.TOP_SECRET,
                              subject_approved_by="Bộ trưởng")
    assert before.has_subject
    # 17:00 UTC is midnight, 1 March 2026, in Hà Nội: the 2026 decree forbids it.
    clock.now = datetime(2026, 2, 28, 17, 0, tzinfo=UTC)
    with pytest.raises(KT1Error) as exc:
        subject_envelope(ctx, network, classification=Classification.TOP_SECRET,
                         subject_approved_by="Bộ trưởng")
    assert exc.value.slug == "subject_not_allowed"


def test_an_approval_given_without_a_subject_records_nothing(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network, classification=Classification.TOP_SECRET,
                        subject_approved_by="Bộ trưởng")
    assert envelope.subject_approved_by is None and not envelope.has_subject


@pytest.mark.parametrize("classification", [Classification.SECRET,
                                            Classification.CONFIDENTIAL])
def test_lesser_classifications_keep_their_subject_after_2026(
        ctx: Ctx, network: Network, clock: Clock, classification: Classification) -> None:
    envelope = subject_envelope(ctx, network, classification=classification)
    assert read_subject(network["vt_bnv"], envelope, ctx.settings.subject_key) == SUBJECT


# ------------------------------------------------------- never in a repr, log or error


def test_the_subject_is_never_in_a_repr(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = subject_envelope(ctx, network)
    carry(ctx, network, clock, envelope, until="arrived")
    ctx.session.refresh(envelope)
    shown = [repr(envelope), str(envelope)]
    shown += [repr(h) for h in custody.timeline(ctx, envelope)]
    assert envelope.number in shown[0]
    assert all(CANARY not in s for s in shown)


def refusal(call: Callable[[], object]) -> KT1Error:
    with pytest.raises(KT1Error) as exc:
        call()
    return exc.value


def error_texts(err: KT1Error) -> str:
    return "\n".join([str(err), repr(err), err.message, err.message_local,
                      json.dumps(err.to_dict(), ensure_ascii=False, default=str),
                      repr(err.args), repr(err.details)])


def test_the_subject_never_appears_in_an_error_message(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    errors = {
        # the subject itself is the bad field
        "control": refusal(lambda: register(ctx, network, subject=SUBJECT + "\x00")),
        "bidi": refusal(lambda: register(ctx, network, subject="\u202e" + SUBJECT)),
        "long": refusal(lambda: register(ctx, network, subject=SUBJECT * 20)),
        # the rule forbids it
        "forbidden": refusal(lambda: register(ctx, network, subject=SUBJECT,
                                              classification=Classification.TOP_SECRET)),
        # another field is bad while a subject is present
        "other": refusal(lambda: register(ctx, network, subject=SUBJECT,
                                          document_number="x" * 65)),
        "unit": refusal(lambda: register(ctx, network, subject=SUBJECT, recipient="NOWHERE")),
    }
    assert errors["control"].details["field"] == "subject"
    assert errors["long"].details["field"] == "subject"
    assert errors["forbidden"].slug == "subject_not_allowed"
    for name, err in errors.items():
        texts = error_texts(err)
        assert CANARY not in texts, name
        assert "diễn tập" not in texts, name


def test_the_subject_never_appears_in_the_log(
        ctx: Ctx, network: Network, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    engine_log = logging.getLogger("sqlalchemy.engine")
    level = engine_log.level
    engine_log.setLevel(logging.INFO)
    ctx.session.rollback()  # a connection decides whether to log when it is checked out
    try:
        envelope = subject_envelope(ctx, network)
        read_subject(network["vt_bnv"], envelope, ctx.settings.subject_key)
        with pytest.raises(KT1Error):
            register(ctx, network, subject=SUBJECT, classification=Classification.TOP_SECRET)
        ctx.session.execute(select(Envelope)).unique().scalars().all()
    finally:
        engine_log.setLevel(level)
    assert "INSERT INTO envelope" in caplog.text  # the statements and their values were logged
    assert DOC in caplog.text
    assert CANARY not in caplog.text and "diễn tập" not in caplog.text
