"""The general guard on every request's path, query and form values (pages and API alike).

A NUL or another control character in a URL segment, a query parameter or a form field (or
in a JSON body posted to a page) is refused with ``invalid_field`` naming the parameter
(422: a JSON body under the API, an error page elsewhere) before any view or query sees it.
PostgreSQL refuses NUL in text, so such a value would otherwise end as a 500. The API's JSON
bodies are checked by its schemas (:mod:`kt1.api.inputs`), field by field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, request
from werkzeug.exceptions import BadRequest

from kt1.api import is_api_path
from kt1.services.text import refuse_forbidden_characters

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def init_app(app: Flask) -> None:
    """Install the guard; it runs after the web's sign-in check (a signed-out visitor is
    still sent to sign in) and before the API's token check and every view."""
    app.before_request(refuse_malformed_parameters)


def refuse_malformed_parameters() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            refuse_forbidden_characters(value, name)
    _check_pairs(request.args.items(multi=True))
    if request.mimetype in FORM_TYPES:
        _check_pairs(request.form.items(multi=True))
    elif request.is_json and not is_api_path(request.path):
        # a page's form may be posted as JSON (Flask-WTF reads it); the API's schemas check
        # their bodies field by field (a batch refuses only the bad item)
        try:
            body = request.get_json(silent=True)
        except RecursionError:
            raise BadRequest("The request body is nested too deeply.") from None
        _check_json(body)


def _check_json(body: Any) -> None:
    pending: list[tuple[str, Any]] = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            refuse_forbidden_characters(value, path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                refuse_forbidden_characters(key, "parameter name")
                pending.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            pending.extend((f"{path}.{index}", item) for index, item in enumerate(value))


def _check_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    for key, value in pairs:
        refuse_forbidden_characters(key, "parameter name")
        refuse_forbidden_characters(value, key)
