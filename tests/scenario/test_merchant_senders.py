"""Each merchant's own senders, end to end: two merchants invoicing one phone from their own
numbers (and bots) keep two conversations, each reply reaches its own, and each answer goes
out from the sender the customer wrote to. Real twilio and python-telegram-bot SDKs against
the emulators; signed webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse
from twilio.request_validator import RequestValidator

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from bot.store.conversations import transcript
from bot.store.merchants import Merchant
from bot.web.app_keys import SENDER_ROUTES
from channels.base import ChannelName
from tests.scenario.harness import Facto, invoice_body, start_facto

PHONE = "+33612345678"
NUMBER_A, NUMBER_B = "+33700000011", "+33700000022"
BOT_A = "777001:merchant-a-own-bot-token"
CHAT = 424242


@pytest.fixture
async def two(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis)
    # Numbers the Twilio account bought for the two merchants; a bot BotFather gave A.
    app.sandbox.twilio_numbers |= {NUMBER_A, NUMBER_B}
    app.sandbox.telegram_bots[BOT_A] = None
    yield app
    await app.client.close()


async def merchant(facto: Facto, name: str) -> tuple[Merchant, str]:
    return await facto.add_merchant(name=name, legal_name=f"{name} SAS")


async def register(facto: Facto, key: str, body: dict[str, Any]) -> ClientResponse:
    return await facto.client.post(
        "/api/v1/channels", json=body, headers={"Authorization": f"Bearer {key}"}
    )


async def invoice(facto: Facto, key: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await facto.post_invoice(body, api_key=key)
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    await facto.drain()
    return created


async def sms_to(facto: Facto, to: str, sid: int, text: str) -> None:
    """The customer texts `to` (one of the account's numbers): Twilio's signed webhook."""
    form = {"MessageSid": f"SM{sid:032d}", "From": PHONE, "To": to, "Body": text}
    signature = RequestValidator("sandbox-twilio-token").compute_signature(
        f"{facto.base_url}/webhooks/twilio/sms", form
    )
    response = await facto.client.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status == 200, await response.text()
    await facto.drain()


def sms_from(facto: Facto) -> list[tuple[str, str]]:
    """(sender shown on the phone, text) of every SMS the customer received, oldest first."""
    return [
        (str(e.extra.get("from")), e.text)
        for e in facto.sandbox.bot_messages(ChannelName.SMS, PHONE)
    ]


async def test_two_merchants_with_their_own_numbers_keep_two_conversations(two: Facto) -> None:
    _a, key_a = await merchant(two, "Atelier Alpha")
    _b, key_b = await merchant(two, "Boutique Beta")
    for key, number in ((key_a, NUMBER_A), (key_b, NUMBER_B)):
        response = await register(two, key, {"channel": "sms", "from": number})
        assert response.status == 201, await response.text()
        assert (await response.json())["from"] == number

    first = await invoice(two, key_a, invoice_body("sms", PHONE))
    second = await invoice(two, key_b, invoice_body("sms", PHONE))

    sent = sms_from(two)
    assert [sender for sender, _ in sent] == [NUMBER_A, NUMBER_B]
    assert "Atelier Alpha" in sent[0][1] and "Boutique Beta" in sent[1][1]
    # Two conversations, keyed by our sender; the platform's shared one was never used.
    for number, created in ((NUMBER_A, first), (NUMBER_B, second)):
        state = await two.redis.get(keys.conv_state(f"sms@{number}:{PHONE}"))
        assert state is not None and created["id"] in state
    assert await two.redis.get(keys.conv_state(f"sms:{PHONE}")) is None

    # The customer answers A's number: A's conversation answers, from A's number, with A's
    # invoice; B hears nothing.
    await sms_to(two, NUMBER_A, 1, "payer")
    after = sms_from(two)[len(sent) :]
    assert len(after) == 1
    assert after[0][0] == NUMBER_A
    assert "/p/" in after[0][1]  # A's pay link
    await sms_to(two, NUMBER_B, 2, "payer")
    after = sms_from(two)[len(sent) + 1 :]
    assert [sender for sender, _ in after] == [NUMBER_B]
    transcript_a = await transcript(two.redis, f"sms@{NUMBER_A}:{PHONE}")
    transcript_b = await transcript(two.redis, f"sms@{NUMBER_B}:{PHONE}")
    assert len(transcript_a) == len(transcript_b) == 3  # invoice, "payer", its answer


async def test_a_merchant_without_its_own_sender_keeps_the_platform_conversation(
    two: Facto,
) -> None:
    """Nothing migrates: the platform's sender and its "<channel>:<address>" keys go on."""
    _a, key_a = await merchant(two, "Atelier Alpha")
    _c, key_c = await merchant(two, "Chez Gamma")
    assert (await register(two, key_a, {"channel": "sms", "from": NUMBER_A})).status == 201
    await invoice(two, key_c, invoice_body("sms", PHONE))
    await invoice(two, key_a, invoice_body("sms", PHONE))
    assert [sender for sender, _ in sms_from(two)] == [two.settings.twilio_sms_from, NUMBER_A]
    assert await two.redis.get(keys.conv_state(f"sms:{PHONE}")) is not None
    # A reply to the platform's number is the shared conversation's, not A's.
    await sms_to(two, two.settings.twilio_sms_from or "", 3, "payer")
    assert sms_from(two)[-1][0] == two.settings.twilio_sms_from
    assert len(await transcript(two.redis, f"sms@{NUMBER_A}:{PHONE}")) == 1


async def test_alphanumeric_sender_id_needs_a_number_for_replies(two: Facto) -> None:
    _a, key_a = await merchant(two, "Atelier Alpha")
    refused = await register(two, key_a, {"channel": "sms", "from": "ALPHA"})
    assert refused.status == 400
    assert "reply_number" in (await refused.json())["error"]
    response = await register(
        two, key_a, {"channel": "sms", "from": "ALPHA", "reply_number": NUMBER_A}
    )
    assert response.status == 201, await response.text()
    await invoice(two, key_a, invoice_body("sms", PHONE))
    assert sms_from(two)[0][0] == "ALPHA"
    # The customer cannot answer "ALPHA": they text the reply number, into the same
    # conversation, and the answer comes from the sender ID again.
    await sms_to(two, NUMBER_A, 4, "payer")
    assert sms_from(two)[-1][0] == "ALPHA"
    assert len(await transcript(two.redis, f"sms@{NUMBER_A}:{PHONE}")) == 3
    # STOP is answered from "ALPHA" too: the text names the number STOP and START go to.
    await sms_to(two, NUMBER_A, 5, "STOP")
    stop_answer = sms_from(two)[-1]
    assert stop_answer[0] == "ALPHA"
    assert f"START au {NUMBER_A}" in stop_answer[1]
    assert "Répondez" not in stop_answer[1]
    await sms_to(two, NUMBER_A, 6, "START")
    assert f"STOP au {NUMBER_A}" in sms_from(two)[-1][1]


async def test_senders_are_checked_and_never_shared(two: Facto) -> None:
    _a, key_a = await merchant(two, "Atelier Alpha")
    _b, key_b = await merchant(two, "Boutique Beta")
    assert (await register(two, key_a, {"channel": "sms", "from": NUMBER_A})).status == 201
    taken = await register(two, key_b, {"channel": "sms", "from": NUMBER_A})
    assert taken.status == 409
    platform = await register(two, key_b, {"channel": "sms", "from": two.settings.twilio_sms_from})
    assert platform.status == 409
    for bad in (
        {"channel": "fax", "from": NUMBER_B},
        {"channel": "sms"},
        {"channel": "sms", "from": "0612345678"},
        {"channel": "sms", "from": NUMBER_B, "messaging_service_sid": "MG" + "0" * 32},
        {"channel": "sms", "messaging_service_sid": "MG123"},
        {"channel": "whatsapp", "from": "ALPHA"},
        {"channel": "telegram", "token": "not-a-token"},
        {"channel": "sms", "from": NUMBER_B, "colour": "red"},
    ):
        response = await register(two, key_b, bad)
        assert response.status == 400, (bad, await response.text())
    # Removing goes back to the platform's sender; the API says which senders are in use.
    listed = await two.client.get("/api/v1/channels", headers={"Authorization": f"Bearer {key_a}"})
    assert [s["from"] for s in (await listed.json())["data"]] == [NUMBER_A]
    removed = await two.client.delete(
        "/api/v1/channels/sms", headers={"Authorization": f"Bearer {key_a}"}
    )
    assert removed.status == 204
    # Now free for B.
    assert (await register(two, key_b, {"channel": "sms", "from": NUMBER_A})).status == 201


async def test_messaging_service_sends_from_its_pool_and_routes_replies(two: Facto) -> None:
    service = "MG" + "ab" * 16
    two.sandbox.twilio_services[service] = NUMBER_B
    _a, key_a = await merchant(two, "Atelier Alpha")
    response = await register(two, key_a, {"channel": "sms", "messaging_service_sid": service})
    assert response.status == 201, await response.text()
    await invoice(two, key_a, invoice_body("sms", PHONE))
    assert sms_from(two)[0][0] == NUMBER_B
    # Twilio names the service on the inbound webhook of any number in its pool.
    form = {
        "MessageSid": f"SM{5:032d}",
        "From": PHONE,
        "To": NUMBER_B,
        "MessagingServiceSid": service,
        "Body": "payer",
    }
    signature = RequestValidator("sandbox-twilio-token").compute_signature(
        f"{two.base_url}/webhooks/twilio/sms", form
    )
    ok = await two.client.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert ok.status == 200
    await two.drain()
    assert len(await transcript(two.redis, f"sms@{service}:{PHONE}")) == 3


def telegram_update(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": CHAT, "type": "private"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Camille", "language_code": "fr"},
            "text": text,
        },
    }


