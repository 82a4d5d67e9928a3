"""Ledger rules (payments.ledger): one payment's facts → what changes on its invoice."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import pytest

from payments.invoice import Invoice, InvoiceStatus
from payments.ledger import (
    CreditNoteDraft,
    DisputeFact,
    LedgerDecision,
    PaymentFacts,
    PaymentRecord,
    derive_status,
    facts_from_objects,
    needs_applying,
    pick_notice,
    reconcile,
    session_verdict,
)
from payments.webhook import HANDLED_EVENT_TYPES, payment_ref
from tests.payments import factories as f

GROSS = 12_000  # the default factory invoice: 100.00 + 20 %


def facts(verdict: str | None = "paid", amount: int | None = GROSS, **kw: Any) -> PaymentFacts:
    fields: dict[str, Any] = {
        "session_id": "cs_1",
        "invoice_id": "inv_1",
        "merchant_id": "m_1",
        "purpose": "invoice",
        "amount": amount,
        "currency": "EUR",
        "verdict": verdict,
        "payment_intent": "pi_1",
    }
    fields.update(kw)
    return PaymentFacts(**fields)


def run(
    invoice: Invoice,
    record: PaymentRecord | None,
    seen: PaymentFacts,
    expected: int | None = None,
) -> LedgerDecision:
    return reconcile(invoice, record, seen, expected_amount=expected)


def kinds(decision: LedgerDecision) -> list[str]:
    return [n.kind for n in decision.notices]


# --- reading provider objects -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "payment_status", "intent", "verdict"),
    [
        ("open", "unpaid", None, None),
        ("expired", "unpaid", None, "expired"),
        ("complete", "paid", "succeeded", "paid"),
        ("complete", "unpaid", "processing", "processing"),
        ("complete", "unpaid", None, "processing"),
        ("complete", "unpaid", "requires_payment_method", "failed"),  # SEPA debit failed
        ("complete", "unpaid", "succeeded", "paid"),  # the session lags its intent
        ("complete", "no_payment_required", None, None),
    ],
)
def test_session_verdict(
    status: str, payment_status: str, intent: str | None, verdict: str | None
) -> None:
    assert session_verdict(status, payment_status, intent) == verdict


def test_facts_from_objects_reads_refunds_and_disputes() -> None:
    session = {
        "id": "cs_1",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": GROSS,
        "currency": "eur",
        "payment_intent": "pi_1",
        "metadata": {"invoice_id": "inv_1", "merchant_id": "m_1", "purpose": "invoice"},
    }
    seen = facts_from_objects(
        session,
        intent={"status": "succeeded"},
        refunds=[
            {"id": "re_1", "amount": 2000, "status": "succeeded"},
            {"id": "re_2", "amount": 500, "status": "failed"},
        ],
        disputes=[{"id": "du_1", "amount": 10_000, "status": "needs_response"}],
    )
    assert seen == facts(refunds={"re_1": 2000}, disputes={"du_1": DisputeFact(10_000, "open")})


def test_metadata_with_a_bad_purpose_leaves_the_purpose_unknown() -> None:
    session = {"id": "cs_1", "status": "complete", "payment_status": "paid", "metadata": {}}
    seen = facts_from_objects({**session, "metadata": {"purpose": "tip"}, "amount_total": "1"})
    assert (seen.purpose, seen.amount, seen.invoice_id) == (None, None, None)


def test_verdict_hint_only_when_the_intent_is_unknown() -> None:
    session = {"id": "cs_1", "status": "complete", "payment_status": "unpaid"}
    assert facts_from_objects(session, verdict_hint="failed").verdict == "failed"
    fresh = facts_from_objects(session, intent={"status": "processing"}, verdict_hint="failed")
    assert fresh.verdict == "processing"


@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "invoice.paid", "x"])
def test_other_event_types_name_no_payment(event_type: str) -> None:  # TESTCASES 14
    event = {"id": "evt_1", "type": event_type, "data": {"object": {"id": "x"}}}
    assert payment_ref(event) is None


def test_refund_and_dispute_events_name_the_payment_intent() -> None:
    assert "charge.refunded" in HANDLED_EVENT_TYPES
    charge = {"id": "ch_1", "payment_intent": "pi_1", "metadata": {"invoice_id": "inv_1"}}
    ref = payment_ref({"id": "evt_1", "type": "charge.refunded", "data": {"object": charge}})
    assert ref is not None
    assert (ref.session_id, ref.payment_intent, ref.invoice_id) == (None, "pi_1", "inv_1")
    assert ref.moves_money


# --- payments -----------------------------------------------------------------------------


def test_full_payment_marks_paid_and_sends_a_receipt() -> None:
    decision = run(f.invoice(), None, facts())
    assert decision.invoice.status is InvoiceStatus.PAID
    assert decision.invoice.amount_due == 0
    assert kinds(decision) == ["paid"]
    assert decision.record.credited == GROSS and decision.finished


def test_replay_changes_nothing() -> None:  # TESTCASES 7
    first = run(f.invoice(), None, facts())
    again = run(first.invoice, first.record, facts())
    assert again.invoice == first.invoice and again.record == first.record
    assert not again.changed


def test_older_processing_after_paid_stays_paid() -> None:  # TESTCASES 9
    paid = run(f.invoice(), None, facts())
    late = run(paid.invoice, paid.record, facts("processing"))
    assert late.invoice.status is InvoiceStatus.PAID and not late.changed


def test_delayed_payment_lifecycle() -> None:  # TESTCASES 16
    processing = run(f.invoice(), None, facts("processing"))
    assert processing.invoice.status is InvoiceStatus.PROCESSING
    assert kinds(processing) == ["processing"] and not processing.finished
    paid = run(processing.invoice, processing.record, facts("paid"))
    assert paid.invoice.status is InvoiceStatus.PAID and kinds(paid) == ["paid"]
    failed = run(processing.invoice, processing.record, facts("failed"))
    assert failed.invoice.status is InvoiceStatus.OPEN
    assert kinds(failed) == ["failed"]
    assert failed.retire_checkout and failed.finished


def test_a_failed_debit_is_final_for_its_session() -> None:
    """Item 1: the session stays complete/unpaid at Stripe; a later look must not revive it."""
    processing = run(f.invoice(), None, facts("processing"))
    failed = run(processing.invoice, processing.record, facts("failed"))
    revived = run(failed.invoice, failed.record, facts("processing"))
    assert revived.invoice.status is InvoiceStatus.OPEN and not revived.changed
    assert not needs_applying(failed.record, facts("processing"))


def _final(invoice: Invoice, sequence: list[PaymentFacts]) -> str:
    """The end state, as text (records hold dicts, so they are compared serialised)."""
    record: PaymentRecord | None = None
    for seen in sequence:
        decision = run(invoice, record, seen)
        invoice, record = decision.invoice, decision.record
    assert record is not None
    return json.dumps(invoice.to_dict(), sort_keys=True) + record.dumps()


@pytest.mark.parametrize(
    "sequence",
    [
        [facts("processing"), facts("failed")],
        [facts("processing"), facts("paid")],
        [facts("processing"), facts("paid", refunds={"re_1": GROSS})],
        [facts("paid"), facts("paid", refunds={"re_1": 3000}), facts("processing")],
        [
            facts("paid"),
            facts("paid", disputes={"du_1": DisputeFact(GROSS, "open")}),
            facts("paid", disputes={"du_1": DisputeFact(GROSS, "lost")}),
        ],
    ],
)
def test_any_order_ends_in_the_same_state(sequence: list[PaymentFacts]) -> None:
    """TESTCASES 8, 9, 16: every permutation of one payment's looks ends the same."""
    finals = {_final(f.invoice(), list(order)) for order in itertools.permutations(sequence)}
    assert len(finals) == 1


