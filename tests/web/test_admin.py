"""The administrator's pages: units, users (add, deactivate, reset password), devices (a
token shown once, revoke), printers (add, test) and rules (rule sets, days off), with empty
states and pagination; and every route refuses the signed-out, the other roles and a form
without its CSRF token.

Administrators manage the whole installation, so these pages are deliberately not scoped to
the administrator's own unit: the "another unit" refusal is that no user of any unit other
than an administrator opens them (``test_every_route_is_forbidden_to_other_roles`` signs in
users of every unit).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from kt1.models import (
    DayOff,
    DeadlineRuleSet,
    Device,
    Handoff,
    HandoverRecord,
    Printer,
    PrintJob,
    Unit,
    User,
)
from kt1.models.enums import AckMethod
from kt1.models.units import serving_office
from kt1.services import devices, printing
from kt1.services.access import Receipt
from kt1.services.context import Ctx
from kt1.services.devices import authenticate
from kt1.services.subjects import local_date
from printers import captured
from tests.conftest import PASSWORD, PIN, Network
from tests.web.conftest import Browser


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def count(ctx: Ctx, model: Any) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count()).select_from(model)).scalar_one())


def secret_of(body: str) -> str:
    match = re.search(r'id="secret">([^<]+)<', body)
    assert match, "no secret shown"
    return match.group(1).strip()


# --------------------------------------------------------------------------- units


def test_an_administrator_adds_a_unit_and_a_wrong_one_is_refused_next_to_its_field(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    listed = page(b.get("/admin/units"))
    assert "BC-HCM" in listed and "UBND TP Hồ Chí Minh" in listed
    response = b.post("/admin/units", {
        "code": "ubnd-hp", "name": "UBND thành phố Hải Phòng", "kind": "agency",
        "province_code": "31", "province_name": "Hải Phòng", "address": "",
        "parent_name": "Chính phủ"})
    assert response.status_code == 303
    assert "Đã thêm đơn vị UBND-HP" in page(b.get("/admin/units"))
    unit = ctx.session.execute(select(Unit).where(Unit.code == "UBND-HP")).scalar_one()
    assert unit.parent_name == "Chính phủ"
    again = b.post("/admin/units", {
        "code": "UBND-HP", "name": "Trùng", "kind": "agency", "province_code": "31",
        "province_name": "Hải Phòng"})
    assert again.status_code == 409 and "đã tồn tại" in page(again)
    empty = b.post("/admin/units", {"code": "", "name": "", "kind": "agency"})
    assert empty.status_code == 422 and "Hãy nhập mã đơn vị" in page(empty)
    assert count(ctx, Unit) == 6


def test_the_unit_list_is_paginated(signed_in: Any, ctx: Ctx, network: Network) -> None:
    from kt1.services.directory import add_unit

    for i in range(25):
        add_unit(ctx, None, f"ZZ-{i:02d}", f"Đơn vị {i}", "agency", "01", "Hà Nội")
    b = signed_in("admin")
    first = page(b.get("/admin/units"))
    assert "Trang 1 / 2" in first and "ZZ-24" not in first
    assert "ZZ-24" in page(b.get("/admin/units?page=2"))


def serving(ctx: Ctx) -> dict[str, list[str]]:
    ctx.session.rollback()
    agency, office = aliased(Unit), aliased(Unit)
    rows = ctx.session.execute(
        select(agency.code, office.code)
        .join(serving_office, serving_office.c.unit_id == agency.id)
        .join(office, office.id == serving_office.c.post_office_id)
        .order_by(agency.code, office.code)).all()
    out: dict[str, list[str]] = {}
    for unit, post_office in rows:
        out.setdefault(unit, []).append(post_office)
    return out


def test_an_agency_row_shows_its_serving_offices_and_the_administrator_edits_them(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    from kt1.services.directory import add_unit

    add_unit(ctx, None, "SO-NV-DN", "Sở Nội vụ Đà Nẵng", "agency", "48", "Đà Nẵng")
    b = signed_in("admin")
    listed = page(b.get("/admin/units"))
    hint = ("Chưa có bưu cục KT1 nào phục vụ đơn vị này: bưu cục sẽ không nhận bưu gửi của "
            "đơn vị.")
    row = re.search(r'<tr id="unit-SO-NV-DN">.*?</tr>', listed, re.S)
    assert row and hint in row.group(0) and "/admin/units/SO-NV-DN/serving" in row.group(0)
    bnv = re.search(r'<tr id="unit-BNV">.*?</tr>', listed, re.S)
    assert bnv and '<span title="Bưu cục KT1 Hà Nội">BC-HN</span>' in bnv.group(0)
    office = re.search(r'<tr id="unit-BC-HN">.*?</tr>', listed, re.S)
    assert office and "/serving" not in office.group(0)

    form = page(b.get("/admin/units/SO-NV-DN/serving"))
    assert hint in form and 'value="BC-HCM" id="office-BC-HCM">' in form
    saved = b.post("/admin/units/SO-NV-DN/serving", {"offices": ["BC-HCM", "BC-HN"]})
    assert saved.status_code == 303
    shown = page(b.get(saved.headers["Location"]))
    assert "Đã lưu: SO-NV-DN được phục vụ bởi BC-HCM, BC-HN." in shown
    assert 'value="BC-HN" id="office-BC-HN" checked>' in shown and hint not in shown
    assert serving(ctx)["SO-NV-DN"] == ["BC-HCM", "BC-HN"]

    cleared = b.post("/admin/units/SO-NV-DN/serving", {})
    assert cleared.status_code == 303
    shown = page(b.get(cleared.headers["Location"]))
    assert "SO-NV-DN không còn bưu cục KT1 nào phục vụ" in shown and hint in shown
    assert "SO-NV-DN" not in serving(ctx)


def test_serving_offices_that_cannot_be_are_refused_and_nothing_changes(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    b.get("/admin/units/BNV/serving")
    before = serving(ctx)
    unknown = b.post("/admin/units/BNV/serving", {"offices": ["BC-HN", "BC-NOPE"]})
    assert unknown.status_code == 404 and "Không tìm thấy đơn vị BC-NOPE." in page(unknown)
    agency = b.post("/admin/units/BNV/serving", {"offices": ["UBND-HN"]})
    assert agency.status_code == 422 and "UBND-HN is not a KT1 post office" in page(agency)
    assert b.get("/admin/units/BC-HN/serving").status_code == 404  # an office is not served
    assert b.post("/admin/units/BC-HN/serving", {"offices": ["BC-HCM"]}).status_code == 404
    assert b.get("/admin/units/NOPE/serving").status_code == 404
    assert serving(ctx) == before


# --------------------------------------------------------------------------- users


def test_a_user_is_added_with_a_badge_code_shown_once_and_can_sign_in(
        signed_in: Any, browser: Browser, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    b.get("/admin/users")
    response = b.post("/admin/users", {
        "username": "vt2_bnv", "full_name": "Lê Thị Văn Thư", "role": "registry_clerk",
        "unit": "BNV", "password": "mat-khau-moi-1", "pin": "1357"})
    assert response.status_code == 201
    body = page(response)
    badge = secret_of(body)
    assert badge.startswith("B") and "chỉ hiện một lần" in body
    assert badge not in page(b.get("/admin/users"))  # once
    user = ctx.session.execute(select(User).where(User.username == "vt2_bnv")).unique() \
        .scalar_one()
    assert user.role.value == "registry_clerk" and user.unit.code == "BNV"
    assert browser.sign_in("vt2_bnv", "mat-khau-moi-1").status_code == 302

    refused = b.post("/admin/users", {
        "username": "x", "full_name": "", "role": "courier", "unit": "", "password": "short"})
    assert refused.status_code == 422
    text = page(refused)
    assert "Hãy nhập họ và tên." in text and "Hãy chọn đơn vị." in text
    assert "Mật khẩu từ 8 đến 200 ký tự." in text


def test_users_are_filtered_by_unit_and_searched(signed_in: Any, network: Network) -> None:
    b = signed_in("admin")
    hcm = page(b.get("/admin/users?unit=UBND-HCM"))
    assert "vt_hcm" in hcm and "vt_bnv" not in hcm
    found = page(b.get("/admin/users?q=gd_"))
    assert "gd_hn" in found and "gd_hcm" in found and "vt_bnv" not in found
    assert "Không có người dùng nào khớp bộ lọc." in page(b.get("/admin/users?q=nobody"))


def test_a_deactivated_user_is_signed_out_at_once_and_cannot_sign_in_again(
        signed_in: Any, browser: Browser, ctx: Ctx, network: Network) -> None:
    clerk = signed_in("vt_bnv")
    assert clerk.get("/clerk/").status_code == 200
    b = signed_in("admin")
    b.get("/admin/users")
    assert b.post("/admin/users/vt_bnv/deactivate").status_code == 303
    assert "Đã khóa tài khoản vt_bnv" in page(b.get("/admin/users?q=vt_bnv"))
    assert clerk.get("/clerk/").status_code == 302  # the session is gone
    assert browser.sign_in("vt_bnv").status_code == 401
    assert b.post("/admin/users/vt_bnv/activate").status_code == 303
    assert Browser(browser.client.application.test_client()).sign_in(
        "vt_bnv").status_code == 302
    b.get("/admin/users")
    b.post("/admin/users/admin/deactivate")
    assert "Không thể khóa chính tài khoản của bạn." in page(b.get("/admin/users"))
    ctx.session.expire_all()
    assert network["admin"].is_active
    assert b.post("/admin/users/nobody/deactivate").status_code == 404


def test_a_password_reset_shows_the_new_password_once_and_ends_the_old_sessions(
        signed_in: Any, browser: Browser, network: Network) -> None:
    counter = signed_in("gd_hn")
    b = signed_in("admin")
    b.get("/admin/users")
    response = b.post("/admin/users/gd_hn/password")
    assert response.status_code == 200
    password = secret_of(page(response))
    assert len(password) >= 12
    assert counter.get("/counter/").status_code == 302
    assert browser.sign_in("gd_hn", PASSWORD).status_code == 401
    assert browser.sign_in("gd_hn", password).status_code == 302


# --------------------------------------------------------------------------- devices


def test_a_device_token_is_shown_once_works_and_is_revoked(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    assert "Chưa cấp thiết bị quét nào." in page(b.get("/admin/devices"))
    response = b.post("/admin/devices", {"name": "quay-1-bc-hn", "unit": "BC-HN"})
    assert response.status_code == 201
    token = secret_of(page(response))
    assert authenticate(ctx, token).name == "quay-1-bc-hn"
    listed = page(b.get("/admin/devices"))
    assert "quay-1-bc-hn" in listed and token not in listed
    assert ctx.session.execute(select(Device.token_hash)).scalar_one() != token
    twice = b.post("/admin/devices", {"name": "quay-1-bc-hn", "unit": "BC-HN"})
    assert twice.status_code == 409 and "đã tồn tại" in page(twice)
    assert b.post("/admin/devices/quay-1-bc-hn/revoke").status_code == 303
    assert "Đã thu hồi thiết bị quay-1-bc-hn" in page(b.get("/admin/devices"))
    ctx.session.expire_all()
    with pytest.raises(Exception, match="revoked"):
        authenticate(ctx, token)


# --------------------------------------------------------------------------- printers


def test_a_printer_is_added_and_prints_a_test_page(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    assert "Chưa khai báo máy in nào." in page(b.get("/admin/printers"))
    name = f"nhan-{uuid.uuid4().hex[:6]}"
    response = b.post("/admin/printers", {"name": name, "uri": f"memory://{name}",
                                          "width_mm": "58", "workstation": "van-thu-1"})
    assert response.status_code == 303, page(response)
    assert name in page(b.get("/admin/printers"))
    assert b.post(f"/admin/printers/{name}/test").status_code == 303
    assert f"Máy in {name} đã nhận trang thử" in page(b.get("/admin/printers"))
    assert len(captured(name)) == 1
    wrong = b.post("/admin/printers", {"name": "sai", "uri": "ftp://x", "width_mm": "80"})
    assert wrong.status_code == 422 and "Cấu hình máy in không hợp lệ" in page(wrong)
    assert count(ctx, Printer) == 1


def test_a_printer_that_is_off_is_named_and_the_test_job_kept(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    printing.add_printer(ctx, None, "tat-may", "escpos+tcp://127.0.0.1:9?timeout=0.5")
    b = signed_in("admin")
    b.get("/admin/printers")
    assert b.post("/admin/printers/tat-may/test").status_code == 303
    assert "Máy in tat-may chưa in được trang thử" in page(b.get("/admin/printers"))
    assert count(ctx, PrintJob) == 1
    assert b.post("/admin/printers/khong-co/test").status_code == 404


# --------------------------------------------------------------------------- rules


def test_a_future_rule_set_is_added_then_withdrawn_and_one_in_force_is_refused(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    body = page(b.get("/admin/rules"))
    assert "Chỉ tiêu mặc định (Thông tư 16/2017/TT-BTTTT)" in body and "J+3.5" in body
    future = local_date(ctx.now()) + timedelta(days=30)
    form = {"effective_from": future.isoformat(), "name": "Thông tư 15/2022",
            "source": "TT 15/2022/TT-BTTTT", "intra_standard": "1", "inter_standard": "3",
            "intra_flash": "0.5", "inter_flash": "2"}
    assert b.post("/admin/rules", form).status_code == 303
    listed = page(b.get("/admin/rules"))
    assert "Thông tư 15/2022" in listed and "J+0.5" in listed
    assert count(ctx, DeadlineRuleSet) == 2
    today = b.post("/admin/rules", {**form, "effective_from": local_date(
        ctx.now()).isoformat()})
    assert today.status_code == 409 and "đã có hiệu lực" in page(today)
    odd = b.post("/admin/rules", {**form, "intra_standard": "0.2"})
    assert odd.status_code == 422 and "Từ 0.5 đến 60 ngày." in page(odd)
    assert b.post(f"/admin/rules/{future.isoformat()}/remove").status_code == 303
    assert count(ctx, DeadlineRuleSet) == 1
    b.get("/admin/rules")
    b.post("/admin/rules/2000-01-01/remove")
    assert "đã có hiệu lực" in page(b.get("/admin/rules"))
    assert count(ctx, DeadlineRuleSet) == 1


def test_a_day_off_is_added_and_listed_with_the_public_holidays(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    holidays_2026 = page(b.get("/admin/rules?year=2026"))
    assert "01/01/2026" in holidays_2026 and "ngày lễ theo luật" in holidays_2026
    response = b.post("/admin/days-off", {"day": "2026-10-12", "reason": "Nghỉ do bão số 9"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/rules?year=2026"
    listed = page(b.get("/admin/rules?year=2026"))
    assert "12/10/2026" in listed and "Nghỉ do bão số 9" in listed
    again = b.post("/admin/days-off", {"day": "2026-10-12", "reason": "Lặp"})
    assert again.status_code == 409
    assert count(ctx, DayOff) == 1
    assert date(2026, 10, 12) == ctx.session.execute(select(DayOff.day)).scalar_one()


# --------------------------------------------------------------------------- refusals

#: Every route of the administrator's blueprint: (method, path, form).
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/admin/", {}),
    ("GET", "/admin/units", {}),
    ("POST", "/admin/units", {"code": "NEW-U", "name": "Mới", "kind": "agency",
                              "province_code": "01", "province_name": "Hà Nội"}),
    ("GET", "/admin/units/UBND-HCM/serving", {}),
    ("POST", "/admin/units/UBND-HCM/serving", {"offices": ["BC-HN"]}),
    ("GET", "/admin/users", {}),
    ("POST", "/admin/users", {"username": "new_user", "full_name": "Mới", "role": "courier",
                              "unit": "BC-HN", "password": "mat-khau-dai"}),
    ("POST", "/admin/users/vt_hcm/deactivate", {}),
    ("POST", "/admin/users/vt_hcm/activate", {}),
    ("POST", "/admin/users/vt_hcm/password", {}),
    ("GET", "/admin/users/vt_hcm", {}),
    ("POST", "/admin/users/vt_hcm/move", {"unit": "BNV", "role": "registry_clerk"}),
    ("POST", "/admin/users/vt_hcm/handover", {"receiver": "cv_hcm", "receiver_pin": PIN}),
    ("POST", "/admin/users/vt_hcm/edit", {"full_name": "Đổi tên", "email": ""}),
    ("POST", "/admin/users/vt_hcm/badge/print", {"printer": "may-in", "width_mm": "80"}),
    ("POST", "/admin/users/vt_hcm/badge/pdf", {"width_mm": "80"}),
    ("POST", "/admin/units/UBND-HCM/deactivate", {}),
    ("POST", "/admin/units/UBND-HCM/activate", {}),
    ("GET", "/admin/units/UBND-HCM/edit", {}),
    ("POST", "/admin/units/UBND-HCM/edit", {"name": "X", "province_code": "79",
                                           "province_name": "Hồ Chí Minh"}),
    ("GET", "/admin/printers/may-in/edit", {}),
    ("POST", "/admin/printers/may-in/edit", {"model": "uri", "uri": "memory://may-y",
                                            "width_mm": "58"}),
    ("POST", "/admin/printers/may-in/remove", {}),
    ("GET", "/admin/handover-records/BBG-UBND-HCM-2026-00001", {}),
    ("GET", "/admin/handover-records/BBG-UBND-HCM-2026-00001.pdf", {}),
    ("GET", "/admin/devices", {}),
    ("POST", "/admin/devices", {"name": "quay-x", "unit": "BC-HN"}),
    ("POST", "/admin/devices/quay-hcm/revoke", {}),
    ("GET", "/admin/devices/quay-hcm/edit", {}),
    ("POST", "/admin/devices/quay-hcm/edit", {"name": "quay-doi", "unit": "BC-HN"}),
    ("GET", "/admin/printers", {}),
    ("POST", "/admin/printers", {"name": "may-x", "uri": "memory://may-x", "width_mm": "80"}),
    ("POST", "/admin/printers/may-in/test", {}),
    ("GET", "/admin/rules", {}),
    ("POST", "/admin/rules", {"effective_from": "2099-01-01", "name": "X",
                              "intra_standard": "1", "inter_standard": "3",
                              "intra_flash": "1", "inter_flash": "2"}),
    ("POST", "/admin/rules/2099-06-01/remove", {}),
    ("POST", "/admin/days-off", {"day": "2099-01-02", "reason": "X"}),
]


def fixtures_of(ctx: Ctx) -> None:
    devices.add_device(ctx, None, "quay-hcm", "BC-HCM")
    printing.add_printer(ctx, None, "may-in", "memory://may-in")
    from kt1.services.deadlines import add_rule_set

    add_rule_set(ctx, None, date(2099, 6, 1), "Tương lai", {
        ("intra_province", "standard"): 1, ("inter_province", "standard"): 3,
        ("intra_province", "flash"): 1, ("inter_province", "flash"): 2})
    # vt_hcm holds an envelope handed over to them on record BBG-UBND-HCM-2026-00001
    from kt1.services.directory import find_user
    from kt1.services.leaving import hand_over_all
    from kt1.services.registration import EnvelopeDraft, register_envelope

    now, ctx.now = ctx.now, lambda: datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    register_envelope(ctx, find_user(ctx, "cv_hcm"), EnvelopeDraft(
        classification="confidential", recipient_unit_code="BNV", document_number="1/CV"))
    hand_over_all(ctx, None, "cv_hcm", "vt_hcm", Receipt(
        user=find_user(ctx, "vt_hcm"), method=AckMethod.PIN, secret=PIN))
    ctx.now = now


def state(ctx: Ctx) -> tuple[Any, ...]:
    ctx.session.rollback()
    hcm = ctx.session.execute(select(User.is_active, User.password_hash, User.session_epoch,
                                     User.unit_id, User.role, User.full_name, User.badge_hash)
                              .where(User.username == "vt_hcm")).one()
    revoked = ctx.session.execute(select(Device.revoked_at, Device.name, Device.unit_id)).all()
    return (count(ctx, Unit), count(ctx, User), count(ctx, Device), count(ctx, Printer),
            count(ctx, PrintJob), count(ctx, DeadlineRuleSet), count(ctx, DayOff),
            count(ctx, HandoverRecord), count(ctx, Handoff), tuple(hcm),
            tuple(revoked), serving(ctx),
            tuple(ctx.session.execute(select(Unit.code, Unit.name, Unit.is_active)
                                      .order_by(Unit.code)).all()),
            tuple(ctx.session.execute(select(Printer.name, Printer.uri, Printer.is_active)
                                      .order_by(Printer.name)).all()))


def call(b: Browser, method: str, path: str, form: dict[str, Any], csrf: bool = True) -> Any:
    if method == "GET":
        return b.get(path)
    return b.post(path, form, csrf=csrf)


def test_the_route_list_covers_every_route_of_the_blueprint(app: Flask) -> None:
    declared = {(m, re.sub(r"/(vt_hcm|quay-hcm|may-in|2099-06-01|UBND-HCM|pdf|"
                           r"BBG-UBND-HCM-2026-00001)(/|\.pdf$|$)", r"/<x>\2", p))
                for m, p, _f in ROUTES}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        path = re.sub(r"<[^>]+>", "<x>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in declared, f"{method} {rule.rule} has no refusal tests"
        view = app.view_functions[rule.endpoint]
        assert getattr(view, "roles", None), f"{rule.endpoint} is not guarded by requires()"


def test_every_route_sends_a_signed_out_visitor_to_sign_in(
        browser: Browser, ctx: Ctx, network: Network) -> None:
    fixtures_of(ctx)
    before = state(ctx)
    failures = []
    for method, path, form in ROUTES:
        response = call(browser, method, path, form)
        if response.status_code != 302 or not response.headers["Location"].startswith(
                "/login"):
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert state(ctx) == before


@pytest.mark.parametrize("username", ["vt_bnv", "bm_hcm", "gd_hn", "bt_hcm"])
def test_every_route_is_forbidden_to_other_roles(
        signed_in: Any, ctx: Ctx, network: Network, username: str) -> None:
    fixtures_of(ctx)
    before = state(ctx)
    b = signed_in(username)
    failures = []
    for method, path, form in ROUTES:
        response = call(b, method, path, form)
        if response.status_code != 403:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert state(ctx) == before


def test_every_form_without_its_csrf_token_is_refused_and_writes_nothing(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    fixtures_of(ctx)
    before = state(ctx)
    b = signed_in("admin")
    b.get("/admin/")
    failures = []
    for method, path, form in ROUTES:
        if method != "POST":
            continue
        response = call(b, method, path, form, csrf=False)
        if response.status_code != 400:
            failures.append(f"{method} {path}: {response.status_code}")
    assert not failures
    assert state(ctx) == before


def test_every_page_has_a_helpful_empty_state(signed_in: Any, ctx: Ctx, network: Network
                                              ) -> None:
    b = signed_in("admin")
    assert "Chưa cấp thiết bị quét nào." in page(b.get("/admin/devices"))
    assert "Chưa khai báo máy in nào." in page(b.get("/admin/printers"))
    assert "Không có người dùng nào khớp bộ lọc." in page(b.get("/admin/users?q=zzz"))
    index = page(b.get("/admin/"))
    assert "chỉ hiện một lần" in index


def test_the_home_page_is_a_start_page_for_each_role(signed_in: Any, network: Network) -> None:
    starts = {
        "vt_bnv": ("Văn thư", "/clerk/envelopes/new"),
        "gd_hn": ("Giao dịch viên bưu cục", "/counter/sheets"),
        "bt_hn": ("Bưu tá, áp tải", "/counter/round"),
        "bm_bnv": ("Cán bộ bảo mật", "/officer/"),
        "admin": ("Quản trị hệ thống", "/admin/users"),
    }
    for username, (role, link) in starts.items():
        body = page(signed_in(username).get("/"))
        assert f"· {role}</p>" in body and f'href="{link}"' in body, username
