"""The statistics page (thống kê bí mật nhà nước) and the periodic report's downloads.

For a unit and a period (default: the user's unit, this quarter): the counts by
classification and by service class, incidents by kind, a bar chart by classification and a
line chart by month (inline SVG drawn on the server, :mod:`kt1.web.charts`), and the report
to the superior body as PDF and XLSX (:mod:`kt1.web.statistics_paper`). Who may see which
unit is the service's to say (kt1/services/statistics.py): a unit the user may not see
answers exactly as a code that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from kt1.database import service_context
from kt1.errors import KT1Error
from kt1.models import User
from kt1.models.enums import Classification, IncidentKind, Role, ServiceClass
from kt1.services import statistics as svc
from kt1.services.subjects import local_date
from kt1.web import requires
from kt1.web import statistics_paper as paper
from kt1.web.charts import bar_chart, line_chart
from kt1.web.words import N_, enum_label
from kt1.web.workforms import WorkForm, _Translations

bp = Blueprint("statistics", __name__, url_prefix="/reports/statistics")
#: A head of unit may hold any role: the service decides who keeps statistics.
ANY_ROLE = tuple(Role)
#: The words of the kinds of movement on the page (msgids; the PDF keeps Vietnamese).
MOVEMENT_LABELS = {
    "held": N_("Đang quản lý cuối kỳ"),
    "sent": N_("Gửi đi"),
    "received": N_("Nhận đến"),
    "copied": N_("Bản sao đã làm"),
    "declassified": N_("Giải mật"),
    "destroyed": N_("Tiêu hủy"),
    "incidents": N_("Sự cố"),
}


class StatisticsForm(WorkForm):
    """The unit and the period (GET, no CSRF)."""

    class Meta:
        csrf = False

        def get_translations(self, form: Any) -> _Translations:
            return _Translations()

    unit = StringField(_l("Đơn vị (mã)"), validators=[Optional(), Length(max=32)])
    date_from = DateField(_l("Từ ngày"), validators=[Optional()])
    date_to = DateField(_l("Đến ngày"), validators=[Optional()])


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return,unused-ignore]


def _read(today: date) -> tuple[StatisticsForm, str, date, date]:
    """The form and the unit and period it asks for (defaults: own unit, this quarter;
    ``span=year``: this year)."""
    form = StatisticsForm(request.args)
    form.validate()
    start, end = svc.default_period(today, request.args.get("span", "quarter"))
    if form.date_from.data and not form.date_from.errors:
        start = form.date_from.data
    if form.date_to.data and not form.date_to.errors:
        end = form.date_to.data
    code = (form.unit.data or "").strip() or _me().unit.code
    form.unit.data, form.date_from.data, form.date_to.data = code, start, end
    return form, code, start, end


def _compute() -> tuple[StatisticsForm, svc.Statistics | None, KT1Error | None]:
    me = _me()
    if not svc.may_keep_statistics(me):
        abort(403)
    ctx = service_context()
    form, code, start, end = _read(local_date(ctx.now()))
    try:
        return form, svc.compute(ctx, me, code, start, end), None
    except KT1Error as exc:
        ctx.session.rollback()
        return form, None, exc


@bp.get("/")
@requires(*ANY_ROLE)
def page() -> Any:
    """The form, the tables and the charts; an error keeps the form with its message."""
    form, result, error = _compute()
    if result is None:
        assert error is not None  # noqa: S101
        return render_template("reports/statistics.html", form=form, result=None,
                               error=error), error.status
    return render_template("reports/statistics.html", form=form, result=result, error=None,
                           **_view(result))


def _view(s: svc.Statistics) -> dict[str, Any]:
    movements = [(m, _(MOVEMENT_LABELS[m])) for m in svc.MOVEMENTS]
    class_rows = [(enum_label(c) + (f" ({c.mark})" if c.mark else ""), s.by_class[c])
                  for c in Classification]
    service_rows = [(enum_label(sv), s.by_service[sv]) for sv in ServiceClass]
    incidents = [(enum_label(k), s.incidents[k]) for k in IncidentKind]
    bars = bar_chart(_("Số liệu theo độ mật"),
                     [(label, [counts[m] for m in svc.MOVEMENTS]) for label, counts in class_rows],
                     [label for _m, label in movements], chart_id="chart-by-class")
    month_keys = (*svc.DATED_MOVEMENTS, "incidents")
    lines = line_chart(_("Diễn biến theo tháng"), [f"{m.month[5:]}/{m.month[:4]}"
                                                    for m in s.months],
                       [(_(MOVEMENT_LABELS[k]), [m.counts[k] for m in s.months])
                        for k in month_keys], chart_id="chart-by-month")
    args = {"unit": s.unit.code, "date_from": s.start.isoformat(),
            "date_to": s.end.isoformat()}
    return {"movements": movements, "class_rows": class_rows, "service_rows": service_rows,
            "incidents": incidents, "bars": bars, "lines": lines, "args": args,
            "month_keys": [(k, _(MOVEMENT_LABELS[k])) for k in month_keys]}


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Length"] = str(len(body))
    return response


def _export(kind: str) -> Any:
    form, result, error = _compute()
    if result is None:
        assert error is not None  # noqa: S101
        return render_template("reports/statistics.html", form=form, result=None,
                               error=error), error.status
    me, now = _me(), service_context().now()
    if kind == "pdf":
        return _download(paper.statistics_pdf(result, printed_by=me.full_name, printed_at=now),
                         "application/pdf", paper.file_name(result, "pdf"))
    return _download(
        paper.statistics_xlsx(result, printed_by=me.full_name, printed_at=now),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        paper.file_name(result, "xlsx"))


@bp.get("/report.pdf")
@requires(*ANY_ROLE)
def report_pdf() -> Any:
    """The report to the superior body as A4 pages (cover, tables, signatures)."""
    return _export("pdf")


@bp.get("/report.xlsx")
@requires(*ANY_ROLE)
def report_xlsx() -> Any:
    """The same report as a workbook."""
    return _export("xlsx")
