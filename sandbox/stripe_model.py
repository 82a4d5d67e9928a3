"""Checkout Sessions as the Stripe emulator stores them, and validation of create params.

Validation follows Stripe's own rules where a bot could plausibly get them wrong (unknown
parameter, amounts as non-integers, mixed currencies, expires_at outside 30 min..24 h), so
that such bugs show up in the sandbox rather than in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

KNOWN_CREATE_PARAMS = frozenset(
    {
        "mode",
        "line_items",
        "success_url",
        "cancel_url",
        "client_reference_id",
        "metadata",
        "expires_at",
        "customer_email",
        "customer",
        "customer_creation",
        "locale",
        "payment_method_types",
        "payment_intent_data",
        "payment_method_options",
        "currency",
        "submit_type",
        "billing_address_collection",
        "phone_number_collection",
        "allow_promotion_codes",
        "custom_text",
        "consent_collection",
        "invoice_creation",
        "after_expiration",
        "expand",
        "ui_mode",
        "automatic_tax",
        "tax_id_collection",
    }
)
MIN_EXPIRY_SECONDS = 30 * 60
MAX_EXPIRY_SECONDS = 24 * 3600
_CURRENCY = re.compile(r"^[a-z]{3}$")


class StripeParamError(Exception):
    """A create parameter Stripe would refuse (400 invalid_request_error)."""

    def __init__(self, message: str, param: str, code: str = "parameter_invalid") -> None:
        super().__init__(message)
        self.message, self.param, self.code = message, param, code


@dataclass(frozen=True, slots=True)
class LineItem:
    name: str
    quantity: int
    unit_amount: int
    currency: str


@dataclass(slots=True)
class CheckoutSession:
    id: str
    url: str
    created: int
    expires_at: int
    line_items: tuple[LineItem, ...]
    success_url: str | None
    cancel_url: str | None
    client_reference_id: str | None
    metadata: dict[str, str]
    customer_email: str | None = None
    locale: str | None = None
    status: str = "open"
    payment_status: str = "unpaid"
    payment_intent: str | None = None
    payment_method: str | None = None  # "card" | "sepa_debit" once the customer chose
    sepa_failed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.line_items[0].currency

    @property
    def amount_total(self) -> int:
        return sum(item.unit_amount * item.quantity for item in self.line_items)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "checkout.session",
            "after_expiration": None,
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "livemode": False,
            "locale": self.locale,
            "metadata": dict(self.metadata),
            "mode": "payment",
            "payment_intent": self.payment_intent,
            "payment_link": None,
            "payment_method_types": ["card", "sepa_debit"],
            "payment_status": self.payment_status,
            "status": self.status,
            "success_url": self.success_url,
            "url": self.url if self.status == "open" else None,  # Stripe drops it once closed
        }


def validate_create_params(params: dict[str, Any], now: int) -> dict[str, Any]:
    """Check `POST /v1/checkout/sessions` params; returns the fields a session needs."""
    unknown = sorted(set(params) - KNOWN_CREATE_PARAMS)
    if unknown:
        raise StripeParamError(
            f"Received unknown parameter: {unknown[0]}", unknown[0], "parameter_unknown"
        )
    if params.get("mode") != "payment":
        raise StripeParamError("The sandbox only supports mode=payment.", "mode")
    success_url = _optional_str(params, "success_url", 5000)
    if success_url is None:
        raise StripeParamError(
            "Missing required param: success_url.", "success_url", "parameter_missing"
        )
    expires_at = _expires_at(params.get("expires_at"), now)
    return {
        "line_items": _line_items(params.get("line_items")),
        "success_url": success_url,
        "cancel_url": _optional_str(params, "cancel_url", 5000),
        "client_reference_id": _optional_str(params, "client_reference_id", 200),
        "customer_email": _optional_str(params, "customer_email", 800),
        "locale": _optional_str(params, "locale", 10),
        "metadata": _metadata(params.get("metadata")),
        "expires_at": expires_at,
    }


def _optional_str(params: dict[str, Any], name: str, max_len: int) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise StripeParamError(f"Invalid {name}: must be a string of at most {max_len}.", name)
    return value


def _int(value: object, param: str, minimum: int = 0) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d{1,15}", value):
        raise StripeParamError(f"Invalid integer: {value!r}", param, "parameter_invalid_integer")
    number = int(value)
    if number < minimum:
        raise StripeParamError(f"{param} must be at least {minimum}.", param)
    return number


def _line_items(raw: object) -> tuple[LineItem, ...]:
    if not isinstance(raw, list) or not raw:
        raise StripeParamError(
            "line_items is required in payment mode.", "line_items", "parameter_missing"
        )
    items = tuple(_line_item(entry, f"line_items[{i}]") for i, entry in enumerate(raw))
    if len({item.currency for item in items}) > 1:
        raise StripeParamError("All line_items must share one currency.", "line_items")
    if len(items) > 100:
        raise StripeParamError("At most 100 line_items.", "line_items")
    return items


def _line_item(entry: object, param: str) -> LineItem:
    if not isinstance(entry, dict):
        raise StripeParamError(f"Invalid {param}.", param)
    if "price" in entry:
        raise StripeParamError(
            f"No such price: {entry['price']!r}", f"{param}[price]", "resource_missing"
        )
    price = entry.get("price_data")
    if not isinstance(price, dict):
        raise StripeParamError(
            f"Missing required param: {param}[price_data].", param, "parameter_missing"
        )
    currency = price.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise StripeParamError("Invalid currency.", f"{param}[price_data][currency]")
    product = price.get("product_data")
    name = product.get("name") if isinstance(product, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise StripeParamError(
            "Missing required param: product_data[name].",
            f"{param}[price_data][product_data][name]",
            "parameter_missing",
        )
    return LineItem(
        name=name,
        quantity=_int(entry.get("quantity"), f"{param}[quantity]", minimum=1),
        unit_amount=_int(price.get("unit_amount"), f"{param}[price_data][unit_amount]"),
        currency=currency,
    )


def _metadata(raw: object) -> dict[str, str]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict) or len(raw) > 50:
        raise StripeParamError("metadata must be a hash of at most 50 keys.", "metadata")
    for key, value in raw.items():
        if len(key) > 40 or not isinstance(value, str) or len(value) > 500:
            raise StripeParamError(
                "metadata keys are at most 40 characters, values 500.", f"metadata[{key}]"
            )
    return dict(raw)


def _expires_at(raw: object, now: int) -> int:
    if raw is None:
        return now + MAX_EXPIRY_SECONDS
    value = _int(raw, "expires_at")
    if not now + MIN_EXPIRY_SECONDS <= value <= now + MAX_EXPIRY_SECONDS:
        raise StripeParamError(
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
            "Checkout Session creation.",
            "expires_at",
        )
    return value


# --- What a completed session leaves behind: PaymentIntent, Charge, Refunds, Disputes --------


@dataclass(slots=True)
class PaymentIntent:
    """A session's PaymentIntent and its one Charge (Checkout makes one charge per intent)."""

    id: str
    charge_id: str
    amount: int
    currency: str
    created: int
    metadata: dict[str, str]
    status: str  # "processing" (SEPA pending) | "succeeded" | "requires_payment_method"
    amount_refunded: int = 0
    disputed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_received": self.amount if self.status == "succeeded" else 0,
            "created": self.created,
            "currency": self.currency,
            "latest_charge": self.charge_id,
            "livemode": False,
            "metadata": dict(self.metadata),
            "status": self.status,
        }

    def charge_json(self) -> dict[str, Any]:
        return {
            "id": self.charge_id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount if self.status == "succeeded" else 0,
            "amount_refunded": self.amount_refunded,
            "created": self.created,
            "currency": self.currency,
            "disputed": self.disputed,
            "livemode": False,
            # Stripe copies the PaymentIntent's metadata onto the charge it creates.
            "metadata": dict(self.metadata),
            "paid": self.status == "succeeded",
            "payment_intent": self.id,
            "refunded": self.amount_refunded >= self.amount,
            "status": "succeeded" if self.status == "succeeded" else "pending",
        }


@dataclass(frozen=True, slots=True)
class Refund:
    id: str
    amount: int
    currency: str
    payment_intent: str
    charge: str
    created: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": {},
            "payment_intent": self.payment_intent,
            "status": "succeeded",
        }


@dataclass(slots=True)
class Dispute:
    id: str
    amount: int
    currency: str
    payment_intent: str
    charge: str
    created: int
    status: str = "needs_response"  # then "won" or "lost"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "dispute",
            "amount": self.amount,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": self.payment_intent,
            "reason": "fraudulent",
            "status": self.status,
        }
