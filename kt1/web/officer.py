"""The security officer's pages (cán bộ bảo mật).

A dashboard of what their unit may see (in transit, due today, overdue, incidents, broken
chains, by unit and by class), an envelope's timeline with its verification findings and
print history, the three registers on screen and exported as PDF and XLSX with their cover,
and the signed checkpoints of the custody log. Views parse, call one service and render;
every row comes through :mod:`kt1.services.access`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from kt1.database import service_context
from kt1.errors import KT1Error
from kt1.models import Unit, User
from kt1.models.enums import Classification, IncidentKind, Role, ServiceClass
from kt1.services import checkpoints, incidents, oversight
from kt1.services import worklists as wl
from kt1.services.context import Ctx
from kt1.services.registers import RegisterKind, build_register
from kt1.services.subjects import local_date
from kt1.web import registers as paper
from kt1.web import requires, words
from kt1.web.forms import EmptyForm
from kt1.web.words import enum_label
from kt1.web.workforms import IncidentFromFindingForm, RegisterFilterForm

bp = Blueprint("officer", __name__, url_prefix="/officer")
OFFICER = Role.SECURITY_OFFICER
KINDS = "any(outgoing,incoming,handover)"
PER_PAGE = 25



def _me() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return,unused-ignore]


def _page_no() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def page_of(items: list[Any], page: int, per_page: int = PER_PAGE) -> wl.Page[Any]:
    """One page of a list already in memory."""
    pages = max(1, -(-len(items) // per_page))
    page = min(max(1, page), pages)
    start = (page - 1) * per_page
    return wl.Page(items=items[start:start + per_page], page=page, per_page=per_page,
                   total=len(items))


def _english() -> bool:
    return str(get_locale() or "vi").startswith("en")


# --------------------------------------------------------------------------- dashboard


@bp.get("/")
@requires(OFFICER)
def dashboard() -> Any:
    """In transit, due today, overdue, incidents and broken chains, by unit and by class."""
    ctx, me = service_context(), _me()
    board = oversight.dashboard(ctx, me)
    tables = [
        (_("Theo đơn vị đang giữ bưu gửi"), _("Đơn vị"),
         [(f"{code} — {board.unit_names.get(code, code)}", tally, {"unit": code})
          for code, tally in sorted(board.by_unit.items())]),
        (_("Theo độ mật"), _("Độ mật"),
         [(enum_label(c) + (f" ({c.mark})" if c.mark else ""), board.by_class[c],
           {"classification": c.value})
          for c in Classification if c in board.by_class]),
        (_("Theo dịch vụ"), _("Dịch vụ"),
         [(enum_label(s), board.by_service[s], {"service": s.value})
          for s in ServiceClass if s in board.by_service]),
    ]
    return render_template(
        "officer/dashboard.html", board=board, metrics=oversight.METRICS, tables=tables,
        attention=page_of(board.attention, _page_no()), english=_english())


# --------------------------------------------------------------------------- envelopes


def _enum_arg(name: str, kind: Any) -> Any:
    try:
        return kind(request.args.get(name) or "")
    except ValueError:
        return None


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat((request.args.get(name) or "").strip()[:10])
    except ValueError:
        return None


def envelope_filter() -> oversight.EnvelopeFilter:
    """The list's filters from the query string; a value that does not parse is ignored."""
    status = request.args.get("status") or None
    unit = (request.args.get("unit") or "").strip()[:32] or None
    return oversight.EnvelopeFilter(
        q=(request.args.get("q") or "").strip()[:64],
        status=status if status in oversight.STATUS_GROUPS else None,
        classification=_enum_arg("classification", Classification),
        service=_enum_arg("service", ServiceClass),
        unit=unit, day_from=_date_arg("day_from"), day_to=_date_arg("day_to"))


def filter_args(filt: oversight.EnvelopeFilter) -> dict[str, str]:
    """The filter as query parameters (for the pager and the links)."""
    values = {"q": filt.q, "status": filt.status,
              "classification": filt.classification and filt.classification.value,
              "service": filt.service and filt.service.value, "unit": filt.unit,
              "day_from": filt.day_from and filt.day_from.isoformat(),
              "day_to": filt.day_to and filt.day_to.isoformat()}
    return {k: str(v) for k, v in values.items() if v}


