"""Server-side sessions (issue 9, defect 3): a session cookie is only as good as the server's
record of it. Signing out ends that record, so the same cookie replayed afterwards, from any
browser, is a signed-out visitor; signing out everywhere ends every record of the user."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from kt1 import create_app
from kt1.errors import ConfigError
from kt1.extensions import db
from kt1.models import Envelope, WebSession
from kt1.services.context import Ctx, Settings
from kt1.services.signin import session_digest
from kt1.web import SESSION_TOKEN
from tests.conftest import base_config
from tests.journey import PROVENANCE
from tests.web.conftest import BASE, Browser

COOKIE = "kt1_session"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CURL = "curl/8.5.0"


def cookie_of(b: Browser) -> str:
    cookie = b.client.get_cookie(COOKIE, domain="localhost")
    assert cookie is not None
    return cookie.value


def replay(app: Flask, method: str, path: str, cookie: str, user_agent: str | None = None,
           data: dict[str, Any] | None = None) -> Any:
    """The exact request an attacker sends: a bare client with only the stolen cookie."""
    Browser._fresh_globals()  # nothing cached by an earlier request (see Browser)
    client = app.test_client(use_cookies=False)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    if user_agent:
        headers["User-Agent"] = user_agent
    return client.open(path, method=method, base_url=BASE, headers=headers, data=data)


def signed_out(response: Any) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def sign_out(b: Browser, path: str = "/logout") -> None:
    """Press the sign-out button of a page (the form carries the page's CSRF token)."""
    b.get("/")
    response = b.post(path)
    assert signed_out(response), response.status_code


def register_form(token: str) -> dict[str, str]:
    return {"csrf_token": token, "recipient_unit": "UBND-HCM", "classification": "secret",
            "service": "standard", "urgency": "normal", "document_number": "15/KH-BNV",
            "copies": "2", "recipient_name": "", "recipient_username": "",
            "document_date": "2026-11-20", "recall_by": "", "subject": "",
            "subject_approved_by": "", "agreed_at": "", "drafter_username": "", **PROVENANCE}


def envelopes(ctx: Ctx) -> int:
    ctx.session.rollback()
    return int(ctx.session.execute(select(func.count()).select_from(Envelope)).scalar_one())


def test_the_cookie_works_before_sign_out(app: Flask, signed_in: Any) -> None:
    """The replay helper itself: a live cookie is accepted from any browser."""
    b = signed_in("vt_bnv")
    cookie = cookie_of(b)
    assert replay(app, "GET", "/clerk/", cookie).status_code == 200
    assert replay(app, "GET", "/clerk/", cookie, FIREFOX).status_code == 200


@pytest.mark.parametrize("user_agent", [None, FIREFOX, CURL], ids=["same-agent", "firefox", "curl"])
def test_a_cookie_replayed_after_sign_out_is_a_signed_out_visitor(
        app: Flask, signed_in: Any, user_agent: str | None) -> None:
    b = signed_in("vt_bnv")
    assert b.get("/clerk/").status_code == 200
    cookie = cookie_of(b)
    sign_out(b)
    assert signed_out(replay(app, "GET", "/clerk/", cookie, user_agent))
    assert signed_out(replay(app, "GET", "/", cookie, user_agent))


def test_a_write_replayed_after_sign_out_is_refused_even_with_its_csrf_token(
        app: Flask, signed_in: Any, ctx: Ctx) -> None:
    b = signed_in("vt_bnv")
    b.get("/clerk/envelopes/new")
    cookie, token = cookie_of(b), b.token
    assert token
    before = envelopes(ctx)
    sign_out(b)
    for user_agent in (None, FIREFOX):
        response = replay(app, "POST", "/clerk/envelopes/new", cookie, user_agent,
                          register_form(token))
        assert signed_out(response)
    assert envelopes(ctx) == before


def test_sign_out_everywhere_replayed_after_sign_out_changes_nothing(
        app: Flask, signed_in: Any, ctx: Ctx, network: Any) -> None:
    first, second = signed_in("vt_bnv"), signed_in("vt_bnv")
    first.get("/")
    cookie, token = cookie_of(first), first.token
    sign_out(first)
    response = replay(app, "POST", "/logout/everywhere", cookie, FIREFOX,
                      {"csrf_token": token or ""})
    assert signed_out(response)
    assert second.get("/").status_code == 200  # the other session was not ended by the replay


def test_sign_out_ends_only_this_session(app: Flask, signed_in: Any) -> None:
    first, second = signed_in("vt_bnv"), signed_in("vt_bnv")
    first_cookie, second_cookie = cookie_of(first), cookie_of(second)
    sign_out(first)
    assert signed_out(replay(app, "GET", "/clerk/", first_cookie))
    assert second.get("/clerk/").status_code == 200
    assert replay(app, "GET", "/clerk/", second_cookie, FIREFOX).status_code == 200


def test_sign_out_everywhere_ends_every_session_of_the_user_and_no_one_elses(
        app: Flask, signed_in: Any) -> None:
    first, second, other = signed_in("vt_bnv"), signed_in("vt_bnv"), signed_in("vt_hn")
    first.get("/")
    cookies = [cookie_of(first), cookie_of(second)]
    sign_out(first, "/logout/everywhere")
    for cookie in cookies:
        assert signed_out(replay(app, "GET", "/clerk/", cookie, FIREFOX))
    assert signed_out(second.get("/"))
    assert other.get("/clerk/").status_code == 200
    assert signed_in("vt_bnv").get("/clerk/").status_code == 200  # a new sign-in works


def test_a_second_sign_in_is_a_new_session(app: Flask, signed_in: Any) -> None:
    """Signing in again from the same browser does not revive a cookie signed out before."""
    b = signed_in("vt_bnv")
    old = cookie_of(b)
    sign_out(b)
    assert b.sign_in("vt_bnv").status_code == 302
    assert b.get("/clerk/").status_code == 200
    assert cookie_of(b) != old
    assert signed_out(replay(app, "GET", "/clerk/", old))


# ------------------------------------------------------------- what the server keeps


def token_of(app: Flask, cookie: str) -> str:
    """The session token inside a (signed, not encrypted) session cookie."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return str(serializer.loads(cookie)[SESSION_TOKEN])


def session_row(ctx: Ctx, app: Flask, cookie: str) -> WebSession:
    ctx.session.rollback()
    digest = session_digest(token_of(app, cookie))
    return ctx.session.execute(
        select(WebSession).where(WebSession.token_hash == digest)).scalar_one()


def test_the_server_keeps_only_a_hash_of_the_session_token(
        app: Flask, signed_in: Any, ctx: Ctx, network: Any) -> None:
    b = signed_in("vt_bnv")
    token = token_of(app, cookie_of(b))
    assert len(token) >= 40
    row = session_row(ctx, app, cookie_of(b))
    assert row.user_id == network["vt_bnv"].id and row.ended_at is None
    assert token not in repr(ctx.session.execute(select(WebSession.__table__)).all())


def test_sign_out_ends_the_row_of_this_session_only(
        app: Flask, signed_in: Any, ctx: Ctx) -> None:
    first, second = signed_in("vt_bnv"), signed_in("vt_bnv")
    first_cookie, second_cookie = cookie_of(first), cookie_of(second)
    sign_out(first)
    assert session_row(ctx, app, first_cookie).ended_at is not None
    assert session_row(ctx, app, second_cookie).ended_at is None


def _age(ctx: Ctx, row_id: int, **columns: timedelta) -> None:
    ctx.session.rollback()
    now = datetime.now(UTC)
    ctx.session.execute(update(WebSession).where(WebSession.id == row_id)
                        .values({name: now - ago for name, ago in columns.items()}))
    ctx.session.commit()


def test_a_session_idle_longer_than_the_limit_is_ended(
        app: Flask, signed_in: Any, ctx: Ctx) -> None:
    b = signed_in("vt_bnv")
    cookie = cookie_of(b)
    row = session_row(ctx, app, cookie)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    _age(ctx, row.id, last_seen_at=idle - timedelta(minutes=5))
    assert b.get("/clerk/").status_code == 200  # still within the limit: seen again now
    assert datetime.now(UTC) - session_row(ctx, app, cookie).last_seen_at < timedelta(minutes=1)
    _age(ctx, row.id, last_seen_at=idle + timedelta(minutes=1))
    assert signed_out(b.get("/clerk/"))
    assert session_row(ctx, app, cookie).ended_at is not None
    assert signed_out(replay(app, "GET", "/clerk/", cookie))  # and it stays ended


def test_a_busy_session_still_ends_at_its_absolute_limit(
        app: Flask, signed_in: Any, ctx: Ctx) -> None:
    b = signed_in("vt_bnv")
    cookie = cookie_of(b)
    row = session_row(ctx, app, cookie)
    limit = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    _age(ctx, row.id, created_at=limit - timedelta(minutes=1))
    assert b.get("/clerk/").status_code == 200
    _age(ctx, row.id, created_at=limit + timedelta(minutes=1), last_seen_at=timedelta(0))
    assert signed_out(replay(app, "GET", "/clerk/", cookie))


def test_the_session_limits_are_configurable(database_url: str, tmp_path: Path) -> None:
    app = create_app({**base_config(tmp_path), "DATABASE_URL": database_url,
                      "SESSION_IDLE_MINUTES": 1, "SESSION_MAX_HOURS": 1})
    with app.app_context():
        b = Browser(app.test_client())
        assert b.sign_in("vt_bnv").status_code == 302
        ctx = Ctx(db.session, Settings.from_mapping(app.config))
        row = session_row(ctx, app, cookie_of(b))
        _age(ctx, row.id, last_seen_at=timedelta(minutes=2))
        assert signed_out(b.get("/clerk/"))
        db.session.remove()
        db.engine.dispose()
    for bad in ({"SESSION_IDLE_MINUTES": 0}, {"SESSION_MAX_HOURS": -1}):
        with pytest.raises(ConfigError, match="at least 1"):
            create_app({**base_config(tmp_path), "DATABASE_URL": database_url, **bad})


def test_a_password_reset_ends_the_session_rows_of_the_user(
        app: Flask, signed_in: Any, ctx: Ctx, network: Any) -> None:
    from kt1.services.directory import reset_password

    b = signed_in("vt_bnv")
    cookie = cookie_of(b)
    reset_password(ctx, network["admin"], "vt_bnv")
    assert signed_out(b.get("/clerk/"))
    assert session_row(ctx, app, cookie).ended_at is not None


# ------------------------------------------------------------- the user's own view


def browser_as(app: Flask, username: str, user_agent: str) -> Browser:
    b = Browser(app.test_client())
    b.client.environ_base["HTTP_USER_AGENT"] = user_agent
    assert b.sign_in(username).status_code == 302
    return b


def test_the_home_page_lists_the_users_own_open_sessions(app: Flask, network: Any) -> None:
    laptop = browser_as(app, "vt_bnv", FIREFOX)
    phone = browser_as(app, "vt_bnv", "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36")
    browser_as(app, "vt_hn", "Someone-Else/1.0")
    page = laptop.get("/").get_data(as_text=True)
    listed = page[page.index('id="sessions"'):]
    assert "Firefox/128.0" in listed and "Android 14" in listed
    assert "Someone-Else" not in listed
    assert listed.count("Phiên này") == 1
    sign_out(phone)
    listed = laptop.get("/").get_data(as_text=True).split('id="sessions"')[1]
    assert "Firefox/128.0" in listed and "Android 14" not in listed
