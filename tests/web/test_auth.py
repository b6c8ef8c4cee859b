"""Sign-in, sessions, CSRF, security headers and deny-by-default."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from kt1.models import SignInAttempt
from kt1.services.context import Ctx
from kt1.services.signin import MAX_FAILURES
from tests.web.conftest import Browser


def test_a_demo_user_signs_in_and_sees_the_home_page_in_vietnamese(
        browser: Browser, network: Any) -> None:
    response = browser.sign_in("vt_bnv")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = browser.get("/").get_data(as_text=True)
    assert "Xin chào" in page and 'lang="vi"' in page


def test_a_wrong_password_is_refused_with_one_message_for_any_name(
        browser: Browser, network: Any) -> None:
    wrong = browser.sign_in("vt_bnv", "not-the-password")
    unknown = browser.sign_in("nobody", "whatever-pass")
    assert wrong.status_code == unknown.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in unknown.get_data(as_text=True)
    assert browser.get("/").status_code == 302


def test_sign_in_is_throttled_after_five_failures_even_with_the_right_password(
        browser: Browser, network: Any, ctx: Ctx) -> None:
    for _ in range(5):
        assert browser.sign_in("gd_hn", "wrong-password").status_code == 401
    locked = browser.sign_in("gd_hn")
    assert locked.status_code == 429
    assert "tạm khóa" in locked.get_data(as_text=True)
    attempts = ctx.session.execute(
        select(SignInAttempt).where(SignInAttempt.username == "gd_hn")).scalars().all()
    assert len(attempts) == 5  # the locked attempt is not even checked
    assert all("password" not in repr(a) for a in attempts)


def test_a_form_without_its_csrf_token_is_refused(browser: Browser, network: Any) -> None:
    browser.get("/login")
    response = browser.post("/login", {"username": "vt_bnv", "password": "x" * 12}, csrf=False)
    assert response.status_code == 400
    assert browser.get("/").status_code == 302  # not signed in


def test_sign_out_ends_the_session(signed_in: Any) -> None:
    b = signed_in("vt_bnv")
    assert b.get("/").status_code == 200
    assert b.post("/logout").status_code == 302
    assert b.get("/").status_code == 302


def test_sign_out_everywhere_ends_every_other_session_too(signed_in: Any) -> None:
    first, second = signed_in("vt_bnv"), signed_in("vt_bnv")
    first.get("/")
    assert first.post("/logout/everywhere").status_code == 302
    assert second.get("/").status_code == 302
    assert signed_in("vt_bnv").get("/").status_code == 200  # a new sign-in works


def test_after_sign_in_only_a_local_path_is_followed(browser: Browser, network: Any) -> None:
    browser.get("/login")
    response = browser.post("/login?next=https://evil.example/", {
        "username": "vt_bnv", "password": "correct-horse-9"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/"])
def test_after_sign_in_a_host_disguised_as_a_path_is_not_followed(
        browser: Browser, network: Any, target: str) -> None:
    """Browsers read ``/\\host`` like ``//host``: both leave the server (kt1.web.local_path)."""
    browser.get("/login")
    response = browser.post(f"/login?next={target}", {
        "username": "vt_bnv", "password": "correct-horse-9"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("path", ["/", "/nope"])
def test_every_page_sends_a_signed_out_visitor_to_sign_in(browser: Browser, path: str) -> None:
    response = browser.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_pages_carry_strict_security_headers_and_secure_cookies(
        browser: Browser, network: Any) -> None:
    response = browser.sign_in("vt_bnv")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = browser.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp and "unsafe" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_the_language_can_be_switched_to_english(signed_in: Any) -> None:
    b = signed_in("vt_bnv")
    b.get("/")
    b.post("/language", {"lang": "en", "next": "/"})
    page = b.get("/").get_data(as_text=True)
    assert 'lang="en"' in page


def test_a_form_posted_from_another_origin_is_refused(browser: Browser, network: Any) -> None:
    browser.get("/login")
    response = browser.post("/login", {"username": "vt_bnv", "password": "correct-horse-9"},
                            headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


# ------------------------------------------------ throttle under concurrency (issue 9, defect 8)

RACERS = 20


def _race_wrong_passwords(app: Flask, username: str, racers: int) -> list[int]:
    """``racers`` browsers, each on its own thread with its own app context (so its own
    database session and connection), load the sign-in page, wait for each other, then post
    a wrong password at once."""
    barrier = threading.Barrier(racers)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def race() -> None:
        try:
            with app.app_context():
                b = Browser(app.test_client())
                b.get("/login")
                barrier.wait(timeout=60)
                response = b.post("/login", {"username": username,
                                             "password": "wrong-password"})
            with lock:
                statuses.append(response.status_code)
        except BaseException as exc:  # reported to the test below
            barrier.abort()
            errors.append(exc)

    threads = [threading.Thread(target=race) for _ in range(racers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return statuses


def test_simultaneous_wrong_passwords_never_get_more_than_five_checks(
        app: Flask, browser: Browser, network: Any, ctx: Ctx) -> None:
    ctx.session.rollback()  # the test's own session holds no lock (SQLite: BEGIN IMMEDIATE)
    statuses = _race_wrong_passwords(app, "gd_hn", RACERS)
    assert sorted(statuses) == [401] * MAX_FAILURES + [429] * (RACERS - MAX_FAILURES)
    ctx.session.rollback()
    attempts = ctx.session.execute(
        select(SignInAttempt).where(SignInAttempt.username == "gd_hn")).scalars().all()
    assert len(attempts) == MAX_FAILURES and not any(a.is_success for a in attempts)
    assert browser.sign_in("gd_hn").status_code == 429  # the right password too, afterwards
    assert browser.get("/").status_code == 302
