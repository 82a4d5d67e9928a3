"""Browser tests: Playwright (Python) driving the Debian `chromium` package.

Playwright cannot download its own browser here, so it is pointed at an installed Chromium
(`FACTO_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH). Without one these tests
are skipped, and the run says so in its summary (CI installs it: `.ci/run`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, async_playwright

from bot.embedded_redis import EmbeddedRedis
from tests.scenario.harness import Facto, start_facto

SKIP_REASON = (
    "browser tests skipped: no Chromium found "
    "(install it with `apt-get install chromium`, or set FACTO_CHROMIUM to its path)"
)


def chromium_path() -> str | None:
    configured = os.environ.get("FACTO_CHROMIUM")
    if configured:
        return configured if os.path.isfile(configured) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chromium_path() is not None:
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if "tests/browser" in str(item.path).replace(os.sep, "/"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if chromium_path() is None:
        terminalreporter.write_line(f"NOTE: {SKIP_REASON}", yellow=True, bold=True)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    assert path is not None
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def live_facto(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    """Facto on a loopback port with its worker running in the background, as in production:
    the browser sees what the worker does without the test draining by hand."""
    app = await start_facto(redis_server.url, redis)
    await app.add_merchant()

    async def work() -> None:
        while True:
            await app.drain()
            await asyncio.sleep(0.05)

    task = asyncio.create_task(work())
    yield app
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    await app.client.close()
