"""WhatsApp end to end: template while the 24 h window is closed, free-form messages with
buttons while it is open, templates again once it closes (issue 7, "Done when")."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from bot.engine import outbox
from bot.store import whatsapp_window
from channels.base import DeliveryState
from tests.scenario.harness import Facto, invoice_body

PHONE = "+33611223344"
LINES = [{"description": "Canapé", "quantity": 1, "unit_amount": 12000, "vat_rate": "20"}]


async def bot_messages(facto: Facto) -> list[dict[str, Any]]:
    return await facto.messages("whatsapp", PHONE)


def actions(message: dict[str, Any]) -> list[str]:
    return [str(b["action"]) for b in message["buttons"]]


async def tap(facto: Facto, sid: int, payload: str) -> None:
    response = await facto.whatsapp(PHONE, sid, payload=payload)
    assert response.status == 200, await response.text()
    await facto.drain()


async def test_template_then_buttons_in_the_window_then_templates_again(facto: Facto) -> None:
    created = await facto.issue(invoice_body("whatsapp", PHONE, lines=LINES))

    # No message from the customer yet: the window is closed, the invoice goes as a template.
    [invoice] = await bot_messages(facto)
    assert invoice["template"] == "facto_invoice"
    assert created["number"] in invoice["text"] and created["pay_url"] in invoice["text"]
    assert "144,00" in invoice["text"]
    assert actions(invoice) == ["pay", "later", "split"]

    # The customer taps "En plusieurs fois", then "En 3 fois", then "Oui".
    await tap(facto, 1, "split")
    ask = (await bot_messages(facto))[-1]
    assert ask["template"] is None  # the tap opened the window: free-form, with buttons
    assert actions(ask) == ["split:2", "split:3"]
    await tap(facto, 2, "split:3")
    proposal = (await bot_messages(facto))[-1]
    assert proposal["template"] is None and actions(proposal) == ["yes", "no"]
    assert proposal["text"].count("48,00") == 3
    before_yes = len(await bot_messages(facto))
    await tap(facto, 3, "yes")
    after_yes = (await bot_messages(facto))[before_yes:]
    assert after_yes and all(m["template"] is None for m in after_yes)
    assert any("/p/" in m["text"] for m in after_yes)  # the first instalment's link

    # A day and more later the window has closed: the next instalment's notice is a template.
    sent_before = len(await bot_messages(facto))
    facto.clock.advance(timedelta(days=31).total_seconds())
    await facto.drain()
    later = (await bot_messages(facto))[sent_before:]
    assert later, "an instalment notice was due"
    assert all(m["template"] is not None for m in later), later
    assert all(m["template"].startswith("facto_instalment") for m in later)


async def test_free_text_is_never_sent_outside_the_window(facto: Facto) -> None:
    await facto.issue(invoice_body("whatsapp", PHONE, lines=LINES))
    response = await facto.whatsapp(PHONE, 10, "aide")
    assert response.status == 200
    # The window opened at the customer's message; the answer is due 25 h later (the worker
    # was down): at send time the window is closed and "help" has no template.
    facto.clock.advance(timedelta(hours=25).total_seconds())
    await facto.drain()
    messages = await bot_messages(facto)
    assert [m["template"] for m in messages] == ["facto_invoice"]
    failed = await outbox.failed_messages(facto.redis, facto.merchant.id, 10)  # type: ignore[union-attr]
    assert [r.last_error for r in failed] == ["OutsideWindow"]


async def test_a_reply_inside_the_window_is_free_form(facto: Facto) -> None:
    await facto.issue(invoice_body("whatsapp", PHONE, lines=LINES))
    assert (await facto.whatsapp(PHONE, 20, "payer")).status == 200
    await facto.drain()
    link = (await bot_messages(facto))[-1]
    assert link["template"] is None and "/p/" in link["text"]
    last = await whatsapp_window.last_inbound(facto.redis, PHONE)
    assert last == facto.clock.now()


async def test_duplicate_whatsapp_delivery_is_read_once(facto: Facto) -> None:
    await facto.issue(invoice_body("whatsapp", PHONE, lines=LINES))
    for _ in range(2):
        assert (await facto.whatsapp(PHONE, 30, "payer")).status == 200
    await facto.drain()
    assert len(await bot_messages(facto)) == 2  # the invoice, one pay link


async def test_unsigned_whatsapp_webhook_is_refused(facto: Facto) -> None:
    form = {"MessageSid": "SM" + "1" * 32, "From": f"whatsapp:{PHONE}", "Body": "payer"}
    response = await facto.client.post(
        "/webhooks/twilio/whatsapp", data=form, headers={"X-Twilio-Signature": "bad"}
    )
    assert response.status == 403


async def test_whatsapp_invoice_needs_a_phone(facto: Facto) -> None:
    body = invoice_body("whatsapp", PHONE)
    del body["customer"]["phone"]
    response = await facto.post_invoice(body)
    assert response.status == 422
    fields = (await response.json())["fields"]
    assert {"field": "customer.phone", "message": "is required when channel is whatsapp"} in fields


async def test_whatsapp_prefixed_phone_is_accepted(facto: Facto) -> None:
    created = await facto.issue(invoice_body("whatsapp", f"whatsapp:{PHONE}"))
    assert created["customer"]["phone"] == "+33•••••••44"  # the API masks it
    assert len(await bot_messages(facto)) == 1


def signed(facto: Facto, path: str, form: dict[str, str]) -> dict[str, str]:
    signature = RequestValidator("sandbox-twilio-token").compute_signature(
        f"{facto.base_url}{path}", form
    )
    return {"X-Twilio-Signature": signature}


@pytest.mark.parametrize(
    "form",
    [
        {"MessageSid": "SM" + "2" * 32, "From": PHONE, "Body": "payer"},  # not whatsapp:
        {"From": f"whatsapp:{PHONE}", "Body": "payer"},  # no MessageSid
        {"MessageSid": "SM" + "3" * 32, "From": f"whatsapp:{PHONE}", "NumMedia": "two"},
    ],
)
async def test_malformed_whatsapp_webhook_is_a_400(facto: Facto, form: dict[str, str]) -> None:
    path = "/webhooks/twilio/whatsapp"
    response = await facto.client.post(path, data=form, headers=signed(facto, path, form))
    assert response.status == 400


async def test_whatsapp_webhook_wants_a_form(facto: Facto) -> None:
    response = await facto.client.post("/webhooks/twilio/whatsapp", json={"Body": "payer"})
    assert response.status == 415


async def test_whatsapp_status_callbacks_are_recorded_like_sms(facto: Facto) -> None:
    await facto.issue(invoice_body("whatsapp", PHONE))
    [key] = [k.removeprefix("outbox:msg:") for k in await facto.redis.keys("outbox:msg:*")]
    record = await outbox.load(facto.redis, key)
    assert record is not None and record.provider_message_id
    sid = record.provider_message_id
    path = "/webhooks/twilio/status"
    for status in ("read", "delivered"):  # "read" is WhatsApp's last step; never moves back
        form = {"MessageSid": sid, "MessageStatus": status, "To": f"whatsapp:{PHONE}"}
        response = await facto.client.post(path, data=form, headers=signed(facto, path, form))
        assert response.status == 200
    assert await outbox.delivery_state(facto.redis, sid) is DeliveryState.READ
