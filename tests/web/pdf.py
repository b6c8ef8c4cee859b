"""Reading the text of the PDFs the pages serve (reportlab keeps ASCII readable in its
first font subset, so item and document numbers can be found, and so could a subject)."""

from __future__ import annotations

import base64
import re
import zlib
from typing import Any

from flask import g

from tests.web.conftest import BASE, Browser

_STREAM = re.compile(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", re.S)


def pdf_text(body: bytes) -> bytes:
    """Every stream of the PDF, decoded (ASCII85, Flate), concatenated."""
    out = b""
    for match in _STREAM.finditer(body):
        head, data = match.group(1), match.group(2).strip()
        try:
            if b"ASCII85" in head:
                if not data.startswith(b"<~"):
                    data = b"<~" + data
                data = base64.a85decode(data, adobe=True)
            if b"Flate" in head:
                data = zlib.decompressobj().decompress(data)
        except (ValueError, zlib.error):
            continue  # a binary stream (font file, image): no text in it
        out += data
    return out


def get_pdf(b: Browser, path: str) -> Any:
    """GET a PDF (the Browser helper reads every body as text to find a CSRF token)."""
    vars(g).clear()
    return b.client.get(path, base_url=BASE)
