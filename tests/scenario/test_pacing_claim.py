"""A sender that waits for the rate limiter keeps its claim: a second sender reclaiming the
wake-up after longer than the claim's lifetime finds it held, and the message goes out once."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.outbox import Sender, SendPolicy
from bot.web.app_keys import SERVICES
from tests.scenario.harness import Facto
from tests.scenario.outbox_faults import queue_invoices, received, send_requests, sender


class SlowThenGo:
    """A busy sender's limiter: 'wait 1.9 s' nine times (17 s in all), then 'go'."""

    def __init__(self, on_go: Any) -> None:
        self.calls = 0
        self.on_go = on_go

    async def acquire(self, message: Any, *, marketing: bool) -> float:
        self.calls += 1
        if self.calls <= 9:
            return 1.9
        await self.on_go()
        return 0.0


@pytest.mark.fault
async def test_paced_sender_keeps_its_claim_and_the_message_goes_once(facto: Facto) -> None:
    await queue_invoices(facto, [777001])
    services = facto.client.app[SERVICES]
    second = sender(facto, "second-worker")

    async def second_worker_steps_in() -> None:
        # 17 s have passed on the clock, more than a claim's 15 s: renewed while pacing.
        await second.reclaim(min_idle_ms=0)
        await second.run_once()

    first = Sender(
        services.redis,
        services.adapters,
        services.clock,
        "first-worker",
        policy=SendPolicy(),
        pacer=SlowThenGo(second_worker_steps_in),  # type: ignore[arg-type]
    )
    await first.run_once()
    assert await send_requests(facto, "telegram") == 1
    assert await received(facto, "telegram", ["777001"]) == {"777001": 1}
