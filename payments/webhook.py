"""Stripe webhooks: signature verification, then pure reconciliation rules.

`verify_stripe_event` runs on the request path (the caller answers 400 on `WebhookRejected`).
`interpret_event` and `apply_payment` run in dispatch, after the event was stored; they decide,
the lead's dispatch applies the decision atomically with its dedupe record.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

import stripe

from payments.instalments import is_valid_purpose
from payments.invoice import Invoice, InvoiceStatus, advance, settled_status

__all__ = [
    "PaymentDecision",
    "PaymentUpdate",
    "UnmatchedPayment",
    "WebhookRejected",
    "apply_payment",
    "interpret_event",
    "verify_stripe_event",
]

Outcome = Literal["paid", "processing", "failed", "expired"]
DecisionKind = Literal[
    "paid", "processing", "failed", "expired", "duplicate", "mismatch", "already_paid", "stale"
]


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


# --- Interpretation: a verified event → what happened to which invoice ---------------------


@dataclass(frozen=True, slots=True)
class PaymentUpdate:
    invoice_id: str
    merchant_id: str
    purpose: str  # "invoice" or "instalment:<n>"
    session_id: str
    outcome: Outcome
    amount: int
    currency: str  # uppercase


@dataclass(frozen=True, slots=True)
class UnmatchedPayment:
    """Money we cannot attach to an invoice: parked for the daily report (TESTCASES 24)."""

    event_id: str
    event_type: str
    session_id: str | None
    reason: str  # "missing_metadata" | "malformed_session" | "livemode_mismatch"


_OUTCOMES: Mapping[str, Outcome] = MappingProxyType(
    {
        "checkout.session.async_payment_succeeded": "paid",
        "checkout.session.async_payment_failed": "failed",
        "checkout.session.expired": "expired",
    }
)


def interpret_event(
    event: Mapping[str, Any], *, expected_livemode: bool | None = None
) -> PaymentUpdate | UnmatchedPayment | None:
    """The payment fact an event states, or None for events we ignore (TESTCASES 14).

    Only money-moving outcomes (paid, processing) are reported as unmatched when they cannot be
    attached to an invoice; a failed or expired session without our metadata moved no money.
    """
    outcome = _outcome(event)
    if outcome is None:
        return None
    event_id, event_type = str(event.get("id")), str(event.get("type"))
    session = _session_of(event)
    session_id = session.get("id") if session is not None else None
    session_id = session_id if isinstance(session_id, str) else None
    moves_money = outcome in ("paid", "processing")

    def unmatched(reason: str) -> UnmatchedPayment | None:
        return UnmatchedPayment(event_id, event_type, session_id, reason) if moves_money else None

    if expected_livemode is not None and event.get("livemode") is not expected_livemode:
        return UnmatchedPayment(event_id, event_type, session_id, "livemode_mismatch")
    if session is None or session_id is None:
        return unmatched("malformed_session")
    update = _update_from_session(session, session_id, outcome)
    return update if update is not None else unmatched("missing_metadata")


def _session_of(event: Mapping[str, Any]) -> dict[str, Any] | None:
    data = event.get("data")
    session = data.get("object") if isinstance(data, dict) else None
    return session if isinstance(session, dict) else None


def _outcome(event: Mapping[str, Any]) -> Outcome | None:
    event_type = event.get("type")
    if event_type == "checkout.session.completed":
        # payment_status "unpaid" = a delayed method (SEPA...) is still running; anything
        # else ("no_payment_required") moves no money.
        session = _session_of(event)
        status = session.get("payment_status") if session is not None else None
        return "paid" if status == "paid" else "processing" if status == "unpaid" else None
    return _OUTCOMES.get(event_type) if isinstance(event_type, str) else None


def _update_from_session(
    session: Mapping[str, Any], session_id: str, outcome: Outcome
) -> PaymentUpdate | None:
    metadata = session.get("metadata")
    if not isinstance(metadata, dict):
        return None
    invoice_id, merchant_id = metadata.get("invoice_id"), metadata.get("merchant_id")
    purpose, amount = metadata.get("purpose"), session.get("amount_total")
    currency = session.get("currency")
    if not (isinstance(invoice_id, str) and invoice_id and isinstance(merchant_id, str)):
        return None
    if not (isinstance(purpose, str) and is_valid_purpose(purpose)):
        return None
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(currency, str):
        return None
    return PaymentUpdate(
        invoice_id, merchant_id, purpose, session_id, outcome, amount, currency.upper()
    )


# --- Decision: apply an update to the invoice it names --------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentDecision:
    """What to do; the lead applies it atomically with its event dedupe record.

    - `invoice`: the invoice to store (the same object when nothing changes).
    - `record_session`: add `session_id` to the invoice's applied sessions in the same write.
    - `send_receipt`: a receipt goes to the customer (only when money was credited).
    - `notify_customer`: tell the customer something other than a receipt (delayed payment
      failed: dunning resumes, TESTCASES 16).
    - `alert`: an agent must look (mismatch, payment on a settled invoice: TESTCASES 19, 23).
    """

    kind: DecisionKind
    invoice: Invoice
    session_id: str
    amount_credited: int = 0
    record_session: bool = False
    send_receipt: bool = False
    notify_customer: bool = False
    alert: bool = False
    reason: str | None = None


def apply_payment(
    invoice: Invoice,
    update: PaymentUpdate,
    already_applied_session_ids: set[str] | frozenset[str],
    *,
    expected_amount: int | None = None,
) -> PaymentDecision:
    """Decide the effect of `update` on `invoice`; payment state never moves backwards.

    `expected_amount` is what the session asked for when the purpose is an instalment (from
    the plan); for purpose "invoice" the session must ask for exactly the amount due.
    """
    session = update.session_id
    if update.invoice_id != invoice.id or update.merchant_id != invoice.merchant_id:
        msg = "update does not belong to this invoice"
        raise ValueError(msg)
    if session in already_applied_session_ids:
        return PaymentDecision("duplicate", invoice, session)  # TESTCASES 7
    if update.outcome == "expired":
        return PaymentDecision("expired", invoice, session)
    if update.outcome == "failed":
        return _failed(invoice, session)
    problem = _amount_problem(invoice, update, expected_amount)
    if problem == "already_paid":
        return PaymentDecision("already_paid", invoice, session, alert=True, reason=problem)
    if problem is not None:
        return PaymentDecision("mismatch", invoice, session, alert=True, reason=problem)
    if update.outcome == "processing":
        return _processing(invoice, session)
    return _paid(invoice, update)


def _amount_problem(invoice: Invoice, update: PaymentUpdate, expected: int | None) -> str | None:
    if invoice.status is InvoiceStatus.PAID:
        return "already_paid"
    if update.currency != invoice.currency:
        return f"currency {update.currency} instead of {invoice.currency}"
    due = invoice.amount_due
    if update.purpose == "invoice" and update.amount != due:
        return f"amount {update.amount} instead of {due} due"
    if update.purpose != "invoice" and expected is not None and update.amount != expected:
        return f"amount {update.amount} instead of {expected} for {update.purpose}"
    if not 0 < update.amount <= due:
        return f"amount {update.amount} exceeds {due} due"
    return None


def _paid(invoice: Invoice, update: PaymentUpdate) -> PaymentDecision:
    paid = invoice.amount_paid + update.amount
    status = advance(invoice.status, settled_status(paid, invoice.totals.gross))
    new = dataclasses.replace(invoice, amount_paid=paid, status=status)
    return PaymentDecision(
        "paid",
        new,
        update.session_id,
        amount_credited=update.amount,
        record_session=True,
        send_receipt=True,
    )


def _processing(invoice: Invoice, session: str) -> PaymentDecision:
    status = advance(invoice.status, InvoiceStatus.PROCESSING)
    if status is invoice.status:
        return PaymentDecision("stale", invoice, session)  # e.g. late "processing" (TESTCASES 9)
    return PaymentDecision("processing", dataclasses.replace(invoice, status=status), session)


def _failed(invoice: Invoice, session: str) -> PaymentDecision:
    if invoice.status is not InvoiceStatus.PROCESSING:
        return PaymentDecision("stale", invoice, session)
    # The one step back: the delayed payment we were waiting for will not arrive (TESTCASES 16).
    status = settled_status(invoice.amount_paid, invoice.totals.gross)
    new = dataclasses.replace(invoice, status=status)
    return PaymentDecision("failed", new, session, notify_customer=True)
