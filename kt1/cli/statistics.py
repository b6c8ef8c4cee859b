"""``kt1 report statistics``: a unit's statistics of state secrets for a period (thống kê
BMNN) and the periodic report to the superior body, as JSON, text, PDF or XLSX.

Run at the server console, trusted like an administrator (any unit, as ``kt1 user
holdings``); ``--user USERNAME`` answers as that user would be answered on the web page
(a unit they may not see is unknown). Refusals print their slug and message, exit code 2.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from kt1.cli.common import command, ctx, dump, table
from kt1.errors import ValidationError
from kt1.models.enums import Classification, IncidentKind, ServiceClass
from kt1.services import directory
from kt1.services import statistics as stats
from kt1.web.statistics_paper import MOVEMENT_WORDS, class_word
from kt1.web.words import vi

DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command("statistics")
@click.option("--unit", "unit_code", required=True, help="Code of the unit.")
@click.option("--from", "start", type=DATE, required=True,
              help="First day of the period (YYYY-MM-DD, Vietnam time).")
@click.option("--to", "end", type=DATE, required=True,
              help="Last day of the period (YYYY-MM-DD, included).")
@click.option("--user", "username", default=None,
              help="Answer as this user (default: the console, any unit).")
@click.option("--json", "as_json", is_flag=True,
              help="Counts by classification, by movement, by service, incidents, months.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to FILE.pdf or FILE.xlsx.")
@command
def statistics_command(unit_code: str, start: datetime, end: datetime, username: str | None,
                       as_json: bool, output: Path | None) -> None:
    """Statistics of state secrets of a unit for a period (thống kê bí mật nhà nước)."""
    if output is not None and output.suffix.lower() not in (".pdf", ".xlsx"):
        raise ValidationError(field="output", reason="the file name must end in .pdf or .xlsx")
    c = ctx()
    actor = directory.find_user(c, username) if username else None
    result = stats.compute(c, actor, unit_code, _day(start), _day(end))
    if output is not None:
        from kt1.web.statistics_paper import statistics_pdf, statistics_xlsx

        build = statistics_pdf if output.suffix.lower() == ".pdf" else statistics_xlsx
        output.write_bytes(build(result, printed_by=actor.full_name if actor else "kt1",
                                 printed_at=c.now()))
        click.echo(f"Báo cáo: {output}", err=True)
    if as_json:
        dump(result.to_dict())
        return
    if output is not None:
        return
    click.echo(f"Thống kê BMNN {result.unit.code} — {result.unit.name}, "
               f"{result.start:%d/%m/%Y} – {result.end:%d/%m/%Y}")
    heads = ["", *(MOVEMENT_WORDS[m] for m in stats.MOVEMENTS)]
    rows = [[class_word(cl), *(str(result.by_class[cl][m]) for m in stats.MOVEMENTS)]
            for cl in Classification]
    rows += [[vi(sv), *(str(result.by_service[sv][m]) for m in stats.MOVEMENTS)]
             for sv in ServiceClass]
    rows.append(["Tổng cộng", *(str(result.total[m]) for m in stats.MOVEMENTS)])
    table(rows, heads)
    click.echo("Sự cố: " + ", ".join(f"{vi(k)} {result.incidents[k]}" for k in IncidentKind)
               + f" (tổng {result.incident_total})")
    if result.is_empty:
        click.echo("Không có số liệu nào trong kỳ.")


def _day(value: datetime) -> date:
    return value.date()
