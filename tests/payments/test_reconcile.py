from __future__ import annotations

from typing import Any

import pytest

from payments.invoice import InvoiceStatus
from payments.webhook import (
    PaymentDecision,
    PaymentUpdate,
    UnmatchedPayment,
    apply_payment,
    interpret_event,
)
from tests.payments import factories as f

GROSS = 12_000  # the default factory invoice: 100.00 + 20 %


def event(
    type_: str = "checkout.session.completed",
    *,
    payment_status: str = "paid",
    metadata: dict[str, str] | None = None,
    amount: Any = GROSS,
    currency: Any = "eur",
    livemode: bool = False,
) -> dict[str, Any]:
    meta = {"invoice_id": "inv_1", "merchant_id": "m_1", "purpose": "invoice"}
    return {
        "id": "evt_1",
        "object": "event",
        "type": type_,
        "livemode": livemode,
        "data": {
            "object": {
                "id": "cs_1",
                "object": "checkout.session",
                "amount_total": amount,
                "currency": currency,
                "payment_status": payment_status,
                "metadata": meta if metadata is None else metadata,
            }
        },
    }


def update(outcome: str = "paid", amount: int = GROSS, **kw: Any) -> PaymentUpdate:
    fields: dict[str, Any] = {
        "invoice_id": "inv_1",
        "merchant_id": "m_1",
        "purpose": "invoice",
        "session_id": "cs_1",
        "outcome": outcome,
        "amount": amount,
        "currency": "EUR",
    }
    fields.update(kw)
    return PaymentUpdate(**fields)


# --- interpret_event ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "payment_status", "outcome"),
    [
        ("checkout.session.completed", "paid", "paid"),
        ("checkout.session.completed", "unpaid", "processing"),
        ("checkout.session.async_payment_succeeded", "paid", "paid"),
        ("checkout.session.async_payment_failed", "unpaid", "failed"),
        ("checkout.session.expired", "unpaid", "expired"),
    ],
)
def test_checkout_events_become_updates(type_: str, payment_status: str, outcome: str) -> None:
    result = interpret_event(event(type_, payment_status=payment_status))
    assert result == update(outcome)


def test_no_payment_required_is_ignored() -> None:
    assert interpret_event(event(payment_status="no_payment_required")) is None


@pytest.mark.parametrize(
    "type_",
    [
        "payment_intent.succeeded",
        "charge.refunded",
        "invoice.paid",
        "customer.created",
        "checkout.session.whatever",
    ],
)
def test_other_event_types_are_ignored(type_: str) -> None:  # TESTCASES 14
    assert interpret_event(event(type_)) is None


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"merchant_id": "m_1", "purpose": "invoice"},
        {"invoice_id": "", "merchant_id": "m_1", "purpose": "invoice"},
        {"invoice_id": "inv_1", "purpose": "invoice"},
        {"invoice_id": "inv_1", "merchant_id": "m_1"},
        {"invoice_id": "inv_1", "merchant_id": "m_1", "purpose": "tip"},
        {"invoice_id": "inv_1", "merchant_id": "m_1", "purpose": "instalment:0"},
    ],
)
def test_paid_session_without_our_metadata_is_unmatched(metadata: dict[str, str]) -> None:
    result = interpret_event(event(metadata=metadata))  # TESTCASES 24
    assert result == UnmatchedPayment(
        "evt_1", "checkout.session.completed", "cs_1", "missing_metadata"
    )


def test_processing_without_metadata_is_unmatched_too() -> None:
    result = interpret_event(event(payment_status="unpaid", metadata={}))
    assert isinstance(result, UnmatchedPayment)


@pytest.mark.parametrize(
    "type_", ["checkout.session.expired", "checkout.session.async_payment_failed"]
)
def test_no_money_no_unmatched_report(type_: str) -> None:
    assert interpret_event(event(type_, metadata={})) is None


@pytest.mark.parametrize("amount", [None, "12000", 120.0, True])
def test_malformed_amounts_are_unmatched(amount: object) -> None:
    result = interpret_event(event(amount=amount))
    assert isinstance(result, UnmatchedPayment)


def test_malformed_session_object() -> None:
    broken = event()
    broken["data"] = {"object": "cs_1"}
    assert interpret_event(broken) is None  # no payment_status: not a payment at all
    no_id = event()
    del no_id["data"]["object"]["id"]
    result = interpret_event(no_id)
    assert isinstance(result, UnmatchedPayment)
    assert (result.reason, result.session_id) == ("malformed_session", None)


def test_livemode_mismatch_is_parked() -> None:  # TESTCASES 6
    result = interpret_event(event(livemode=False), expected_livemode=True)
    assert isinstance(result, UnmatchedPayment)
    assert result.reason == "livemode_mismatch"
    assert interpret_event(event(livemode=True), expected_livemode=True) == update()


def test_instalment_purpose_and_currency_case() -> None:
    meta = {"invoice_id": "inv_1", "merchant_id": "m_1", "purpose": "instalment:2"}
    result = interpret_event(event(metadata=meta, amount=4000, currency="eur"))
    assert result == update(amount=4000, purpose="instalment:2")


# --- apply_payment --------------------------------------------------------------------------


def test_full_payment_marks_paid_and_sends_a_receipt() -> None:
    decision = apply_payment(f.invoice(), update(), set())
    assert decision.kind == "paid"
    assert decision.invoice.status is InvoiceStatus.PAID
    assert decision.invoice.amount_paid == GROSS
    assert decision.invoice.amount_due == 0
    assert (decision.record_session, decision.send_receipt, decision.alert) == (True, True, False)
    assert decision.amount_credited == GROSS


