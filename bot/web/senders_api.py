"""`/api/v1/channels`: the merchant's own senders (SMS, WhatsApp, Telegram bot).

`POST` registers or replaces the sender of one channel, `GET` lists them (never a token or a
secret), `DELETE /api/v1/channels/{channel}` goes back to the platform's sender. A Telegram bot
gets its webhook set to its own path, with its own secret, before it is stored: a token
Telegram refuses is never kept.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from bot.engine import senders as engine_senders
from bot.engine.senders import WebhookRefused
from bot.services import Services
from bot.settings import SecretsKeyError
from bot.store import senders
from bot.store.merchants import Merchant
from bot.store.senders import MerchantSender, SenderError, SenderTaken
from bot.web.bodies import json_object
from channels.base import ChannelName

log = logging.getLogger(__name__)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _channel(value: object) -> ChannelName | None:
    try:
        return ChannelName(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def register_sender(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    fields = await json_object(request)
    if isinstance(fields, web.Response):
        return fields
    try:
        sender = await save_sender(services, merchant.id, fields.pop("channel", None), fields)
    except SenderRefused as exc:
        return _error(exc.status, exc.message)
    return web.json_response(sender.public(), status=201)


class SenderRefused(Exception):
    """Why a sender was not saved, with the HTTP status that says it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


async def save_sender(
    services: Services, merchant_id: str, channel_name: object, fields: dict[str, Any]
) -> MerchantSender:
    """Register or replace the merchant's sender on one channel (the API and the dashboard's
    Settings both come here); SenderRefused says why not."""
    channel = _channel(channel_name)
    if channel is None:
        raise SenderRefused(400, "channel must be one of sms, whatsapp, telegram")
    try:
        saved = await engine_senders.register(
            services.redis,
            services.settings,
            services.secret_box,
            merchant_id=merchant_id,
            channel=channel,
            fields=fields,
            now=services.clock.now(),
        )
    except SenderError as exc:
        raise SenderRefused(400, str(exc)) from exc
    except SecretsKeyError as exc:  # the server's configuration, not the request
        raise SenderRefused(409, str(exc)) from exc
    except SenderTaken as exc:
        raise SenderRefused(409, str(exc)) from exc
    except WebhookRefused as exc:
        raise SenderRefused(422, str(exc)) from exc
    except RedisError as exc:
        log.exception("could not store a merchant sender")
        raise SenderRefused(503, "temporarily unavailable") from exc
    finally:
        # Even a registration that failed halfway may have changed a record (the notice is
        # published in that case too): this process's routing memory drops either way.
        services.sender_changes.note()
    return saved


async def list_senders(
    _request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    own = await senders.all_of(services.redis, merchant.id)
    return web.json_response({"data": [sender.public() for sender in own]})


async def remove_sender(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    if not await drop_sender(services, merchant.id, request.match_info["channel"]):
        return _error(404, "no own sender on that channel: the platform's is in use")
    return web.Response(status=204)


async def drop_sender(services: Services, merchant_id: str, channel_name: str) -> bool:
    """Back to the platform's sender on that channel; False when the merchant had none."""
    channel = _channel(channel_name)
    if channel is None:
        return False
    try:
        removed: MerchantSender | None = await senders.remove(services.redis, merchant_id, channel)
    finally:
        services.sender_changes.note()
    return removed is not None
