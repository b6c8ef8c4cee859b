"""Scanner devices: issue a token once, keep only its hash, revoke, authenticate."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select

from kt1.errors import DuplicateError, ForbiddenError, TokenInvalidError, TokenRevokedError
from kt1.models import Device, User
from kt1.models.enums import Role
from kt1.services.context import Ctx
from kt1.services.directory import find_active_unit
from kt1.services.text import clean_text
from kt1.services.tx import transactional

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$")
TOKEN_PREFIX = "kt1d_"  # noqa: S105  (a public prefix, not a secret)


def token_digest(token: str) -> str:
    """Tokens are 256-bit random strings, so one SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def add_device(ctx: Ctx, actor: User | None, name: str, unit_code: str) -> tuple[Device, str]:
    """Issue a device bound to a unit; returns the device and its token (shown once)."""
    if actor is not None and actor.role is not Role.ADMINISTRATOR:
        raise ForbiddenError()
    name = clean_text(name, "name", 64, required=True)
    if not _NAME.match(name):
        from kt1.errors import ValidationError

        raise ValidationError(field="name", reason="2-64 letters, digits, - _ .")
    unit = find_active_unit(ctx, unit_code)
    if ctx.session.execute(select(Device.id).where(Device.name == name)).first():
        raise DuplicateError(what=f"Device {name}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    device = Device(name=name, unit_id=unit.id, token_hash=token_digest(token),
                    created_at=ctx.now())
    ctx.session.add(device)
    ctx.session.flush()
    return device, token


@transactional
def revoke_device(ctx: Ctx, actor: User | None, name: str) -> Device:
    """Revoke a device's token at once; its later requests get ``token_revoked``."""
    if actor is not None and actor.role is not Role.ADMINISTRATOR:
        raise ForbiddenError()
    device = ctx.session.execute(select(Device).where(Device.name == name)).scalar_one_or_none()
    if device is None:
        raise TokenInvalidError()
    if device.revoked_at is None:
        device.revoked_at = ctx.now()
    return device


def authenticate(ctx: Ctx, token: str | None) -> Device:
    """The active device holding ``token``; else ``token_missing``, ``token_invalid`` or
    ``token_revoked``."""
    from kt1.errors import TokenMissingError

    if not token:
        raise TokenMissingError()
    device = ctx.session.execute(select(Device).where(
        Device.token_hash == token_digest(token))).unique().scalar_one_or_none()
    if device is None:
        raise TokenInvalidError()
    if device.revoked_at is not None:
        raise TokenRevokedError()
    return device


def list_devices(ctx: Ctx) -> list[Device]:
    """Every device, active ones first, then by name."""
    return list(ctx.session.execute(
        select(Device).order_by(Device.revoked_at.is_not(None), Device.name)).unique().scalars())


@transactional
def update_device(ctx: Ctx, actor: User | None, name: str, new_name: str,
                  unit_code: str) -> Device:
    """Rename a device that is still in use, or give it to another (active) unit; its token
    stays. A revoked device is not changed: it is issued anew instead."""
    if actor is not None and actor.role is not Role.ADMINISTRATOR:
        raise ForbiddenError()
    device = ctx.session.execute(select(Device).where(Device.name == name)).scalar_one_or_none()
    if device is None or device.revoked_at is not None:
        raise TokenInvalidError()
    new_name = clean_text(new_name, "name", 64, required=True)
    if not _NAME.match(new_name):
        from kt1.errors import ValidationError

        raise ValidationError(field="name", reason="2-64 letters, digits, - _ .")
    if new_name != device.name and ctx.session.execute(
            select(Device.id).where(Device.name == new_name)).first():
        raise DuplicateError(what=f"Device {new_name}")
    unit = find_active_unit(ctx, unit_code) if unit_code != device.unit.code else device.unit
    device.name, device.unit_id = new_name, unit.id
    ctx.session.flush()
    ctx.session.expire(device, ["unit"])
    return device
