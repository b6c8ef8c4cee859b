"""One search box for any number (issue 13): envelope (S10, a copy too), bag, handover
sheet, internal sheet, handover record.

The kind of number is recognised from its shape; the page it opens is the one the signed-in
role may open for it, found through the same access rules as that page
(:mod:`kt1.services.access`). A number the role may not see gets exactly the answer of a
number that does not exist; a mistyped S10 gets the precise message of its mistake.
Roles without a page of their own for an item (the counter and the courier for an envelope,
the courier and the administrator for a bag) get a short summary, never a subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from kt1.database import service_context
from kt1.errors import KT1Error, UnknownNumberError
from kt1.models import Bag, Envelope, User
from kt1.models.enums import Role
from kt1.services import leaving
from kt1.services.access import visible_bags, visible_envelopes
from kt1.services.context import Ctx
from kt1.services.custody import last_link, may_void
from kt1.services.handover import get_sheet
from kt1.services.identifiers import parse_number
from kt1.services.sheets import PREFIX as INTERNAL_PREFIX
from kt1.services.sheets import get_internal_sheet
from kt1.web import local_path, requires

bp = Blueprint("lookup", __name__)
EVERYONE = tuple(Role)
MAX_LEN = 48
#: Something an S10 number was meant to be: two letters, digits, two letters (a length or
#: check-digit typo is answered precisely, not as "not found").
S10_LIKE = re.compile(r"^[A-Z]{2}[0-9O ]{6,12}[A-Z]{2}$")
BAG_LIKE = re.compile(r"^[A-Z0-9][A-Z0-9-]*-[0-9]{6}-[0-9]{3,}$")


@dataclass
class Found:
    """Where a number leads: a page to go to, or a summary to show here."""

    url: str | None = None
    envelope: Envelope | None = None
    bag: Bag | None = None


def kind_of(code: str) -> str:
    """The kind of item a number names, from its shape alone (never from the database)."""
    if code.startswith("GB-"):
        return "sheet"
    if code.startswith(f"{INTERNAL_PREFIX}-"):
        return "internal"
    if code.startswith("BBG-"):
        return "record"
    if S10_LIKE.match(code):
        return "envelope"
    if BAG_LIKE.match(code):
        return "bag"
    return "unknown"


def _envelope(ctx: Ctx, me: User, code: str) -> Found:
    s = ctx.settings
    number = str(parse_number(code, s.service_letters, s.country_code))  # precise typos
    query = visible_envelopes(me).where(Envelope.number == number)
    if me.role is Role.COURIER:  # a courier finds what he carries
        query = query.where(Envelope.holder_user_id == me.id)
    found = ctx.session.execute(query).unique().scalar_one_or_none()
    if found is None:
        raise UnknownNumberError(number=number)
    if me.role is Role.REGISTRY_CLERK:
        return Found(url=url_for("clerk.envelope", number=number))
    if me.role is Role.SECURITY_OFFICER:
        return Found(url=url_for("officer.envelope", number=number))
    bag = None
    if found.bag_id is not None:
        bag = ctx.session.execute(
            visible_bags(me).where(Bag.id == found.bag_id)).unique().scalar_one_or_none()
    return Found(envelope=found, bag=bag)


def _bag(ctx: Ctx, me: User, code: str) -> Found:
    query = visible_bags(me).where(Bag.number == code)
    if me.role is Role.COURIER:  # the bags he carries
        query = query.where(Bag.holder_user_id == me.id)
    elif me.role not in (Role.COUNTER_CLERK, Role.ADMINISTRATOR):
        raise UnknownNumberError(number=code)
    found = ctx.session.execute(query).unique().scalar_one_or_none()
    if found is None:
        raise UnknownNumberError(number=code)
    if me.role is Role.COUNTER_CLERK:
        return Found(url=url_for("counter.bag", number=found.number))
    return Found(bag=found)


def _sheet(ctx: Ctx, me: User, code: str) -> Found:
    pages = {Role.REGISTRY_CLERK: "clerk.sheet", Role.COUNTER_CLERK: "counter.sheet"}
    if me.role not in pages:
        raise UnknownNumberError(number=code)
    try:
        found = get_sheet(ctx, me, code)
    except KT1Error:
        raise UnknownNumberError(number=code) from None
    return Found(url=url_for(pages[me.role], number=found.number))


def _internal(ctx: Ctx, me: User, code: str) -> Found:
    if me.role not in (Role.REGISTRY_CLERK, Role.SECURITY_OFFICER):
        raise UnknownNumberError(number=code)
    try:
        found = get_internal_sheet(ctx, me, code)
    except KT1Error:
        raise UnknownNumberError(number=code) from None
    return Found(url=url_for("internal.sheet", number=found.number))


def _record(ctx: Ctx, me: User, code: str) -> Found:
    if me.role is not Role.ADMINISTRATOR or not me.is_active:
        raise UnknownNumberError(number=code)
    try:
        found = leaving.get_record(ctx, code)
    except KT1Error:
        raise UnknownNumberError(number=code) from None
    return Found(url=url_for("admin.handover_record", number=found.number))


FINDERS = {"envelope": _envelope, "bag": _bag, "sheet": _sheet, "internal": _internal,
           "record": _record}


def clean(raw: str | None) -> str:
    """The number as typed or scanned: spaces around it dropped, upper-cased."""
    return (raw or "").strip().upper()[:MAX_LEN]


def resolve(ctx: Ctx, me: User, raw: str) -> Found:
    """Where ``raw`` leads for ``me``; :class:`KT1Error` (not found, or a precise S10 typo)."""
    code = clean(raw)
    if not me.is_active:
        raise UnknownNumberError(number=code)
    finder = FINDERS.get(kind_of(code))
    if finder is None:
        raise UnknownNumberError(number=code)
    return finder(ctx, me, code)


def _back() -> str:
    """The page the search came from (a local path only), else the home page."""
    return local_path(request.args.get("next"), url_for("pages.home"))


@bp.get("/lookup")
@requires(*EVERYONE)
def lookup() -> Any:
    """Open the page of a number, or say precisely why not (on this page)."""
    q = clean(request.args.get("q"))
    if not q:
        return redirect(_back())
    me: User = current_user._get_current_object()
    ctx = service_context()
    try:
        found = resolve(ctx, me, q)
    except KT1Error as exc:
        return render_template("lookup/result.html", q=q, error=exc.message_local,
                               slug=exc.slug), exc.status
    if found.url:
        return redirect(found.url)
    return render_template("lookup/result.html", q=q, envelope=found.envelope,
                           bag=found.bag, seal_shown=me.role is Role.ADMINISTRATOR,
                           void_until=_void_until(ctx, me, found.envelope))


def _void_until(ctx: Ctx, me: User, envelope: Envelope | None) -> Any:
    """Until when the counter clerk may still void their own last scan of the envelope
    ("Hủy lần quét vừa rồi", docs/rules.md rule 5), or None."""
    if envelope is None or me.role is not Role.COUNTER_CLERK:
        return None
    last = last_link(ctx, envelope)
    if last is None or not may_void(ctx, me, envelope, last):
        return None
    return last.recorded_at + ctx.settings.void_window

