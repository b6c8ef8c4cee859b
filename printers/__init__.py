"""Label printers behind one interface, picked by URI. Knows nothing of KT1 or Flask.

    printer = open_printer("escpos+tcp://10.0.0.5:9100", profile="TM-T20II", width=576)
    printer.print(document)   # raises PrinterUnavailable (retry later) or PrinterConfigError
"""

from printers.base import EncodedPrinter, LabelPrinter, PdfPrinter, PrintResult
from printers.document import Block, Code128, Document, QRCode, Raster
from printers.errors import PrinterConfigError, PrinterError, PrinterUnavailable
from printers.escpos import load_profile, profile_width
from printers.registry import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    PrinterURI,
    open_printer,
    parse_uri,
)
from printers.transports import MEMORY, captured

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_WRITE_TIMEOUT",
    "MEMORY",
    "Block",
    "Code128",
    "Document",
    "EncodedPrinter",
    "LabelPrinter",
    "PdfPrinter",
    "PrintResult",
    "PrinterConfigError",
    "PrinterError",
    "PrinterURI",
    "PrinterUnavailable",
    "QRCode",
    "Raster",
    "captured",
    "load_profile",
    "open_printer",
    "parse_uri",
    "profile_width",
]