def test_refund_seen_before_the_payment_never_says_paid() -> None:  # TESTCASES 8
    decision = run(f.invoice(), None, facts("paid", refunds={"re_1": GROSS}))
    assert kinds(decision) == ["refunded"]
    assert decision.invoice.status is InvoiceStatus.REFUNDED
    assert [(c.amount, c.source_id) for c in decision.credit_notes] == [(GROSS, "re_1")]


# --- amounts are always checked -----------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        facts(amount=GROSS - 1),
        facts(amount=GROSS + 1),
        facts(currency="USD"),
        facts(amount=1),
        facts(purpose=None),
        facts(amount=None),
    ],
)
def test_mismatch_is_not_credited_and_alerts_once(bad: PaymentFacts) -> None:  # TESTCASES 23
    inv = f.invoice()
    decision = run(inv, None, bad)
    assert decision.invoice == inv
    assert len(decision.alerts) == 1 and not decision.notices
    assert decision.record.review is not None
    assert not run(inv, decision.record, bad).alerts  # recorded once, not per redelivery


def test_instalment_without_a_plan_is_not_credited() -> None:  # TESTCASES 23, item 6
    decision = run(f.invoice(), None, facts(amount=10, purpose="instalment:1"), expected=None)
    assert decision.invoice.amount_paid == 0 and not decision.notices
    assert decision.alerts == ("instalment:1 but the invoice has no such instalment",)


