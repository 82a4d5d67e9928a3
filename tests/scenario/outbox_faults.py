"""Helpers for the outbox fault tests: a slow or failing provider, a second sender, counts."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from bot.engine import outbox
from bot.engine.outbox import Sender, SendPolicy
from bot.web.app_keys import SERVICES
from tests.scenario.harness import Facto, invoice_body


async def add_fault(facto: Facto, channel: str, **fault: Any) -> None:
    response = await facto.client.post("/sandbox/api/faults", json={"channel": channel, **fault})
    assert response.status == 201, await response.text()


async def clear_faults(facto: Facto) -> None:
    response = await facto.client.delete("/sandbox/api/faults")
    assert response.status == 200


async def send_requests(facto: Facto, channel: str) -> int:
    response = await facto.client.get("/sandbox/api/send-requests")
    counts: dict[str, int] = await response.json()
    return counts[channel]


def sender(facto: Facto, consumer: str, **policy: Any) -> Sender:
    """Another sender on the same Redis, provider adapters and clock (a second worker)."""
    services = facto.client.app[SERVICES]
    return Sender(
        services.redis, services.adapters, services.clock, consumer, policy=SendPolicy(**policy)
    )


async def queue_invoices(facto: Facto, chats: list[int]) -> None:
    """Issue one invoice per Telegram chat and dispatch them: their messages wait in the outbox."""
    for chat in chats:
        response = await facto.post_invoice(invoice_body("telegram", chat))
        assert response.status == 201, await response.text()
        # One by one: the worker dispatches conversations side by side, and these tests
        # count on the outbox stream holding the messages in the order of `chats`.
        while await facto.worker.dispatcher.run_once():
            pass


async def received(facto: Facto, channel: str, addresses: list[str]) -> Counter[str]:
    """How many messages each address got at the emulator."""
    counts: Counter[str] = Counter()
    for address in addresses:
        counts[address] = len(await facto.messages(channel, address))
    return counts


async def wait_for_state(facto: Facto, key: str, state: str, limit: float = 5.0) -> None:
    """Poll the outbox record until it reaches `state` (loopback, well under a second)."""
    for _ in range(int(limit / 0.005)):
        record = await outbox.load(facto.redis, key)
        if record is not None and record.state.value == state:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{key} never reached {state}")
