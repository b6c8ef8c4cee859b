"""The nginx site of deploy/nginx: ``nginx -t`` with a certificate made by deploy/make-cert.sh,
headers consistent with the app's own, and the whole chain run for real on loopback ports:
HTTPS (nginx) -> gunicorn (deploy/gunicorn.conf.py, two workers) -> the app."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kt1.config import normalise_database_url
from kt1.models.signin import SignInAttempt
from tests.conftest import PASSWORD, SUBJECT_KEY
from tests.deploy.conftest import (
    DEPLOY,
    NginxSetup,
    free_port,
    need_tool,
    nginx_command,
    render_nginx,
    venv_bin,
)

SITE = DEPLOY / "nginx" / "kt1.conf"
ADD_HEADER = re.compile(r'^\s*add_header\s+(\S+)\s+"([^"]*)"\s+always;', re.MULTILINE)
#: A second loopback address: a client that is not the server itself.
OTHER = "127.0.0.2"


def test_the_site_passes_nginx_t(tmp_path: Path, certificate: Path) -> None:
    nginx = need_tool("nginx", "nginx")
    setup = render_nginx(tmp_path, certificate, free_port())
    done = subprocess.run(nginx_command(nginx, setup, "-t"), capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_nginx_t_does_fail_without_the_certificate(tmp_path: Path, certificate: Path) -> None:
    nginx = need_tool("nginx", "nginx")
    setup = render_nginx(tmp_path, tmp_path / "no-such-folder", free_port())
    done = subprocess.run(nginx_command(nginx, setup, "-t"), capture_output=True, text=True,
                          check=False)
    assert done.returncode != 0 and "no-such-folder" in done.stderr


def test_nginx_adds_the_app_s_own_headers_and_hsts_only(app: Flask) -> None:
    """On its own error page nginx sends exactly the app's headers (so no answer goes out
    without them); elsewhere it adds only HSTS and passes the app's headers through."""
    site = SITE.read_text()
    app_headers = app.test_client().get("/login", base_url="https://localhost").headers
    error_page = site[site.index("location = /kt1-unavailable.html"):]
    nginx_headers = dict(ADD_HEADER.findall(error_page))
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "X-Frame-Options", "Cross-Origin-Opener-Policy",
                 "Cross-Origin-Resource-Policy", "Permissions-Policy", "Cache-Control"):
        assert nginx_headers.get(name) == app_headers[name], name
    elsewhere = dict(ADD_HEADER.findall(site[:site.index("location = /kt1-unavailable.html")]))
    assert set(elsewhere) == {"Strict-Transport-Security"}
    assert "Strict-Transport-Security" in nginx_headers
    assert "proxy_intercept_errors" not in site  # the app's own error answers go through


@dataclass
class Served:
    setup: NginxSetup
    ca: Path
    prometheus_dir: Path
    gunicorn: subprocess.Popen[bytes]
    database_url: str
    healthz_ok: int = 0  # /healthz answered 200 by the app

    def request(self, method: str, path: str, *, body: str | None = None,
                headers: dict[str, str] | None = None, source: str = "127.0.0.1",
                tls: bool = True) -> tuple[int, dict[str, str], str]:
        conn: http.client.HTTPConnection
        if tls:
            context = ssl.create_default_context(cafile=str(self.ca))  # verified for real
            conn = http.client.HTTPSConnection("127.0.0.1", self.setup.https_port,
                                               context=context, timeout=20,
                                               source_address=(source, 0))
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.setup.http_port, timeout=20,
                                              source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            head = {k.lower(): v for k, v in response.getheaders()}
            head["set-cookie"] = "; ".join(v for k, v in response.getheaders()
                                           if k.lower() == "set-cookie")
            if path == "/healthz" and response.status == 200:
                self.healthz_ok += 1
            return response.status, head, response.read().decode()
        finally:
            conn.close()

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.setup.https_port}"


def _wait_until_up(served: Served, deadline: float) -> None:
    while True:
        try:
            if served.request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        if served.gunicorn.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("gunicorn behind nginx did not answer /healthz in time")
        time.sleep(0.3)