def test_instalments_move_through_partially_paid() -> None:
    inv, records = f.invoice(), list[PaymentRecord]()
    for n in (1, 2, 3):
        seen = facts(amount=4000, purpose=f"instalment:{n}", session_id=f"cs_{n}")
        decision = reconcile(inv, None, seen, expected_amount=4000, others=records)
        assert decision.instalment_status == "paid"
        inv = decision.invoice
        records.append(decision.record)
        expected_status = InvoiceStatus.PAID if n == 3 else InvoiceStatus.PARTIALLY_PAID
        assert inv.status is expected_status
    assert inv.amount_paid == GROSS


def test_an_instalment_debit_on_its_way_after_one_paid_leaves_the_invoice_partially_paid() -> None:
    # Before: the invoice was derived "processing" with 40.00 already in, which the invoice
    # model refuses, and the payment event was dead-lettered.
    first = reconcile(
        f.invoice(), None, facts(amount=4000, purpose="instalment:1"), expected_amount=4000
    )
    debit = facts("processing", amount=4000, purpose="instalment:2", session_id="cs_2")
    decision = reconcile(first.invoice, None, debit, expected_amount=4000, others=[first.record])
    assert decision.invoice.status is InvoiceStatus.PARTIALLY_PAID
    assert decision.instalment_status == "processing"
    assert decision.invoice.amount_paid == 4000


def test_instalment_amount_is_checked() -> None:
    wrong = run(f.invoice(), None, facts(amount=3999, purpose="instalment:1"), expected=4000)
    assert wrong.alerts and wrong.invoice.amount_paid == 0


def test_second_session_paid_is_not_counted() -> None:  # TESTCASES 19
    paid = run(f.invoice(), None, facts())
    second = reconcile(
        paid.invoice, None, facts(session_id="cs_2"), expected_amount=None, others=[paid.record]
    )
    assert second.alerts == ("already_paid",)
    assert second.invoice == paid.invoice and not second.notices
    refunded = reconcile(
        second.invoice,
        second.record,
        facts(session_id="cs_2", refunds={"re_9": GROSS}),
        expected_amount=None,
        others=[paid.record],
    )
    # The refund of the duplicate does not mark the invoice refunded; it has its credit note
    # (LEGAL_FR §1.3) and the customer is told.
    assert refunded.invoice == second.invoice
    assert refunded.credit_notes == (CreditNoteDraft(GROSS, "refund", "re_9"),)
    assert kinds(refunded) == ["refunded"]
    again = reconcile(
        refunded.invoice,
        refunded.record,
        facts(session_id="cs_2", refunds={"re_9": GROSS}),
        expected_amount=None,
        others=[paid.record],
    )
    assert not again.credit_notes and not again.notices  # once per refund


