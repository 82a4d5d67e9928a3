"""Several open invoices with the same merchant: which one a message is about, and one
statement (relevé) of everything open.

```mermaid
stateDiagram-v2
    Menu --> Menu: button, or answer to a question / that invoice
    Menu --> Menu: free text naming one (number, amount) / that one
    Menu --> WhichInvoice: free-text action, several open / "which one?" + choices
    WhichInvoice --> Menu: one picked / the waiting action, applied to it
    WhichInvoice --> Menu: anything else / read anew, question dropped
    Menu --> Menu: "il reste combien", several open / statement + total
    note right of WhichInvoice
        actions: pay, later, split, already paid, dispute
        each choice: number, amount left, due date (4 at most)
    end note
```
(Also in `several.mmd`.) WhichInvoice is not a step of its own: the state keeps the invoices
listed (`candidates`) and the waiting action (`pending`); the next message clears them.
Dispatch moves the conversation to the picked or named invoice before the flow runs
(`target`), so the action's effects (a promise, a plan, a hand-over) land on that invoice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flows.intents import Intent, Understanding
from flows.model import (
    INVOICE_CHOICES,
    ConversationState,
    CustomerText,
    Facts,
    InvoiceFacts,
    Outcome,
    Step,
)
from flows.replies import say
from payments.money import Money

#: What a free-text message may do to one invoice: asked about when several are open.
ACTIONS = frozenset(
    {Intent.PAY_NOW, Intent.PAY_LATER, Intent.SPLIT, Intent.ALREADY_PAID, Intent.DISPUTE}
)
#: The statement lists this many invoices (then how many more), to stay within 2 SMS.
STATEMENT_LINES = 3
# An amount as customers write it: "80 €", "80,50", "€80", "80 euros".
_AMOUNT = re.compile(
    r"(?:€\s*)(\d{1,7}(?:[.,]\d{1,2})?)\b"
    r"|\b(\d{1,7}(?:[.,]\d{1,2})?)\s*(?:€|eur\b|euros?\b)"
    r"|\b(\d{1,7}[.,]\d{2})\b",
    re.IGNORECASE,
)
# An invoice named by its sequence number: "facture 43", "n° 43", "invoice #43".
_NUMBER = re.compile(
    r"(?:\bn°|\bno\.?|\bnum[eé]ro|\bfacture|\binvoice|#)\s*(?:n°\s*|#\s*)?(\d{1,9})\b",
    re.IGNORECASE,
)


def named(text: str, invoices: tuple[InvoiceFacts, ...]) -> InvoiceFacts | None:
    """The one invoice `text` names by its number or by an amount only it has, else None."""
    by_number = [i for i in invoices if _names_number(text, i)]
    if len(by_number) == 1:
        return by_number[0]
    amounts = _amounts(text)
    by_amount = [i for i in invoices if amounts & {i.amount_due.amount, i.gross.amount}]
    return by_amount[0] if len(by_amount) == 1 else None


def target(state: ConversationState, event: CustomerText, facts: Facts) -> str | None:
    """The open invoice this message is about when it is not the conversation's own: the one
    picked from the list, the only one its words name, or the only one still open."""
    if event.choice in INVOICE_CHOICES:
        index = INVOICE_CHOICES.index(event.choice)
        return state.candidates[index] if index < len(state.candidates) else None
    if event.choice is not None or not facts.open_invoices:
        return None
    found = named(event.text, facts.open_invoices)
    if found is not None:
        return found.invoice_id
    own = facts.invoice
    if (own is None or own.is_paid) and len(facts.open_invoices) == 1:
        return facts.open_invoices[0].invoice_id
    return None


def needs_asking(event: CustomerText, meaning: Understanding, facts: Facts) -> bool:
    """A free-text action that could concern several open invoices and names none."""
    return (
        event.choice is None
        and meaning.intent in ACTIONS
        and len(facts.open_invoices) > 1
        and named(event.text, facts.open_invoices) is None
    )


def wants_statement(event: CustomerText, meaning: Understanding, facts: Facts) -> bool:
    return (
        meaning.intent is Intent.STATUS
        and len(facts.open_invoices) > 1
        and (event.choice is not None or named(event.text, facts.open_invoices) is None)
    )


def ask(state: ConversationState, meaning: Understanding, facts: Facts) -> Outcome:
    """ "Which invoice?": one choice per open invoice (the soonest due first)."""
    listed = facts.open_invoices[: len(INVOICE_CHOICES)]
    return say(
        state.evolve(
            step=Step.MENU,
            proposed_parts=None,
            candidates=tuple(i.invoice_id for i in listed),
            pending=pending_to_dict(meaning),
        ),
        "which_invoice",
        facts.invoice,
        choices=INVOICE_CHOICES[: len(listed)],
        extra={"candidates": listed, "merchant": listed[0].merchant_name},
    )


def statement(state: ConversationState, facts: Facts) -> Outcome:
    """Everything open in one message: each invoice, what is left, its date, the total."""
    invoices = facts.open_invoices
    return say(
        state.evolve(step=Step.MENU, proposed_parts=None),
        "statement",
        None,
        choices=(),
        extra={
            "merchant": invoices[0].merchant_name,
            "lines": [(i, next_due(i)) for i in invoices[:STATEMENT_LINES]],
            "more": max(0, len(invoices) - STATEMENT_LINES),
            "total": total(invoices),
        },
    )


def next_due(invoice: InvoiceFacts) -> date:
    """When the next money is due: the next instalment's date when it is split."""
    instalment = invoice.next_instalment
    return instalment.due_date if instalment is not None else invoice.due_date


