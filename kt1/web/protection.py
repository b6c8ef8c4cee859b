"""Protection terms on screen (docs/domain.md §8; docs/rules.md, rules P4 to P7).

"Sắp hết thời hạn bảo vệ" lists the documents the unit holds whose term ends within the
horizon (``KT1_PROTECTION_REVIEW_MONTHS``, default 6 months) or has ended, for its registry
clerks and security officers. On a document's page (``templates/clerk/_protection.html``)
the term, its end, the secrecy state and the decisions taken, and, for a registry clerk of
the unit holding it, the forms to extend, declassify or destroy it. The service judges
everything; a refusal is shown with its Vietnamese message and nothing is written.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kt1.database import service_context
from kt1.errors import KT1Error
from kt1.models import Envelope, User
from kt1.models.enums import HELD_STATUSES, Classification, Role
from kt1.services import protection
from kt1.services import worklists as wl
from kt1.services.subjects import local_date
from kt1.web import requires
from kt1.web.workforms import WorkForm

bp = Blueprint("protection", __name__, url_prefix="/protection")
CLERK = Role.REGISTRY_CLERK
REVIEWERS = (Role.REGISTRY_CLERK, Role.SECURITY_OFFICER)
_MAX = _l("Tối đa %(max)d ký tự.")


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


class _DecisionForm(WorkForm):
    decision_number = StringField(_l("Số quyết định"), validators=[
        DataRequired(_l("Hãy nhập số quyết định.")), Length(max=64, message=_MAX)])
    decided_on = DateField(_l("Ngày quyết định"), validators=[Optional()])
    decided_by = StringField(_l("Người có thẩm quyền quyết định"), validators=[
        DataRequired(_l("Hãy nhập người quyết định.")), Length(max=120, message=_MAX)])
    decided_by_title = StringField(_l("Chức vụ"), validators=[Length(max=120, message=_MAX)])


class ExtendForm(_DecisionForm):
    """Gia hạn thời hạn bảo vệ (Law 29/2018 Art. 20)."""

    new_until = DateField(_l("Gia hạn đến ngày"), validators=[
        DataRequired(_l("Hãy nhập ngày hết hạn mới."))])


class DeclassifyForm(_DecisionForm):
    """Giải mật, toàn bộ hoặc một phần (Art. 22)."""

    partial = BooleanField(_l("Giải mật một phần"))
    scope_note = StringField(_l("Phần được giải mật"), validators=[
        Length(max=500, message=_MAX)])


class DestroyForm(_DecisionForm):
    """Tiêu hủy theo quyết định, có hội đồng và biên bản (Art. 23)."""

    # no DataRequired: the service refuses a destruction without them with its own slug
    council_members = TextAreaField(_l("Thành viên hội đồng tiêu hủy (mỗi dòng một người)"),
                                    validators=[Length(max=2000, message=_MAX)])
    record_number = StringField(_l("Số biên bản tiêu hủy"), validators=[
        Length(max=64, message=_MAX)])
    destroyed_on = DateField(_l("Ngày tiêu hủy"), validators=[Optional()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the decision is what a destruction needs first: judged by the service
        self.decision_number.validators = [Length(max=64, message=_MAX)]
        self.decided_by.validators = [Length(max=120, message=_MAX)]


FORMS = {"extend": ExtendForm, "declassify": DeclassifyForm, "destroy": DestroyForm}


@bp.app_template_global("protection_panel")
def protection_panel(envelope: Envelope) -> dict[str, Any]:
    """What the envelope page shows of the document's protection: its term, the rule's
    years, the decisions taken, and the forms when the signed-in person may decide."""
    ctx, me = service_context(), _me()
    rule = (protection.term_rule(ctx.session, envelope.classification, envelope.classified_on)
            if envelope.classified_on else None)
    may_decide = (me.role is CLERK and me.unit_id == envelope.holder_unit_id
                  and envelope.status in HELD_STATUSES
                  and envelope.classification is not Classification.UNCLASSIFIED)
    forms = getattr(g, "protection_forms", {})
    return {
        "classified": envelope.classification is not Classification.UNCLASSIFIED,
        "rule": rule,
        "decisions": protection.decisions(ctx, envelope),
        "may_decide": may_decide,
        "forms": {kind: forms.get(kind) or cls(prefix=kind) for kind, cls in FORMS.items()},
        "today": local_date(ctx.now()),
    }


@bp.get("/due")
@requires(*REVIEWERS)
def due() -> Any:
    """Sắp hết thời hạn bảo vệ: the unit's documents to review, soonest end first."""
    ctx, me = service_context(), _me()
    raw = request.args.get("within", "")
    within = int(raw) if raw.isdigit() and 0 < int(raw) <= 600 else None
    months = within or ctx.settings.protection_review_months
    found = protection.due_for_review(ctx, me, months)
    return render_template("protection/due.html", envelopes=found, months=months,
                           today=local_date(ctx.now()))


@bp.post("/envelopes/<number>/<kind>")
@requires(CLERK)
def decide(number: str, kind: str) -> Any:
    """Record an extension, a declassification or a destruction of ``number``."""
    from kt1.web import clerk

    ctx, me = service_context(), _me()
    env = wl.find_envelope(ctx, me, number)  # another unit's: as a number never issued
    if kind not in FORMS:
        return redirect(url_for("clerk.envelope", number=env.number), code=303)
    form = FORMS[kind](prefix=kind)
    g.protection_forms = {kind: form}
    if not form.validate_on_submit():
        return clerk._envelope_page(ctx, me, env, clerk._print_form(ctx), 422)
    decision = {"decision_number": form.decision_number.data or "",
                "decided_by": form.decided_by.data or "",
                "decided_by_title": form.decided_by_title.data or "",
                "decided_on": form.decided_on.data}
    try:
        if isinstance(form, ExtendForm):
            protection.extend(ctx, me, env.number, new_until=form.new_until.data, **decision)
            message = _("Đã gia hạn thời hạn bảo vệ đến %(day)s.",
                        day=form.new_until.data.strftime("%d/%m/%Y"))
        elif isinstance(form, DeclassifyForm):
            protection.declassify(ctx, me, env.number, partial=bool(form.partial.data),
                                  scope_note=form.scope_note.data or "", **decision)
            message = (_("Đã ghi giải mật một phần.") if form.partial.data
                       else _("Đã ghi giải mật toàn bộ."))
        else:
            assert isinstance(form, DestroyForm)  # noqa: S101
            protection.destroy(ctx, me, env.number,
                               council_members=(form.council_members.data or "").replace(
                                   "\r", "").replace("\n", ";"),
                               record_number=form.record_number.data or "",
                               destroyed_on=form.destroyed_on.data, **decision)
            message = _("Đã ghi tiêu hủy tài liệu; chuỗi giao nhận kết thúc tại đây.")
    except KT1Error as exc:
        ctx.session.rollback()
        form.show_error(exc)
        return clerk._envelope_page(ctx, me, wl.find_envelope(ctx, me, env.number),
                                    clerk._print_form(ctx), exc.status)
    flash(message, "success")
    return redirect(url_for("clerk.envelope", number=env.number), code=303)
