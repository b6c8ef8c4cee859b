"""chain.HANDOFF_FIELDS, the one declaration of a handoff's fields, and what is derived from it.

The golden values below were computed with the hand-written ``canonical`` of commit 4d822fb,
before the declaration existed: a change of the hash format makes them fail.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import inspect, select

from kt1.api.schemas import HandoffOut, PartyOut
from kt1.api.serialize import handoff_out
from kt1.models import Envelope, Handoff
from kt1.models.base import StrEnumType
from kt1.models.enums import (
    AckMethod,
    Authority,
    Classification,
    DeliveryFailure,
    EventKind,
    Route,
    SealState,
    ServiceClass,
    Urgency,
)
from kt1.services import chain
from kt1.services.context import Ctx
from kt1.services.custody import Link
from tests.conftest import Clock, Network
from tests.journey import carry, register

ICT = timezone(timedelta(hours=7))
GENESIS = "0" * 64

FIRST: dict[str, Any] = {
    "envelope_id": 42, "seq": 0, "kind": EventKind.REGISTERED_OUTGOING, "bag_id": None,
    "scan_id": "reg-0001", "from_unit_id": None, "from_user_id": None, "to_unit_id": 3,
    "to_user_id": 7, "location": "Văn thư Bộ Nội vụ",
    "event_at": datetime(2026, 3, 2, 8, 15, 0, 123456, tzinfo=ICT),
    "recorded_at": datetime(2026, 3, 2, 1, 15, 1, tzinfo=UTC),
    "seal_state": SealState.NOT_APPLICABLE, "seal_number": None, "count": 1, "ack_user_id": 7,
    "ack_method": AckMethod.SELF, "ack_reference": None, "device": "", "recorded_by_id": 7,
    "reason": None, "authority": None, "note": "",
}
LATER: dict[str, Any] = {
    "envelope_id": 42, "seq": 5, "kind": EventKind.BAG_RECEIVED, "bag_id": 9,
    "scan_id": "scan:5f1c-ÿ", "from_unit_id": 4, "from_user_id": 11, "to_unit_id": 5,
    "to_user_id": 12, "location": 'Bưu cục Hà Nội "A"',
    "event_at": datetime(2026, 3, 3, 23, 59, 59, 999999, tzinfo=ICT),
    "recorded_at": datetime(2026, 3, 3, 17, 0, 0, 5, tzinfo=UTC),
    "seal_state": SealState.MISMATCHED, "seal_number": "NP000000009", "count": 30,
    "ack_user_id": 12, "ack_method": AckMethod.PAPER, "ack_reference": "BG-2026/77",
    "device": "scanner-HN-02", "recorded_by_id": 12, "reason": DeliveryFailure.DAMAGED,
    "authority": Authority.HEAD_OF_UNIT, "note": "Số niêm phong khác\n",
}
ENVELOPE = SimpleNamespace(
    number="KT000000042VN", classification=Classification.SECRET, mark="B", layers=1,
    service=ServiceClass.TIMED, agreed_at=datetime(2026, 3, 5, 9, 0, tzinfo=ICT),
    route=Route.INTER_PROVINCE, urgency=Urgency.URGENT, sender_unit_id=3, recipient_unit_id=8,
    recipient_user_id=None, is_addressee_only=True, document_number="12/CV-BNV", copies=2,
    recall_by=date(2026, 4, 1), register_year=2026, register_seq=17, registered_by_id=7)

FIRST_BYTES = (
    b'{"ack_method":"self","ack_reference":null,"ack_user_id":7,"authority":null,"bag_id":null,'
    b'"count":1,"device":"","envelope":{"agreed_at":"2026-03-05T02:00:00.000000Z",'
    b'"classification":"secret","copies":2,"document_number":"12/CV-BNV",'
    b'"is_addressee_only":true,"layers":1,"mark":"B","number":"KT000000042VN",'
    b'"recall_by":"2026-04-01","recipient_unit_id":8,"recipient_user_id":null,'
    b'"register":[2026,17],"registered_by_id":7,"route":"inter_province","sender_unit_id":3,'
    b'"service":"timed","urgency":"urgent"},"envelope_id":42,'
    b'"event_at":"2026-03-02T01:15:00.123456Z","from_unit_id":null,"from_user_id":null,'
    b'"kind":"registered_outgoing",'
    b'"location":"V\xc4\x83n th\xc6\xb0 B\xe1\xbb\x99 N\xe1\xbb\x99i v\xe1\xbb\xa5","note":"",'
    b'"reason":null,"recorded_at":"2026-03-02T01:15:01.000000Z","recorded_by_id":7,'
    b'"scan_id":"reg-0001","seal_number":null,"seal_state":"not_applicable","seq":0,'
    b'"to_unit_id":3,"to_user_id":7,"v":1}'
)
FIRST_HASH = "5891598352d6017ab6044d30171363a504ec020822cab863c0bea30952ae0564"
LATER_BYTES = (
    b'{"ack_method":"paper","ack_reference":"BG-2026/77","ack_user_id":12,'
    b'"authority":"head_of_unit","bag_id":9,"count":30,"device":"scanner-HN-02",'
    b'"envelope_id":42,"event_at":"2026-03-03T16:59:59.999999Z","from_unit_id":4,'
    b'"from_user_id":11,"kind":"bag_received",'
    b'"location":"B\xc6\xb0u c\xe1\xbb\xa5c H\xc3\xa0 N\xe1\xbb\x99i \\"A\\"",'
    b'"note":"S\xe1\xbb\x91 ni\xc3\xaam phong kh\xc3\xa1c\\n","reason":"damaged",'
    b'"recorded_at":"2026-03-03T17:00:00.000005Z","recorded_by_id":12,'
    b'"scan_id":"scan:5f1c-\xc3\xbf","seal_number":"NP000000009","seal_state":"mismatched",'
    b'"seq":5,"to_unit_id":5,"to_user_id":12,"v":1}'
)
# chained after FIRST_HASH (as if it were the next link)
LATER_HASH = "03ccc52aca8e9b79fc0257ff96464a0c5d7055810431edf55123b08af0a3f320"

#: Hashed fields the chain decides in append_link, not the caller's Link.
DECIDED_BY_CHAIN = {"envelope_id", "seq", "recorded_at", "recorded_by_id"}
NOT_HASHED = {"id", "prev_hash", "hash"}


# --------------------------------------------------------------------------- golden


@pytest.mark.parametrize("make", [SimpleNamespace, Handoff], ids=["object", "model"])
def test_the_canonical_form_and_hash_are_those_of_the_original_hand_written_format(
        make: Any) -> None:
    identity = chain.envelope_identity(ENVELOPE)  # type: ignore[arg-type]
    first = chain.canonical(make(**FIRST), identity)
    assert first == FIRST_BYTES
    assert chain.link_hash(GENESIS, first) == FIRST_HASH
    later = chain.canonical(make(**LATER))
    assert later == LATER_BYTES
    assert chain.link_hash(FIRST_HASH, later) == LATER_HASH


def test_the_golden_values_name_every_hashed_field() -> None:
    assert set(FIRST) == set(LATER) == set(chain.HASHED_NAMES)


# --------------------------------------------------------------------------- the model


def test_the_declaration_agrees_with_the_handoff_model() -> None:
    columns = {c.name: c for c in Handoff.__table__.columns}
    declared = {f.name: f for f in chain.HANDOFF_FIELDS}
    assert list(declared) == [f.name for f in chain.HANDOFF_FIELDS], "names are unique"
    assert set(declared) == set(columns)
    python_types = {"int": int, "text": str, "time": datetime}
    for name, f in declared.items():
        column = columns[name]
        assert f.nullable == column.nullable, name
        assert isinstance(column.type, StrEnumType) == (f.form == "enum"), name
        if f.form != "enum":
            sql_type = getattr(column.type, "impl", column.type)  # under a TypeDecorator
            assert sql_type.python_type is python_types[f.form], name
        assert f.hashed == (name not in NOT_HASHED), name


def test_a_link_carries_every_hashed_field_the_chain_does_not_decide() -> None:
    link_fields = {f.name for f in dataclasses.fields(Link)}
    assert link_fields == (set(chain.HASHED_NAMES) - DECIDED_BY_CHAIN) | {"recorded_by"}


def test_the_migrated_table_agrees_with_the_declaration(ctx: Ctx) -> None:
    columns = {c["name"]: c for c in inspect(ctx.session.get_bind()).get_columns("handoff")}
    assert set(columns) == {f.name for f in chain.HANDOFF_FIELDS}
    for f in chain.HANDOFF_FIELDS:
        assert columns[f.name]["nullable"] == f.nullable, f.name


def test_links_written_by_the_services_hash_as_the_declaration_says(
        ctx: Ctx, network: Network, clock: Clock) -> None:
    envelope = register(ctx, network)
    carry(ctx, network, clock, envelope)
    ctx.session.expire_all()
    envelope = ctx.session.get(Envelope, envelope.id)
    assert envelope is not None
    links = ctx.session.execute(select(Handoff).where(Handoff.envelope_id == envelope.id)
                                .order_by(Handoff.seq)).scalars().all()
    assert len(links) > 3
    prev = GENESIS
    for h in links:
        identity = chain.envelope_identity(envelope) if h.seq == 0 else None
        assert h.prev_hash == prev
        assert chain.link_hash(prev, chain.canonical(h, identity)) == h.hash
        prev = h.hash
    assert envelope.last_hash == prev


# --------------------------------------------------------------------------- the API


def _top(api: str | None) -> str:
    assert api is not None
    return api.partition(".")[0]


def test_the_api_schema_has_a_field_per_exposed_field_of_the_declaration() -> None:
    schema = HandoffOut()
    exposed = {_top(f.api) for f in chain.API_FIELDS}
    assert set(schema.fields) == exposed
    assert list(schema.fields) == list(dict.fromkeys(_top(f.api) for f in chain.API_FIELDS))
    for f in chain.API_FIELDS:
        assert f.api is not None
        key, _, member = f.api.partition(".")
        if member:
            assert member in PartyOut().fields
        else:
            assert schema.fields[key].allow_none == f.nullable, key
    assert len({f.api for f in chain.API_FIELDS}) == len(chain.API_FIELDS)
    assert len({f.api_pos for f in chain.API_FIELDS}) == len(chain.API_FIELDS)


class _Session:
    """Just what handoff_out reads: units, users and bags by id."""

    def get(self, model: Any, ident: int) -> Any:
        return SimpleNamespace(code=f"U{ident}", username=f"user{ident}", number=f"B{ident}")


@pytest.mark.parametrize("values", [FIRST, LATER], ids=["first", "later"])
def test_the_serializer_shows_the_exposed_fields_as_the_schema_declares(
        values: dict[str, Any]) -> None:
    h = Handoff(**values, prev_hash=GENESIS, hash="ab" * 32)
    out = handoff_out(_Session(), h, "KT000000042VN")  # type: ignore[arg-type]
    assert list(out) == list(HandoffOut().fields)
    giver = None if h.from_unit_id is None else {"unit": f"U{h.from_unit_id}",
                                                 "user": f"user{h.from_user_id}"}
    assert out == {
        "seq": h.seq, "kind": str(h.kind), "scan_id": h.scan_id, "number": "KT000000042VN",
        "bag": f"B{h.bag_id}" if h.bag_id else None, "event_at": h.event_at,
        "recorded_at": h.recorded_at, "giver": giver,
        "receiver": {"unit": f"U{h.to_unit_id}", "user": f"user{h.to_user_id}"},
        "seal_state": str(h.seal_state), "seal_number": h.seal_number,
        "acknowledged_by": f"user{h.ack_user_id}", "ack_method": str(h.ack_method),
        "hash": h.hash,
    }
    assert HandoffOut().dump(out)["event_at"] == h.event_at.isoformat()


# --------------------------------------------------------------------------- provenance


def test_an_envelope_without_provenance_seals_no_provenance_key() -> None:
    """Every envelope registered before issue 11 item 4 keeps its hash (the golden one)."""
    assert "provenance" not in chain.envelope_identity(ENVELOPE)  # type: ignore[arg-type]
    with_nulls = SimpleNamespace(**vars(ENVELOPE), drafter_user_id=None, drafter_name=None,
                                 signer_name=None, signer_title=None,
                                 classification_basis=None)
    assert chain.envelope_identity(with_nulls) == chain.envelope_identity(  # type: ignore[arg-type]
        ENVELOPE)  # type: ignore[arg-type]


@pytest.mark.parametrize("signer", ["Trần Văn Ký", 'Trần "Ký"\\'])
def test_the_verifier_formats_provenance_as_the_chain_does(
        ctx: Ctx, network: Network, signer: str) -> None:
    import json

    from kt1.services.judging import envelope_facts
    from kt1.services.verify.hashing import identity_json

    for kw in ({"drafter_username": "bm_bnv", "signer_name": signer},
               {"classification": Classification.CONFIDENTIAL, "signer_name": signer,
                "signer_title": None, "classification_basis": None, "drafter_name": None}):
        envelope = register(ctx, network, **kw)
        expected = json.dumps(chain.envelope_identity(envelope), sort_keys=True,
                              separators=(",", ":"), ensure_ascii=False).encode()
        assert b'"provenance":{' in expected
        assert identity_json(envelope_facts(envelope)) == expected
