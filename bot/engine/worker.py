"""The worker: dispatches inbound events and sends the outbox, until told to stop.

Four tasks run side by side, so none waits for another:
- the dispatch loop reads wake-ups, and every second reclaims those a dead worker left;
- the send loop sends the outbox;
- the periodic loop (schedule release, retry moves, pending sweep, send reclaim, Stripe
  reconciliation) runs only while this worker holds the periodic lease: two workers never
  sweep at once, and a slow sweep never delays a reply;
- recovery, at start, finishes what a previous run left, retrying until Redis answers: the
  sends left unacknowledged first (beside the send loop, started first), the dispatch backlog
  beside them, so the first reply after a restart never waits for the whole backlog;
- the archive loop renders the PDF of each invoice issued (bot.engine.documents), so the API
  answers without rendering it.

At start, the periodic, campaign and archive loops wait until the dispatch backlog is
recovered and the first replies are out (at most `START_GRACE_SECONDS`): a Stripe sweep,
housekeeping, a campaign batch or the first PDF (which imports the renderer: a second of CPU
that blocks the event loop) would otherwise share the first second with the first replies, and
the periodic sweep would only repeat the recovery's. `on_started` (the process's garbage
collector settling, bot.runtime.settle_gc) waits for the same moment: a full collection of
everything start-up allocated takes a tenth of a second, which the first reply would wait
for, and what the first dispatch loaded (the intent model, the lexicon's patterns, compiled
templates) is then frozen with the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import timedelta

from redis.exceptions import RedisError

from bot.engine import issuing, reconcile, retention, schedule
from bot.engine.campaigns import Enqueuer
from bot.engine.dispatch import likely_reads, make_handler
from bot.engine.documents import ArchiveInvoice, Archiver
from bot.engine.lease import Lease
from bot.engine.merchant_webhooks import MerchantWebhooks
from bot.engine.outbox import Sender, SendPolicy
from bot.engine.pacing import pacer_for
from bot.engine.pipeline import Dispatcher, is_transient
from bot.logs import log_fields
from bot.services import Services
from bot.store import keys

log = logging.getLogger(__name__)

PERIODIC_TICK_SECONDS = 1.0
SWEEP_EVERY_TICKS = 10  # the pending sweep backs up lost wake-ups; reclaim covers crashes
RECONCILE_EVERY_TICKS = 300  # ask Stripe about sessions whose webhook has not come
# A sender's message is claimed while it is being sent, so the reclaim can be eager: it only
# ever takes over messages whose sender stopped renewing its claim (it died).
RECLAIM_IDLE_MS = 10_000
RECLAIM_EVERY_SECONDS = 5.0
WAKE_RECLAIM_EVERY_SECONDS = 1.0
PERIODIC_LEASE_MS = 15_000
# Waiting for Redis at start: doubling from 0.5 s, at most 10 s between tries.
REDIS_WAIT_FIRST, REDIS_WAIT_MAX = 0.5, 10.0
# A payment event re-reads the session, its intent, refunds and disputes at Stripe (a few
# sequential calls): its own budget, so a slow Stripe is waited for, not retried forever.
PAYMENT_HANDLER_SECONDS = 10.0
HOUSEKEEP_EVERY_TICKS = 3600  # retention: nothing in Redis grows without bound
START_GRACE_SECONDS = 10.0  # the longest the background loops wait for the backlog at start


class Worker:
    """Owns one dispatcher and one sender; `drain()` runs everything due now (tests, demo).

    `archive_invoice` renders and archives an invoice's PDF once (the web's renderer, wired
    in by the process that starts the worker); without it, PDFs are rendered on download.
    """

    def __init__(
        self,
        services: Services,
        *,
        archive_invoice: ArchiveInvoice | None = None,
        on_started: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        self._on_started = on_started
        self.archiver = (
            Archiver(services.redis, services.consumer_name, archive_invoice)
            if archive_invoice is not None
            else None
        )
        self.dispatcher = Dispatcher(
            services.redis,
            make_handler(services),
            services.consumer_name,
            clock=services.clock,
            prefetch=likely_reads,
            lock_ttl_ms=services.settings.dispatch_lock_ms,
            concurrency=services.settings.dispatch_concurrency,
            slow_events={
                "payment": PAYMENT_HANDLER_SECONDS,
                "offer_payment": PAYMENT_HANDLER_SECONDS,
            },
        )
        self.sender = Sender(
            services.redis,
            services.adapters,
            services.clock,
            services.consumer_name,
            policy=SendPolicy.from_settings(services.settings),
            pacer=pacer_for(services),
        )
        self.lease = Lease(
            services.redis, keys.PERIODIC_LEASE, services.consumer_name, PERIODIC_LEASE_MS
        )
        self._stopping = asyncio.Event()
        self._recovered = asyncio.Event()  # the dispatch backlog of a previous run is done
        # The first sends this run started have finished, or the outbox had nothing to send.
        self._replied = asyncio.Event()
        self._sending = asyncio.Event()  # the send loop has started sends
        # Stripe sweeps and housekeeping take seconds to minutes: their own loop and lease, so
        # that retries and due reminders never wait behind them.
        self.slow_lease = Lease(
            services.redis, keys.PERIODIC_SLOW_LEASE, services.consumer_name, PERIODIC_LEASE_MS
        )
        self._ticks = 0
        self._slow_ticks = 0
        # Flash sales: running campaigns become conversation events (bot.engine.campaigns).
        self.campaigns = Enqueuer(services.redis, services.consumer_name, clock=services.clock)
        self.merchant_webhooks = MerchantWebhooks(services)

    @property
    def wake_reclaim_idle_ms(self) -> int:
        """A dead worker's wake-ups are taken over once its locks have surely expired."""
        return self.dispatcher.lock_ttl_ms + 1000

    async def prepare(self) -> None:
        await self.dispatcher.ensure_group()
        await self.sender.ensure_group()
        if self.archiver is not None:
            await self.archiver.ensure_group()

    async def recover(self, reclaim_idle_ms: int = RECLAIM_IDLE_MS) -> None:
        """After a restart: our own unacknowledged sends and orphaned ones first (they are
        replies already decided), then conversations left pending."""
        await self.recover_sends(reclaim_idle_ms)
        await self.recover_dispatch()

    async def recover_sends(self, reclaim_idle_ms: int = RECLAIM_IDLE_MS) -> None:
        await self.sender.run_once(pending=True)
        await self.sender.reclaim(reclaim_idle_ms)

    async def recover_dispatch(self) -> None:
        await self.announce_issued()
        await self.dispatcher.sweep()
        await self.dispatcher.reclaim(self.wake_reclaim_idle_ms)

    async def drain(self, max_rounds: int = 50) -> int:
        """Dispatch and send until nothing is left that is due now."""
        total = 0
        for _ in range(max_rounds):
            await self.release_scheduled()
            await self.campaigns.run_all()
            done = await self.dispatcher.run_once()
            done += await self.dispatcher.sweep()
            await self.sender.move_due_retries()
            done += await self.sender.run_once()
            if self.archiver is not None:
                done += await self.archiver.run_once()
            total += done
            if done == 0:
                return total
        return total

    async def announce_issued(self) -> int:
        return await issuing.announce_all(self.services.redis)

    async def release_scheduled(self) -> int:
        return await schedule.release_due(self.services.redis, self.services.clock.now())

    async def reconcile(self) -> int:
        now = self.services.clock.now().timestamp()
        return await reconcile.sweep(self.services.redis, self.services.stripe, now=now)

    async def housekeep(self) -> retention.Housekept:
        settings = self.services.settings
        policy = retention.RetentionPolicy(
            outbox=timedelta(days=settings.outbox_retention_days),
            transcripts=timedelta(days=settings.transcript_retention_days),
            checkout_stale=timedelta(days=settings.checkout_stale_days),
            campaigns=timedelta(days=settings.campaign_retention_days),
        )
        return await retention.housekeep(self.services.redis, self.services.clock.now(), policy)

    async def run(self) -> None:
        await self.wait_for_redis()
        # The send loop and the send recovery start before the dispatch recovery: after a
        # restart with a backlog, replies already decided leave at once, and each newly
        # dispatched one as soon as it is committed, instead of after the whole sweep.
        await asyncio.gather(
            self._send_loop(),
            self._first_replies(),
            self._recovery(self.recover_sends),
            self._recover_backlog(),
            self._dispatch_loop(),
            self._after_backlog(self._started),
            self._after_backlog(self._periodic_loop),
            self._after_backlog(self._slow_periodic_loop),
            self._after_backlog(self._campaign_loop),
            self._after_backlog(self._archive_loop),
        )
        await self._guarded(self.lease.release())
        await self._guarded(self.slow_lease.release())
        # The order invoices this worker issued left their announcements' removal to a timer
        # (Services.retirer): done now, before the caller closes Redis under it.
        await self._guarded(self.services.retirer.wait(), pause=False)

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def wait_for_redis(self) -> None:
        """Until Redis answers and the consumer groups exist: a worker started before Redis
        (or during a failover) waits, logging, instead of exiting."""
        delay = REDIS_WAIT_FIRST
        while not self._stopping.is_set():
            try:
                await self.prepare()
                return
            except (RedisError, OSError) as exc:
                if isinstance(exc, RedisError) and not is_transient(exc):
                    raise
                log.warning(
                    "waiting for redis",
                    extra=log_fields(error=type(exc).__name__, retry_in=delay),
                )
            await self._pause(delay)
            delay = min(delay * 2, REDIS_WAIT_MAX)

    async def _recovery(self, step: Callable[[], Awaitable[None]]) -> None:
        """Finish what a previous run left, concurrently with the loops; retried until done."""
        delay = REDIS_WAIT_FIRST
        while not self._stopping.is_set():
            if await self._guarded(step(), pause=False):
                log.info("recovery done", extra=log_fields(step=getattr(step, "__name__", "")))
                return
            await self._pause(delay)
            delay = min(delay * 2, REDIS_WAIT_MAX)

    async def _recover_backlog(self) -> None:
        await self._recovery(self.recover_dispatch)
        self._recovered.set()

    async def _after_backlog(self, loop: Callable[[], Awaitable[None]]) -> None:
        """Run `loop` once the dispatch backlog is recovered and the first replies are out, or
        `START_GRACE_SECONDS` after start if that takes longer (a big backlog must not hold
        reminders for minutes)."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._started_up(), timeout=START_GRACE_SECONDS)
        await loop()

    async def _started(self) -> None:
        if self._on_started is not None:
            self._on_started()

    async def _started_up(self) -> None:
        for event in (self._recovered, self._replied):
            if not await self._until(event):
                return

    async def _until(self, event: asyncio.Event) -> bool:
        """Wait for `event`, or for the stop; True if `event` came."""
        waits = [asyncio.ensure_future(e.wait()) for e in (event, self._stopping)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        return event.is_set()

    async def _first_replies(self) -> None:
        """Set `_replied` once the send loop's first sends have finished (replies decided
        before the restart, or the first ones the backlog's dispatch produced)."""
        if await self._until(self._sending):
            await self.sender.wait_for_sends()
            self._replied.set()

    async def _dispatch_loop(self) -> None:
        reclaimed_at = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            await self._guarded(self.dispatcher.run_once(block_ms=500))
            if loop.time() - reclaimed_at >= WAKE_RECLAIM_EVERY_SECONDS:
                reclaimed_at = loop.time()
                await self._guarded(self.dispatcher.reclaim(self.wake_reclaim_idle_ms))
        # The last batch's acknowledgements, else another worker's reclaim drains it again.
        await self._guarded(self.dispatcher.flush(), pause=False)

    async def _archive_loop(self) -> None:
        """Archive issued invoices' PDFs: what this worker left first, then new jobs, and
        every few seconds what a dead worker left."""
        archiver = self.archiver
        if archiver is None:
            return

        async def recover_archives() -> None:
            await archiver.run_once(pending=True)

        await self._recovery(recover_archives)
        next_reclaim = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            await self._guarded(archiver.run_once(block_ms=500))
            if loop.time() >= next_reclaim:
                next_reclaim = loop.time() + RECLAIM_EVERY_SECONDS
                await self._guarded(archiver.reclaim())

    async def _campaign_loop(self) -> None:
        """Enqueue running campaigns (each under its own lease, so workers share them)."""
        while not self._stopping.is_set():
            await self._guarded(self.campaigns.run_all())
            await self._pause(PERIODIC_TICK_SECONDS)

    async def _send_loop(self) -> None:
        """Read and start sends without waiting for earlier ones: a slow channel's backlog
        waits for its own slots while another channel's reply leaves at once (issue 7)."""
        next_reclaim = 0.0
        try:
            while not self._stopping.is_set():
                await self._guarded(self._send_step())
                next_reclaim = await self._reclaim_orphans(next_reclaim)
        finally:
            await self.sender.stop_sends()

    async def _send_step(self) -> None:
        started = await self.sender.start_sends(block_ms=500)
        if started:
            self._sending.set()
        elif not self._sending.is_set():
            self._replied.set()  # nothing waited to be sent: no first reply to wait for

    async def _reclaim_orphans(self, due: float) -> float:
        """Every few seconds, take over what dead senders left; returns when to do it again."""
        now = asyncio.get_running_loop().time()
        if now < due:
            return due
        await self._guarded(self.sender.reclaim_in_background(RECLAIM_IDLE_MS))
        return now + RECLAIM_EVERY_SECONDS

    async def _periodic_loop(self) -> None:
        while not self._stopping.is_set():
            await self._guarded(self.periodic_once())
            await self._pause(PERIODIC_TICK_SECONDS)

    async def periodic_once(self) -> bool:
        """One tick of periodic work, if this worker holds the lease; False if another does."""
        ran = await self.lease.run(self._periodic_work)
        if ran:
            self._ticks += 1
        return ran

    async def _periodic_work(self) -> None:
        steps: list[Callable[[], Awaitable[object]]] = [
            self.sender.move_due_retries,
            self.release_scheduled,
            self.merchant_webhooks.run_once,
        ]
        if self._ticks % SWEEP_EVERY_TICKS == 0:
            steps.append(self.dispatcher.sweep)  # the send loop reclaims dead senders' messages
            steps.append(self.announce_issued)  # creates whose API process died mid-way
        for step in steps:  # one failing step does not skip the others
            await self._guarded(step(), pause=False)

    async def _slow_periodic_loop(self) -> None:
        while not self._stopping.is_set():
            await self._guarded(self.slow_periodic_once())
            await self._pause(PERIODIC_TICK_SECONDS)

    async def slow_periodic_once(self) -> bool:
        """One tick of the slow sweeps (Stripe, retention), if this worker holds their lease."""
        ran = await self.slow_lease.run(self._slow_periodic_work)
        if ran:
            self._slow_ticks += 1
        return ran

    async def _slow_periodic_work(self) -> None:
        if self._slow_ticks % RECONCILE_EVERY_TICKS == 0:
            await self._guarded(self.reconcile(), pause=False)
        if self._slow_ticks % HOUSEKEEP_EVERY_TICKS == 0:
            await self._guarded(self.housekeep(), pause=False)

    async def _guarded(self, work: Awaitable[object], *, pause: bool = True) -> bool:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            # A Redis blip or a provider bug must not kill the loop; back off a little.
            log.exception("worker step failed")
            if pause:
                await self._pause(1.0)
            return False
        return True

    async def _pause(self, seconds: float) -> None:
        """Wait, but wake at once when stopping."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
