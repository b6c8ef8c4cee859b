"""The subject line (trích yếu): stored only where the dated rule allows, always encrypted."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.orm import Session

from kt1.errors import ForbiddenError
from kt1.models import Envelope, SubjectRule, User
from kt1.models.enums import Classification, SubjectPolicy
from kt1.services.access import can_read_subject

VIETNAM = timezone(timedelta(hours=7))


def local_date(moment: datetime) -> date:
    """The calendar date in Vietnam (UTC+7) on which ``moment`` falls."""
    return moment.astimezone(VIETNAM).date()


def subject_policy(session: Session, classification: Classification, on: date) -> SubjectPolicy:
    """The policy in force on ``on`` for ``classification``; forbidden when no rule covers it."""
    policy = session.execute(
        select(SubjectRule.policy)
        .where(SubjectRule.classification == classification, SubjectRule.effective_from <= on)
        .order_by(SubjectRule.effective_from.desc())
        .limit(1)
    ).scalar()
    return policy or SubjectPolicy.FORBIDDEN


class SubjectCipher:
    """Fernet (AES-128-CBC + HMAC-SHA256) with the configured key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, subject: str) -> bytes:
        return self._fernet.encrypt(subject.encode("utf-8"))

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:  # a wrong key is a configuration fault, not user input
            raise RuntimeError("subject key does not match the stored subjects") from exc


def read_subject(actor: User, envelope: Envelope, key: str) -> str | None:
    """The decrypted subject, for the sender unit's registry clerks and security officers."""
    if not can_read_subject(actor, envelope):
        raise ForbiddenError()
    if envelope.subject_ciphertext is None:
        return None
    return SubjectCipher(key).decrypt(envelope.subject_ciphertext)
