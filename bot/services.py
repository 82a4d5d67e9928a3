"""The long-lived resources one process needs, created and closed together."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bot.clock import Clock
from bot.i18n import Languages
from bot.render import MessageRenderer
from bot.settings import SecretBox, SecretsKeyError, Settings, secret, secret_box
from bot.store import announcement_retirer, senders, whatsapp_window
from bot.store.invoices import InvoiceLocations
from bot.store.sender_routes import SenderChanges
from channels.base import ChannelAdapter, ChannelName, SenderResolver, SenderRoute
from channels.telegram import TelegramAdapter
from channels.twilio_sms import TwilioSmsAdapter
from channels.twilio_whatsapp import TwilioWhatsAppAdapter
from payments.stripe_gateway import StripeGateway

log = logging.getLogger(__name__)


class _Lifecycle(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    redis: aioredis.Redis
    # The same server without a timeout per reply read: only for calls under `bounded`.
    bounded_redis: aioredis.Redis
    clock: Clock
    languages: Languages
    renderer: MessageRenderer
    adapters: Mapping[ChannelName, ChannelAdapter]
    telegram: TelegramAdapter
    stripe: StripeGateway
    consumer_name: str
    secret_box: SecretBox  # seals merchants' bot tokens (bot.store.senders)
    # Removes the invoice announcements this process carried out (bot.engine.issuing).
    retirer: announcement_retirer.AnnouncementRetirer
    # API key digest -> the merchant it named when last seen here (bot.store.merchants).
    key_hints: MutableMapping[str, str]
    # Invoice locators read by this process (bot.store.invoices; Stripe events' routing).
    invoice_locations: InvoiceLocations
    # Sender changes made by this process (bot.store.sender_routes: its routing memory).
    sender_changes: SenderChanges


def redis_client(
    url: str, settings: Settings, *, bounded_by_caller: bool = False
) -> aioredis.Redis:
    """The one way Facto builds a Redis client: bounded waits, retried blips.

    A connection reset is retried a few times with exponential backoff before the caller sees
    it; a server that stops answering fails the command after `REDIS_SOCKET_TIMEOUT` instead of
    hanging, and is not asked again at once (a frozen server would hold a webhook for every
    retry's timeout, past what Twilio waits); idle pooled connections are checked before
    reuse, so a connection the server or a proxy dropped is replaced, not failed on.

    `bounded_by_caller`: no timeout per reply read; every caller bounds its whole call
    instead (`bounded`). redis-py arms a timer for each reply it reads, three for a
    pipeline of three commands: on the webhooks' ingest that was a tenth of the CPU
    of a request (docs/decisions.md, "A Redis client bounded by its callers").
    """
    return aioredis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=None if bounded_by_caller else settings.redis_socket_timeout,
        socket_connect_timeout=settings.redis_connect_timeout,
        health_check_interval=settings.redis_health_check_interval,
        # Only what a reconnect cures: redis-py's Retry also retries timeouts unless told
        # otherwise, and a frozen server would then hold a request once per retry.
        retry=Retry(
            ExponentialBackoff(cap=1.0, base=0.05),
            settings.redis_retries,
            supported_errors=(RedisConnectionError,),
        ),
        retry_on_error=[RedisConnectionError],
    )


def consumer_name() -> str:
    """A name per process, so each worker owns its own pending entries."""
    return f"{socket.gethostname()}-{os.getpid()}"


@asynccontextmanager
async def open_services(
    settings: Settings, redis_url: str, clock: Clock
) -> AsyncIterator[Services]:
    settings.require_credentials()
    redis = redis_client(redis_url, settings)
    bounded_redis = redis_client(redis_url, settings, bounded_by_caller=True)
    languages = Languages()
    box = secret_box(settings)
    resolve = sender_resolver(redis, box)
    telegram = TelegramAdapter(
        token=secret(settings.telegram_bot_token),
        base_url=settings.telegram_api_base,
        resolve=resolve,
    )
    sms = TwilioSmsAdapter(
        account_sid=settings.twilio_account_sid or "",
        auth_token=secret(settings.twilio_auth_token),
        from_number=settings.twilio_sms_from or "",
        api_base=settings.twilio_api_base,
        status_callback_url=f"{settings.public_base_url}/webhooks/twilio/status",
        resolve=resolve,
    )
    stripe = StripeGateway(
        api_key=secret(settings.stripe_api_key), api_base=settings.stripe_api_base
    )
    adapters: dict[ChannelName, ChannelAdapter] = {
        ChannelName.TELEGRAM: telegram,
        ChannelName.SMS: sms,
    }
    resources: tuple[_Lifecycle, ...] = (telegram, sms, stripe)
    if settings.whatsapp_enabled:
        whatsapp = _whatsapp_adapter(settings, redis, clock, resolve)
        adapters[ChannelName.WHATSAPP] = whatsapp
        resources = (*resources, whatsapp)
    retirer = announcement_retirer.AnnouncementRetirer(redis)
    started: list[_Lifecycle] = []
    try:
        for resource in resources:
            await resource.start()
            started.append(resource)
        yield Services(
            settings=settings,
            redis=redis,
            bounded_redis=bounded_redis,
            clock=clock,
            languages=languages,
            renderer=MessageRenderer(languages),
            adapters=adapters,
            telegram=telegram,
            stripe=stripe,
            consumer_name=consumer_name(),
            secret_box=box,
            retirer=retirer,
            key_hints={},
            invoice_locations=InvoiceLocations(),
            sender_changes=SenderChanges(),
        )
    finally:
        try:  # removals still due use Redis: before it is closed, not on a timer after
            await retirer.wait()
        finally:
            for done in reversed(started):
                await done.close()
            await bounded_redis.aclose()
            await redis.aclose()


@asynccontextmanager
async def bounded(settings: Settings, within: float | None = None) -> AsyncIterator[None]:
    """Bound a call on `Services.bounded_redis` to `REDIS_SOCKET_TIMEOUT` (or `within` seconds
    if fewer), as the other client bounds each reply: past it, the call fails with redis-py's
    own TimeoutError (a RedisError, which callers already answer), and the connection it was
    reading is dropped by redis-py, so no late reply is taken for the next command's."""
    limit = (
        settings.redis_socket_timeout
        if within is None
        else min(within, settings.redis_socket_timeout)
    )
    try:
        async with asyncio.timeout(limit):
            yield
    except TimeoutError as exc:
        raise RedisTimeoutError("no reply from Redis within REDIS_SOCKET_TIMEOUT") from exc


def sender_resolver(redis: aioredis.Redis, box: SecretBox) -> SenderResolver:
    """Adapters ask it how to send from a merchant's own sender (one GET per send)."""

    async def resolve(channel: ChannelName, ref: str) -> SenderRoute | None:
        found = await senders.by_ref(redis, channel, ref)
        if found is None:
            return None
        try:
            token = box.open(found.sealed_token) if found.sealed_token else None
            auth = box.open(found.sealed_auth_token) if found.sealed_auth_token else None
        except SecretsKeyError:
            log.exception("a merchant sender's secret does not open: check FACTO_SECRETS_KEY")
            return None
        return SenderRoute(
            from_=found.from_,
            messaging_service_sid=found.messaging_service_sid,
            token=token,
            account_sid=found.account_sid if auth is not None else None,
            auth_token=auth,
            content_sids=found.content_sids,
        )

    return resolve


def _whatsapp_adapter(
    settings: Settings, redis: aioredis.Redis, clock: Clock, resolve: SenderResolver
) -> TwilioWhatsAppAdapter:
    async def last_inbound(phone: str, sender: str | None) -> datetime | None:
        return await whatsapp_window.last_inbound(redis, phone, sender)

    return TwilioWhatsAppAdapter(
        account_sid=settings.twilio_account_sid or "",
        auth_token=secret(settings.twilio_auth_token),
        from_number=settings.twilio_whatsapp_from or "",
        api_base=settings.twilio_api_base,
        status_callback_url=f"{settings.public_base_url}/webhooks/twilio/status",
        content_sids=settings.whatsapp_content_sids,
        last_inbound=last_inbound,
        now=clock.now,
        resolve=resolve,
    )
