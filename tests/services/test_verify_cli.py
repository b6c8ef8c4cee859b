"""``kt1 verify``, ``kt1 checkpoint``, ``kt1 rules`` and ``kt1 dayoff`` on both databases."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask

from kt1.extensions import db
from kt1.services.context import Ctx, Settings
from tests.conftest import Clock, Network
from tests.journey import carry, register
from tests.services.test_tamper import KEY, OTHER_KEY


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


def output(result: Result) -> str:
    """Everything the command wrote (click mixes stderr into ``output``)."""
    return result.output


@pytest.fixture
def on_clock(app: Flask, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The commands see the test's clock instead of the wall clock."""
    monkeypatch.setattr("kt1.cli.verify.ctx", lambda: Ctx(
        session=db.session, settings=Settings.from_mapping(app.config), now=clock))
    return clock


@pytest.mark.bare_db
def test_after_the_demo_verify_reports_the_broken_seal_and_the_overdue_envelope(
        app: Flask) -> None:
    assert run(app, "demo").exit_code == 0
    result = run(app, "verify", "--all", "--json")
    assert result.exit_code == 1, output(result)
    data = json.loads(result.output)
    flagged = {e["number"]: e for e in data["envelopes"] if e["findings"]}
    by_code = {f["code"]: e for e in flagged.values() for f in e["findings"]}
    assert set(by_code) == {"seal_anomaly", "deadline_missed"}
    assert by_code["seal_anomaly"]["status"] == "broken"
    assert by_code["deadline_missed"]["status"] == "overdue"
    assert len(flagged) == 2
    others = [e for e in data["envelopes"] if not e["findings"]]
    assert {e["status"] for e in others} == {"complete", "in_transit"}
    summary = data["summary"]
    assert summary["broken"] == 1 and summary["overdue"] == 1
    assert summary["envelopes"] == len(data["envelopes"])
    assert data["checkpoint"] is None


def test_verify_exits_0_when_nothing_is_broken_and_prints_a_summary_per_status(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock) -> None:
    env = register(ctx, network)
    carry(ctx, network, on_clock, env)
    register(ctx, network)
    result = run(app, "verify", "--all")
    assert result.exit_code == 0, output(result)
    for line in ("complete: 1", "in_transit: 1", "overdue: 0", "broken: 0"):
        assert line in result.output
    shown = run(app, "verify", env.number)
    assert shown.exit_code == 0
    assert f"{env.number}  complete" in shown.output


def test_verify_exits_1_and_writes_the_findings_to_csv_when_a_record_is_broken(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock, tmp_path: Path) -> None:
    from tests.services.test_verify import rewrite

    env = register(ctx, network)
    carry(ctx, network, on_clock, env)
    rewrite(ctx, env.number, lambda rows: rows[1].update(ack_user_id=None, ack_method=None))
    path = tmp_path / "findings.csv"
    result = run(app, "verify", "--all", "--csv", str(path))
    assert result.exit_code == 1
    assert "[receipt_missing] #1" in result.output
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [(r["number"], r["code"], r["seq"], r["status"]) for r in rows] == [
        (env.number, "receipt_missing", "1", "broken")]
    assert rows[0]["message_vi"] and rows[0]["message_en"]


def test_verify_since_a_day_checks_only_envelopes_with_handoffs_since_then(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock) -> None:
    old = register(ctx, network)
    carry(ctx, network, on_clock, old)
    on_clock.tick(60 * 24 * 3)
    new = register(ctx, network)
    result = run(app, "verify", "--since", "2026-11-25", "--json")
    assert result.exit_code == 0, output(result)
    numbers = [e["number"] for e in json.loads(result.output)["envelopes"]]
    assert numbers == [new.number]
    none = run(app, "verify", "--since", "2027-01-01")
    assert none.exit_code == 0
    assert "Không có bưu gửi nào" in none.output


@pytest.mark.parametrize(("args", "slug"), [
    (["KT000000080VN"], "unknown_envelope"),
    (["KT000000081VN"], "check_digit_invalid"),
    (["12345"], "number_length_invalid"),
])
def test_verify_refuses_unknown_or_malformed_numbers_with_a_clear_error(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock, args: list[str],
        slug: str) -> None:
    register(ctx, network)
    result = run(app, "verify", *args)
    assert result.exit_code == 2
    assert f"[{slug}]" in output(result)
    assert "Traceback" not in output(result)


def test_verify_on_an_empty_database_is_a_clear_error(app: Flask, network: Network) -> None:
    result = run(app, "verify", "--all")
    assert result.exit_code == 2
    assert "[nothing_to_verify]" in output(result)
    usage = run(app, "verify")
    assert usage.exit_code == 2
    assert "--all" in output(usage)


def _checkpoint_file(app: Flask, tmp_path: Path) -> Path:
    app.config["CHECKPOINT_KEY"] = KEY
    created = run(app, "checkpoint", "create")
    assert created.exit_code == 0, output(created)
    path = tmp_path / "checkpoint.txt"
    exported = run(app, "checkpoint", "export", "--output", str(path))
    assert exported.exit_code == 0, output(exported)
    return path


