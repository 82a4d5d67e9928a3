"""Removing an invoice's carried-out announcement, off the API answer's path.

A create carries out its own announcement (`bot.engine.issuing`), then its entry in the
merchant's announcements hash (`keys.merchant_announcements`) only has to go. That HDEL is not
worth a round trip before the answer: the merchant's next create in this process removes the
waiting ids in its own script (`take`), and those no create took within `RETIRE_AFTER` are
removed together by a task of their own (one HDEL per merchant, one pipeline). Until then the
worker's backstop may carry one out again, which is harmless.

One retirer per process, created with its services (`bot.services.open_services`) and waited
for before Redis is closed (`wait`): a timer left behind would reopen a closed client.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.store import keys

log = logging.getLogger(__name__)

# Ids one create's script removes at most (they are its script's arguments); the rest wait.
MAX_TAKEN = 500


class AnnouncementRetirer:
    """The carried-out announcements of this process still listed, merchant by merchant."""

    RETIRE_AFTER = 0.05  # seconds: far below the worker's backstop period (10 s)

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self.waiting: dict[str, list[str]] = {}
        self.timer: asyncio.TimerHandle | None = None
        self.task: asyncio.Task[None] | None = None

    def retire(self, merchant_id: str, invoice_id: str) -> None:
        """`invoice_id`'s announcement was carried out: remove it soon."""
        self.waiting.setdefault(merchant_id, []).append(invoice_id)
        if self.timer is None and self.task is None:
            self.timer = asyncio.get_running_loop().call_later(self.RETIRE_AFTER, self._start)

    def take(self, merchant_id: str) -> list[str]:
        """The merchant's carried-out announcements, for its create script to remove."""
        taken = self.waiting.pop(merchant_id, [])
        if len(taken) > MAX_TAKEN:
            self.give_back(merchant_id, taken[MAX_TAKEN:])
            taken = taken[:MAX_TAKEN]
        return taken

    def give_back(self, merchant_id: str, invoice_ids: list[str]) -> None:
        """Ids `take` handed to a script that may not have run."""
        for invoice_id in invoice_ids:
            self.retire(merchant_id, invoice_id)

    async def wait(self) -> None:
        """Until the announcements carried out so far are removed (shutdown, tests)."""
        if self.timer is not None:
            self.timer.cancel()
            self._start()
        if self.task is not None:
            await asyncio.shield(self.task)

    def _start(self) -> None:
        self.timer = None
        if self.waiting and self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, {}
                async with self.redis.pipeline(transaction=False) as pipe:
                    for merchant_id, invoice_ids in batch.items():
                        pipe.hdel(keys.merchant_announcements(merchant_id), *invoice_ids)
                    await pipe.execute()
        except RedisError:  # carried out already: the worker's backstop removes them
            log.warning("announcements left to the worker to remove")
            self.waiting.clear()
        finally:
            self.task = None
