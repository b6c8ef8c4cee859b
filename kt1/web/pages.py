"""The home page: what each role does today."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> Any:
    return render_template("home.html", user=current_user)
