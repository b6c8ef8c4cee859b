"""Verification output for people and machines: counts per status and finding, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from kt1.models import Envelope
from kt1.services.context import Ctx
from kt1.services.verify.findings import (
    BROKEN,
    COMPLETE,
    IN_TRANSIT,
    OVERDUE,
    STATUSES,
    EnvelopeReport,
)


@dataclass
class Summary:
    """Counts per status and per finding code over a verification run."""

    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    codes: dict[str, int] = field(default_factory=dict)
    envelopes: int = 0

    def add(self, report: EnvelopeReport) -> None:
        self.envelopes += 1
        self.statuses[report.status] = self.statuses.get(report.status, 0) + 1
        for f in report.findings:
            self.codes[f.code] = self.codes.get(f.code, 0) + 1

    @property
    def broken(self) -> int:
        return self.statuses.get(BROKEN, 0)

    def lines(self) -> list[str]:
        labels = {COMPLETE: "hoàn tất", IN_TRANSIT: "đang chuyển", OVERDUE: "quá hạn",
                  BROKEN: "vi phạm"}
        return [f"{status}: {self.statuses.get(status, 0)} ({labels[status]})"
                for status in STATUSES]

    def to_dict(self) -> dict[str, Any]:
        return {"envelopes": self.envelopes, **self.statuses, "findings": dict(self.codes)}


CSV_HEADER = ("number", "status", "code", "severity", "seq", "message_vi", "message_en")


def csv_rows(report: EnvelopeReport) -> list[tuple[Any, ...]]:
    return [(report.number, report.status, f.code, f.severity,
             "" if f.seq is None else f.seq, f.message_vi, f.message_en)
            for f in report.findings]


def findings_csv(reports: Iterable[EnvelopeReport]) -> str:
    """The findings as CSV for officers (one row per finding)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for report in reports:
        writer.writerows(csv_rows(report))
    return out.getvalue()


def count_envelopes(ctx: Ctx) -> int:
    return int(ctx.session.execute(select(func.count(Envelope.id))).scalar_one())
