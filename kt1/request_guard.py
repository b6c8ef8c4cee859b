"""The general guard on every request's path, query and form values (pages and API alike).

A NUL or another control character in a URL segment, a query parameter or a form field is
refused with ``invalid_field`` naming the parameter (422: a JSON body under the API, an
error page elsewhere) before any view or query sees it. PostgreSQL refuses NUL in text, so
such a value would otherwise end as a 500. JSON bodies are checked by the API's schemas
(:mod:`kt1.api.inputs`), field by field.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, request

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


def _check_pairs(pairs: Iterable[tuple[str, str]]) -> None:
    for key, value in pairs:
        refuse_forbidden_characters(key, "parameter name")
        refuse_forbidden_characters(value, key)
