"""Unbound Flask extensions; bound to an app in :func:`kt1.create_app`."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from kt1.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
