"""A merchant's SMS and WhatsApp senders in the merchant's own Twilio account (issue 7): set
through `POST /api/v1/channels`, sent with that account's client (real twilio SDK against the
emulator, which keeps accounts apart), and every webhook of that sender checked with that
account's token only: a platform signature is refused for it, and the other way round."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import ClientResponse
from twilio.request_validator import RequestValidator

from bot.embedded_redis import EmbeddedRedis
from bot.engine import outbox
from bot.store import keys
from bot.store.conversations import conversation_key, transcript
from bot.web.app_keys import SENDER_ROUTES
from channels.base import ChannelName, DeliveryState
from tests.scenario.harness import Facto, invoice_body, start_facto

PHONE = "+33612345678"
NUMBER_B = "+33700000022"
ACCOUNT_B, TOKEN_B = "AC" + "b" * 32, "merchant-b-own-auth-token"
PLATFORM_TOKEN = "sandbox-twilio-token"
OWN = {"account_sid": ACCOUNT_B, "auth_token": TOKEN_B}


@pytest.fixture
async def app(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    facto = await start_facto(redis_server.url, redis)
    # Merchant B bought NUMBER_B in its own Twilio account.
    facto.sandbox.add_twilio_account(ACCOUNT_B, TOKEN_B)
    facto.sandbox.add_twilio_number(NUMBER_B, ACCOUNT_B)
    yield facto
    await facto.client.close()


async def register(facto: Facto, key: str, body: dict[str, Any]) -> ClientResponse:
    return await facto.client.post(
        "/api/v1/channels", json=body, headers={"Authorization": f"Bearer {key}"}
    )


async def merchant_b(facto: Facto) -> str:
    _b, key = await facto.add_merchant(name="Boutique Beta", legal_name="Boutique Beta SAS")
    return key


async def signed_post(facto: Facto, path: str, form: dict[str, str], token: str) -> int:
    signature = RequestValidator(token).compute_signature(f"{facto.base_url}{path}", form)
    response = await facto.client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    return response.status


async def only_record(facto: Facto, channel: str) -> outbox.OutboxRecord:
    found = [
        r
        for k in await facto.redis.keys("outbox:msg:*")
        if (r := await outbox.load(facto.redis, k.removeprefix("outbox:msg:"))) is not None
        and r.message.channel.value == channel
    ]
    assert len(found) == 1, found
    return found[0]


async def test_registering_checks_the_account_and_never_shows_its_token(app: Facto) -> None:
    key = await merchant_b(app)
    for bad, status in (
        ({"channel": "sms", "from": NUMBER_B, "account_sid": ACCOUNT_B}, 400),
        ({"channel": "sms", "from": NUMBER_B, "auth_token": TOKEN_B}, 400),
        ({"channel": "sms", "from": NUMBER_B, "account_sid": "AC12", "auth_token": TOKEN_B}, 400),
        ({"channel": "sms", "from": NUMBER_B, "account_sid": ACCOUNT_B, "auth_token": "x"}, 400),
        ({"channel": "telegram", "token": "1:" + "a" * 20, **OWN}, 400),
        # Twilio refuses the credentials: nothing is kept.
        ({"channel": "sms", "from": NUMBER_B, **OWN, "auth_token": "not-the-right-token"}, 422),
        # The platform's own account is not a merchant's.
        (
            {
                "channel": "sms",
                "from": NUMBER_B,
                "account_sid": app.settings.twilio_account_sid,
                "auth_token": PLATFORM_TOKEN,
            },
            409,
        ),
    ):
        response = await register(app, key, bad)
        assert response.status == status, (bad, await response.text())
    assert await app.redis.get(keys.channel_sender("sms", NUMBER_B)) is None
    # A number the account does not have (here: one of the platform's account) is refused.
    app.sandbox.add_twilio_number("+33700000033")
    elsewhere = await register(app, key, {"channel": "sms", "from": "+33700000033", **OWN})
    assert elsewhere.status == 422 and "+33700000033" in (await elsewhere.json())["error"]

    response = await register(app, key, {"channel": "sms", "from": NUMBER_B, **OWN})
    assert response.status == 201, await response.text()
    shown = await response.json()
    assert shown["account_sid"] == ACCOUNT_B
    assert shown["status_callback_path"] == "/webhooks/twilio/status/sms/33700000022"
    listed = await app.client.get("/api/v1/channels", headers={"Authorization": f"Bearer {key}"})
    stored = await app.redis.get(keys.channel_sender("sms", NUMBER_B)) or ""
    for text in (await response.text(), await listed.text(), stored):
        assert TOKEN_B not in text
    # Facto pointed the number's "A message comes in" at its SMS webhook (in B's account).
    assert app.sandbox.number_sms_urls == {NUMBER_B: f"{app.base_url}/webhooks/twilio/sms"}


async def test_sms_goes_out_through_the_merchant_account_and_its_webhooks_need_its_token(
    app: Facto,
) -> None:
    key = await merchant_b(app)
    assert (await register(app, key, {"channel": "sms", "from": NUMBER_B, **OWN})).status == 201
    response = await app.post_invoice(invoice_body("sms", PHONE), api_key=key)
    assert response.status == 201, await response.text()
    await app.drain()
    [sent] = app.sandbox.bot_messages(ChannelName.SMS, PHONE)
    assert sent.extra["account"] == ACCOUNT_B and sent.extra["from"] == NUMBER_B

    # Its status callbacks come to the sender's own path, signed by B's account: recorded.
    record = await only_record(app, "sms")
    sid = record.provider_message_id or ""
    for _ in range(200):
        if await outbox.delivery_state(app.redis, sid) is DeliveryState.DELIVERED:
            break
        await asyncio.sleep(0.01)
    assert await outbox.delivery_state(app.redis, sid) is DeliveryState.DELIVERED

    # A platform signature on B's status path is refused, and B's on the platform's path.
    status = {
        "MessageSid": sid,
        "MessageStatus": "undelivered",
        "ErrorCode": "30005",
        "AccountSid": ACCOUNT_B,
    }
    own_path = "/webhooks/twilio/status/sms/33700000022"
    assert await signed_post(app, own_path, status, PLATFORM_TOKEN) == 403
    assert await signed_post(app, "/webhooks/twilio/status", status, TOKEN_B) == 403
    other = {**status, "AccountSid": app.settings.twilio_account_sid or ""}
    assert await signed_post(app, own_path, other, TOKEN_B) == 403  # another account's word
    assert (
        await signed_post(app, "/webhooks/twilio/status/sms/33799999999", status, TOKEN_B) == 403
    )
    # B's token cannot report on a message another sender sent (the platform's, here).
    _c, key_c = await app.add_merchant(name="Chez Gamma", legal_name="Chez Gamma SAS")
    created = await app.post_invoice(invoice_body("sms", "+33698765432"), api_key=key_c)
    assert created.status == 201
    await app.drain()
    [other_sms] = app.sandbox.bot_messages(ChannelName.SMS, "+33698765432")
    about_other = {**status, "MessageSid": other_sms.message_id}
    assert await signed_post(app, own_path, about_other, TOKEN_B) == 403
    assert await outbox.delivery_state(app.redis, other_sms.message_id) is not (
        DeliveryState.UNDELIVERED
    )
    assert await outbox.delivery_state(app.redis, sid) is DeliveryState.DELIVERED

    # The customer's reply to B's number: B's signature only.
    reply = {
        "MessageSid": f"SM{1:032d}",
        "From": PHONE,
        "To": NUMBER_B,
        "Body": "payer",
        "AccountSid": ACCOUNT_B,
    }
    assert await signed_post(app, "/webhooks/twilio/sms", reply, PLATFORM_TOKEN) == 403
    assert len(await transcript(app.redis, f"sms@{NUMBER_B}:{PHONE}")) == 1
    # Through the phone simulator: the emulator signs it with B's account.
    assert await app.customer_says("sms", PHONE, "payer", to=NUMBER_B) == 200
    answer = app.sandbox.bot_messages(ChannelName.SMS, PHONE)[-1]
    assert answer.extra["account"] == ACCOUNT_B and "/p/" in answer.text
    # And the platform's number still takes the platform's signature, not B's.
    to_platform = {**reply, "MessageSid": f"SM{2:032d}", "To": app.settings.twilio_sms_from or ""}
    to_platform["AccountSid"] = app.settings.twilio_account_sid or ""
    assert await signed_post(app, "/webhooks/twilio/sms", to_platform, TOKEN_B) == 403
    assert await signed_post(app, "/webhooks/twilio/sms", to_platform, PLATFORM_TOKEN) == 200


async def test_whatsapp_from_the_merchant_account_templates_then_free_text(app: Facto) -> None:
    key = await merchant_b(app)
    body: dict[str, Any] = {"channel": "whatsapp", "from": NUMBER_B, **OWN}
    # Its templates are approved in its own account, under that account's ContentSids.
    refused = await register(app, key, body)
    assert refused.status == 400 and "content_sids" in (await refused.json())["error"]
    sids = app.sandbox.approve_templates(ACCOUNT_B)
    partial = dict(list(sids.items())[1:])
    assert (await register(app, key, {**body, "content_sids": partial})).status == 400
    platform = {"channel": "whatsapp", "from": NUMBER_B, "content_sids": sids}
    assert (await register(app, key, platform)).status == 400  # only with an own account
    body["content_sids"] = sids
    response = await register(app, key, body)
    assert response.status == 201, await response.text()
    assert (await response.json())["content_sids"] == sids
    response = await app.post_invoice(invoice_body("whatsapp", PHONE), api_key=key)
    assert response.status == 201, await response.text()
    await app.drain()
    [sent] = app.sandbox.bot_messages(ChannelName.WHATSAPP, PHONE)
    assert sent.extra["account"] == ACCOUNT_B and sent.extra["template"] == "facto_invoice"
    # A tap on the template's button, on the phone simulator: signed by B's account, it opens
    # the window of B's number; the answer is free text with buttons (a session content
    # created in B's account).
    assert await app.customer_says("whatsapp", PHONE, action="split", to=NUMBER_B) == 200
    answer = app.sandbox.bot_messages(ChannelName.WHATSAPP, PHONE)[-1]
    assert answer.extra["account"] == ACCOUNT_B
    assert answer.extra["template"] is None and answer.buttons
    wa = {
        "MessageSid": f"SM{3:032d}",
        "From": f"whatsapp:{PHONE}",
        "To": f"whatsapp:{NUMBER_B}",
        "Body": "payer",
        "AccountSid": ACCOUNT_B,
    }
    assert await signed_post(app, "/webhooks/twilio/whatsapp", wa, PLATFORM_TOKEN) == 403
    assert await signed_post(app, "/webhooks/twilio/whatsapp", wa, TOKEN_B) == 200


async def test_a_messaging_service_in_the_merchant_account(app: Facto) -> None:
    """A Messaging Service of B's account: sends through B's client, its pool number's
    replies (named by the service) and its status callbacks checked with B's token."""
    service = "MG" + "cd" * 16
    app.sandbox.add_twilio_service(service, NUMBER_B, ACCOUNT_B)
    key = await merchant_b(app)
    body = {"channel": "sms", "messaging_service_sid": service, **OWN}
    response = await register(app, key, body)
    assert response.status == 201, await response.text()
    assert (await response.json())[
        "status_callback_path"
    ] == f"/webhooks/twilio/status/sms/{service}"
    created = await app.post_invoice(invoice_body("sms", PHONE), api_key=key)
    assert created.status == 201
    await app.drain()
    [sent] = app.sandbox.bot_messages(ChannelName.SMS, PHONE)
    assert sent.extra["account"] == ACCOUNT_B and sent.extra["from"] == NUMBER_B
    for _ in range(200):
        if await outbox.delivery_state(app.redis, sent.message_id) is DeliveryState.DELIVERED:
            break
        await asyncio.sleep(0.01)
    assert await outbox.delivery_state(app.redis, sent.message_id) is DeliveryState.DELIVERED
    # The customer answers the pool number: Twilio names the service, B's account signs.
    assert await app.customer_says("sms", PHONE, "payer", to=NUMBER_B) == 200
    answer = app.sandbox.bot_messages(ChannelName.SMS, PHONE)[-1]
    assert answer.extra["account"] == ACCOUNT_B and "/p/" in answer.text
    assert len(await transcript(app.redis, f"sms@{service}:{PHONE}")) == 3
    reply = {
        "MessageSid": f"SM{9:032d}",
        "From": PHONE,
        "To": NUMBER_B,
        "MessagingServiceSid": service,
        "Body": "merci",
        "AccountSid": ACCOUNT_B,
    }
    assert await signed_post(app, "/webhooks/twilio/sms", reply, PLATFORM_TOKEN) == 403


