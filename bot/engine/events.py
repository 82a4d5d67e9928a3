"""Pipeline events' payloads as types, and the one codec between them and the wire.

The wire stays what `Event.dumps` has always written, `{"id","type","conversation","data"}`:
events already in Redis (inboxes, schedules, dead letters) load as they are, and what this
code writes loads in the version before it, so a rolling deploy works both ways. A payload
type names its wire `type` (`TYPE`) and its fields are the `data` object's keys, in the order
they were written. A type not listed in `_TYPES` (another version's) decodes as `Untyped`.
The customer's message is `channels.base.InboundMessage` itself: the channel adapters build
it, and its fields have always been the inbound event's data.

pydantic (a dependency already) does the checking and the conversion: one `TypeAdapter` per
payload type, built once, instead of a to_dict/from_dict pair per type (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, ClassVar

from pydantic import Field, TypeAdapter

from bot.engine.pipeline import Event
from channels.base import InboundMessage
from flows.model import AgentKind, ReminderKind
from payments.webhook import PaymentRef


@dataclass(frozen=True, slots=True)
class InvoiceIssued:
    """An invoice was issued: send it to its customer's conversation."""

    TYPE: ClassVar[str] = "invoice_issued"

    invoice_id: str
    merchant_id: str


def _absent(value: object) -> bool:
    return value is None


@dataclass(frozen=True, slots=True)
class ScheduledReminder:
    """A reminder fell due (bot.engine.schedule): a promise, an instalment, a ladder step."""

    TYPE: ClassVar[str] = "reminder"

    invoice_id: str
    kind: ReminderKind
    instalment: int | None = None
    step: int | None = None
    # Written only when set (the key is absent otherwise), as it always was.
    policy: Annotated[dict[str, object] | None, Field(exclude_if=_absent)] = None


@dataclass(frozen=True, slots=True)
class PaymentLook:
    """A `payment` event: look again at one payment of one invoice (bot.engine.reconcile)."""

    TYPE: ClassVar[str] = "payment"

    merchant_id: str
    invoice_id: str
    session_id: str | None = None
    ref: PaymentRef | None = None  # the Stripe event that caused it (None: the sweep)
    object: dict[str, Any] | None = None  # the event's copy of the object, if Stripe is down


def _payment_before_refs(data: dict[str, Any]) -> dict[str, Any]:
    """A `payment` event queued before refs: a session-level update, nothing more."""
    update = data.get("update")
    if not isinstance(update, dict):
        return data
    keep = ("merchant_id", "invoice_id", "session_id")
    return {**{k: update.get(k) for k in keep}, "ref": None, "object": None}


@dataclass(frozen=True, slots=True)
class VoidRequested:
    """The merchant voided an invoice (bot.engine.void): credit what is still due."""

    TYPE: ClassVar[str] = "invoice_void"

    merchant_id: str
    invoice_id: str
    user_id: str = ""  # the console user or API key's owner, for the audit log


@dataclass(frozen=True, slots=True)
class CartRelaunchDue:
    """An abandoned cart's one relaunch fell due (bot.engine.carts)."""

    TYPE: ClassVar[str] = "cart_relaunch"

    merchant_id: str
    cart_id: str
    # The first due event's id, written only once the relaunch has waited for the customer's
    # hours: the waits keep it, so the relaunch is taken once whatever the number of waits.
    origin: Annotated[str | None, Field(exclude_if=_absent)] = None


