"""Undeliverable messages (issue 7, "Fallback"): marked failed, listed by the API, re-sent once on
the customer's next known channel (WhatsApp -> SMS, Telegram -> SMS) when the merchant allows
it; a carrier STOP (21610) lands in the consent registry."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.engine import outbox
from bot.engine.outbox import Sender
from bot.store import consent, keys, sms_reach, whatsapp_window
from bot.web.app_keys import SERVICES
from channels.base import ChannelName, DeliveryState
from channels.sms_text import sms_safe
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.outbox_faults import add_fault

PHONE = "+33611223344"
CHAT = 930_101


async def failed_items(facto: Facto, api_key: str | None = None) -> list[dict[str, Any]]:
    response = await facto.client.get(
        "/api/v1/messages",
        params={"state": "failed"},
        headers={"Authorization": f"Bearer {api_key or facto.api_key}"},
    )
    assert response.status == 200
    items: list[dict[str, Any]] = (await response.json())["messages"]
    return items


async def only_record(facto: Facto, channel: str) -> outbox.OutboxRecord:
    records = [
        r
        for k in await facto.redis.keys("outbox:msg:*")
        if (r := await outbox.load(facto.redis, k.removeprefix("outbox:msg:"))) is not None
        and r.message.channel.value == channel
    ]
    assert len(records) == 1, records
    return records[0]


async def settle_callbacks(facto: Facto, key: str) -> None:
    """The emulator reports delivery in the background: wait (bounded) until the record moved
    past "sent", then let the worker act on it."""
    for _ in range(200):
        record = await outbox.load(facto.redis, key)
        if record is not None and record.state is not DeliveryState.SENT:
            break
        await asyncio.sleep(0.01)
    await facto.drain()


async def deliveries(facto: Facto, invoice_id: str) -> list[dict[str, Any]]:
    response = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert response.status == 200
    timeline: list[dict[str, Any]] = (await response.json())["deliveries"]
    return timeline


@pytest.mark.parametrize("code", [63024, 63003, 131026])
async def test_whatsapp_unreachable_falls_back_to_sms(facto: Facto, code: int) -> None:
    await add_fault(facto, "whatsapp", status=400, code=code)
    created = await facto.issue(invoice_body("whatsapp", PHONE))
    [entry] = await deliveries(facto, created["id"])
    assert entry["channel"] == "whatsapp" and entry["event"] == "failed"
    assert entry["error"] == "RecipientUnreachable" and entry["replaced_by"] == "sms"

    assert await facto.messages("whatsapp", PHONE) == []
    [sms] = await facto.messages("sms", PHONE)
    assert "/p/" in sms["text"]
    [item] = await failed_items(facto)
    assert item["channel"] == "whatsapp" and item["last_error"] == "RecipientUnreachable"
    assert item["fallback"] == {"channel": "sms", "state": "sent"}


async def test_after_the_invoice_fell_back_to_sms_the_customer_answers_there(
    facto: Facto,
) -> None:
    await add_fault(facto, "whatsapp", status=400, code=63024)
    created = await facto.issue(invoice_body("whatsapp", PHONE))
    [invoice] = await facto.messages("sms", PHONE)
    assert "1. Payer" in invoice["text"]  # rendered for SMS: the numbered menu

    assert (await facto.sms(PHONE, 5, "1")).status == 200
    await facto.drain()
    link = (await facto.messages("sms", PHONE))[-1]
    assert created["pay_url"] in link["text"] and created["number"] in link["text"]


async def test_whatsapp_blocked_gives_up_without_fallback(facto: Facto) -> None:
    await add_fault(facto, "whatsapp", status=400, code=63014)
    await facto.issue(invoice_body("whatsapp", PHONE))

    assert await facto.messages("sms", PHONE) == []
    [item] = await failed_items(facto)
    assert item["last_error"] == "Blocked" and item["fallback"] is None
    [entry] = await deliveries(facto, item["invoice_id"])
    assert entry["error"] == "Blocked" and entry["replaced_by"] is None


async def test_whatsapp_rate_limit_is_retried_on_whatsapp(facto: Facto) -> None:
    await add_fault(facto, "whatsapp", status=429, code=63018, retry_after=1)
    await facto.issue(invoice_body("whatsapp", PHONE))
    facto.clock.advance(2)
    await facto.drain()
    [invoice] = await facto.messages("whatsapp", PHONE)
    assert invoice["template"] == "facto_invoice"
    assert await failed_items(facto) == []


async def test_telegram_blocked_falls_back_to_sms(facto: Facto) -> None:
    await add_fault(facto, "telegram", status=403)
    body = invoice_body("telegram", CHAT)
    body["customer"]["phone"] = PHONE
    await facto.issue(body)

    [sms] = await facto.messages("sms", PHONE)
    assert "/p/" in sms["text"]
    [item] = await failed_items(facto)
    assert item["channel"] == "telegram"
    assert item["fallback"] == {"channel": "sms", "state": "sent"}


async def test_a_merchant_may_turn_the_fallback_off(facto: Facto) -> None:
    _, key = await facto.add_merchant(name="Sans repli", channel_fallback=False)
    await add_fault(facto, "whatsapp", status=400, code=63024)
    response = await facto.post_invoice(invoice_body("whatsapp", PHONE), key)
    assert response.status == 201
    await facto.drain()

    assert await facto.messages("sms", PHONE) == []
    [item] = await failed_items(facto, key)
    assert item["fallback"] is None


@pytest.mark.parametrize("code", [30005, 30006])
async def test_sms_undelivered_by_status_callback_falls_back(facto: Facto, code: int) -> None:
    await add_fault(facto, "sms", undelivered=code)
    body = invoice_body("sms", PHONE)
    body["customer"]["telegram_chat_id"] = CHAT
    await facto.issue(body)
    record = await only_record(facto, "sms")
    await settle_callbacks(facto, record.key)

    record = await only_record(facto, "sms")
    assert record.state is DeliveryState.FAILED and record.last_error == f"Undelivered{code}"
    assert record.invoice_id is not None
    [entry] = await deliveries(facto, record.invoice_id)
    assert (entry["error"], entry["replaced_by"]) == (f"Undelivered{code}", "telegram")
    [telegram] = await facto.messages("telegram", str(CHAT))
    # The invoice announced again, rendered for Telegram: the SMS's words plus the invoice
    # page's link, which the SMS leaves out to stay within two segments.
    assert telegram["text"].startswith(record.message.text) and "/i/" in telegram["text"]
    [item] = await failed_items(facto)
    assert item["fallback"] == {"channel": "telegram", "state": "sent"}


async def test_sms_30003_is_tried_once_more_later_then_falls_back(facto: Facto) -> None:
    await add_fault(facto, "sms", undelivered=30003, count=2)
    body = invoice_body("sms", PHONE)
    body["customer"]["telegram_chat_id"] = CHAT
    created = await facto.issue(body)
    [first] = [r for r in await records(facto, "sms") if not r.key.endswith(":retry")]
    await settle_callbacks(facto, first.key)

    # Unreachable handset, often temporary: one more SMS in 15 minutes, nothing on Telegram yet.
    assert len(await facto.messages("sms", PHONE)) == 1
    assert await facto.messages("telegram", str(CHAT)) == []
    facto.clock.advance(14 * 60)
    await facto.drain()
    assert len(await facto.messages("sms", PHONE)) == 1
    facto.clock.advance(60)
    await facto.drain()
    assert len(await facto.messages("sms", PHONE)) == 2
    await settle_callbacks(facto, f"{first.key}:retry")

    # Undelivered again: now the other channel.
    [telegram] = await facto.messages("telegram", str(CHAT))
    assert "/p/" in telegram["text"]
    timeline = await deliveries(facto, created["id"])
    assert [(e["error"], e["replaced_by"]) for e in timeline] == [
        ("Undelivered30003", "sms"),
        ("Undelivered30003", "telegram"),
    ]


async def test_sms_carrier_filtering_is_failed_but_not_re_sent(facto: Facto) -> None:
    await add_fault(facto, "sms", undelivered=30007)
    body = invoice_body("sms", PHONE)
    body["customer"]["telegram_chat_id"] = CHAT
    await facto.issue(body)
    await settle_callbacks(facto, (await only_record(facto, "sms")).key)

    assert await facto.messages("telegram", str(CHAT)) == []
    [item] = await failed_items(facto)
    assert item["last_error"] == "Undelivered30007" and item["fallback"] is None


async def test_whatsapp_unreachable_by_status_callback_falls_back_to_sms(facto: Facto) -> None:
    await add_fault(facto, "whatsapp", undelivered=63024)
    await facto.issue(invoice_body("whatsapp", PHONE))
    await settle_callbacks(facto, (await only_record(facto, "whatsapp")).key)

    [sms] = await facto.messages("sms", PHONE)
    assert "/p/" in sms["text"]


async def records(facto: Facto, channel: str) -> list[outbox.OutboxRecord]:
    found = []
    for k in await facto.redis.keys("outbox:msg:*"):
        record = await outbox.load(facto.redis, k.removeprefix("outbox:msg:"))
        if record is not None and record.message.channel.value == channel:
            found.append(record)
    return found


async def test_whatsapp_63016_by_status_callback_resends_as_template(facto: Facto) -> None:
    # The customer wrote first: the invoice goes free-form, but WhatsApp reports 63016 (our
    # view of the window was wrong). It goes again as its template.
    assert (await facto.whatsapp(PHONE, 1, "bonjour")).status == 200
    await facto.drain()
    await add_fault(facto, "whatsapp", undelivered=63016)
    await facto.issue(invoice_body("whatsapp", PHONE))
    [invoice] = [r for r in await records(facto, "whatsapp") if r.invoice_id and not r.fallback_of]
    await settle_callbacks(facto, invoice.key)

    assert await whatsapp_window.last_inbound(facto.redis, PHONE) is None
    sent = [m["template"] for m in await facto.messages("whatsapp", PHONE)]
    assert sent[-2:] == [None, "facto_invoice"]
    again = await outbox.load(facto.redis, f"{invoice.key}:template")
    assert again is not None and again.state is DeliveryState.SENT
    [item] = await failed_items(facto)
    assert item["fallback"] == {"channel": "whatsapp", "state": "sent"}


async def test_whatsapp_63016_on_free_text_falls_back_to_sms(facto: Facto) -> None:
    await facto.issue(invoice_body("whatsapp", PHONE))
    assert (await facto.whatsapp(PHONE, 1, "payer")).status == 200
    await add_fault(facto, "whatsapp", undelivered=63016)
    await facto.drain()
    [link] = [r for r in await records(facto, "whatsapp") if r.message.template is None]
    await settle_callbacks(facto, link.key)

    assert await whatsapp_window.last_inbound(facto.redis, PHONE) is None
    [sms] = await facto.messages("sms", PHONE)
    assert sms["text"] == sms_safe(link.message.text)


async def test_21610_records_an_opt_out(facto: Facto) -> None:
    await add_fault(facto, "sms", status=400, code=21610)
    await facto.issue(invoice_body("sms", PHONE))

    merchant_id = facto.merchant.id  # type: ignore[union-attr]
    assert await consent.is_opted_out(facto.redis, merchant_id, [f"sms:{PHONE}"])
    [item] = await failed_items(facto)
    assert item["last_error"] == "OptedOut" and item["fallback"] is None


async def test_each_sms_record_keeps_its_encoding_segments_and_price(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", PHONE))
    record = await only_record(facto, "sms")
    # Sent: they are kept with the message's content, beside its slimmed record.
    stored = await facto.redis.hgetall(keys.outbox_sent_body(record.key))
    assert stored["encoding"] == "GSM-7"
    assert stored["segments"] == "2"  # the invoice: its budget
    assert stored["price"] == "-0.15840" and stored["price_unit"] == "EUR"  # sandbox tariff


async def test_a_whatsapp_message_left_when_whatsapp_is_turned_off_goes_by_sms(
    facto: Facto,
) -> None:
    services = facto.client.app[SERVICES]
    response = await facto.post_invoice(invoice_body("whatsapp", PHONE))
    assert response.status == 201
    await facto.worker.dispatcher.run_once()  # committed to the outbox, not sent yet
    without_whatsapp = {c: a for c, a in services.adapters.items() if c.value != "whatsapp"}
    sender = Sender(services.redis, without_whatsapp, services.clock, "restarted")
    await sender.ensure_group()
    while await sender.run_once():
        pass
    await facto.drain()  # the invoice, announced again on SMS

    assert await facto.messages("whatsapp", PHONE) == []
    [sms] = await facto.messages("sms", PHONE)
    assert "/p/" in sms["text"]
    [item] = await failed_items(facto)
    assert item["last_error"] == "ChannelDisabled"


async def test_30006_marks_the_number_so_later_sms_go_straight_to_the_fallback(
    facto: Facto,
) -> None:
    """A landline (30006): the next invoice's SMS is not even tried at Twilio; it goes to the
    customer's Telegram at once, and the API lists why."""
    await add_fault(facto, "sms", undelivered=30006)
    body = invoice_body("sms", PHONE)
    body["customer"]["telegram_chat_id"] = CHAT
    await facto.issue(body)
    await settle_callbacks(facto, (await only_record(facto, "sms")).key)
    assert await sms_reach.cannot_receive(facto.redis, PHONE)
    tried = facto.sandbox.send_requests[ChannelName.SMS]

    second = await facto.issue(body)
    assert facto.sandbox.send_requests[ChannelName.SMS] == tried  # Twilio never asked
    assert len(await facto.messages("telegram", str(CHAT))) == 2
    newest = [i for i in await failed_items(facto) if i["invoice_id"] == second["id"]]
    assert [(i["last_error"], i["attempts"], i["fallback"]) for i in newest] == [
        ("NotSmsCapable", 1, {"channel": "telegram", "state": "sent"})
    ]
    [entry] = await deliveries(facto, second["id"])
    assert (entry["error"], entry["replaced_by"]) == ("NotSmsCapable", "telegram")


