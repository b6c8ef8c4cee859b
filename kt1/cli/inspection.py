"""``kt1 report self-inspection``: run a unit's self-inspection checklist (báo cáo tự kiểm
tra) for a period and store the report (kt1/services/inspection.py); print it, or ``--json``
(one entry per checklist item with ``code``, ``count``, ``numbers``, ``fixed_since``), and
write its PDF with ``-o``. From the server console: any unit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from kt1.cli.common import command, ctx, dump, table
from kt1.services import inspection as svc


@click.command("self-inspection")
@click.option("--unit", "unit_code", required=True, help="Code of the unit inspected.")
@click.option("--from", "day_from", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day of the period (default: 1 January of the last day's year).")
@click.option("--to", "day_to", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day of the period (default: today).")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report's PDF here.")
@command
def self_inspection_command(unit_code: str, day_from: datetime | None,
                            day_to: datetime | None, as_json: bool,
                            output: Path | None) -> None:
    """Run the self-inspection checklist for a unit and store the report."""
    c = ctx()
    start = day_from.date() if day_from is not None else None
    end = day_to.date() if day_to is not None else None
    report = svc.run_self_inspection(c, None, unit_code, start, end)
    if output is not None:
        from kt1.web.inspection_paper import self_inspection_pdf

        output.write_bytes(self_inspection_pdf(report, svc.item_views(c, report), c.now()))
    if as_json:
        dump(svc.report_dict(c, report))
        return
    click.echo(report.number)
    click.echo(f"{report.unit.code}: {report.period_from.isoformat()} – "
               f"{report.period_to.isoformat()}")
    rows = []
    for view in svc.item_views(c, report):
        fixed = "" if view.fixed is None else str(len(view.fixed))
        rows.append([view.code, str(view.count), ", ".join(view.numbers), fixed])
    table(rows, ["code", "count", "numbers", "fixed since"])
    if output is not None:
        click.echo(f"PDF: {output}")
