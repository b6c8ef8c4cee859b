"""Internal circulation inside an agency (luân chuyển nội bộ, docs/rules.md rule A7).

"Tài liệu tôi đang giữ": every person of an agency sees what they hold now and passes it on
to a colleague of the unit — to a head for direction (trình lãnh đạo cho ý kiến chỉ đạo), to
an officer for handling (giao xử lý), back to the registry (trả văn thư) — and the colleague
signs at the giver's screen with their PIN or a scan of their staff badge (docs/access.md,
both sides present). The custody service judges everything; a refusal is shown with its
Vietnamese message and nothing is written.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from kt1.database import service_context
from kt1.errors import (
    AcknowledgementInvalidError,
    AcknowledgementMissingError,
    AlreadyReceivedError,
    DirectionNeedsHeadError,
    EventOrderError,
    HandedToSelfError,
    KT1Error,
    NotCurrentHolderError,
    ScanIdConflictError,
    WrongUnitError,
)
from kt1.models import Envelope, Handoff, User
from kt1.models.enums import (
    ALLOWED_NEXT,
    INTERNAL_EVENTS,
    EnvelopeStatus,
    EventKind,
    Role,
    SealState,
)
from kt1.services import worklists as wl
from kt1.services.context import Ctx
from kt1.services.custody import HandoffRequest, Recorded, already_recorded, record_handoff
from kt1.services.tx import rollback_quietly
from kt1.web import requires
from kt1.web.words import enum_label
from kt1.web.workforms import WorkForm, identification, identity_field

bp = Blueprint("circulation", __name__, url_prefix="/clerk/held")
CLERK = Role.REGISTRY_CLERK

#: The purposes in the order the form offers them (docs/rules.md, rule A7).
PURPOSES = (EventKind.CIRCULATED_FOR_DIRECTION, EventKind.CIRCULATED_FOR_HANDLING,
            EventKind.CIRCULATED_TO_REGISTRY)
#: Where the form goes back to after a success.
BACK = {"held": "circulation.held", "incoming": "clerk.incoming", "envelope": "clerk.envelope"}
NOTE_MAX = 200
_SCAN_ID = re.compile(r"^[0-9a-f-]{36}$")


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def may_circulate(envelope: Envelope) -> bool:
    """Is the envelope at a stage where it circulates inside the unit that holds it (the
    sender's before acceptance, the recipient's after the incoming register), and not an
    addressee-only envelope still waiting for its named person?"""
    if EventKind.CIRCULATED_FOR_HANDLING not in ALLOWED_NEXT.get(envelope.status, frozenset()):
        return False
    return not (envelope.is_addressee_only and envelope.status is EnvelopeStatus.ARRIVED)


@bp.app_template_global("may_circulate")
def _may_circulate(envelope: Envelope) -> bool:
    """For the clerk's pages: offer "Chuyển" on what the signed-in person holds."""
    return (current_user.is_authenticated and envelope.holder_user_id == current_user.id
            and may_circulate(envelope))


class CirculateForm(WorkForm):
    """Pass one held envelope on to a colleague, who signs at this screen."""

    purpose = SelectField(_l("Mục đích"), validators=[DataRequired(_l("Hãy chọn mục đích."))])
    receiver = SelectField(_l("Người nhận"), validate_choice=False, validators=[
        DataRequired(_l("Hãy chọn người nhận."))])
    note = StringField(_l("Ý kiến chỉ đạo, ghi chú (không ghi trích yếu)"), validators=[
        Optional(), Length(max=NOTE_MAX, message=_l("Tối đa %(max)d ký tự."))])
    pin = identity_field(
        _l("Người nhận ký nhận: mã PIN, hoặc quét thẻ nhân viên"),
        _l("Người nhận phải nhập mã PIN hoặc quét thẻ nhân viên để ký nhận."))
    scan_id = HiddenField(validators=[DataRequired(), Regexp(_SCAN_ID)])
    back = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.purpose.choices = [(k.value, enum_label(k)) for k in PURPOSES]


def _receiver_choices(ctx: Ctx, me: User) -> dict[str | None, list[tuple[str, str]]]:
    """The colleagues the rules allow (active, same unit, agency staff, not oneself), heads
    of the unit first: only they receive a document for direction."""
    people = [u for u in wl.colleagues(ctx, me.unit_id, [CLERK]) if u.id != me.id]
    heads = [(u.username, f"{u.full_name} ({u.username})") for u in people if u.is_unit_head]
    staff = [(u.username, f"{u.full_name} ({u.username})") for u in people
             if not u.is_unit_head]
    groups: dict[str | None, list[tuple[str, str]]] = {}
    if heads:
        groups[_("Lãnh đạo đơn vị")] = heads
    if staff:
        groups[_("Cán bộ, văn thư")] = staff
    return groups


def _receiver(ctx: Ctx, username: str) -> User | None:
    """The person picked (the service judges whether they may receive)."""
    return ctx.session.execute(
        select(User).where(User.username == username.strip().lower()[:64])
    ).unique().scalar_one_or_none()


