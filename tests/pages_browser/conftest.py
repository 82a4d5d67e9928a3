"""Browser tests of the customer's pages: Playwright driving Debian's Chromium.

Playwright cannot download its own browsers here, so the tests use the system Chromium
(`FACTO_CHROMIUM`, default /usr/bin/chromium) and are skipped, saying why, without it.
Kept apart from `tests/browser/` (the agent console's) so each has its own fixtures.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from tests.scenario.harness import Facto, start_facto

CHROMIUM = Path(os.environ.get("FACTO_CHROMIUM", "/usr/bin/chromium"))
HAS_CHROMIUM = CHROMIUM.is_file()  # read once, at collection, not inside the event loop
WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # 10:00 in Paris
PHONES = [pytest.param(320, id="320px"), pytest.param(390, id="390px")]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not HAS_CHROMIUM:
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install chromium, or set FACTO_CHROMIUM")
    playwright_api = pytest.importorskip(
        "playwright.async_api", reason="playwright is a dev extra: pip install -e '.[dev]'"
    )
    async with playwright_api.async_playwright() as playwright:
        # --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=WEDNESDAY)
    await app.add_merchant()
    yield app
    await app.client.close()
