"""The event loop `serve` and `worker` run on: uvloop by default, asyncio's own on request.

uvloop is asyncio's event loop on libuv: the same coroutines, tasks and transports, with less
CPU per callback, timer and socket operation. A worker spends about a quarter of its CPU in
the loop itself (scheduling its Redis round trips and provider calls), so the loop is worth
choosing (docs/decisions.md, "uvloop under serve and worker"). `FACTO_EVENT_LOOP=asyncio`
keeps the standard loop; so does a platform without uvloop (Windows). Which one runs is the
`loop` field of the process's start-up log line ("listening", "worker started"): the loop is
chosen before logging is configured, so nothing is logged here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

T = TypeVar("T")
EventLoopChoice = Literal["uvloop", "asyncio"]
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(choice: EventLoopChoice) -> LoopFactory | None:
    """uvloop's loop for "uvloop" when it is installed; None (asyncio's default) otherwise."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def running_loop_name() -> str:
    """ "uvloop" or "asyncio": what the running loop is, for the start-up log line."""
    module = type(asyncio.get_running_loop()).__module__
    return "uvloop" if module.startswith("uvloop") else "asyncio"


def run(main: Coroutine[Any, Any, T], choice: EventLoopChoice) -> T:
    """`asyncio.run(main)` on the chosen loop."""
    with asyncio.Runner(loop_factory=loop_factory(choice)) as runner:
        return runner.run(main)