async def test_a_merchant_bot_has_its_own_webhook_secret_and_conversation(two: Facto) -> None:
    _a, key_a = await merchant(two, "Atelier Alpha")
    response = await register(two, key_a, {"channel": "telegram", "token": BOT_A})
    assert response.status == 201, await response.text()
    shown = await response.json()
    assert shown == {
        "channel": "telegram",
        "created_at": shown["created_at"],
        "bot_id": "777001",
        "webhook_path": "/webhooks/telegram/777001",
    }
    listed = await two.client.get("/api/v1/channels", headers={"Authorization": f"Bearer {key_a}"})
    hook = two.sandbox.telegram_bots[BOT_A]
    assert hook is not None and hook.url.endswith("/webhooks/telegram/777001")
    assert hook.secret is not None
    # Neither the token nor the secret is ever shown, nor stored in clear.
    stored = await two.redis.get(keys.channel_sender("telegram", "777001")) or ""
    for text in (await listed.text(), stored):
        assert BOT_A not in text and hook.secret not in text

    await invoice(two, key_a, invoice_body("telegram", CHAT))
    [sent] = two.sandbox.bot_messages(ChannelName.TELEGRAM, str(CHAT))
    assert sent.extra["bot"] == "777001" and "Atelier Alpha" in sent.text

    async def deliver(path: str, secret: str, update: dict[str, Any]) -> int:
        answer = await two.client.post(
            path,
            data=json.dumps(update),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": secret,
            },
        )
        return answer.status

    own, platform_secret = "/webhooks/telegram/777001", "sandbox-telegram-secret"
    assert await deliver(own, platform_secret, telegram_update(1, "x")) == 403
    assert await deliver("/webhooks/telegram/999", hook.secret, telegram_update(2, "x")) == 403
    assert await deliver(own, hook.secret, telegram_update(3, "payer")) == 200
    await two.drain()
    replies = two.sandbox.bot_messages(ChannelName.TELEGRAM, str(CHAT))[1:]
    assert [r.extra["bot"] for r in replies] == ["777001"]
    assert "/p/" in replies[0].text
    assert await two.redis.get(keys.conv_state(f"telegram@777001:{CHAT}")) is not None
    assert await two.redis.get(keys.conv_state(f"telegram:{CHAT}")) is None


