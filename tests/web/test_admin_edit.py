"""Administration without the command line (issue 13, item 7): the new user's PIN and
password are never shown again, the badge printed or downloaded from the user page, users
(name, email, head of unit) and units edited, printers added from a model picker and a
network address (the URI is built), changed, test-printed and removed; refusals are shown on
the page in Vietnamese and write nothing."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from kt1.models import Printer, Unit, User
from kt1.services import printing
from kt1.services.context import Ctx
from printers import captured
from tests.conftest import Network
from tests.fakes.printer import FakePrinter
from tests.journey import register


def page(response: Any) -> str:
    return str(response.get_data(as_text=True))


def user(ctx: Ctx, username: str) -> User:
    ctx.session.rollback()
    return ctx.session.execute(select(User).where(User.username == username)).unique(
    ).scalar_one()


def printer_row(ctx: Ctx, name: str) -> Printer:
    ctx.session.rollback()
    return ctx.session.execute(select(Printer).where(Printer.name == name)).scalar_one()


def secret_of(body: str) -> str:
    match = re.search(r'id="secret">([^<]+)<', body)
    assert match, "no secret shown"
    return match.group(1).strip()


NEW_USER = {"username": "vt3_bnv", "full_name": "Phạm Văn Thư", "role": "registry_clerk",
            "unit": "BNV", "password": "mat-khau-rat-rieng-9", "pin": "975310",
            "email": "vt3@bnv.gov.vn"}


# --------------------------------------------------------------------------- users


def test_the_new_users_pin_and_password_are_not_in_the_page_after_saving(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    b.get("/admin/users")
    response = b.post("/admin/users", NEW_USER)
    assert response.status_code == 201
    body = page(response)
    badge = secret_of(body)
    assert "975310" not in body and "mat-khau-rat-rieng-9" not in body
    assert response.headers["Cache-Control"] == "no-store"
    # the new user's own page, whose address replaces the POST's (reload = GET, no secret)
    assert 'data-clean-url="/admin/users/vt3_bnv"' in body and "js/shown-once.js" in body
    assert "kt1 badge print" not in body and "Tải thẻ (PDF)" in body
    again = page(b.get("/admin/users/vt3_bnv"))
    assert badge not in again and "975310" not in again and 'id="shown-once"' not in again
    assert "975310" not in page(b.get("/admin/users"))


def test_the_badge_shown_once_is_printed_on_a_chosen_printer_or_downloaded(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    name = f"the-{uuid.uuid4().hex[:6]}"  # the memory printer's captures outlive the test
    printing.add_printer(ctx, None, name, f"memory://{name}", width_mm=58)
    b = signed_in("admin")
    b.get("/admin/users")
    body = page(b.post("/admin/users", NEW_USER))
    badge = secret_of(body)
    assert f'<option value="{name}">' in body and ">In thẻ</button>" in body
    printed = b.post("/admin/users/vt3_bnv/badge/print",
                     {"code": badge, "printer": name, "width_mm": "58"})
    assert printed.status_code == 303
    assert f"Đã in thẻ của vt3_bnv trên máy in {name}." in page(b.get(printed.headers["Location"]))
    assert len(captured(name)) == 1
    before = user(ctx, "vt3_bnv").badge_hash

    png = b.post("/admin/users/vt3_bnv/badge/png", {"code": badge, "width_mm": "80"})
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG") and "attachment" in png.headers[
        "Content-Disposition"]
    assert user(ctx, "vt3_bnv").badge_hash == before  # the same badge

    wrong = b.post("/admin/users/vt3_bnv/badge/print",
                   {"code": "B" + "1" * 20, "printer": name, "width_mm": "58"})
    assert wrong.status_code == 303
    assert "Mã thẻ không đúng với thẻ hiện hành của vt3_bnv." in page(
        b.get(wrong.headers["Location"]))
    assert len(captured(name)) == 1


def test_a_badge_that_does_not_print_shows_the_code_again_to_try_another_printer(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    printing.add_printer(ctx, None, "tat", "escpos+tcp://127.0.0.1:9?timeout=0.3")
    b = signed_in("admin")
    b.get("/admin/users")
    badge = secret_of(page(b.post("/admin/users", NEW_USER)))
    failed = b.post("/admin/users/vt3_bnv/badge/print",
                    {"code": badge, "printer": "tat", "width_mm": "80"})
    assert failed.status_code == 503
    body = page(failed)
    assert "Không in được thẻ trên máy in tat" in body and secret_of(body) == badge
    assert failed.headers["Cache-Control"] == "no-store"


def test_a_new_badge_is_printed_or_downloaded_from_the_user_page_and_ends_the_old_one(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    name = f"the-{uuid.uuid4().hex[:6]}"
    printing.add_printer(ctx, None, name, f"memory://{name}")
    old = user(ctx, "gd_hn").badge_hash
    b = signed_in("admin")
    shown = page(b.get("/admin/users/gd_hn"))
    assert 'id="badge"' in shown and "In thẻ mới" in shown
    printed = b.post("/admin/users/gd_hn/badge/print", {"printer": name, "width_mm": "80"})
    assert printed.status_code == 303
    assert f"Đã in thẻ mới của gd_hn trên máy in {name}; thẻ cũ không còn dùng được." in page(
        b.get(printed.headers["Location"]))
    new = user(ctx, "gd_hn").badge_hash
    assert new != old and len(captured(name)) == 1
    pdf = b.post("/admin/users/gd_hn/badge/pdf", {"width_mm": "80"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert user(ctx, "gd_hn").badge_hash not in (old, new)
    assert b.post("/admin/users/gd_hn/badge/gif", {}).status_code == 404
    assert b.post("/admin/users/nobody/badge/pdf", {}).status_code == 404


def test_a_user_is_edited_and_a_wrong_email_is_refused_next_to_its_field(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    shown = page(b.get("/admin/users/vt_hn"))
    assert 'value="VT_HN"' in shown
    saved = b.post("/admin/users/vt_hn/edit", {"full_name": "Nguyễn Thị Hà",
                                                "email": "ha@hn.gov.vn", "is_unit_head": "y"})
    assert saved.status_code == 303
    assert "Đã lưu thông tin của vt_hn." in page(b.get(saved.headers["Location"]))
    edited = user(ctx, "vt_hn")
    assert (edited.full_name, edited.email, edited.is_unit_head) == (
        "Nguyễn Thị Hà", "ha@hn.gov.vn", True)
    wrong = b.post("/admin/users/vt_hn/edit", {"full_name": "X", "email": "khong-phai-thu"})
    assert wrong.status_code == 422 and "ten@coquan.vn" in page(wrong)
    empty = b.post("/admin/users/vt_hn/edit", {"full_name": "", "email": ""})
    assert empty.status_code == 422 and "Hãy nhập họ và tên." in page(empty)
    assert user(ctx, "vt_hn").full_name == "Nguyễn Thị Hà"
    assert b.post("/admin/users/nobody/edit", {"full_name": "X"}).status_code == 404


def test_a_user_who_holds_items_is_refused_role_unit_and_lock_in_vietnamese(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    register(ctx, network, document_number="5/KH-BNV")
    b = signed_in("admin")
    b.get("/admin/users/vt_bnv")
    role = b.post("/admin/users/vt_bnv/move", {"unit": "BNV", "role": "security_officer"})
    assert role.status_code == 409
    assert "hãy bàn giao tất cả cho đồng nghiệp trước khi" in page(role)
    locked = b.post("/admin/users/vt_bnv/deactivate")
    assert "vt_bnv đang giữ 1 bưu gửi" in page(b.get(locked.headers["Location"]))
    # name and email carry no custody: they are edited all the same
    saved = b.post("/admin/users/vt_bnv/edit", {"full_name": "Lê Văn Bình", "email": ""})
    assert saved.status_code == 303
    held = user(ctx, "vt_bnv")
    assert held.role.value == "registry_clerk" and held.is_active
    assert held.full_name == "Lê Văn Bình"


# --------------------------------------------------------------------------- units


def test_a_unit_is_edited_but_its_code_and_kind_stay(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    assert "/admin/units/BNV/edit" in page(b.get("/admin/units"))
    form = page(b.get("/admin/units/BNV/edit"))
    assert 'value="Bộ Nội vụ"' in form or "Bộ Nội vụ" in form
    saved = b.post("/admin/units/BNV/edit", {
        "name": "Bộ Nội vụ (trụ sở mới)", "province_code": "01", "province_name": "Hà Nội",
        "address": "8 Tôn Thất Thuyết", "parent_name": "Chính phủ", "code": "HACK",
        "kind": "post_office"})
    assert saved.status_code == 303
    assert "Đã lưu đơn vị BNV — Bộ Nội vụ (trụ sở mới)." in page(b.get("/admin/units"))
    ctx.session.rollback()
    unit = ctx.session.execute(select(Unit).where(Unit.code == "BNV")).scalar_one()
    assert (unit.name, unit.address, unit.kind.value) == (
        "Bộ Nội vụ (trụ sở mới)", "8 Tôn Thất Thuyết", "agency")
    empty = b.post("/admin/units/BNV/edit", {"name": "", "province_code": "",
                                             "province_name": ""})
    assert empty.status_code == 422 and "Hãy nhập tên đơn vị." in page(empty)
    assert b.get("/admin/units/NOPE/edit").status_code == 404


# --------------------------------------------------------------------------- printers


def test_the_printers_page_says_what_to_do_first_when_there_is_none(
        signed_in: Any, network: Network) -> None:
    body = page(signed_in("admin").get("/admin/printers"))
    assert 'id="first-run"' in body and "In thử" in body and "in ra tệp PDF" in body
    assert "TM-T20II" in body and "Cấu hình python-escpos" not in body
    assert "escpos+tcp://máy:9100" not in body


def test_the_printer_form_builds_the_uri_from_the_model_and_the_address(
        signed_in: Any, ctx: Ctx, network: Network, tmp_path: Any) -> None:
    b = signed_in("admin")
    b.get("/admin/printers")
    made = b.post("/admin/printers", {"name": "nhan-1", "model": "escpos:TM-T20II",
                                      "host": "10.0.0.5", "port": "9100", "width_mm": "80",
                                      "workstation": "van-thu-1"})
    assert made.status_code == 303, page(made)
    row = printer_row(ctx, "nhan-1")
    assert (row.uri, row.profile) == ("escpos+tcp://10.0.0.5:9100", "TM-T20II")
    b.post("/admin/printers", {"name": "zebra", "model": "zpl", "host": "10.0.0.6",
                               "port": "6101", "width_mm": "58"})
    assert printer_row(ctx, "zebra").uri == "zpl+tcp://10.0.0.6:6101"
    b.post("/admin/printers", {"name": "tep", "model": "pdf", "folder": str(tmp_path),
                               "width_mm": "80"})
    assert printer_row(ctx, "tep").uri == f"pdf://{tmp_path}/"
    no_host = b.post("/admin/printers", {"name": "x", "model": "escpos:", "host": "",
                                         "width_mm": "80"})
    assert no_host.status_code == 422 and "Hãy nhập địa chỉ IP của máy in" in page(no_host)
    no_uri = b.post("/admin/printers", {"name": "x", "model": "uri", "width_mm": "80"})
    assert no_uri.status_code == 422 and "Hãy nhập địa chỉ máy in" in page(no_uri)
    bad_model = b.post("/admin/printers", {"name": "x", "model": "escpos:NOPE-1",
                                           "host": "10.0.0.7", "width_mm": "80"})
    assert bad_model.status_code == 422
    assert ctx.session.execute(select(Printer).where(Printer.name == "x")).first() is None


def test_a_printer_is_changed_then_removed(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    printing.add_printer(ctx, None, "quay-2", "escpos+tcp://10.0.0.8:9100",
                         profile="TM-T20II", workstation="quay-2")
    b = signed_in("admin")
    form = page(b.get("/admin/printers/quay-2/edit"))
    assert 'value="10.0.0.8"' in form and '<option selected value="escpos:TM-T20II">' in form
    saved = b.post("/admin/printers/quay-2/edit", {
        "name": "doi-ten", "model": "escpos:POS-5890", "host": "10.0.0.9", "port": "9100",
        "width_mm": "58", "workstation": "quay-2"})
    assert saved.status_code == 303, page(saved)
    row = printer_row(ctx, "quay-2")
    assert (row.uri, row.profile, row.width_mm) == ("escpos+tcp://10.0.0.9:9100", "POS-5890",
                                                    58)
    removed = b.post("/admin/printers/quay-2/remove")
    assert removed.status_code == 303
    listed = page(b.get("/admin/printers"))
    assert "Đã bỏ máy in quay-2" in listed and 'id="first-run"' in listed
    assert not printer_row(ctx, "quay-2").is_active
    assert b.get("/admin/printers/quay-2/edit").status_code == 404
    assert b.post("/admin/printers/quay-2/remove").status_code == 404


def test_a_printer_added_from_the_form_prints_its_test_page_on_a_raw_tcp_printer(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    with FakePrinter() as fake:
        b = signed_in("admin")
        b.get("/admin/printers")
        made = b.post("/admin/printers", {"name": "that", "model": "escpos:TM-T20II",
                                          "host": "127.0.0.1", "port": str(fake.port),
                                          "width_mm": "80"})
        assert made.status_code == 303, page(made)
        listed = page(b.get("/admin/printers"))
        assert "/admin/printers/that/test" in listed
        tested = b.post("/admin/printers/that/test")
        assert tested.status_code == 303
        assert "Máy in that đã nhận trang thử" in page(b.get("/admin/printers"))
        fake.settle()
        assert any(p.printed_anything for p in fake.printouts())


def test_a_unit_is_deactivated_only_when_nothing_is_held_or_open_there(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    from kt1.services.directory import add_unit

    add_unit(ctx, None, "SO-TRONG", "Sở chưa dùng", "agency", "48", "Đà Nẵng")
    b = signed_in("admin")
    b.get("/admin/units")
    busy = b.post("/admin/units/BNV/deactivate")
    assert busy.status_code == 303
    assert ("Đơn vị BNV còn 3 người dùng đang làm việc, 0 bưu gửi đang giữ" in
            page(b.get("/admin/units")))
    ctx.session.rollback()
    assert ctx.session.execute(select(Unit.is_active).where(Unit.code == "BNV")).scalar_one()

    assert b.post("/admin/units/SO-TRONG/deactivate").status_code == 303
    listed = page(b.get("/admin/units"))
    assert "Đơn vị SO-TRONG đã ngừng hoạt động" in listed
    # a deactivated unit takes no new user (and is not offered)
    assert 'value="SO-TRONG"' not in page(b.get("/admin/users")).split("Thêm người dùng")[1]
    refused = b.post("/admin/users", {**NEW_USER, "unit": "SO-TRONG"})
    assert refused.status_code in (409, 422)
    ctx.session.rollback()
    assert ctx.session.execute(select(User).where(User.username == "vt3_bnv")).first() is None
    assert b.post("/admin/units/SO-TRONG/activate").status_code == 303
    assert "Đơn vị SO-TRONG hoạt động trở lại." in page(b.get("/admin/units"))
    assert b.post("/admin/units/NOPE/deactivate").status_code == 404


def test_a_deactivated_unit_gets_no_new_envelope(ctx: Ctx, network: Network) -> None:
    import pytest

    from kt1.errors import KT1Error
    from kt1.services.directory import add_unit, set_unit_active
    from kt1.services.registration import EnvelopeDraft, register_envelope

    add_unit(ctx, None, "SO-CU", "Sở đã giải thể", "agency", "48", "Đà Nẵng")
    set_unit_active(ctx, None, "SO-CU", False)
    with pytest.raises(KT1Error, match=r"ngừng hoạt động|deactivated") as err:
        register_envelope(ctx, network["vt_bnv"], EnvelopeDraft(
            classification="confidential", recipient_unit_code="SO-CU",
            document_number="9/CV"))
    assert err.value.slug == "unit_inactive"


# --------------------------------------------------------------------------- devices


def test_a_device_is_renamed_and_moved_and_keeps_its_token(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    from kt1.services import devices

    _device, token = devices.add_device(ctx, None, "quay-cu", "BC-HN")
    devices.add_device(ctx, None, "quay-khac", "BC-HN")
    b = signed_in("admin")
    assert "/admin/devices/quay-cu/edit" in page(b.get("/admin/devices"))
    assert 'value="quay-cu"' in page(b.get("/admin/devices/quay-cu/edit"))
    taken = b.post("/admin/devices/quay-cu/edit", {"name": "quay-khac", "unit": "BC-HN"})
    assert taken.status_code == 409 and "đã tồn tại" in page(taken)
    saved = b.post("/admin/devices/quay-cu/edit", {"name": "quay-3-bc-hcm", "unit": "BC-HCM"})
    assert saved.status_code == 303
    assert "Đã lưu thiết bị quay-3-bc-hcm (BC-HCM)." in page(b.get("/admin/devices"))
    ctx.session.rollback()
    moved = devices.authenticate(ctx, token)
    assert (moved.name, moved.unit.code) == ("quay-3-bc-hcm", "BC-HCM")
    devices.revoke_device(ctx, None, "quay-khac")
    assert b.get("/admin/devices/quay-khac/edit").status_code == 404
    assert b.get("/admin/devices/nope/edit").status_code == 404


def test_a_unit_with_a_scanner_or_envelopes_is_not_deactivated(
        ctx: Ctx, network: Network) -> None:
    import pytest

    from kt1.errors import KT1Error
    from kt1.services import devices
    from kt1.services.directory import add_unit, set_unit_active

    add_unit(ctx, None, "BC-TRONG", "Bưu cục chưa dùng", "post_office", "48", "Đà Nẵng")
    devices.add_device(ctx, None, "quay-trong", "BC-TRONG")
    with pytest.raises(KT1Error) as err:
        set_unit_active(ctx, None, "BC-TRONG", False)
    assert err.value.slug == "unit_in_use" and err.value.details["devices"] == "1"
    devices.revoke_device(ctx, None, "quay-trong")
    assert not set_unit_active(ctx, None, "BC-TRONG", False).is_active
    with pytest.raises(KT1Error) as inactive:
        devices.add_device(ctx, None, "quay-moi", "BC-TRONG")
    assert inactive.value.slug == "unit_inactive"

    register(ctx, network, document_number="6/KH-BNV")  # BNV's registry now holds it
    ctx.session.rollback()
    with pytest.raises(KT1Error) as held:
        set_unit_active(ctx, None, "BNV", False)
    assert held.value.slug == "unit_in_use" and held.value.details["envelopes"] == "1"


def test_removing_the_default_printer_makes_the_only_other_one_the_default(
        ctx: Ctx, network: Network) -> None:
    printing.add_printer(ctx, None, "mot", "memory://mot", workstation="vt-1")
    printing.add_printer(ctx, None, "hai", "memory://hai", workstation="vt-1")
    assert printer_row(ctx, "mot").is_default and not printer_row(ctx, "hai").is_default
    printing.remove_printer(ctx, None, "mot")
    assert printer_row(ctx, "hai").is_default and not printer_row(ctx, "mot").is_active
