"""Pages under malformed input (issue 9): a NUL or another control character in a form
field, a query parameter or a URL segment is a 4xx page naming the field, never a 500
(PostgreSQL refuses NUL in text)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.web.conftest import BASE, Browser


def _refused_page(response: Any, field: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    card = response.get_data(as_text=True).split('<section class="card">')[1]
    card = card.split("</section>")[0]
    assert "invalid_field" in card and field in card
    assert "\x00" not in card  # the message names the field, never quotes the value


@pytest.mark.parametrize("username", ["vt_bnv\x00", "vt_bnv\x00' OR 1=1", "\x1b[2J"])
def test_a_control_character_in_the_sign_in_form_is_a_422_page(
        browser: Browser, network: Any, username: str) -> None:
    browser.get("/login")
    _refused_page(browser.post("/login", {"username": username, "password": PASSWORD}),
                  "username")
    # and the form still works afterwards
    assert browser.sign_in("vt_bnv").status_code == 302


@pytest.mark.parametrize(("path", "field"), [
    ("/officer/envelopes?q=KT%00", "q"),
    ("/officer/envelopes?page=1%00", "page"),
    ("/officer/envelopes/KT000000080VN%00", "number"),
    ("/officer/envelopes/%00", "number"),
])
def test_a_nul_in_a_query_or_a_path_is_a_422_page(signed_in: Any, path: str,
                                                   field: str) -> None:
    _refused_page(signed_in("bm_bnv").get(path), field)


def test_a_nul_in_a_form_of_a_signed_in_page_is_a_422_page(signed_in: Any) -> None:
    admin = signed_in("admin")
    admin.get("/admin/units")
    r = admin.post("/admin/units", {"code": "X\x00", "name": "Đơn vị\x00",
                                    "kind": "agency", "province_code": "01",
                                    "province_name": "Hà Nội"})
    assert r.status_code == 422, r.get_data(as_text=True)[:500]
    assert "invalid_field" in r.get_data(as_text=True)


def test_a_signed_out_visitor_is_still_sent_to_sign_in_first(browser: Browser,
                                                             network: Any) -> None:
    r = browser.get("/officer/envelopes?q=KT%00")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_a_form_posted_as_json_is_guarded_too(browser: Browser, network: Any) -> None:
    """Flask-WTF also reads a JSON body: the same guard applies to it."""
    browser.get("/login")
    headers = {"X-CSRFToken": browser.token or ""}
    r = browser.client.post("/login", json={"username": "vt_bnv\x00", "password": PASSWORD},
                            headers=headers, base_url=BASE)
    _refused_page(r, "username")
    deep = b'{"username": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    r = browser.client.post("/login", data=deep, content_type="application/json",
                            headers=headers, base_url=BASE)
    assert r.status_code == 400, r.get_data(as_text=True)[:300]
    assert r.mimetype == "text/html"