@pytest.fixture
def served(database_url: str, tmp_path: Path, certificate: Path) -> Iterator[Served]:
    """gunicorn with deploy/gunicorn.conf.py (two workers, multiprocess metrics) and nginx
    with the site, both on loopback ports, stopped at the end."""
    nginx = need_tool("nginx", "nginx")
    app_port = free_port()
    setup = render_nginx(tmp_path, certificate, app_port)
    prometheus_dir = tmp_path / "prometheus"
    env = {**os.environ,
           "KT1_DATABASE_URL": database_url, "KT1_SECRET_KEY": "deploy-test-secret-0123456789",
           "KT1_SUBJECT_KEY": SUBJECT_KEY, "KT1_INSTANCE_PATH": str(tmp_path / "instance"),
           "KT1_METRICS": "1", "KT1_BEHIND_PROXY": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(prometheus_dir),
           "GUNICORN_BIND": f"127.0.0.1:{app_port}", "WEB_CONCURRENCY": "2"}
    # systemd's readiness protocol (Type=notify in kt1-web.service): gunicorn says READY=1
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(60)
    env["NOTIFY_SOCKET"] = str(tmp_path / "notify.sock")
    log = (tmp_path / "gunicorn.log").open("wb")
    gunicorn = subprocess.Popen(
        [str(venv_bin("gunicorn")), "--config", str(DEPLOY / "gunicorn.conf.py"),
         "kt1:create_app()"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    nginx_proc = subprocess.Popen(nginx_command(nginx, setup, "-g", "daemon off;"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    served = Served(setup=setup, ca=certificate / "ca.crt", prometheus_dir=prometheus_dir,
                    gunicorn=gunicorn, database_url=database_url)
    try:
        ready = notify.recv(4096).decode()
        assert "READY=1" in ready.splitlines(), ready
        _wait_until_up(served, time.monotonic() + 60)
        yield served
    finally:
        for proc in (nginx_proc, gunicorn):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (nginx_proc, gunicorn):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
        notify.close()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])
def test_https_through_nginx_to_gunicorn(served: Served) -> None:
    # plain HTTP only sends to HTTPS
    status, head, _ = served.request("GET", "/healthz", tls=False)
    assert status == 301 and head["location"].startswith("https://")

    # /healthz over TLS (the certificate checked against the CA that make-cert.sh made)
    status, head, body = served.request("GET", "/healthz")
    assert status == 200 and '"migrations":"head"' in body.replace(" ", "")
    assert head["strict-transport-security"].startswith("max-age=")
    assert head["x-frame-options"] == "DENY" and "," not in head["x-frame-options"]
    assert "nginx/" not in head.get("server", "")  # server_tokens off

    # signing in through the proxy: the app sees https (the Secure cookie, the form's Origin
    # checked against https://host:port) and the client's own address, not nginx's
    status, head, page = served.request("GET", "/login", source=OTHER)
    assert status == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    cookie = head["set-cookie"].split(";")[0]
    assert "Secure" in head["set-cookie"]
    form = f"csrf_token={token.group(1)}&username=vt_bnv&password={PASSWORD}"
    status, head, _ = served.request(
        "POST", "/login", body=form, source=OTHER,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                 "Origin": served.origin, "X-Forwarded-For": "127.0.0.99"})
    assert status == 302 and "/login" not in head["location"], (status, head)
    engine = create_engine(normalise_database_url(served.database_url))
    try:
        with Session(engine) as session:
            attempt = session.execute(select(SignInAttempt).order_by(
                SignInAttempt.id.desc())).scalars().first()
            assert attempt is not None and attempt.username == "vt_bnv"
            assert attempt.remote_addr == OTHER  # the client's, not nginx's, nor what it wrote
    finally:
        engine.dispose()

    # /metrics: the server itself may read it, another address may not
    assert served.request("GET", "/metrics", source=OTHER)[0] == 403
    for _ in range(12):
        assert served.request("GET", "/healthz")[0] == 200
    status, head, text = served.request("GET", "/metrics")
    assert status == 200 and head["content-type"].startswith("text/plain")
    samples = _samples(text)
    key = ("kt1_request_duration_seconds_count",
           (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    # every /healthz so far, whichever of the two workers answered it
    assert samples[key] == served.healthz_ok
    assert any(path.suffix == ".db" for path in served.prometheus_dir.iterdir())
    assert "vt_bnv" not in text and OTHER not in text

    # gunicorn stopped: nginx's own page, with the app's headers
    served.gunicorn.send_signal(signal.SIGTERM)
    served.gunicorn.wait(timeout=30)
    status, head, page = served.request("GET", "/healthz")
    assert status == 502 and "app_unavailable" in page
    assert head["content-security-policy"].startswith("default-src 'self'")
    assert head["cache-control"] == "no-store" and head["x-frame-options"] == "DENY"
