"""Administration without the command line, in Debian's chromium (issue 13, item 7): on a
fresh install the printers page says what to do first; the administrator adds a label
printer by model and IP address (a fake raw-TCP printer) and test-prints it; adds a user,
whose badge code is shown once on the new user's page with "In thẻ", while the PIN and
password typed are nowhere in the page and a reload shows neither; edits the user. Pages
are shot at 1366×900 and 412×915 into ``test-artifacts/``."""

from __future__ import annotations

from typing import Any

from kt1.services.context import Ctx
from tests.browser.test_day import Shots, people  # noqa: F401  (the fixture)
from tests.conftest import Network
from tests.fakes.printer import FakePrinter

SIZES = {"desktop": (1366, 900), "phone": (412, 915)}


def both_sizes(shot: Shots, person: Any, name: str) -> None:
    for label, (width, height) in SIZES.items():
        person.page.set_viewport_size({"width": width, "height": height})
        shot(person, f"{name}-{label}")
    person.page.set_viewport_size({"width": 1366, "height": 900})


def test_printer_first_run_then_a_user_with_a_badge_printed_from_the_page(
        people: Any, ctx: Ctx, network: Network) -> None:  # noqa: F811
    ctx.session.commit()
    shot = Shots("admin-walk")
    with FakePrinter() as fake:
        admin = people("admin")
        admin.go("/admin/printers")
        assert "Chưa khai báo máy in nào" in admin.text("#first-run")
        both_sizes(shot, admin, "printers-first-run")
        admin.page.fill("#printer-form input[name=name]", "nhan-van-thu")
        admin.page.select_option("#printer-form select[name=model]", "escpos:TM-T20II")
        admin.page.fill("#printer-form input[name=host]", "127.0.0.1")
        admin.page.fill("#printer-form input[name=port]", str(fake.port))
        admin.submit("#printer-form")
        assert "Đã thêm máy in nhan-van-thu" in admin.flash()
        assert f"escpos+tcp://127.0.0.1:{fake.port}" in admin.text("#printers")
        admin.submit("#printers form[action$='/test']")
        assert "Máy in nhan-van-thu đã nhận trang thử" in admin.flash()
        both_sizes(shot, admin, "printers-tested")
        fake.settle()
        assert any(p.printed_anything for p in fake.printouts())

        admin.go("/admin/users")
        admin.page.fill("input[name=username]", "vt9_bnv")
        admin.page.fill("input[name=full_name]", "Đỗ Thị Chín")
        admin.page.select_option("select[name=role]", "registry_clerk")
        admin.page.select_option("form[novalidate] select[name=unit]", "BNV")
        admin.page.fill("input[name=password]", "mat-khau-chin-9")
        admin.page.fill("input[name=pin]", "864209")
        admin.submit("form[novalidate]:has(input[name=username])")
        assert admin.page.url.endswith("/admin/users/vt9_bnv")  # not the form's address
        html = admin.page.content()
        assert "864209" not in html and "mat-khau-chin-9" not in html
        assert admin.text("#secret").startswith("B")
        both_sizes(shot, admin, "user-created")
        admin.page.select_option("#shown-once select[name=printer]", "nhan-van-thu")
        admin.submit("#shown-once form.badge-print")
        assert "Đã in thẻ của vt9_bnv trên máy in nhan-van-thu." in admin.flash()
        assert admin.page.locator("#shown-once").count() == 0
        admin.page.reload()
        assert admin.page.locator("#secret").count() == 0

        admin.page.fill("#edit input[name=full_name]", "Đỗ Thị Chín (Văn thư)")
        admin.submit("#edit form")
        assert "Đã lưu thông tin của vt9_bnv." in admin.flash()
        assert "Đỗ Thị Chín (Văn thư)" in admin.text("h1")
        both_sizes(shot, admin, "user-page")
        admin.go("/admin/units/BNV/edit")
        both_sizes(shot, admin, "unit-edit")
        assert not admin.outside() and not admin.csp_violations()
