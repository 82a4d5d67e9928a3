"""Structured (JSON) logs with phone numbers masked and secrets never printed."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

# International numbers, French national numbers (with or without separators) and 00-prefixed.
_PHONE = re.compile(r"(?<![\w/])(?:\+|00)?\d(?:[ .\-]?\d){7,14}(?!\w)")
_SECRET = re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9]+|\bwhsec_[A-Za-z0-9]+")
_TELEGRAM_TOKEN = re.compile(r"/bot\d+:[A-Za-z0-9_-]+")
# Facto's own merchant API keys: "fk_" + token_urlsafe(32). Shorter "fk_x" words are not keys.
_FACTO_API_KEY = re.compile(r"\bfk_[A-Za-z0-9_-]{16,}")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")


def mask_phone(phone: str) -> str:
    """+33612345678 -> +33•••••••78: enough to tell two customers apart in a log, no more."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return "•" * len(phone)
    prefix = "+" + digits[:2] if phone.startswith(("+", "00")) else digits[:2]
    return prefix + "•" * (len(digits) - 4) + digits[-2:]


def redact(text: str, extra_secrets: Iterable[str] = ()) -> str:
    for value in extra_secrets:
        if value:
            text = text.replace(value, "[secret]")
    text = _SECRET.sub("[secret]", text)
    text = _FACTO_API_KEY.sub("[secret]", text)
    text = _TELEGRAM_TOKEN.sub("/bot[secret]", text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


class RedactingJsonFormatter(logging.Formatter):
    """One JSON object per line; every string passes through `redact`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {"event": record.getMessage()}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        body = redact(json.dumps(entry, ensure_ascii=False, default=str), self._secrets)
        # Our own header is written after redaction: its digits are a time, not a phone.
        header = json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "logger": record.name,
            }
        )
        return header[:-1] + ", " + body[1:]


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingJsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiohttp's access log prints full paths, which include pay tokens.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The Twilio and Stripe SDKs log every request at INFO (ten lines per SMS for Twilio).
    logging.getLogger("twilio").setLevel(logging.WARNING)
    logging.getLogger("stripe").setLevel(logging.WARNING)
    # fpdf2 subsets fonts with fontTools, which logs ~50 INFO lines per PDF: they buried the
    # demo's banner.
    logging.getLogger("fontTools").setLevel(logging.WARNING)


def report_startup_failure(reason: str) -> None:
    """One JSON error line saying why the process cannot start, and nothing else.

    Settings may have failed before logging was configured: configure it then, so that even
    this line is JSON and redacted like the others.
    """
    root = logging.getLogger()
    if not any(isinstance(h.formatter, RedactingJsonFormatter) for h in root.handlers):
        configure_logging("INFO")
    logging.getLogger("bot").error("cannot start: %s", reason)


def log_fields(**fields: Any) -> dict[str, Any]:
    """`logger.info("event", extra=log_fields(invoice=..))` keeps fields structured."""
    return {"fields": fields}


CARD_REDACTED_FLAG = "card_redacted"  # set in an inbound message's `extra` when we redacted


def mask_card_numbers(text: str) -> str:
    """A card number typed into a chat is never stored or shown (TESTCASES 65)."""
    return _CARD.sub(lambda m: "[CARD REDACTED]" if _luhn_ok(m.group(0)) else m.group(0), text)


def _luhn_ok(candidate: str) -> bool:
    digits = [int(c) for c in candidate if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 1 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0