def test_duplicate_session_changes_nothing() -> None:  # TESTCASES 7
    inv = f.invoice()
    paid = apply_payment(inv, update(), set())
    again = apply_payment(paid.invoice, update(), {"cs_1"})
    assert again == PaymentDecision("duplicate", paid.invoice, "cs_1")
    assert not (again.send_receipt or again.record_session or again.notify_customer)


def test_older_processing_after_paid_stays_paid() -> None:  # TESTCASES 9
    paid = apply_payment(f.invoice(), update(), set()).invoice
    decision = apply_payment(paid, update("processing"), {"cs_1"})
    assert decision.kind == "duplicate"
    assert decision.invoice.status is InvoiceStatus.PAID


def test_delayed_payment_lifecycle() -> None:  # TESTCASES 16
    inv = f.invoice()
    processing = apply_payment(inv, update("processing"), set())
    assert processing.kind == "processing"
    assert processing.invoice.status is InvoiceStatus.PROCESSING
    assert not processing.send_receipt and not processing.record_session
    succeeded = apply_payment(processing.invoice, update("paid"), set())
    assert succeeded.kind == "paid" and succeeded.send_receipt
    assert succeeded.invoice.status is InvoiceStatus.PAID

    failed = apply_payment(processing.invoice, update("failed"), set())
    assert failed.kind == "failed"
    assert failed.invoice.status is InvoiceStatus.OPEN
    assert failed.notify_customer and not failed.send_receipt


def test_repeated_processing_is_stale() -> None:
    processing = apply_payment(f.invoice(), update("processing"), set()).invoice
    decision = apply_payment(processing, update("processing"), set())
    assert decision.kind == "stale"
    assert decision.invoice is processing


@pytest.mark.parametrize(
    ("status", "paid"),
    [(InvoiceStatus.OPEN, 0), (InvoiceStatus.PARTIALLY_PAID, 4000), (InvoiceStatus.PAID, GROSS)],
)
def test_failure_outside_processing_is_stale(status: InvoiceStatus, paid: int) -> None:
    inv = f.with_status(f.invoice(), status, paid)
    decision = apply_payment(inv, update("failed"), set())
    assert decision.kind == "stale"
    assert decision.invoice is inv


def test_expired_session_changes_no_state() -> None:  # TESTCASES 17
    inv = f.invoice()
    decision = apply_payment(inv, update("expired"), set())
    assert decision.kind == "expired"
    assert decision.invoice is inv
    assert not (decision.send_receipt or decision.record_session or decision.alert)


@pytest.mark.parametrize(
    "bad",
    [update(amount=GROSS - 1), update(amount=GROSS + 1), update(currency="USD"), update(amount=1)],
)
def test_amount_or_currency_mismatch_is_not_paid(bad: PaymentUpdate) -> None:  # TESTCASES 23
    inv = f.invoice()
    decision = apply_payment(inv, bad, set())
    assert decision.kind == "mismatch"
    assert decision.invoice is inv
    assert decision.alert and not decision.send_receipt and not decision.record_session
    assert decision.reason


def test_mismatched_processing_does_not_move_to_processing() -> None:
    decision = apply_payment(f.invoice(), update("processing", amount=1), set())
    assert decision.kind == "mismatch"


def test_second_payment_on_a_paid_invoice_is_flagged() -> None:  # TESTCASES 19
    paid = apply_payment(f.invoice(), update(), set()).invoice
    decision = apply_payment(paid, update(session_id="cs_2"), {"cs_1"})
    assert decision.kind == "already_paid"
    assert decision.alert and not decision.send_receipt
    assert decision.invoice is paid


def test_instalments_move_through_partially_paid() -> None:
    inv = f.invoice()
    first = apply_payment(
        inv, update(amount=4000, purpose="instalment:1"), set(), expected_amount=4000
    )
    assert first.kind == "paid"
    assert first.invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert first.invoice.amount_due == 8000
    second = apply_payment(
        first.invoice,
        update(amount=4000, purpose="instalment:2", session_id="cs_2"),
        {"cs_1"},
        expected_amount=4000,
    )
    third = apply_payment(
        second.invoice,
        update(amount=4000, purpose="instalment:3", session_id="cs_3"),
        {"cs_1", "cs_2"},
        expected_amount=4000,
    )
    assert third.invoice.status is InvoiceStatus.PAID
    assert third.invoice.amount_paid == GROSS


def test_instalment_amount_is_checked() -> None:
    decision = apply_payment(
        f.invoice(), update(amount=3999, purpose="instalment:1"), set(), expected_amount=4000
    )
    assert decision.kind == "mismatch"
    too_much = apply_payment(f.invoice(), update(amount=GROSS + 1, purpose="instalment:1"), set())
    assert too_much.kind == "mismatch"


def test_remaining_balance_paid_as_invoice_after_an_instalment() -> None:
    partial = f.with_status(f.invoice(), InvoiceStatus.PARTIALLY_PAID, 4000)
    decision = apply_payment(partial, update(amount=8000), set())
    assert decision.kind == "paid"
    assert decision.invoice.status is InvoiceStatus.PAID


def test_processing_on_a_partially_paid_invoice_is_stale() -> None:
    partial = f.with_status(f.invoice(), InvoiceStatus.PARTIALLY_PAID, 4000)
    decision = apply_payment(partial, update("processing", amount=8000), set())
    assert decision.kind == "stale"


def test_update_for_another_invoice_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        apply_payment(f.invoice(), update(invoice_id="inv_2"), set())
    with pytest.raises(ValueError):
        apply_payment(f.invoice(), update(merchant_id="m_2"), set())


def test_end_to_end_from_event_to_decision() -> None:
    parsed = interpret_event(event())
    assert isinstance(parsed, PaymentUpdate)
    decision = apply_payment(f.invoice(), parsed, set())
    assert decision.kind == "paid"
