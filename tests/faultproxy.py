"""A loopback TCP proxy that resets connections on cue: real network faults, no mocks.

Put it between the app and redis-server. For every chunk a client sends, `plan` decides:
forward it; drop it and reset the connection (the command never reaches Redis); or forward
it and reset the connection instead of passing Redis' answer back (the command ran, its
answer is lost). Resets are real TCP RSTs (SO_LINGER 0), as seen during the incident.
The two `hold_*` actions keep the connection open and swallow the request (never run) or
every answer from then on (it ran): the client waits, so a test can kill its process at that
very point (`held` tells when).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Literal

Action = Literal["forward", "drop_request", "drop_reply", "hold_request", "hold_reply"]
Plan = Callable[[bytes], Action]


@asynccontextmanager
async def proxy_in_front_of(redis_url: str) -> AsyncIterator[ResetProxy]:
    """A started proxy to the Redis at `redis_url` (redis://host:port/db), closed after."""
    host, port = redis_url.removeprefix("redis://").split("/")[0].split(":")
    proxied = ResetProxy(host, int(port))
    await proxied.start()
    try:
        yield proxied
    finally:
        await proxied.close()


def forward_all(_chunk: bytes) -> Action:
    return "forward"


class ResetProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.plan: Plan = forward_all
        self.resets = 0
        self.held = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(*self.target)
        self._writers.update((client_w, server_w))
        reply_lost = asyncio.Event()
        swallow = asyncio.Event()

        async def upstream() -> None:
            while chunk := await client_r.read(65536):
                action = self.plan(chunk)
                if action == "drop_request":
                    return
                if action == "hold_request":
                    self.held.set()
                    continue  # never sent; the client waits for an answer
                if action == "drop_reply":
                    reply_lost.set()  # before writing: Redis may answer at once
                if action == "hold_reply":
                    swallow.set()
                server_w.write(chunk)
                await server_w.drain()

        async def downstream() -> None:
            while chunk := await server_r.read(65536):
                if reply_lost.is_set():
                    return
                if swallow.is_set():
                    self.held.set()  # Redis has answered: the command ran
                    continue
                client_w.write(chunk)
                await client_w.drain()

        tasks = [asyncio.create_task(upstream()), asyncio.create_task(downstream())]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, ConnectionError):
                await task
        self.resets += 1
        for writer in (client_w, server_w):
            _reset(writer)
            self._writers.discard(writer)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST, not a FIN: what a dropped connection looks like to the peer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
