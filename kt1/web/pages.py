"""The home page: what each role does today, and the user's own open sessions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, session
from flask_login import current_user

from kt1.database import service_context
from kt1.services.signin import open_sessions, session_digest
from kt1.web import SESSION_TOKEN, session_limits

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> Any:
    token = session.get(SESSION_TOKEN)
    return render_template(
        "home.html", user=current_user,
        sessions=open_sessions(service_context(), current_user, session_limits()),
        this_session=session_digest(token) if token else None)
