"""A database outage (issue 9): while the database cannot be reached every request is a 503
``database_unavailable`` (JSON under the API, a Vietnamese page elsewhere) and ``/healthz``
says so; once it is back, no request fails on a connection the outage left in the pool."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask

from kt1 import create_app
from kt1.extensions import db
from kt1.services.context import Ctx
from kt1.services.devices import add_device
from tests.conftest import PASSWORD, base_config
from tests.web.conftest import BASE, Browser

BODY_KEYS = {"code", "status", "message", "errors", "error"}


@pytest.fixture
def unreachable_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database that is not there: a SQLite file in a missing folder, or a loopback port
    that is bound but never listens (PostgreSQL stopped: connections are refused at once)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'missing-folder' / 'kt1.sqlite3'}"
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        yield f"postgresql://postgres@127.0.0.1:{port}/kt1?connect_timeout=2"


@pytest.fixture
def down(unreachable_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app started on a database that cannot be reached."""
    app = create_app({**base_config(tmp_path), "DATABASE_URL": unreachable_url,
                      "AUTO_MIGRATE": False})
    yield app
    with app.app_context():
        db.engine.dispose()


def _unavailable_json(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.json
    assert set(body) == BODY_KEYS and body["error"] == "database_unavailable", body
    assert int(response.headers["Retry-After"]) > 0


def _unavailable_page(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'lang="vi"' in page
    assert "Không kết nối được cơ sở dữ liệu" in page and "database_unavailable" in page
    assert "Traceback" not in page and "OperationalError" not in page
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/device", None),
    ("GET", "/api/v1/envelopes/KT000000080VN", None),
    ("GET", "/api/v1/bags/BC-HN-1", None),
    ("POST", "/api/v1/handoffs", {"scan_id": "0123456789", "operator": "gd_hn"}),
    ("POST", "/api/v1/handoffs/batch", {"items": [{"scan_id": "0123456789"}]}),
])
def test_the_api_answers_503_database_unavailable_while_the_database_is_down(
        down: Flask, method: str, path: str, body: Any) -> None:
    client = down.test_client()
    r = client.open(path, method=method, json=body,
                    headers={"Authorization": "Bearer kt1d_any-token"})
    _unavailable_json(r)


def test_a_signed_in_page_is_a_503_page_while_the_database_is_down(
        down: Flask, signed_in: Any) -> None:
    """The user loader (Flask-Login) reads the session's user before any service runs."""
    working = signed_in("bm_bnv")
    cookie = working.client.get_cookie("kt1_session", domain="localhost")
    assert cookie is not None
    client = down.test_client()
    client.set_cookie("kt1_session", cookie.value, domain="localhost")
    _unavailable_page(client.get("/officer/", base_url=BASE))
    _unavailable_page(client.get("/clerk/register", base_url=BASE))


def test_signing_in_is_a_503_page_while_the_database_is_down(down: Flask) -> None:
    browser = Browser(down.test_client())
    with down.app_context():
        assert browser.get("/login").status_code == 200  # the form needs no database
        _unavailable_page(browser.post("/login", {"username": "vt_bnv",
                                                  "password": PASSWORD}))


def test_healthz_reports_the_database(app: Flask, down: Flask) -> None:
    up = app.test_client().get("/healthz")
    assert up.status_code == 200
    assert up.json["status"] == "ok" and up.json["database"] == "ok"  # more: test_health.py
    r = down.test_client().get("/healthz")
    assert r.status_code == 503
    assert r.json == {"status": "unavailable", "database": "unavailable"}


def _terminate_other_backends(url: str) -> int:
    """What a PostgreSQL restart does to the app's pooled connections."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    return sum(1 for (killed,) in rows if killed)


@pytest.mark.parametrize("backend", ["postgres"])
def test_no_request_fails_on_a_connection_left_stale_by_a_database_restart(
        ctx: Ctx, network: Any, database_url: str, tmp_path: Path) -> None:
    _device, token = add_device(ctx, None, "dev-stale-pool", "BC-HN")
    ctx.session.close()
    server = create_app({**base_config(tmp_path), "DATABASE_URL": database_url,
                         "AUTO_MIGRATE": False})
    try:
        api = server.test_client()
        browser = Browser(server.test_client())
        assert browser.sign_in("bm_bnv").status_code == 302
        headers = {"Authorization": f"Bearer {token}"}

        def requests() -> list[int]:
            return [api.get("/api/v1/device", headers=headers).status_code,
                    browser.get("/officer/").status_code,
                    api.get("/healthz").status_code,
                    api.get("/api/v1/envelopes/KT999999995VN", headers=headers).status_code]

        with server.app_context():  # a busy server holds several pooled connections
            held = [db.engine.connect() for _ in range(4)]
            for conn in held:
                conn.close()
        assert requests() == [200, 200, 200, 404]
        assert _terminate_other_backends(database_url) >= 4
        for _ in range(3):
            assert requests() == [200, 200, 200, 404]
    finally:
        with server.app_context():
            db.engine.dispose()
