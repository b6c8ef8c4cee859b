"""Device enrolment by the camera, for real: the administrator issues a device in his own
browser and the page shows its token once, also as a QR code; a picture of that QR code is
played as the phone's camera (chromium's fake capture device reading a .y4m file), the
phone's /scan/ page reads it through the vendored decoder, and the device is enrolled."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from kt1.services.context import Ctx
from kt1.services.devices import authenticate
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Tab
from tests.browser.test_day import people  # noqa: F401 (fixture)
from tests.conftest import Network

W, H = 640, 480


def y4m_of(path: Path, picture: Image.Image, frames: int = 20) -> None:
    """A short video (YUV4MPEG2, 4:2:0, what chromium's fake camera plays) of ``picture``
    centred on white, as a phone held over the administrator's screen would see it."""
    picture = picture.convert("L")
    scale = min(1.0, (H - 40) / picture.height, (W - 40) / picture.width)
    if scale < 1.0:
        picture = picture.resize((int(picture.width * scale), int(picture.height * scale)))
    frame = Image.new("L", (W, H), 255)
    frame.paste(picture, ((W - picture.width) // 2, (H - picture.height) // 2))
    y, cb, cr = frame.convert("RGB").convert("YCbCr").split()
    half = (W // 2, H // 2)
    raw = b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(raw)


def camera_browser(playwright_driver: Any, video: Path) -> Any:
    """A chromium of its own whose camera plays ``video`` (no permission prompt)."""
    return playwright_driver.chromium.launch(executable_path=CHROMIUM, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])


def test_the_phone_enrols_by_reading_the_admin_s_qr_code_with_its_camera(
        ctx: Ctx, network: Network, people: Any, playwright_driver: Any,  # noqa: F811
        live_server: str, tmp_path: Path) -> None:
    ctx.session.commit()  # the test network, for the live server to see
    admin = people("admin")
    admin.go("/admin/devices")
    admin.page.fill("#name", "dt-camera-bc-hn")
    admin.page.select_option("#unit", "BC-HN")
    admin.submit("form[action$='/admin/devices']")
    token = admin.page.inner_text("#secret").strip()
    assert authenticate(ctx, token).name == "dt-camera-bc-hn"
    ctx.session.rollback()
    # what the administrator's screen shows, as pixels: the camera sees that, nothing else
    qr = Image.open(io.BytesIO(admin.page.locator("#enrol-qr").screenshot()))
    video = tmp_path / "enrol.y4m"
    y4m_of(video, qr)

    camera = camera_browser(playwright_driver, video)
    try:
        context = camera.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                     viewport={"width": 412, "height": 915})
        page = context.new_page()
        page.set_default_timeout(20_000)
        phone = Tab(page=page, context=context, origin=live_server)
        page.on("request", lambda r: phone.requests.append(r.url))
        phone.open()
        assert page.evaluate("localStorage.getItem('kt1.scan.token')") is None
        assert page.input_value("#token-input") == ""  # nothing typed: the camera reads it
        page.click("#btn-enrol-camera")
        page.wait_for_selector("#operator-form:not([hidden])")
        assert page.is_hidden("#camera")
        assert page.evaluate("localStorage.getItem('kt1.scan.token')") == token
        assert "Mã truy cập hợp lệ" in page.inner_text("#setup-message")
        operators = page.eval_on_selector_all("#operator-select option", "o => o.map(x => x.value)")
        assert "gd_hn" in operators and "gd_hcm" not in operators  # the device's unit
        # the enrolled device works: its operator starts a shift on it
        page.select_option("#operator-select", "gd_hn")
        page.click("#operator-form button[type=submit]")
        page.wait_for_selector("#work:not([hidden])")
        assert "dt-camera-bc-hn" in page.inner_text("#device-name")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "scan-phone-enrolled-by-camera.png"))
        assert any("zxing-library" in u for u in phone.requests)
        assert phone.outside_requests() == []
        context.close()
    finally:
        camera.close()


def test_a_qr_code_that_is_not_a_device_s_enrols_nothing(
        ctx: Ctx, network: Network, playwright_driver: Any, live_server: str,
        tmp_path: Path) -> None:
    """A QR code of something else (here an envelope number) in front of the camera on the
    set-up screen: said so, and no token is kept."""
    import qrcode

    ctx.session.commit()
    video = tmp_path / "other.y4m"
    y4m_of(video, qrcode.make("KT000000014VN", box_size=8).get_image())
    camera = camera_browser(playwright_driver, video)
    try:
        context = camera.new_context(locale="vi-VN", viewport={"width": 412, "height": 915})
        page = context.new_page()
        page.set_default_timeout(20_000)
        phone = Tab(page=page, context=context, origin=live_server)
        phone.open()
        page.click("#btn-enrol-camera")
        page.wait_for_selector("#setup-message >> text=Đây không phải mã QR thiết bị")
        assert page.is_hidden("#camera")
        assert page.evaluate("localStorage.getItem('kt1.scan.token')") is None
        assert page.is_visible("#token-form") and page.is_hidden("#operator-form")
        context.close()
    finally:
        camera.close()