def _recorded_earlier(ctx: Ctx, me: User, envelope: Envelope, scan_id: str) -> Recorded | None:
    """The circulation this person already recorded with this form (its scan id), if any."""
    ctx.session.rollback()
    handoff = ctx.session.execute(
        select(Handoff).where(Handoff.scan_id == scan_id, Handoff.envelope_id == envelope.id,
                              Handoff.recorded_by_id == me.id,
                              Handoff.kind.in_(list(INTERNAL_EVENTS)))
    ).scalar_one_or_none()
    if handoff is None:
        return None
    return Recorded(handoff=handoff, envelope=envelope, replayed=True)


#: Which field a refusal belongs next to.
FIELDS: dict[str, str] = {
    AcknowledgementInvalidError.slug: "pin",
    AcknowledgementMissingError.slug: "pin",
    DirectionNeedsHeadError.slug: "receiver",
    WrongUnitError.slug: "receiver",
    HandedToSelfError.slug: "receiver",
    "forbidden": "receiver",
}


# --------------------------------------------------------------------------- pages


@bp.get("/")
@requires(CLERK)
def held() -> Any:
    """Tài liệu tôi đang giữ: what the signed-in person holds, each with "Chuyển"."""
    ctx, me = service_context(), _me()
    page = wl.paginate(ctx, wl.held_by(me), max(1, request.args.get("page", 1, type=int) or 1))
    items = page.items
    return render_template("circulation/held.html", items=items, page=page,
                           since=wl.held_since(ctx, me, items),
                           movable={e.id for e in items if may_circulate(e)})


@bp.route("/<number>", methods=["GET", "POST"])
@requires(CLERK)
def circulate(number: str) -> Any:
    """Pass one envelope on inside the unit: the purpose, the colleague, an optional note
    (ý kiến chỉ đạo), and the colleague's PIN or badge typed or scanned here."""
    ctx, me = service_context(), _me()
    envelope = wl.find_envelope(ctx, me, number)  # another unit's: as an unknown number
    form = CirculateForm()
    form.receiver.choices = {None: [("", _("— Chọn người nhận —"))],
                             **_receiver_choices(ctx, me)}
    status = 200
    already: KT1Error | None = None
    if request.method == "GET":
        form.scan_id.data = str(uuid.uuid4())
        form.back.data = request.args.get("back", "held")
        if request.args.get("purpose") in {k.value for k in PURPOSES}:
            form.purpose.data = request.args["purpose"]
    elif form.validate_on_submit():
        receiver = _receiver(ctx, form.receiver.data or "")
        if receiver is None:
            form.receiver.errors = [_("Không tìm thấy người nhận này.")]
            status = 422
        else:
            req = HandoffRequest(
                number=envelope.number, kind=EventKind(form.purpose.data),
                scan_id=form.scan_id.data or "", event_at=ctx.now(), giver=me,
                receiver=receiver, receipt=identification(receiver, form.pin.data),
                location=me.unit.code, note=(form.note.data or "").strip(),
                # a hand to hand pass inside the unit: no seal is checked
                seal_state=SealState.NOT_APPLICABLE)
            try:
                recorded = record_handoff(ctx, me, req)
            except (NotCurrentHolderError, EventOrderError) as exc:
                # the same pass scanned again (another tab, a second scan of the badge):
                # the colleague already holds it from this very pass, nothing is written
                already = _already_received(ctx, me, req)
                if already is None:
                    form.show_error(exc, FIELDS)
                    status = exc.status
            except ScanIdConflictError as exc:
                # the same form sent twice (its scan id): the first one was recorded
                earlier = _recorded_earlier(ctx, me, envelope, form.scan_id.data or "")
                if earlier is None:
                    form.show_error(exc, FIELDS)
                    status = exc.status
                else:
                    recorded = earlier
            except KT1Error as exc:
                form.show_error(exc, FIELDS)
                status = exc.status
            if status == 200 and already is None:
                kind = recorded.handoff.kind
                receiver = recorded.handoff.to_user or receiver
                flash(_("Đã chuyển bưu gửi %(number)s cho %(name)s (%(purpose)s); người nhận "
                        "đã ký nhận.", number=recorded.envelope.number,
                        name=receiver.full_name, purpose=enum_label(kind)), "success")
                target = BACK.get(form.back.data or "", BACK["held"])
                url = (url_for(target, number=recorded.envelope.number)
                       if target == BACK["envelope"] else url_for(target))
                return redirect(url, code=303)
    else:
        status = 422
        if form.scan_id.errors:
            form.form_errors_extra.append(_("Biểu mẫu đã cũ; hãy nhập lại và gửi lần nữa."))
            form.scan_id.data = str(uuid.uuid4())
    if form.pin.data:
        form.pin.data = ""
    ctx.session.expire_all()
    envelope = wl.find_envelope(ctx, me, envelope.number)
    return render_template(
        "circulation/circulate.html", envelope=envelope, form=form,
        holds=envelope.holder_user_id == me.id, movable=may_circulate(envelope),
        heads_label=_("Lãnh đạo đơn vị"), already=already), status


def _already_received(ctx: Ctx, me: User, req: HandoffRequest) -> KT1Error | None:
    """The friendly answer to a pass already recorded (slug ``already_received``, as the
    scanner API gives it): the receiver holds the envelope from this very pass."""
    rollback_quietly(ctx.session)
    done = already_recorded(ctx, me, req)
    if done is None or done.to_user is None:
        return None
    holder = done.to_user
    return AlreadyReceivedError(number=req.number, holder=f"{holder.full_name} "
                                f"({holder.username})", kind=done.kind.value,
                                at=done.event_at.isoformat())
