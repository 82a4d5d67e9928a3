"""The sandbox sub-app on a real loopback server at PUBLIC_BASE_URL, with a parent app that
records every webhook the emulators deliver (so signatures can be checked as the bot would)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy

from bot.settings import Settings, secret
from channels.base import ChannelName
from sandbox import SandboxState, create_sandbox_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Hit:
    path: str
    path_qs: str
    headers: CIMultiDictProxy[str]
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


@dataclass
class WebhookRecorder:
    hits: list[Hit] = field(default_factory=list)
    status: int = 200

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(Hit(request.path, request.path_qs, request.headers, await request.read()))
        return web.Response(status=self.status)

    def at(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path == path]

    async def wait_for(self, path: str, count: int = 1) -> list[Hit]:
        await wait_until(lambda: len(self.at(path)) >= count)
        return self.at(path)


async def wait_until(predicate: Callable[[], bool], within: float = 2.0) -> None:
    """Wait for loopback deliveries made by background tasks (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met within the deadline")
        await asyncio.sleep(0.01)


@dataclass
class Sandbox:
    settings: Settings
    state: SandboxState
    hooks: WebhookRecorder
    http: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return self.settings.public_base_url

    def url(self, path: str) -> str:
        return self.base + path

    async def post_json(self, path: str, data: Any) -> aiohttp.ClientResponse:
        async with self.http.post(self.url(path), json=data) as response:
            await response.read()
            return response

    async def get_json(self, path: str, **params: str) -> Any:
        async with self.http.get(self.url(path), params=params) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def messages(self, channel: ChannelName, to: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await self.get_json(
            "/sandbox/api/messages", channel=channel.value, to=to
        )
        return result

    async def fault(self, channel: str, status: int, count: int = 1, **extra: Any) -> None:
        response = await self.post_json(
            "/sandbox/api/faults", {"channel": channel, "status": status, "count": count, **extra}
        )
        assert response.status == 201

    @property
    def twilio_token(self) -> str:
        return secret(self.settings.twilio_auth_token)

    @property
    def telegram_token(self) -> str:
        return secret(self.settings.telegram_bot_token)


@pytest.fixture
async def sandbox(aiohttp_server: Any) -> AsyncIterator[Sandbox]:
    port = free_port()
    settings = Settings(FACTO_SANDBOX=True, PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    state = SandboxState()
    hooks = WebhookRecorder()
    app = web.Application()
    app.router.add_post("/webhooks/{tail:.*}", hooks.handle)
    app.add_subapp("/sandbox", create_sandbox_app(settings, state))
    await aiohttp_server(app, host="127.0.0.1", port=port)
    async with aiohttp.ClientSession() as http:
        yield Sandbox(settings, state, hooks, http)
