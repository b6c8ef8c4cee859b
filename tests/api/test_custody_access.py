"""Issue 9, defects 1, 2, 6 and 10: who may take custody, and who may even learn of an item.

Each test sends the request the outside drill sent (adapted to the test network: BC-HN plays
the drill's Hà Nội office BC-HK, UBND-HCM registers for BNV), on SQLite and PostgreSQL, and
proves that a refused request wrote nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kt1.models import Envelope
from kt1.services import bagging, custody
from kt1.services.context import Ctx
from kt1.services.handover import prepare_sheet
from kt1.services.identifiers import format_number
from tests.api.conftest import Scanner, scan_id
from tests.conftest import PIN, Clock, Network, new_scan, pin
from tests.journey import carry, register

Snapshot = Callable[[], dict[str, list[tuple[Any, ...]]]]


def now() -> str:
    return datetime.now(UTC).isoformat()


def hcm_envelope(ctx: Ctx, network: Network) -> Envelope:
    """Registered by UBND-HCM for BNV an hour ago, never handed over (held by vt_hcm)."""
    return register(ctx, network, clerk="vt_hcm", recipient="BNV",
                    document_number="9/UBND-HCM",
                    event_at=datetime.now(UTC) - timedelta(hours=1))


def takeover(number: str, **kw: Any) -> dict[str, Any]:
    """The drill's request: an office's device takes custody with a free-text paper receipt."""
    return {"scan_id": scan_id(), "operator": "gd_hn", "number": number, "kind": "accepted",
            "event_at": now(), "receiver": "gd_hn",
            "receipt": {"method": "paper", "reference": "anything"}, **kw}


def nonexistent(ctx: Ctx) -> str:
    s = ctx.settings
    return str(format_number(s.service_letters, 99_999_990, s.country_code))


def same_as_nonexistent(ctx: Ctx, hidden: str, send: Callable[[str], Any]) -> Any:
    """Send the same request for a hidden and for a non-existent number: identical answers."""
    ghost = nonexistent(ctx)
    a, b = send(hidden), send(ghost)
    assert a.status_code == b.status_code == 404, (a.json, b.json)
    assert json.loads(a.get_data(as_text=True).replace(hidden, "N")) == json.loads(
        b.get_data(as_text=True).replace(ghost, "N"))
    return a


# ------------------------------------------------------------------ defect 1


def test_an_office_cannot_take_custody_of_an_item_nobody_handed_it(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = hcm_envelope(ctx, network).number
    hn = scanner("BC-HN")
    before = snapshot()
    r = hn.post("/handoffs", takeover(number))  # the drill got 201 here
    assert r.status_code == 404 and r.json["error"] == "unknown_envelope", r.json
    # naming the holder as giver changes nothing while the holder is not there
    r = hn.post("/handoffs", takeover(number, giver="vt_hcm"))
    assert r.status_code == 404 and r.json["error"] == "unknown_envelope", r.json
    assert snapshot() == before


def test_the_holder_present_at_an_office_that_does_not_serve_her_unit_is_refused(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = hcm_envelope(ctx, network).number
    hn = scanner("BC-HN")
    before = snapshot()
    r = hn.post("/handoffs", takeover(
        number, giver="vt_hcm", receipt={"method": "pin", "secret": PIN},
        giver_receipt={"method": "pin", "secret": PIN}))
    assert r.status_code == 403 and r.json["error"] == "unit_not_served", r.json
    assert snapshot() == before


def test_the_serving_office_accepts_with_the_holder_present_and_identified(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    number = hcm_envelope(ctx, network).number
    hcm = scanner("BC-HCM")
    body = {"scan_id": scan_id(), "operator": "gd_hcm", "number": number, "kind": "accepted",
            "event_at": now(), "giver": "vt_hcm", "receiver": "gd_hcm",
            "receipt": {"method": "badge", "secret": network.badges["gd_hcm"]}}
    before = snapshot()
    for giver_receipt, slug in ((None, "unknown_envelope"),  # not shown: as if unknown
                                ({"method": "pin", "secret": "0000"}, "unknown_envelope"),
                                ({"method": "paper", "reference": "anything"},
                                 "unknown_envelope")):
        sent = {**body, "scan_id": scan_id()}
        if giver_receipt:
            sent["giver_receipt"] = giver_receipt
        r = hcm.post("/handoffs", sent)
        assert r.json["error"] == slug, (giver_receipt, r.json)
    assert snapshot() == before
    r = hcm.post("/handoffs", {**body, "giver_receipt": {
        "method": "badge", "secret": network.badges["vt_hcm"]}})
    assert r.status_code == 201, r.json
    assert r.json["handoff"]["giver"] == {"unit": "UBND-HCM", "user": "vt_hcm"}


def test_a_paper_receipt_at_acceptance_must_name_the_sheet_that_lists_the_item(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    envelope = hcm_envelope(ctx, network)
    sheet = prepare_sheet(ctx, network["vt_hcm"], [envelope.number], "BC-HCM")
    hcm = scanner("BC-HCM")
    body = {"operator": "gd_hcm", "number": envelope.number, "kind": "accepted",
            "event_at": now(), "giver": "vt_hcm", "receiver": "gd_hcm"}
    before = snapshot()
    r = hcm.post("/handoffs", {**body, "scan_id": scan_id(),
                               "receipt": {"method": "paper", "reference": "anything"}})
    assert r.status_code == 422 and r.json["error"] == "paper_receipt_unbound", r.json
    assert snapshot() == before
    # the sheet is the giver's side's paper: it covers the giver, and names the receipt
    r = hcm.post("/handoffs", {**body, "scan_id": scan_id(),
                               "receipt": {"method": "paper", "reference": sheet.number}})
    assert r.status_code == 201, r.json


def test_a_courier_must_be_present_to_hand_over_a_bag(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], clock: Clock,
        snapshot: Snapshot) -> None:
    envelope = register(ctx, network)  # a few days ago, on the test clock
    bag = carry(ctx, network, clock, envelope, until="dispatched")["bag"]
    hcm = scanner("BC-HCM")
    body = {"operator": "gd_hcm", "courier": "bt_hn", "seal_number": "NP-000123",
            "receipt": {"method": "pin", "secret": PIN}, "event_at": now()}
    before = snapshot()
    r = hcm.post(f"/bags/{bag}/receive", {**body, "scan_id": scan_id()})
    assert r.status_code == 422 and r.json["error"] == "giver_identification_missing", r.json
    r = hcm.post(f"/bags/{bag}/receive", {**body, "scan_id": scan_id(),
                                          "courier_receipt": {"method": "pin",
                                                              "secret": "0000"}})
    assert r.status_code == 422 and r.json["error"] == "giver_identification_invalid", r.json
    assert snapshot() == before
    r = hcm.post(f"/bags/{bag}/receive", {**body, "scan_id": scan_id(),
                                          "courier_receipt": {"method": "pin", "secret": PIN}})
    assert r.status_code == 201, r.json


# ------------------------------------------------------------------ defects 2 and 10


@pytest.fixture
def bagged_for_hcm(ctx: Ctx, network: Network) -> tuple[str, str]:
    """An envelope of BNV in an open bag at BC-HN bound for BC-HCM: (number, bag)."""
    envelope = register(ctx, network, event_at=datetime.now(UTC) - timedelta(hours=2))
    t = datetime.now(UTC) - timedelta(hours=1)
    custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), t,
                              giver_receipt=pin(network["vt_bnv"]))
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    bagging.add_to_bag(ctx, network["gd_hn"], bag, envelope.number, new_scan(),
                       t + timedelta(minutes=5))
    return envelope.number, bag


def test_every_refusal_to_a_unit_that_may_not_see_an_item_is_that_of_an_unknown_number(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        bagged_for_hcm: tuple[str, str], snapshot: Snapshot) -> None:
    number, bag = bagged_for_hcm
    other = scanner("UBND-HN")  # neither sender, recipient nor holder
    before = snapshot()
    same_as_nonexistent(ctx, number, lambda n: other.get(f"/envelopes/{n}"))
    # the drill got 409 envelope_in_bag "… is inside bag BC-HN-…" here
    r = same_as_nonexistent(ctx, number, lambda n: other.post("/handoffs", {
        "scan_id": scan_id(), "operator": "vt_hn", "number": n, "kind": "delivered",
        "event_at": now(), "giver": "vt_hn", "receiver": "vt_hn",
        "receipt": {"method": "pin", "secret": PIN}}))
    assert bag not in r.get_data(as_text=True)
    same_as_nonexistent(ctx, number, lambda n: other.post("/handoffs", {
        "scan_id": scan_id(), "operator": "vt_hn", "number": n,
        "kind": "registered_incoming", "event_at": now()}))
    same_as_nonexistent(ctx, number, lambda n: other.post("/incidents", {
        "operator": "vt_hn", "kind": "loss", "number": n, "report": "mất"}))
    # bags: a bag of other units is unknown too, for reads and every operation
    ghost_bag = "BC-HN-000101-999"
    for path, body in (("", None),
                       ("/envelopes", {"number": number, "event_at": now()}),
                       ("/seal", {"seal_number": "NP-1", "event_at": now()}),
                       ("/dispatch", {"courier": "bt_hn", "vehicle": "29A",
                                      "is_dedicated_vehicle": True, "event_at": now(),
                                      "receipt": {"method": "pin", "secret": PIN}}),
                       ("/receive", {"courier": "bt_hn", "seal_number": "NP-1",
                                     "receipt": {"method": "pin", "secret": PIN},
                                     "event_at": now()}),
                       ("/open", {"numbers": [number], "event_at": now()})):
        def send(b: str, path: str = path, body: Any = body) -> Any:
            if body is None:
                return other.get(f"/bags/{b}")
            return other.post(f"/bags/{b}{path}",
                              {"scan_id": scan_id(), "operator": "vt_hn", **body})
        a, g = send(bag), send(ghost_bag)
        assert a.status_code == g.status_code, (path, a.json, g.json)
        assert json.loads(a.get_data(as_text=True).replace(bag, "B")) == json.loads(
            g.get_data(as_text=True).replace(ghost_bag, "B")), path
    assert snapshot() == before


def test_an_office_reads_only_what_it_holds_held_or_is_bound_for_it(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        bagged_for_hcm: tuple[str, str]) -> None:
    hidden = [register(ctx, network, document_number=f"{i}/KH-BNV",
                       event_at=datetime.now(UTC) - timedelta(hours=1)).number
              for i in range(5)]
    hn, hcm = scanner("BC-HN"), scanner("BC-HCM")
    # the drill read 50 of 50 hidden envelopes; an office now reads none of them
    for number in hidden:
        assert hn.get(f"/envelopes/{number}").status_code == 404
        assert hcm.get(f"/envelopes/{number}").status_code == 404
    # listed on a handover sheet for BC-HN: BC-HN sees it, BC-HCM still does not
    prepare_sheet(ctx, network["vt_bnv"], hidden[:1], "BC-HN")
    assert hn.get(f"/envelopes/{hidden[0]}").status_code == 200
    assert hcm.get(f"/envelopes/{hidden[0]}").status_code == 404
    # in its custody (BC-HN) or in a bag bound for it (BC-HCM): both see it
    number, bag = bagged_for_hcm
    assert hn.get(f"/envelopes/{number}").status_code == 200
    assert hcm.get(f"/envelopes/{number}").status_code == 200
    assert hcm.get(f"/bags/{bag}").status_code == 200


# ------------------------------------------------------------------ defect 6


def test_an_office_that_never_handled_an_item_cannot_block_it(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        snapshot: Snapshot) -> None:
    envelope = register(ctx, network, event_at=datetime.now(UTC) - timedelta(hours=1))
    hn, hcm = scanner("BC-HN"), scanner("BC-HCM")
    before = snapshot()
    r = hcm.post("/incidents", {"operator": "gd_hcm", "kind": "discrepancy",
                                "number": envelope.number, "report": "thiếu"})
    assert r.status_code == 404 and r.json["error"] == "unknown_envelope", r.json
    assert snapshot() == before
    # the serving office's genuine acceptance is not blocked (the drill got discrepancy_open)
    r = hn.post("/handoffs", {
        "scan_id": scan_id(), "operator": "gd_hn", "number": envelope.number,
        "kind": "accepted", "event_at": now(), "giver": "vt_bnv", "receiver": "gd_hn",
        "receipt": {"method": "pin", "secret": PIN},
        "giver_receipt": {"method": "pin", "secret": PIN}})
    assert r.status_code == 201, r.json


def test_an_office_no_longer_party_to_an_items_handover_cannot_report_on_it(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner],
        bagged_for_hcm: tuple[str, str], snapshot: Snapshot) -> None:
    number, _bag = bagged_for_hcm
    # BC-HN holds the bag and so the item: a party; it may report.
    hn = scanner("BC-HN")
    # The sender's registry clerk may see the envelope but takes no part in its handovers
    # any more: refused, and told so (the item is hers to see).
    bnv = scanner("BNV")
    before = snapshot()
    r = bnv.post("/incidents", {"operator": "vt_bnv", "kind": "discrepancy",
                                "number": number, "report": "nghi thất lạc"})
    assert r.status_code == 403 and r.json["error"] == "forbidden", r.json
    assert snapshot() == before
    r = hn.post("/incidents", {"operator": "gd_hn", "kind": "damage", "number": number,
                               "report": "bì bị ướt"})
    assert r.status_code == 201, r.json


# ------------------------------------------------------------------ role x unit matrix

#: Who may see what in the matrix scenario (see ``test_role_by_unit_matrix``).
SEES_LOOSE = {"BNV", "UBND-HCM"}  # F: registered at BNV for UBND-HCM, on no sheet
SEES_BAGGED = {"BNV", "UBND-HCM", "BC-HN", "BC-HCM"}  # E: in bag B, BC-HN -> BC-HCM
SEES_BAG = {"BC-HN", "BC-HCM"}
#: Parties to each item's current or next handover: the only units whose report is taken.
PARTY = {"loose": {"BNV"}, "bagged": {"BC-HN", "BC-HCM"}, "bag": {"BC-HN", "BC-HCM"}}
UNITS = ["BNV", "UBND-HN", "UBND-HCM", "BC-HN", "BC-HCM"]


def test_role_by_unit_matrix_no_unit_moves_reports_on_or_learns_of_what_it_may_not_see(
        ctx: Ctx, network: Network, scanner: Callable[[str], Scanner], clock: Clock,
        snapshot: Snapshot) -> None:
    """Every operator of every unit tries reads and writes on a loose envelope, an envelope
    in a bag on its way, and that bag. Where the unit may not see the item, every answer is
    the one a number that does not exist gets; where it may, it is refused for what it is
    (no handoff is ever recorded: none of them is the right person, and no giver is there);
    only a party to the item's handover may report on it; nothing else is written."""
    loose = register(ctx, network, document_number="1/BNV").number
    bagged = register(ctx, network, document_number="2/BNV")
    bag = carry(ctx, network, clock, bagged, until="dispatched")["bag"]
    ghost, ghost_bag = nonexistent(ctx), "BC-HN-000101-999"
    devices = {unit: scanner(unit) for unit in UNITS}
    people = [(u.username, u.unit.code) for u in network.users.values()
              if u.role.value in ("registry_clerk", "counter_clerk", "courier",
                                  "security_officer")]
    badge = {"method": "badge", "secret": network.badges["bt_hn"]}
    at = datetime.now(UTC).isoformat()

    def envelope_requests(op: str, n: str) -> list[tuple[str, str, Any]]:
        return [
            ("GET", f"/envelopes/{n}", None),
            ("POST", "/handoffs", {"scan_id": scan_id(), "operator": op, "number": n,
                                   "kind": "accepted", "event_at": at, "giver": "vt_bnv",
                                   "receiver": op, "receipt": badge,
                                   "giver_receipt": {"method": "pin", "secret": "0000"}}),
            ("POST", "/handoffs", {"scan_id": scan_id(), "operator": op, "number": n,
                                   "kind": "delivered", "event_at": at, "giver": op,
                                   "receiver": "vt_hcm", "receipt": badge}),
            ("POST", "/handoffs", {"scan_id": scan_id(), "operator": op, "number": n,
                                   "kind": "registered_incoming", "event_at": at}),
            ("POST", "/incidents", {"operator": op, "kind": "discrepancy", "number": n,
                                    "report": "thử"}),
        ]

    def bag_requests(op: str, b: str, n: str) -> list[tuple[str, str, Any]]:
        base = {"scan_id": scan_id(), "operator": op, "event_at": at}
        return [
            ("GET", f"/bags/{b}", None),
            ("POST", f"/bags/{b}/envelopes", {**base, "number": n}),
            ("POST", f"/bags/{b}/seal", {**base, "scan_id": scan_id(), "seal_number": "X"}),
            ("POST", f"/bags/{b}/dispatch", {**base, "scan_id": scan_id(), "courier": "bt_hn",
                                             "receipt": badge, "vehicle": "29A",
                                             "is_dedicated_vehicle": True}),
            ("POST", f"/bags/{b}/receive", {**base, "scan_id": scan_id(), "courier": "bt_hn",
                                            "seal_number": "NP-000123", "receipt": badge,
                                            "courier_receipt": {"method": "pin",
                                                                "secret": "0000"}}),
            ("POST", f"/bags/{b}/open", {**base, "scan_id": scan_id(), "numbers": [n]}),
            ("POST", "/incidents", {"operator": op, "kind": "loss", "bag": b,
                                    "report": "thử"}),
        ]

    def send(dev: Scanner, method: str, path: str, body: Any) -> Any:
        return dev.get(path) if method == "GET" else dev.post(path, body)

    def normal(resp: Any, *secrets: str) -> Any:
        text = resp.get_data(as_text=True)
        for s in secrets:
            text = text.replace(s, "X")
        return resp.status_code, json.loads(text)

    before = snapshot()
    checked, reported = 0, 0
    for op, unit in people:
        dev = devices[unit]
        cases = [("loose", loose, SEES_LOOSE, envelope_requests(op, loose),
                  envelope_requests(op, ghost)),
                 ("bagged", bagged.number, SEES_BAGGED, envelope_requests(op, bagged.number),
                  envelope_requests(op, ghost)),
                 ("bag", bag, SEES_BAG, bag_requests(op, bag, bagged.number),
                  bag_requests(op, ghost_bag, bagged.number))]
        for name, item, sees, real, fake in cases:
            for (m, path, body), (_m, gpath, gbody) in zip(real, fake, strict=True):
                r = send(dev, m, path, body)
                if unit not in sees:
                    g = send(dev, m, gpath, gbody)
                    assert normal(r, item, loose, bagged.number) == normal(
                        g, ghost, ghost_bag, bagged.number), (op, unit, path)
                    assert r.status_code >= 400
                elif m == "GET":
                    assert r.status_code == 200, (op, unit, path, r.json)
                elif path == "/incidents" and unit in PARTY[name]:
                    assert r.status_code == 201, (op, unit, path, r.json)
                    reported += 1
                else:
                    assert r.status_code >= 400, (op, unit, path, r.json)
                    assert r.status_code != 404 or r.json["error"] == "unknown_user", (
                        op, unit, path, r.json)
                checked += 1
    assert checked > 150 and reported > 0
    after = snapshot()
    for table in ("handoff", "scan", "envelope", "bag", "manifest_line"):
        assert after[table] == before[table], table
    assert len(after["incident"]) == len(before["incident"]) + reported