def test_facts_of_another_invoice_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="do not belong"):
        run(f.invoice(), None, facts(invoice_id="inv_2"))


# --- refunds and disputes (TESTCASES 25) ---------------------------------------------------


def test_partial_then_full_refund() -> None:
    paid = run(f.invoice(), None, facts())
    partial = run(paid.invoice, paid.record, facts(refunds={"re_1": 2000}))
    assert partial.invoice.status is InvoiceStatus.PARTIALLY_REFUNDED
    assert partial.invoice.amount_due == 0 and partial.invoice.amount_refunded == 2000
    assert [c.amount for c in partial.credit_notes] == [2000]
    assert kinds(partial) == ["refunded"]
    rest = run(partial.invoice, partial.record, facts(refunds={"re_1": 2000, "re_2": 10_000}))
    assert rest.invoice.status is InvoiceStatus.REFUNDED
    assert [c.source_id for c in rest.credit_notes] == ["re_2"]


def test_dispute_pauses_then_lost_issues_a_credit_note() -> None:
    paid = run(f.invoice(), None, facts())
    opened = run(paid.invoice, paid.record, facts(disputes={"du_1": DisputeFact(GROSS, "open")}))
    assert opened.invoice.status is InvoiceStatus.DISPUTED
    assert opened.pause_reminders and kinds(opened) == ["disputed"]
    assert not opened.credit_notes
    lost = run(opened.invoice, opened.record, facts(disputes={"du_1": DisputeFact(GROSS, "lost")}))
    assert lost.invoice.status is InvoiceStatus.REFUNDED
    assert [(c.reason, c.amount) for c in lost.credit_notes] == [("dispute_lost", GROSS)]
    assert kinds(lost) == ["dispute_lost"]


def test_dispute_won_goes_back_to_paid() -> None:
    paid = run(f.invoice(), None, facts())
    opened = run(paid.invoice, paid.record, facts(disputes={"du_1": DisputeFact(GROSS, "open")}))
    won = run(opened.invoice, opened.record, facts(disputes={"du_1": DisputeFact(GROSS, "won")}))
    assert won.invoice.status is InvoiceStatus.PAID and not won.credit_notes


def test_refund_of_an_instalment_leaves_the_rest_due() -> None:
    first = run(f.invoice(), None, facts(amount=4000, purpose="instalment:1"), expected=4000)
    back = run(
        first.invoice,
        first.record,
        facts(amount=4000, purpose="instalment:1", refunds={"re_1": 4000}),
        expected=4000,
    )
    assert back.invoice.status is InvoiceStatus.OPEN
    assert back.invoice.amount_due == 8000


def test_record_round_trip() -> None:
    decision = run(f.invoice(), None, facts(disputes={"du_1": DisputeFact(1, "open")}))
    assert PaymentRecord.loads(decision.record.dumps()) == decision.record


def test_pick_notice_prefers_the_refund_and_adds_amounts() -> None:
    decision = run(f.invoice(), None, facts(refunds={"re_1": 1000, "re_2": 500}))
    notice = pick_notice(decision.notices)
    assert notice is not None and (notice.kind, notice.amount) == ("refunded", 1500)


def test_derive_status_table() -> None:
    inv = f.invoice()
    assert derive_status(inv, processing=True, disputed=False, paid=0, returned=0) == "processing"
    assert derive_status(inv, processing=False, disputed=True, paid=GROSS, returned=0) == (
        "disputed"
    )
    stored = dataclasses.replace(
        inv, status=InvoiceStatus.REFUNDED, amount_paid=GROSS, amount_refunded=GROSS
    )
    assert Invoice.from_dict(stored.to_dict()) == stored
