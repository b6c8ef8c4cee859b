"""A receipt (ký nhận) is checked once per actor, and a failed or stale one never passes."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from kt1.errors import AcknowledgementInvalidError
from kt1.models.enums import AckMethod
from kt1.services import access
from kt1.services.access import Receipt, hash_secret, verify_receipt


def person(**kw: Any) -> Any:
    return SimpleNamespace(id=kw.pop("id", 1), is_active=True, pin_hash=hash_secret("2468"),
                           badge_hash=None, unit_id=1, **kw)


def test_one_receipt_signing_many_envelopes_runs_its_pin_check_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = access.check_secret
    monkeypatch.setattr(access, "check_secret", lambda h, s: calls.append(1) or real(h, s))
    receipt = Receipt(user=person(), method=AckMethod.PIN, secret="2468")
    clerk, other = SimpleNamespace(id=2, unit_id=1), SimpleNamespace(id=3, unit_id=1)
    for _ in range(20):
        verify_receipt(clerk, receipt)
    assert len(calls) == 1
    verify_receipt(other, receipt)  # checked again for another actor
    assert len(calls) == 2


def test_a_wrong_pin_is_refused_every_time_and_a_deactivated_user_after_a_good_check() -> None:
    clerk = SimpleNamespace(id=2, unit_id=1)
    wrong = Receipt(user=person(), method=AckMethod.PIN, secret="0000")
    for _ in range(2):
        with pytest.raises(AcknowledgementInvalidError):
            verify_receipt(clerk, wrong)
    user = person()
    good = Receipt(user=user, method=AckMethod.PIN, secret="2468")
    verify_receipt(clerk, good)
    user.is_active = False
    with pytest.raises(AcknowledgementInvalidError):
        verify_receipt(clerk, good)
