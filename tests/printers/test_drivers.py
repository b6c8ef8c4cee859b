"""Drivers picked by URI: ZPL, device files, the in-memory capture, PDF, and URI parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from kt1.labels import LabelData, render_label
from printers import (
    PdfPrinter,
    PrinterConfigError,
    PrinterUnavailable,
    captured,
    open_printer,
    parse_uri,
)
from tests.fakes.printer import FakePrinter, parse_escpos, parse_zpl
from tests.printers.zbar import decode, need_zbar, pdf_pages, thicken

NUMBER = "KT000000080VN"


def data() -> LabelData:
    return LabelData(number=NUMBER, mark="C", service="timed", sender="UBND thành phố Hà Nội",
                     recipient="Bộ Nội vụ", recipient_address="Số 8 Tôn Thất Thuyết, Hà Nội",
                     register_number="2026/000042")


@pytest.mark.parametrize("paper", [58, 80])
def test_zpl_sends_native_bc_and_bq_fields_with_exactly_the_number(paper: int) -> None:
    rendered = render_label(data(), paper)
    width = rendered.document.width
    with FakePrinter(language="zpl") as fake:
        result = open_printer(fake.uri(), width=width).print(rendered.document)
        labels = fake.zpl_labels()
    assert result.confirmed  # the ~HS host status was answered before and after
    assert len(labels) == 1
    zpl = labels[0]
    module = 2 if paper == 58 else 3
    assert [(m, mode, fd) for m, _h, mode, fd in zpl.code128] == [(module, "A", NUMBER)]
    assert zpl.qr == [(4 if paper == 58 else 5, NUMBER)]
    assert zpl.image is not None and zpl.image.width == width


def test_zpl_with_drawn_barcodes_sends_bitmaps_that_scan() -> None:
    need_zbar()
    rendered = render_label(data(), 80)
    payload = open_printer("zpl+memory://zebra?barcodes=drawn", width=576).encode(  # type: ignore[attr-defined]
        rendered.document)
    zpl = parse_zpl(payload)
    assert zpl.code128 == [] and zpl.qr == []
    assert zpl.image is not None
    assert zpl.image.tobytes() == rendered.image.tobytes()
    found = decode(thicken(zpl.image))
    assert sorted(found) == [("CODE-128", NUMBER), ("QR-Code", NUMBER)]


def test_zpl_host_status_paper_out_is_reported_before_sending() -> None:
    from printers.zpl import ZplEncoder

    paper_out = b"\x02030,1,0,1245,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0\x03\r\n\x021234,0\x03"
    with pytest.raises(PrinterUnavailable, match="out of paper"):
        ZplEncoder(576).check_status(paper_out)


def test_the_file_driver_appends_the_escpos_job_to_the_device_file(tmp_path: Path) -> None:
    device = tmp_path / "lp0"
    rendered = render_label(data(), 58)
    printer = open_printer(f"escpos+file://{device}", profile="POS-5890", width=384)
    result = printer.print(rendered.document)
    written = device.read_bytes()
    assert result.bytes_sent == len(written) and not result.confirmed
    printout = parse_escpos(written)
    assert printout.image is not None
    assert printout.image.tobytes() == rendered.image.tobytes()


def test_a_missing_device_file_is_a_retryable_failure(tmp_path: Path) -> None:
    printer = open_printer(f"escpos+file://{tmp_path}/no/such/dir/lp0", profile="POS-5890",
                           width=384)
    with pytest.raises(PrinterUnavailable) as err:
        printer.print(render_label(data(), 58).document)
    assert err.value.retryable and err.value.stage == "connect"


def test_the_memory_driver_keeps_every_job() -> None:
    printer = open_printer("memory://desk-7", profile="TM-T20II", width=576)
    before = len(captured("desk-7"))
    printer.print(render_label(data(), 80).document)
    jobs = captured("desk-7")
    assert len(jobs) == before + 1
    assert parse_escpos(jobs[-1]).code128 == [NUMBER]


def test_the_pdf_driver_writes_a_true_size_page_that_scans(tmp_path: Path) -> None:
    need_zbar()
    printer = open_printer(f"pdf://{tmp_path}/out/", width=576)
    assert isinstance(printer, PdfPrinter)
    result = printer.print(render_label(data(), 80).document)
    pdf = Path(result.destination)
    assert pdf.suffix == ".pdf" and pdf.read_bytes().startswith(b"%PDF")
    [page] = pdf_pages(pdf.read_bytes(), 203)
    assert abs(page.width - 576) <= 1  # 72 mm at 203 dpi: the label's true size
    assert sorted(decode(page)) == [("CODE-128", NUMBER), ("QR-Code", NUMBER)]


@pytest.mark.parametrize(("uri", "encoding", "transport", "where"), [
    ("escpos+tcp://10.0.0.5:9100", "escpos", "tcp", "10.0.0.5:9100"),
    ("escpos+tcp://printer.local", "escpos", "tcp", "printer.local:9100"),
    ("escpos+usb://04b8:0202", "escpos", "usb", "04b8:0202"),
    ("escpos+serial:///dev/ttyUSB0?baudrate=9600", "escpos", "serial", "/dev/ttyUSB0"),
    ("escpos+file:///dev/usb/lp0", "escpos", "file", "/dev/usb/lp0"),
    ("cups://Counter_1", "escpos", "cups", "Counter_1"),
    ("zpl+tcp://10.0.0.9:9100", "zpl", "tcp", "10.0.0.9:9100"),
    ("pdf:///srv/labels/", "pdf", "pdf", "/srv/labels/"),
    ("memory://test", "escpos", "memory", "test"),
])
def test_a_driver_is_picked_by_the_uri(uri: str, encoding: str, transport: str,
                                       where: str) -> None:
    parsed = parse_uri(uri)
    assert (parsed.encoding, parsed.transport) == (encoding, transport)
    assert where in (f"{parsed.host}:{parsed.port}", parsed.host, parsed.path)
    printer = open_printer(uri, profile="TM-T20II", width=576)
    assert printer.uri == uri and printer.width == 576


@pytest.mark.parametrize("uri", ["http://x", "escpos+tcp://", "escpos+usb://zz:yy",
                                 "escpos+tcp://h?colour=red", "escpos+tcp://h?timeout=-1",
                                 "escpos+tcp://h?status=maybe", "pdf://"])
def test_a_malformed_uri_is_a_configuration_error(uri: str) -> None:
    with pytest.raises(PrinterConfigError):
        open_printer(uri, profile="TM-T20II", width=576)


def test_usb_and_serial_drivers_say_which_package_is_missing() -> None:
    import importlib.util

    for uri, module in (("escpos+usb://04b8:0202", "usb"),
                        ("escpos+serial:///dev/ttyUSB0", "serial")):
        printer = open_printer(uri, profile="TM-T20II", width=576)
        if importlib.util.find_spec(module) is not None:
            continue  # installed here: the driver would try the real device
        with pytest.raises(PrinterConfigError, match="pip install"):
            printer.print(render_label(data(), 80).document)
