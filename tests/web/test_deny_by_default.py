"""Deny by default: every URL rule of the app, except an explicit list of public ones, sends
a signed-out visitor to the sign-in page. A new page is protected without anyone having to
remember it; a new public page has to be added to the list below on purpose."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from tests.web.conftest import BASE, Browser

#: Pages anyone may load, by endpoint.
PUBLIC_ENDPOINTS = {
    "static",  # CSS, scripts, fonts
    "healthz",  # the load balancer's probe
    "metrics",  # Prometheus, only with KT1_METRICS=1 (a 404 otherwise); nginx keeps it local
    "auth.login",
    "auth.set_language",  # the language switch on the sign-in page
    "api_docs",  # the scanner API's documentation page
    "api-docs.openapi_json",  # and its OpenAPI document, for scanner vendors
}
#: Blueprints whose pages are public: the /scan/ page is static and talks to the API with a
#: device token.
PUBLIC_BLUEPRINTS = {"scan"}
#: The scanner API: everything under this prefix is left to the API (no session, a device
#: token instead; without one it answers 401). Views marked ``public`` elsewhere must
#: authenticate themselves the same way.
API_PREFIX = "/api/v1/"

SAMPLE = {"int": "1", "default": "KT000000001VN", "path": "x"}


def sample_path(rule: Any) -> str:
    """The rule's path with each variable filled with a plausible value."""

    def fill(match: re.Match[str]) -> str:
        converter = match.group(1) or "default"
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip(" ')")
        return SAMPLE.get(converter.split("(")[0], SAMPLE["default"])

    return re.sub(r"<(?:([^:>]+):)?[^>]+>", fill, rule.rule)


def test_every_rule_outside_the_public_list_sends_a_signed_out_visitor_to_sign_in(
        app: Flask, browser: Browser) -> None:
    browser.get("/login")  # a CSRF token, so that a POST is judged on sign-in, not on CSRF
    checked, failures = 0, []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        if rule.endpoint in PUBLIC_ENDPOINTS or blueprint in PUBLIC_BLUEPRINTS:
            continue
        path = sample_path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            view = app.view_functions[rule.endpoint]
            if rule.rule.startswith(API_PREFIX) or getattr(view, "public", False):
                response = browser.client.open(path, method=method,
                                               base_url="https://localhost")
                if response.status_code not in (401, 405):
                    failures.append(f"{method} {rule.rule}: {response.status_code} "
                                    "without a device token")
                continue
            response = browser.get(path) if method == "GET" else browser.post(path, {})
            checked += 1
            location = response.headers.get("Location", "")
            if response.status_code != 302 or not location.startswith("/login"):
                failures.append(f"{method} {rule.rule} ({rule.endpoint}): "
                                f"{response.status_code} {location}")
    assert not failures, "\n".join(failures)
    assert checked > 40  # the walk did reach the pages


def test_the_public_list_is_the_one_the_app_enforces() -> None:
    from kt1 import api, web

    assert set(web.PUBLIC_ENDPOINTS) <= PUBLIC_ENDPOINTS
    assert set(web.PUBLIC_BLUEPRINTS) == PUBLIC_BLUEPRINTS
    assert api.PREFIX + "/" == API_PREFIX


def test_no_page_lives_under_the_api_prefix(app: Flask) -> None:
    """The web skips every path under the API prefix: only the API's own blueprints (which
    check device tokens) may serve there, and they serve nothing elsewhere."""
    from kt1 import web

    token_blueprints = web.api_blueprints(app)
    assert {"handoffs", "envelopes", "bags", "incidents", "device"} <= token_blueprints
    misplaced = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.rpartition(".")[0]
        under_api = rule.rule.startswith(API_PREFIX)
        if under_api and blueprint not in token_blueprints and rule.endpoint != "api_docs":
            misplaced.append(f"{rule.rule} ({rule.endpoint})")
        if blueprint in token_blueprints and not under_api:
            misplaced.append(f"{rule.rule} ({rule.endpoint})")
    assert not misplaced, misplaced


def test_a_page_answers_a_wrong_method_with_405_and_the_methods_it_allows(
        signed_in: Any) -> None:
    clerk = signed_in("vt_bnv")
    r = clerk.client.delete("/clerk/envelopes/new", base_url=BASE)
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "text/html" in r.headers["Content-Type"]
