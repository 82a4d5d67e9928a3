"""Which merchant sender an inbound message was addressed to, remembered per process.

Every inbound Twilio webhook names the number and Messaging Service it was sent to; nearly
all of them are the platform's or a few merchants', so reading `sender:*` on each request
cost a Redis round trip per candidate for an answer that changes a few times a year.

The answers (found or not) are kept in memory and dropped:
- all at once when any process registers or removes a sender (`bot.store.senders` publishes
  on `keys.SENDERS_CHANGED`; each process listens while it serves), and at once, without
  waiting for the notice, when this process made the change;
- all at once whenever the subscription is (re)confirmed, and not used at all while it is
  not, since a change published meanwhile was missed;
- one by one after `MAX_AGE_SECONDS`, should a notice be lost some other way;
- and a webhook refused on a remembered answer is checked again on a fresh one (the caller's
  `fresh=True`), so a sender registered a moment ago is never refused for it.

Apart from them, the merchant senders ever found are kept (`seen_sender`), never dropped: while
Redis is unavailable, inbound routing survives for them (the message is then spooled in the
right conversation, checked with the right account's token). A sender removed since still
routes here until the process restarts, which only delays its replies' move to the platform's
conversation.

A read that started before a drop is not remembered (generation count): it may predate the
change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.store import keys
from bot.store.senders import MerchantSender
from channels.base import ChannelName

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 60.0
# Entries kept at most (found or not): candidates are our numbers and services and the
# merchants', but a forged request can name anything; past this the memory starts over.
MAX_ENTRIES = 10_000
RESUBSCRIBE_SECONDS = 1.0

_Entry = tuple[MerchantSender | None, float]


class SenderChanges:
    """Sender changes made by this process (one per process, on Services): its own routing
    memory drops at once, without waiting for the notice to come back from Redis."""

    def __init__(self) -> None:
        self.count = 0

    def note(self) -> None:
        self.count += 1


class SenderRoutes:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        max_age: float = MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        changes: SenderChanges | None = None,
    ) -> None:
        self._redis = redis
        self._max_age = max_age
        self._monotonic = monotonic
        self._entries: dict[tuple[ChannelName, str], _Entry] = {}
        # Merchant senders found, by (channel, ref): only real senders, so as many as merchants.
        self._seen: dict[tuple[ChannelName, str], MerchantSender] = {}
        self._generation = 0
        self._changes = changes or SenderChanges()
        self._changes_seen = self._changes.count
        self.listening = False  # True while the subscription is confirmed
        self._stopping = False

    def stop(self) -> None:
        """End `listen` at its next turn, cancelled or not: a cancellation that lands as the
        Redis client's own read times out can be taken for that timeout and lost, and the
        shutdown that awaits the task would wait for ever."""
        self._stopping = True

    def forget(self) -> None:
        """Drop every remembered answer, and any read still in flight."""
        self._entries.clear()
        self._generation += 1

    async def inbound_sender(
        self, channel: ChannelName, *candidates: str | None, fresh: bool = False
    ) -> MerchantSender | None:
        """The sender the first candidate that is one names (the Messaging Service before the
        number), or None: the platform's. `fresh`: read Redis whatever is remembered. Raises
        RedisError when Redis has to be read and cannot be."""
        refs = [c for c in candidates if c]
        if self._changes_seen != self._changes.count:
            self._changes_seen = self._changes.count
            self.forget()
        now = self._monotonic()
        known: dict[str, MerchantSender | None] = {}
        if self.listening and not fresh:
            for ref in refs:
                entry = self._entries.get((channel, ref))
                if entry is not None and entry[1] > now:
                    known[ref] = entry[0]
        missing = [ref for ref in refs if ref not in known]
        if missing:
            known.update(await self._read(channel, missing, now))
        found = next((known[ref] for ref in refs if known[ref] is not None), None)
        if found is not None:
            self._seen[(channel, found.ref)] = found
        return found

    def seen_sender(self, channel: ChannelName, *candidates: str | None) -> MerchantSender | None:
        """The sender the first candidate names among those `inbound_sender` ever found, or
        None: what routes an inbound message while Redis cannot be read."""
        return next(
            (self._seen[(channel, c)] for c in candidates if c and (channel, c) in self._seen),
            None,
        )

    async def _read(
        self, channel: ChannelName, refs: Sequence[str], now: float
    ) -> dict[str, MerchantSender | None]:
        generation = self._generation
        # One round trip for all candidates; a pipeline, not MGET: the keys are on many slots.
        async with self._redis.pipeline(transaction=False) as pipe:
            for ref in refs:
                pipe.get(keys.channel_sender(channel.value, ref))
            raws = await pipe.execute()
        found = {
            ref: MerchantSender.from_json(raw) if raw else None
            for ref, raw in zip(refs, raws, strict=True)
        }
        if generation == self._generation and self.listening:
            if len(self._entries) + len(found) > MAX_ENTRIES:
                self._entries.clear()
            until = now + self._max_age
            for ref, sender in found.items():
                self._entries[(channel, ref)] = (sender, until)
        return found

    async def listen(self) -> None:
        """Follow the change notices until cancelled, subscribing again after a failure."""
        while not self._stopping:
            try:
                await self._follow()
            except RedisError as error:  # Redis away: requests read Redis meanwhile
                # Expected while Redis restarts: one line, no traceback, every retry.
                log.warning("sender change notices interrupted: %s", error)
            except Exception:  # anything else is a bug: with its traceback
                log.warning("sender change notices interrupted", exc_info=True)
            finally:
                self.listening = False
                self.forget()
            if not self._stopping:
                await asyncio.sleep(RESUBSCRIBE_SECONDS)

    async def _follow(self) -> None:
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(keys.SENDERS_CHANGED)
            while not self._stopping:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None:
                    self.notice(str(message.get("type")))
        finally:
            try:
                await pubsub.aclose()
            except RedisError:
                log.debug("could not close the sender notices' connection", exc_info=True)

    def notice(self, kind: str) -> None:
        """A message of the subscription: its confirmation (after a reconnect too: whatever
        changed while away is unknown) or a change."""
        if kind == "subscribe":
            self.forget()
            self.listening = True
        elif kind == "message":
            self.forget()
