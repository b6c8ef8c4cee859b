"""The post office's pages (counter clerk and courier): each works end to end for its role,
and every route refuses the signed-out, the wrong role, another unit's rows and a form
without its CSRF token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kt1.models import Bag, Envelope, Handoff, Incident
from kt1.models.enums import (
    AckMethod,
    BagStatus,
    Classification,
    DeliveryFailure,
    EnvelopeStatus,
    EventKind,
    IncidentKind,
    IncidentStatus,
    SealState,
    UnitKind,
)
from kt1.models.handover import HandoverSheet, SheetStatus
from kt1.services import bagging, custody, handover
from kt1.services.context import Ctx
from kt1.services.directory import add_unit, add_user
from tests.conftest import PASSWORD, PIN, Network, new_scan, pin
from tests.journey import register
from tests.web.conftest import Browser
from tests.web.pdf import get_pdf, pdf_text


def now() -> datetime:
    return datetime.now(UTC)


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def count(ctx: Ctx, model: Any) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count()).select_from(model)).scalar_one())


def reload(ctx: Ctx, envelope: Envelope) -> Envelope:
    ctx.session.expire_all()
    found = ctx.session.get(Envelope, envelope.id)
    assert found is not None
    return found


def sheet_of(ctx: Ctx, net: Network, n: int, **kw: Any) -> tuple[str, list[Envelope]]:
    envelopes = [register(ctx, net, **kw) for _ in range(n)]
    sheet = handover.prepare_sheet(ctx, net["vt_bnv"], [e.number for e in envelopes], "BC-HN")
    return sheet.number, envelopes


def accepted(ctx: Ctx, net: Network, **kw: Any) -> Envelope:
    envelope = register(ctx, net, **kw)
    custody.accept_at_counter(ctx, net["gd_hn"], envelope.number, net["vt_bnv"],
                              pin(net["gd_hn"]), new_scan(), now(),
                              giver_receipt=pin(net["vt_bnv"]))
    return envelope


def last_link(ctx: Ctx, envelope: Envelope) -> Handoff:
    ctx.session.expire_all()
    return ctx.session.execute(
        select(Handoff).where(Handoff.envelope_id == envelope.id)
        .order_by(Handoff.seq.desc()).limit(1)).scalar_one()


# --------------------------------------------------------------------------- handover sheets


def test_a_batch_is_reconciled_against_its_sheet_and_signed_for(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    number, envelopes = sheet_of(ctx, network, 2)
    b = signed_in("gd_hn")
    assert number in page(b.get("/counter/sheets"))
    assert b.get(f"/counter/sheets?number={number.lower()}").headers["Location"] == (
        f"/counter/sheets/{number}")
    shown = page(b.get(f"/counter/sheets/{number}"))
    assert envelopes[0].number in shown and "Theo bảng kê (2)" in shown
    scanned = "\n".join(e.number for e in envelopes)
    checked = b.post(f"/counter/sheets/{number}", {"scanned": scanned})
    assert checked.status_code == 200
    assert "Số lượng khớp bảng kê." in page(checked) and "Ký nhận 2 bưu gửi" in page(checked)
    assert count(ctx, Handoff) == 2  # reconciling writes nothing
    signed = b.post(f"/counter/sheets/{number}/sign", {"scanned": scanned})
    assert signed.status_code == 303
    assert "Đã ký nhận 2 bưu gửi theo bảng kê" in page(b.get(signed.headers["Location"]))
    for envelope in envelopes:
        env = reload(ctx, envelope)
        assert env.status is EnvelopeStatus.ACCEPTED and env.holder_user.username == "gd_hn"
        link = last_link(ctx, envelope)
        assert link.from_user.username == "vt_bnv" and link.ack_method is AckMethod.SESSION
        assert link.seal_state is SealState.INTACT and number in link.note
    sheet = ctx.session.execute(select(HandoverSheet)).unique().scalar_one()
    assert sheet.status is SheetStatus.SIGNED and sheet.signed_by.username == "gd_hn"
    pdf = get_pdf(b, f"/counter/sheets/{number}/sheet.pdf")
    assert pdf.get_data().startswith(b"%PDF") and b"GD_HN" in pdf_text(pdf.get_data())
    again = b.post(f"/counter/sheets/{number}/sign", {"scanned": scanned})
    assert again.status_code == 303  # a double submit changes nothing
    assert count(ctx, Handoff) == 4


def test_a_missing_envelope_must_be_reported_and_settled_before_signing(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    number, envelopes = sheet_of(ctx, network, 3)
    stranger = register(ctx, network)  # handed over by mistake, not on the sheet
    b = signed_in("gd_hn")
    b.get(f"/counter/sheets/{number}")
    scanned = f"{envelopes[0].number}\n{envelopes[1].number}\n{stranger.number}"
    checked = page(b.post(f"/counter/sheets/{number}", {"scanned": scanned}))
    assert "Thiếu (có trong bảng kê, không quét được):" in checked
    assert envelopes[2].number in checked and stranger.number in checked
    assert "Lập biên bản sai lệch" in checked and "Ký nhận" not in checked.split(
        "Lập biên bản sai lệch")[1]
    refused = b.post(f"/counter/sheets/{number}/sign", {"scanned": scanned})
    assert refused.status_code == 409
    assert "phải lập biên bản sai lệch" in page(refused)
    no_text = b.post(f"/counter/sheets/{number}/report", {"scanned": scanned, "report": ""})
    assert no_text.status_code == 422
    reported = b.post(f"/counter/sheets/{number}/report", {
        "scanned": scanned, "report": "Thiếu 1 bì, thừa 1 bì không có trong bảng kê"})
    assert reported.status_code == 200
    assert "Đã lập biên bản sai lệch số" in page(reported)
    incident = ctx.session.execute(select(Incident)).scalar_one()
    assert incident.kind is IncidentKind.DISCREPANCY and incident.status is IncidentStatus.OPEN
    assert incident.details["missing"] == [envelopes[2].number]
    assert incident.details["extra"] == [stranger.number]
    assert incident.head_notified_at is None and incident.acknowledged_at is None
    blocked = b.post(f"/counter/sheets/{number}/sign", {"scanned": scanned})
    assert blocked.status_code == 409
    assert "Còn sai lệch chưa giải quyết; chưa thể ký nhận." in page(blocked)
    resolved = b.post(f"/counter/sheets/{number}/resolve", {
        "scanned": scanned, "resolution": "Bì thiếu giao lần sau; bì thừa trả văn thư"})
    assert resolved.status_code == 200 and "Sai lệch đã được giải quyết" in page(resolved)
    signed = b.post(f"/counter/sheets/{number}/sign", {"scanned": scanned})
    assert signed.status_code == 303, page(signed)
    assert reload(ctx, envelopes[0]).status is EnvelopeStatus.ACCEPTED
    assert reload(ctx, envelopes[2]).status is EnvelopeStatus.REGISTERED
    assert reload(ctx, stranger).status is EnvelopeStatus.REGISTERED
    shown = page(b.get(f"/counter/sheets/{number}"))
    assert "Không nhận" in shown


def test_a_broken_envelope_needs_a_report_and_opens_a_seal_incident_when_signed(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    number, envelopes = sheet_of(ctx, network, 2)
    b = signed_in("gd_hn")
    b.get(f"/counter/sheets/{number}")
    scanned = " ".join(e.number for e in envelopes)
    bad = envelopes[1].number
    no_report = b.post(f"/counter/sheets/{number}/sign", {"scanned": scanned, "broken": bad})
    assert no_report.status_code == 422
    assert "phải nhập nội dung biên bản" in page(no_report)
    signed = b.post(f"/counter/sheets/{number}/sign", {
        "scanned": scanned, "broken": bad, "report": "Mép bì bị rách"})
    assert signed.status_code == 303
    assert last_link(ctx, envelopes[1]).seal_state is SealState.BROKEN
    assert last_link(ctx, envelopes[0]).seal_state is SealState.INTACT
    incident = ctx.session.execute(select(Incident)).scalar_one()
    assert incident.kind is IncidentKind.SEAL_ANOMALY and incident.envelope_id == envelopes[1].id


# --------------------------------------------------------------------------- bags


def test_a_bag_is_made_up_sealed_dispatched_and_has_its_manifest(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    secret = accepted(ctx, network)
    top = accepted(ctx, network, classification=Classification.TOP_SECRET)
    b = signed_in("gd_hn")
    assert "Bưu cục chưa có túi nào" in page(b.get("/counter/bags"))
    opened = b.post("/counter/bags", {"destination": "BC-HCM"})
    assert opened.status_code == 303
    url = opened.headers["Location"]
    bag_page = page(b.get(url))
    assert secret.number in bag_page and "Túi chưa có bưu gửi nào." in bag_page
    added = b.post(f"{url}/add", {"picked": [secret.number], "a-numbers": f"{top.number}\nKT1"})
    assert added.status_code == 200
    body = page(added)
    assert "đã cho vào túi" in body and "number_length_invalid" in body
    assert reload(ctx, secret).status is EnvelopeStatus.BAGGED
    no_tracker = b.post(f"{url}/seal", {"s-seal_number": "NP-777", "s-tracker_id": ""})
    assert no_tracker.status_code == 422
    assert "Túi chứa bưu gửi Tuyệt mật phải có thiết bị định vị." in page(no_tracker)
    sealed = b.post(f"{url}/seal", {"s-seal_number": "NP-777", "s-tracker_id": "GPS-9"})
    assert sealed.status_code == 303
    manifest = get_pdf(b, f"{url}/manifest.pdf")
    assert manifest.get_data().startswith(b"%PDF")
    text = pdf_text(manifest.get_data())
    assert secret.number.encode() in text and b"NP-777" in text
    escortless = b.post(f"{url}/dispatch", {"d-courier": "bt_hn", "d-pin": PIN,
                                            "d-vehicle": "29A-1", "d-escort_name": ""})
    assert escortless.status_code == 422
    assert "Xe không chuyên dùng phải có người áp tải." in page(escortless)
    wrong_pin = b.post(f"{url}/dispatch", {"d-courier": "bt_hn", "d-pin": "0000",
                                           "d-vehicle": "29A-1", "d-is_dedicated": "y"})
    assert wrong_pin.status_code == 422 and "Mã PIN của bưu tá không đúng." in page(wrong_pin)
    sent = b.post(f"{url}/dispatch", {"d-courier": "bt_hn", "d-pin": PIN,
                                      "d-vehicle": "29A-1", "d-is_dedicated": "y"})
    assert sent.status_code == 303
    bag = ctx.session.execute(select(Bag)).unique().scalar_one()
    assert bag.status is BagStatus.IN_TRANSIT and bag.holder_user.username == "bt_hn"


def dispatched_bag(ctx: Ctx, net: Network, n: int = 2) -> tuple[str, list[Envelope]]:
    envelopes = [accepted(ctx, net) for _ in range(n)]
    bag = bagging.open_bag(ctx, net["gd_hn"], "BC-HCM", new_scan()).bag.number
    for e in envelopes:
        bagging.add_to_bag(ctx, net["gd_hn"], bag, e.number, new_scan(), now())
    bagging.seal_bag(ctx, net["gd_hn"], bag, "NP-100", new_scan(), now())
    bagging.dispatch_bag(ctx, net["gd_hn"], bag, net["bt_hn"], pin(net["bt_hn"]), new_scan(),
                         now(), vehicle="29A-1", is_dedicated_vehicle=True)
    return bag, envelopes


def test_a_wrong_seal_number_is_refused_precisely_then_confirmed_as_an_anomaly(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    bag, envelopes = dispatched_bag(ctx, network)
    b = signed_in("gd_hcm")
    shown = page(b.get(f"/counter/bags/{bag}"))
    assert "Nhận túi, kiểm tra niêm phong" in shown and "NP-100" not in shown
    assert b"NP-100" not in pdf_text(get_pdf(b, f"/counter/bags/{bag}/manifest.pdf").get_data())
    assert "Bưu tá giao túi: BT_HN (bt_hn)." in shown
    before = count(ctx, Handoff)
    refused = b.post(f"/counter/bags/{bag}/receive", {"r-seal_number": "NP-101",
                                                      "r-seal_state": "intact",
                                                      "r-courier_pin": PIN})
    assert refused.status_code == 409
    body = page(refused)
    assert "Số niêm phong NP-101 khác số đã ghi khi niêm phong" in body
    assert "Chưa ghi gì. Đọc lại số niêm phong trên túi." in body
    assert count(ctx, Handoff) == before
    no_report = b.post(f"/counter/bags/{bag}/receive", {"r-seal_number": "NP-101",
                                                        "r-seal_state": "mismatched",
                                                        "r-courier_pin": PIN})
    assert no_report.status_code == 422
    confirmed = b.post(f"/counter/bags/{bag}/receive", {
        "r-seal_number": "NP-101", "r-seal_state": "mismatched",
        "r-report": "Số niêm phong trên túi là NP-101", "r-courier_pin": PIN})
    assert confirmed.status_code == 303
    assert "Đã lập biên bản niêm phong bất thường số" in page(b.get(confirmed.headers["Location"]))
    incident = ctx.session.execute(select(Incident)).scalar_one()
    assert incident.kind is IncidentKind.SEAL_ANOMALY
    assert reload(ctx, envelopes[0]).status is EnvelopeStatus.BAG_RECEIVED


def test_a_bag_is_received_and_opened_against_its_manifest_showing_what_is_missing(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    bag, envelopes = dispatched_bag(ctx, network)
    b = signed_in("gd_hcm")
    assert bag in page(b.get("/counter/"))
    received = b.post(f"/counter/bags/{bag}/receive", {"r-seal_number": "NP-100",
                                                       "r-seal_state": "intact",
                                                       "r-courier_pin": PIN})
    assert received.status_code == 303
    opened = b.post(f"/counter/bags/{bag}/open", {"o-numbers": envelopes[0].number})
    assert opened.status_code == 200
    body = page(opened)
    assert "Thiếu:" in body and envelopes[1].number in body
    assert "không khớp bảng kê: đã lập biên bản sai lệch số" in body
    assert reload(ctx, envelopes[0]).status is EnvelopeStatus.AT_OFFICE
    assert reload(ctx, envelopes[1]).bag_id is not None


@pytest.mark.parametrize("typed", ["0000", "", "badge of another"])
def test_a_bag_is_not_received_unless_its_courier_identifies(
        signed_in: Any, ctx: Ctx, network: Network, snapshot: Any, typed: str) -> None:
    """Custody moves only with both sides present: the courier's PIN or badge, else nothing."""
    bag, _envelopes = dispatched_bag(ctx, network)
    if typed == "badge of another":
        typed = network.badges["bt_hcm"]
    b = signed_in("gd_hcm")
    b.get(f"/counter/bags/{bag}")
    before = snapshot()
    refused = b.post(f"/counter/bags/{bag}/receive", {"r-seal_number": "NP-100",
                                                      "r-seal_state": "intact",
                                                      "r-courier_pin": typed})
    assert refused.status_code == 422
    body = page(refused)
    if typed:
        assert "Mã PIN hoặc thẻ nhân viên của bưu tá BT_HN không đúng: chưa nhận túi." in body
    else:
        assert ("Bưu tá giao túi phải có mặt: nhập mã PIN của bưu tá hoặc quét thẻ nhân "
                "viên.") in body
    assert snapshot() == before
    ctx.session.expire_all()
    assert ctx.session.execute(select(Bag)).unique().scalar_one().status is (
        BagStatus.IN_TRANSIT)


