"""The administrator's device page shows the new token once, also as a QR code that the
/scan/ page reads to enrol the device ("KT1-DEVICE:<token>")."""

from __future__ import annotations

import re
from typing import Any

from PIL import Image

from kt1.services.context import Ctx
from kt1.services.devices import authenticate
from kt1.web.admin import ENROL_PREFIX
from tests.conftest import Network
from tests.printers.zbar import decode, need_zbar
from tests.web.test_admin import page, secret_of


def qr_image(body: str) -> Image.Image:
    """The inline SVG's modules drawn again as pixels (8 per module)."""
    svg = re.search(r'<svg[^>]*id="enrol-qr".*?</svg>', body, re.S)
    assert svg, "no QR code on the page"
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg.group(0)).group(1))  # type: ignore[union-attr]
    image = Image.new("L", (size * 8, size * 8), 255)
    for x, y in re.findall(r"M(\d+),(\d+)h1v1h-1z", svg.group(0)):
        image.paste(0, (int(x) * 8, int(y) * 8, int(x) * 8 + 8, int(y) * 8 + 8))
    return image


def test_the_new_device_s_token_is_also_a_qr_code_shown_once(
        signed_in: Any, ctx: Ctx, network: Network) -> None:
    b = signed_in("admin")
    b.get("/admin/devices")
    response = b.post("/admin/devices", {"name": "quay-qr-bc-hn", "unit": "BC-HN"})
    assert response.status_code == 201
    body = page(response)
    token = secret_of(body)
    assert authenticate(ctx, token).name == "quay-qr-bc-hn"
    image = qr_image(body)
    need_zbar()
    assert decode(image) == [("QR-Code", ENROL_PREFIX + token)]
    assert 'id="enrol-qr"' not in page(b.get("/admin/devices"))  # once only
