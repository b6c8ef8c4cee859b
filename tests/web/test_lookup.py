"""The header's search box (issue 13, item 3): any number opens the page the signed-in role
may open for it; what the role may not see gets exactly the answer of a number that does not
exist; a mistyped S10 gets its precise message; couriers find the bags they carry."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from kt1.models.enums import AckMethod
from kt1.services import bagging, custody, handover, sheets
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.identifiers import check_digit
from kt1.services.leaving import hand_over_all
from kt1.web.lookup import kind_of
from tests.conftest import PIN, Network, new_scan, pin
from tests.journey import register

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def now() -> datetime:
    return datetime.now(UTC)


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def look(b: Any, q: str) -> Any:
    return b.get(f"/lookup?q={quote(q)}&next=/")


def answer(response: Any) -> tuple[int, str]:
    """What the asker learns: the status and the message shown (never the rest of the page,
    which names the signed-in user)."""
    found = re.search(r'id="lookup-error">([^<]*)<', page(response))
    return response.status_code, found.group(1) if found else ""


def unknown_s10(number: str) -> str:
    """Another valid S10 number, one that no envelope has."""
    serial = int(number[2:10]) + 5000
    return f"{number[:2]}{serial:08d}{check_digit(serial)}{number[11:]}"


def mistyped(number: str) -> str:
    """The number with a wrong check digit."""
    return f"{number[:10]}{(int(number[10]) + 1) % 10}{number[11:]}"


def accepted(ctx: Ctx, net: Network) -> Any:
    envelope = register(ctx, net)
    custody.accept_at_counter(ctx, net["gd_hn"], envelope.number, net["vt_bnv"],
                              pin(net["gd_hn"]), new_scan(), now(),
                              giver_receipt=pin(net["vt_bnv"]))
    return envelope


def test_kinds_are_told_from_the_shape_of_the_number() -> None:
    assert kind_of("KT000000080VN") == "envelope"
    assert kind_of("KT00000008VN") == "envelope"  # a typo, answered precisely
    assert kind_of("BC-HN-261130-001") == "bag"
    assert kind_of("GB-BNV-2026-00001") == "sheet"
    assert kind_of("CG-BNV-2026-00001") == "internal"
    assert kind_of("BBG-BNV-2026-00001") == "record"
    assert kind_of("HELLO") == "unknown"


def test_an_envelope_opens_the_page_of_each_role_and_others_get_not_found(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network)  # BNV -> UBND-HCM, registered
    number = envelope.number
    clerk = look(signed_in("vt_bnv"), number.lower())
    assert clerk.status_code == 302 and clerk.headers["Location"] == f"/clerk/envelopes/{number}"
    officer = look(signed_in("bm_bnv"), f"  {number} ")
    assert officer.headers["Location"] == f"/officer/envelopes/{number}"
    recipient = look(signed_in("vt_hcm"), number)  # addressed to them: they see it
    assert recipient.headers["Location"] == f"/clerk/envelopes/{number}"
    missing = unknown_s10(number)
    for who in ("vt_hn", "bm_hn", "gd_hcm", "bt_hn"):  # another unit's, or not carried
        b = signed_in(who)
        refused, nothing = look(b, number), look(b, missing)
        assert answer(refused) == (404, f"Không tìm thấy số {number}."), who
        assert answer(nothing) == (404, f"Không tìm thấy số {missing}."), who
        assert "Bộ Nội vụ" not in page(refused)  # nothing of the envelope is shown
    admin = look(signed_in("admin"), number)
    assert admin.status_code == 200 and "lookup-envelope" in page(admin)


def test_a_mistyped_number_gets_the_precise_message_and_an_empty_query_stays(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network)
    number = envelope.number
    b = signed_in("vt_bnv")
    status, message = answer(look(b, mistyped(number)))
    assert status == 422 and message.startswith("Sai số kiểm tra")
    status, message = answer(look(b, number[:-3] + "VN"))
    assert status == 422 and "13 ký tự" in message
    stay = b.get("/lookup?q=&next=/clerk/outgoing")
    assert stay.status_code == 302 and stay.headers["Location"] == "/clerk/outgoing"
    away = b.get("/lookup?q=%20&next=//evil.example/")
    assert away.headers["Location"] == "/"
    assert answer(look(b, "HELLO")) == (404, "Không tìm thấy số HELLO.")
    home = page(b.get("/"))
    assert 'id="lookup-q"' in home and 'action="/lookup"' in home


def test_the_counter_finds_envelopes_bags_and_sheets_of_its_office(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    listed = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [listed.number], "BC-HN").number
    bagged = accepted(ctx, network)
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    bagging.add_to_bag(ctx, network["gd_hn"], bag, bagged.number, new_scan(), now())
    counter = signed_in("gd_hn")
    assert look(counter, sheet).headers["Location"] == f"/counter/sheets/{sheet}"
    assert look(counter, bag.lower()).headers["Location"] == f"/counter/bags/{bag}"
    shown = look(counter, bagged.number)
    assert shown.status_code == 200
    assert f'href="/counter/bags/{bag}"' in page(shown) and "lookup-envelope" in page(shown)
    assert look(counter, listed.number).status_code == 200  # on a sheet for this office
    clerk = signed_in("vt_bnv")
    assert look(clerk, sheet).headers["Location"] == f"/clerk/handover/{sheet}"
    other_office = signed_in("gd_hcm")
    missing_sheet = sheet[:-5] + "99999"
    assert answer(look(other_office, sheet)) == (404, f"Không tìm thấy số {sheet}.")
    assert answer(look(other_office, missing_sheet)) == (
        404, f"Không tìm thấy số {missing_sheet}.")
    assert answer(look(signed_in("vt_hn"), sheet)) == (404, f"Không tìm thấy số {sheet}.")
    # the bag is bound for BC-HCM: its counter sees it, an agency clerk does not
    assert look(other_office, bag).headers["Location"] == f"/counter/bags/{bag}"
    missing_bag = bag[:-3] + "999"
    for who in ("vt_bnv", "bm_bnv", "bt_hn"):
        b = signed_in(who)
        assert answer(look(b, bag)) == (404, f"Không tìm thấy số {bag}.")
        assert answer(look(b, missing_bag)) == (404, f"Không tìm thấy số {missing_bag}.")


def test_a_courier_finds_the_bag_and_the_envelopes_he_carries(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelopes = [accepted(ctx, network) for _ in range(2)]
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    for e in envelopes:
        bagging.add_to_bag(ctx, network["gd_hn"], bag, e.number, new_scan(), now())
    bagging.seal_bag(ctx, network["gd_hn"], bag, "NP-4242", new_scan(), now())
    courier = signed_in("bt_hn")
    assert answer(look(courier, bag)) == (404, f"Không tìm thấy số {bag}.")  # not yet his
    bagging.dispatch_bag(ctx, network["gd_hn"], bag, network["bt_hn"], pin(network["bt_hn"]),
                         new_scan(), now(), vehicle="29A-1", is_dedicated_vehicle=True)
    carried = look(courier, bag)
    body = page(carried)
    assert carried.status_code == 200 and "lookup-bag" in body and bag in body
    assert "Bưu cục KT1 TP Hồ Chí Minh" in body and "NP-4242" not in body
    carried_envelope = look(courier, envelopes[0].number)
    assert carried_envelope.status_code == 200 and "lookup-envelope" in page(carried_envelope)
    assert answer(look(signed_in("bt_hcm"), bag)) == (404, f"Không tìm thấy số {bag}.")


def test_internal_sheets_and_handover_records(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    mine = register(ctx, network, clerk="vt_hcm", recipient="BNV")
    internal = sheets.prepare_internal_sheet(ctx, network["vt_hcm"], "cv_hcm",
                                             [mine.number]).number
    for who in ("vt_hcm", "bm_hcm"):
        assert look(signed_in(who), internal).headers["Location"] == (
            f"/clerk/internal/{internal}")
    missing = internal[:-5] + "99999"
    for who in ("vt_bnv", "bm_bnv", "gd_hcm", "admin"):
        b = signed_in(who)
        assert answer(look(b, internal)) == (404, f"Không tìm thấy số {internal}.")
        assert answer(look(b, missing)) == (404, f"Không tìm thấy số {missing}.")
    register(ctx, network, clerk="cv_hcm", recipient="BNV")
    record = hand_over_all(ctx, None, "cv_hcm", "head_hcm", Receipt(
        user=network["head_hcm"], method=AckMethod.PIN, secret=PIN)).number
    assert look(signed_in("admin"), record).headers["Location"] == (
        f"/admin/handover-records/{record}")
    for who in ("vt_hcm", "head_hcm", "gd_hn"):
        assert answer(look(signed_in(who), record)) == (404, f"Không tìm thấy số {record}.")


def test_the_counter_sheet_field_opens_sheets_and_manifests_and_says_a_wrong_number(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    listed = register(ctx, network)
    sheet = handover.prepare_sheet(ctx, network["vt_bnv"], [listed.number], "BC-HN").number
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    counter = signed_in("gd_hn")
    home = page(counter.get("/counter/"))
    assert 'id="counter-number"' in home and 'action="/counter/sheets"' in home
    assert counter.get(f"/counter/sheets?number={sheet}").headers["Location"] == (
        f"/counter/sheets/{sheet}")
    assert counter.get(f"/counter/sheets?number=%20{bag.lower()}%20").headers["Location"] == (
        f"/counter/bags/{bag}")
    wrong = sheet[:-5] + "99999"
    for number, status, message in (
            (wrong, 404, f"Không tìm thấy số {wrong}."),
            ("GB-XYZ", 404, "Không tìm thấy số GB-XYZ."),
            (mistyped(listed.number), 422, "Sai số kiểm tra")):
        shown = counter.get(f"/counter/sheets?number={quote(number)}")
        assert shown.status_code == status, number
        body = page(shown)
        assert 'id="sheet-number-error"' in body and message in body, number
        assert "Nhận bưu gửi của cơ quan theo bảng kê" in body  # the same page, not an error page
        assert f'value="{number}"' in body
    other_office = signed_in("gd_hcm").get(f"/counter/sheets?number={sheet}")
    assert other_office.status_code == 404
    assert f"Không tìm thấy số {sheet}." in page(other_office)
