"""Configuration: defaults -> instance/config.py -> KT1_* environment -> test mapping.

Every setting is checked at start-up by :func:`validate`; a missing secret outside demo
mode refuses to start with a message that says which variable to set.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from kt1.errors import ConfigError

DEFAULTS: dict[str, Any] = {
    # Embedded default database: SQLite under instance/ (filled in by load()).
    "DATABASE_URL": None,
    "SECRET_KEY": None,
    # Fernet key (urlsafe base64, 32 bytes) that encrypts subjects (trích yếu) at rest.
    "SUBJECT_KEY": None,
    # Demo mode generates missing secrets into instance/demo-secrets.json.
    "DEMO": False,
    # S10 service letters for KT1 items (a domestic-use pair) and the country code.
    "SERVICE_LETTERS": "KT",
    "COUNTRY_CODE": "VN",
    # How far a device clock may run ahead of the server before an event is "in the future".
    "MAX_CLOCK_SKEW_SECONDS": 120,
    # How long after a scan its operator may still void it (a `voided` link), in minutes.
    "VOID_WINDOW_MINUTES": 10,
    # Longest free-text field accepted from a user or a device.
    "MAX_TEXT_LENGTH": 200,
    # Print the document number (số, ký hiệu) on the outer label: off by default (docs/rules.md,
    # rule 2 lets only the letter, the KT1 mark, addresses and service marks go outside).
    "LABEL_SHOW_DOCUMENT_NUMBER": False,
    # Ed25519 private key that signs checkpoints of the custody log: 32 raw bytes in base64,
    # or a PEM (PKCS#8) key. Only `kt1 checkpoint create` needs it; demo mode generates one.
    "CHECKPOINT_KEY": None,
    # How long after the device's event time a scan may reach the server (offline devices)
    # before verify reports the device clock as too far from the server's.
    "MAX_SCAN_DELAY_SECONDS": 86400,
    # A signed-in session ends on the server after this long without a request, and in any
    # case this long after signing in (signing out ends it at once).
    "SESSION_IDLE_MINUTES": 120,
    "SESSION_MAX_HOURS": 12,
    # Working days the heads of unit and the sender's security officers have to acknowledge
    # an incident before verify reports it (docs/rules.md, rule T2).
    "INCIDENT_ACK_WORKING_DAYS": 1,
    # Months ahead the "due for review" list looks for protection terms that end
    # (docs/domain.md §8; kt1/services/protection.py).
    "PROTECTION_REVIEW_MONTHS": 6,
    # Incident notices by email as well as the inbox: smtp://host:port on the isolated LAN
    # (unset: the inbox alone), optional login, the sender address, and the address the app
    # is opened at for the link in the email.
    "SMTP_URL": None,
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_FROM": "kt1-track@localhost",
    "PUBLIC_URL": "",
    # Serve Prometheus metrics at /metrics (off: /metrics is a 404). docs/operations.md.
    "METRICS": False,
    # The app is reached only through one reverse proxy on the same server (the nginx of
    # deploy/): take the client's address and the scheme from X-Forwarded-For and
    # X-Forwarded-Proto. Off: those headers are ignored (anyone could write them).
    "BEHIND_PROXY": False,
}

#: Flask and extension settings this app sets differently from their libraries' defaults.
#: (Flask's own config already holds these keys, so they are applied over it here.)
FRAMEWORK_DEFAULTS: dict[str, Any] = {
    "SESSION_COOKIE_NAME": "kt1_session",
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # one working shift
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "BABEL_DEFAULT_LOCALE": "vi",
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # Our pages send no Referer (Referrer-Policy: no-referrer), so Flask-WTF's Referer check
    # on https would refuse every form; kt1.web checks the Origin header instead.
    "WTF_CSRF_SSL_STRICT": False,
}

ENV_PREFIX = "KT1_"
_BOOL_KEYS = {"DEMO", "LABEL_SHOW_DOCUMENT_NUMBER", "METRICS", "BEHIND_PROXY"}
_INT_KEYS = {"MAX_CLOCK_SKEW_SECONDS", "MAX_TEXT_LENGTH", "MAX_SCAN_DELAY_SECONDS",
             "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "INCIDENT_ACK_WORKING_DAYS",
             "PROTECTION_REVIEW_MONTHS", "VOID_WINDOW_MINUTES"}


def _from_env(key: str, raw: str) -> Any:
    if key in _BOOL_KEYS:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT_KEYS:
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{ENV_PREFIX}{key} must be an integer, got {raw!r}") from exc
    return raw


def load(app: Flask, config: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` in order: defaults, instance/config.py, KT1_* environment, ``config``."""
    app.config.update(FRAMEWORK_DEFAULTS)
    app.config.update(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for key in DEFAULTS:
        raw = os.environ.get(ENV_PREFIX + key)
        if raw is not None:
            app.config[key] = _from_env(key, raw)
    if config:
        app.config.update(config)
    instance = Path(app.instance_path)
    if not app.config["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'kt1.sqlite3'}"
    if app.config["DEMO"]:
        _fill_demo_secrets(app, instance)
    validate(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _fill_demo_secrets(app: Flask, instance: Path) -> None:
    """Demo mode only: create the missing secrets once and keep them under instance/."""
    path = instance / "demo-secrets.json"
    instance.mkdir(parents=True, exist_ok=True)
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    changed = False
    for key, make in (
        ("SECRET_KEY", lambda: secrets.token_urlsafe(48)),
        ("SUBJECT_KEY", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()),
        ("CHECKPOINT_KEY", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
    ):
        if not app.config.get(key):
            if key not in stored:
                stored[key] = make()
                changed = True
            app.config[key] = stored[key]
    if changed:
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)


def validate(cfg: Any) -> None:
    """Refuse to start on a missing or malformed setting, naming the variable to fix."""
    if not cfg.get("SECRET_KEY"):
        raise ConfigError(
            "KT1_SECRET_KEY is not set. Set it in the environment or in instance/config.py "
            "(or run in demo mode with KT1_DEMO=1, which generates one)."
        )
    if len(str(cfg["SECRET_KEY"])) < 16:
        raise ConfigError("KT1_SECRET_KEY is too short: use at least 16 random characters.")
    key = cfg.get("SUBJECT_KEY")
    if not key:
        raise ConfigError(
            "KT1_SUBJECT_KEY is not set: it encrypts subjects at rest. Create one with "
            "`python -c 'import base64,os;"
            "print(base64.urlsafe_b64encode(os.urandom(32)).decode())'`."
        )
    try:
        if len(base64.urlsafe_b64decode(str(key).encode())) != 32:
            raise ValueError
    except ValueError as exc:
        raise ConfigError("KT1_SUBJECT_KEY must be 32 bytes in urlsafe base64.") from exc
    if cfg.get("CHECKPOINT_KEY"):
        from kt1.services.checkpoints import load_signing_key

        try:
            load_signing_key(str(cfg["CHECKPOINT_KEY"]))
        except ValueError as exc:
            raise ConfigError(
                "KT1_CHECKPOINT_KEY must be an Ed25519 private key: 32 random bytes in base64 "
                "(`python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())'`)"
                " or a PEM (PKCS#8) key.") from exc
    for minimum_one in ("SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS", "INCIDENT_ACK_WORKING_DAYS",
                        "PROTECTION_REVIEW_MONTHS"):
        if int(cfg.get(minimum_one, 1)) < 1:
            raise ConfigError(f"KT1_{minimum_one} must be a whole number of at least 1.")
    smtp = cfg.get("SMTP_URL")
    if smtp and not str(smtp).startswith(("smtp://", "smtps://")):
        raise ConfigError("KT1_SMTP_URL must look like smtp://host:port (or smtps://host:port).")
    letters = str(cfg.get("SERVICE_LETTERS", ""))
    if len(letters) != 2 or not letters.isascii() or not letters.isalpha() or not letters.isupper():
        raise ConfigError("KT1_SERVICE_LETTERS must be two capital letters, e.g. KT.")
    country = str(cfg.get("COUNTRY_CODE", ""))
    if len(country) != 2 or not country.isascii() or not country.isalpha() or not country.isupper():
        raise ConfigError("KT1_COUNTRY_CODE must be two capital letters, e.g. VN.")
