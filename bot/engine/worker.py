"""The worker: dispatches inbound events and sends the outbox, until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from contextlib import suppress
from datetime import timedelta

from bot.engine import reconcile, retention, schedule
from bot.engine.dispatch import make_handler
from bot.engine.outbox import Sender
from bot.engine.pipeline import Dispatcher
from bot.services import Services

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 30.0
RECONCILE_EVERY_SECONDS = 300.0  # ask Stripe about sessions whose webhook has not come
RECLAIM_IDLE_MS = 60_000
HOUSEKEEP_EVERY_SECONDS = 3600.0  # retention: nothing in Redis grows without bound


class Worker:
    """Owns one dispatcher and one sender; `drain()` runs everything due now (tests, demo)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.dispatcher = Dispatcher(
            services.redis, make_handler(services), services.consumer_name
        )
        self.sender = Sender(
            services.redis, services.adapters, services.clock, services.consumer_name
        )
        self._stopping = asyncio.Event()

    async def prepare(self) -> None:
        await self.dispatcher.ensure_group()
        await self.sender.ensure_group()

    async def recover(self, reclaim_idle_ms: int = RECLAIM_IDLE_MS) -> None:
        """After a restart: finish our own unacknowledged sends, then orphaned ones."""
        await self.dispatcher.sweep()
        await self.sender.run_once(pending=True)
        await self.sender.reclaim(reclaim_idle_ms)

    async def drain(self, max_rounds: int = 50) -> int:
        """Dispatch and send until nothing is left that is due now."""
        total = 0
        for _ in range(max_rounds):
            await self.release_scheduled()
            done = await self.dispatcher.run_once()
            done += await self.dispatcher.sweep()
            await self.sender.move_due_retries()
            done += await self.sender.run_once()
            total += done
            if done == 0:
                return total
        return total

    async def release_scheduled(self) -> int:
        return await schedule.release_due(self.services.redis, self.services.clock.now())

    async def reconcile(self) -> int:
        return await reconcile.sweep(self.services.redis, self.services.stripe)

    async def housekeep(self) -> retention.Housekept:
        settings = self.services.settings
        policy = retention.RetentionPolicy(
            outbox=timedelta(days=settings.outbox_retention_days),
            transcripts=timedelta(days=settings.transcript_retention_days),
            checkout_stale=timedelta(days=settings.checkout_stale_days),
        )
        return await retention.housekeep(self.services.redis, self.services.clock.now(), policy)

    async def run(self) -> None:
        await self.prepare()
        await self.recover()
        await asyncio.gather(self._dispatch_loop(), self._send_loop(), self._housekeeping_loop())

    def stop(self) -> None:
        self._stopping.set()

    async def _dispatch_loop(self) -> None:
        while not self._stopping.is_set():
            await self._guarded(self.dispatcher.run_once(block_ms=500))

    async def _send_loop(self) -> None:
        while not self._stopping.is_set():
            await self._guarded(self.sender.run_once(block_ms=500))

    async def _housekeeping_loop(self) -> None:
        ticks = 0
        while not self._stopping.is_set():
            await self._guarded(self.sender.move_due_retries())
            await self._guarded(self.release_scheduled())
            if ticks % int(SWEEP_EVERY_SECONDS) == 0:
                await self._guarded(self.dispatcher.sweep())
                await self._guarded(self.sender.reclaim(RECLAIM_IDLE_MS))
            if ticks % int(RECONCILE_EVERY_SECONDS) == 0:
                await self._guarded(self.reconcile())
            if ticks % int(HOUSEKEEP_EVERY_SECONDS) == 0:
                await self._guarded(self.housekeep())
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=1.0)
            ticks += 1

    async def _guarded(self, work: Awaitable[object]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            # A Redis blip or a provider bug must not kill the loop; back off a little.
            log.exception("worker step failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=1.0)
