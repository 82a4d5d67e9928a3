"""Invoice menu: send the invoice, answer "payer" with the link, "aide" with the choices.

```mermaid
stateDiagram-v2
    [*] --> Menu: InvoiceSent / invoice + choices
    Menu --> Menu: pay (button, "1", "payer", "pay") / pay link
    Menu --> Menu: help ("aide", "help", "?") / help + choices
    Menu --> Menu: anything else / polite fallback + choices
    Menu --> Menu: sticker, photo... / "I can only read text" + choices
    Menu --> Paid: PaymentOutcome(paid) / receipt
    Menu --> Menu: PaymentOutcome(processing) / "payment is processing"
    Menu --> Menu: PaymentOutcome(failed) / "payment failed" + link
    Paid --> Paid: any message / "already paid, thank you"
```
(The same diagram is in `invoice_menu.mmd`.)
"""

from __future__ import annotations

import re
import unicodedata

from flows.model import (
    Choice,
    ConversationState,
    CustomerText,
    FlowEvent,
    InvoiceFacts,
    InvoiceSent,
    Outcome,
    PaymentOutcome,
    Reply,
    UnsupportedMessage,
)

MENU: tuple[Choice, ...] = (Choice.PAY, Choice.HELP)

_PAY_WORDS = frozenset({"payer", "pay", "paye", "paie", "regler", "pay now", "payer maintenant"})
_HELP_WORDS = frozenset({"aide", "help", "?", "info", "menu", "options"})


def handle(state: ConversationState, event: FlowEvent, invoice: InvoiceFacts | None) -> Outcome:
    match event:
        case InvoiceSent():
            return _send_invoice(state, invoice)
        case PaymentOutcome():
            return _payment(state, event, invoice)
        case UnsupportedMessage():
            return _reply(state, Reply("text_only", _params(invoice), _menu_for(invoice)))
        case CustomerText():
            return _customer_text(state, event, invoice)


def _send_invoice(state: ConversationState, invoice: InvoiceFacts | None) -> Outcome:
    if invoice is None:
        return Outcome(state)
    new_state = state.evolve(invoice_id=invoice.invoice_id, unknown_streak=0)
    return _reply(new_state, Reply("invoice", _params(invoice), MENU))


def _customer_text(
    state: ConversationState, event: CustomerText, invoice: InvoiceFacts | None
) -> Outcome:
    if invoice is None:
        return _reply(state, Reply("no_invoice"))
    if invoice.is_paid:
        return _reply(state, Reply("already_paid", _params(invoice)))
    choice = event.choice or match_choice(event.text)
    if choice is Choice.PAY:
        return _reply(state.evolve(unknown_streak=0), Reply("pay_link", _params(invoice), MENU))
    if choice is Choice.HELP:
        return _reply(state.evolve(unknown_streak=0), Reply("help", _params(invoice), MENU))
    streak = state.unknown_streak + 1
    return _reply(state.evolve(unknown_streak=streak), Reply("fallback", _params(invoice), MENU))


def _payment(
    state: ConversationState, event: PaymentOutcome, invoice: InvoiceFacts | None
) -> Outcome:
    params = {**_params(invoice), "paid_amount": event.amount}
    if event.outcome == "paid":
        return _reply(state, Reply("receipt", params))
    if event.outcome == "processing":
        return _reply(state, Reply("payment_processing", params))
    return _reply(state, Reply("payment_failed", params, MENU))


def _reply(state: ConversationState, reply: Reply) -> Outcome:
    return Outcome(state.evolve(choices=reply.choices), (reply,))


def _menu_for(invoice: InvoiceFacts | None) -> tuple[Choice, ...]:
    return MENU if invoice is not None and not invoice.is_paid else ()


def _params(invoice: InvoiceFacts | None) -> dict[str, object]:
    return {"invoice": invoice} if invoice is not None else {}


def match_choice(text: str) -> Choice | None:
    """The menu words this flow understands, however they are typed."""
    folded = _fold(text)
    if folded in _PAY_WORDS:
        return Choice.PAY
    if folded in _HELP_WORDS:
        return Choice.HELP
    return None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = re.sub(r"[^\w?]+", " ", plain).strip()
    return plain if plain != "" else text.strip()
