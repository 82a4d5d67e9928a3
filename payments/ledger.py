"""Ledger rules: what Stripe says about one payment → what changes on its invoice.

Pure functions, no I/O. Dispatch loads the invoice and what was already recorded for the
payment, retrieves the payment again from Stripe (TESTCASES design rule 2), calls `reconcile`
and writes what it decides in one MULTI.

A *payment* is one Checkout Session. What we know about it only grows: its verdict moves up
(nothing → processing → paid | failed, expired) and never back, refunds and lost disputes
are added, never removed. `reconcile` applies the difference between what Stripe shows now
and what was already recorded, so any order of events, any replay and any mix of webhook and
sweep ends in the same state (TESTCASES 7, 8, 9, 12, 16).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from payments.instalments import is_valid_purpose
from payments.invoice import Invoice, InvoiceStatus, settled_status

__all__ = [
    "CreditNoteDraft",
    "DisputeFact",
    "LedgerDecision",
    "Notice",
    "PaymentFacts",
    "PaymentRecord",
    "Verdict",
    "derive_status",
    "dispute_state",
    "facts_from_objects",
    "needs_applying",
    "pick_notice",
    "reconcile",
    "session_verdict",
]

Verdict = Literal["processing", "paid", "failed", "expired"]
DisputeState = Literal["open", "won", "lost"]
NoticeKind = Literal["paid", "processing", "failed", "refunded", "disputed", "dispute_lost"]

# How far a payment has gone. "paid", "failed" and "expired" are final for a session.
_RANK: Mapping[str | None, int] = {
    None: 0,
    "processing": 1,
    "paid": 2,
    "failed": 2,
    "expired": 2,
}
_DISPUTE_RANK: Mapping[str | None, int] = {None: 0, "open": 1, "won": 2, "lost": 2}


@dataclass(frozen=True, slots=True)
class DisputeFact:
    amount: int
    state: DisputeState


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    """One payment as provider objects show it. Unknown parts are None or empty."""

    session_id: str
    invoice_id: str | None
    merchant_id: str | None
    purpose: str | None
    amount: int | None
    currency: str | None  # uppercase
    verdict: Verdict | None
    payment_intent: str | None = None
    refunds: Mapping[str, int] = field(default_factory=dict)  # succeeded refund id → amount
    disputes: Mapping[str, DisputeFact] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    """What we already applied for one payment (stored as JSON next to the invoice)."""

    session_id: str
    purpose: str
    verdict: Verdict | None = None
    credited: int = 0  # counted toward the invoice
    review: str | None = None  # money that arrived but was not counted, and why
    payment_intent: str | None = None
    refunds: Mapping[str, int] = field(default_factory=dict)  # id → amount applied
    disputes: Mapping[str, DisputeState] = field(default_factory=dict)
    # When the money was counted (ISO datetime): the page's "payment received on ...".
    received_at: str | None = None

    @property
    def returned(self) -> int:
        """Money given back on this payment and taken off the invoice (refunds, lost disputes)."""
        return sum(self.refunds.values())

    @property
    def processing(self) -> bool:
        return self.verdict == "processing" and self.review is None

    @property
    def disputed(self) -> bool:
        return any(state == "open" for state in self.disputes.values())

    def dumps(self) -> str:
        data = dataclasses.asdict(self)
        data["refunds"], data["disputes"] = dict(self.refunds), dict(self.disputes)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def loads(cls, raw: str) -> PaymentRecord:
        data = json.loads(raw)
        return cls(
            session_id=str(data["session_id"]),
            purpose=str(data["purpose"]),
            verdict=data.get("verdict"),
            credited=int(data.get("credited", 0)),
            review=data.get("review"),
            payment_intent=data.get("payment_intent"),
            refunds={str(k): int(v) for k, v in dict(data.get("refunds", {})).items()},
            disputes={str(k): v for k, v in dict(data.get("disputes", {})).items()},
            received_at=data.get("received_at"),
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """Something to tell the customer (a PaymentOutcome for the conversation)."""

    kind: NoticeKind
    amount: int
    credit_note: str | None = None  # the source id of the credit note it announces


@dataclass(frozen=True, slots=True)
class CreditNoteDraft:
    """A credit note (avoir) to number and store: `amount` TTC taken off the invoice."""

    amount: int
    reason: Literal["refund", "dispute_lost"]
    source_id: str  # the refund or dispute id: one credit note per source, ever


@dataclass(frozen=True, slots=True)
class LedgerDecision:
    invoice: Invoice
    record: PaymentRecord
    notices: tuple[Notice, ...] = ()
    credit_notes: tuple[CreditNoteDraft, ...] = ()
    alerts: tuple[str, ...] = ()
    instalment_status: str | None = None  # new status of the instalment this payment is for
    retire_checkout: bool = False  # the session will never take money: offer a fresh one
    finished: bool = False  # nothing more will happen to the session: stop sweeping it
    pause_reminders: bool = False
    resume_reminders: bool = False  # the payment dispute that paused them is closed

    @property
    def changed(self) -> bool:
        return bool(self.notices or self.credit_notes or self.alerts)


# --- Reading provider objects -------------------------------------------------------------


def session_verdict(
    status: str, payment_status: str, intent_status: str | None = None
) -> Verdict | None:
    """A Checkout Session's verdict; the PaymentIntent tells a failed debit from a pending one.

    A session whose delayed debit failed stays `complete`/`unpaid` at Stripe forever; only its
    PaymentIntent moves on (to `requires_payment_method`).
    """
    if status == "expired":
        return "expired"
    if status != "complete":
        return None
    if payment_status == "paid" or intent_status == "succeeded":
        return "paid"
    if payment_status != "unpaid":
        return None  # no_payment_required: no money involved
    if intent_status in ("requires_payment_method", "canceled"):
        return "failed"
    return "processing"


def dispute_state(status: str) -> DisputeState:
    if status in {"won", "warning_closed"}:
        return "won"
    return "lost" if status == "lost" else "open"


def facts_from_objects(
    session: Mapping[str, Any],
    *,
    intent: Mapping[str, Any] | None = None,
    refunds: Iterable[Mapping[str, Any]] = (),
    disputes: Iterable[Mapping[str, Any]] = (),
    verdict_hint: Verdict | None = None,
) -> PaymentFacts:
    """Facts from a session (and its PaymentIntent, refunds, disputes) as plain dicts.

    `verdict_hint` is what an event's type states (async_payment_failed → failed) when the
    PaymentIntent could not be read again; a retrieved PaymentIntent always wins.
    """
    metadata = session.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, dict) else {}
    intent_status = _str_or_none(intent.get("status")) if intent else None
    verdict = session_verdict(
        str(session.get("status")), str(session.get("payment_status")), intent_status
    )
    if intent_status is None and verdict_hint is not None and _RANK[verdict_hint] > _RANK[verdict]:
        verdict = verdict_hint
    amount = session.get("amount_total")
    currency = session.get("currency")
    purpose = _str_or_none(meta.get("purpose"))
    return PaymentFacts(
        session_id=str(session.get("id")),
        invoice_id=_str_or_none(meta.get("invoice_id")),
        merchant_id=_str_or_none(meta.get("merchant_id")),
        purpose=purpose if purpose is not None and is_valid_purpose(purpose) else None,
        amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
        currency=currency.upper() if isinstance(currency, str) else None,
        verdict=verdict,
        payment_intent=_str_or_none(session.get("payment_intent")),
        refunds={
            str(r["id"]): int(r["amount"])
            for r in refunds
            if r.get("status") == "succeeded" and _is_amount(r.get("amount"))
        },
        disputes={
            str(d["id"]): DisputeFact(int(d["amount"]), dispute_state(str(d.get("status"))))
            for d in disputes
            if _is_amount(d.get("amount"))
        },
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_amount(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- Deciding -----------------------------------------------------------------------------


def derive_status(
    invoice: Invoice, *, processing: bool, disputed: bool, paid: int, returned: int
) -> InvoiceStatus:
    """The status the amounts and the open payments imply."""
    if disputed:
        return InvoiceStatus.DISPUTED
    gross = invoice.totals.gross
    if paid >= gross and returned > 0:
        return InvoiceStatus.REFUNDED if returned >= paid else InvoiceStatus.PARTIALLY_REFUNDED
    if paid >= gross:
        return InvoiceStatus.PAID
    if processing and paid - returned == 0:
        # With money already in (an instalment paid), a debit on its way leaves the invoice
        # partially paid: the instalment's own status says "processing".
        return InvoiceStatus.PROCESSING
    return settled_status(paid - returned, gross - returned)


def needs_applying(record: PaymentRecord | None, facts: PaymentFacts) -> bool:
    """Whether `facts` hold anything `record` has not applied yet (the sweep's question)."""
    before = record or PaymentRecord(facts.session_id, facts.purpose or "invoice")
    if _RANK[before.verdict] < 2 and _RANK[facts.verdict] > _RANK[before.verdict]:
        return True
    if any(refund_id not in before.refunds for refund_id in facts.refunds):
        return True
    return any(
        _DISPUTE_RANK[d.state] > _DISPUTE_RANK[before.disputes.get(dispute_id)]
        for dispute_id, d in facts.disputes.items()
    )


def reconcile(
    invoice: Invoice,
    record: PaymentRecord | None,
    facts: PaymentFacts,
    *,
    expected_amount: int | None,
    others: Iterable[PaymentRecord] = (),
    now: datetime | None = None,
) -> LedgerDecision:
    """Apply to `invoice` what `facts` add to `record`.

    `expected_amount`: what the instalment plan asks for the session's purpose when it is an
    instalment (None: the invoice has no such instalment, so such a payment is not counted).
    `others`: the records of the invoice's other payments (for the status they imply).
    """
    if facts.invoice_id not in (None, invoice.id) or facts.merchant_id not in (
        None,
        invoice.merchant_id,
    ):
        msg = "facts do not belong to this invoice"
        raise ValueError(msg)
    purpose = facts.purpose or (record.purpose if record else "invoice")
    before = record or PaymentRecord(facts.session_id, purpose)
    step = _Step(invoice, before, facts, expected_amount, now)
    step.verdict()
    step.refunds_and_disputes()
    return step.decision(list(others))


class _Step:
    """The work of one `reconcile` call (a few small methods sharing the same inputs)."""

    def __init__(
        self,
        invoice: Invoice,
        record: PaymentRecord,
        facts: PaymentFacts,
        expected: int | None,
        now: datetime | None = None,
    ) -> None:
        self.invoice, self.before, self.facts, self.expected = invoice, record, facts, expected
        self.now = now
        self.record = dataclasses.replace(
            record, payment_intent=record.payment_intent or facts.payment_intent
        )
        self.notices: list[Notice] = []
        self.credit_notes: list[CreditNoteDraft] = []
        self.alerts: list[str] = []
        self.paid = invoice.amount_paid
        self.returned = invoice.amount_refunded
        self.retire = False

    def verdict(self) -> None:
        new = self.facts.verdict
        old = self.before.verdict
        if new is None or _RANK[new] <= _RANK[old] or _RANK[old] >= 2:
            return  # nothing new, a late or replayed event, or already final (TESTCASES 9)
        self.record = dataclasses.replace(self.record, verdict=new)
        if new == "expired":
            return
        if new == "failed":
            self.retire = True  # the pay link must open a fresh session
            if self.invoice.status is not InvoiceStatus.PAID:
                self.notices.append(Notice("failed", self.facts.amount or 0))
            return
        problem = self._amount_problem()
        if problem is not None:
            self.record = dataclasses.replace(self.record, review=problem)
            self.alerts.append(problem)
            return
        if new == "processing":
            self.notices.append(Notice("processing", self.facts.amount or 0))
            return
        amount = self.facts.amount or 0
        received = self.now.isoformat() if self.now is not None else None
        self.record = dataclasses.replace(
            self.record, credited=amount, review=None, received_at=received
        )
        self.paid += amount
        self.notices.append(Notice("paid", amount))

    def _amount_problem(self) -> str | None:
        """Every payment is checked against what was asked, whatever its metadata says."""
        facts, invoice = self.facts, self.invoice
        if facts.amount is None or facts.currency is None or facts.purpose is None:
            return "payment without a readable amount, currency or purpose"
        if invoice.status is InvoiceStatus.VOID:
            return "the invoice was voided"  # a session opened before: refund or apply it
        if self.paid >= invoice.totals.gross:
            return "already_paid"  # a second session paid too (TESTCASES 19)
        if facts.currency != invoice.currency:
            return f"currency {facts.currency} instead of {invoice.currency}"
        due = invoice.totals.gross - self.paid
        if facts.purpose == "invoice":
            if facts.amount != due:
                return f"amount {facts.amount} instead of {due} due"
            return None
        if self.expected is None:
            return f"{facts.purpose} but the invoice has no such instalment"
        if facts.amount != self.expected:
            return f"amount {facts.amount} instead of {self.expected} for {facts.purpose}"
        if not 0 < facts.amount <= due:
            return f"amount {facts.amount} exceeds {due} due"
        return None

    def refunds_and_disputes(self) -> None:
        refunds = dict(self.record.refunds)
        disputes = dict(self.record.disputes)
        for refund_id, amount in sorted(self.facts.refunds.items()):
            if refund_id not in refunds:
                refunds[refund_id] = self._give_back(refunds, amount, "refund", refund_id)
        for dispute_id, dispute in sorted(self.facts.disputes.items()):
            old = disputes.get(dispute_id)
            if _DISPUTE_RANK[dispute.state] <= _DISPUTE_RANK[old]:
                continue
            disputes[dispute_id] = dispute.state
            if dispute.state == "open":
                self.notices.append(Notice("disputed", dispute.amount))
            elif dispute.state == "lost":
                key = f"dispute:{dispute_id}"
                refunds[key] = self._give_back(refunds, dispute.amount, "dispute_lost", dispute_id)
        self.record = dataclasses.replace(self.record, refunds=refunds, disputes=disputes)

    def _give_back(
        self,
        applied: Mapping[str, int],
        amount: int,
        reason: Literal["refund", "dispute_lost"],
        source: str,
    ) -> int:
        """Money returned to the customer: off the invoice only up to what this payment
        counted. A payment the invoice never counted (a second device paid too) that comes
        back gets its credit note, and the invoice keeps its amounts (TESTCASES 19,
        LEGAL_FR §1.3)."""
        room = self.record.credited - sum(applied.values())
        taken = max(0, min(amount, room))
        if taken == 0:
            if self.record.credited == 0 and self.record.verdict == "paid" and amount > 0:
                self.credit_notes.append(CreditNoteDraft(amount, reason, source))
                kind: NoticeKind = "refunded" if reason == "refund" else "dispute_lost"
                self.notices.append(Notice(kind, amount, credit_note=source))
            elif self.record.credited == 0:
                self.alerts.append(f"{reason} {source} on a payment that was not counted")
            return 0
        self.returned += taken
        self.credit_notes.append(CreditNoteDraft(taken, reason, source))
        given_back: NoticeKind = "refunded" if reason == "refund" else "dispute_lost"
        self.notices.append(Notice(given_back, taken, credit_note=source))
        return taken

    def decision(self, others: list[PaymentRecord]) -> LedgerDecision:
        record = self.record
        everyone = [*others, record]
        status = derive_status(
            self.invoice,
            processing=any(r.processing for r in everyone),
            disputed=any(r.disputed for r in everyone),
            paid=self.paid,
            returned=self.returned,
        )
        invoice = self.invoice
        if invoice.status is InvoiceStatus.VOID:
            status = InvoiceStatus.VOID  # voided stays voided; refunds still get credit notes
        if (status, self.paid, self.returned) != (
            invoice.status,
            invoice.amount_paid,
            invoice.amount_refunded,
        ):
            invoice = dataclasses.replace(
                invoice, status=status, amount_paid=self.paid, amount_refunded=self.returned
            )
        notices = self.notices
        if any(n.kind in ("refunded", "dispute_lost") for n in notices):
            # Money credited and given back in one look (refund seen before the payment,
            # TESTCASES 8): the customer hears about the refund, never "paiement reçu".
            notices = [n for n in notices if n.kind not in ("paid", "processing")]
        return LedgerDecision(
            invoice=invoice,
            record=record,
            notices=tuple(notices),
            credit_notes=tuple(self.credit_notes),
            alerts=tuple(self.alerts),
            instalment_status=_instalment_status(self.before, record),
            retire_checkout=self.retire,
            finished=record.verdict in ("paid", "failed", "expired"),
            pause_reminders=record.disputed and not self.before.disputed,
            resume_reminders=self.before.disputed and not record.disputed,
        )


_NOTICE_PRIORITY: tuple[NoticeKind, ...] = (
    "refunded",
    "dispute_lost",
    "failed",
    "paid",
    "processing",
    "disputed",
)


def pick_notice(notices: Iterable[Notice]) -> Notice | None:
    """The one thing to tell the customer after one look at a payment (the most important;
    amounts of the same kind add up: two refunds seen at once are one message)."""
    listed = list(notices)
    for kind in _NOTICE_PRIORITY:
        same = [n for n in listed if n.kind == kind]
        if same:
            return Notice(kind, sum(n.amount for n in same), same[-1].credit_note)
    return None


def _instalment_status(before: PaymentRecord, after: PaymentRecord) -> str | None:
    if not after.purpose.startswith("instalment:") or after.review is not None:
        return None
    if after.verdict == before.verdict:
        return None
    return {"processing": "processing", "paid": "paid", "failed": "open"}.get(after.verdict or "")
