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
from bot.web.bodies import BadJson, decode_json
from channels.base import ChannelName

log = logging.getLogger(__name__)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _channel(value: object) -> ChannelName | None:
    try:
        return ChannelName(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def _fields(request: web.Request) -> dict[str, Any] | web.Response:
    if request.content_type != "application/json":
        return _error(415, "send the body as application/json")
    try:
        body = decode_json(await request.read())
    except BadJson as exc:
        return _error(400, str(exc))
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    return dict(body)


async def register_sender(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    fields = await _fields(request)
    if isinstance(fields, web.Response):
        return fields
    channel = _channel(fields.pop("channel", None))
    if channel is None:
        return _error(400, "channel must be one of sms, whatsapp, telegram")
    try:
        sender = await engine_senders.register(
            services.redis,
            services.settings,
            services.secret_box,
            merchant_id=merchant.id,
            channel=channel,
            fields=fields,
            now=services.clock.now(),
        )
    except SenderError as exc:
        return _error(400, str(exc))
    except SecretsKeyError as exc:  # the server's configuration, not the request
        return _error(409, str(exc))
    except SenderTaken as exc:
        return _error(409, str(exc))
    except WebhookRefused as exc:
        return _error(422, str(exc))
    except RedisError:
        log.exception("could not store a merchant sender")
        return _error(503, "temporarily unavailable")
    return web.json_response(sender.public(), status=201)


async def list_senders(
    _request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    own = await senders.all_of(services.redis, merchant.id)
    return web.json_response({"data": [sender.public() for sender in own]})


async def remove_sender(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    channel = _channel(request.match_info["channel"])
    if channel is None:
        return _error(404, "no such channel")
    removed: MerchantSender | None = await senders.remove(services.redis, merchant.id, channel)
    if removed is None:
        return _error(404, "no own sender on that channel: the platform's is in use")
    return web.Response(status=204)
