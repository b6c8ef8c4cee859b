"""Staff badges (thẻ nhân viên): the barcode a receiver scans to sign a handoff (ký nhận).

Only the SHA-256 of a badge code is stored (:func:`kt1.services.access.badge_digest`), so
a badge cannot be printed again from the database. There are two honest ways to print one:

* :func:`print_badge` with the code in hand (``kt1 user add`` shows it once): the code is
  checked against the stored digest, then printed;
* :func:`reissue_badge`: a new code is made and printed, and only once the printer has
  taken it is its digest stored, which also ends the old badge. A printer that is off
  changes nothing: the old badge keeps working.

A badge is not a print job: its code is a secret, so it is never written to the print-job
table to be retried later (:mod:`kt1.services.printing` keeps jobs it can render again).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

import printers
from kt1.errors import ForbiddenError, KT1Error
from kt1.labels.codes import CODE128_QUIET, code128_pattern
from kt1.labels.layout import Builder, Layout, geometry
from kt1.labels.raster import Rendered, render
from kt1.models import User
from kt1.models.enums import Role
from kt1.services.access import badge_digest
from kt1.services.context import Ctx
from kt1.services.directory import find_user
from kt1.services.printing import open_label_printer, resolve_target
from kt1.services.tx import transactional

#: ``B`` and 24 hex digits (made by ``kt1 user add``) or ``B`` and 20 decimal digits (made
#: here: Code 128 packs two digits in one symbol, so the barcode is short enough for bars
#: two dots wide on 58 mm paper, which a counter's laser scanner reads).
BADGE_CODE = re.compile(r"^B(?:[0-9A-F]{24}|[0-9]{20})$")

ROLE_VI = {
    Role.REGISTRY_CLERK: "Văn thư",
    Role.COUNTER_CLERK: "Giao dịch viên",
    Role.COURIER: "Bưu tá",
    Role.SECURITY_OFFICER: "Cán bộ bảo mật",
    Role.ADMINISTRATOR: "Quản trị hệ thống",
}


class BadgeCodeInvalidError(KT1Error):
    slug = "badge_code_invalid"
    status = 422
    message_vi = "Mã thẻ không đúng với thẻ hiện hành của {username}."
    message_en = "This badge code is not {username}'s current badge."


class BadgePrintError(KT1Error):
    slug = "badge_not_printed"
    status = 503
    message_vi = ("Không in được thẻ trên máy in {printer}: {reason}. "
                  "Chưa có gì thay đổi; thẻ cũ vẫn dùng được.")
    message_en = ("The badge could not be printed on {printer}: {reason}. Nothing was "
                  "changed; the old badge still works.")


@dataclass(frozen=True)
class BadgeOutcome:
    """A printed badge: whose, on which printer, and whether the code is a new one."""

    username: str
    printer: str
    bytes_sent: int
    confirmed: bool
    is_new_code: bool


def new_badge_code() -> str:
    """A fresh badge code: ``B`` and 20 random decimal digits (66 bits)."""
    return "B" + str(secrets.randbelow(10**20)).zfill(20)


def _console_or_admin(actor: User | None) -> None:
    if actor is not None and (not actor.is_active or actor.role is not Role.ADMINISTRATOR):
        raise ForbiddenError()


def is_current_badge(user: User, code: str) -> bool:
    return bool(user.badge_hash) and hmac.compare_digest(user.badge_hash or "",
                                                          badge_digest(code.strip().upper()))


def badge_layout(user: User, code: str, paper_mm: int = 80) -> Layout:
    """The badge: name, role and unit in words, the code only as a Code 128 symbol.

    The code is not printed in letters: it signs handoffs, so it should be read by a
    scanner at the counter, not copied down by whoever glances at the badge.
    """
    geo = geometry(paper_mm)
    b = Builder(geo)
    b.boxed("THẺ NHÂN VIÊN KT1", geo.title, center=True, inverse=True)
    b.gap()
    b.text(user.full_name, geo.number, bold=True, align="center")
    b.text(f"{ROLE_VI.get(user.role, str(user.role))} · {user.username}", geo.body,
           align="center")
    b.text(user.unit.name, geo.body, align="center")
    b.gap()
    fit = geo.width // (len(code128_pattern(code)) + 2 * CODE128_QUIET)
    b.code128(code, module=max(1, min(geo.module, fit)))
    b.qr(code)  # for phone cameras, and for a long code whose bars came out thin
    b.text("Quét thẻ để ký nhận khi giao nhận bưu gửi KT1", geo.small, align="center")
    return b.finish(title=f"the-{user.username}")


def render_badge(user: User, code: str, paper_mm: int = 80) -> Rendered:
    """The badge rendered for 58 or 80 mm label paper (and as a PNG preview)."""
    if not BADGE_CODE.match(code):
        raise ValueError("not a badge code")
    return render(badge_layout(user, code, paper_mm))


def _print(ctx: Ctx, user: User, code: str, printer: str | None, workstation: str,
           width_mm: int | None) -> tuple[str, printers.PrintResult]:
    target = resolve_target(ctx, printer, workstation, width_mm=width_mm)
    document = render_badge(user, code, target.width_mm).document
    device = open_label_printer(target.uri, target.profile, target.width_mm)
    ctx.session.rollback()  # no transaction stays open while a printer takes its time
    try:
        return target.name, device.print(document)
    except printers.PrinterError as exc:
        raise BadgePrintError(printer=target.name, reason=exc.message) from None


@transactional
def _store(ctx: Ctx, username: str, code: str) -> User:
    user = find_user(ctx, username)
    user.badge_hash = badge_digest(code)
    return user


def print_badge(ctx: Ctx, actor: User | None, username: str, code: str, *,
                printer: str | None = None, workstation: str = "",
                width_mm: int | None = None) -> BadgeOutcome:
    """Print ``username``'s current badge from its code (checked against the digest)."""
    _console_or_admin(actor)
    user = find_user(ctx, username)
    code = code.strip().upper()
    if not is_current_badge(user, code):
        raise BadgeCodeInvalidError(username=user.username)
    name, result = _print(ctx, user, code, printer, workstation, width_mm)
    return BadgeOutcome(user.username, name, result.bytes_sent, result.confirmed, False)


