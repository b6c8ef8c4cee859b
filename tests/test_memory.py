"""Every test's app is freed when its test ends (docs/testing.md, "Memory").

The suite builds an app, an engine and a database per test (some 1900 of them): anything
that keeps one alive (a module-level extension holding the app's blueprints, a cache keyed
on its engine's dialect) made the suite grow by megabytes a test and spend minutes in the
final garbage collection. Counts of live objects, not timings.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

from flask import Flask

from kt1 import create_app
from kt1.extensions import db
from tests.conftest import base_config, forget_compiled_statements

APPS = 3


def live(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def test_apps_are_freed_after_their_test(database_url: str,
                                                               tmp_path: Path) -> None:
    gc.collect()
    before = {k.__name__: live(k) for k in (Flask,)}
    refs = []
    for _ in range(APPS):
        app = create_app({**base_config(tmp_path), "DATABASE_URL": database_url})
        with app.app_context():
            client = app.test_client()
            assert client.get("/api/v1/openapi.json").status_code == 200
            assert client.get("/login", base_url="https://localhost").status_code == 200
            refs.append(weakref.ref(app))
            db.session.remove()
            db.engine.dispose()
        forget_compiled_statements()
        del app, client
    gc.collect()
    assert [r() for r in refs if r() is not None] == []
    assert {k.__name__: live(k) for k in (Flask,)} == before
