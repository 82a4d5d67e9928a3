"""Logs are JSON, phone numbers masked, secrets and card numbers never printed."""

from __future__ import annotations

import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from bot.logs import RedactingJsonFormatter, log_fields, mask_card_numbers, mask_phone, redact


def render(message: str, **fields: object) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None)
    record.fields = fields
    return RedactingJsonFormatter(secrets=["sandbox-twilio-token"]).format(record)


def test_phone_numbers_are_masked_in_every_form() -> None:
    line = render(
        "from +33612345678 and 06 12 34 56 78 and 0033612345678", conv="sms:+33612345678"
    )
    for raw in ("+33612345678", "06 12 34 56 78", "0033612345678", "612345678"):
        assert raw not in line
    assert "+33•••••••78" in line
    assert json.loads(line)["event"].startswith("from +33")


def test_secrets_and_tokens_are_never_printed() -> None:
    line = render(
        "calling /bot123456:ABC-def/sendMessage with sk_test_abc and whsec_xyz",
        token="sandbox-twilio-token",
    )
    assert "ABC-def" not in line and "sk_test_abc" not in line and "whsec_xyz" not in line
    assert "sandbox-twilio-token" not in line


def test_log_fields_are_structured() -> None:
    entry = json.loads(render("sent", **log_fields(key="k1")["fields"]))
    assert entry["key"] == "k1" and entry["level"] == "info"


def test_mask_phone_keeps_only_country_and_last_digits() -> None:
    assert mask_phone("+33612345678") == "+33•••••••78"
    assert mask_phone("12") == "••"


def test_luhn_valid_card_numbers_are_redacted() -> None:
    assert mask_card_numbers("carte 4242 4242 4242 4242 exp 12/28") == (
        "carte [CARD REDACTED] exp 12/28"
    )
    assert mask_card_numbers("commande 1234 5678 9012 3456") == "commande 1234 5678 9012 3456"


@given(st.from_regex(r"\+33[67]\d{8}", fullmatch=True))
def test_any_french_mobile_is_masked(phone: str) -> None:
    assert phone not in redact(f"customer {phone} wrote")


def test_the_timestamp_is_not_mistaken_for_a_phone_number() -> None:
    entry = json.loads(render("sent"))
    assert "•" not in entry["time"] and entry["time"][:4].isdigit()


def test_the_twilio_sdk_does_not_log_each_request() -> None:
    """Issue 13: ten INFO lines per SMS from twilio.http_client drowned the demo's log."""
    import logging

    from bot.logs import configure_logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        assert not logging.getLogger("twilio.http_client").isEnabledFor(logging.INFO)
        assert not logging.getLogger("stripe").isEnabledFor(logging.INFO)
        assert not logging.getLogger("fontTools.subset").isEnabledFor(logging.INFO)
        assert logging.getLogger("bot").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("twilio").setLevel(logging.NOTSET)
        logging.getLogger("stripe").setLevel(logging.NOTSET)
        logging.getLogger("fontTools").setLevel(logging.NOTSET)
