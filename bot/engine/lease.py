"""A single-runner lease: at most one worker at a time does a piece of periodic work.

`SET NX PX` with a token per holder, renewed while the work runs and compared before release,
so a worker that stalls past the lease's life loses it (its work is cancelled when it notices)
and a dead worker's lease frees itself.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

log = logging.getLogger(__name__)

# Take the key, or extend it if it is still ours. 0: another holder has it. Shared with the
# conversation lock of the pipeline (bot.engine.pipeline).
TAKE_OR_EXTEND = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

RELEASE_IF_OURS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease:
    def __init__(self, redis: aioredis.Redis, key: str, holder: str, ttl_ms: int) -> None:
        self._redis = redis
        self._key = key
        self._token = f"{holder}:{secrets.token_hex(4)}"
        self.ttl_ms = ttl_ms

    async def hold(self) -> bool:
        """Take the lease or extend it if ours; False while another worker holds it."""
        return bool(
            await self._redis.eval(TAKE_OR_EXTEND, 1, self._key, self._token, str(self.ttl_ms))
        )

    async def release(self) -> None:
        await self._redis.eval(RELEASE_IF_OURS, 1, self._key, self._token)

    async def run(self, work: Callable[[], Awaitable[None]]) -> bool:
        """Run `work` under the lease, renewing it every third of its life; False (and
        nothing run) if another worker holds it. Lost meanwhile: `work` is cancelled."""
        if not await self.hold():
            return False
        task = asyncio.ensure_future(work())
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.ttl_ms / 3000)
                if done:
                    break
                if not await self.hold():
                    log.warning("periodic lease lost; work cancelled")
                    task.cancel()
                    break
        finally:
            if not task.done():
                task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            if not task.cancelled():
                raise
        return True
