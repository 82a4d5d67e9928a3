"""`python -m bot dead-letters list|replay|drop`: what operators see and do with parked events."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.cli import main
from bot.clock import FakeClock
from bot.embedded_redis import EmbeddedRedis
from bot.engine.pipeline import Dispatcher, Event, ingest
from bot.store import keys

CONV = "sms:+33612345678"


@pytest.fixture(autouse=True)
def operator_env(monkeypatch: pytest.MonkeyPatch, redis_server: EmbeddedRedis) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    # The CLI installs its JSON log handler on the root logger; keep pytest's instead.
    monkeypatch.setattr("bot.runtime.configure_logging", lambda *_args, **_kw: None)


class Flaky:
    """Fails on event 1 until fixed, like a bug fixed by a deploy."""

    def __init__(self) -> None:
        self.fixed = False
        self.handled: list[int] = []

    async def __call__(self, redis: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if ev.data["n"] == 1 and not self.fixed:
            raise ValueError("cannot read +33612345678's message")
        self.handled.append(ev.data["n"])


def run(redis_server: EmbeddedRedis, work: Any) -> Any:
    async def with_client() -> Any:
        client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(with_client())


def park_one(redis_server: EmbeddedRedis, handler: Flaky) -> None:
    async def work(client: aioredis.Redis) -> None:
        await client.flushdb()
        for n in (1, 2):
            await ingest(
                client, Event(id=f"sms:SM{n}", type="inbound", conversation=CONV, data={"n": n})
            )
        await Dispatcher(client, handler, "w", clock=FakeClock()).drain(CONV)

    run(redis_server, work)


def listed(capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    assert main(["dead-letters", "list", "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_list_shows_id_type_masked_conversation_error_and_time(
    redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    park_one(redis_server, Flaky())
    [letter] = listed(capsys)
    assert letter["type"] == "inbound"
    assert letter["conversation"] == "sms:+33•••••••78"
    assert letter["error"] == "ValueError: cannot read +33•••••••78's message"
    assert letter["at"] == FakeClock().now().isoformat()
    assert "+33612345678" not in json.dumps(letter)
    assert main(["dead-letters", "list"]) == 0
    assert letter["id"] in capsys.readouterr().out


def test_replay_puts_the_event_back_at_the_head_once(
    redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = Flaky()
    park_one(redis_server, handler)
    [letter] = listed(capsys)

    async def newer_message(client: aioredis.Redis) -> None:
        await ingest(client, Event(id="sms:SM3", type="inbound", conversation=CONV, data={"n": 3}))

    run(redis_server, newer_message)
    assert main(["dead-letters", "replay", letter["id"]]) == 0
    assert main(["dead-letters", "replay", letter["id"]]) == 1  # already replayed: no-op
    assert "already replayed" in capsys.readouterr().out

    async def inbox(client: aioredis.Redis) -> list[int]:
        raw = await client.lrange(keys.conv_inbox(CONV), 0, -1)
        return [Event.loads(r).data["n"] for r in raw]

    assert run(redis_server, inbox) == [1, 3]  # at the head, before what came since
    handler.fixed = True

    async def dispatch(client: aioredis.Redis) -> int:
        return await Dispatcher(client, handler, "w", clock=FakeClock()).sweep()

    assert run(redis_server, dispatch) == 2
    assert handler.handled == [2, 1, 3]
    assert listed(capsys) == []


def test_drop_forgets_one(redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str]) -> None:
    park_one(redis_server, Flaky())
    [letter] = listed(capsys)
    assert main(["dead-letters", "drop", letter["id"]]) == 0
    assert main(["dead-letters", "drop", letter["id"]]) == 1
    capsys.readouterr()
    assert listed(capsys) == []

    async def inbox_length(client: aioredis.Redis) -> int:
        return int(await client.llen(keys.conv_inbox(CONV)))

    assert run(redis_server, inbox_length) == 0


def test_replay_waits_for_the_dispatcher_holding_the_conversation(
    redis_server: EmbeddedRedis, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the lock holder changes an inbox's head; a replay meanwhile is refused."""
    park_one(redis_server, Flaky())
    [letter] = listed(capsys)

    async def hold_lock(client: aioredis.Redis) -> None:
        await client.set(keys.conv_lock(CONV), "another-worker")

    run(redis_server, hold_lock)

    from bot.engine import deadletters

    async def replay(client: aioredis.Redis) -> None:
        found = await deadletters.find(client, letter["id"])
        assert found is not None
        with pytest.raises(TimeoutError):
            await deadletters.replay(client, found, tries=2, pause=0)

    run(redis_server, replay)
    assert [d["id"] for d in listed(capsys)] == [letter["id"]]