async def test_a_number_that_cannot_receive_sms_is_never_retried(facto: Facto) -> None:
    await sms_reach.mark(facto.redis, PHONE, 30006, facto.clock.now())
    created = await facto.issue(invoice_body("sms", PHONE))
    for _ in range(3):  # retries would be due by now
        facto.clock.advance(3600)
        await facto.drain()
    assert facto.sandbox.send_requests[ChannelName.SMS] == 0
    [item] = await failed_items(facto)
    assert (item["invoice_id"], item["last_error"], item["attempts"]) == (
        created["id"],
        "NotSmsCapable",
        1,
    )
    assert item["fallback"] is None  # no other channel known: held as failed, listed


async def test_30005_does_not_mark_the_number(facto: Facto) -> None:
    await add_fault(facto, "sms", undelivered=30005)
    await facto.issue(invoice_body("sms", PHONE))
    await settle_callbacks(facto, (await only_record(facto, "sms")).key)
    assert not await sms_reach.cannot_receive(facto.redis, PHONE)


async def consent_to_both(facto: Facto) -> str:
    assert facto.merchant is not None
    async with facto.redis.pipeline(transaction=True) as pipe:
        consent.record(
            pipe,
            facto.merchant.id,
            [f"sms:{PHONE}", f"whatsapp:{PHONE}"],
            opted_in=True,
            words="oui aux offres",
            channel="form",
            at=facto.clock.now(),
        )
        await pipe.execute()
    return facto.merchant.id


