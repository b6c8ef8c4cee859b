"""The security officer's pages: the dashboard counts what the unit may see, an envelope's
timeline carries its findings and prints, the registers export as PDF and XLSX with a
cover, checkpoints download; and every route refuses the signed-out, the wrong role,
another unit's rows and a form without its CSRF token."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from kt1.extensions import db
from kt1.models import Checkpoint, Envelope
from kt1.models.enums import Classification, ServiceClass
from kt1.services import custody, incidents, printing
from kt1.services.context import Ctx, Settings
from kt1.web import officer as officer_module
from tests.conftest import Clock, Network, new_scan, pin
from tests.journey import carry, register
from tests.services.test_verify import drop_append_only
from tests.web.conftest import Browser
from tests.web.pdf import get_pdf, pdf_text

KEY = base64.b64encode(hashlib.sha256(b"kt1 officer test key").digest()).decode()
SUBJECT = "SUBJECT-PLAN-77"


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.fixture
def server_clock(monkeypatch: pytest.MonkeyPatch, clock: Clock, app: Flask) -> Clock:
    """The officer's pages read the server clock through ``service_context``: give them the
    test's clock, so that "today" and "overdue" do not depend on the day the suite runs."""

    def context() -> Ctx:
        return Ctx(session=db.session(), settings=Settings.from_mapping(app.config), now=clock)

    monkeypatch.setattr(officer_module, "service_context", context)
    return clock


def at(clock: Clock, iso: str) -> None:
    clock.now = datetime.fromisoformat(iso).replace(tzinfo=UTC)


def accept(ctx: Ctx, net: Network, clock: Clock, number: str, office: str = "gd_hn",
           giver: str = "vt_bnv") -> None:
    custody.accept_at_counter(ctx, net[office], number, net[giver], pin(net[office]),
                              new_scan(), clock.tick(), giver_receipt=pin(net[giver]))


def scenario(ctx: Ctx, net: Network, clock: Clock) -> dict[str, str]:
    """Monday 23/11/2026, 09:00 in Hà Nội.

    * ``slow``: BNV -> UBND-HCM, standard, inter-province (J+3.5), accepted, with a subject;
    * ``flash``: BNV -> UBND-HN, Hỏa tốc, intra-province (J+1; Tuesday 24/11 is a day off,
      Vietnam Culture Day, so it is due on Wednesday ~09:10);
    * ``waiting``: BNV -> UBND-HCM, only registered;
    * ``done``: BNV -> UBND-HCM carried all the way and registered on arrival;
    * an open incident on ``slow``.
    """
    at(clock, "2026-11-23T02:00:00")
    slow = register(ctx, net, subject=SUBJECT, document_number="11/BNV-SLOW",
                    event_at=clock.tick())
    accept(ctx, net, clock, slow.number)
    flash = register(ctx, net, recipient="UBND-HN", service=ServiceClass.FLASH,
                     classification=Classification.TOP_SECRET, document_number="12/BNV-FLASH",
                     event_at=clock.tick())
    accept(ctx, net, clock, flash.number)
    waiting = register(ctx, net, document_number="13/BNV-WAIT", event_at=clock.tick())
    done = register(ctx, net, document_number="14/BNV-DONE", event_at=clock.tick())
    carry(ctx, net, clock, done)
    incidents.report_incident(ctx, net["gd_hn"], "damage", "Góc bì bị rách", number=slow.number)
    return {"slow": slow.number, "flash": flash.number, "waiting": waiting.number,
            "done": done.number}


def stat(body: str, metric: str) -> int:
    marker = f'id="stat-{metric}">'
    start = body.index(marker) + len(marker)
    chunk = body[start:start + 200]
    return int(chunk.split("<strong>")[1].split("</strong>")[0])


# --------------------------------------------------------------------------- dashboard