def test_an_exported_checkpoint_verifies_and_a_cut_log_fails_it(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock, tmp_path: Path) -> None:
    from tests.services.test_tamper import _cut_newest

    env = register(ctx, network)
    carry(ctx, network, on_clock, env)
    path = _checkpoint_file(app, tmp_path)
    assert "KT1-CHECKPOINT v1" in path.read_text(encoding="utf-8")
    ok = run(app, "verify", "--all", "--checkpoint", str(path))
    assert ok.exit_code == 0, output(ok)
    assert "OK" in ok.output
    _cut_newest(ctx, env.number, 2)
    cut = run(app, "verify", "--all", "--checkpoint", str(path), "--json")
    assert cut.exit_code == 1
    data = json.loads(cut.output)
    assert data["checkpoint"]["consistent"] is False
    assert data["summary"]["broken"] == 0  # only the checkpoint sees the cut
    alone = run(app, "checkpoint", "verify", str(path))
    assert alone.exit_code == 1
    assert "Handoffs were removed" in alone.output


@pytest.mark.parametrize(("change", "slug"), [
    ("altered", "checkpoint_altered"),
    ("other key", "checkpoint_wrong_key"),
    ("other installation", "checkpoint_other_installation"),
    ("garbage", "checkpoint_file_invalid"),
    ("binary", "checkpoint_file_invalid"),
])
def test_a_bad_checkpoint_file_is_a_clear_error(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock, tmp_path: Path, change: str,
        slug: str) -> None:
    import dataclasses

    from kt1.services.checkpoints import load_signing_key, parse_file, public_hex

    env = register(ctx, network)
    carry(ctx, network, on_clock, env)
    path = _checkpoint_file(app, tmp_path)
    file = parse_file(path.read_text(encoding="utf-8"))
    if change == "altered":
        path.write_text(path.read_text(encoding="utf-8").replace(
            f"root: {file.root}", f"root: {'0' * 64}"), encoding="utf-8")
    elif change == "other key":
        forged = dataclasses.replace(file, public_key=public_hex(OTHER_KEY))
        forged = dataclasses.replace(
            forged, signature=OTHER_KEY.sign(forged.signed_message()).hex())
        path.write_text(forged.render(), encoding="utf-8")
    elif change == "other installation":
        forged = dataclasses.replace(file, installation="11111111-2222-4333-8444-555555555555")
        forged = dataclasses.replace(forged, signature=load_signing_key(KEY).sign(
            forged.signed_message()).hex())
        path.write_text(forged.render(), encoding="utf-8")
    elif change == "garbage":
        path.write_text("không phải điểm kiểm tra\n", encoding="utf-8")
    else:
        path.write_bytes(b"\xff\xfe\x00binary")
    for args in (["verify", "--all", "--checkpoint", str(path)],
                 ["checkpoint", "verify", str(path)]):
        result = run(app, *args)
        assert result.exit_code == 2, output(result)
        assert f"[{slug}]" in output(result)
        assert "Traceback" not in output(result)


def test_checkpoint_commands_without_a_key_say_which_setting_is_missing(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock) -> None:
    register(ctx, network)
    result = run(app, "checkpoint", "create")
    assert result.exit_code == 2
    assert "KT1_CHECKPOINT_KEY" in output(result)
    assert run(app, "checkpoint", "export").exit_code == 2  # none made yet


def test_checkpoint_create_daily_makes_one_a_day(
        app: Flask, ctx: Ctx, network: Network, on_clock: Clock) -> None:
    register(ctx, network)
    app.config["CHECKPOINT_KEY"] = KEY
    assert run(app, "checkpoint", "create", "--daily").exit_code == 0
    again = run(app, "checkpoint", "create", "--daily")
    assert again.exit_code == 0
    assert "không tạo thêm" in again.output
    listed = json.loads(run(app, "checkpoint", "list", "--json").output)
    assert len(listed) == 1


def test_rules_and_days_off_from_the_command_line(
        app: Flask, network: Network, on_clock: Clock) -> None:
    listed = json.loads(run(app, "rules", "list", "--json").output)
    assert listed[0]["limits"] == {
        "inter_province/flash": 2.5, "inter_province/standard": 3.5,
        "intra_province/flash": 1.0, "intra_province/standard": 1.5}
    added = run(app, "rules", "add", "--effective-from", "2027-01-01", "--name",
                "Thông tư 15/2022", "--intra", "1", "--inter", "3", "--flash-intra", "0.5",
                "--flash-inter", "2")
    assert added.exit_code == 0, output(added)
    past = run(app, "rules", "add", "--effective-from", "2026-01-01", "--name", "x",
               "--intra", "1", "--inter", "3", "--flash-intra", "0.5", "--flash-inter", "2")
    assert past.exit_code == 2
    assert "[rule_set_in_force]" in output(past)
    assert len(json.loads(run(app, "rules", "list", "--json").output)) == 2
    assert run(app, "rules", "remove", "2027-01-01").exit_code == 0
    assert run(app, "dayoff", "add", "2026-12-24", "--reason", "Bão").exit_code == 0
    days: list[dict[str, Any]] = json.loads(run(app, "dayoff", "list", "--json").output)
    assert days == [{"day": "2026-12-24", "reason": "Bão", "source": "administrator"}]
    year = json.loads(run(app, "dayoff", "list", "--year", "2026", "--json").output)
    assert {"day": "2026-02-17", "reason": "Lunar New Year", "source": "holidays"} in year
