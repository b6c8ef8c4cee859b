"""What an installed wheel needs at run time is inside the ``kt1`` package: the server runs
KT1 Track installed from a wheelhouse (docs/operations.md), with no source tree beside it.
(Building the wheel needs setuptools from the package index: docs/operations.md, "What was
tried", records a real build and install.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from flask import Flask

import kt1
from tests.deploy.conftest import ROOT

PACKAGE = Path(kt1.__file__).resolve().parent


def test_the_templates_are_inside_the_package() -> None:
    link = ROOT / "kt1" / "templates"
    assert link.is_symlink() and link.resolve() == (ROOT / "templates").resolve()
    assert (link / "base.html").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package_data = data["tool"]["setuptools"]["package-data"]["kt1"]
    for pattern in ("templates/**/*", "static/**/*", "migrations/*", "migrations/versions/*.py",
                    "translations/*/LC_MESSAGES/*"):
        assert pattern in package_data, pattern


def test_the_app_reads_its_files_from_the_package(app: Flask) -> None:
    assert Path(str(app.template_folder)).parent == PACKAGE
    assert Path(str(app.static_folder)).parent == PACKAGE


def test_no_code_reaches_for_files_beside_the_package() -> None:
    """``parents[2]`` or ``PROJECT_ROOT / ...`` would be site-packages/ once installed."""
    beside = re.compile(r"parents\[2\]|PROJECT_ROOT\s*/\s*\"(?!instance)")
    offenders = [str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py")
                 if "migrations" not in path.parts and beside.search(path.read_text())]
    assert not offenders, offenders
