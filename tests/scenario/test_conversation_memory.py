"""Redis bytes of an idle conversation (issue 12: ≤ 2 KB), measured with MEMORY USAGE in the
real Redis the tests start, after the exchange `bench/run.py` measures (an invoice issued
through the API, ten customer messages in the worker rounds and one more in the round-trip
count, each answered) and the worker's hourly housekeeping, which folds an idle conversation's
live turns into its compressed archive."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from bot.engine.retention import RetentionPolicy, housekeep
from bot.store import keys
from bot.store.conversations import transcript
from tests.scenario.harness import Facto, invoice_body

BUDGET = 2048
TEXTS = ("bonjour", "il reste combien ?", "merci", "aide")


async def conversation_bytes(redis: aioredis.Redis, conversation: str) -> dict[str, int]:
    """MEMORY USAGE of every key carrying the conversation's hash tag, by key."""
    sizes = {}
    async for key in redis.scan_iter(match=f"*{{{conversation}}}*", count=1000):
        sizes[key] = int(await redis.memory_usage(key, samples=0) or 0)
    return sizes


async def exchange(facto: Facto, channel: str, address: str, messages: int = 11) -> None:
    await facto.issue(invoice_body(channel, address))
    for n in range(messages):
        await facto.customer_says(channel, address, TEXTS[n % len(TEXTS)])


async def test_an_idle_conversation_holds_at_most_2_kb(facto: Facto) -> None:
    for channel, address in (("sms", "+33611000001"), ("telegram", "8000000002")):
        await exchange(facto, channel, address)
        conversation = f"{channel}:{address}"
        await housekeep(facto.redis, facto.clock.now(), RetentionPolicy())
        sizes = await conversation_bytes(facto.redis, conversation)
        assert sum(sizes.values()) <= BUDGET, sizes
        said = await transcript(facto.redis, conversation)
        assert len(said) == 23  # the invoice, then each message and its answer, all kept
        assert [e["dir"] for e in said[:3]] == ["out", "in", "out"]
        assert said[1]["text"] == "bonjour"
        assert said[-1]["ref"] == f"{said[-2]['ref']}:0"


async def test_housekeeping_folds_what_an_idle_conversation_left_live(facto: Facto) -> None:
    await exchange(facto, "sms", "+33611000003", messages=3)
    conversation = "sms:+33611000003"
    before = await transcript(facto.redis, conversation)
    assert await facto.redis.llen(keys.conv_log(conversation))
    await housekeep(facto.redis, facto.clock.now(), RetentionPolicy())
    assert not await facto.redis.exists(keys.conv_log(conversation))
    assert await transcript(facto.redis, conversation) == before


async def test_a_conversation_stored_by_the_previous_version_carries_on(facto: Facto) -> None:
    """Full state JSON, entries as JSON objects, one key per dedupe marker: all still read,
    and the conversation continues in the compact form."""
    await facto.issue(invoice_body("sms", "+33611000004"))
    conversation = "sms:+33611000004"
    state = json.loads(await facto.redis.get(keys.conv_state(conversation)))
    full: dict[str, object] = {
        "merchant_id": None,
        "invoice_id": None,
        "locale": None,
        "choices": [],
        "unknown_streak": 0,
        "status": "bot",
        "step": "menu",
        "proposed_parts": None,
        "agent_id": None,
        "agent_name": None,
        "agent_seen": None,
        "candidates": [],
        "pending": None,
    }
    await facto.redis.set(keys.conv_state(conversation), json.dumps({**full, **state}))
    said = await transcript(facto.redis, conversation)
    legacy = [json.dumps(e) for e in said]
    await facto.redis.delete(keys.conv_log(conversation), keys.conv_log_archive(conversation))
    await facto.redis.rpush(keys.conv_log(conversation), *legacy)
    for n in range(3):
        await facto.customer_says("sms", "+33611000004", TEXTS[n])
    after = await transcript(facto.redis, conversation)
    assert after[: len(said)] == said
    assert [e["text"] for e in after[len(said) :] if e["dir"] == "in"] == list(TEXTS[:3])
    # Still about its invoice (85,80 €): the state written in full was read.
    assert any("85,80" in e["text"] for e in after[len(said) :] if e["dir"] == "out")
    assert not (await facto.redis.get(keys.conv_state(conversation)) or "").count("null")
