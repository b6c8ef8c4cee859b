"""A real print to a fake raw-TCP printer, read back with zbar as a counter scanner would.

The fake printer keeps the bytes it received; the test rebuilds the printed image from the
ESC/POS commands (``GS v 0`` raster), spreads every black run by one dot as a thermal head
does, and zbar must read exactly the item number from the Code 128 and the QR code. Native
barcodes cannot be rasterised here: their ``GS k`` and ``GS ( k`` data must carry exactly the
number instead.
"""

from __future__ import annotations

import time

import pytest

from kt1.labels import LabelData, geometry, render_label
from printers import PrinterConfigError, PrinterUnavailable, open_printer
from printers.escpos import escpos_code128_data
from tests.fakes.printer import FakePrinter, decode_code128_escpos, parse_escpos
from tests.printers.zbar import decode, need_zbar, thicken

NUMBER = "KT123456785VN"


def label(paper_mm: int, number: str = NUMBER) -> LabelData:
    return LabelData(number=number, mark="B", service="flash", sender="Bộ Nội vụ",
                     recipient="UBND thành phố Hồ Chí Minh",
                     recipient_address="86 Lê Thánh Tôn, Quận 1, TP Hồ Chí Minh",
                     register_number="2026/000123", recipient_name="Nguyễn Văn An",
                     is_addressee_only=True)


# (paper, profile, URI parameters, Code 128, QR): the profile decides native or drawn
CASES = [
    (58, "POS-5890", {}, "drawn", "drawn"),
    (58, "RP-F10-58mm", {}, "native", "native"),
    (80, "TM-T20II", {}, "native", "native"),
    (80, "TM-T20II", {"barcodes": "drawn"}, "drawn", "drawn"),
    (80, "TH230", {}, "native", "drawn"),  # native Code 128, but no QR in the profile
]


@pytest.mark.parametrize(("paper", "profile", "params", "bars", "qr"), CASES,
                         ids=[f"{c[0]}mm-{c[1]}-{c[3]}-{c[4]}" for c in CASES])
def test_a_label_printed_over_tcp_scans_back_to_exactly_the_number(
        paper: int, profile: str, params: dict[str, str], bars: str, qr: str) -> None:
    need_zbar()
    rendered = render_label(label(paper), paper)
    dots = geometry(paper).width
    with FakePrinter() as fake:
        printer = open_printer(fake.uri(**params), profile=profile, width=dots)
        result = printer.print(rendered.document)
        printouts = fake.printouts()

    assert result.confirmed
    assert len(printouts) == 1, "exactly one job reached the printer"
    out = printouts[0]
    assert out.image is not None and out.image.width == dots
    found = decode(thicken(out.image))
    # every symbol on the paper, drawn or native, carries exactly the number
    assert {data for _kind, data in found} | set(out.code128) | set(out.qr) == {NUMBER}, found

    if bars == "drawn":
        assert ("CODE-128", NUMBER) in found
        assert out.code128 == []
    else:
        assert out.code128 == [NUMBER]
        assert out.barcode_settings[0]["gs_w"] == geometry(paper).module
        assert out.barcode_settings[0]["gs_H"] == 0  # the number is printed as our text
        assert not any(kind == "CODE-128" for kind, _ in found)
    if qr == "drawn":
        assert ("QR-Code", NUMBER) in found
        assert out.qr == []
    else:
        assert out.qr == [NUMBER]
        assert not any(kind == "QR-Code" for kind, _ in found)
    if bars == qr == "drawn":
        # what the printer rebuilds is, dot for dot, the label we rendered
        assert out.image.tobytes() == rendered.image.tobytes()


def test_a_printer_that_reports_offline_is_not_sent_the_label() -> None:
    rendered = render_label(label(80), 80)
    with FakePrinter() as fake:
        fake.status_byte = 0x1A  # offline bit: cover open or paper out
        printer = open_printer(fake.uri(), profile="TM-T20II", width=576)
        with pytest.raises(PrinterUnavailable, match="offline") as err:
            printer.print(rendered.document)
        assert err.value.bytes_sent == 0 and err.value.stage == "status"
        assert fake.printouts() == []


@pytest.mark.parametrize("mode", ["closed", "black_hole", "reset"])
def test_an_unreachable_printer_fails_in_about_a_second_and_nothing_prints(mode: str) -> None:
    rendered = render_label(label(58), 58)
    with FakePrinter(mode=mode) as fake:
        printer = open_printer(fake.uri(), profile="POS-5890", width=384)
        started = time.monotonic()
        with pytest.raises(PrinterUnavailable) as err:
            printer.print(rendered.document)
        elapsed = time.monotonic() - started
        assert err.value.retryable
        assert err.value.bytes_sent == 0  # refused before a byte of the label left
        assert err.value.stage in ({"connect"} if mode == "closed" else {"status"})
        assert elapsed < 3.0  # 0.5 s timeouts here; 3 s and 5 s by default
        assert fake.printouts() == []


def test_a_reset_in_the_middle_of_a_label_is_a_retryable_failure_that_prints_nothing() -> None:
    rendered = render_label(label(80), 80)
    with FakePrinter(mode="reset", reset_after=5000) as fake:
        printer = open_printer(fake.uri(), profile="TM-T20II", width=576)
        with pytest.raises(PrinterUnavailable) as err:
            printer.print(rendered.document)
        assert err.value.retryable and err.value.stage in {"write", "confirm"}
        assert fake.printouts() == []
        fake.mode = "online"
        printer.print(rendered.document)
        assert len(fake.printouts()) == 1


def test_default_timeouts_are_a_few_seconds() -> None:
    printer = open_printer("escpos+tcp://192.0.2.1", profile="TM-T20II")
    link = printer._transport()  # type: ignore[attr-defined]
    assert link.connect_timeout == 3.0 and link.write_timeout == 5.0


@pytest.mark.parametrize("data", [NUMBER, "KT000000080VN", "AB1234567", "abc{def", "TEST-58MM",
                                  "1234567890", "123"])
def test_escpos_code128_data_decodes_back_to_the_same_text(data: str) -> None:
    assert decode_code128_escpos(escpos_code128_data(data)) == data


def test_the_printed_code128_uses_the_compact_code_sets() -> None:
    assert escpos_code128_data(NUMBER) == b"{BKT{C\x0c\x22\x38\x4e{B5VN"


def test_an_unknown_profile_and_a_label_too_wide_are_configuration_errors() -> None:
    with pytest.raises(PrinterConfigError, match="unknown python-escpos profile"):
        open_printer("memory://x", profile="NO-SUCH-PRINTER", width=576)
    with pytest.raises(PrinterConfigError, match="384 dots"):
        open_printer("memory://x", profile="POS-5890", width=576)
    with pytest.raises(PrinterConfigError, match="no native"):
        open_printer("memory://x?barcodes=native", profile="POS-5890", width=384)


def test_parse_escpos_rejects_a_job_cut_off_mid_image() -> None:
    rendered = render_label(label(58), 58)
    data = open_printer("memory://cut", profile="POS-5890", width=384).encode(  # type: ignore[attr-defined]
        rendered.document)
    from tests.fakes.printer import Incomplete

    with pytest.raises(Incomplete):
        parse_escpos(data[: len(data) // 2])