def reissue_badge(ctx: Ctx, actor: User | None, username: str, *,
                  printer: str | None = None, workstation: str = "",
                  width_mm: int | None = None) -> BadgeOutcome:
    """Print a badge with a new code, then store the new digest (the old badge ends).

    Nothing is stored when the printer fails; if storing fails after a good print, the
    printed badge is simply not valid and the command can be run again.
    """
    _console_or_admin(actor)
    user = find_user(ctx, username)
    if not user.is_active:
        raise ForbiddenError(f"{user.username} is not active")
    code = new_badge_code()
    name, result = _print(ctx, user, code, printer, workstation, width_mm)
    _store(ctx, user.username, code)
    return BadgeOutcome(user.username, name, result.bytes_sent, result.confirmed, True)


def badge_from_code(ctx: Ctx, actor: User | None, username: str, code: str,
                    paper_mm: int = 80) -> Rendered:
    """``username``'s current badge rendered from its code (checked against the digest),
    to download as a PNG or PDF instead of printing."""
    _console_or_admin(actor)
    user = find_user(ctx, username)
    code = code.strip().upper()
    if not is_current_badge(user, code):
        raise BadgeCodeInvalidError(username=user.username)
    return render_badge(user, code, paper_mm)


@transactional
def reissue_badge_file(ctx: Ctx, actor: User | None, username: str,
                       paper_mm: int = 80) -> Rendered:
    """A badge with a new code to download (PNG or PDF); the new digest is stored at once,
    which ends the old badge: the file goes to the administrator in this response."""
    _console_or_admin(actor)
    user = find_user(ctx, username)
    if not user.is_active:
        raise ForbiddenError(f"{user.username} is not active")
    code = new_badge_code()
    rendered = render_badge(user, code, paper_mm)
    user.badge_hash = badge_digest(code)
    return rendered


def badge_pdf(rendered: Rendered) -> bytes:
    """The badge as a one-page PDF at its true size (203 dpi)."""
    import io

    out = io.BytesIO()
    rendered.image.convert("L").save(out, "PDF", resolution=float(rendered.document.dpi))
    return out.getvalue()