@dataclass(frozen=True, slots=True)
class ReviewApplied:
    """Money to count on an invoice (bot.engine.review): a payment to review applied by a
    person, or an order the shop says is paid (bot.web.shops). The fields are the review
    claim's, then who applied it, in the order they were always written."""

    TYPE: ClassVar[str] = "review_apply"

    action: str  # "apply", the claim's own field
    invoice_id: str
    number: str
    amount: int
    currency: str
    source_invoice_id: str  # the invoice the payment was made on (for its way back)
    reason: str
    merchant_id: str
    session_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class HoldSettlementDue:
    """A flash-sale hold to settle in its conversation (bot.engine.offer_payments): its
    Stripe session's end state to apply, or (no `session_id`) that it never had one."""

    TYPE: ClassVar[str] = "offer_payment"

    merchant_id: str
    campaign_id: str
    hold: str
    # Written only when known (the key is absent for a hold without a session), as it was.
    session_id: Annotated[str | None, Field(exclude_if=_absent)] = None


@dataclass(frozen=True, slots=True)
class CampaignMessageDue:
    """A flash sale's message to one recipient (bot.engine.campaigns): sent, waited for, or
    counted as skipped, in that recipient's conversation."""

    TYPE: ClassVar[str] = "campaign_message"

    merchant_id: str
    campaign_id: str
    customer_id: str
    variant: int  # the index of the campaign's variant drawn for this recipient


def _falsy(value: object) -> bool:
    return not value


@dataclass(frozen=True, slots=True)
class AgentActed:
    """What a person did in the console to one conversation, or the hand-over timer on their
    behalf (bot.engine.handover). Only what was said is written: the timer names no agent,
    a claim no text, a reply no `forced`."""

    TYPE: ClassVar[str] = "agent"

    kind: AgentKind
    merchant_id: str
    agent_id: Annotated[str | None, Field(exclude_if=_absent)] = None
    agent_name: Annotated[str | None, Field(exclude_if=_absent)] = None
    # REPLY: what the agent wrote; PAYMENT: the operation (flows.agent.OPS).
    text: Annotated[str, Field(exclude_if=_falsy)] = ""
    settled: Annotated[bool, Field(exclude_if=_falsy)] = False  # RESOLVE: dispute settled
    forced: Annotated[bool, Field(exclude_if=_falsy)] = False  # an owner's reassignment
    # REPLY: the team's name; PAYMENT: the operation's parameters.
    params: Annotated[dict[str, Any], Field(exclude_if=_falsy)] = field(default_factory=dict)


Payload = (
    InvoiceIssued
    | ScheduledReminder
    | PaymentLook
    | VoidRequested
    | CartRelaunchDue
    | ReviewApplied
    | HoldSettlementDue
    | CampaignMessageDue
    | AgentActed
    | InboundMessage
)


@dataclass(frozen=True, slots=True)
class Untyped:
    """An event whose type has no payload type here: another version's, logged and dropped
    by dispatch."""

    type: str


_TYPES: dict[str, type[Payload]] = {
    t.TYPE: t
    for t in (
        InvoiceIssued,
        ScheduledReminder,
        PaymentLook,
        VoidRequested,
        CartRelaunchDue,
        ReviewApplied,
        HoldSettlementDue,
        CampaignMessageDue,
        AgentActed,
        InboundMessage,
    )
}
# Older shapes of a type's data, brought to the current one before validation.
_UPGRADES = {PaymentLook.TYPE: _payment_before_refs}


@cache
def _adapter(type_name: str) -> TypeAdapter[Payload]:
    """Built on first use (not at import), once per type."""
    return TypeAdapter(_TYPES[type_name])


def encode(event_id: str, conversation: str, payload: Payload) -> Event:
    """The pipeline event carrying `payload`, its `data` as the wire has it."""
    data = _adapter(payload.TYPE).dump_python(payload, mode="json")
    return Event(id=event_id, type=payload.TYPE, conversation=conversation, data=data)


def decode(event: Event) -> Payload | Untyped:
    """`event`'s payload. A payload that does not fit its type raises (pydantic's
    ValidationError): the pipeline parks the event as a dead letter, as it did when a
    handler met a missing key."""
    if event.type not in _TYPES:
        return Untyped(event.type)
    upgrade = _UPGRADES.get(event.type)
    data = upgrade(event.data) if upgrade is not None else event.data
    return _adapter(event.type).validate_python(data)
