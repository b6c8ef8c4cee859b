"""Every ``KT1_*`` setting the application reads is documented in deploy/kt1.env, with its
default where it has one, and the file documents nothing the application does not read: the
server's settings file cannot go stale (docs/operations.md)."""

from __future__ import annotations

import re
from pathlib import Path

from kt1 import config

ROOT = Path(__file__).resolve().parents[2]
ENV_FILE = ROOT / "deploy" / "kt1.env"
#: A whole string literal naming a variable: os.environ.get("KT1_X"), envvar="KT1_X", ...
LITERAL = re.compile(r"""["'](KT1_[A-Z0-9_]+)["']""")
#: A setting line of the environment file, kept (KEY=value) or left at its default (#KEY=...).
SETTING = re.compile(r"^#?(KT1_[A-Z0-9_]+)=(.*)$")


def settings_read_by_the_code() -> set[str]:
    names = {config.ENV_PREFIX + key for key in config.DEFAULTS}
    for path in (ROOT / "kt1").rglob("*.py"):
        names |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    return names


def documented() -> dict[str, tuple[str, bool]]:
    """Each setting of the file: its value there and whether a comment explains it (the
    nearest line above that is not itself a setting is a comment)."""
    lines = ENV_FILE.read_text(encoding="utf-8").splitlines()
    found: dict[str, tuple[str, bool]] = {}
    for index, line in enumerate(lines):
        match = SETTING.match(line)
        if not match:
            continue
        above = index - 1
        while above >= 0 and SETTING.match(lines[above]):
            above -= 1
        explained = above >= 0 and lines[above].startswith("# ") and len(lines[above]) > 3
        assert match.group(1) not in found, f"{match.group(1)} twice in {ENV_FILE.name}"
        found[match.group(1)] = (match.group(2), explained)
    return found


def test_the_code_is_read_for_every_kind_of_setting() -> None:
    """The scan finds settings read in each way (so that a miss cannot pass silently)."""
    read = settings_read_by_the_code()
    assert {"KT1_SECRET_KEY", "KT1_METRICS"} <= read  # config.DEFAULTS
    assert "KT1_INSTANCE_PATH" in read  # os.environ.get in kt1/__init__.py
    assert "KT1_USER" in read  # a click option's envvar
    assert "KT1_MARK" not in read  # a constant of the label, not a setting


def test_every_setting_the_code_reads_is_documented_in_the_environment_file() -> None:
    read, written = settings_read_by_the_code(), documented()
    missing = sorted(read - set(written))
    assert not missing, f"document these in deploy/kt1.env: {missing}"
    unexplained = sorted(name for name, (_value, explained) in written.items()
                         if not explained)
    assert not unexplained, f"explain these in a comment above them: {unexplained}"


def test_the_environment_file_names_no_setting_the_code_does_not_read() -> None:
    stale = sorted(set(documented()) - settings_read_by_the_code())
    assert not stale, f"deploy/kt1.env documents settings nothing reads: {stale}"


def test_a_setting_left_at_its_default_shows_the_default() -> None:
    """``#KT1_X=value`` says what the server uses when the line stays commented out."""
    lines = ENV_FILE.read_text(encoding="utf-8").splitlines()
    wrong = []
    for line in lines:
        match = SETTING.match(line)
        if not match or not line.startswith("#"):
            continue
        key, shown = match.group(1).removeprefix(config.ENV_PREFIX), match.group(2)
        default = config.DEFAULTS.get(key)
        if default is None:  # no default: an example, or empty
            continue
        if isinstance(default, bool):
            default = "1" if default else "0"
        if shown != str(default):
            wrong.append(f"{line} (default {default})")
    assert not wrong, wrong