async def test_registering_without_the_api_as_the_cli_does(two: Facto) -> None:
    """`merchant set-sender` stores what the API would (the same engine function)."""
    from bot.engine import senders as engine_senders
    from bot.settings import secret_box

    a, _key = await merchant(two, "Atelier Alpha")
    sender = await engine_senders.register(
        two.redis,
        two.settings,
        secret_box(two.settings),
        merchant_id=a.id,
        channel=ChannelName.WHATSAPP,
        fields={"from": NUMBER_A},
        now=two.clock.now(),
    )
    assert sender.ref == NUMBER_A
    assert await two.redis.hget(keys.merchant_senders(a.id), "whatsapp") == NUMBER_A


async def test_whatsapp_from_the_merchant_number_with_its_own_window(two: Facto) -> None:
    _a, key_a = await merchant(two, "Atelier Alpha")
    response = await register(two, key_a, {"channel": "whatsapp", "from": NUMBER_A})
    assert response.status == 201, await response.text()
    await invoice(two, key_a, invoice_body("whatsapp", PHONE))
    [sent] = two.sandbox.bot_messages(ChannelName.WHATSAPP, PHONE)
    assert sent.extra["from"] == f"whatsapp:{NUMBER_A}"
    assert sent.extra["template"] is not None  # no window yet: the template
    # The customer answers A's number on the phone simulator (Twilio's signed webhook).
    assert await two.customer_says("whatsapp", PHONE, "payer", to=NUMBER_A) == 200
    answer = two.sandbox.bot_messages(ChannelName.WHATSAPP, PHONE)[-1]
    assert answer.extra["from"] == f"whatsapp:{NUMBER_A}"
    assert answer.extra["template"] is None  # the window of A's number is open: free text
    assert await two.redis.get(keys.whatsapp_last_inbound(f"whatsapp@{NUMBER_A}:{PHONE}"))


