"""`/api/v1/telegram-links`: a deep link that tells the merchant a customer's Telegram chat id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.services import Services
from bot.store.merchants import Merchant
from bot.store.telegram_links import TelegramLink, create_link, get_link


def link_view(link: TelegramLink, services: Services) -> dict[str, Any]:
    username = services.settings.telegram_bot_username
    return {
        "token": link.token,
        "url": f"https://t.me/{username}?start={link.token}",
        "telegram_chat_id": link.chat_id,
    }


async def create_telegram_link(
    _request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    link = await create_link(services.redis, merchant.id, services.clock.now())
    return web.json_response(link_view(link, services), status=201)


async def read_telegram_link(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    link = await get_link(services.redis, request.match_info["token"][:128])
    if link is None or link.merchant_id != merchant.id:
        return web.json_response({"error": "no such link (or it expired)"}, status=404)
    return web.json_response(link_view(link, services))
