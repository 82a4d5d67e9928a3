"""Pacing through the real outbox and the Telegram emulator."""

from __future__ import annotations

from bot.store import keys
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_outbox import fail_next


async def test_a_429_pauses_the_whole_bot_not_only_its_message(facto: Facto) -> None:
    await fail_next(facto, "telegram", 429, retry_after=20)
    await facto.issue(invoice_body("telegram", 1111))  # meets the 429
    await facto.issue(invoice_body("telegram", 2222))  # another chat: the bot is paused
    assert await facto.messages("telegram", "1111") == []
    assert await facto.messages("telegram", "2222") == []
    paused = [k async for k in facto.redis.scan_iter(match=keys.pacing("telegram", "*") + "*")]
    assert any(k.endswith(":paused") for k in paused)
    facto.clock.advance(21)
    await facto.drain()
    assert len(await facto.messages("telegram", "1111")) == 1
    assert len(await facto.messages("telegram", "2222")) == 1


async def test_two_messages_to_one_chat_leave_a_second_apart(facto: Facto) -> None:
    before = facto.clock.now()
    await facto.issue(invoice_body("telegram", 3333))
    await facto.customer_says("telegram", "3333", "aide")
    said = await facto.messages("telegram", "3333")
    assert len(said) >= 2
    # The fake clock moved by the pacer's waits: at least a second per message after the first.
    assert (facto.clock.now() - before).total_seconds() >= len(said) - 1
