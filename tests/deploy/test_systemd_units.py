"""The systemd units of deploy/systemd pass ``systemd-analyze verify`` (every key known, every
program there), with /opt/kt1/venv pointed at this checkout's virtual environment."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.deploy.conftest import DEPLOY, need_tool, venv_bin

UNITS = ("kt1-web.service", "kt1-worker.service", "kt1-backup.service", "kt1-backup.timer")


def installed(folder: Path, name: str, text: str | None = None) -> Path:
    """The unit as the server has it, with the venv of this checkout for /opt/kt1/venv."""
    text = text if text is not None else (DEPLOY / "systemd" / name).read_text()
    assert "/opt/kt1/venv/bin/" in text or name.endswith(".timer")
    unit = folder / name
    unit.write_text(text.replace("/opt/kt1/venv/bin/", f"{venv_bin('')}/"))
    return unit


def verify(*units: Path) -> tuple[int, str]:
    analyze = need_tool("systemd-analyze", "systemd")
    done = subprocess.run([analyze, "verify", "--man=no", *map(str, units)],
                          capture_output=True, text=True, check=False)
    # only what concerns our files (a container may warn about its own system)
    ours = [line for line in (done.stdout + done.stderr).splitlines()
            if any(unit.name in line or str(unit.parent) in line for unit in units)]
    return done.returncode, "\n".join(ours)


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    units = [installed(tmp_path, name) for name in UNITS]
    code, report = verify(*units)
    assert code == 0 and report == "", report


def test_verify_does_report_a_mistake_in_a_unit(tmp_path: Path) -> None:
    """The check can fail: a misspelt key, a program that is not there."""
    text = (DEPLOY / "systemd" / "kt1-web.service").read_text()
    unit = installed(tmp_path, "kt1-web.service",
                     text.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    code, report = verify(unit)
    assert "NoNewPrivilege" in report
    unit = installed(tmp_path, "kt1-web.service",
                     text.replace("/opt/kt1/venv/bin/gunicorn", "/opt/kt1/venv/bin/gunicron"))
    code, report = verify(unit)
    assert code != 0 and "gunicron" in report


def test_the_units_run_what_the_guide_installs() -> None:
    """The paths the units use are the ones docs/operations.md sets up."""
    guide = (DEPLOY.parent / "docs" / "operations.md").read_text()
    web = (DEPLOY / "systemd" / "kt1-web.service").read_text()
    worker = (DEPLOY / "systemd" / "kt1-worker.service").read_text()
    assert "--config /etc/kt1/gunicorn.conf.py kt1:create_app()" in web
    assert "ExecStart=/opt/kt1/venv/bin/kt1 worker" in worker
    for unit in (web, worker):
        assert "EnvironmentFile=/etc/kt1/kt1.env" in unit and "User=kt1" in unit
    for path in ("/etc/kt1/kt1.env", "/etc/kt1/gunicorn.conf.py", "/opt/kt1/venv",
                 "/var/lib/kt1", "kt1-web.service", "kt1-worker.service"):
        assert path in guide, path
