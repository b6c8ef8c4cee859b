"""Printer errors: either the printer cannot be reached now (try again later) or it never will."""

from __future__ import annotations


class PrinterError(Exception):
    """Base of every printer error; ``retryable`` says whether trying again later may help."""

    retryable = False

    def __init__(self, message: str, *, stage: str = "", bytes_sent: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage  # connect, status, write, confirm, spool
        self.bytes_sent = bytes_sent  # how much of the job left this computer before it failed


class PrinterUnavailable(PrinterError):
    """The printer is off, unplugged, busy, out of paper, or stopped answering: retry later."""

    retryable = True


class PrinterConfigError(PrinterError):
    """The printer's URI, profile or width is wrong, or its driver is not installed."""
