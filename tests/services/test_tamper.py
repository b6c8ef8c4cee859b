"""Tamper evidence (docs/rules.md, rule 15): append-only handoffs, hash chains, signed
checkpoints.

Each attack drops the database triggers first, as an insider with the database password
could. An edited, deleted or swapped handoff breaks its envelope's chain; cutting off the
newest handoffs and rewriting the envelope row to match leaves a chain that looks whole, and
is caught by an earlier checkpoint's consistency proof.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from kt1.models import Checkpoint, Envelope, Handoff
from kt1.models.enums import EnvelopeStatus
from kt1.services import checkpoints
from kt1.services.checkpoints import (
    CheckpointAlteredError,
    CheckpointFileError,
    CheckpointForeignError,
    CheckpointKeyMissingError,
    CheckpointWrongKeyError,
    EmptyLogError,
    LogInconsistentError,
    as_file,
    check_file,
    create_checkpoint,
    export_checkpoint,
    parse_file,
)
from kt1.services.context import Ctx
from kt1.services.verify import BROKEN, IN_TRANSIT, NothingToVerifyError, verify
from tests.conftest import Clock, Network
from tests.journey import carry, register
from tests.services.test_verify import codes, drop_append_only, expect, links, report_of

KEY = base64.b64encode(hashlib.sha256(b"kt1 test checkpoint key").digest()).decode()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"someone else").digest())


@pytest.fixture
def signed(ctx: Ctx) -> Ctx:
    """The service context with a checkpoint signing key configured."""
    ctx.settings = dataclasses.replace(ctx.settings, checkpoint_key=KEY)
    return ctx


def delivered(ctx: Ctx, network: Network, clock: Clock, count: int = 2) -> list[str]:
    numbers = []
    for _ in range(count):
        env = register(ctx, network)
        carry(ctx, network, clock, env)
        numbers.append(env.number)
    return numbers


def sql(ctx: Ctx, statement: str, **params: object) -> None:
    ctx.session.execute(text(statement), params)
    ctx.session.commit()


def envelope_id(ctx: Ctx, number: str) -> int:
    ctx.session.rollback()
    return ctx.session.execute(select(Envelope.id).where(Envelope.number == number)).scalar_one()


# ------------------------------------------------------------------ the database itself


def test_the_database_refuses_to_update_or_delete_handoffs_and_checkpoints(
        signed: Ctx, network: Network, clock: Clock) -> None:
    delivered(signed, network, clock, 1)
    create_checkpoint(signed)
    for statement in ("UPDATE handoff SET note = 'x'", "DELETE FROM handoff",
                      "UPDATE checkpoint SET root_hash = 'x'", "DELETE FROM checkpoint"):
        with pytest.raises(DBAPIError, match="append-only"):
            signed.session.execute(text(statement))
        signed.session.rollback()


# ------------------------------------------------------------------ chains


def test_an_edited_handoff_is_detected_even_with_the_triggers_dropped(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    number, other = delivered(ctx, network, clock)
    drop_append_only(ctx)
    sql(ctx, "UPDATE handoff SET to_user_id = :u WHERE envelope_id = :e AND seq = 8",
        u=network["cv_hcm"].id, e=envelope_id(ctx, number))
    report = report_of(ctx, number)
    assert report.status == BROKEN
    assert "chain_hash_mismatch" in codes(report)
    assert any(f.seq == 8 for f in report.findings if f.code == "chain_hash_mismatch")
    assert report_of(ctx, other).findings == []


def test_a_deleted_middle_handoff_is_detected(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    number, _other = delivered(ctx, network, clock)
    drop_append_only(ctx)
    sql(ctx, "DELETE FROM handoff WHERE envelope_id = :e AND seq = 4",
        e=envelope_id(ctx, number))
    report = report_of(ctx, number)
    assert report.status == BROKEN
    assert {"chain_link_broken", "chain_sequence_broken", "chain_head_mismatch"} <= codes(report)


def test_two_swapped_handoffs_are_detected(ctx: Ctx, network: Network, clock: Clock) -> None:
    number, _other = delivered(ctx, network, clock)
    drop_append_only(ctx)
    e = envelope_id(ctx, number)
    sql(ctx, "UPDATE handoff SET seq = -1 WHERE envelope_id = :e AND seq = 7", e=e)
    sql(ctx, "UPDATE handoff SET seq = 7 WHERE envelope_id = :e AND seq = 8", e=e)
    sql(ctx, "UPDATE handoff SET seq = 8 WHERE envelope_id = :e AND seq = -1", e=e)
    report = report_of(ctx, number)
    assert report.status == BROKEN
    assert {"chain_hash_mismatch", "chain_link_broken"} <= codes(report)


def test_a_rehashed_rewrite_of_an_edited_handoff_still_breaks_a_rule(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """Even a forger who recomputes every hash cannot hide a changed receiver."""
    from tests.services.test_verify import rewrite

    number, _other = delivered(ctx, network, clock)
    rewrite(ctx, number, lambda rows: rows[8].update(to_user_id=network["cv_hcm"].id))
    assert report_of(ctx, number).status == BROKEN


@pytest.mark.parametrize("column, value", [
    ("signer_name", "Người ký giả"), ("signer_name", None), ("signer_title", "Bí thư"),
    ("classification_basis", "Khoản 9 Điều 9"), ("drafter_name", "Người khác"),
    ("drafter_user_id", None)])
def test_an_edited_signer_drafter_or_basis_of_a_new_envelope_is_detected(
        ctx: Ctx, network: Network, clock: Clock, column: str, value: object) -> None:
    """Provenance (docs/domain.md §8) is sealed into the first link: editing the envelope
    row breaks that link's hash, on the fast path and on the exact recomputation alike."""
    envelope = register(ctx, network, drafter_username="bm_bnv", drafter_name=None)
    carry(ctx, network, clock, envelope, until="accepted")
    number = envelope.number
    assert report_of(ctx, number).findings == []
    sql(ctx, f"UPDATE envelope SET {column} = :v WHERE number = :n",  # noqa: S608 (constants)
        v=value, n=number)
    report = report_of(ctx, number)
    assert report.status == BROKEN
    assert [(f.code, f.seq) for f in report.findings] == [("chain_hash_mismatch", 0)]


