"""WSGI entry point: ``gunicorn wsgi:app``. The only module-level app."""

from kt1 import create_app

app = create_app()
