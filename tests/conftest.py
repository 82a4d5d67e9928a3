"""Shared fixtures: a throwaway redis-server per test session, a clean database per test."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, settings

from bot.embedded_redis import EmbeddedRedis

if TYPE_CHECKING:
    from tests.scenario.harness import Facto

# CI runs on a busy 2-core machine: no per-example deadline, no "too slow" health checks, and
# the same examples on every run (derandomize, no example database), so a red CI is a real
# failure that replays identically on a laptop with `CI=true`. HYPOTHESIS_PROFILE overrides.
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() == "true" else "default")
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fault: kills, stops, freezes or resets a real process (run alone: -m fault)"
    )


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
async def redis(redis_server: EmbeddedRedis) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def facto(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    """Facto (web app, sandbox providers and a worker) on the session's Redis, with one
    merchant. Imported here, not at the top: most tests never start the app."""
    from tests.scenario.harness import start_facto

    app = await start_facto(redis_server.url, redis)
    await app.add_merchant()
    yield app
    await app.client.close()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A throwaway redis-server a fault test may stop, kill, freeze and restart (the session's
    server stays untouched)."""
    server = EmbeddedRedis(str(tmp_path / "redis"), appendfsync="always")
    server.start()
    yield server
    if server.pid is not None:
        os.kill(server.pid, signal.SIGCONT)  # a test that froze it may have failed midway
    server.stop()


BROWSER_FOLDERS = ("tests/browser/", "tests/pages_browser/")
UNDER_FAKETIME = "FAKETIME" in os.environ  # set by the `faketime` command


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Chromium started under libfaketime (CI's second pass, at a far date) hangs before its
    first page, so the browser tests run in CI's first pass only; every other test runs in
    both. Their dates come from the injected clock, like the rest of the suite."""
    if not UNDER_FAKETIME:
        return
    skip = pytest.mark.skip(reason="browser tests do not run under faketime (Chromium hangs)")
    for item in items:
        if any(folder in str(item.path).replace(os.sep, "/") for folder in BROWSER_FOLDERS):
            item.add_marker(skip)