def test_provenance_set_on_an_envelope_registered_without_it_is_detected(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    from kt1.models.enums import Classification

    old = register(ctx, network, classification=Classification.CONFIDENTIAL)
    assert old.signer_name is None
    assert report_of(ctx, old.number).findings == []
    sql(ctx, "UPDATE envelope SET signer_name = 'Người ký giả' WHERE number = :n",
        n=old.number)
    assert codes(report_of(ctx, old.number)) == {"chain_hash_mismatch"}


def test_provenance_with_quotes_and_backslashes_verifies(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """Values the fast formatter cannot paste in as they are (a double quote, a backslash)
    take the exact path and still verify."""
    envelope = register(ctx, network, signer_title='Chánh Văn phòng "Bộ" \\ số 2',
                        classification_basis='Khoản 2 Điều 1 "Danh mục"')
    carry(ctx, network, clock, envelope, until="accepted")
    assert report_of(ctx, envelope.number).findings == []


def _cut_newest(ctx: Ctx, number: str, count: int) -> None:
    """Delete the newest handoffs and rewrite the envelope row to match what is left."""
    drop_append_only(ctx)
    rows = links(ctx, number)
    keep = rows[:-count]
    e = envelope_id(ctx, number)
    sql(ctx, "DELETE FROM handoff WHERE envelope_id = :e AND seq >= :s", e=e, s=len(keep))
    last = keep[-1]
    ctx.session.execute(update(Envelope).where(Envelope.id == e).values(
        chain_length=len(keep), last_hash=last["hash"], holder_unit_id=last["to_unit_id"],
        holder_user_id=last["to_user_id"], last_event_at=last["event_at"],
        status=EnvelopeStatus.OUT_FOR_DELIVERY, incoming_year=None, incoming_seq=None))
    ctx.session.commit()


def test_cutting_the_newest_handoffs_is_caught_by_an_earlier_checkpoint(
        signed: Ctx, network: Network, clock: Clock, tmp_path: Path) -> None:
    number, _other = delivered(signed, network, clock)
    create_checkpoint(signed)
    exported = export_checkpoint(signed)
    _cut_newest(signed, number, 2)
    # the envelope's own chain now looks whole: only the checkpoint can tell
    report = report_of(signed, number)
    assert report.findings == []
    assert report.status == IN_TRANSIT
    result = check_file(signed, exported)
    assert not result.consistent
    assert result.new_size == result.old_size - 2
    assert "removed" in result.message_en


def test_cut_handoffs_are_caught_even_after_new_ones_fill_the_gap(
        signed: Ctx, network: Network, clock: Clock) -> None:
    number, _other = delivered(signed, network, clock)
    create_checkpoint(signed)
    exported = export_checkpoint(signed)
    _cut_newest(signed, number, 2)
    delivered(signed, network, clock, 1)  # the log grows past the checkpoint's size again
    result = check_file(signed, exported)
    assert result.new_size > result.old_size
    assert not result.consistent
    with pytest.raises(LogInconsistentError):
        create_checkpoint(signed)


def test_an_untouched_log_that_grew_is_consistent_with_its_checkpoint(
        signed: Ctx, network: Network, clock: Clock) -> None:
    delivered(signed, network, clock, 1)
    first = create_checkpoint(signed)
    exported = export_checkpoint(signed, first.id)
    delivered(signed, network, clock, 1)
    second = create_checkpoint(signed)
    assert second.tree_size > first.tree_size
    result = check_file(signed, exported)
    assert result.consistent, result.message_en
    assert result.new_size == second.tree_size


def test_an_edit_rehashed_by_the_forger_is_caught_by_the_checkpoint(
        signed: Ctx, network: Network, clock: Clock) -> None:
    """Recomputing every hash after an edit fools the chain check, not the checkpoint."""
    from tests.services.test_verify import rewrite

    number, _other = delivered(signed, network, clock)
    create_checkpoint(signed)
    exported = export_checkpoint(signed)
    rewrite(signed, number, lambda rows: rows[2].update(note="sửa lại"))
    assert report_of(signed, number).findings == []
    result = check_file(signed, exported)
    assert not result.consistent
    assert "edited" in result.message_en
    with pytest.raises(LogInconsistentError):
        create_checkpoint(signed)


# ------------------------------------------------------------------ checkpoint files


def test_a_checkpoint_file_is_small_printable_text_that_parses_back(
        signed: Ctx, network: Network, clock: Clock) -> None:
    delivered(signed, network, clock, 1)
    checkpoint = create_checkpoint(signed)
    exported = export_checkpoint(signed)
    assert len(exported) < 1024
    assert all(line.isprintable() for line in exported.splitlines())
    parsed = parse_file(exported)
    assert parsed == as_file(checkpoint)
    assert parsed.tree_size == signed.session.execute(select(func.count(Handoff.id))).scalar()


def test_an_altered_checkpoint_file_is_refused(
        signed: Ctx, network: Network, clock: Clock) -> None:
    delivered(signed, network, clock, 1)
    create_checkpoint(signed)
    exported = export_checkpoint(signed)
    size = parse_file(exported).tree_size
    altered = exported.replace(f"tree_size: {size}", f"tree_size: {size - 1}")
    with pytest.raises(CheckpointAlteredError):
        check_file(signed, altered)


def test_a_checkpoint_file_signed_with_another_key_is_refused(
        signed: Ctx, network: Network, clock: Clock) -> None:
    delivered(signed, network, clock, 1)
    file = as_file(create_checkpoint(signed))
    forged = dataclasses.replace(file, public_key=checkpoints.public_hex(OTHER_KEY))
    forged = dataclasses.replace(forged, signature=OTHER_KEY.sign(forged.signed_message()).hex())
    with pytest.raises(CheckpointWrongKeyError) as caught:
        check_file(signed, forged.render())
    assert caught.value.slug == "checkpoint_wrong_key"


def test_a_checkpoint_file_from_another_installation_is_refused(
        signed: Ctx, network: Network, clock: Clock) -> None:
    delivered(signed, network, clock, 1)
    file = as_file(create_checkpoint(signed))
    ours = checkpoints.load_signing_key(KEY)
    foreign = dataclasses.replace(file, installation="00000000-0000-4000-8000-000000000000")
    foreign = dataclasses.replace(foreign, signature=ours.sign(foreign.signed_message()).hex())
    with pytest.raises(CheckpointForeignError):
        check_file(signed, foreign.render())


@pytest.mark.parametrize("content", [
    "", "hello", "KT1-CHECKPOINT v1\nroot: abc\n",
    "KT1-CHECKPOINT v1\ninstallation: x\ncheckpoint: one\ncreated_at: x\ntree_size: 1\n"
    "last_handoff_id: 1\nroot: " + "0" * 64 + "\npublic_key: " + "0" * 64 + "\nsignature: "
    + "0" * 128 + "\n",
])
def test_a_malformed_checkpoint_file_is_a_clear_error(
        signed: Ctx, network: Network, content: str) -> None:
    with pytest.raises(CheckpointFileError):
        check_file(signed, content)


def test_checkpoints_need_a_configured_key(ctx: Ctx, network: Network, clock: Clock) -> None:
    delivered(ctx, network, clock, 1)
    with pytest.raises(CheckpointKeyMissingError):
        create_checkpoint(ctx)


def test_an_empty_log_has_nothing_to_checkpoint_or_verify(signed: Ctx, network: Network) -> None:
    with pytest.raises(EmptyLogError):
        create_checkpoint(signed)
    with pytest.raises(NothingToVerifyError):
        list(verify(signed))
    assert signed.session.execute(select(func.count(Checkpoint.id))).scalar() == 0


def test_a_handoff_cut_off_before_the_first_checkpoint_is_out_of_its_reach(
        signed: Ctx, network: Network, clock: Clock) -> None:
    """A checkpoint vouches for the log it signed: what was changed before stays with the
    chain checks (here a cut that the envelope row hides is invisible to both)."""
    number, _other = delivered(signed, network, clock)
    _cut_newest(signed, number, 1)
    create_checkpoint(signed)
    assert check_file(signed, export_checkpoint(signed)).consistent


def test_unknown_numbers_are_refused_before_anything_is_checked(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    from kt1.errors import KT1Error
    from kt1.services.identifiers import format_number

    number, = delivered(ctx, network, clock, 1)
    unknown = format_number(ctx.settings.service_letters, 99_999, ctx.settings.country_code)
    with pytest.raises(KT1Error) as caught:
        list(verify(ctx, [number, unknown]))
    assert caught.value.slug == "unknown_envelope"
    expect(report_of(ctx, number), status="complete")
