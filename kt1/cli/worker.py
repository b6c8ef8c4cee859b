"""``kt1 worker`` (the background worker, docs/worker.md) and ``kt1 db upgrade`` with
``--dry-run`` and the worker check (it replaces Flask-Migrate's ``db upgrade``)."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType
from typing import Any

import click
import flask_migrate
import flask_migrate.cli
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from kt1.cli.common import command, ctx
from kt1.database import current_revisions, head_revisions
from kt1.extensions import db
from kt1.services import worker as service


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one round of every task, then stop.")
@click.option("--poll", type=float, default=None, metavar="SECONDS",
              help="Seconds between rounds (default: KT1_WORKER_POLL_SECONDS, 5).")
@command
def worker_command(once: bool, poll: float | None) -> None:
    """Print-job retries, the daily checkpoint, notices, purging: everything time-driven.

    Runs until SIGTERM or Ctrl+C, which it obeys within seconds: the unit of work under way
    (one print job, one transaction) is finished first, nothing is left half-done.
    """
    logging.basicConfig(stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("kt1.worker").setLevel(logging.INFO)  # what it does, one line each
    settings = service.WorkerSettings.from_mapping(current_app.config)
    if poll is not None:
        if poll <= 0:
            raise click.BadParameter("must be above 0", param_hint="--poll")
        settings = service.WorkerSettings(**{**settings.__dict__, "poll": poll})
    try:
        missing = head_revisions() - current_revisions()
    except SQLAlchemyError as exc:
        click.echo(f"kt1 worker: the database cannot be reached ({type(exc).__name__}); "
                   "start the worker once it is up.", err=True)
        raise SystemExit(2) from None
    if missing:
        click.echo("kt1 worker: the database schema is behind this code (missing "
                   f"{', '.join(sorted(missing))}): run `kt1 db upgrade` first.", err=True)
        raise SystemExit(2)
    worker = service.Worker(ctx, settings, db.engine)

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("kt1.worker").info("signal %s: stopping after the current unit",
                                             signal.Signals(signum).name)
        worker.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if once:
        worker.start()
        try:
            done = worker.round()
        finally:
            worker.finish()
        click.echo(f"printed {done.printed} of {len(done.print_outcomes)} job(s) tried; "
                   f"checkpoint {done.checkpoint or '-'}; notices {done.notices}; purged "
                   f"{done.purged.sessions if done.purged else 0} session(s)"
                   + (f"; failed: {', '.join(done.failed)}" if done.failed else "")
                   + (f"; skipped (another worker): {', '.join(done.skipped)}"
                      if done.skipped else ""))
        return
    worker.run()


# --------------------------------------------------------------------------- db upgrade


def pending_revisions(revision: str = "heads", directory: str | None = None
                      ) -> list[tuple[str, str]]:
    """The revisions ``kt1 db upgrade REVISION`` would apply, in order: (id, message)."""
    config = current_app.extensions["migrate"].migrate.get_config(directory)
    script = ScriptDirectory.from_config(config)
    current: Any = tuple(current_revisions())
    steps = script._upgrade_revs(revision, current)  # alembic's own plan of the upgrade
    return [(step.revision.revision, (step.revision.doc or "").strip().splitlines()[0]
             if step.revision.doc else "") for step in steps]


@click.command("upgrade")
@click.option("-d", "--directory", default=None, help="Migration script directory.")
@click.option("--sql", is_flag=True, help="Don't emit SQL to database - dump to standard "
              "output instead.")
@click.option("--tag", default=None, help="Arbitrary 'tag' name for custom env.py scripts.")
@click.option("-x", "--x-arg", multiple=True, help="Additional arguments for env.py.")
@click.option("--dry-run", is_flag=True,
              help="Print the revisions that would be applied, in order, and change nothing.")
@click.argument("revision", default="heads")
@command
def upgrade_command(directory: str | None, sql: bool, tag: str | None,
                    x_arg: tuple[str, ...], dry_run: bool, revision: str) -> None:
    """Upgrade the schema (default: every branch's head); refused while a worker of
    another version runs (docs/worker.md)."""
    from flask import g

    directory = directory or getattr(g, "directory", None)
    x_args = x_arg or getattr(g, "x_arg", None) or None
    if dry_run:
        steps = pending_revisions(revision, directory)
        if not steps:
            click.echo(f"Nothing to apply: the schema is at {revision} "
                       f"({', '.join(sorted(current_revisions())) or 'empty'}).")
            return
        click.echo(f"Would apply {len(steps)} revision(s), in order (nothing was changed):")
        for rev, message in steps:
            click.echo(f"  {rev}  {message}")
        return
    if sql:  # offline: prints SQL, touches nothing
        flask_migrate.upgrade(directory, revision, True, tag, x_args)
        return
    with service.upgrade_guard(ctx()):
        db.session.remove()
        flask_migrate.upgrade(directory, revision, False, tag, x_args)


def db_group() -> click.Group:
    """Flask-Migrate's ``db`` group with this ``upgrade`` in place of its own."""
    base: Any = flask_migrate.cli.db
    group = click.Group(name="db", callback=base.callback, params=list(base.params),
                        help=base.help, commands=dict(base.commands))
    group.add_command(upgrade_command)
    return group
