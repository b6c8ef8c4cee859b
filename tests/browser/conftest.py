"""Browser fixtures: the app served by a real WSGI server in a thread, and Debian's chromium
driven by Playwright (never a browser that Playwright downloads).

Tests skip with the reason (or fail under ``KT1_STRICT_SKIPS=1``) when chromium or the
``playwright`` package is missing. Screenshots go to ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from kt1 import PROJECT_ROOT
from tests.conftest import need

CHROMIUM = os.environ.get("KT1_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-features=Translate,MediaRouter",
]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Browser tests run on SQLite only: the API tests prove both engines."""
    return str(request.param)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    need(Path(CHROMIUM).exists(), f"chromium is not installed at {CHROMIUM} "
                                  "(Debian: apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright package is not installed (pip install -e '.[test]')")
    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def browser(playwright_driver: Any) -> Iterator[Any]:
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


#: Paths the live server was asked for, in order (to tell the network from the cache).
SERVED: list[str] = []


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test's app on 127.0.0.1 with a random port, served by werkzeug in a thread."""

    def recording(environ: dict[str, Any], start_response: Any) -> Any:
        SERVED.append(environ.get("PATH_INFO", ""))
        return app(environ, start_response)

    SERVED.clear()
    server = make_server("127.0.0.1", 0, recording, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kt1-live", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@dataclass
class Tab:
    """A browser page on the live server, with every request and console message it made."""

    page: Any
    context: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def open(self, path: str = "/scan/") -> None:
        self.page.goto(self.origin + path)
        self.page.wait_for_selector("body[data-ready='1']")

    def outside_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(self.origin + "/")]

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def tab(browser: Any, live_server: str, request: pytest.FixtureRequest) -> Iterator[Tab]:
    context = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                  viewport={"width": 900, "height": 1100},
                                  service_workers="allow")
    page = context.new_page()
    page.set_default_timeout(15_000)
    t = Tab(page=page, context=context, origin=live_server)
    page.on("request", lambda r: t.requests.append(r.url))
    context.on("request", lambda r: t.requests.append(r.url))
    page.on("console", lambda m: t.console.append(f"{m.type}: {m.text}"))
    yield t
    try:
        t.shot(request.node.name.replace("[", "-").replace("]", ""))
    finally:
        context.close()


def set_up_device(tab: Tab, token: str, operator: str) -> None:
    """The clerk's first minute: the device token once, then the operator of the shift."""
    tab.open()
    page = tab.page
    page.fill("#token-input", token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#operator-form:not([hidden])")
    page.select_option("#operator-select", operator)
    page.click("#operator-form button[type=submit]")
    page.wait_for_selector("#work:not([hidden])")



@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()
