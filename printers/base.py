"""The one interface every label printer offers, and the printer that encodes and sends."""

from __future__ import annotations

import hashlib
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from printers.document import Document
from printers.errors import PrinterError, PrinterUnavailable
from printers.transports import Transport


@dataclass(frozen=True)
class PrintResult:
    """What left this computer for one job (ESC/POS and ZPL never say a label came out)."""

    bytes_sent: int
    sha256: str
    confirmed: bool  # the printer answered a status request after the last byte
    destination: str


class LabelPrinter(ABC):
    """A label printer, picked by URI (see :func:`printers.open_printer`)."""

    uri: str
    width: int  # printable dots across

    @abstractmethod
    def print(self, doc: Document) -> PrintResult:
        """Print one document or raise :class:`PrinterError` (``retryable`` when offline)."""

    @abstractmethod
    def describe(self) -> str:
        """A one-line description for the operator (driver, transport, barcode mode)."""


class Encoder(Protocol):
    language: str
    status_request: bytes

    def encode(self, doc: Document) -> bytes: ...

    def check_status(self, answer: bytes) -> None: ...

    def answer_complete(self, answer: bytes) -> bool: ...

    def describe(self) -> str: ...


class EncodedPrinter(LabelPrinter):
    """Encode the document (ESC/POS or ZPL), then send it through a fresh transport.

    When the link is two-way and ``check_status`` is on, the printer is asked for its status
    before the job (a printer that is off, paused or black-holing the connection fails here,
    before a single byte of the label is sent, so retrying can never print it twice) and again
    after the last byte (its answer proves the printer read the whole job).
    """

    def __init__(self, uri: str, width: int, encoder: Encoder,
                 transport: Callable[[], Transport], *, check_status: bool,
                 status_timeout: float) -> None:
        self.uri, self.width = uri, width
        self.encoder = encoder
        self._transport = transport
        self.check_status = check_status
        self.status_timeout = status_timeout

    def describe(self) -> str:
        sample = self._transport()
        status = "status checked" if self.check_status and sample.readable else "no status"
        return f"{self.encoder.describe()} via {sample.describe()} ({status})"

    def encode(self, doc: Document) -> bytes:
        return self.encoder.encode(doc)

    def print(self, doc: Document) -> PrintResult:
        payload = self.encoder.encode(doc)
        link = self._transport()
        link.open()
        try:
            ask = self.check_status and link.readable
            if ask:
                self._status(link)
            base = link.bytes_sent
            try:
                link.write(payload)
            except PrinterError as exc:
                exc.bytes_sent = link.bytes_sent - base
                raise
            sent = link.bytes_sent - base
            if ask:
                self._status(link, sent=sent)
            return PrintResult(bytes_sent=sent, sha256=hashlib.sha256(payload).hexdigest(),
                               confirmed=ask, destination=link.describe())
        finally:
            link.close()

    def _status(self, link: Transport, *, sent: int | None = None) -> None:
        """Ask for the printer's status; ``sent`` is the job's byte count when asked after it."""
        try:
            link.write(self.encoder.status_request)
            answer = b""
            deadline = time.monotonic() + self.status_timeout
            while not self.encoder.answer_complete(answer) and time.monotonic() <= deadline:
                chunk = link.read(256)
                if not chunk:
                    break
                answer += chunk
            self.encoder.check_status(answer)
        except PrinterError as exc:
            exc.bytes_sent = sent or 0
            if sent is None:
                exc.stage = "status"
            else:
                exc.stage = "confirm"
                exc.message = f"{exc.message} (after the label was sent)"
                exc.args = (exc.message,)
            raise


class PdfPrinter(LabelPrinter):
    """``pdf:///path``: each job becomes a one-page PDF at the label's true size (203 dpi).

    A path that is a directory (or ends with ``/``) gets one file per job, named after the
    document's title; any other path is overwritten by each job.
    """

    def __init__(self, uri: str, path: str, width: int) -> None:
        self.uri, self.path, self.width = uri, path, width

    def describe(self) -> str:
        return f"PDF file {self.path}"

    def target(self, doc: Document) -> Path:
        path = Path(self.path)
        if self.path.endswith("/") or path.is_dir():
            stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in doc.title) or "label"
            return path / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.pdf"
        return path

    def print(self, doc: Document) -> PrintResult:
        target = self.target(doc)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            image = doc.flatten()
            image.save(target, "PDF", resolution=float(doc.dpi))
            data = target.read_bytes()
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write {target}: {exc.strerror or exc}",
                                     stage="write") from exc
        return PrintResult(bytes_sent=len(data), sha256=hashlib.sha256(data).hexdigest(),
                           confirmed=True, destination=str(target))
