"""TESTCASES 48, 49, 50: a sender dies around a send; its pending entries are finished once.

"Kill" is a sender task abandoned mid-batch (cancelled while the provider holds one of its
calls), which leaves Redis exactly as a SIGKILLed worker would: entries read and not
acknowledged, one message claimed and `sending`. `bench/chaos.py` does it to real processes.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.engine import outbox
from bot.engine.outbox import Sender
from bot.engine.worker import RECLAIM_IDLE_MS, Worker
from bot.store import keys
from bot.web.app_keys import SERVICES
from channels.base import DeliveryState
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.outbox_faults import (
    add_fault,
    clear_faults,
    queue_invoices,
    received,
    send_requests,
    sender,
    wait_for_state,
)

pytestmark = pytest.mark.fault

PHONE = "+33612345678"
CHATS = [940_000 + i for i in range(6)]


async def pending_count(facto: Facto) -> int:
    return await outbox.unacknowledged(facto.redis)


async def queue_keys(facto: Facto, conversation: str) -> list[str]:
    return list(await facto.redis.lrange(keys.outbox_conversation_queue(conversation), 0, -1))


async def dies_while_sending(
    facto: Facto, dead: Sender, key: str, channel: str, calls: int = 1
) -> None:
    """Run `dead` until the provider holds its call for `key` (its `calls`-th), then kill it."""
    batch = asyncio.create_task(dead.run_once())
    await wait_for_state(facto, key, "sending")
    for _ in range(1000):  # the claim is written just before the request goes out
        if await send_requests(facto, channel) >= calls:
            break
        await asyncio.sleep(0.005)
    batch.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await batch
    await clear_faults(facto)  # the held call ends with its 503: nothing was sent by it


async def test_48_crash_after_the_provider_accepted_and_before_xack_sends_nothing_again(
    facto: Facto,
) -> None:
    response = await facto.post_invoice(invoice_body("sms", PHONE))
    assert response.status == 201
    await facto.worker.dispatcher.run_once()
    await facto.client.post(f"/sandbox/api/customer/sms/{PHONE}", json={"text": "aide"})
    await facto.worker.dispatcher.run_once()
    first, second = await queue_keys(facto, f"sms:{PHONE}")
    # Twilio answers 201 to the first message; the call for the second hangs; the worker dies.
    await add_fault(facto, "sms", status=None, delay=0.001)
    await add_fault(facto, "sms", status=503, delay=30)
    await dies_while_sending(facto, sender(facto, "dead-worker"), second, "sms", calls=2)
    # The first's entry was acknowledged in the round trip that recorded it sent (issue 12);
    # the second's was not: the dead worker was still waiting for the provider.
    assert await pending_count(facto) == 1
    assert len(await facto.messages("sms", PHONE)) == 1

    survivor = facto.worker.sender
    await survivor.reclaim(min_idle_ms=0)  # the second is still claimed by the dead one
    assert await send_requests(facto, "sms") == 2
    record = await outbox.load(facto.redis, first)
    assert record is not None and record.state is DeliveryState.SENT and record.attempts == 1
    assert len(await facto.messages("sms", PHONE)) == 1

    facto.clock.advance(survivor.policy.claim_ttl_seconds + 1)  # the dead claim expires
    await survivor.reclaim(min_idle_ms=0)
    assert len(await facto.messages("sms", PHONE)) == 2  # 1 SMS per message in total
    assert await send_requests(facto, "sms") == 3
    assert await pending_count(facto) == 0


async def test_49_crash_before_send_is_reclaimed_and_sent_exactly_once(facto: Facto) -> None:
    await queue_invoices(facto, CHATS)
    [held, *_] = await queue_keys(facto, f"telegram:{CHATS[0]}")
    await add_fault(facto, "telegram", status=503, delay=30)
    # One conversation at a time: the other five were read, never started.
    await dies_while_sending(facto, sender(facto, "dead-worker", concurrency=1), held, "telegram")
    assert await pending_count(facto) == len(CHATS)

    survivor = facto.worker.sender
    await survivor.reclaim(RECLAIM_IDLE_MS)  # not idle long enough yet: left alone
    assert sum((await received(facto, "telegram", [str(c) for c in CHATS])).values()) == 0
    await survivor.reclaim(min_idle_ms=0)  # as after the min-idle
    counts = await received(facto, "telegram", [str(c) for c in CHATS])
    assert counts == {str(c): 0 if c == CHATS[0] else 1 for c in CHATS}

    facto.clock.advance(survivor.policy.claim_ttl_seconds + 1)
    await survivor.reclaim(min_idle_ms=0)
    counts = await received(facto, "telegram", [str(c) for c in CHATS])
    assert set(counts.values()) == {1}
    assert await pending_count(facto) == 0


async def test_50_restart_resumes_its_own_pending_entries_first(facto: Facto) -> None:
    services = facto.client.app[SERVICES]
    await queue_invoices(facto, CHATS)
    [held, *_] = await queue_keys(facto, f"telegram:{CHATS[0]}")
    await add_fault(facto, "telegram", status=503, delay=30)
    # The worker that dies has this process's consumer name, as a restarted one will.
    before = sender(facto, services.consumer_name, concurrency=1)
    await dies_while_sending(facto, before, held, "telegram")
    await queue_invoices(facto, [950_000])  # arrives while it is down

    restarted = Worker(services)
    await restarted.prepare()
    await restarted.recover(reclaim_idle_ms=60_000)  # its own PEL ("0"), nobody else's
    counts = await received(facto, "telegram", [str(c) for c in CHATS])
    assert counts == {str(c): 0 if c == CHATS[0] else 1 for c in CHATS}

    facto.clock.advance(restarted.sender.policy.claim_ttl_seconds + 1)
    await restarted.sender.run_once(pending=True)
    await restarted.drain()  # then new entries (">")
    counts = await received(facto, "telegram", [str(c) for c in [*CHATS, 950_000]])
    assert set(counts.values()) == {1}
    assert await pending_count(facto) == 0