def test_a_bag_is_received_when_its_courier_scans_his_staff_badge(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    bag, envelopes = dispatched_bag(ctx, network, 1)
    b = signed_in("gd_hcm")
    b.get(f"/counter/bags/{bag}")
    received = b.post(f"/counter/bags/{bag}/receive", {
        "r-seal_number": "NP-100", "r-seal_state": "intact",
        "r-courier_pin": network.badges["bt_hn"].lower() + "\n"})
    assert received.status_code == 303
    last = ctx.session.execute(select(Handoff).where(Handoff.envelope_id == envelopes[0].id)
                               .order_by(Handoff.seq.desc()).limit(1)).scalar_one()
    assert last.kind is EventKind.BAG_RECEIVED and last.from_user.username == "bt_hn"
    assert last.to_user.username == "gd_hcm"


# --------------------------------------------------------------------------- delivery


def at_hcm_office(ctx: Ctx, net: Network) -> Envelope:
    bag, envelopes = dispatched_bag(ctx, net, 1)
    bagging.receive_bag(ctx, net["gd_hcm"], bag, net["bt_hn"], "NP-100", custody_receipt(net),
                        new_scan(), now(), courier_receipt=pin(net["bt_hn"]))
    bagging.open_bag_contents(ctx, net["gd_hcm"], bag, [envelopes[0].number], new_scan(), now())
    return envelopes[0]


def custody_receipt(net: Network) -> Any:
    return pin(net["gd_hcm"])


def test_a_delivery_round_a_failed_attempt_and_a_delivery(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = at_hcm_office(ctx, network)
    counter = signed_in("gd_hcm")
    listing = page(counter.get("/counter/delivery"))
    assert envelope.number in listing
    wrong = counter.post("/counter/delivery", {"picked": [envelope.number],
                                               "courier": "bt_hcm", "pin": "0000"})
    assert wrong.status_code == 422 and "acknowledgement_invalid" in page(wrong)
    out = counter.post("/counter/delivery", {"picked": [envelope.number], "courier": "bt_hcm",
                                             "pin": PIN})
    assert out.status_code == 200 and "Đã giao 1 bưu gửi cho BT_HCM đi phát." in page(out)
    assert reload(ctx, envelope).status is EnvelopeStatus.OUT_FOR_DELIVERY
    courier = signed_in("bt_hcm")
    round_page = page(courier.get("/counter/round"))
    assert envelope.number in round_page and "VT_HCM (vt_hcm)" in round_page
    failed = courier.post("/counter/round/failed", {
        "number": envelope.number, f"f{envelope.id}-reason": "unit_closed",
        f"f{envelope.id}-note": "Ngoài giờ"})
    assert failed.status_code == 303
    link = last_link(ctx, envelope)
    assert link.kind is EventKind.DELIVERY_FAILED and link.reason is DeliveryFailure.UNIT_CLOSED
    assert "Cơ quan đóng cửa" in page(counter.get("/counter/delivery"))
    bad_pin = courier.post("/counter/round/deliver", {
        "number": envelope.number, f"d{envelope.id}-receiver": "vt_hcm",
        f"d{envelope.id}-pin": "1111"})
    assert bad_pin.status_code == 422 and "Mã PIN của văn thư không đúng." in page(bad_pin)
    done = courier.post("/counter/round/deliver", {
        "number": envelope.number, f"d{envelope.id}-receiver": "vt_hcm",
        f"d{envelope.id}-pin": PIN})
    assert done.status_code == 303
    env = reload(ctx, envelope)
    assert env.status is EnvelopeStatus.DELIVERED and env.holder_user.username == "vt_hcm"
    assert "Bạn không mang bưu gửi nào đi phát." in page(courier.get("/counter/round"))


# --------------------------------------------------------------------------- refusals

COUNTER, COURIER = "counter_clerk", "courier"

#: Every route of the post office's blueprint: (method, path, form, role allowed).
ROUTES: list[tuple[str, str, dict[str, Any], str]] = [
    ("GET", "/counter/", {}, COUNTER),
    ("GET", "/counter/sheets", {}, COUNTER),
    ("GET", "/counter/sheets/{sheet}", {}, COUNTER),
    ("POST", "/counter/sheets/{sheet}", {"scanned": "{number}"}, COUNTER),
    ("POST", "/counter/sheets/{sheet}/report", {"scanned": "{number}", "report": "x"}, COUNTER),
    ("POST", "/counter/sheets/{sheet}/resolve", {"resolution": "x"}, COUNTER),
    ("POST", "/counter/sheets/{sheet}/sign", {"scanned": "{number}"}, COUNTER),
    ("GET", "/counter/sheets/{sheet}/sheet.pdf", {}, COUNTER),
    ("GET", "/counter/bags", {}, COUNTER),
    ("POST", "/counter/bags", {"destination": "{own}"}, COUNTER),
    ("GET", "/counter/bags/{bag}", {}, COUNTER),
    ("POST", "/counter/bags/{bag}/add", {"a-numbers": "{number}"}, COUNTER),
    ("POST", "/counter/bags/{bag}/remove", {"x-number": "{inside}", "x-reason": "x"},
     COUNTER),
    ("POST", "/counter/bags/{bag}/seal", {"s-seal_number": "NP-1"}, COUNTER),
    ("POST", "/counter/bags/{bag}/dispatch", {"d-courier": "bt_hn", "d-pin": PIN,
                                              "d-vehicle": "x", "d-is_dedicated": "y"}, COUNTER),
    ("POST", "/counter/bags/{bag}/receive", {"r-seal_number": "NP-1",
                                             "r-seal_state": "intact",
                                             "r-courier_pin": PIN}, COUNTER),
    ("POST", "/counter/bags/{bag}/open", {"o-numbers": "{number}"}, COUNTER),
    ("GET", "/counter/bags/{bag}/manifest.pdf", {}, COUNTER),
    ("GET", "/counter/delivery", {}, COUNTER),
    ("POST", "/counter/delivery", {"scanned": "{out}", "courier": "{courier}", "pin": PIN},
     COUNTER),
    ("GET", "/counter/round", {}, COURIER),
    ("POST", "/counter/round/deliver", {"number": "{out}"}, COURIER),
    ("POST", "/counter/round/failed", {"number": "{out}"}, COURIER),
    ("POST", "/counter/envelopes/{out}/void", {"v-reason": "x"}, COUNTER),
]


def fixtures_of(ctx: Ctx, network: Network) -> dict[str, str]:
    """BC-HN's rows: an open sheet brought to it, an open bag with an envelope, and an
    envelope out with its courier."""
    sheet, envelopes = sheet_of(ctx, network, 1)
    inside = accepted(ctx, network)
    bag = bagging.open_bag(ctx, network["gd_hn"], "BC-HCM", new_scan()).bag.number
    bagging.add_to_bag(ctx, network["gd_hn"], bag, inside.number, new_scan(), now())
    out = accepted(ctx, network, recipient="UBND-HN")
    custody.record_handoff(ctx, network["gd_hn"], custody.HandoffRequest(
        number=out.number, kind=EventKind.OUT_FOR_DELIVERY, scan_id=new_scan(),
        event_at=now(), receiver=network["bt_hn"], receipt=pin(network["bt_hn"])))
    return {"sheet": sheet, "number": envelopes[0].number, "bag": bag, "out": out.number,
            "own": "BC-HN", "courier": "bt_hn", "inside": inside.number}


def fill(text: str, values: dict[str, str]) -> str:
    return text.format(**values)


def call(b: Browser, method: str, path: str, form: dict[str, Any], values: dict[str, str],
         csrf: bool = True) -> Any:
    url = fill(path, values)
    if method == "GET":
        return get_pdf(b, url) if url.endswith(".pdf") else b.get(url)
    return b.post(url, {k: fill(v, values) for k, v in form.items()}, csrf=csrf)


def snapshot_counts(ctx: Ctx) -> tuple[int, ...]:
    return (count(ctx, Handoff), count(ctx, Bag), count(ctx, Incident),
            count(ctx, HandoverSheet))


def test_the_route_list_covers_every_route_of_the_blueprint(app: Flask) -> None:
    declared = {(m, p): role for m, p, _f, role in ROUTES}
    names = {"sheets": "{sheet}", "bags": "{bag}", "envelopes": "{out}"}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("counter."):
            continue
        path = rule.rule
        for folder, name in names.items():
            path = path.replace(f"/{folder}/<number>", f"/{folder}/{name}")
        view = app.view_functions[rule.endpoint]
        roles = {str(r) for r in getattr(view, "roles", ())}
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in declared, f"{method} {rule.rule} has no refusal tests"
            assert roles == {declared[(method, path)]}, f"{rule.endpoint} guards {roles}"


def test_every_route_sends_a_signed_out_visitor_to_sign_in(
        browser: Browser, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(ctx, network)
    failures = []
    for method, path, form, _role in ROUTES:
        response = call(browser, method, path, form, values)
        if response.status_code != 302 or not response.headers["Location"].startswith(
                "/login"):
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures


@pytest.mark.parametrize("username", ["vt_bnv", "bm_bnv", "admin", "gd_hn", "bt_hn"])
def test_every_route_is_forbidden_to_the_other_roles(
        signed_in: Any, ctx: Ctx, network: Network, username: str) -> None:
    values = fixtures_of(ctx, network)
    b = signed_in(username)
    role = str(network[username].role)
    before = snapshot_counts(ctx)
    failures = []
    for method, path, form, allowed in ROUTES:
        if allowed == role:
            continue
        response = call(b, method, path, form, values)
        if response.status_code != 403:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert snapshot_counts(ctx) == before


def test_every_form_without_its_csrf_token_is_refused_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(ctx, network)
    users = {COUNTER: signed_in("gd_hn"), COURIER: signed_in("bt_hn")}
    for b in users.values():
        b.get("/")
    before = snapshot_counts(ctx)
    failures = []
    for method, path, form, role in ROUTES:
        if method != "POST":
            continue
        response = call(users[role], method, path, form, values, csrf=False)
        if response.status_code != 400:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert snapshot_counts(ctx) == before


NO_SHEET, NO_BAG, NO_ENVELOPE = "unknown_sheet", "unknown_bag", "Không tìm thấy bưu gửi số"

#: What a counter clerk and a courier of another post office (BC-DN) get on each route,
#: given BC-HN's rows: the status and the refusal they read (lists must not show the rows).
OTHER_UNIT: dict[tuple[str, str], tuple[int, str | None]] = {
    ("GET", "/counter/"): (200, None),
    ("GET", "/counter/sheets"): (200, None),
    ("GET", "/counter/sheets/{sheet}"): (404, NO_SHEET),
    ("POST", "/counter/sheets/{sheet}"): (404, NO_SHEET),
    ("POST", "/counter/sheets/{sheet}/report"): (404, NO_SHEET),
    ("POST", "/counter/sheets/{sheet}/resolve"): (404, NO_SHEET),
    ("POST", "/counter/sheets/{sheet}/sign"): (404, NO_SHEET),
    ("GET", "/counter/sheets/{sheet}/sheet.pdf"): (404, NO_SHEET),
    ("GET", "/counter/bags"): (200, None),
    ("POST", "/counter/bags"): (422, "Lựa chọn không hợp lệ."),  # not to itself
    ("GET", "/counter/bags/{bag}"): (404, NO_BAG),
    ("POST", "/counter/bags/{bag}/add"): (404, NO_BAG),
    ("POST", "/counter/bags/{bag}/remove"): (404, NO_BAG),
    ("POST", "/counter/bags/{bag}/seal"): (404, NO_BAG),
    ("POST", "/counter/bags/{bag}/dispatch"): (404, NO_BAG),
    ("POST", "/counter/bags/{bag}/receive"): (404, NO_BAG),
    ("POST", "/counter/bags/{bag}/open"): (404, NO_BAG),
    ("GET", "/counter/bags/{bag}/manifest.pdf"): (404, NO_BAG),
    ("GET", "/counter/delivery"): (200, None),
    ("POST", "/counter/delivery"): (404, NO_ENVELOPE),
    ("GET", "/counter/round"): (200, None),
    ("POST", "/counter/round/deliver"): (404, NO_ENVELOPE),
    ("POST", "/counter/round/failed"): (404, NO_ENVELOPE),
    ("POST", "/counter/envelopes/{out}/void"): (404, NO_ENVELOPE),
}


def test_another_offices_sheets_bags_and_envelopes_are_never_shown_or_touched(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(ctx, network)
    assert {(m, p) for m, p, _f, _r in ROUTES} == set(OTHER_UNIT)
    add_unit(ctx, None, "BC-DN", "Bưu cục KT1 Đà Nẵng", UnitKind.POST_OFFICE, "48", "Đà Nẵng")
    add_user(ctx, None, "gd_dn", "GD_DN", "counter_clerk", "BC-DN", PASSWORD, pin=PIN)
    add_user(ctx, None, "bt_dn", "BT_DN", "courier", "BC-DN", PASSWORD, pin=PIN)
    users = {COUNTER: signed_in("gd_dn"), COURIER: signed_in("bt_dn")}
    values = {**values, "own": "BC-DN", "courier": "bt_dn"}
    before = snapshot_counts(ctx)
    secrets = [values[k].encode() for k in ("sheet", "number", "bag", "out")]
    failures = []
    for method, path, form, role in ROUTES:
        status, message = OTHER_UNIT[(method, path)]
        response = call(users[role], method, path, form, values)
        if response.status_code != status:
            failures.append(f"{method} {path}: {response.status_code} (expected {status})")
        if message and message not in response.get_data(as_text=True):
            failures.append(f"{method} {path}: no {message!r}")
        body = response.get_data()
        if status == 200 and any(s in body for s in secrets):
            failures.append(f"{method} {path}: shows BC-HN's rows")
    assert not failures
    assert snapshot_counts(ctx) == before