async def test_gdpr_export_finds_the_conversation_on_the_merchant_number(two: Facto) -> None:
    _a, key_a = await merchant(two, "Atelier Alpha")
    assert (await register(two, key_a, {"channel": "sms", "from": NUMBER_A})).status == 201
    headers = {"Authorization": f"Bearer {key_a}"}
    person = {"id": "c1", "name": "Camille", "phone": PHONE}
    assert (await two.client.post("/api/v1/customers", json=person, headers=headers)).status == 201
    await invoice(two, key_a, invoice_body("sms", PHONE))
    await sms_to(two, NUMBER_A, 8, "merci")
    response = await two.client.get("/api/v1/customers/c1/export", headers=headers)
    assert response.status == 200, await response.text()
    exported = (await response.json())["conversations"]
    said = [e["text"] for e in exported[f"sms@{NUMBER_A}:{PHONE}"]]
    assert "merci" in said


async def test_a_promotion_from_a_sender_id_names_the_number_stop_goes_to(two: Facto) -> None:
    """TESTCASES 79 with an alphanumeric sender: "reply STOP" cannot be answered, so the
    closing line names the merchant's reply number; a STOP sent there is honoured."""
    _a, key_a = await merchant(two, "Atelier Alpha")
    registered = await register(
        two, key_a, {"channel": "sms", "from": "ALPHA", "reply_number": NUMBER_A}
    )
    assert registered.status == 201, await registered.text()
    headers = {"Authorization": f"Bearer {key_a}"}
    consent = {"source": "checkout-form", "words": "J'accepte de recevoir les offres par SMS"}
    customer = {"id": "c1", "name": "Sam", "phone": PHONE, "locale": "fr", "consent": consent}
    created = await two.client.post("/api/v1/customers", json=customer, headers=headers)
    assert created.status == 201, await created.text()
    cart = {
        "id": "cart-1",
        "customer_id": "c1",
        "amount": 4590,
        "currency": "EUR",
        "pay_url": "https://shop.example.fr/cart/1",
        "relaunch_after_minutes": 60,
    }
    recorded = await two.client.post("/api/v1/carts", json=cart, headers=headers)
    assert recorded.status in (200, 201), await recorded.text()
    two.clock.advance(3601)
    await two.drain()
    sender, text = sms_from(two)[-1]
    assert sender == "ALPHA"
    assert text.rstrip().splitlines()[-1] == f"Atelier Alpha - STOP au {NUMBER_A}"
    await sms_to(two, NUMBER_A, 7, "STOP")
    assert f"START au {NUMBER_A}" in sms_from(two)[-1][1]


