"""A message that offers to pay (Telegram inline keyboard, WhatsApp quick replies or a WhatsApp
template approved with such quick replies) but is sent only after its invoice was settled does
not offer payment any more (issue 13): the outbox decides right before the provider call, not
when the message was written nor at the conversation's next event.

Each test writes the message (dispatch only: it waits in the outbox), settles the invoice
(dispatch only), and then lets the outbox send, so what the emulator received shows what the
provider was asked to show."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

from bot.engine import outbox
from bot.store import keys
from channels.base import ChannelName, DeliveryState
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.outbox_faults import add_fault, clear_faults, sender, wait_for_state
from tests.scenario.test_review_actions import api

PAYING = {"pay", "later", "split"}
PHONE = "+33611223344"


async def dispatch_only(facto: Facto) -> None:
    """Apply every waiting event, send nothing: the messages wait in the outbox."""
    while await facto.worker.dispatcher.run_once():
        pass


async def pay_by_card_undispatched(facto: Facto, pay_url: str) -> None:
    """The customer pays on the sandbox checkout; Stripe's webhook is only ingested."""
    response = await facto.client.post(urlparse(pay_url).path, allow_redirects=False)
    assert response.status == 303, await response.text()
    checkout = urlparse(response.headers["Location"]).path
    await facto.client.post(f"{checkout}/card", allow_redirects=False)


def offers(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in message["buttons"] if b["url"] or b["action"] in PAYING]


async def test_a_telegram_invoice_paid_before_it_is_sent_goes_without_pay_buttons(
    facto: Facto,
) -> None:
    response = await facto.post_invoice(invoice_body("telegram", 424242))
    assert response.status == 201
    created = await response.json()
    await dispatch_only(facto)
    assert await facto.messages("telegram", "424242") == []  # written, waiting to be sent

    await pay_by_card_undispatched(facto, created["pay_url"])
    await dispatch_only(facto)  # paid: the receipt is queued behind the invoice message
    await facto.drain()

    invoice_message, receipt = await facto.messages("telegram", "424242")
    assert created["number"] in invoice_message["text"]
    assert offers(invoice_message) == [], invoice_message["buttons"]
    assert receipt["text"].startswith("Paiement enregistré")
    assert facto.sandbox.edits == []  # nothing to take back: it never offered to pay
    # An invoice still due keeps its buttons: the check is about the invoice, not the queue.
    other = await facto.post_invoice(invoice_body("telegram", 515151))
    assert other.status == 201
    await facto.drain()
    [fresh] = await facto.messages("telegram", "515151")
    assert {b["action"] for b in fresh["buttons"]} >= {"later", "split"}


async def test_a_whatsapp_reply_sent_after_a_void_has_no_pay_quick_replies(facto: Facto) -> None:
    created = await facto.issue(invoice_body("whatsapp", PHONE))
    # The customer writes (the window opens) and asks for help: the answer offers to pay.
    response = await facto.whatsapp(PHONE, 1, "aide")
    assert response.status == 200
    await dispatch_only(facto)
    status, _ = await api(facto, f"/api/v1/invoices/{created['id']}/void")
    assert status == 202
    await dispatch_only(facto)
    sent_before = len(await facto.messages("whatsapp", PHONE))
    await facto.drain()

    new = (await facto.messages("whatsapp", PHONE))[sent_before:]
    assert len(new) >= 2, new  # the help answer, then the void notice
    assert all(m["template"] is None for m in new)  # inside the window: free-form
    assert all(offers(m) == [] for m in new), [m["buttons"] for m in new]
    assert "a annulé" in new[-1]["text"]


async def test_a_whatsapp_template_offering_to_pay_a_settled_invoice_is_not_sent(
    facto: Facto,
) -> None:
    """Outside the window only the approved template could carry it, and its quick replies
    are fixed at approval: the invoice message is not sent at all, nor on another channel;
    the receipt, queued behind it, is."""
    response = await facto.post_invoice(invoice_body("whatsapp", PHONE))
    assert response.status == 201
    created = await response.json()
    await dispatch_only(facto)
    await pay_by_card_undispatched(facto, created["pay_url"])
    await dispatch_only(facto)
    await facto.drain()

    [receipt] = await facto.messages("whatsapp", PHONE)
    assert receipt["template"] == "facto_receipt" and offers(receipt) == []
    assert facto.sandbox.bot_messages(ChannelName.SMS, PHONE) == []  # no fallback
    assert facto.merchant is not None
    failed = await facto.redis.zrange(keys.merchant_failed_messages(facto.merchant.id), 0, -1)
    assert failed == []  # not a delivery failure to show the merchant
    records = [await outbox.load(facto.redis, k) for k in await _outbox_keys(facto)]
    dropped = [r for r in records if r is not None and r.last_error == "InvoiceSettled"]
    assert len(dropped) == 1 and dropped[0].state is DeliveryState.FAILED


async def _outbox_keys(facto: Facto) -> list[str]:
    prefix = keys.outbox_message("")
    return [k.removeprefix(prefix) async for k in facto.redis.scan_iter(match=prefix + "*")]


async def test_settled_during_the_provider_call_the_buttons_are_taken_off_once(
    facto: Facto,
) -> None:
    """The check before the call saw the invoice due; it was paid while Telegram held the
    request, so its dispatch found no note of the message to retire. The sender, noting the
    message, sees the invoice settled and queues the edit itself: the keyboard goes, once."""
    response = await facto.post_invoice(invoice_body("telegram", 424242))
    assert response.status == 201
    created = await response.json()
    await dispatch_only(facto)
    [key] = await _outbox_keys(facto)
    await add_fault(facto, "telegram", status=None, delay=30)  # held until the faults clear
    batch = asyncio.create_task(sender(facto, "slow-worker").run_once())
    await wait_for_state(facto, key, "sending")

    await pay_by_card_undispatched(facto, created["pay_url"])
    await dispatch_only(facto)  # paid while the invoice message is in flight
    await clear_faults(facto)
    await batch
    await facto.drain()

    invoice_message = facto.sandbox.bot_messages(ChannelName.TELEGRAM, "424242")[0]
    assert created["number"] in invoice_message.text
    assert invoice_message.buttons == ()  # taken off after it was sent
    assert facto.sandbox.edits == [("424242", invoice_message.message_id)]
    assert facto.merchant is not None
    notes = keys.invoice_telegram_buttons(facto.merchant.id, created["id"])
    assert not await facto.redis.exists(notes)
    # A later event of the paid invoice queues no second edit.
    await facto.customer_says("telegram", "424242", "merci")
    assert len(facto.sandbox.edits) == 1
