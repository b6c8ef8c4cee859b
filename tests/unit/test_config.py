"""Configuration is checked at start-up; a missing or malformed secret refuses to start."""

from __future__ import annotations

from pathlib import Path

import pytest

from kt1 import create_app
from kt1.config import normalise_database_url
from kt1.errors import ConfigError
from tests.conftest import SUBJECT_KEY


def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **cfg: object):
    for var in ("KT1_SECRET_KEY", "KT1_SUBJECT_KEY", "KT1_DEMO", "KT1_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return create_app({"INSTANCE_PATH": str(tmp_path), **cfg})


def test_missing_secret_key_outside_demo_mode_refuses_to_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="KT1_SECRET_KEY is not set"):
        make(tmp_path, monkeypatch, SUBJECT_KEY=SUBJECT_KEY)


def test_missing_subject_key_refuses_to_start(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="KT1_SUBJECT_KEY is not set"):
        make(tmp_path, monkeypatch, SECRET_KEY="x" * 32)


def test_malformed_subject_key_refuses_to_start(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="32 bytes"):
        make(tmp_path, monkeypatch, SECRET_KEY="x" * 32, SUBJECT_KEY="bm90LWEta2V5")


def test_short_secret_key_refuses_to_start(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="too short"):
        make(tmp_path, monkeypatch, SECRET_KEY="short", SUBJECT_KEY=SUBJECT_KEY)


def test_bad_service_letters_refuse_to_start(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="SERVICE_LETTERS"):
        make(tmp_path, monkeypatch, SECRET_KEY="x" * 32, SUBJECT_KEY=SUBJECT_KEY,
             SERVICE_LETTERS="K1")


def test_demo_mode_generates_secrets_once_and_keeps_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = make(tmp_path, monkeypatch, DEMO=True)
    second = make(tmp_path, monkeypatch, DEMO=True)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SUBJECT_KEY"] == second.config["SUBJECT_KEY"]
    assert (tmp_path / "demo-secrets.json").stat().st_mode & 0o077 == 0


def test_environment_overrides_instance_config(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.py").write_text('SERVICE_LETTERS = "RR"\nMAX_CLOCK_SKEW_SECONDS = 60\n')
    monkeypatch.setenv("KT1_MAX_CLOCK_SKEW_SECONDS", "30")
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x" * 32,
                      "SUBJECT_KEY": SUBJECT_KEY})
    assert app.config["SERVICE_LETTERS"] == "RR"
    assert app.config["MAX_CLOCK_SKEW_SECONDS"] == 30


def test_postgres_urls_use_psycopg_3() -> None:
    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"