def total(invoices: tuple[InvoiceFacts, ...]) -> Money | None:
    """What is left on all of them (None when they are in different currencies)."""
    currencies = {i.amount_due.currency for i in invoices}
    if len(currencies) != 1:
        return None
    return Money(sum(i.amount_due.amount for i in invoices), currencies.pop())


def pending_to_dict(meaning: Understanding) -> dict[str, Any]:
    return {
        "intent": meaning.intent.value,
        "parts": meaning.parts,
        "date": meaning.date.isoformat() if meaning.date else None,
        "date_text": meaning.date_text,
        "first": _text(meaning.first),
        "later": [[day.isoformat(), _text(amount)] for day, amount in meaning.later],
    }


def _text(amount: Decimal | None) -> str | None:
    return str(amount) if amount is not None else None


def pending_from_dict(data: Mapping[str, Any] | None) -> Understanding | None:
    if not data or data.get("intent") not in Intent._value2member_map_:
        return None
    day = data.get("date")
    return Understanding(
        Intent(data["intent"]),
        parts=data.get("parts"),
        date=date.fromisoformat(day) if day else None,
        date_text=data.get("date_text"),
        first=_amount(data.get("first")),
        later=_later(data.get("later")),
    )


def _later(value: object) -> tuple[tuple[date, Decimal | None], ...]:
    if not isinstance(value, list):
        return ()
    try:
        return tuple((date.fromisoformat(day), _amount(amount)) for day, amount in value)
    except (TypeError, ValueError):  # a stored value of another shape: as if none was said
        return ()


def _amount(value: object) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:  # a stored value that is no amount: as if none was said
        return None


def _names_number(text: str, invoice: InvoiceFacts) -> bool:
    if invoice.number.lower() in text.lower():
        return True
    sequence = invoice.number.rsplit("-", 1)[-1]
    if not sequence.isdigit():
        return False
    return any(int(found) == int(sequence) for found in _NUMBER.findall(text))


def _amounts(text: str) -> set[int]:
    """Every amount in `text`, in minor units (two decimals: the currencies we split)."""
    found: set[int] = set()
    for groups in _AMOUNT.findall(text):
        value = next(g for g in groups if g)
        whole, _, cents = value.replace(",", ".").partition(".")
        found.add(int(whole) * 100 + int(cents.ljust(2, "0")))
    return found
