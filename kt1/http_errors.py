"""Which face answers an error: the scanner API (JSON) for its paths, the pages otherwise.

The API and the web each render their own errors and know nothing of the other; this module,
wired by the application factory, only dispatches on the request path.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, make_response, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from kt1 import RETRY_AFTER_SECONDS
from kt1.api import KT1Api, is_api_path, kt1_error_json
from kt1.errors import DatabaseUnavailableError, KT1Error
from kt1.services.tx import failure_summary
from kt1.web.errors import http_error_page, kt1_error_page

log = logging.getLogger(__name__)


def init_app(app: Flask, api: KT1Api) -> None:
    def on_http(error: HTTPException) -> Any:
        if is_api_path(request.path):
            return api.handle_http_exception(error)
        response = make_response(http_error_page(error))
        for name, value in error.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    def on_kt1(exc: KT1Error) -> Any:
        if is_api_path(request.path):
            return kt1_error_json(exc)
        response = make_response(kt1_error_page(exc))
        if isinstance(exc, DatabaseUnavailableError):
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def on_database_unavailable(exc: Exception) -> Any:
        """The database cannot be reached outside a service's transaction (the device-token
        and operator look-ups, the signed-in user's loader, a read-only page): the same 503
        ``database_unavailable`` as inside one, never a 500."""
        log.warning("database unavailable during %s %s: %s", request.method,
                    request.endpoint or "-", failure_summary(exc).splitlines()[0])
        return on_kt1(DatabaseUnavailableError())

    # replaces the handler flask-smorest registered for every HTTPException
    app.register_error_handler(HTTPException, on_http)
    app.register_error_handler(KT1Error, on_kt1)
    for unavailable in (OperationalError, InterfaceError, PoolTimeoutError):
        app.register_error_handler(unavailable, on_database_unavailable)
