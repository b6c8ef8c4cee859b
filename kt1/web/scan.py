"""The handheld scanning page (``/scan/``): keyboard-wedge and camera scanning, offline queue.

The page is static: everything it does goes through the scanner API (``/api/v1``) with the
device token the clerk enters once, so it needs no session, no CSRF token and no database
access here. It is served with a strict Content-Security-Policy (no inline script or
style, nothing from outside the server), and a service worker (``/scan/sw.js``) keeps the
page and its assets so that a reload without network still opens it; scans taken offline
wait in IndexedDB (see ``kt1/static/js/scan.js``).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue

bp = Blueprint("scan", __name__, url_prefix="/scan")

#: What the page loads, relative to the static folder (the service worker pre-caches them).
ASSETS = (
    "css/scan.css",
    "js/scan-input.js",
    "js/scan-queue.js",
    "js/scan.js",
    "vendor/zxing-library/zxing-library.min.js",
)

CSP = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


@cache
def _version(static_folder: str) -> str:
    """A short digest of the page's assets: new assets, new URLs, new service-worker cache."""
    digest = hashlib.sha256()
    for name in ASSETS:
        digest.update(name.encode())
        digest.update((Path(static_folder) / name).read_bytes())
    for template in ("index.html", "sw.js"):
        digest.update((Path(current_app.template_folder or "") / "scan" /
                       template).read_bytes())
    return digest.hexdigest()[:12]


def asset_version() -> str:
    return _version(str(current_app.static_folder))


def asset_urls() -> dict[str, str]:
    version = asset_version()
    return {name: url_for("static", filename=name, v=version) for name in ASSETS}


@bp.get("/")
def page() -> str:
    """The scanning page (Vietnamese, large touch targets)."""
    cfg = current_app.config
    return render_template(
        "scan/index.html", assets=asset_urls(), version=asset_version(),
        service_letters=cfg["SERVICE_LETTERS"], country_code=cfg["COUNTRY_CODE"],
        api_prefix="/api/v1")


@bp.get("")
def bare() -> ResponseReturnValue:
    """``/scan`` without the slash: the page lives at ``/scan/``, the service worker's scope."""
    return redirect(url_for("scan.page"), code=308)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker that keeps the page usable through a reload while offline."""
    body = render_template("scan/sw.js", version=asset_version(),
                           urls=[url_for("scan.page"), *asset_urls().values()])
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
    response.headers.setdefault("Cache-Control", "no-cache")
    return response


def init_app(app: Flask) -> None:
    """Register the ``/scan/`` page."""
    app.register_blueprint(bp)
