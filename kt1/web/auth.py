"""Sign in, sign out, sign out everywhere, and the language switch."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from kt1.database import service_context
from kt1.errors import SignInFailedError, SignInThrottledError
from kt1.services.signin import end_session, sign_in, sign_out_everywhere, start_session
from kt1.web import SESSION_TOKEN, local_path
from kt1.web.forms import EmptyForm, SignInForm

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, no host) may follow the sign-in."""
    return local_path(target, url_for("pages.home"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("pages.home"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = sign_in(service_context(), form.username.data or "",
                           form.password.data or "", request.remote_addr or "")
        except SignInThrottledError as exc:
            flash(_("Đăng nhập sai quá nhiều lần; tài khoản tạm khóa %(minutes)s phút.",
                    minutes=exc.details.get("minutes", 15)), "error")
            status = 429
        except SignInFailedError:
            flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
            status = 401
        else:
            token = start_session(service_context(), user, request.user_agent.string,
                                  request.remote_addr or "")
            session.clear()
            login_user(user)
            session[SESSION_TOKEN] = token
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        end_session(service_context(), session.get(SESSION_TOKEN))
        logout_user()
        session.clear()
        flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/logout/everywhere")
def logout_everywhere() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        sign_out_everywhere(service_context(), current_user._get_current_object())
        logout_user()
        session.clear()
        flash(_("Đã đăng xuất khỏi mọi thiết bị."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/language")
def set_language() -> Any:
    form = EmptyForm()
    lang = request.form.get("lang")
    if form.validate_on_submit() and lang in ("vi", "en"):
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
