"""Stripe webhooks: signature verification, then which payment an event is about.

`verify_stripe_event` runs on the request path (the caller answers 400 on `WebhookRejected`).
`payment_ref` says which payment (Checkout Session or PaymentIntent) and invoice an event
names; it decides nothing about money: dispatch retrieves the payment again from Stripe and
`payments.ledger.reconcile` decides (TESTCASES design rule 2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = [
    "HANDLED_EVENT_TYPES",
    "PaymentRef",
    "WebhookRejected",
    "event_object",
    "payment_ref",
    "verify_stripe_event",
]

# Every event type Facto subscribes to (README, going live) and sweeps the Events API for.
SESSION_EVENT_TYPES = (
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
)
CHARGE_EVENT_TYPES = ("charge.refunded", "charge.dispute.created", "charge.dispute.closed")
HANDLED_EVENT_TYPES = SESSION_EVENT_TYPES + CHARGE_EVENT_TYPES


class WebhookRejected(Exception):
    """Not a genuine, fresh Stripe event. `reason` is a short code for logs and metrics.

    The message never contains the body or the header (TESTCASES 2).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_stripe_event(
    raw: bytes,
    signature_header: str | None,
    secrets: Sequence[str],
    *,
    now: datetime,
    tolerance: int = 300,
    max_future_skew: int = 300,
) -> dict[str, Any]:
    """Check the `Stripe-Signature` of the raw body against any configured secret, then parse.

    Both time checks use the injected `now`: stripe-python compares with time.time() and does
    not reject timestamps in the future (TESTCASES 3), so its own check is disabled.
    An empty secret list is a configuration error (ValueError), to be caught at boot.
    """
    if now.tzinfo is None:
        msg = "now must be timezone-aware"
        raise ValueError(msg)
    if not secrets or any(not s.strip() for s in secrets):
        msg = "at least one non-empty Stripe webhook secret must be configured"
        raise ValueError(msg)
    timestamp = _header_timestamp(signature_header)
    if not any(_signed_with(raw, signature_header, secret) for secret in secrets):
        raise WebhookRejected("bad_signature")
    age = now.timestamp() - timestamp
    if age > tolerance:
        raise WebhookRejected("too_old")
    if -age > max_future_skew:
        raise WebhookRejected("in_future")
    return _parse_event(raw)


def _header_timestamp(header: str | None) -> int:
    if not header:
        raise WebhookRejected("missing_header")
    pairs = [item.partition("=") for item in header.split(",")]
    stamps = [value for key, _, value in pairs if key.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit():
        raise WebhookRejected("malformed_header")
    if not any(key.strip() == "v1" and value for key, _, value in pairs):
        raise WebhookRejected("malformed_header")
    return int(stamps[0])


def _signed_with(raw: bytes, header: str | None, secret: str) -> bool:
    # The SDK is imported here, by the web process's first Stripe webhook: the worker reads
    # this module's event helpers and never checks a signature (issue 12, start-up time).
    import stripe

    try:
        stripe.WebhookSignature.verify_header(raw, header, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        return False
    return True


def _parse_event(raw: bytes) -> dict[str, Any]:
    try:
        event = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise WebhookRejected("not_json") from e
    if not isinstance(event, dict):
        raise WebhookRejected("not_an_event")
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise WebhookRejected("not_an_event")
    return event


# --- Which payment an event is about -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentRef:
    """The payment an event names. Session events name the session; refund and dispute
    events only the PaymentIntent (and, for refunds, the metadata Stripe copied on the
    charge)."""

    event_id: str
    event_type: str
    livemode: bool | None
    session_id: str | None
    payment_intent: str | None
    invoice_id: str | None
    merchant_id: str | None
    moves_money: bool  # worth an "unmatched" report when it cannot be placed (TESTCASES 24)
    # When Stripe created the event (Unix seconds): when the money landed, for the
    # fast-payment reward's window (payments.reward); None for events queued before it.
    created: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PaymentRef:
        fields: dict[str, Any] = {name: data.get(name) for name in cls.__slots__}
        return cls(**fields)


def event_object(event: Mapping[str, Any]) -> dict[str, Any] | None:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else None


def payment_ref(event: Mapping[str, Any]) -> PaymentRef | None:
    """The payment a verified event is about, or None for events we ignore (TESTCASES 14)."""
    event_type = event.get("type")
    obj = event_object(event)
    if event_type not in HANDLED_EVENT_TYPES or obj is None:
        return None
    livemode = event.get("livemode")
    metadata = obj.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, dict) else {}
    is_session = event_type in SESSION_EVENT_TYPES
    return PaymentRef(
        event_id=str(event.get("id")),
        event_type=str(event_type),
        livemode=livemode if isinstance(livemode, bool) else None,
        session_id=_text(obj.get("id")) if is_session else None,
        payment_intent=_text(obj.get("payment_intent")),
        invoice_id=_text(meta.get("invoice_id")),
        merchant_id=_text(meta.get("merchant_id")),
        moves_money=_moves_money(str(event_type), obj),
        created=_created(event.get("created")),
    )


def _moves_money(event_type: str, obj: Mapping[str, Any]) -> bool:
    if event_type == "checkout.session.completed":
        return obj.get("payment_status") in ("paid", "unpaid")
    return event_type in ("checkout.session.async_payment_succeeded", *CHARGE_EVENT_TYPES)


def _created(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
