"""Web fixtures: a browser-like client over https (cookies are Secure) that can sign in."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient

from tests.conftest import PASSWORD

BASE = "https://localhost"  # the session cookie is Secure: browse over https
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """A test client that keeps cookies and reads the CSRF token from the last page."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    @staticmethod
    def _fresh_globals() -> None:
        """The test holds an app context, which Flask reuses for every request: clear its
        ``g`` so that nothing cached by one request (the CSRF token, the signed-in user)
        leaks into the next, as it never would in a real server."""
        vars(g).clear()

    def get(self, path: str, **kw: Any) -> Any:
        self._fresh_globals()
        response = self.client.get(path, base_url=BASE, **kw)
        match = _TOKEN.search(response.get_data(as_text=True))
        if match:
            self.token = match.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, csrf: bool = True,
             **kw: Any) -> Any:
        body = dict(data or {})
        if csrf:
            if self.token is None:
                self.get("/login")
            body["csrf_token"] = self.token
        self._fresh_globals()
        return self.client.post(path, data=body, base_url=BASE, **kw)

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        self.get("/login")
        return self.post("/login", {"username": username, "password": password})


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def signed_in(app: Flask, network: Any) -> Any:
    """``signed_in("vt_bnv")`` gives a fresh Browser signed in as that user."""

    def make(username: str) -> Browser:
        b = Browser(app.test_client())
        response = b.sign_in(username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return b

    return make
