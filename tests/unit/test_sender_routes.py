"""Inbound routing remembered per process (bot.store.sender_routes): one Redis read for a
sender seen before only after a change, never a stale answer once a change is known."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError

from bot.clock import FakeClock
from bot.store import keys, senders
from bot.store.sender_routes import SenderChanges, SenderRoutes
from bot.store.senders import MerchantSender
from channels.base import ChannelName

NUMBER = "+33700000077"
SERVICE = "MG" + "7" * 32


def _sender(merchant_id: str = "m_routes") -> MerchantSender:
    return MerchantSender(
        merchant_id, ChannelName.SMS, NUMBER, FakeClock().now().isoformat(), from_=NUMBER
    )


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _written_elsewhere(redis: aioredis.Redis, sender: MerchantSender) -> None:
    """Another process's registration whose notice has not arrived yet."""
    await redis.set(keys.channel_sender("sms", sender.ref), sender.to_json())


async def test_an_answer_is_remembered_until_a_change_notice(redis: aioredis.Redis) -> None:
    routes = SenderRoutes(redis)
    routes.notice("subscribe")
    assert await routes.inbound_sender(ChannelName.SMS, SERVICE, NUMBER) is None
    sender = _sender()
    await _written_elsewhere(redis, sender)
    assert await routes.inbound_sender(ChannelName.SMS, SERVICE, NUMBER) is None  # remembered
    assert await routes.inbound_sender(ChannelName.SMS, SERVICE, NUMBER, fresh=True) == sender
    routes.notice("message")
    assert await routes.inbound_sender(ChannelName.SMS, SERVICE, NUMBER) == sender


async def test_nothing_is_remembered_while_not_subscribed(redis: aioredis.Redis) -> None:
    routes = SenderRoutes(redis)
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) is None
    sender = _sender()
    await _written_elsewhere(redis, sender)
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) == sender
    # A (re)subscription drops what was remembered: a notice may have been missed meanwhile.
    routes.notice("subscribe")
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) == sender
    await redis.delete(keys.channel_sender("sms", NUMBER))
    routes.notice("subscribe")
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) is None


async def test_an_answer_is_read_again_after_its_age(redis: aioredis.Redis) -> None:
    clock = Ticking()
    routes = SenderRoutes(redis, max_age=60.0, monotonic=clock)
    routes.notice("subscribe")
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) is None
    sender = _sender()
    await _written_elsewhere(redis, sender)
    clock.now = 59.0
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) is None
    clock.now = 61.0
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) == sender


async def test_this_process_own_change_is_seen_at_once(redis: aioredis.Redis) -> None:
    """A change noted on the process's SenderChanges (bot.web.senders_api notes each) drops
    the answers at once, before the notice comes back from Redis; another process's
    SenderChanges does not."""
    changes, elsewhere = SenderChanges(), SenderChanges()
    routes = SenderRoutes(redis, changes=changes)
    other = SenderRoutes(redis, changes=elsewhere)
    for each in (routes, other):
        each.notice("subscribe")
        assert await each.inbound_sender(ChannelName.SMS, NUMBER) is None
    sender = _sender()
    await senders.register(redis, sender, set())
    changes.note()
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) == sender
    assert await other.inbound_sender(ChannelName.SMS, NUMBER) is None  # until its notice
    await senders.remove(redis, sender.merchant_id, ChannelName.SMS)
    changes.note()
    assert await routes.inbound_sender(ChannelName.SMS, NUMBER) is None


async def test_the_senders_found_route_from_memory_while_redis_is_away(
    redis: aioredis.Redis,
) -> None:
    """What each SenderRoutes (one per process) has found, never dropped: a change notice or
    a resubscription forgets the answers, not the senders seen (issue 12: no module state)."""
    routes, other = SenderRoutes(redis), SenderRoutes(redis)
    sender = _sender()
    await _written_elsewhere(redis, sender)
    assert routes.seen_sender(ChannelName.SMS, SERVICE, NUMBER) is None
    assert await routes.inbound_sender(ChannelName.SMS, SERVICE, NUMBER) == sender
    routes.notice("subscribe")
    routes.notice("message")
    assert routes.seen_sender(ChannelName.SMS, SERVICE, NUMBER) == sender
    assert routes.seen_sender(ChannelName.WHATSAPP, NUMBER) is None  # per channel
    assert other.seen_sender(ChannelName.SMS, NUMBER) is None  # per object, not per module


async def test_registering_and_removing_tell_the_other_processes(redis: aioredis.Redis) -> None:
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.SENDERS_CHANGED)
    try:
        assert (await pubsub.get_message(timeout=5.0) or {}).get("type") == "subscribe"
        sender = _sender()
        await senders.register(redis, sender, set())
        await senders.remove(redis, sender.merchant_id, ChannelName.SMS)
        notices = [await pubsub.get_message(timeout=5.0) for _ in range(2)]
        assert [n and n["data"] for n in notices] == [f"sms:{NUMBER}"] * 2
    finally:
        await pubsub.aclose()


async def test_a_registration_interrupted_after_its_record_still_tells_the_others(
    redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sender's record is live once written: if Redis fails on the merchant's index
    after it, the other processes must still drop what they remember of that number (or they
    route its messages to the platform's conversation until the answer ages out)."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(keys.SENDERS_CHANGED)
    try:
        assert (await pubsub.get_message(timeout=5.0) or {}).get("type") == "subscribe"
        failing = Failing(redis, "hset")
        with pytest.raises(ConnectionError):
            await senders.register(failing, _sender(), set())
        assert await redis.exists(keys.channel_sender("sms", NUMBER))
        notice = await pubsub.get_message(timeout=5.0)
        assert notice is not None and notice["data"] == f"sms:{NUMBER}"
    finally:
        await pubsub.aclose()


class Failing:
    """`redis`, whose `command` fails as a connection reset would."""

    def __init__(self, redis: aioredis.Redis, command: str) -> None:
        self.redis, self.command = redis, command

    def __getattr__(self, name: str) -> Any:
        if name == self.command:

            async def fail(*_args: object, **_kwargs: object) -> None:
                raise ConnectionError("reset")

            return fail
        return getattr(self.redis, name)


async def test_a_stopped_listener_ends_without_being_cancelled(
    redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shutdown stops the listener before cancelling it: a cancellation that lands as the
    client's own read times out can be lost, and the listener must end all the same."""
    routes = SenderRoutes(redis)
    subscribed = asyncio.Event()
    told = routes.notice

    def notice(kind: str) -> None:
        told(kind)
        if kind == "subscribe":
            subscribed.set()

    monkeypatch.setattr(routes, "notice", notice)
    task = asyncio.create_task(routes.listen())
    try:
        await asyncio.wait_for(subscribed.wait(), timeout=5)
        routes.stop()
        await redis.publish(keys.SENDERS_CHANGED, "sms:+33700000000")  # wakes its read
        await asyncio.wait_for(task, timeout=5)
        assert not task.cancelled() and not routes.listening
    finally:
        task.cancel()
