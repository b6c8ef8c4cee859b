"""Device-token authentication and request checks for the scanner API."""

from __future__ import annotations

from flask import g, request

from kt1.database import service_context
from kt1.errors import ForbiddenError, KT1Error, UnknownUserError, WrongUnitError
from kt1.models import Device, User
from kt1.models.enums import Role
from kt1.services.devices import authenticate
from kt1.services.directory import find_user

OPERATOR_ROLES = (Role.REGISTRY_CLERK, Role.COUNTER_CLERK, Role.COURIER, Role.SECURITY_OFFICER)


class MalformedJsonError(KT1Error):
    slug = "malformed_json"
    status = 400
    message_vi = "Nội dung gửi lên không phải JSON hợp lệ."
    message_en = "The request body is not valid JSON."


class UnsupportedMediaTypeError(KT1Error):
    slug = "unsupported_media_type"
    status = 415
    message_vi = "Nội dung phải có kiểu application/json."
    message_en = "The request body must be application/json."


def require_device() -> None:
    """Blueprint hook: every API request carries a valid, unrevoked device token.

    Write requests must also be JSON; the body is parsed here once so that a malformed
    one (or one nested too deeply to parse) is refused with ``malformed_json`` before any
    view runs.
    """
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else None
    g.device = authenticate(service_context(), token)
    if request.method in ("POST", "PUT", "PATCH"):
        if request.mimetype != "application/json":
            raise UnsupportedMediaTypeError()
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # valid JSON nested deeper than the parser recurses
            raise MalformedJsonError("The request body is nested too deeply.") from None
        if body is None:
            raise MalformedJsonError()


def device() -> Device:
    dev: Device = g.device
    return dev


def operator(username: str) -> User:
    """The person at the device: an active user of the device's unit with a working role."""
    dev = device()
    try:
        user = find_user(service_context(), username)
    except UnknownUserError:
        raise WrongUnitError(username=username, unit=dev.unit.code) from None
    if user.unit_id != dev.unit_id:
        raise WrongUnitError(username=user.username, unit=dev.unit.code)
    if not user.is_active or user.role not in OPERATOR_ROLES:
        raise ForbiddenError()
    return user
