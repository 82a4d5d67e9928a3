"""One message at a time through a worker's own steps, in this process: CPU per message.

    PYTHONPATH=<checkout> python bench/cpu_steps.py REDIS_URL MESSAGES CONVERSATION...

Run by bench/bench_cpu.py (`--steps`) with the environment of a running Facto (its Redis and
emulators), once per checkout. Each message is ingested, dispatched (`Dispatcher.run_once`)
and its replies sent (`Sender.run_once`) before the next: no loop timing, no batching that
depends on the machine's load, so the CPU (`time.process_time`) it takes moves with the code
far more than with the load. Prints the CPU milliseconds per message. Self-contained: it
imports only the checkout under test (PYTHONPATH), never this file's own checkout.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import time
from typing import Any

TEXTS = ("bonjour", "il reste combien ?", "merci", "aide")


def inbound_event(channel: str, address: str, text: str) -> Any:
    from bot.engine import events
    from channels.base import ChannelName, InboundKind, InboundMessage

    message = InboundMessage(
        channel=ChannelName(channel),
        address=address,
        provider_id=("SM" if channel == "sms" else "") + secrets.token_hex(8),
        kind=InboundKind.TEXT,
        text=text,
    )
    return events.encode(f"{channel}:{message.provider_id}", f"{channel}:{address}", message)


async def measure(redis_url: str, count: int, conversations: list[tuple[str, str]]) -> float:
    from bot.clock import SystemClock
    from bot.engine.pipeline import ingest
    from bot.engine.worker import Worker
    from bot.services import open_services
    from bot.settings import Settings

    async with open_services(Settings(), redis_url, SystemClock()) as services:
        worker = Worker(services)
        await worker.prepare()
        await worker.drain()  # untimed: the invoices' own messages, lazy imports, caches
        for channel, address in conversations:  # and one message of each first
            await ingest(services.redis, inbound_event(channel, address, "bonjour"))
            await step(worker)
        started = time.process_time()
        for n in range(count):
            channel, address = conversations[n % len(conversations)]
            text = TEXTS[(n // len(conversations)) % len(TEXTS)]
            await ingest(services.redis, inbound_event(channel, address, text))
            await step(worker)
        return (time.process_time() - started) / count


async def step(worker: Any) -> None:
    """Dispatch, then send, until neither finds anything."""
    while (await worker.dispatcher.run_once()) + (await worker.sender.run_once()):
        pass


def run_as_deployed(main: Any) -> float:
    """On the event loop the checkout's worker runs on (bot.eventloop, FACTO_EVENT_LOOP); a
    checkout from before that choice ran on asyncio's."""
    try:
        from bot import eventloop
        from bot.settings import Settings
    except ImportError:
        return float(asyncio.run(main))
    return float(eventloop.run(main, Settings().event_loop))


def main() -> int:
    redis_url, count, *pairs = sys.argv[1:]
    conversations = [(p.split(":", 1)[0], p.split(":", 1)[1]) for p in pairs]
    per_message = run_as_deployed(measure(redis_url, int(count), conversations))
    print(f"{per_message * 1000:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