def test_the_dashboard_counts_due_today_then_overdue_incidents_and_broken_chains(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    b = signed_in("bm_bnv")
    at(server_clock, "2026-11-25T01:00:00")  # Wednesday 08:00: the Hỏa tốc one is due today
    body = page(b.get("/officer/"))
    assert "Tổng quan bảo mật" in body
    assert (stat(body, "in_transit"), stat(body, "due_today"), stat(body, "overdue"),
            stat(body, "incidents"), stat(body, "broken")) == (3, 1, 0, 1, 0)
    assert numbers["flash"] in body and "Đến hạn hôm nay" in body
    assert "BC-HN — Bưu cục KT1 Hà Nội" in body  # by the unit holding them
    assert "Tuyệt mật (A)" in body and "Hỏa tốc" in body  # by class and by service

    at(server_clock, "2026-11-25T04:00:00")  # Wednesday 11:00: it is overdue
    drop_append_only(ctx)
    ctx.session.execute(text(
        "UPDATE handoff SET note = 'sửa' WHERE envelope_id = "
        "(SELECT id FROM envelope WHERE number = :n) AND seq = 0"), {"n": numbers["waiting"]})
    ctx.session.commit()
    body = page(b.get("/officer/"))
    assert (stat(body, "in_transit"), stat(body, "due_today"), stat(body, "overdue"),
            stat(body, "incidents"), stat(body, "broken")) == (1, 0, 1, 1, 1)
    assert "chain_hash_mismatch" in body and "deadline_missed" in body
    assert body.index(numbers["waiting"]) < body.index(numbers["flash"])  # broken first


def test_the_dashboard_counts_only_what_the_officers_unit_may_see(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    at(server_clock, "2026-11-25T04:00:00")
    hn = page(signed_in("bm_hn").get("/officer/"))
    assert numbers["flash"] in hn  # overdue, addressed to UBND-HN
    assert (stat(hn, "in_transit"), stat(hn, "overdue"), stat(hn, "incidents")) == (0, 1, 0)
    for other in ("slow", "waiting", "done"):
        assert numbers[other] not in hn
    hcm = page(signed_in("bm_hcm").get("/officer/"))
    assert numbers["flash"] not in hcm
    assert (stat(hcm, "in_transit"), stat(hcm, "overdue"), stat(hcm, "incidents")) == (2, 0, 1)


def test_an_officer_with_nothing_to_watch_sees_an_empty_state(signed_in: Any) -> None:
    body = page(signed_in("bm_hcm").get("/officer/"))
    assert "Chưa có bưu gửi nào liên quan đến đơn vị của bạn." in body


# --------------------------------------------------------------------------- one envelope


def test_the_timeline_shows_the_chain_the_findings_and_every_print(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    printer = f"bm-{uuid.uuid4().hex[:6]}"
    printing.add_printer(ctx, None, printer, f"memory://{printer}")
    printing.print_label(ctx, network["vt_bnv"], numbers["slow"], printer=printer)
    printing.print_label(ctx, network["vt_bnv"], numbers["slow"], printer=printer,
                         reason="Nhãn bị nhòe")
    b = signed_in("bm_bnv")
    body = page(b.get(f"/officer/envelopes/{numbers['slow']}"))
    assert "Đang chuyển" in body and "Chấp nhận tại quầy" in body and "Vào sổ đi" in body
    assert "Không có phát hiện nào" in body
    assert "In lại nhãn" in body and "Nhãn bị nhòe" in body and printer in body
    assert SUBJECT in body  # the sender's officer may read it
    assert "Hư hỏng" in body  # the incident

    at(server_clock, "2026-11-25T04:00:00")
    flash = page(b.get(f"/officer/envelopes/{numbers['flash'].lower()}"))
    assert "deadline_missed" in flash and "Quá chỉ tiêu thời gian" in flash
    assert "Nhãn của bưu gửi này chưa được in lần nào." in flash

    hcm = page(signed_in("bm_hcm").get(f"/officer/envelopes/{numbers['slow']}"))
    assert numbers["slow"] in hcm and SUBJECT not in hcm
    assert "chỉ văn thư và cán bộ bảo mật của nơi gửi được xem trích yếu" in hcm


def test_findings_are_shown_in_english_when_the_page_is_in_english(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    at(server_clock, "2026-11-25T04:00:00")
    b = signed_in("bm_bnv")
    b.get("/officer/")
    b.post("/language", {"lang": "en", "next": "/"})
    body = page(b.get(f"/officer/envelopes/{numbers['flash']}"))
    assert "Deadline missed" in body


def test_envelopes_are_listed_paginated_and_found_by_number(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    numbers = scenario(ctx, network, server_clock)
    for i in range(24):
        register(ctx, network, document_number=f"{i}/BNV-MANY", event_at=server_clock.tick(1))
    b = signed_in("bm_bnv")
    first = page(b.get("/officer/envelopes"))
    assert "Trang 1 / 2" in first and "28 dòng" in first
    assert numbers["slow"] not in first  # the oldest are on page 2
    assert numbers["slow"] in page(b.get("/officer/envelopes?page=2"))
    found = b.get(f"/officer/envelopes?q={numbers['flash']}")
    assert found.status_code == 302
    assert found.headers["Location"] == f"/officer/envelopes/{numbers['flash']}"
    partial = page(b.get("/officer/envelopes?q=BNV-DONE"))
    assert numbers["done"] in partial and numbers["slow"] not in partial
    assert "Không có bưu gửi nào khớp" in page(b.get("/officer/envelopes?q=NOPE"))


# --------------------------------------------------------------------------- registers


def xlsx(body: bytes) -> dict[str, list[list[Any]]]:
    book = load_workbook(io.BytesIO(body))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book}


def test_the_three_registers_show_on_screen_and_export_with_their_cover(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    scenario(ctx, network, server_clock)
    b = signed_in("bm_bnv")
    outgoing = page(b.get("/officer/registers/outgoing?year=2026"))
    assert "Sổ đăng ký văn bản, tài liệu bí mật nhà nước đi" in outgoing
    assert "11/BNV-SLOW" in outgoing and SUBJECT in outgoing  # the officer may read it
    assert "Tải sổ PDF" in outgoing and "Tải sổ XLSX" in outgoing

    response = get_pdf(b, "/officer/registers/outgoing/export.pdf?year=2026")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="so-di-BNV-2026.pdf"')
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert b"11/BNV-SLOW" in pdf_text(response.data)

    response = get_pdf(b, "/officer/registers/outgoing/export.xlsx?year=2026")
    assert response.status_code == 200
    sheets = xlsx(response.data)
    assert list(sheets) == ["Bìa", "Sổ"]
    cover = {row[0]: row[1] for row in sheets["Bìa"] if row and row[0]}
    assert cover["Đơn vị"] == "Bộ Nội vụ (BNV)" and cover["Năm"] == "2026"
    assert (cover["Từ số"], cover["Đến số"], cover["Số mục"]) == ("1", "4", "4")
    assert cover["Từ ngày"] == cover["Đến ngày"] == "23/11/2026"
    register_rows = sheets["Sổ"]
    assert register_rows[0][0] == "Số TT" and len(register_rows) == 5
    assert register_rows[1][1] == "11/BNV-SLOW" and SUBJECT in register_rows[1][3]
    assert isinstance(register_rows[1][7], datetime)  # date sent, a real date

    handover = xlsx(get_pdf(b, "/officer/registers/handover/export.xlsx?year=2026").data)
    rows = handover["Sổ"][1:]
    assert len(rows) == 3  # BNV handed three envelopes to the counter
    assert all(r[5] and "GD_HN" in r[5] for r in rows)  # each signed by the receiver

    hcm = signed_in("bm_hcm")
    incoming = xlsx(get_pdf(hcm, "/officer/registers/incoming/export.xlsx?year=2026").data)
    assert [r[3] for r in incoming["Sổ"][1:]] == ["14/BNV-DONE"]
    assert SUBJECT not in str(incoming)
    assert "14/BNV-DONE" in page(hcm.get("/officer/registers/incoming"))
    empty = page(hcm.get("/officer/registers/outgoing"))
    assert "Sổ chưa có mục nào trong khoảng này." in empty
    pdf = get_pdf(hcm, "/officer/registers/handover/export.pdf?year=2026")
    assert pdf.status_code == 200 and b"11/BNV-SLOW" not in pdf_text(pdf.data)


def test_a_register_narrowed_to_days_says_so_on_its_cover(
        signed_in: Any, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    scenario(ctx, network, server_clock)
    b = signed_in("bm_bnv")
    body = page(b.get("/officer/registers/outgoing?year=2026&day_from=2026-11-24"))
    assert "Sổ chưa có mục nào trong khoảng này." in body
    sheets = xlsx(get_pdf(
        b, "/officer/registers/outgoing/export.xlsx?year=2026&day_from=2026-11-24").data)
    assert len(sheets["Sổ"]) == 1


# --------------------------------------------------------------------------- checkpoints


def test_a_checkpoint_is_signed_listed_and_downloaded(
        signed_in: Any, app: Flask, ctx: Ctx, network: Network, server_clock: Clock) -> None:
    b = signed_in("bm_bnv")
    assert "KT1_CHECKPOINT_KEY" in page(b.get("/officer/checkpoints"))
    app.config["CHECKPOINT_KEY"] = KEY
    body = page(b.get("/officer/checkpoints"))
    assert "Chưa có điểm kiểm tra nào" in body
    refused = b.post("/officer/checkpoints")
    assert refused.status_code == 303
    assert "Chưa có lần giao nhận nào được ghi" in page(b.get("/officer/checkpoints"))
    scenario(ctx, network, server_clock)
    made = b.post("/officer/checkpoints")
    assert made.status_code == 303
    listed = page(b.get("/officer/checkpoints"))
    assert "Đã ký điểm kiểm tra số 1" in listed and "/officer/checkpoints/1.txt" in listed
    download = b.get("/officer/checkpoints/1.txt")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.get_data(as_text=True).startswith("KT1-CHECKPOINT v1\n")
    assert b.get("/officer/checkpoints/9.txt").status_code == 404


# --------------------------------------------------------------------------- refusals

#: Every route of the officer's blueprint: (method, path, form). ``{number}`` is an envelope
#: of BNV's.
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/officer/", {}),
    ("GET", "/officer/envelopes", {}),
    ("GET", "/officer/envelopes/{number}", {}),
    ("POST", "/officer/envelopes/{number}/incidents",
     {"finding": "seal_anomaly", "report": "Dây niêm phong bị đứt"}),
    ("GET", "/officer/registers/outgoing", {}),
    ("GET", "/officer/registers/incoming", {}),
    ("GET", "/officer/registers/handover", {}),
    ("GET", "/officer/registers/outgoing/export.pdf", {}),
    ("GET", "/officer/registers/incoming/export.pdf", {}),
    ("GET", "/officer/registers/handover/export.pdf", {}),
    ("GET", "/officer/registers/outgoing/export.xlsx", {}),
    ("GET", "/officer/registers/incoming/export.xlsx", {}),
    ("GET", "/officer/registers/handover/export.xlsx", {}),
    ("GET", "/officer/checkpoints", {}),
    ("POST", "/officer/checkpoints", {}),
    ("GET", "/officer/checkpoints/1.txt", {}),
]

#: What a security officer of another unit (UBND-HN) gets on each route, given BNV's rows.
OTHER_UNIT: dict[tuple[str, str], int] = {
    **{(m, p): 200 for m, p, _f in ROUTES},
    ("GET", "/officer/envelopes/{number}"): 404,
    ("POST", "/officer/envelopes/{number}/incidents"): 404,
    ("POST", "/officer/checkpoints"): 303,
}


def fixtures_of(app: Flask, ctx: Ctx, network: Network) -> dict[str, str]:
    """A BNV envelope accepted at the counter, and checkpoint 1 signed over it."""
    app.config["CHECKPOINT_KEY"] = KEY
    envelope = register(ctx, network, subject=SUBJECT, document_number="77/BNV-ONLY")
    custody.accept_at_counter(ctx, network["gd_hn"], envelope.number, network["vt_bnv"],
                              pin(network["gd_hn"]), new_scan(), datetime.now(UTC),
                              giver_receipt=pin(network["vt_bnv"]))
    from kt1.services.checkpoints import create_checkpoint

    ctx.settings = Settings.from_mapping(app.config)
    create_checkpoint(ctx)
    return {"number": envelope.number}


def call(b: Browser, method: str, path: str, form: dict[str, Any], values: dict[str, str],
         csrf: bool = True) -> Any:
    url = path.format(**values)
    if method == "GET":
        return get_pdf(b, url) if url.endswith((".pdf", ".xlsx", ".txt")) else b.get(url)
    return b.post(url, form, csrf=csrf)


def count(ctx: Ctx, model: Any) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count()).select_from(model)).scalar_one())


def test_the_route_list_covers_every_route_of_the_blueprint(app: Flask) -> None:
    declared = {(m, p) for m, p, _f in ROUTES}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("officer."):
            continue
        for kind in ("outgoing", "incoming", "handover"):
            path = (rule.rule.replace("<any(outgoing,incoming,handover):kind>", kind)
                    .replace("<number>", "{number}").replace("<int:number>", "1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, path) in declared, f"{method} {rule.rule} has no refusal tests"
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "roles", None), f"{rule.endpoint} is not guarded by requires()"


def test_every_route_sends_a_signed_out_visitor_to_sign_in(
        browser: Browser, app: Flask, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(app, ctx, network)
    failures = []
    for method, path, form in ROUTES:
        response = call(browser, method, path, form, values)
        if response.status_code != 302 or not response.headers["Location"].startswith(
                "/login"):
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures


@pytest.mark.parametrize("username", ["vt_bnv", "gd_hn", "bt_hn", "admin"])
def test_every_route_is_forbidden_to_other_roles(
        signed_in: Any, app: Flask, ctx: Ctx, network: Network, username: str) -> None:
    values = fixtures_of(app, ctx, network)
    b = signed_in(username)
    failures = []
    for method, path, form in ROUTES:
        response = call(b, method, path, form, values)
        if response.status_code != 403:
            failures.append(f"{method} {path}: {response.status_code}")
        elif b"77/BNV-ONLY" in response.data:
            failures.append(f"{method} {path}: a refusal that shows the envelope")
    assert not failures
    assert count(ctx, Checkpoint) == 1


def test_every_form_without_its_csrf_token_is_refused_and_writes_nothing(
        signed_in: Any, app: Flask, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(app, ctx, network)
    b = signed_in("bm_bnv")
    b.get("/officer/checkpoints")
    failures = []
    for method, path, form in ROUTES:
        if method != "POST":
            continue
        response = call(b, method, path, form, values, csrf=False)
        if response.status_code != 400:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert count(ctx, Checkpoint) == 1


def test_another_units_envelope_is_never_shown_or_counted(
        signed_in: Any, app: Flask, ctx: Ctx, network: Network) -> None:
    values = fixtures_of(app, ctx, network)
    assert {(m, p) for m, p, _f in ROUTES} == set(OTHER_UNIT)
    b = signed_in("bm_hn")
    failures = []
    for method, path, form in ROUTES:
        expected = OTHER_UNIT[(method, path)]
        response = call(b, method, path, form, values)
        if response.status_code != expected:
            failures.append(f"{method} {path}: {response.status_code} (expected {expected})")
        body = response.data
        if body.startswith(b"%PDF"):
            body = pdf_text(body)
        elif body.startswith(b"PK"):
            body = str(xlsx(body)).encode()
        # (the item number is in the path, so the page's language form repeats it)
        secrets = ["77/BNV-ONLY", SUBJECT] + ([] if "{number}" in path else [values["number"]])
        for secret in secrets:
            if secret.encode() in body:
                failures.append(f"{method} {path}: shows {secret}")
    assert not failures
    assert "unknown_envelope" in page(b.get(f"/officer/envelopes/{values['number']}"))
    assert count(ctx, Checkpoint) == 2  # a checkpoint is installation-wide: any officer signs


def test_an_envelope_of_nobodys_unit_is_not_found_even_for_a_correct_number(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    envelope = register(ctx, network, recipient="UBND-HN")
    assert ctx.session.execute(select(Envelope.id)).first() is not None
    hcm = signed_in("bm_hcm")
    response = hcm.get(f"/officer/envelopes/{envelope.number}")
    assert response.status_code == 404
    listed = page(hcm.get(f"/officer/envelopes?q={envelope.number}"))
    assert f"/officer/envelopes/{envelope.number}" not in listed
    assert "Không có bưu gửi nào khớp" in listed