@pytest.mark.parametrize("how", ["refused", "callback"])
async def test_whatsapp_131050_is_a_marketing_opt_out_on_whatsapp_only(
    facto: Facto, how: str
) -> None:
    """Meta 131050 (the user stopped this business's marketing in WhatsApp), at the send or
    by status callback: marketing stops on WhatsApp only, recorded with its proof; the
    customer's other channels and every transactional message go on."""
    merchant_id = await consent_to_both(facto)
    if how == "refused":
        await add_fault(facto, "whatsapp", status=400, code=131050)
    else:
        await add_fault(facto, "whatsapp", undelivered=131050)
    await facto.issue(invoice_body("whatsapp", PHONE))
    if how == "callback":
        await settle_callbacks(facto, (await only_record(facto, "whatsapp")).key)

    wa, sms = f"whatsapp:{PHONE}", f"sms:{PHONE}"
    people = [sms, wa]
    assert not await consent.may_market(facto.redis, merchant_id, people, via=wa)
    assert await consent.may_market(facto.redis, merchant_id, people, via=sms)
    assert not await consent.is_opted_out(facto.redis, merchant_id, people)
    [proof] = [
        json.loads(e)
        for e in await facto.redis.lrange(keys.consent_log(merchant_id), 0, -1)
        if "131050" in e
    ]
    assert (proof["scope"], proof["addresses"]) == ("marketing on this channel only", [wa])
    assert await facto.messages("sms", PHONE) == []  # marketing is not re-sent elsewhere
    # A transactional message still goes on WhatsApp.
    await facto.issue(invoice_body("whatsapp", PHONE))
    assert len([m for m in await facto.messages("whatsapp", PHONE) if "/p/" in m["text"]]) >= 1
    # START on WhatsApp lifts it.
    assert (await facto.whatsapp(PHONE, 9, "START")).status == 200
    await facto.drain()
    assert await consent.may_market(facto.redis, merchant_id, people, via=wa)
