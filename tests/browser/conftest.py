"""Browser tests: Playwright (Python) driving the Debian `chromium` package.

Playwright cannot download its own browser here, so it is pointed at an installed Chromium
(`FACTO_CHROMIUM`, else `chromium` or `chromium-browser` on the PATH). Without one these tests
are skipped, and the run says so in its summary (CI installs it: `.ci/run`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import Browser, async_playwright

from bot.embedded_redis import EmbeddedRedis
from tests.scenario.harness import Facto, start_facto

TEARDOWN_SECONDS = 60
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
        await bounded(launched.close(), "closing Chromium")


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
    await bounded(asyncio.wait({task}), "stopping the background worker")
    await bounded(app.client.close(), "stopping the server")


async def bounded(step: Awaitable[object], what: str) -> None:
    """A teardown step that may not hang the run: one suite run hung for good in a browser
    test's teardown (a stuck Chromium close or a handler that outlived its page); past the
    bound the step is abandoned, loudly, and the next test starts clean."""
    try:
        await asyncio.wait_for(step, TEARDOWN_SECONDS)
    except TimeoutError:
        sys.stderr.write(f"browser test teardown: {what} took over {TEARDOWN_SECONDS} s\n")
