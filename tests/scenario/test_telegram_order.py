"""Telegram updates of one chat are applied in update_id order (PROVIDERS G3), whatever order
their signed deliveries arrive in (retries, concurrent webhook connections); a redelivered
update is applied once."""

from __future__ import annotations

import json
from typing import Any

from bot.store import keys
from bot.store.conversations import transcript
from tests.scenario.harness import Facto, invoice_body

CHAT = 424242
SECRET = "sandbox-telegram-secret"


def update(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": CHAT, "type": "private"},
            "from": {"id": CHAT, "is_bot": False, "first_name": "Camille"},
            "text": text,
        },
    }


async def deliver(facto: Facto, body: dict[str, Any]) -> None:
    response = await facto.client.post(
        "/webhooks/telegram",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
    )
    assert response.status == 200, await response.text()


async def said_by_customer(facto: Facto) -> list[str]:
    log = await transcript(facto.redis, f"telegram:{CHAT}")
    return [e["text"] for e in log if e["dir"] == "in"]


async def test_out_of_order_deliveries_are_applied_in_update_id_order(facto: Facto) -> None:
    await facto.issue(invoice_body("telegram", CHAT))
    for update_id, text in (
        (203, "troisieme"),
        (201, "premier"),
        (203, "troisieme"),
        (202, "deux"),
    ):
        await deliver(facto, update(update_id, text))
    await facto.drain()
    assert await said_by_customer(facto) == ["premier", "deux", "troisieme"]


async def test_the_head_a_dispatcher_holds_is_never_displaced(facto: Facto) -> None:
    """While a dispatcher holds the conversation it may be handling the head: an earlier
    update goes right after it, still before every later one."""
    await facto.issue(invoice_body("telegram", CHAT))
    conversation = f"telegram:{CHAT}"
    await deliver(facto, update(305, "en cours"))
    await facto.redis.set(keys.conv_lock(conversation), "another-worker", px=60_000)
    await deliver(facto, update(307, "apres"))
    await deliver(facto, update(306, "avant"))
    inbox = [
        json.loads(e)["id"] for e in await facto.redis.lrange(keys.conv_inbox(conversation), 0, -1)
    ]
    assert inbox == ["telegram:305", "telegram:306", "telegram:307"]
    await facto.redis.delete(keys.conv_lock(conversation))
    await facto.drain()
    assert await said_by_customer(facto) == ["en cours", "avant", "apres"]


async def test_an_update_older_than_one_already_applied_is_recorded_not_acted_upon(
    facto: Facto,
) -> None:
    """Telegram numbers a bot's updates in order (PROVIDERS G3): "payer" sent before "STOP"
    but delivered after the STOP was answered must not bring a pay link after it."""
    await facto.issue(invoice_body("telegram", CHAT))
    await deliver(facto, update(401, "STOP"))
    await facto.drain()
    sent = await facto.messages("telegram", str(CHAT))
    await deliver(facto, update(400, "payer"))
    await facto.drain()
    assert await facto.messages("telegram", str(CHAT)) == sent  # nothing said
    log = await transcript(facto.redis, f"telegram:{CHAT}")
    late = [e for e in log if e.get("late")]
    assert [(e["dir"], e["text"], e["ref"]) for e in late] == [("in", "payer", "telegram:400")]
    assert await facto.redis.get(keys.conv_telegram_applied(f"telegram:{CHAT}")) == "401"
    # A redelivery of the late one changes nothing; a newer update is acted upon.
    await deliver(facto, update(400, "payer"))
    await deliver(facto, update(402, "START"))
    await facto.drain()
    assert len(await facto.messages("telegram", str(CHAT))) == len(sent) + 1
    assert await facto.redis.get(keys.conv_telegram_applied(f"telegram:{CHAT}")) == "402"


async def test_an_update_older_than_the_head_being_handled_is_late_too(facto: Facto) -> None:
    """The head a dispatcher holds is being applied: an older update arriving then goes
    after it, and is recorded as late when its turn comes."""
    await facto.issue(invoice_body("telegram", CHAT))
    conversation = f"telegram:{CHAT}"
    await deliver(facto, update(505, "en cours"))
    await facto.redis.set(keys.conv_lock(conversation), "another-worker", px=60_000)
    await deliver(facto, update(504, "avant"))
    await facto.redis.delete(keys.conv_lock(conversation))
    await facto.drain()
    assert await said_by_customer(facto) == ["en cours", "avant"]
    log = await transcript(facto.redis, conversation)
    assert [e["text"] for e in log if e.get("late")] == ["avant"]
