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
        )


@dataclass
class Ctx:
    """A unit of work: one session, the settings, and the server clock."""

    session: Session
    settings: Settings
    now: Callable[[], datetime] = field(default=utcnow)
