"""Units and users (danh mục đơn vị, người dùng)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, or_, select

from kt1.errors import (
    DuplicateError,
    ForbiddenError,
    RoleUnitKindError,
    UnitInactiveError,
    UnitInUseError,
    UnknownUnitError,
    UnknownUserError,
    ValidationError,
)
from kt1.models import Bag, Device, Envelope, HandoverSheet, Unit, User
from kt1.models.enums import BagStatus, EnvelopeStatus, Role, UnitKind
from kt1.models.handover import SheetStatus
from kt1.services.access import badge_digest, hash_secret
from kt1.services.context import Ctx
from kt1.services.holdings import (
    refuse_last_custodian,
    refuse_while_holding,
    role_family,
    unit_kind_of_role,
)
from kt1.services.text import clean_text
from kt1.services.tx import transactional

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{1,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


def check_password(password: str | None) -> None:
    """A password long enough to be one (``invalid_field`` otherwise)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(field="password", reason=f"at least {MIN_PASSWORD_LENGTH} characters")


def _admin(actor: User | None) -> None:
    """``None`` is the operator at the server console (the CLI), trusted like an admin."""
    if actor is not None and actor.role is not Role.ADMINISTRATOR:
        raise ForbiddenError()


@transactional
def add_unit(ctx: Ctx, actor: User | None, code: str, name: str, kind: UnitKind | str,
             province_code: str, province_name: str, address: str = "",
             parent_name: str = "") -> Unit:
    """Add an agency or a KT1 post office."""
    _admin(actor)
    code = clean_text(code, "code", 32, required=True).upper()
    if not _CODE.match(code):
        raise ValidationError(field="code", reason="2-32 capital letters, digits, - _ .")
    try:
        kind = UnitKind(kind)
    except ValueError:
        raise ValidationError(field="kind", reason="agency or post_office") from None
    if ctx.session.execute(select(Unit.id).where(Unit.code == code)).first():
        raise DuplicateError(what=f"Unit {code}")
    unit = Unit(
        code=code, name=clean_text(name, "name", 200, required=True), kind=kind,
        province_code=clean_text(province_code, "province_code", 8, required=True),
        province_name=clean_text(province_name, "province_name", 100, required=True),
        address=clean_text(address, "address", 200),
        parent_name=clean_text(parent_name, "parent_name", 200),
    )
    ctx.session.add(unit)
    ctx.session.flush()
    return unit


def find_unit(ctx: Ctx, code: str) -> Unit:
    unit = ctx.session.execute(
        select(Unit).where(Unit.code == code.strip().upper())).scalar_one_or_none()
    if unit is None:
        raise UnknownUnitError(code=code)
    return unit


def find_active_unit(ctx: Ctx, code: str) -> Unit:
    """A unit that is still active: a deactivated one takes nothing new (``unit_inactive``)."""
    unit = find_unit(ctx, code)
    if not unit.is_active:
        raise UnitInactiveError(unit=unit.code)
    return unit


def find_user(ctx: Ctx, username: str) -> User:
    user = ctx.session.execute(
        select(User).where(User.username == username.strip().lower())).unique().scalar_one_or_none()
    if user is None:
        raise UnknownUserError(username=username)
    return user


@transactional
def add_user(ctx: Ctx, actor: User | None, username: str, full_name: str, role: Role | str,
             unit_code: str, password: str, pin: str | None = None,
             is_unit_head: bool = False, email: str | None = None) -> tuple[User, str]:
    """Add a user with one role in one unit; returns the user and a fresh badge code.

    The badge code is shown once (printed on the staff badge) and only its digest is kept.
    """
    _admin(actor)
    username = clean_text(username, "username", 64, required=True).lower()
    if not _USERNAME.match(username):
        raise ValidationError(field="username", reason="2-64 lower-case letters, digits, - _ .")
    try:
        role = Role(role)
    except ValueError:
        raise ValidationError(field="role", reason="unknown role") from None
    check_password(password)
    if pin is not None and not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise ValidationError(field="pin", reason="4-8 digits")
    email = clean_text(email or "", "email", 254) or None
    if email is not None and not _EMAIL.match(email):
        raise ValidationError(field="email", reason="an email address, e.g. ten@coquan.vn")
    unit = find_active_unit(ctx, unit_code)
    if ctx.session.execute(select(User.id).where(User.username == username)).first():
        raise DuplicateError(what=f"User {username}")
    badge = "B" + secrets.token_hex(12).upper()
    user = User(
        username=username, full_name=clean_text(full_name, "full_name", 120, required=True),
        role=role, unit_id=unit.id, password_hash=hash_secret(password),
        pin_hash=hash_secret(pin) if pin else None, badge_hash=badge_digest(badge),
        is_unit_head=is_unit_head, email=email,
    )
    ctx.session.add(user)
    ctx.session.flush()
    return user, badge