async def test_a_sender_registered_elsewhere_a_moment_ago_is_not_refused(app: Facto) -> None:
    """The web process remembers where messages to a number go (bot.store.sender_routes); a
    sender another process registered, whose notice has not arrived, is still checked with its
    own account's token: a refusal on a remembered answer is checked again on a fresh read."""
    routes = app.client.app[SENDER_ROUTES]
    for _ in range(500):  # the subscription to change notices, confirmed at start-up
        if routes.listening:
            break
        await asyncio.sleep(0.01)
    assert routes.listening
    key = await merchant_b(app)
    assert (await register(app, key, {"channel": "sms", "from": NUMBER_B, **OWN})).status == 201
    sender_key = keys.channel_sender("sms", NUMBER_B)
    record = await app.redis.get(sender_key)
    await app.redis.delete(sender_key)  # as if not registered yet: remembered as the platform's
    first = {"MessageSid": f"SM{5:032d}", "From": PHONE, "To": NUMBER_B, "Body": "bonjour"}
    first["AccountSid"] = app.settings.twilio_account_sid or ""
    assert await signed_post(app, "/webhooks/twilio/sms", first, PLATFORM_TOKEN) == 200
    await app.redis.set(sender_key, record)  # registered by another process, no notice yet
    reply = {**first, "MessageSid": f"SM{6:032d}", "AccountSid": ACCOUNT_B, "Body": "payer"}
    assert await signed_post(app, "/webhooks/twilio/sms", reply, TOKEN_B) == 200
    inbox = keys.conv_inbox(conversation_key(ChannelName.SMS, PHONE, NUMBER_B))
    assert [json.loads(e)["data"]["text"] for e in await app.redis.lrange(inbox, 0, -1)] == [
        "payer"
    ]
    # And the fresh answer is the one remembered now: the platform's signature is refused.
    again = {**reply, "MessageSid": f"SM{7:032d}"}
    assert await signed_post(app, "/webhooks/twilio/sms", again, PLATFORM_TOKEN) == 403
