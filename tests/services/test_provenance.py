"""Who drafted, who signed, why it is secret (issue 11 item 4; docs/domain.md §8,
classification basis): recorded at registration as the dated rule asks, sealed into the
first link, and the drafter's hand-over to the registry is the first link's giver."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kt1.errors import KT1Error
from kt1.models import Envelope, Handoff, ProvenanceRule
from kt1.models.enums import Classification
from kt1.services import chain
from kt1.services.context import Ctx
from kt1.services.provenance import provenance_policy
from kt1.services.verify import verify
from tests.conftest import Clock, Network
from tests.journey import PROVENANCE, carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]
NONE = {k: None for k in PROVENANCE}


def first_link(ctx: Ctx, envelope: Envelope) -> Handoff:
    return ctx.session.execute(select(Handoff).where(
        Handoff.envelope_id == envelope.id, Handoff.seq == 0)).scalar_one()


def findings(ctx: Ctx, number: str) -> list[str]:
    ctx.session.rollback()
    return [f.code for report in verify(ctx, [number]) for f in report.findings]


# ------------------------------------------------------------------ the dated rule


def test_the_migration_seeds_todays_rule(ctx: Ctx) -> None:
    today = date(2026, 11, 29)
    for c in (Classification.TOP_SECRET, Classification.SECRET):
        policy = provenance_policy(ctx.session, c, today)
        assert policy.drafter and policy.signer and policy.basis, c
    for c in (Classification.CONFIDENTIAL, Classification.UNCLASSIFIED):
        policy = provenance_policy(ctx.session, c, today)
        assert not (policy.drafter or policy.signer or policy.basis), c


@pytest.mark.parametrize("missing, field", [
    ("drafter_name", "drafter"), ("signer_name", "signer_name"),
    ("signer_title", "signer_title"), ("classification_basis", "classification_basis")])
@pytest.mark.parametrize("classification", [Classification.TOP_SECRET, Classification.SECRET])
def test_a_missing_required_value_is_refused_by_name_and_nothing_is_written(
        ctx: Ctx, network: Network, snapshot: Snapshot, classification: Classification,
        missing: str, field: str) -> None:
    before = snapshot()
    with pytest.raises(KT1Error) as refused:
        register(ctx, network, classification=classification,
                 **{**PROVENANCE, missing: "  "})
    assert refused.value.slug == "provenance_required"
    assert refused.value.status == 422
    assert refused.value.details["field"] == field
    assert classification.label_vi in refused.value.message_local
    assert "phải ghi" in refused.value.message_local
    ctx.session.rollback()
    assert snapshot() == before


@pytest.mark.parametrize("classification", [Classification.CONFIDENTIAL,
                                            Classification.UNCLASSIFIED])
def test_mat_and_unclassified_items_may_go_without(
        ctx: Ctx, network: Network, classification: Classification) -> None:
    envelope = register(ctx, network, classification=classification, **NONE)
    assert (envelope.drafter_name, envelope.signer_name, envelope.classification_basis) == (
        None, None, None)
    assert "provenance" not in chain.envelope_identity(envelope)
    assert findings(ctx, envelope.number) == []


def test_the_rule_in_force_on_the_registration_date_decides(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    """A later row makes Mật need a basis from its day on, without any code change."""
    ctx.session.add(ProvenanceRule(
        effective_from=date(2026, 12, 1), classification=Classification.CONFIDENTIAL,
        drafter_required=False, signer_required=False, basis_required=True))
    ctx.session.commit()
    clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    register(ctx, network, classification=Classification.CONFIDENTIAL, **NONE)
    clock.now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 17:00 in Vietnam, 1 December
    with pytest.raises(KT1Error) as refused:
        register(ctx, network, classification=Classification.CONFIDENTIAL, **NONE)
    assert refused.value.details["field"] == "classification_basis"
    ctx.session.rollback()
    register(ctx, network, classification=Classification.CONFIDENTIAL,
             **{**NONE, "classification_basis": "Khoản 5 Điều 1"})


# ------------------------------------------------------------------ what is typed


@pytest.mark.parametrize("field, value", [
    ("classification_basis", "Khoản 2\x00 Điều 1"), ("signer_name", "Trần\u202eVăn"),
    ("classification_basis", "x" * 501), ("signer_title", "y" * 121),
    ("drafter_name", "z" * 121)])
def test_text_is_cleaned_and_length_limited(
        ctx: Ctx, network: Network, field: str, value: str) -> None:
    with pytest.raises(KT1Error) as refused:
        register(ctx, network, **{**PROVENANCE, field: value})
    assert refused.value.slug == "invalid_field"
    assert refused.value.details["field"] == field


def test_values_are_stored_cleaned(ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network, **{**PROVENANCE, "signer_name": "  Trần Văn Ký  ",
                                         "classification_basis": "Khoa\u0309n 2 Điều 1"})
    assert envelope.signer_name == "Trần Văn Ký"
    assert envelope.classification_basis == "Khoản 2 Điều 1"  # NFC


def test_a_title_needs_a_signer(ctx: Ctx, network: Network) -> None:
    with pytest.raises(KT1Error) as refused:
        register(ctx, network, classification=Classification.CONFIDENTIAL,
                 signer_title="Chánh Văn phòng")
    assert refused.value.details["field"] == "signer_name"


# ------------------------------------------------------------------ the drafter


def test_a_drafter_of_the_unit_hands_the_document_to_the_registry_in_the_first_link(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    drafter = network["bm_bnv"]
    envelope = register(ctx, network, drafter_username="BM_BNV", drafter_name=None,
                        **{k: PROVENANCE[k] for k in PROVENANCE if k != "drafter_name"})
    assert envelope.drafter_user_id == drafter.id
    assert envelope.drafter_name == drafter.full_name  # the account's name when none typed
    link = first_link(ctx, envelope)
    assert (link.from_user_id, link.from_unit_id) == (drafter.id, drafter.unit_id)
    assert (link.to_user_id, link.ack_user_id) == (network["vt_bnv"].id, network["vt_bnv"].id)
    assert chain.envelope_identity(envelope)["provenance"] == {
        "basis": PROVENANCE["classification_basis"], "drafter_name": drafter.full_name,
        "drafter_user_id": drafter.id, "signer_name": PROVENANCE["signer_name"],
        "signer_title": PROVENANCE["signer_title"]}
    assert findings(ctx, envelope.number) == []
    carry(ctx, network, clock, envelope)
    assert findings(ctx, envelope.number) == []


def test_a_drafter_named_in_free_text_leaves_the_first_link_without_a_giver(
        ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network)
    assert envelope.drafter_user_id is None and envelope.drafter_name == "Nguyễn Văn Soạn"
    link = first_link(ctx, envelope)
    assert (link.from_user_id, link.from_unit_id) == (None, None)
    assert findings(ctx, envelope.number) == []


@pytest.mark.parametrize("username", ["vt_hcm", "gd_hn", "nobody"])
def test_a_drafter_account_must_be_of_the_sender_unit(
        ctx: Ctx, network: Network, snapshot: Snapshot, username: str) -> None:
    before = snapshot()
    with pytest.raises(KT1Error) as refused:
        register(ctx, network, drafter_username=username)
    assert refused.value.slug == "invalid_field"
    assert refused.value.details["field"] == "drafter_username"
    ctx.session.rollback()
    assert snapshot() == before
