"""The drill of issue 9 (``bench/drill.py``): scans through a worker kill and a database restart.

The drill starts its own PostgreSQL in a temporary directory (never the one the rest of the
suite uses), serves the app with gunicorn, sends single and batched scans while it kills a
worker and restarts that PostgreSQL, retries what failed with the same scan ids, then
reconciles. Here it runs small, as a subprocess with a time limit.
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
DRILL = ROOT / "bench" / "drill.py"
TIME_LIMIT = 150  # seconds; a run takes about 30


def drill_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kt1_bench_drill", DRILL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_acknowledged_scan_survives_a_worker_kill_and_a_database_restart() -> None:
    missing = drill_module().missing_prerequisites()
    need(not missing, "the drill cannot run here: " + "; ".join(missing))
    proc = subprocess.Popen(
        [sys.executable, str(DRILL), "--envelopes", "30", "--clients", "3", "--workers", "2",
         "--load-timeout", "60", "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the drill stops its servers and removes its files
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"the drill took more than {TIME_LIMIT} s\n{out[-3000:]}\n{err[-3000:]}")
    assert proc.returncode in (0, 1), f"the drill could not run ({proc.returncode}):\n{err}"
    figures = json.loads(out)
    failed = [f"{c['name']}: {c['detail']}" for c in figures["checks"] if not c["ok"]]
    logged = figures.get("server_errors_logged")
    assert not failed, "\n".join([*failed, f"server errors logged: {logged}"])
    assert proc.returncode == 0

    # the summary holds what the checks rest on
    assert figures["scans_acknowledged"] == figures["scans_planned"] == 90
    assert figures["database"]["scans_stored"] == 90
    assert figures["database"]["duplicates"] == 0
    assert figures["database"]["lost"] == 0
    assert figures["verify"]["exit"] == 0
    assert figures["verify"]["summary"]["broken"] == 0
    faults = figures["faults"]
    assert faults["worker_killed_pid"] and faults["worker_replaced_after_s"] is not None
    assert faults["outage_s"] is not None
    assert set(figures["5xx_by_status"]) <= {"503"}
