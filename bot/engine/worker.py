"""The worker: dispatches inbound events and sends the outbox, until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from contextlib import suppress

from bot.engine import reconcile, schedule
from bot.engine.dispatch import make_handler
from bot.engine.outbox import Sender, SendPolicy
from bot.engine.pipeline import Dispatcher
from bot.services import Services

log = logging.getLogger(__name__)

SWEEP_EVERY_SECONDS = 30.0
RECONCILE_EVERY_SECONDS = 300.0  # ask Stripe about sessions whose webhook has not come
# A sender's message is claimed while it is being sent, so the reclaim can be eager: it only
# ever takes over messages whose sender stopped renewing its claim (it died).
RECLAIM_IDLE_MS = 10_000
RECLAIM_EVERY_SECONDS = 5.0


class Worker:
    """Owns one dispatcher and one sender; `drain()` runs everything due now (tests, demo)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.dispatcher = Dispatcher(
            services.redis, make_handler(services), services.consumer_name
        )
        self.sender = Sender(
            services.redis,
            services.adapters,
            services.clock,
            services.consumer_name,
            policy=SendPolicy.from_settings(services.settings),
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
        next_reclaim = 0.0
        while not self._stopping.is_set():
            await self._guarded(self.sender.run_once(block_ms=500))
            next_reclaim = await self._reclaim_orphans(next_reclaim)

    async def _reclaim_orphans(self, due: float) -> float:
        """Every few seconds, take over what dead senders left; returns when to do it again."""
        now = asyncio.get_running_loop().time()
        if now < due:
            return due
        await self._guarded(self.sender.reclaim(RECLAIM_IDLE_MS))
        return now + RECLAIM_EVERY_SECONDS

    async def _housekeeping_loop(self) -> None:
        ticks = 0
        while not self._stopping.is_set():
            await self._guarded(self.sender.move_due_retries())
            await self._guarded(self.release_scheduled())
            if ticks % int(SWEEP_EVERY_SECONDS) == 0:
                await self._guarded(self.dispatcher.sweep())
            if ticks % int(RECONCILE_EVERY_SECONDS) == 0:
                await self._guarded(self.reconcile())
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
