"""Issue 15, "Recovery" and "Periodic work under a single-runner lease", with real Workers.

Two Worker instances share one Redis (as two processes would, each with its own consumer
name); the periodic work runs under a lease, and recovery runs beside the send loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.engine import events, schedule
from bot.engine.lease import Lease
from bot.engine.pipeline import Event, ingest
from bot.engine.worker import Worker
from bot.store import keys
from bot.store.announcement_retirer import AnnouncementRetirer
from bot.web.app_keys import SENDER_ROUTES, SERVICES
from channels.base import ChannelName, InboundKind, InboundMessage
from tests.faults.conftest import eventually
from tests.scenario.harness import Facto, invoice_body, start_facto

pytestmark = pytest.mark.fault


def second_worker(facto: Facto, name: str = "worker-2") -> Worker:
    services = dataclasses.replace(facto.client.app[SERVICES], consumer_name=name)
    return Worker(services)


async def run_until_recorded(worker: Worker, recorded: list[int]) -> None:
    """Run `worker` until one of its hooks (replaced by the test) has recorded something."""
    running = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(10):
            while not recorded:  # noqa: ASYNC110 - waits for the worker's loops
                await asyncio.sleep(0.02)
    finally:
        worker.stop()
        await asyncio.wait_for(running, timeout=10)


async def due_reminder(facto: Facto, job: str) -> None:
    """A reminder due now, about an invoice the conversation does not know: it says nothing."""
    event = Event(
        id=job,
        type="reminder",
        conversation="telegram:5150",
        data={"invoice_id": "inv_unknown", "kind": "promise"},
    )
    async with facto.redis.pipeline(transaction=True) as pipe:
        schedule.schedule(pipe, job, facto.clock.now() - timedelta(minutes=1), event)
        await pipe.execute()


async def test_two_workers_never_run_the_periodic_work_at_once(facto: Facto) -> None:
    first, second = facto.worker, second_worker(facto)
    await due_reminder(facto, "promise:one")
    assert await first.periodic_once()
    assert await schedule.when(facto.redis, "promise:one") is None  # released by the first
    await due_reminder(facto, "promise:two")
    assert not await second.periodic_once()  # the first holds the lease
    assert not await second.periodic_once()
    assert await schedule.when(facto.redis, "promise:two") is not None  # nobody swept
    await first.lease.release()  # on stop, or its lease runs out after a crash
    assert await second.periodic_once()
    assert await schedule.when(facto.redis, "promise:two") is None
    assert not await first.periodic_once()


async def test_a_lease_is_held_for_the_whole_work_and_lost_work_is_cancelled(
    redis: aioredis.Redis,
) -> None:
    entered, finish = asyncio.Event(), asyncio.Event()
    cancelled: list[bool] = []

    async def slow_sweep() -> None:
        entered.set()
        try:
            await finish.wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    first = Lease(redis, keys.PERIODIC_LEASE, "a", ttl_ms=150)
    second = Lease(redis, keys.PERIODIC_LEASE, "b", ttl_ms=150)
    running = asyncio.create_task(first.run(slow_sweep))
    await entered.wait()
    ran_second: list[str] = []

    async def second_sweep() -> None:
        ran_second.append("b")

    for _ in range(4):  # over more than a lease life: renewed while the work runs
        assert not await second.run(second_sweep)
        await asyncio.sleep(0.06)
    assert ran_second == []

    # The holder froze and the lease went to another worker: it stops at its next renewal.
    await redis.set(keys.PERIODIC_LEASE, "someone-else", px=1000)
    assert await asyncio.wait_for(running, timeout=2)
    assert cancelled == [True]


async def test_replies_go_out_while_the_backlog_is_recovered(facto: Facto) -> None:
    """The invoice message waits in the outbox; 80 conversations wait for dispatch, their
    wake-ups read by a worker that died. The restarted worker sends before it has recovered."""
    await facto.post_invoice(invoice_body())
    await facto.worker.dispatcher.run_once()  # the invoice message is queued, not yet sent
    for n in range(80):
        message = InboundMessage(
            channel=ChannelName.SMS,
            address=f"+336{n:08d}",
            provider_id=f"SMbacklog{n}",
            kind=InboundKind.TEXT,
            text="bonjour",
        )
        await ingest(
            facto.redis,
            events.encode(f"sms:SMbacklog{n}", f"sms:+336{n:08d}", message),
        )
    await facto.redis.xreadgroup(
        keys.PIPELINE_GROUP, "dead-worker", {keys.PIPELINE_WAKE: ">"}, count=1000
    )

    restarted = second_worker(facto, "restarted")
    running = asyncio.create_task(restarted.run())
    try:
        await eventually(lambda: facto.messages("telegram", "424242"))
        backlog_left = await facto.redis.scard(keys.PIPELINE_PENDING)

        async def recovered() -> bool:
            return not await facto.redis.scard(keys.PIPELINE_PENDING)

        await eventually(recovered, within=30)
    finally:
        restarted.stop()
        await asyncio.wait_for(running, timeout=10)
    assert backlog_left > 0  # the invoice went out before the backlog was dispatched


async def test_the_background_loops_start_once_the_first_replies_are_out(facto: Facto) -> None:
    """Issue 12: a PDF to archive (its renderer's import blocks the event loop for a second),
    a Stripe sweep or a campaign batch at start would share the first second with the first
    replies; they wait until the sends the restarted worker started first have finished."""
    await facto.post_invoice(invoice_body())
    await facto.worker.dispatcher.run_once()  # the invoice message is queued, not yet sent
    restarted = second_worker(facto, "restarted")
    sent_when_started: list[int] = []

    async def campaigns() -> None:
        sent_when_started.append(len(await facto.messages("telegram", "424242")))

    restarted._campaign_loop = campaigns  # type: ignore[method-assign]
    await run_until_recorded(restarted, sent_when_started)
    assert sent_when_started == [1]


async def test_the_collector_settles_after_the_first_replies_not_before(facto: Facto) -> None:
    """Issue 12: `python -m bot worker` settles the garbage collector (a full collection, a
    tenth of a second) through `on_started`; called before the first replies, the first
    reply after a restart waited for it."""
    await facto.post_invoice(invoice_body())
    await facto.worker.dispatcher.run_once()  # the invoice message is queued, not yet sent
    sent_when_settled: list[int] = []

    def settle() -> None:
        sent_when_settled.append(len(facto.sandbox.bot_messages(ChannelName.TELEGRAM, "424242")))

    services = dataclasses.replace(facto.client.app[SERVICES], consumer_name="restarted")
    restarted = Worker(services, on_started=settle)
    await run_until_recorded(restarted, sent_when_settled)
    assert sent_when_settled == [1]


async def test_a_worker_with_nothing_to_send_starts_its_background_loops(facto: Facto) -> None:
    restarted = second_worker(facto, "restarted")
    started = asyncio.Event()

    async def campaigns() -> None:
        started.set()

    restarted._campaign_loop = campaigns  # type: ignore[method-assign]
    running = asyncio.create_task(restarted.run())
    try:
        await asyncio.wait_for(started.wait(), timeout=5)  # well before START_GRACE_SECONDS
    finally:
        restarted.stop()
        await asyncio.wait_for(running, timeout=10)


async def test_slow_sweeps_have_their_own_lease_apart_from_retries_and_reminders(
    facto: Facto,
) -> None:
    """Found in review: the Stripe sweep and housekeeping ran inside the tick that moves
    retries and releases reminders, which then waited for the whole sweep."""
    first, second = facto.worker, second_worker(facto)
    assert await second.slow_lease.hold()  # another worker is in the middle of a Stripe sweep

    await due_reminder(facto, "promise:during-sweep")
    assert await first.periodic_once()  # retries and reminders do not wait for it
    assert await schedule.when(facto.redis, "promise:during-sweep") is None
    assert not await first.slow_periodic_once()

    await second.slow_lease.release()
    assert await first.slow_periodic_once()


async def test_sends_left_by_the_previous_run_leave_before_the_backlog_is_dispatched(
    facto: Facto,
) -> None:
    """Issue 12: after a restart with a backlog, the reply the previous run had read but not
    sent leaves while the backlog is being dispatched, not after the whole sweep (and not 10 s
    later through the orphan reclaim). Counted when the sweep ends, not timed."""
    await facto.post_invoice(invoice_body())
    await facto.worker.dispatcher.run_once()  # the invoice message is queued, not yet sent
    for n in range(120):
        message = InboundMessage(
            channel=ChannelName.SMS,
            address=f"+336{n:08d}",
            provider_id=f"SMbacklog{n}",
            kind=InboundKind.TEXT,
            text="bonjour",
        )
        event = events.encode(f"sms:SMbacklog{n}", f"sms:+336{n:08d}", message)
        await ingest(facto.redis, event)
    await facto.redis.xreadgroup(
        keys.PIPELINE_GROUP, "dead-worker", {keys.PIPELINE_WAKE: ">"}, count=1000
    )
    # The previous run of this worker (same consumer name) read the invoice message, then died.
    telegram = keys.outbox_stream("telegram")
    await facto.redis.xreadgroup(keys.OUTBOX_GROUP, "restarted", {telegram: ">"})

    restarted = second_worker(facto, "restarted")
    sweep = restarted.dispatcher.sweep
    sent_when_swept: list[int] = []

    async def counted_sweep() -> int:
        done = await sweep()
        sent_when_swept.append(facto.sandbox.send_requests[ChannelName.TELEGRAM])
        return done

    restarted.dispatcher.sweep = counted_sweep  # type: ignore[method-assign]
    running = asyncio.create_task(restarted.run())
    try:

        async def recovered() -> bool:
            return not await facto.redis.scard(keys.PIPELINE_PENDING) and bool(sent_when_swept)

        await eventually(recovered, within=30)
    finally:
        restarted.stop()
        await asyncio.wait_for(running, timeout=10)
    assert sent_when_swept[0] == 1  # the invoice went out before the backlog was dispatched
    assert len(await facto.messages("telegram", "424242")) == 1


async def test_the_background_loops_wait_for_the_backlog_at_start(facto: Facto) -> None:
    """Issue 12: a restarted worker spends its first moments on the backlog and its replies;
    the periodic sweep (which would repeat the recovery's), the Stripe sweep and housekeeping,
    campaigns and PDFs start once the dispatch recovery is done. Order, not time."""
    for n in range(40):
        message = InboundMessage(
            channel=ChannelName.SMS,
            address=f"+336{n:08d}",
            provider_id=f"SMwait{n}",
            kind=InboundKind.TEXT,
            text="bonjour",
        )
        await ingest(facto.redis, events.encode(f"sms:SMwait{n}", f"sms:+336{n:08d}", message))
    restarted = second_worker(facto, "restarted")
    order: list[str] = []
    recover = restarted.recover_dispatch

    async def recover_dispatch() -> None:
        await recover()
        order.append("backlog recovered")

    def noted(name: str) -> object:
        async def step() -> bool:
            order.append(name)
            return True

        return step

    restarted.recover_dispatch = recover_dispatch  # type: ignore[method-assign]
    restarted.periodic_once = noted("periodic")  # type: ignore[assignment,method-assign]
    restarted.slow_periodic_once = noted("slow")  # type: ignore[assignment,method-assign]
    restarted.campaigns.run_all = noted("campaigns")  # type: ignore[assignment,method-assign]
    running = asyncio.create_task(restarted.run())
    try:

        async def all_started() -> bool:
            return {"periodic", "slow", "campaigns"} <= set(order)

        await eventually(all_started, within=30)
    finally:
        restarted.stop()
        await asyncio.wait_for(running, timeout=10)
    assert order[0] == "backlog recovered"
    assert not await facto.redis.scard(keys.PIPELINE_PENDING)


async def test_a_stopped_worker_leaves_no_announcement_removal_behind(
    facto: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker issues invoices too (a flash sale's paid order): the removal of their carried-
    out announcements is deferred (its Services.retirer). Once `run` returns it must be
    done, not left to a timer that would reopen Redis after the services are closed."""
    monkeypatch.setattr(AnnouncementRetirer, "RETIRE_AFTER", 3600.0)  # never by the timer here
    worker = second_worker(facto, "stopping")
    redis, retirer = worker.services.redis, worker.services.retirer
    announcements = keys.merchant_announcements("m_stop")
    await redis.hset(announcements, "inv_stop", "{}")
    running = asyncio.create_task(worker.run())
    retirer.retire("m_stop", "inv_stop")  # as `issuing._announce_own` does
    worker.stop()
    await asyncio.wait_for(running, timeout=10)
    assert retirer.timer is None and retirer.task is None
    assert not await facto.redis.hexists(announcements, "inv_stop")


async def test_a_closed_web_process_leaves_no_announcement_removal_behind(
    redis_server: EmbeddedRedis, redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web process's retirer is its Services' (bot.services.open_services): closing the
    services waits for its removals before closing Redis, whatever the timer says."""
    monkeypatch.setattr(AnnouncementRetirer, "RETIRE_AFTER", 3600.0)  # never by the timer here
    web = await start_facto(redis_server.url, redis, prepare_worker=False)
    routes = web.client.app[SENDER_ROUTES]

    async def serving() -> bool:  # as a process that served: one closed sooner may hang
        # in SenderRoutes.listen, retirer or not (seen on main too; not this test's subject)
        return bool(routes.listening)

    await eventually(serving)
    retirer = web.client.app[SERVICES].retirer
    announcements = keys.merchant_announcements("m_closed")
    await redis.hset(announcements, "inv_closed", "{}")
    retirer.retire("m_closed", "inv_closed")  # as `issuing._announce_own` does
    await web.client.close()
    assert retirer.timer is None and retirer.task is None
    assert not await redis.hexists(announcements, "inv_closed")