async def test_voiding_an_invoice_tells_the_customer_from_the_merchant_number(two: Facto) -> None:
    """The void event goes to the invoice's own conversation (its sender's), not the platform's."""
    _a, key_a = await merchant(two, "Atelier Alpha")
    assert (await register(two, key_a, {"channel": "sms", "from": NUMBER_A})).status == 201
    created = await invoice(two, key_a, invoice_body("sms", PHONE))
    response = await two.client.post(
        f"/api/v1/invoices/{created['id']}/void", headers={"Authorization": f"Bearer {key_a}"}
    )
    assert response.status in (200, 202), await response.text()
    await two.drain()
    sent = sms_from(two)
    assert [sender for sender, _ in sent] == [NUMBER_A, NUMBER_A]
    assert await two.redis.get(keys.conv_state(f"sms:{PHONE}")) is None
    said = await transcript(two.redis, f"sms@{NUMBER_A}:{PHONE}")
    assert len(said) == 2  # the invoice, then the notice that it is cancelled


async def test_the_phone_simulator_chats_with_each_merchant_sender(two: Facto) -> None:
    """The simulator picks the thread (our sender) and writes through the signed webhook of
    that sender: A's SMS number (form, no JavaScript) and A's own Telegram bot (JSON)."""
    _a, key_a = await merchant(two, "Atelier Alpha")
    assert (await register(two, key_a, {"channel": "sms", "from": NUMBER_A})).status == 201
    assert (await register(two, key_a, {"channel": "telegram", "token": BOT_A})).status == 201
    await invoice(two, key_a, invoice_body("sms", PHONE))
    await invoice(two, key_a, invoice_body("telegram", CHAT))

    page = await two.client.get(f"/sandbox/phone/sms/{PHONE}", params={"peer": NUMBER_A})
    assert page.status == 200
    html = await page.text()
    assert 'class="threads"' in html and "Atelier Alpha" in html
    posted = await two.client.post(
        f"/sandbox/phone/sms/{PHONE}",
        data={"text": "payer", "to": NUMBER_A},
        allow_redirects=False,
    )
    assert posted.status == 303
    assert posted.headers["Location"].endswith("?peer=%2B33700000011")
    await two.drain()
    assert sms_from(two)[-1][0] == NUMBER_A and "/p/" in sms_from(two)[-1][1]
    # The platform's thread of the same phone shows none of it.
    platform = await two.client.get(
        "/sandbox/api/conversation",
        params={"channel": "sms", "to": PHONE, "peer": two.settings.twilio_sms_from or ""},
    )
    assert await platform.json() == []

    assert await two.customer_says("telegram", str(CHAT), "payer", to="777001") == 200
    replies = two.sandbox.thread(ChannelName.TELEGRAM, str(CHAT), "777001")
    assert [e.sender for e in replies] == ["bot", "customer", "bot"]
    assert "/p/" in replies[-1].text
    assert len(await transcript(two.redis, f"telegram@777001:{CHAT}")) == 3
    # A number the sandbox does not know, or a sender ID, cannot be written to.
    for to, status in (("+33799999999", 404), ("ALPHA", 409)):
        refused = await two.client.post(
            f"/sandbox/api/customer/sms/{PHONE}", json={"text": "x", "to": to}
        )
        assert refused.status == status


async def test_a_bot_registered_elsewhere_a_moment_ago_takes_its_updates(two: Facto) -> None:
    """Merchant bots' records are remembered per web process (bot.store.sender_routes): a bot
    another process registered, whose notice has not arrived, is read again before an update
    carrying its secret is refused."""
    two.client.app[SENDER_ROUTES].notice("subscribe")  # as once subscribed to the notices
    _a, key_a = await merchant(two, "Atelier Alpha")
    assert (await register(two, key_a, {"channel": "telegram", "token": BOT_A})).status == 201
    hook = two.sandbox.telegram_bots[BOT_A]
    assert hook is not None and hook.secret is not None
    record_key = keys.channel_sender("telegram", "777001")
    record = await two.redis.get(record_key)
    await two.redis.delete(record_key)

    async def deliver(update_id: int) -> int:
        answer = await two.client.post(
            "/webhooks/telegram/777001",
            data=json.dumps(telegram_update(update_id, "payer")),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": hook.secret or "",
            },
        )
        return answer.status

    assert await deliver(1) == 403  # no such bot, remembered
    await two.redis.set(record_key, record or "")  # registered by another process
    assert await deliver(2) == 200
    assert await two.redis.llen(keys.conv_inbox(f"telegram@777001:{CHAT}")) == 1
