"""WhatsApp settings: on when its sender is set; then every template needs its ContentSid."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bot.settings import ConfigurationError, Settings
from channels.whatsapp_templates import required_sid_keys, sandbox_content_sids

PROVIDERS = {
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_SMS_FROM": "+33700000000",
    "TELEGRAM_BOT_TOKEN": "1:x",
    "TELEGRAM_WEBHOOK_SECRET": "s",
    "STRIPE_API_KEY": "sk_test_x",
    "STRIPE_WEBHOOK_SECRET": "whsec_x",
}


def settings(**env: str) -> Settings:
    return Settings(_env_file=None, **{**PROVIDERS, **env})  # type: ignore[call-arg, arg-type]


def test_whatsapp_is_off_without_a_sender() -> None:
    plain = settings()
    assert not plain.whatsapp_enabled
    plain.require_credentials()  # nothing more is needed


def test_a_sender_without_content_sids_refuses_to_start_and_names_them() -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings(TWILIO_WHATSAPP_FROM="+33700000001").require_credentials()
    assert "WHATSAPP_CONTENT_SIDS" in str(refused.value)
    assert "facto_invoice:fr" in str(refused.value)


def test_a_sender_with_every_content_sid_starts() -> None:
    sids = json.dumps(sandbox_content_sids())
    ready = settings(TWILIO_WHATSAPP_FROM="+33700000001", WHATSAPP_CONTENT_SIDS=sids)
    ready.require_credentials()
    assert ready.whatsapp_enabled
    assert set(ready.whatsapp_content_sids) == set(required_sid_keys())


@pytest.mark.parametrize("value", ["not json", "[]", '{"facto_invoice:fr": "SM123"}'])
def test_malformed_content_sids_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        settings(WHATSAPP_CONTENT_SIDS=value)


def test_the_sandbox_has_a_whatsapp_sender_and_approved_templates() -> None:
    sandbox = Settings(_env_file=None, FACTO_SANDBOX=True)  # type: ignore[call-arg]
    assert sandbox.whatsapp_enabled
    assert sandbox.whatsapp_content_sids == sandbox_content_sids()