@bp.get("/envelopes")
@requires(OFFICER)
def envelopes() -> Any:
    """Every envelope the unit may see, newest first; search by item or document number,
    filter by status group, class, service, holding unit and registration dates."""
    ctx, me = service_context(), _me()
    filt = envelope_filter()
    if filt.q and filt == oversight.EnvelopeFilter(q=filt.q):
        try:
            found = wl.find_envelope(ctx, me, filt.q)
        except KT1Error:
            found = None
        if found is not None:
            return redirect(url_for(".envelope", number=found.number))
    page = oversight.filtered_envelopes(ctx, me, filt, _page_no())
    units = [(code, name) for code, name in ctx.session.execute(
        select(Unit.code, Unit.name).order_by(Unit.code))]
    return render_template(
        "officer/envelopes.html", page=page, q=filt.q, filt=filt, args=filter_args(filt),
        groups=oversight.STATUS_GROUPS, classifications=list(Classification),
        services=list(ServiceClass), units=units)


@bp.get("/envelopes/<number>")
@requires(OFFICER)
def envelope(number: str) -> Any:
    """The envelope's custody timeline with its verification findings and print history."""
    ctx, me = service_context(), _me()
    file = oversight.envelope_file(ctx, me, number)
    by_seq: dict[int | None, list[Any]] = {}
    for finding in file.report.findings:
        by_seq.setdefault(finding.seq, []).append(finding)
    forms = {f.code: IncidentFromFindingForm(finding=f.code, report=f.message_vi)
             for f in file.report.findings if f.code in INCIDENT_FROM}
    return render_template("officer/envelope.html", file=file, e=file.envelope,
                           by_seq=by_seq, english=_english(), incident_forms=forms)


#: Findings from which the officer may open an incident, and the incident's kind.
INCIDENT_FROM = {"seal_anomaly": IncidentKind.SEAL_ANOMALY,
                 "seal_anomaly_unreported": IncidentKind.SEAL_ANOMALY,
                 "seal_number_changed": IncidentKind.SEAL_ANOMALY,
                 "manifest_mismatch": IncidentKind.DISCREPANCY}


@bp.app_template_filter("note_words")
def note_words(note: str | None) -> list[tuple[str, str]] | None:
    """A handoff note's ``key=value`` parts as labelled words in the page's language."""
    return words.note_words(note, _)


@bp.post("/envelopes/<number>/incidents")
@requires(OFFICER)
def open_incident(number: str) -> Any:
    """Open an incident on the envelope from one of its findings (a seal anomaly): the same
    service as everywhere, so only a party to its current or next handover may."""
    ctx, me = service_context(), _me()
    form = IncidentFromFindingForm()
    back = url_for(".envelope", number=number)
    if not form.validate_on_submit() or form.finding.data not in INCIDENT_FROM:
        flash(_("Hãy ghi nội dung biên bản sự cố."), "error")
        return redirect(back, code=303)
    try:
        made = incidents.report_incident(ctx, me, INCIDENT_FROM[form.finding.data],
                                         form.report.data or "", number=number)
    except KT1Error as exc:
        if exc.status == 404:
            raise
        flash(exc.message_local if not _english() else exc.message, "error")
        return redirect(back, code=303)
    flash(_("Đã mở sự cố số %(n)s; đơn vị liên quan sẽ thấy trong hộp thư sự cố.", n=made.id),
          "success")
    return redirect(back, code=303)


# --------------------------------------------------------------------------- registers


def _filters(ctx: Ctx) -> tuple[RegisterFilterForm, int, date | None, date | None]:
    filt = RegisterFilterForm(request.args)
    filt.validate()
    year = filt.year.data if not filt.year.errors and filt.year.data else local_date(
        ctx.now()).year
    day_from = filt.day_from.data if not filt.day_from.errors else None
    day_to = filt.day_to.data if not filt.day_to.errors else None
    return filt, year, day_from, day_to


