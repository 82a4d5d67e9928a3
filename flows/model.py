"""What flows read and return: conversation state, events, facts, and actions.

Flows are pure functions of (state, event, facts) -> (state, actions): they never do I/O.
The pipeline loads the facts, calls the flow, and applies the actions atomically.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from payments.money import Money


class ConversationStatus(enum.StrEnum):
    BOT = "bot"  # the bot answers
    WAITING_AGENT = "waiting_agent"  # the customer asked for a human; the bot keeps quiet
    AGENT = "agent"  # an agent holds the conversation


class Choice(enum.StrEnum):
    """Actions a customer can pick from a menu (buttons, or numbers on SMS)."""

    PAY = "pay"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class ConversationState:
    merchant_id: str | None = None
    invoice_id: str | None = None
    locale: str | None = None
    choices: tuple[Choice, ...] = ()  # what the last menu offered, in order (SMS "1", "2"...)
    unknown_streak: int = 0
    status: ConversationStatus = ConversationStatus.BOT

    def to_dict(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "invoice_id": self.invoice_id,
            "locale": self.locale,
            "choices": [c.value for c in self.choices],
            "unknown_streak": self.unknown_streak,
            "status": self.status.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversationState:
        return cls(
            merchant_id=data.get("merchant_id"),
            invoice_id=data.get("invoice_id"),
            locale=data.get("locale"),
            choices=tuple(
                Choice(c) for c in data.get("choices", ()) if c in Choice._value2member_map_
            ),
            unknown_streak=int(data.get("unknown_streak", 0)),
            status=ConversationStatus(data.get("status", ConversationStatus.BOT.value)),
        )

    def evolve(self, **changes: Any) -> ConversationState:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """What a flow may know about the conversation's invoice."""

    invoice_id: str
    merchant_name: str
    customer_name: str
    number: str
    gross: Money
    amount_due: Money
    due_date: date
    status: str  # payments.invoice.InvoiceStatus value
    pay_url: str
    invoice_url: str

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"

    @property
    def is_processing(self) -> bool:
        return self.status == "processing"


# Events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceSent:
    """A merchant issued an invoice to this customer."""


@dataclass(frozen=True, slots=True)
class CustomerText:
    """The customer wrote `text`, or picked `choice` from the last menu."""

    text: str
    choice: Choice | None = None


@dataclass(frozen=True, slots=True)
class UnsupportedMessage:
    """A sticker, photo, voice note...: we can only read text."""


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """A verified payment event, already applied to the ledger."""

    outcome: str  # "paid" | "processing" | "failed"
    amount: Money


FlowEvent = InvoiceSent | CustomerText | UnsupportedMessage | PaymentOutcome


# Actions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """Say message `message` (a template id) with `params`, offering `choices`."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()


Action = Reply


@dataclass(frozen=True, slots=True)
class Outcome:
    state: ConversationState
    actions: tuple[Action, ...] = ()
