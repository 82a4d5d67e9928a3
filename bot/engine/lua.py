"""Lua scripts called by their SHA: the text crosses the network once per Redis start.

`EVALSHA` answers NOSCRIPT after a Redis restart (or a failover to a replica that never saw
the script): the script is loaded again and the call repeated. In a pipeline the whole
pipeline is repeated, so callers pipeline only steps that are safe to run twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

T = TypeVar("T")


class Lua:
    def __init__(self, text: str) -> None:
        self.text = text
        self.sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    async def __call__(
        self, redis: aioredis.Redis, keys: Sequence[str], args: Sequence[str | int | float] = ()
    ) -> object:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.text)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)

    def queue(
        self,
        pipe: aioredis.client.Pipeline,
        keys: Sequence[str],
        args: Sequence[str | int | float] = (),
    ) -> None:
        """Queue the call on `pipe`; run the pipeline through `retried`."""
        pipe.evalsha(self.sha, len(keys), *keys, *args)

    async def retried(self, redis: aioredis.Redis, run: Callable[[], Awaitable[T]]) -> T:
        """Run a pipeline that calls this script; once more after loading it if Redis had
        forgotten it."""
        try:
            return await run()
        except NoScriptError:
            await redis.script_load(self.text)
            return await run()


def pcall_writes(first: int) -> str:
    """Lua that runs the writes packed in ARGV from index `first` on (each: its argument count,
    then its arguments), each under pcall so that one Redis refuses (a bug: a wrong type) does
    not stop the others, as inside EXEC; their errors go to the caller's table `refused`."""
    return f"""local i = {first}
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  local reply = redis.pcall(unpack(ARGV, i + 1, i + n))
  if type(reply) == 'table' and reply['err'] then refused[#refused + 1] = reply['err'] end
  i = i + n + 1
end
"""


async def retried_all(
    redis: aioredis.Redis, scripts: Sequence[Lua], run: Callable[[], Awaitable[T]]
) -> T:
    """`Lua.retried` for a pipeline that calls several scripts: all loaded if Redis had
    forgotten any (it forgets them all at once: a restart, a failover)."""
    try:
        return await run()
    except NoScriptError:
        for script in scripts:
            await redis.script_load(script.text)
        return await run()
