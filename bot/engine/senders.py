"""Registering a merchant's own sender, from the API or the CLI: validated, checked against the
platform's and other merchants' senders, a Telegram bot pointed at its own webhook path, then
stored (bot.store.senders)."""

from __future__ import annotations

import logging
from datetime import datetime
from secrets import token_urlsafe
from typing import Any

import redis.asyncio as aioredis

from bot.settings import SecretBox, Settings, secret
from bot.store import senders
from bot.store.senders import MerchantSender, SenderError, SenderTaken
from channels.base import ChannelError, ChannelName
from channels.telegram import TelegramAdapter
from channels.twilio_sms import check_account

log = logging.getLogger(__name__)


class WebhookRefused(Exception):
    """Telegram would not set the bot's webhook (a wrong token, most often): 422."""


class CredentialsRefused(WebhookRefused):
    """Twilio refused the merchant's own account SID and auth token: 422, nothing stored."""


def platform_refs(settings: Settings) -> set[str]:
    """The platform's own senders: nobody may register them as theirs."""
    refs = {settings.twilio_sms_from or "", settings.twilio_whatsapp_from or ""}
    if settings.telegram_bot_token is not None:
        refs.add(secret(settings.telegram_bot_token).split(":", 1)[0])
    return refs - {""}


async def register(
    redis: aioredis.Redis,
    settings: Settings,
    box: SecretBox,
    *,
    merchant_id: str,
    channel: ChannelName,
    fields: dict[str, Any],
    now: datetime,
) -> MerchantSender:
    """Raises SenderError (bad input), SenderTaken (someone else's), WebhookRefused."""
    fields = dict(fields)
    if channel is ChannelName.WHATSAPP and not settings.whatsapp_enabled:
        raise SenderError("whatsapp is not enabled on this server")
    if channel is ChannelName.TELEGRAM and fields.get("webhook_secret") is None:
        fields["webhook_secret"] = token_urlsafe(32)  # setWebhook's alphabet (PROVIDERS G1)
    sender = senders.build_sender(merchant_id, channel, fields, box=box, now=now)
    # Checked before Telegram is asked to move the bot's webhook here.
    if sender.ref in platform_refs(settings):
        raise SenderTaken(f"{sender.ref} is the platform's sender")
    if sender.account_sid is not None and sender.account_sid == settings.twilio_account_sid:
        raise SenderTaken("that is the platform's Twilio account: leave account_sid out")
    holder = await senders.by_ref(redis, channel, sender.ref)
    if holder is not None and holder.merchant_id != merchant_id:
        raise SenderTaken("that sender belongs to another merchant")
    if sender.account_sid is not None:
        await _check_account(settings, sender, str(fields["auth_token"]))
    if channel is ChannelName.TELEGRAM:
        await _set_webhook(settings, str(fields["token"]), str(fields["webhook_secret"]))
    await senders.register(redis, sender, platform_refs(settings))
    return sender


async def _check_account(settings: Settings, sender: MerchantSender, auth_token: str) -> None:
    """The merchant's own Twilio credentials must open its account before they are kept; an
    SMS number (or a sender ID's reply number) must be the account's, and its "A message
    comes in" is pointed at our SMS webhook. (A Messaging Service's inbound URL and a
    WhatsApp sender's webhook are set in the console: README.)"""
    assert sender.account_sid is not None
    number = None
    if sender.channel is ChannelName.SMS and sender.messaging_service_sid is None:
        number = sender.ref  # the number, or the reply number of a sender ID
    try:
        await check_account(
            sender.account_sid,
            auth_token,
            settings.twilio_api_base,
            number=number,
            sms_url=settings.public_base_url + "/webhooks/twilio/sms" if number else None,
        )
    except ChannelError as exc:
        log.warning("twilio refused a merchant's own account: %s", exc)
        raise CredentialsRefused(f"Twilio refused the account's credentials: {exc}") from exc


async def _set_webhook(settings: Settings, token: str, hook_secret: str) -> None:
    """Point the merchant's bot at its own webhook path, with its own secret."""
    bot_id = token.split(":", 1)[0]
    url = settings.public_base_url + senders.telegram_webhook_path(bot_id)
    adapter = TelegramAdapter(token, settings.telegram_api_base)
    try:
        await adapter.start()
        await adapter.set_webhook(url, hook_secret)
    except ChannelError as exc:
        log.warning("telegram refused a merchant bot's webhook: %s", exc)
        raise WebhookRefused(f"Telegram refused the bot's webhook: {exc}") from exc
    finally:
        await adapter.close()
