"""Issue 15, "Recovery": real worker processes, killed with SIGKILL, started before Redis.

These run `python -m bot worker` as a subprocess against the test's redis-server, so they take
real seconds; they are the slowest fault tests. Sends go nowhere (a closed port) and are
retried: only dispatch is under test here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis, find_redis_server, free_port
from bot.engine import events
from bot.engine.pipeline import Event, ingest
from bot.store import keys
from bot.store.conversations import transcript
from channels.base import ChannelName, InboundKind, InboundMessage
from tests.faults.conftest import eventually

pytestmark = pytest.mark.fault

CONV = "sms:+33611112222"
LOCK_MS = 1000


NOWHERE = f"http://127.0.0.1:{free_port()}"


class WorkerProcess:
    """`python -m bot worker` with its stderr (JSON log lines) kept in a file."""

    def __init__(self, redis_url: str, log: Path) -> None:
        env = {
            **os.environ,
            "FACTO_SANDBOX": "1",
            "REDIS_URL": redis_url,
            "PUBLIC_BASE_URL": NOWHERE,
            "FACTO_DISPATCH_LOCK_MS": str(LOCK_MS),
            "LOG_LEVEL": "INFO",
        }
        self.log = log
        self._stderr = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            cwd=log.parent,  # no stray .env
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)  # a clean stop takes about one loop turn
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def start_redis_on(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [find_redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def inbound(n: int) -> Event:
    message = InboundMessage(
        channel=ChannelName.SMS,
        address="+33611112222",
        provider_id=f"SMkill{n}",
        kind=InboundKind.TEXT,
        text="bonjour",
    )
    return events.encode(f"sms:SMkill{n}", CONV, message)


async def test_a_killed_worker_s_conversation_is_finished_by_another_once(
    redis: aioredis.Redis,
    redis_server: EmbeddedRedis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    total = 120
    for n in range(total):
        await ingest(redis, inbound(n))
    first = WorkerProcess(redis_server.url, tmp_path / "first.log")
    workers.append(first)

    async def dispatching() -> bool:
        return int(await redis.llen(keys.conv_inbox(CONV))) < total - 3

    await eventually(dispatching, within=30)
    # The loop a deployed worker runs on is the default one (bot.eventloop), not a test's.
    assert first.logged('"event": "worker started", "loop": "uvloop"')
    first.kill()  # mid-dispatch: it holds the conversation's lock and unread wake-ups
    left = int(await redis.llen(keys.conv_inbox(CONV)))
    assert 0 < left < total

    second = WorkerProcess(redis_server.url, tmp_path / "second.log")
    workers.append(second)

    async def finished() -> bool:
        pending = await redis.xpending(keys.PIPELINE_WAKE, keys.PIPELINE_GROUP)
        return (
            await redis.llen(keys.conv_inbox(CONV)) == 0
            and not await redis.sismember(keys.PIPELINE_PENDING, CONV)
            and pending["pending"] == 0  # the dead worker's wake-ups were reclaimed
        )

    # A bound so that a recovery that never comes fails the test instead of hanging it; how
    # fast recovery is (lock life + reclaim + start-up) is measured by bench/chaos.py, not
    # asserted on wall time here: a busy machine must not fail this test.
    await eventually(finished, within=60)

    said = [e["ref"] for e in await transcript(redis, CONV) if e["dir"] == "in"]
    assert sorted(said) == sorted(inbound(n).id for n in range(total))  # each exactly once


async def test_a_worker_started_before_redis_waits_for_it(
    workers: list[WorkerProcess], tmp_path: Path
) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    worker = WorkerProcess(url, tmp_path / "worker.log")
    workers.append(worker)

    async def waiting() -> bool:
        return worker.logged("waiting for redis")

    await eventually(waiting, within=30)
    assert worker.proc.poll() is None  # still running, not exited

    server = start_redis_on(port)
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:

        async def answers() -> bool:
            try:
                return bool(await client.ping())
            except (OSError, aioredis.ConnectionError):
                return False

        await eventually(answers)
        await ingest(client, inbound(1))

        async def dispatched() -> bool:
            return not await client.llen(keys.conv_inbox(CONV)) and bool(
                await client.exists(keys.outbox_message("sms:SMkill1:0"))
            )

        await eventually(dispatched, within=30)
        assert worker.proc.poll() is None
    finally:
        await client.aclose()
        worker.stop()
        server.terminate()
        server.wait(timeout=10)
