"""A slow channel fills its own slots only (issue 7): the send loop reads on while SMS wait.

The defect: the sender read 50 entries and waited for all of them before reading the next,
so a Telegram reply queued behind a flash sale's SMS (paced, or a slow provider) waited
for the whole SMS batch.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.store import keys
from channels.base import ChannelName
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.outbox_faults import (
    add_fault,
    clear_faults,
    received,
    send_requests,
    sender,
)

pytestmark = pytest.mark.fault

PHONES = [f"+336123450{i:02d}" for i in range(20)]  # more than the SMS slots (8)
CHAT = 930_001


async def dispatch(facto: Facto, body: dict[str, object]) -> None:
    response = await facto.post_invoice(body)
    assert response.status == 201, await response.text()
    while await facto.worker.dispatcher.run_once():
        pass


async def wait_until_received(facto: Facto, channel: str, address: str) -> None:
    """Poll the emulator (loopback: well under a second) until `address` got a message."""
    for _ in range(1000):
        if await facto.messages(channel, address):
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{channel} {address} never got its message")


async def wait_for_requests(facto: Facto, channel: str, count: int) -> None:
    """Poll the emulator until `count` send requests reached it."""
    for _ in range(1000):
        if await send_requests(facto, channel) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{channel}: fewer than {count} send requests")


async def test_a_telegram_reply_is_not_held_behind_a_backlog_of_slow_sms(facto: Facto) -> None:
    for phone in PHONES:
        await dispatch(facto, invoice_body("sms", phone))
    # Every SMS is held by the provider until the faults are cleared.
    await add_fault(facto, "sms", status=None, delay=30, count=len(PHONES))
    running = facto.worker.sender
    while await running.start_sends():  # the SMS entries are read and their sends started
        pass
    await dispatch(facto, invoice_body("telegram", CHAT))  # queued behind the SMS backlog
    assert await running.start_sends() == 1

    await wait_until_received(facto, "telegram", str(CHAT))
    # The SMS are all still waiting: at the provider, or for their channel's slots.
    assert sum((await received(facto, "sms", PHONES)).values()) == 0
    assert 0 < await send_requests(facto, "sms") <= running.policy.slots_for(ChannelName.SMS)
    assert running.sends_in_flight > 0

    await clear_faults(facto)
    await running.wait_for_sends()
    await finish(facto)
    assert await received(facto, "sms", PHONES) == dict.fromkeys(PHONES, 1)
    assert await received(facto, "telegram", [str(CHAT)]) == {str(CHAT): 1}
    pending = await facto.redis.xpending(keys.OUTBOX_STREAM, keys.OUTBOX_GROUP)
    assert pending["pending"] == 0  # each entry acknowledged by its own send


async def finish(facto: Facto) -> None:
    """What the rate limit parked for later (`Paced`) leaves once its time has come."""
    for _ in range(10):
        facto.clock.advance(60)
        await facto.drain()


async def test_stopping_drops_sends_not_started_and_leaves_their_entries_pending(
    facto: Facto,
) -> None:
    for phone in PHONES:
        await dispatch(facto, invoice_body("sms", phone))
    await add_fault(facto, "sms", status=503, delay=30, count=len(PHONES))
    running = facto.worker.sender
    while await running.start_sends():
        pass
    slots = running.policy.slots_for(ChannelName.SMS)
    await wait_for_requests(facto, "sms", slots)

    await running.stop_sends(grace_seconds=0)  # the provider calls under way are cancelled
    assert running.sends_in_flight == 0
    # Nothing lost: each SMS's entry is still pending (the next run takes it), or the
    # message was parked by the rate limit before the stop and the retry queue wakes it.
    pending = await facto.redis.xpending(keys.OUTBOX_STREAM, keys.OUTBOX_GROUP)
    parked = await facto.redis.zcard(keys.OUTBOX_RETRY)
    assert pending["pending"] + parked == len(PHONES)
    await clear_faults(facto)
    # Another sender finishes them once the stopped one's claims expire, each once (the
    # calls that were cut short are looked up at the provider first).
    facto.clock.advance(running.policy.claim_ttl_seconds + 1)
    other = sender(facto, "next-worker")
    await other.reclaim(min_idle_ms=0)
    while await other.run_once():
        pass
    await finish(facto)
    assert await received(facto, "sms", PHONES) == dict.fromkeys(PHONES, 1)
