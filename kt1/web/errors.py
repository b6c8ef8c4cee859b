"""Error pages: a precise Vietnamese sentence and the stable slug, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from kt1.errors import DatabaseUnavailableError, KT1Error

log = logging.getLogger(__name__)


def kt1_error_page(exc: KT1Error) -> Any:
    if isinstance(exc, DatabaseUnavailableError):
        return unavailable_page(exc)
    return render_template("errors/error.html", title=_("Không thực hiện được"),
                           message=exc.message_local, slug=exc.slug), exc.status


def unavailable_page(exc: KT1Error) -> Any:
    """The 503 page while the database cannot be reached.

    It is rendered straight from the template environment, without the context processors
    of ``render_template``: Flask-Login's would load the signed-in user, from the database
    that just failed. The page needs nothing but the language (kept in the cookie session).
    """
    template = current_app.jinja_env.get_template("errors/unavailable.html")
    return template.render(lang=str(get_locale() or "vi"), slug=exc.slug), exc.status


def http_error_page(error: HTTPException) -> Any:
    code = error.code or 500
    titles = {
        400: _("Yêu cầu không hợp lệ"),
        403: _("Không có quyền truy cập"),
        404: _("Không tìm thấy trang"),
        405: _("Thao tác không được phép"),
        413: _("Dữ liệu gửi lên quá lớn"),
        429: _("Quá nhiều yêu cầu"),
        500: _("Lỗi hệ thống"),
    }
    messages = {
        400: _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ; hãy tải lại trang "
               "và thử lại. Chưa có gì được ghi."),
        403: _("Tài khoản của bạn không được xem hoặc làm việc này."),
        404: _("Trang hoặc mục bạn tìm không có, hoặc bạn không được xem."),
        500: _("Đã xảy ra lỗi; chưa có gì được ghi. Hãy thử lại hoặc báo quản trị."),
    }
    if code >= 500:
        log.error("internal error %s", code)
    return render_template("errors/error.html", title=titles.get(code, str(code)),
                           message=messages.get(code, error.description or ""),
                           slug=None), code
