"""The events codec keeps the wire `Event.dumps` always wrote, both ways (rolling deploys)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from bot.engine import events
from bot.engine.pipeline import Event, is_transient
from channels.base import ChannelName, InboundKind, InboundMessage
from flows.model import AgentKind, ReminderKind
from payments.webhook import PaymentRef

CONV = "sms:+33612345678"


def _old_dumps(event_id: str, type_: str, data: dict[str, object]) -> str:
    """What the code before the typed payloads wrote for an event (`Event.dumps` then)."""
    body = {"id": event_id, "type": type_, "conversation": CONV, "data": data}
    return json.dumps(body, separators=(",", ":"))


POLICY: dict[str, object] = {
    "days": [0, 3, 7],
    "send_at": "10:00",
    "opens": "09:00",
    "closes": "19:00",
    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
    "on_holidays": False,
    "timezone": "Europe/Paris",
    "max_per_week": 2,
}

REF: dict[str, object] = {
    "event_id": "evt_1",
    "event_type": "checkout.session.completed",
    "livemode": False,
    "session_id": "cs_1",
    "payment_intent": "pi_1",
    "invoice_id": "inv_1",
    "merchant_id": "m1",
    "moves_money": True,
    "created": 1764700000,
}
OBJECT: dict[str, object] = {"id": "cs_1", "payment_status": "paid", "metadata": {"a": "b"}}

# (old wire, the payload it carries): each written exactly as the old producers did.
CASES: list[tuple[str, events.Payload]] = [
    (
        _old_dumps("issued:inv_1", "invoice_issued", {"invoice_id": "inv_1", "merchant_id": "m1"}),
        events.InvoiceIssued(invoice_id="inv_1", merchant_id="m1"),
    ),
    (
        _old_dumps(
            "job:1",
            "reminder",
            {"invoice_id": "inv_1", "kind": "promise", "instalment": None, "step": None},
        ),
        events.ScheduledReminder(invoice_id="inv_1", kind=ReminderKind.PROMISE),
    ),
    (
        _old_dumps(
            "job:2",
            "reminder",
            {"invoice_id": "inv_1", "kind": "instalment_due", "instalment": 2, "step": None},
        ),
        events.ScheduledReminder("inv_1", ReminderKind.INSTALMENT_DUE, instalment=2),
    ),
    (
        _old_dumps(
            "job:3",
            "reminder",
            {
                "invoice_id": "inv_1",
                "kind": "ladder",
                "instalment": None,
                "step": 1,
                "policy": POLICY,
            },
        ),
        events.ScheduledReminder("inv_1", ReminderKind.LADDER, step=1, policy=POLICY),
    ),
    (
        _old_dumps(
            "stripe:evt_1",
            "payment",
            {
                "merchant_id": "m1",
                "invoice_id": "inv_1",
                "session_id": "cs_1",
                "ref": REF,
                "object": OBJECT,
            },
        ),
        events.PaymentLook(
            "m1",
            "inv_1",
            "cs_1",
            PaymentRef(
                "evt_1",
                "checkout.session.completed",
                False,
                "cs_1",
                "pi_1",
                "inv_1",
                "m1",
                moves_money=True,
                created=1764700000,
            ),
            OBJECT,
        ),
    ),
    (  # the sweep's look: no Stripe event behind it
        _old_dumps(
            "stripe-session:cs_1:0123456789abcdef",
            "payment",
            {
                "merchant_id": "m1",
                "invoice_id": "inv_1",
                "session_id": "cs_1",
                "ref": None,
                "object": None,
            },
        ),
        events.PaymentLook("m1", "inv_1", "cs_1", None, None),
    ),
    (
        _old_dumps(
            "void:inv_1",
            "invoice_void",
            {"merchant_id": "m1", "invoice_id": "inv_1", "user_id": "u_7"},
        ),
        events.VoidRequested("m1", "inv_1", "u_7"),
    ),
    (
        _old_dumps("cart:m1:c1", "cart_relaunch", {"merchant_id": "m1", "cart_id": "c1"}),
        events.CartRelaunchDue("m1", "c1"),
    ),
    (  # the same relaunch put off to the customer's morning: it keeps the first event's id
        _old_dumps(
            "cart:m1:c1",
            "cart_relaunch",
            {"merchant_id": "m1", "cart_id": "c1", "origin": "cart:m1:c1"},
        ),
        events.CartRelaunchDue("m1", "c1", "cart:m1:c1"),
    ),
    (  # written as the review claim spread, then who applied it (bot.engine.review)
        _old_dumps(
            "review-apply:cs_9",
            "review_apply",
            {
                "action": "apply",
                "invoice_id": "inv_2",
                "number": "F-2026-000012",
                "amount": 4500,
                "currency": "eur",
                "source_invoice_id": "inv_1",
                "reason": "paid after the invoice was voided",
                "merchant_id": "m1",
                "session_id": "cs_9",
                "user_id": "u_3",
            },
        ),
        events.ReviewApplied(
            "apply",
            "inv_2",
            "F-2026-000012",
            4500,
            "eur",
            "inv_1",
            "paid after the invoice was voided",
            "m1",
            "cs_9",
            "u_3",
        ),
    ),
    # A flash-sale hold's Stripe event or swept end state, then one without a session.
    (
        _old_dumps(
            "stripe-session:cs_4:paid",
            "offer_payment",
            {"merchant_id": "m1", "campaign_id": "c1", "hold": "hold_c1_ab", "session_id": "cs_4"},
        ),
        events.HoldSettlementDue("m1", "c1", "hold_c1_ab", "cs_4"),
    ),
    (
        _old_dumps(
            "offer-hold:hold_c1_ab:unopened",
            "offer_payment",
            {"merchant_id": "m1", "campaign_id": "c1", "hold": "hold_c1_ab"},
        ),
        events.HoldSettlementDue("m1", "c1", "hold_c1_ab"),
    ),
    (
        _old_dumps(
            "campaign:c1:cus_7",
            "campaign_message",
            {"merchant_id": "m1", "campaign_id": "c1", "customer_id": "cus_7", "variant": 1},
        ),
        events.CampaignMessageDue("m1", "c1", "cus_7", 1),
    ),
    # A person's actions (bot.web.console), then the hand-over timer, which names nobody.
    (
        _old_dumps(
            "agent:0a1b",
            "agent",
            {
                "kind": "reply",
                "merchant_id": "m1",
                "agent_id": "u_1",
                "agent_name": "Lea",
                "text": "Bonjour, je regarde",
                "params": {"team": "Garage Martin"},
            },
        ),
        events.AgentActed(
            AgentKind.REPLY,
            "m1",
            agent_id="u_1",
            agent_name="Lea",
            text="Bonjour, je regarde",
            params={"team": "Garage Martin"},
        ),
    ),
    (
        _old_dumps(
            "agent:0a1c",
            "agent",
            {
                "kind": "resolve",
                "merchant_id": "m1",
                "agent_id": "u_2",
                "agent_name": "Max",
                "settled": True,
                "forced": True,
            },
        ),
        events.AgentActed(
            AgentKind.RESOLVE, "m1", agent_id="u_2", agent_name="Max", settled=True, forced=True
        ),
    ),
    (
        _old_dumps("agent-timer:telegram:1", "agent", {"kind": "timer", "merchant_id": "m1"}),
        events.AgentActed(AgentKind.TIMER, "m1"),
    ),
    # What the customer typed (every key written, nulls included), then a button tapped.
    (
        _old_dumps(
            "sms:SM1",
            "inbound",
            {
                "channel": "sms",
                "address": "+33612345678",
                "provider_id": "SM1",
                "kind": "text",
                "text": "payer",
                "payload": None,
                "language_code": None,
                "extra": {},
            },
        ),
        InboundMessage(ChannelName.SMS, "+33612345678", "SM1", InboundKind.TEXT, "payer"),
    ),
    (
        _old_dumps(
            "telegram:42",
            "inbound",
            {
                "channel": "telegram",
                "address": "424242",
                "provider_id": "42",
                "kind": "choice",
                "text": "",
                "payload": "pay",
                "language_code": "fr",
                "extra": {"callback_query_id": "cq_1"},
            },
        ),
        InboundMessage(
            ChannelName.TELEGRAM,
            "424242",
            "42",
            InboundKind.CHOICE,
            payload="pay",
            language_code="fr",
            extra={"callback_query_id": "cq_1"},
        ),
    ),
]


@pytest.mark.parametrize(("raw", "payload"), CASES)
def test_old_wire_loads_as_the_payload(raw: str, payload: events.Payload) -> None:
    assert events.decode(Event.loads(raw)) == payload


@pytest.mark.parametrize(("raw", "payload"), CASES)
def test_new_code_writes_the_old_wire_byte_for_byte(raw: str, payload: events.Payload) -> None:
    event_id = json.loads(raw)["id"]
    assert events.encode(event_id, CONV, payload).dumps() == raw


@pytest.mark.parametrize(("raw", "payload"), CASES)
def test_every_payload_round_trips(raw: str, payload: events.Payload) -> None:
    event = Event.loads(events.encode("e1", CONV, payload).dumps())
    assert events.decode(event) == payload


def test_every_payload_type_is_covered() -> None:
    assert {type(p) for _raw, p in CASES} == set(events.Payload.__args__)


def test_extra_keys_of_a_newer_version_are_ignored() -> None:
    data = {"invoice_id": "inv_1", "merchant_id": "m1", "added_later": 1}
    decoded = events.decode(Event.loads(_old_dumps("e", "invoice_issued", data)))
    assert decoded == events.InvoiceIssued("inv_1", "m1")


def test_a_type_without_payload_type_is_untyped_not_an_error() -> None:
    raw = _old_dumps("e", "from_a_newer_version", {"anything": [1]})
    assert events.decode(Event.loads(raw)) == events.Untyped("from_a_newer_version")


@pytest.mark.parametrize(
    "data",
    [
        {"merchant_id": "m1"},  # no invoice
        {"invoice_id": ["inv_1"], "merchant_id": "m1"},
    ],
)
def test_a_malformed_payload_raises_a_deterministic_error(data: dict[str, object]) -> None:
    """Raised in the handler, it parks the event as a dead letter (never retried forever)."""
    with pytest.raises(ValidationError) as raised:
        events.decode(Event.loads(_old_dumps("e", "invoice_issued", data)))
    assert not is_transient(raised.value)


def test_an_unknown_reminder_kind_is_malformed() -> None:
    data: dict[str, object] = {
        "invoice_id": "inv_1",
        "kind": "never_heard_of",
        "instalment": None,
        "step": None,
    }
    with pytest.raises(ValidationError):
        events.decode(Event.loads(_old_dumps("e", "reminder", data)))


def test_a_ref_queued_before_created_was_recorded_loads() -> None:
    ref = {k: v for k, v in REF.items() if k != "created"}
    data = {"merchant_id": "m1", "invoice_id": "inv_1", "session_id": "cs_1", "ref": ref}
    decoded = events.decode(Event.loads(_old_dumps("e", "payment", {**data, "object": None})))
    assert isinstance(decoded, events.PaymentLook)
    assert decoded.ref is not None and decoded.ref.created is None


def test_a_payment_queued_before_refs_loads_as_a_look() -> None:
    update = {"merchant_id": "m1", "invoice_id": "inv_1", "session_id": "cs_1", "paid": True}
    decoded = events.decode(Event.loads(_old_dumps("e", "payment", {"update": update})))
    assert decoded == events.PaymentLook("m1", "inv_1", "cs_1", None, None)


def test_an_agent_action_written_with_its_defaults_loads() -> None:
    """Before the type, the console wrote every key it had, nulls and falses included."""
    data: dict[str, object] = {
        "kind": "resolve",
        "merchant_id": "m1",
        "agent_id": "u_2",
        "agent_name": None,
        "settled": False,
        "forced": False,
    }
    decoded = events.decode(Event.loads(_old_dumps("agent:0a1d", "agent", data)))
    assert decoded == events.AgentActed(AgentKind.RESOLVE, "m1", agent_id="u_2")
