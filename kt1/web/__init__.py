"""Pages served to people (as opposed to the scanner API under ``kt1.api``).

Sessions, CSRF, security headers, languages and deny-by-default: every page needs a
signed-in user unless its endpoint is on :data:`PUBLIC_ENDPOINTS` (or its blueprint on
:data:`PUBLIC_BLUEPRINTS`). Everything under the scanner API's prefix
(:data:`kt1.api.PREFIX`) is left to the API: it authenticates with device tokens, is
CSRF-exempt, and answers every error (an unknown path or method too) in JSON, never with a
redirect to the sign-in page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from kt1.api import is_api_path
from kt1.database import service_context
from kt1.models.enums import Role
from kt1.services.signin import SessionLimits, load_session_user
from kt1.services.tx import is_database_unavailable, rollback_quietly

LANGUAGES = ("vi", "en")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"

#: Pages anyone may load. Everything else sends a signed-out visitor to the sign-in page.
PUBLIC_ENDPOINTS = frozenset({
    "static", "healthz", "auth.login", "auth.set_language", "api_docs",
    "metrics",  # off unless KT1_METRICS=1; nginx lets only the server read it (kt1/health.py)
})
#: The scanner page is static and talks to the API with a device token.
PUBLIC_BLUEPRINTS = frozenset({"scan"})
#: The key of the session cookie that holds the session's token (its hash is in web_session).
SESSION_TOKEN = "kt1_sid"  # noqa: S105  (the name of a cookie field, not a secret)

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
babel = Babel()


def select_locale() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "vi"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"
    # One CSRFProtect per app: its exemptions name this app's blueprints (flask-smorest makes
    # a new ``api-docs`` blueprint for every app), so a module-level one would keep every
    # app ever created alive through its set of exempt blueprints (docs/testing.md).
    csrf = CSRFProtect(app)
    babel.init_app(app, locale_selector=select_locale)

    @login_manager.user_loader
    def _load(session_id: str) -> Any:
        """A cookie signs in only while its session is open on the server (a copy of the
        cookie kept after signing out is a signed-out visitor, in any browser)."""
        return load_session_user(service_context(), session_id, session.get(SESSION_TOKEN),
                                 session_limits())

    from kt1.web import (
        admin,
        auth,
        circulation,
        clerk,
        counter,
        incidents,
        inspection,
        internal,
        lookup,
        officer,
        pages,
        protection,
        statistics,
    )

    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(clerk.bp)
    app.register_blueprint(internal.bp)
    app.register_blueprint(circulation.bp)
    app.register_blueprint(counter.bp)
    app.register_blueprint(officer.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(statistics.bp)
    app.register_blueprint(inspection.bp)
    from kt1.web import copies

    app.register_blueprint(copies.bp)  # copies: sao, chụp (issue 12)
    app.register_blueprint(protection.bp)
    app.register_blueprint(lookup.bp)  # one search box for any number (issue 13)
    for name in api_blueprints(app):
        csrf.exempt(app.blueprints[name])

    app.before_request(_deny_by_default)
    app.after_request(_security_headers)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"current_lang": select_locale(), "languages": LANGUAGES,
                "incident_inbox": _incident_inbox()}


def _incident_inbox() -> int | None:
    """Unacknowledged incidents for the header: only for those with an inbox (heads of unit,
    security officers; kt1/services/incidents.py), one count query, once per request."""
    if not current_user.is_authenticated:
        return None
    from kt1.services import incidents

    user = current_user._get_current_object()
    if not incidents.receives_incidents(user):
        return None
    if "incident_inbox" not in g:
        ctx = service_context()
        try:
            g.incident_inbox = incidents.unacknowledged_count(ctx, user)
        except Exception as exc:  # the page of a database outage still renders
            if not is_database_unavailable(exc):
                raise
            rollback_quietly(ctx.session)
            return None
    return int(g.incident_inbox)


def api_blueprints(app: Flask) -> set[str]:
    """The blueprints serving paths under the API prefix (the web never names them)."""
    return {rule.endpoint.rpartition(".")[0] for rule in app.url_map.iter_rules()
            if is_api_path(rule.rule) and rule.endpoint.rpartition(".")[0] in app.blueprints}


def session_limits() -> SessionLimits:
    """The server-side lifetime of sessions (``KT1_SESSION_IDLE_MINUTES``, ``_MAX_HOURS``)."""
    cfg = current_app.config
    return SessionLimits(idle=timedelta(minutes=int(cfg["SESSION_IDLE_MINUTES"])),
                         absolute=timedelta(hours=int(cfg["SESSION_MAX_HOURS"])))


def _deny_by_default() -> Any:
    if is_api_path(request.path):
        return None  # device tokens, checked by the API; unknown paths answered in JSON
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        origin = request.headers.get("Origin")
        if origin and origin not in ("null", request.host_url.rstrip("/")):
            abort(403)
    endpoint = request.endpoint or ""
    view = current_app.view_functions.get(endpoint)
    if (endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS
            or getattr(view, "public", False)):
        return None
    if not current_user.is_authenticated:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path))
        return redirect(url_for("auth.login"))
    g.user = current_user
    return None


def local_path(target: str | None, fallback: str) -> str:
    """``target`` when it is a path on this server, else ``fallback``: where a form or a
    sign-in may send a person next. No scheme, no host, not ``//host`` and no backslash
    (browsers read ``/\\host`` as ``//host``), so no redirect leaves the server."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


def requires(*roles: Role) -> Callable[[F], F]:
    """Allow a view only to signed-in users of these roles (403 for the others).

    Which *rows* a user sees is decided in one place, :mod:`kt1.services.access`; this
    only decides which pages a role may open.
    """

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("auth.login"))
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapper.roles = roles  # type: ignore[attr-defined]  # read by the route-refusal tests
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: Any) -> Any:
    """Mark a view as reachable without signing in."""
    view.public = True
    return view


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")
    return response
