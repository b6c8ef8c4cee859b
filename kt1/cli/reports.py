"""``kt1 report``: the reports a unit sends up or signs (docs/domain.md §8): statistics of
the secrets it holds, sent and received, and its self-inspection report."""

from __future__ import annotations

import click


@click.group("report")
def report_group() -> None:
    """Reports of a unit: statistics (thống kê BMNN) and self-inspection (tự kiểm tra)."""
