"""A slow channel fills its own slots only (issue 7): the send loop reads on while SMS wait.

The defect: the sender read 50 entries and waited for all of them before reading the next,
so a Telegram reply queued behind a flash sale's SMS (paced, or a slow provider) waited
for the whole SMS batch.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bot.engine import outbox
from bot.engine.outbox import HELD_PER_CHANNEL, Sender
from bot.store import keys
from bot.web.app_keys import SERVICES
from channels.base import ChannelAdapter, ChannelName, OutboundMessage, SendResult
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
    assert await outbox.unacknowledged(facto.redis) == 0  # each entry acknowledged by its own send


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
    pending = await outbox.unacknowledged(facto.redis)
    parked = await facto.redis.zcard(keys.OUTBOX_RETRY)
    assert pending + parked == len(PHONES)
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


class HeldProvider:
    """An SMS provider that takes each message and answers only once `release` is set: a
    flash sale's SMS paced by the provider, seen from the sender. Counts what it accepted."""

    name = ChannelName.SMS

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.accepted: Counter[str] = Counter()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, message: OutboundMessage) -> SendResult:
        await self.release.wait()
        self.accepted[message.idempotency_key] += 1
        return SendResult(f"SM{self.accepted.total():032d}")


SALE = 5000


async def queue_sale(facto: Facto) -> list[str]:
    """SALE SMS queued at once, each to its own customer, as a flash sale's enqueuer does."""
    keys_queued = []
    async with facto.redis.pipeline(transaction=False) as pipe:
        for n in range(SALE):
            phone = f"+337{n:08d}"
            message = OutboundMessage(ChannelName.SMS, phone, "Vente flash", f"sale:{n}:0")
            outbox.queue(pipe, message, f"sms:{phone}")
            keys_queued.append(message.idempotency_key)
        await pipe.execute()
    return keys_queued


async def test_a_telegram_reply_leaves_at_once_behind_5000_held_sms(facto: Facto) -> None:
    services = facto.client.app[SERVICES]
    sms = HeldProvider()
    adapters: dict[ChannelName, ChannelAdapter] = {
        ChannelName.SMS: sms,
        ChannelName.TELEGRAM: services.adapters[ChannelName.TELEGRAM],
    }
    running = Sender(services.redis, adapters, services.clock, "flash-sale-worker")
    await running.ensure_group()
    sale = await queue_sale(facto)
    while await running.start_sends():  # reads SMS until the channel's budget is full
        pass
    assert HELD_PER_CHANNEL <= running.held(ChannelName.SMS) < HELD_PER_CHANNEL + 50
    # The rest of the sale waits in its stream, unread: no memory held for it.
    assert await facto.redis.xlen(keys.outbox_stream("sms")) == SALE

    await dispatch(facto, invoice_body("telegram", CHAT))  # queued behind the sale
    assert await running.start_sends() == 1  # the SMS budget is full, Telegram is read
    await wait_until_received(facto, "telegram", str(CHAT))
    assert sms.accepted.total() == 0  # not one SMS went meanwhile

    sms.release.set()
    while True:
        if not await running.start_sends():
            if not running.sends_in_flight:
                break
            await running.wait_for_sends()
    assert sms.accepted == Counter(sale)  # every SMS of the sale once, none twice
    assert await received(facto, "telegram", [str(CHAT)]) == {str(CHAT): 1}
    assert await outbox.unacknowledged(facto.redis) == 0


async def test_messages_queued_on_the_single_stream_of_earlier_versions_are_all_sent(
    facto: Facto,
) -> None:
    """An upgrade: wake-ups left in the old single stream, read by no one, read by a sender
    that died, and a retry's (no conversation in it), move to their channels' streams."""
    for phone in PHONES[:3]:
        await dispatch(facto, invoice_body("sms", phone))
    await dispatch(facto, invoice_body("telegram", CHAT))
    legacy: list[dict[str, str]] = []
    for stream in outbox.STREAMS.values():  # written the way earlier versions did
        for entry_id, fields in await facto.redis.xrange(stream):
            legacy.append(fields if legacy else {"key": fields["key"]})  # one bare
            await facto.redis.xdel(stream, entry_id)
    for fields in legacy:
        await facto.redis.xadd(keys.OUTBOX_STREAM, fields)
    await facto.redis.xgroup_create(keys.OUTBOX_STREAM, keys.OUTBOX_GROUP, id="0")
    await facto.redis.xreadgroup(
        keys.OUTBOX_GROUP, "old-worker", {keys.OUTBOX_STREAM: ">"}, count=2
    )

    restarted = sender(facto, "upgraded-worker")
    await restarted.ensure_group()
    assert not await facto.redis.exists(keys.OUTBOX_STREAM)  # moved, then deleted
    assert await facto.redis.xlen(keys.outbox_stream("sms")) == 3
    assert await facto.redis.xlen(keys.outbox_stream("telegram")) == 1
    assert await restarted.move_legacy_entries() == 0  # again (a second worker): nothing
    # An old worker still running recreates the old stream (empty, with its group): the next
    # retry move deletes it.
    await facto.redis.xgroup_create(keys.OUTBOX_STREAM, keys.OUTBOX_GROUP, id="0", mkstream=True)
    await restarted.move_due_retries()
    assert not await facto.redis.exists(keys.OUTBOX_STREAM)
    while await restarted.run_once():
        pass
    assert await received(facto, "sms", PHONES[:3]) == dict.fromkeys(PHONES[:3], 1)
    assert await received(facto, "telegram", [str(CHAT)]) == {str(CHAT): 1}
    assert await outbox.unacknowledged(facto.redis) == 0


async def test_a_wake_up_behind_a_waiting_head_leaves_its_message_unclaimed(
    facto: Facto,
) -> None:
    """The send claims the message its wake-up names on the guess that it is the head; when
    an earlier message is still waiting for its retry, the guess is let go, untouched."""
    await add_fault(facto, "telegram", status=503, count=1)
    await dispatch(facto, invoice_body("telegram", CHAT))
    conversation = f"telegram:{CHAT}"
    running = facto.worker.sender
    while await running.run_once():  # the invoice meets the 503: parked for its retry
        pass
    [waiting] = await facto.redis.lrange(keys.outbox_conversation_queue(conversation), 0, -1)
    assert await facto.redis.hget(keys.outbox_message(waiting), "retry_at")

    await facto.client.post(f"/sandbox/api/customer/telegram/{CHAT}", json={"text": "aide"})
    while await facto.worker.dispatcher.run_once():
        pass
    _, reply = await facto.redis.lrange(keys.outbox_conversation_queue(conversation), 0, -1)
    assert await running.run_once() == 1  # the reply's wake-up: its message is not the head
    record = await facto.redis.hgetall(keys.outbox_message(reply))
    assert record["state"] == "pending"
    assert not {"claim_owner", "claim_until", "claimed_at", "since"} & set(record)

    await finish(facto)
    said = await facto.messages("telegram", str(CHAT))
    assert len(said) == 2  # the invoice and the reply, each once
    assert await outbox.unacknowledged(facto.redis) == 0
