"""Double sends: a slow provider, two senders and an eager reclaim still send each message once.

The defect: a batch that outlived the reclaim's min-idle was taken over while its sender was
still working on it, and a message already `sending` was sent again (17 of 100 replies twice).
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from redis.exceptions import RedisError

from bot.engine import outbox
from bot.store import keys
from tests.scenario.harness import Facto
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

CHATS = [910_000 + i for i in range(12)]


async def outbox_keys(facto: Facto) -> list[str]:
    return [k.removeprefix("outbox:msg:") for k in await facto.redis.keys("outbox:msg:*")]


async def test_slow_provider_two_senders_and_reclaim_send_each_message_once(
    facto: Facto,
) -> None:
    await queue_invoices(facto, CHATS)
    await add_fault(facto, "telegram", status=None, delay=0.05, count=len(CHATS) * 3)
    first, second = facto.worker.sender, sender(facto, "second-worker")

    batch = asyncio.create_task(first.run_once())
    while not batch.done():
        # The other worker reclaims as eagerly as it can: every entry is "idle" to it.
        await second.reclaim(min_idle_ms=0)
        await second.run_once()
        await asyncio.sleep(0.01)
    await batch
    await second.reclaim(min_idle_ms=0)

    counts = await received(facto, "telegram", [str(c) for c in CHATS])
    assert set(counts.values()) == {1}, counts
    assert await send_requests(facto, "telegram") == len(CHATS)
    assert await outbox.unacknowledged(facto.redis) == 0


async def test_a_message_being_sent_is_refused_to_a_second_sender_while_its_claim_is_renewed(
    facto: Facto,
) -> None:
    await queue_invoices(facto, CHATS[:1])
    [key] = await outbox_keys(facto)
    await add_fault(facto, "telegram", status=None, delay=30)  # held until the faults clear
    first = sender(facto, "first-worker", renew_every_seconds=0.01)
    second = sender(facto, "second-worker")

    batch = asyncio.create_task(first.run_once())
    await wait_for_state(facto, key, "sending")
    # Far longer than the claim's life passes on the clock; the live sender keeps renewing.
    for _ in range(10):
        facto.clock.advance(first.policy.claim_ttl_seconds)
        await renewed(facto, key)
        await second.reclaim(min_idle_ms=0)
        await second.run_once()
    assert await send_requests(facto, "telegram") == 1

    await clear_faults(facto)
    await batch
    await second.reclaim(min_idle_ms=0)
    assert await received(facto, "telegram", [str(CHATS[0])]) == {str(CHATS[0]): 1}
    assert await outbox.unacknowledged(facto.redis) == 0


async def test_a_dead_senders_message_is_taken_over_once_its_claim_expires(facto: Facto) -> None:
    await queue_invoices(facto, CHATS[:1])
    [key] = await outbox_keys(facto)
    # The provider holds the request, then refuses it: the dead sender's try sent nothing.
    await add_fault(facto, "telegram", status=503, delay=30)
    dead = sender(facto, "dead-worker")
    batch = asyncio.create_task(dead.run_once())
    await wait_for_state(facto, key, "sending")
    batch.cancel()  # the worker dies mid-send
    with contextlib.suppress(asyncio.CancelledError):
        await batch
    await clear_faults(facto)

    survivor = sender(facto, "survivor")
    await survivor.reclaim(min_idle_ms=0)
    assert await received(facto, "telegram", [str(CHATS[0])]) == {str(CHATS[0]): 0}

    facto.clock.advance(survivor.policy.claim_ttl_seconds + 1)
    await survivor.reclaim(min_idle_ms=0)
    assert await received(facto, "telegram", [str(CHATS[0])]) == {str(CHATS[0]): 1}
    assert await outbox.unacknowledged(facto.redis) == 0


async def renewed(facto: Facto, key: str) -> None:
    """Wait until the claim's deadline is ahead of the clock again (the renewal ran)."""
    for _ in range(1000):
        until = await facto.redis.hget(keys.outbox_message(key), "claim_until")
        if until is not None and float(until) > facto.clock.now().timestamp():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the claim was not renewed")


async def test_recovery_and_send_loop_of_one_worker_send_a_conversation_once(
    facto: Facto,
) -> None:
    """A restarted worker runs its reclaim beside its send loop, with one sender: claims name the
    sender, not the coroutine, so both reaching one conversation used to send it twice."""
    chat = 987_654
    await queue_invoices(facto, [chat, chat])
    # The worker that died had read the first outbox wake-up and never acknowledged it.
    await facto.redis.xreadgroup(
        keys.OUTBOX_GROUP, "dead-worker", {keys.outbox_stream("telegram"): ">"}, count=1
    )
    await add_fault(facto, "telegram", status=None, delay=0.2, count=10)

    restarted = facto.worker.sender
    await asyncio.gather(restarted.reclaim(0), restarted.run_once())

    assert (await received(facto, "telegram", [str(chat)]))[str(chat)] == 2
    assert await send_requests(facto, "telegram") == 2


async def test_a_renewal_that_survives_its_cancel_does_not_hold_the_sender(
    facto: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's sender stopped for good: the claim's renewal, cancelled inside its Redis
    call, came out of it as a RedisError and went on renewing, and the send waited for it."""
    await queue_invoices(facto, CHATS[:1])
    await add_fault(facto, "telegram", status=None, delay=30)  # held until the faults clear
    first = sender(facto, "first-worker", renew_every_seconds=0.01)
    real_if_ours = first._if_ours
    renewing, swallowed = asyncio.Event(), asyncio.Event()

    async def if_ours(key: str, script: str, **fields: str) -> bool:
        if "claim_until" in fields and not swallowed.is_set():
            renewing.set()
            try:
                await asyncio.Event().wait()  # the Redis call the cancel lands in
            except asyncio.CancelledError:
                swallowed.set()
                raise RedisError("Timeout reading from redis") from None
        return await real_if_ours(key, script, **fields)

    monkeypatch.setattr(first, "_if_ours", if_ours)
    batch = asyncio.create_task(first.run_once())
    try:
        await asyncio.wait_for(renewing.wait(), timeout=10)
        await clear_faults(facto)  # the provider answers: the send ends, the renewal is cancelled
        done, _ = await asyncio.wait({batch}, timeout=10)
        assert batch in done, "the sender still waits for the claim's renewal"
        await batch
    finally:
        batch.cancel()
    assert swallowed.is_set()
    assert await received(facto, "telegram", [str(CHATS[0])]) == {str(CHATS[0]): 1}
