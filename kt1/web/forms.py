"""Flask-WTF forms with Vietnamese messages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):
    username = StringField(_l("Tên đăng nhập"), validators=[
        DataRequired(_l("Hãy nhập tên đăng nhập.")), Length(max=64)])
    password = PasswordField(_l("Mật khẩu"), validators=[
        DataRequired(_l("Hãy nhập mật khẩu.")), Length(max=200)])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token (sign out, language switch, confirmations)."""
