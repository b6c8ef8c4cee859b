"""What every service receives: a database session, settings and a clock. No Flask here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from kt1.models.base import utcnow


@dataclass(frozen=True)
class Settings:
    """The slice of configuration the services need."""

    subject_key: str
    service_letters: str = "KT"
    country_code: str = "VN"
    max_clock_skew: timedelta = timedelta(seconds=120)
    max_text_length: int = 200
    checkpoint_key: str | None = None
    max_scan_delay: timedelta = timedelta(days=1)
    #: Working days a recipient has to acknowledge an incident (rule T2).
    incident_ack_working_days: float = 1
    #: Months ahead the "due for review" list looks (docs/domain.md §8).
    protection_review_months: int = 6
    #: Incident notices by email (kt1/services/notices.py): ``smtp://host:port`` on the
    #: isolated LAN, or None for the inbox alone.
    smtp_url: str | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "kt1-track@localhost"
    #: The address people open the app at, for links in emails ("" : the path alone).
    public_url: str = ""
    #: How long after a scan its operator may still void it.
    void_window: timedelta = timedelta(minutes=10)

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> Settings:
        return cls(
            subject_key=str(cfg["SUBJECT_KEY"]),
            service_letters=str(cfg["SERVICE_LETTERS"]),
            country_code=str(cfg["COUNTRY_CODE"]),
            max_clock_skew=timedelta(seconds=int(cfg["MAX_CLOCK_SKEW_SECONDS"])),
            max_text_length=int(cfg["MAX_TEXT_LENGTH"]),
            checkpoint_key=str(cfg["CHECKPOINT_KEY"]) if cfg.get("CHECKPOINT_KEY") else None,
            max_scan_delay=timedelta(seconds=int(cfg.get("MAX_SCAN_DELAY_SECONDS", 86400))),
            incident_ack_working_days=float(cfg.get("INCIDENT_ACK_WORKING_DAYS", 1)),
            protection_review_months=int(cfg.get("PROTECTION_REVIEW_MONTHS", 6)),
            smtp_url=str(cfg["SMTP_URL"]) if cfg.get("SMTP_URL") else None,
            smtp_user=str(cfg["SMTP_USER"]) if cfg.get("SMTP_USER") else None,
            smtp_password=str(cfg["SMTP_PASSWORD"]) if cfg.get("SMTP_PASSWORD") else None,
            smtp_from=str(cfg.get("SMTP_FROM") or "kt1-track@localhost"),
            public_url=str(cfg.get("PUBLIC_URL") or "").rstrip("/"),
            void_window=timedelta(minutes=int(cfg.get("VOID_WINDOW_MINUTES", 10))),
        )


#: ``session.info`` key: the settings of the last unit of work on that session (the
#: incident notices, kt1/services/notices.py, are sent with them after commit).
SESSION_SETTINGS = "kt1.settings"


@dataclass
class Ctx:
    """A unit of work: one session, the settings, and the server clock."""

    session: Session
    settings: Settings
    now: Callable[[], datetime] = field(default=utcnow)

    def __post_init__(self) -> None:
        self.session.info[SESSION_SETTINGS] = self.settings