def _args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in ("year", "day_from", "day_to") and v}


@bp.get("/registers/<" + KINDS + ":kind>")
@requires(OFFICER)
def register(kind: str) -> Any:
    """A register on screen with its cover facts, and the buttons to export it."""
    ctx, me = service_context(), _me()
    filt, year, day_from, day_to = _filters(ctx)
    reg = build_register(ctx, me, kind, year, day_from=day_from, day_to=day_to)
    page = page_of(list(range(len(reg))), _page_no())
    start = (page.page - 1) * page.per_page
    lines = paper.screen_rows(reg, enum_label, start, start + page.per_page)
    return render_template(
        "officer/register.html", reg=reg, kind=RegisterKind(kind), filt=filt, page=page,
        lines=lines, columns=paper.COLUMNS[RegisterKind(kind)],
        cover=paper.cover_lines(reg.cover), title=paper.TITLES[RegisterKind(kind)],
        kinds=list(RegisterKind), short=paper.SHORT, args=_args())


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Content-Length"] = str(len(body))
    return response


@bp.get("/registers/<" + KINDS + ":kind>/export.pdf")
@requires(OFFICER)
def register_pdf(kind: str) -> Any:
    """The register as A4 pages (cover first), to print, sign and file."""
    ctx, me = service_context(), _me()
    _filt, year, day_from, day_to = _filters(ctx)
    reg = build_register(ctx, me, kind, year, day_from=day_from, day_to=day_to)
    body = paper.register_pdf(reg, printed_by=me.full_name, printed_at=ctx.now())
    return _download(body, "application/pdf", paper.file_name(reg, "pdf"))


@bp.get("/registers/<" + KINDS + ":kind>/export.xlsx")
@requires(OFFICER)
def register_xlsx(kind: str) -> Any:
    """The register as an XLSX workbook: a cover sheet and one row per entry."""
    ctx, me = service_context(), _me()
    _filt, year, day_from, day_to = _filters(ctx)
    reg = build_register(ctx, me, kind, year, day_from=day_from, day_to=day_to)
    body = paper.register_xlsx(reg, printed_by=me.full_name, printed_at=ctx.now())
    return _download(
        body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        paper.file_name(reg, "xlsx"))


# --------------------------------------------------------------------------- checkpoints


@bp.get("/checkpoints")
@requires(OFFICER)
def checkpoint_list() -> Any:
    """The signed checkpoints of the custody log, newest first, each to download."""
    ctx = service_context()
    items = list(reversed(checkpoints.list_checkpoints(ctx)))
    return render_template("officer/checkpoints.html", page=page_of(items, _page_no()),
                           form=EmptyForm(), has_key=bool(ctx.settings.checkpoint_key))


@bp.post("/checkpoints")
@requires(OFFICER)
def checkpoint_create() -> Any:
    """Sign a checkpoint of the log now (refused if the log no longer extends the last)."""
    ctx, me = service_context(), _me()
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for(".checkpoint_list"), code=303)
    try:
        made = checkpoints.create_checkpoint(ctx, me)
    except KT1Error as exc:
        flash(exc.message_local if not _english() else exc.message, "error")
        return redirect(url_for(".checkpoint_list"), code=303)
    flash(_("Đã ký điểm kiểm tra số %(n)s (%(size)s bản ghi giao nhận). Hãy tải tệp về, in "
            "và giao người giữ thứ hai.", n=made.id, size=made.tree_size), "success")
    return redirect(url_for(".checkpoint_list"), code=303)


@bp.get("/checkpoints/<int:number>.txt")
@requires(OFFICER)
def checkpoint_file(number: int) -> Any:
    """The exported, signed checkpoint file (to print or hand to a second custodian)."""
    ctx = service_context()
    body = checkpoints.export_checkpoint(ctx, number).encode("utf-8")
    return _download(body, "text/plain; charset=utf-8", f"kt1-checkpoint-{number}.txt")
