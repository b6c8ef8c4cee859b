"""Scanner API at ``/api/v1`` (flask-smorest): device-token auth, one JSON error shape.

Every error body is ``{code, status, message, errors, error}``; ``error`` is a stable slug
(``check_digit_invalid``, ``not_current_holder``, ``scan_id_conflict``, ...).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from kt1 import RETRY_AFTER_SECONDS
from kt1.api.schemas import ErrorOut
from kt1.errors import DatabaseUnavailableError, KT1Error

HTTP_SLUGS = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}
PREFIX = "/api/v1"


def is_api_path(path: str) -> bool:
    """Whether ``path`` is under the API prefix: device tokens, JSON errors, no redirects."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_body(code: int, slug: str, message: str, errors: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    from http import HTTPStatus

    try:
        name = HTTPStatus(code).phrase
    except ValueError:
        name = "Error"
    return {"code": code, "status": name, "message": message, "errors": errors or {},
            "error": slug}


class KT1Api(Api):
    """flask-smorest's Api with the project's error body (adds the ``error`` slug)."""

    #: The documented default error is the body every error really has (with ``error``).
    ERROR_SCHEMA = ErrorOut

    def handle_http_exception(self, error: HTTPException) -> Any:
        """An HTTP error under the API prefix as the JSON error body (kt1.http_errors
        decides which face answers: the API for its paths, the pages for the others)."""
        payload, code, headers = super().handle_http_exception(error)
        code = int(code or 500)
        # the exception's own headers (Allow on a 405), which flask-smorest drops
        headers = {**{k: v for k, v in error.get_headers() if k.lower() != "content-type"},
                   **(headers or {})}
        data = getattr(error, "data", None) or {}
        slug = data.get("slug") or HTTP_SLUGS.get(code, "error")
        message = payload.get("message") or (error.description if code < 500 else
                                             "Internal error; nothing was written.")
        return error_body(code, slug, str(message), payload.get("errors")), code, headers


def kt1_error_response(exc: KT1Error) -> tuple[Response, int]:
    """A domain error as JSON: the English message, the Vietnamese one in ``errors``."""
    body = error_body(exc.status, exc.slug, exc.message,
                      {"message_vi": exc.message_local, **_safe_details(exc.details)})
    return jsonify(body), exc.status


def _safe_details(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if isinstance(v, str | int | float | bool)}


def kt1_error_json(exc: KT1Error) -> Response:
    """A domain error as the API answers it (a 503 says when to try again)."""
    response = make_response(kt1_error_response(exc))
    if isinstance(exc, DatabaseUnavailableError):
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def init_app(app: Flask) -> KT1Api:
    """Register the API's blueprints; returns the Api (its error handler is wired by
    :mod:`kt1.http_errors`, which also gives the pages theirs)."""
    from kt1.api import (
        bags,
        circulation,
        copies,
        device,
        envelopes,
        handoffs,
        incidents,
        voids,
    )

    app.config.setdefault("API_TITLE", "KT1 Track scanner API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Scanner API of KT1 Track. Authenticate every request with "
                                "`Authorization: Bearer TOKEN` (a device token from "
                                "`kt1 device add`). Errors: `{code, status, message, errors, "
                                "error}` where `error` is a stable slug."},
        "components": {"securitySchemes": {"device": {"type": "http", "scheme": "bearer"}}},
        "security": [{"device": []}],
    })
    api = KT1Api(app)
    for blp in (device.blp, envelopes.blp, handoffs.blp, bags.blp, incidents.blp,
                circulation.blp, copies.blp, voids.blp):
        api.register_blueprint(blp, url_prefix=PREFIX)

    @app.get(f"{PREFIX}/docs")
    def api_docs() -> str:
        return render_template("api/docs.html", spec_url=f"{PREFIX}/openapi.json")

    @app.after_request
    def _api_no_store(response: Response) -> Response:
        if is_api_path(request.path):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return api