def units_query() -> Select[Unit]:
    """Every unit, agencies and post offices, by code."""
    return select(Unit).order_by(Unit.code)


def list_units(ctx: Ctx, *, active_only: bool = False) -> list[Unit]:
    stmt = units_query()
    if active_only:
        stmt = stmt.where(Unit.is_active)
    return list(ctx.session.execute(stmt).scalars())


def users_query(unit_code: str | None = None, q: str | None = None) -> Select[User]:
    """Users, optionally of one unit or matching ``q`` (username or name), by username."""
    stmt = select(User).join(Unit, User.unit_id == Unit.id)
    if unit_code:
        stmt = stmt.where(Unit.code == unit_code.strip().upper())
    text = (q or "").strip()
    if text:
        stmt = stmt.where(or_(User.username.contains(text.lower(), autoescape=True),
                              User.full_name.contains(text, autoescape=True)))
    return stmt.order_by(User.username)


@transactional
def set_user_active(ctx: Ctx, actor: User | None, username: str, active: bool) -> User:
    """Deactivate (or reactivate) a user; a deactivated user's sessions end at once.

    An administrator cannot deactivate their own account (nobody could undo it).
    """
    _admin(actor)
    user = find_user(ctx, username)
    if not active and actor is not None and user.id == actor.id:
        raise ValidationError(field="username", reason="you cannot deactivate yourself")
    if not active and user.is_active:
        # What they hold is handed over first (docs/rules.md, rule A6), and a unit holding
        # envelopes keeps someone to receive them.
        refuse_while_holding(ctx, user)
        refuse_last_custodian(ctx, user)
    if user.is_active != active:
        user.is_active = active
        user.session_epoch += 1
    return user


@transactional
def move_user(ctx: Ctx, actor: User | None, username: str, unit_code: str,
              role: Role | str | None = None) -> User:
    """Move a user to another unit (chuyển công tác), optionally with another role.

    Refused while the user holds anything (``user_holds_items``: hand it over first, see
    :func:`kt1.services.leaving.hand_over_all`), when they are the last of their role family
    in a unit that holds envelopes (``last_custodian``), and when the role does not work in
    that kind of unit (``role_unit_mismatch``). Their sessions end at once; the head of one
    unit is not the head of the next.
    """
    _admin(actor)
    user = find_user(ctx, username)
    unit = find_unit(ctx, clean_text(unit_code, "unit", 32, required=True))
    if unit.id != user.unit_id and not unit.is_active:
        raise UnitInactiveError(unit=unit.code)
    return _reassign(ctx, actor, user, unit, role or user.role)


@transactional
def change_role(ctx: Ctx, actor: User | None, username: str, role: Role | str) -> User:
    """Give a user another role in the same unit; refused like :func:`move_user`."""
    _admin(actor)
    user = find_user(ctx, username)
    return _reassign(ctx, actor, user, user.unit, role)


def _reassign(ctx: Ctx, actor: User | None, user: User, unit: Unit, role: Role | str) -> User:
    try:
        new_role = Role(role)
    except ValueError:
        raise ValidationError(field="role", reason="unknown role") from None
    kind = unit_kind_of_role(new_role)
    if kind is not None and kind is not unit.kind:
        raise RoleUnitKindError(role=str(new_role), unit=unit.code, kind=str(unit.kind))
    if unit.id == user.unit_id and new_role is user.role:
        return user  # nothing changes
    if actor is not None and user.id == actor.id and new_role is not user.role:
        raise ValidationError(field="role", reason="you cannot change your own role")
    refuse_while_holding(ctx, user)
    if unit.id != user.unit_id or new_role not in role_family(user.role):
        refuse_last_custodian(ctx, user)
    if unit.id != user.unit_id:
        user.unit_id = unit.id
        user.is_unit_head = False
        ctx.session.expire(user, ["unit"])
    user.role = new_role
    user.session_epoch += 1
    ctx.session.flush()
    return user


@transactional
def reset_password(ctx: Ctx, actor: User | None, username: str) -> tuple[User, str]:
    """Give a user a new random password, shown once; their sessions end at once."""
    _admin(actor)
    user = find_user(ctx, username)
    password = secrets.token_urlsafe(9)
    user.password_hash = hash_secret(password)
    user.session_epoch += 1
    return user, password


@transactional
def set_serving_offices(ctx: Ctx, actor: User | None, unit_code: str,
                        office_codes: list[str]) -> Unit:
    """Set the KT1 post offices that serve an agency (bưu cục KT1 phục vụ cơ quan).

    A post office accepts envelopes only from the agencies it serves (docs/access.md); an
    empty list means no office accepts the agency's envelopes until one is set.
    """
    _admin(actor)
    unit = find_unit(ctx, unit_code)
    if unit.kind is not UnitKind.AGENCY:
        raise ValidationError(field="unit", reason="only an agency is served by post offices")
    offices: list[Unit] = []
    for code in office_codes:
        office = find_unit(ctx, clean_text(code, "post_office", 32, required=True))
        if office.kind is not UnitKind.POST_OFFICE:
            raise ValidationError(field="post_office", reason=f"{office.code} is not a KT1 "
                                                              "post office")
        if office not in offices:
            offices.append(office)
    unit.serving_offices = offices
    ctx.session.flush()
    return unit


