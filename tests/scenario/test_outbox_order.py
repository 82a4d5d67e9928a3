"""Order: the messages of one conversation leave in the order they were committed.

The defect: after a worker crash, replies of 25 to 76 of 200 conversations arrived out of order
(the survivor sent later replies while the dead worker's earlier ones waited for the reclaim),
and a retried message was overtaken by the ones committed after it.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.engine import outbox
from bot.store import keys
from bot.store.conversations import transcript
from tests.scenario.harness import Facto
from tests.scenario.outbox_faults import (
    add_fault,
    clear_faults,
    queue_invoices,
    sender,
    wait_for_state,
)

pytestmark = pytest.mark.fault

CHATS = [920_000 + i for i in range(20)]


async def customer_writes(facto: Facto, chat: int, *texts: str) -> None:
    """The customer's messages are acknowledged and dispatched; the replies wait to be sent."""
    for text in texts:
        response = await facto.client.post(
            f"/sandbox/api/customer/telegram/{chat}", json={"text": text}
        )
        assert response.status == 200, await response.text()
    while await facto.worker.dispatcher.run_once():
        pass


async def committed(facto: Facto, chat: int) -> list[str]:
    """What the bot said in this conversation, in commit order (its transcript)."""
    said = await transcript(facto.redis, f"telegram:{chat}")
    return [entry["text"] for entry in said if entry["dir"] == "out"]


async def delivered(facto: Facto, chat: int) -> list[str]:
    return [m["text"] for m in await facto.messages("telegram", str(chat))]


async def assert_in_commit_order(facto: Facto, chats: list[int]) -> None:
    wrong = {c for c in chats if await delivered(facto, c) != await committed(facto, c)}
    assert not wrong, f"{len(wrong)} conversations out of order or incomplete"


async def head_of(facto: Facto, chat: int) -> str:
    head = await facto.redis.lindex(keys.outbox_conversation_queue(f"telegram:{chat}"), 0)
    assert head is not None
    return str(head)


async def test_after_a_sender_dies_mid_batch_and_a_retry_each_conversation_stays_in_order(
    facto: Facto,
) -> None:
    await queue_invoices(facto, CHATS)
    for chat in CHATS:
        await customer_writes(facto, chat, "aide", "payer")
    # The dead worker's provider call hangs, then the survivor's first call gets a 503.
    await add_fault(facto, "telegram", status=503, delay=30)
    await add_fault(facto, "telegram", status=503)
    dead = sender(facto, "dead-worker", concurrency=1)
    batch = asyncio.create_task(dead.run_once())
    await wait_for_state(facto, await head_of(facto, CHATS[0]), "sending")
    batch.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await batch
    await clear_faults(facto)
    await add_fault(facto, "telegram", status=503)

    survivor = facto.worker.sender
    await facto.drain()  # what the dead worker never read
    await survivor.reclaim(min_idle_ms=0)  # what it read and left
    for _ in range(5):
        facto.clock.advance(survivor.policy.claim_ttl_seconds + 1)
        await facto.drain()
        await survivor.reclaim(min_idle_ms=0)

    await assert_in_commit_order(facto, CHATS)
    assert [len(await delivered(facto, c)) for c in CHATS] == [3] * len(CHATS)
    assert await outbox.unacknowledged(facto.redis) == 0


async def test_a_retry_holds_back_only_its_own_conversation(facto: Facto) -> None:
    slow, other = CHATS[0], CHATS[1]
    await queue_invoices(facto, [slow])
    await customer_writes(facto, slow, "aide", "payer")
    await add_fault(facto, "telegram", status=503)  # the first message of `slow` fails once
    await facto.drain()
    assert await delivered(facto, slow) == []  # the two replies wait behind the invoice

    await queue_invoices(facto, [other])
    await facto.drain()
    assert len(await delivered(facto, other)) == 1  # another conversation is not held back

    facto.clock.advance(facto.worker.sender.policy.max_backoff_seconds)
    await facto.drain()
    await assert_in_commit_order(facto, [slow, other])
    assert len(await delivered(facto, slow)) == 3


async def test_wake_ups_of_messages_an_earlier_drain_sent_are_acknowledged_without_more_reads(
    facto: Facto,
) -> None:
    """Under load a conversation's drain sends the messages queued behind its head, whose
    wake-ups are read afterwards: each is acknowledged, nothing is sent twice, and the one
    whose message the next drain tries first (found sent) is not looked up once more."""
    chat = CHATS[0]
    await queue_invoices(facto, [chat])
    await customer_writes(facto, chat, "bonjour", "aide")
    running = sender(facto, "w-drain")
    await running.ensure_group()
    stream = keys.outbox_stream("telegram")
    [(_id, first)] = await facto.redis.xrange(stream, count=1)
    assert await running.drain(f"telegram:{chat}") is outbox.Outcome.DONE  # wake-ups unread
    looked_up: list[str] = []
    real_lookup = running._send_unordered

    async def spy(key: str) -> None:
        looked_up.append(key)
        await real_lookup(key)

    running._send_unordered = spy  # type: ignore[method-assign]
    assert await running.run_once() > 0
    assert first["key"] not in looked_up
    assert (await facto.redis.xpending(stream, keys.OUTBOX_GROUP))["pending"] == 0
    await assert_in_commit_order(facto, [chat])
