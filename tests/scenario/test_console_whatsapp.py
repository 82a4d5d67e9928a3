"""An agent answers a WhatsApp customer (issue 8): the console shows the 24 h window, and once
it is closed says so before sending and sends the reply inside the approved template, on
WhatsApp itself rather than by SMS."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as aioredis
from twilio.request_validator import RequestValidator

from bot.embedded_redis import EmbeddedRedis
from channels.base import ChannelName
from sandbox.state import ChatEntry
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body, start_facto

PHONE = "+33611223344"
REF = re.compile(r'href="/console/c/([0-9a-f]{24})"')


@pytest.fixture
async def facto(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    # An agent may sit a whole day on a conversation here, and the bot waits three days.
    app = await start_facto(
        redis_server.url,
        redis,
        FACTO_AGENT_IDLE_RELEASE_MINUTES=24 * 60,
        FACTO_AGENT_RETURN_HOURS=72,
    )
    await app.add_merchant()
    yield app
    await app.client.close()


async def claimed(facto: Facto) -> tuple[Browser, str]:
    await facto.issue(invoice_body("whatsapp", PHONE))
    response = await facto.whatsapp(PHONE, 1, "un conseiller svp")
    assert response.status == 200
    await facto.drain()
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    await ines.log_in("ines@atelier.fr", secret)
    _, queue = await ines.get("/console")
    [ref] = REF.findall(queue)
    await ines.post(f"/console/c/{ref}/claim")
    await facto.drain()
    return ines, ref


async def test_the_console_shows_the_window_and_a_closed_window_sends_the_template(
    facto: Facto,
) -> None:
    ines, ref = await claimed(facto)
    try:
        # The customer wrote at 09:00 UTC, 10:00 in Paris: open until 10:00 tomorrow.
        _, page = await ines.get(f"/console/c/{ref}")
        assert re.search(r'id="wa-window" data-open="1">open until 10:00<', page)
        assert 'id="window-closed"' not in page
        await ines.post(f"/console/c/{ref}/reply", {"text": "Je regarde votre dossier."})
        await facto.drain()
        sent = await facto.messages("whatsapp", PHONE)
        assert sent[-1]["text"] == "Je regarde votre dossier." and sent[-1]["template"] is None

        # Half a day later the agent acts again (she keeps the conversation), then the
        # customer's last message is more than 24 h old.
        facto.clock.advance(timedelta(hours=12).total_seconds())
        await ines.post(f"/console/c/{ref}/payment", {"op": "pause_reminders"})
        await facto.drain()
        facto.clock.advance(timedelta(hours=13).total_seconds())
        await facto.drain()

        _, page = await ines.get(f"/console/c/{ref}")
        assert re.search(r'id="wa-window" data-open="0">closed<', page)
        # Told before sending: closed, and what goes out (the customer's language).
        assert 'id="window-closed"' in page and "The WhatsApp window is closed" in page
        assert (
            "Bonjour, un message de l&#39;équipe Atelier Lumière :\n\n<mark>your reply</mark>"
            in page
        )
        assert 'maxlength="850"' in page

        status, text = await ines.post(f"/console/c/{ref}/reply", {"text": "x" * 851})
        assert status == 400 and "approved template" in text

        await ines.post(f"/console/c/{ref}/reply", {"text": "Votre virement est bien arrivé."})
        await facto.drain()
        sent = await facto.messages("whatsapp", PHONE)
        assert sent[-1]["template"] == "facto_agent_message"
        assert sent[-1]["text"] == (
            "Bonjour, un message de l'équipe Atelier Lumière :\n\nVotre virement est bien "
            "arrivé.\n\nRépondez à ce message pour lui répondre."
        )
        assert await facto.messages("sms", PHONE) == []  # not on SMS any more
        # The console's transcript shows what the agent wrote.
        _, page = await ines.get(f"/console/c/{ref}")
        assert "Votre virement est bien arrivé." in page
    finally:
        await ines.close()


async def test_delivery_states_are_pushed_to_the_console_as_they_are_recorded(
    facto: Facto,
) -> None:
    """The outbox's "sent" and each status callback reach the console's websocket (scoped to
    the merchant), so the transcript's delivery state changes without polling."""
    ines, ref = await claimed(facto)
    other, _ = await facto.add_merchant(name="Autre")
    _, eve_secret = await add_user(facto, "eve@autre.fr", "Eve", merchant_id=other.id)
    eve = Browser.open(facto)
    try:
        await eve.log_in("eve@autre.fr", eve_secret)
        origin = {"Origin": facto.base_url}
        async with (
            ines.session.ws_connect(f"{facto.base_url}/console/ws", headers=origin) as ws,
            eve.session.ws_connect(f"{facto.base_url}/console/ws", headers=origin) as theirs,
        ):
            await asyncio.sleep(0.05)  # let the subscriptions settle
            await ines.post(f"/console/c/{ref}/reply", {"text": "Je regarde."})
            await facto.drain()
            # Sent by the outbox, then "sent" and "delivered" from the emulator's callbacks.
            heard = [await ws.receive_json(timeout=5) for _ in range(3)]
            while len([h for h in heard if h.get("kind") == "delivery"]) < 3:
                heard.append(await ws.receive_json(timeout=5))
            assert {"ref": ref, "kind": "delivery"} in heard
            await settle_callbacks(facto)
            _, page = await ines.get(f"/console/c/{ref}/live")
            assert "Je regarde.</div>" in page and "· delivered</div>" in page

            # WhatsApp's "read" arrives: one more push, and the page says so.
            sid = await provider_id_of_last(facto)
            form = {"MessageSid": sid, "MessageStatus": "read", "To": f"whatsapp:{PHONE}"}
            response = await facto.client.post(
                "/webhooks/twilio/status", data=form, headers=signed(facto, form)
            )
            assert response.status == 200
            while await ws.receive_json(timeout=5) != {
                "ref": ref,
                "kind": "delivery",
            }:
                pass
            _, page = await ines.get(f"/console/c/{ref}/live")
            assert "· read</div>" in page
            # A replayed callback is no step forward: nothing is pushed.
            response = await facto.client.post(
                "/webhooks/twilio/status", data=form, headers=signed(facto, form)
            )
            with pytest.raises(asyncio.TimeoutError):
                await ws.receive_json(timeout=0.3)
            # Another merchant's console heard none of it.
            with pytest.raises(asyncio.TimeoutError):
                await theirs.receive(timeout=0.2)
    finally:
        await eve.close()
        await ines.close()


def signed(facto: Facto, form: dict[str, str]) -> dict[str, str]:
    url = f"{facto.base_url}/webhooks/twilio/status"
    return {
        "X-Twilio-Signature": RequestValidator("sandbox-twilio-token").compute_signature(url, form)
    }


def ours(facto: Facto) -> ChatEntry:
    [entry] = [
        m
        for m in facto.sandbox.bot_messages(ChannelName.WHATSAPP, PHONE)
        if m.text == "Je regarde."
    ]
    return entry


async def provider_id_of_last(facto: Facto) -> str:
    return ours(facto).message_id


async def settle_callbacks(facto: Facto) -> None:
    """Wait (on the loop, not the clock) until the emulator's status callbacks are in."""
    for _ in range(500):
        if ours(facto).status == "delivered":
            await asyncio.sleep(0.05)  # the callback's request itself
            return
        await asyncio.sleep(0.01)
