"""KT1 Track: chain of custody for secret-mail envelopes on the KT1 postal network."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The pages' templates: templates/ of the source tree, inside the package as kt1/templates
#: (a link in the source tree, the folder itself in an installed wheel).
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: What a 503 (the database cannot be reached) tells clients to wait before trying again.
RETRY_AFTER_SECONDS = 10


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config, extensions, database, CLI."""
    from kt1 import config as config_mod
    from kt1 import database, models  # noqa: F401  (models register their tables)
    from kt1.extensions import db, migrate

    instance_path = os.environ.get("KT1_INSTANCE_PATH") or (config or {}).get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else str(
            PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(TEMPLATES),
    )
    config_mod.load(app, config)
    if app.config["BEHIND_PROXY"]:
        # one proxy (nginx on this server): its X-Forwarded-For and -Proto, nobody else's
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database.engine_options(
        app.config["SQLALCHEMY_DATABASE_URI"], app.config.get("SQLALCHEMY_ENGINE_OPTIONS"))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(database.MIGRATIONS_DIR))
    database.init_app(app)
    from kt1.services import notices

    notices.install()

    from kt1 import api, health, http_errors, request_guard, web
    from kt1.cli import register as register_cli
    from kt1.web import scan as scan_page

    health.init_app(app)  # first: its request timer must run before any other hook
    api_ext = api.init_app(app)
    scan_page.init_app(app)
    web.init_app(app)
    http_errors.init_app(app, api_ext)
    request_guard.init_app(app)

    register_cli(app)

    return app
