"""A console user's browser, without the browser: cookies, CSRF tokens, TOTP codes."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import pyotp

from bot.store.users import Role, User, create_user
from tests.scenario.harness import Facto

PASSWORD = "correct horse battery staple"  # test fixture, not a secret  # pragma: allowlist secret
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def add_user(
    facto: Facto,
    email: str,
    name: str,
    role: Role = Role.AGENT,
    merchant_id: str | None = None,
) -> tuple[User, str]:
    """A user with TOTP already enrolled; returns it with its TOTP secret."""
    secret = pyotp.random_base32()
    assert facto.merchant is not None
    user = await create_user(
        facto.redis,
        merchant_id=merchant_id or facto.merchant.id,
        email=email,
        name=name,
        role=role,
        password=PASSWORD,
        now=facto.clock.now(),
        totp_secret=secret,
    )
    return user, secret


@dataclass
class Browser:
    """One cookie jar against one running Facto."""

    base_url: str
    session: aiohttp.ClientSession
    csrf: str = ""

    @classmethod
    def open(cls, facto: Facto) -> Browser:
        # unsafe=True: the test server is an IP address, whose cookies aiohttp drops otherwise.
        jar = aiohttp.CookieJar(unsafe=True)
        # English pages, so the tests read the msgids (the console speaks the browser's language).
        session = aiohttp.ClientSession(cookie_jar=jar, headers={"Accept-Language": "en"})
        return cls(facto.base_url, session)

    async def close(self) -> None:
        await self.session.close()
        # The connector closes its transports with call_soon: one turn of the loop lets them
        # finish, or a transport collected after this test's loop is gone warns in another.
        await asyncio.sleep(0)

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(self.base_url + path, **kwargs) as response:
            text = await response.text()
            if found := _CSRF.search(text):
                self.csrf = found.group(1)
            return response.status, text

    async def post(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str]:
        form = {"csrf": self.csrf, **(data or {})}
        async with self.session.post(
            self.base_url + path, data=form, headers={"Origin": self.base_url}
        ) as response:
            text = await response.text()
            if found := _CSRF.search(text):
                self.csrf = found.group(1)
            return response.status, text

    async def log_in(self, email: str, secret: str, password: str = PASSWORD) -> tuple[int, str]:
        await self.get("/console/login")
        status, text = await self.post("/console/login", {"email": email, "password": password})
        if "/console/login/code" not in text and "Two-factor code" not in text:
            return status, text
        return await self.post("/console/login/code", {"code": pyotp.TOTP(secret).now()})