def list_users(ctx: Ctx, unit_code: str | None = None) -> list[User]:
    """Users by unit then username, optionally of one unit."""
    stmt = select(User).join(User.unit).order_by(Unit.code, User.username)
    if unit_code:
        stmt = stmt.where(Unit.code == unit_code.strip().upper())
    return list(ctx.session.execute(stmt).unique().scalars())


def active_users_of(ctx: Ctx, unit_id: int, roles: Iterable[Role]) -> list[User]:
    """The unit's active users with one of ``roles`` (who may work at a device), by name."""
    return list(ctx.session.execute(
        select(User).where(User.unit_id == unit_id, User.is_active, User.role.in_(list(roles)))
        .order_by(User.username)).unique().scalars())


@transactional
def update_user(ctx: Ctx, actor: User | None, username: str, *, full_name: str,
                email: str | None = None, is_unit_head: bool = False) -> User:
    """Correct a user's name and email and set whether they head their unit.

    Their role and unit change only through :func:`move_user` and :func:`change_role`
    (refused while they hold anything); these fields carry no custody, so nothing is
    refused here but a wrong value.
    """
    _admin(actor)
    user = find_user(ctx, username)
    name = clean_text(full_name, "full_name", 120, required=True)
    mail = clean_text(email or "", "email", 254) or None
    if mail is not None and not _EMAIL.match(mail):
        raise ValidationError(field="email", reason="an email address, e.g. ten@coquan.vn")
    user.full_name, user.email, user.is_unit_head = name, mail, bool(is_unit_head)
    ctx.session.flush()
    return user


@transactional
def update_unit(ctx: Ctx, actor: User | None, code: str, *, name: str, province_code: str,
                province_name: str, address: str = "", parent_name: str = "") -> Unit:
    """Correct a unit's name, province, address and parent body.

    The code and the kind stay: the code is printed in every number and register the unit
    has made, and the kind decides which roles work there.
    """
    _admin(actor)
    unit = find_unit(ctx, code)
    unit.name = clean_text(name, "name", 200, required=True)
    unit.province_code = clean_text(province_code, "province_code", 8, required=True)
    unit.province_name = clean_text(province_name, "province_name", 100, required=True)
    unit.address = clean_text(address, "address", 200)
    unit.parent_name = clean_text(parent_name, "parent_name", 200)
    ctx.session.flush()
    return unit


def unit_in_use(ctx: Ctx, unit: Unit) -> dict[str, int]:
    """What keeps a unit from being deactivated: its active users, the envelopes it holds
    (every one not destroyed: a unit keeps what it received), its bags not yet opened, its
    unsigned handover sheets (as the agency or the post office) and its active devices."""
    def count(stmt: Select[Any]) -> int:
        return int(ctx.session.execute(stmt).scalar_one())

    return {
        "users": count(select(func.count(User.id)).where(User.unit_id == unit.id,
                                                         User.is_active)),
        "envelopes": count(select(func.count(Envelope.id)).where(
            Envelope.holder_unit_id == unit.id, Envelope.status != EnvelopeStatus.DESTROYED)),
        "bags": count(select(func.count(Bag.id)).where(Bag.holder_unit_id == unit.id,
                                                       Bag.status != BagStatus.OPENED)),
        "sheets": count(select(func.count(HandoverSheet.id)).where(
            or_(HandoverSheet.unit_id == unit.id, HandoverSheet.post_office_id == unit.id),
            HandoverSheet.status == SheetStatus.OPEN)),
        "devices": count(select(func.count(Device.id)).where(Device.unit_id == unit.id,
                                                             Device.revoked_at.is_(None))),
    }


@transactional
def set_unit_active(ctx: Ctx, actor: User | None, code: str, active: bool) -> Unit:
    """Deactivate a unit (ngừng hoạt động) or bring it back.

    Refused (``unit_in_use``) while anything is held or open there: see :func:`unit_in_use`.
    A deactivated unit stays in every record that names it; it takes no new users, devices
    or envelopes addressed to it, and is left out of the administrator's choices.
    """
    _admin(actor)
    unit = find_unit(ctx, code)
    if not active and unit.is_active:
        used = unit_in_use(ctx, unit)
        if any(used.values()):
            raise UnitInUseError(unit=unit.code, **{k: str(v) for k, v in used.items()})
    unit.is_active = active
    ctx.session.flush()
    return unit
