"""Label benchmark: labels rendered and encoded per second, beside the ceiling of the barcode.

Issue 4. Each case renders a full outer-envelope label (KT1 mark, letter, service mark,
addressee-only stamp, sender, recipient and address in the shipped Vietnamese font, Code 128
with whole-dot bars, the number, a QR code, the register number) into a pure black-and-white
image at 203 dpi, cuts it into blocks, and encodes it into the bytes a printer receives:

* **58 mm ESC/POS drawn**: profile ``POS-5890`` (no native barcodes: both drawn as raster);
* **58 mm ESC/POS native**: profile ``RP-F10-58mm`` (``GS k`` Code 128, ``GS ( k`` QR);
* **80 mm ESC/POS native**: profile ``TM-T20II``;
* **80 mm ESC/POS drawn**: ``TM-T20II`` with ``barcodes=drawn``;
* **80 mm ZPL native** (``^BC``/``^BQ``) and **80 mm ZPL drawn** (``^GF`` bitmaps).

Every label has a different S10 number, so no cache helps. The **ceiling** is the cost of
drawing the barcode alone (Code 128 and QR for one number, whole-dot, as the label does): no
label can be faster than that. Nothing is sent to a printer; the process is pinned to one
CPU. Usage::

    python bench/labels.py [--seconds 2] [--cpu 0]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kt1.labels import LabelData, geometry, render_label
from kt1.labels.codes import draw_code128, draw_qr
from kt1.services.identifiers import format_number
from printers import open_printer

CASES = [
    ("58 mm ESC/POS drawn", 58, "memory://bench", "POS-5890"),
    ("58 mm ESC/POS native", 58, "memory://bench", "RP-F10-58mm"),
    ("80 mm ESC/POS native", 80, "memory://bench", "TM-T20II"),
    ("80 mm ESC/POS drawn", 80, "memory://bench?barcodes=drawn", "TM-T20II"),
    ("80 mm ZPL native", 80, "zpl+memory://bench", None),
    ("80 mm ZPL drawn", 80, "zpl+memory://bench?barcodes=drawn", None),
]


def numbers(start: int = 1) -> Iterator[str]:
    serial = start
    while True:
        yield format_number("KT", serial, "VN")
        serial += 1


def label(number: str) -> LabelData:
    return LabelData(
        number=number, mark="B", service="timed", sender="Bộ Nội vụ",
        recipient="Văn phòng Ủy ban nhân dân thành phố Hồ Chí Minh",
        recipient_address="86 Lê Thánh Tôn, phường Bến Nghé, Quận 1, TP Hồ Chí Minh",
        register_number="2026/000123", recipient_name="Nguyễn Văn An", is_addressee_only=True,
        agreed_at=datetime(2026, 11, 25, 2, 30, tzinfo=UTC))


@dataclass
class Result:
    name: str
    count: int
    seconds: float
    payload: int

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def timed(name: str, step: Callable[[str], int], seconds: float, start: int) -> Result:
    source = numbers(start)
    for _ in range(5):  # warm-up: fonts loaded, code paths hot
        step(next(source))
    count, payload = 0, 0
    began = time.perf_counter()
    deadline = began + seconds
    while True:
        payload += step(next(source))
        count += 1
        if time.perf_counter() >= deadline:
            break
    return Result(name, count, time.perf_counter() - began, payload // max(count, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per case")
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: first)")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else cpus[0]})

    results: list[tuple[Result, Result]] = []
    start = 10_000_000
    for name, paper, uri, profile in CASES:
        geo = geometry(paper)
        printer = open_printer(uri, profile=profile, width=geo.width)
        encode = printer.encode  # type: ignore[attr-defined]

        def full(number: str, paper: int = paper, encode: Callable = encode) -> int:
            return len(encode(render_label(label(number), paper).document))

        def bars(number: str, geo: object = geo) -> int:
            code = draw_code128(number, geo.module, geo.bar_height)  # type: ignore[attr-defined]
            qr = draw_qr(number, geo.qr_module)  # type: ignore[attr-defined]
            return code.width + qr.width

        start += 100_000
        measured = timed(name, full, args.seconds, start)
        start += 100_000
        ceiling = timed(name, bars, args.seconds / 2, start)
        results.append((measured, ceiling))

    print(f"python {platform.python_version()}, Pillow {version('pillow')}, python-barcode "
          f"{version('python-barcode')}, qrcode {version('qrcode')}, python-escpos "
          f"{version('python-escpos')}; one CPU; load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("label: letter B, Hẹn giờ with time, addressee-only stamp, sender, recipient, address,")
    print("       Code 128 + number + QR + register number; every label a new S10 number")
    print("ceiling: drawing that label's Code 128 and QR alone (whole-dot bars), nothing else")
    print()
    head = (f"{'case':<22} {'labels/s':>9} {'ms/label':>9} {'bytes':>8} "
            f"{'ceiling/s':>10} {'of ceiling':>10}")
    print(head)
    print("-" * len(head))
    for measured, ceiling in results:
        print(f"{measured.name:<22} {measured.rate:>9,.0f} {1000 / measured.rate:>9.2f} "
              f"{measured.payload:>8,} {ceiling.rate:>10,.0f} "
              f"{measured.rate / ceiling.rate:>9.0%}")
    print()
    worst = min(m.rate for m, _c in results)
    verdict = "meets" if worst >= 50 else "MISSES"
    print(f"slowest case {worst:,.0f} labels/s: {verdict} the aim of 50 labels/s on one core "
          "(a thermal printer does a few labels a second)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
