"""A merchant's shop connections (Shopify, WooCommerce) and what their webhooks left behind.

A connection is found by its id, which is in its webhook path (`/webhooks/shopify/<id>`): each
shop signs with its own secret, checked against that one connection only. The secret is sealed
with FACTO_SECRETS_KEY like the merchants' bot tokens (bot.settings.SecretBox) and never shown
again. The merchant's list of connections is on the merchant's slot; each record on its own key.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import redis.asyncio as aioredis

from bot.settings import SecretBox
from bot.store import keys

Platform = Literal["shopify", "woocommerce"]
PLATFORMS: tuple[Platform, ...] = ("shopify", "woocommerce")
SHOP_CHANNELS = ("sms", "whatsapp")  # an order gives a phone number, never a Telegram chat
CONNECTION_ID = re.compile(r"shop_[0-9a-f]{16}")
_SHOPIFY_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]{0,60}\.myshopify\.com")
_HOST = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9-]{1,63})*(:\d{1,5})?"
)
MAX_DUE_DAYS = 90
REFUSALS_KEPT = 50


class ShopError(ValueError):
    """A connection that cannot be made as asked: 400 with the reason."""


@dataclass(frozen=True, slots=True)
class ShopConnection:
    id: str
    merchant_id: str
    platform: Platform
    shop: str  # Shopify: "boutique.myshopify.com"; WooCommerce: the site's host
    sealed_secret: str
    channel: str
    due_days: int
    created_at: str

    def webhook_path(self) -> str:
        return f"/webhooks/{self.platform}/{self.id}"

    def public(self) -> dict[str, Any]:
        """What the API shows: never the secret."""
        return {
            "id": self.id,
            "platform": self.platform,
            "shop": self.shop,
            "channel": self.channel,
            "due_days": self.due_days,
            "created_at": self.created_at,
            "webhook_path": self.webhook_path(),
        }

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "merchant_id": self.merchant_id,
                "platform": self.platform,
                "shop": self.shop,
                "secret": self.sealed_secret,
                "channel": self.channel,
                "due_days": self.due_days,
                "created_at": self.created_at,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> ShopConnection:
        data = json.loads(raw)
        return cls(
            id=data["id"],
            merchant_id=data["merchant_id"],
            platform=data["platform"],
            shop=data["shop"],
            sealed_secret=data["secret"],
            channel=data["channel"],
            due_days=int(data["due_days"]),
            created_at=data["created_at"],
        )


def shop_host(platform: Platform, value: str) -> str:
    """The shop as its webhooks name it: Shopify's `*.myshopify.com` domain (sent in
    X-Shopify-Shop-Domain); the host of a WooCommerce site's URL (X-WC-Webhook-Source)."""
    text = value.strip().lower()
    try:
        host = urlsplit(text if "//" in text else f"//{text}").netloc or text
    except ValueError as exc:  # "http://[::1": urlsplit's own refusal, not ours
        raise ShopError("shop must be the shop's address (https://boutique.fr)") from exc
    if platform == "shopify":
        if not _SHOPIFY_DOMAIN.fullmatch(host):
            raise ShopError(
                "shop must be the shop's myshopify.com domain (boutique.myshopify.com)"
            )
        return host
    if not _HOST.fullmatch(host):
        raise ShopError("shop must be the WooCommerce site's address (https://boutique.fr)")
    return host


def build_connection(
    merchant_id: str, fields: dict[str, Any], *, box: SecretBox, now: datetime
) -> tuple[ShopConnection, str]:
    """The connection `fields` ask for and its secret in clear (to show once when Facto made
    it). Raises ShopError; SecretsKeyError when there is no key to seal the secret."""
    unknown = set(fields) - {"platform", "shop", "secret", "channel", "due_days"}
    if unknown:
        raise ShopError(f"unknown field(s): {', '.join(sorted(unknown))}")
    platform = fields.get("platform")
    if platform not in PLATFORMS:
        raise ShopError("platform must be one of shopify, woocommerce")
    shop = fields.get("shop")
    if not isinstance(shop, str):
        raise ShopError("shop is required")
    host = shop_host(platform, shop)
    secret = fields.get("secret")
    if secret is None and platform == "woocommerce":
        secret = secrets.token_urlsafe(32)  # pasted into WooCommerce's webhook form
    if not isinstance(secret, str) or not 16 <= len(secret) <= 256 or not secret.isprintable():
        raise ShopError(
            "secret is required: Shopify's webhook signing secret (16 to 256 characters)"
            if platform == "shopify"
            else "secret must be 16 to 256 printable characters"
        )
    channel = fields.get("channel", "sms")
    if channel not in SHOP_CHANNELS:
        raise ShopError("channel must be one of sms, whatsapp")
    due_days = fields.get("due_days", 14)
    if isinstance(due_days, bool) or not isinstance(due_days, int):
        raise ShopError("due_days must be an integer")
    if not 0 <= due_days <= MAX_DUE_DAYS:
        raise ShopError(f"due_days must be from 0 to {MAX_DUE_DAYS}")
    connection = ShopConnection(
        id=f"shop_{secrets.token_hex(8)}",
        merchant_id=merchant_id,
        platform=platform,
        shop=host,
        sealed_secret=box.seal(secret),
        channel=str(channel),
        due_days=due_days,
        created_at=now.isoformat(),
    )
    return connection, secret


async def save(redis: aioredis.Redis, connection: ShopConnection) -> None:
    # Two slots: the record first, then the merchant's list; a crash between leaves a record
    # nobody lists, never a listed id without its record.
    await redis.set(keys.shop_connection(connection.id), connection.to_json())
    await redis.sadd(keys.merchant_shops(connection.merchant_id), connection.id)


async def get(redis: aioredis.Redis, connection_id: str) -> ShopConnection | None:
    if not CONNECTION_ID.fullmatch(connection_id):
        return None
    raw = await redis.get(keys.shop_connection(connection_id))
    return ShopConnection.from_json(raw) if raw else None


async def all_of(redis: aioredis.Redis, merchant_id: str) -> list[ShopConnection]:
    ids = sorted(await redis.smembers(keys.merchant_shops(merchant_id)))
    found = [await get(redis, connection_id) for connection_id in ids]
    return [c for c in found if c is not None and c.merchant_id == merchant_id]


async def remove(redis: aioredis.Redis, merchant_id: str, connection_id: str) -> bool:
    connection = await get(redis, connection_id)
    if connection is None or connection.merchant_id != merchant_id:
        return False  # another merchant's connection is a missing one
    await redis.delete(keys.shop_connection(connection_id))
    await redis.srem(keys.merchant_shops(merchant_id), connection_id)
    return True


async def delivery_seen(redis: aioredis.Redis, connection_id: str, delivery_id: str) -> bool:
    return bool(await redis.exists(keys.shop_delivery(connection_id, delivery_id)))


async def mark_delivery(
    redis: aioredis.Redis, connection_id: str, delivery_id: str, ttl_seconds: int
) -> None:
    """After the order was handled: a redelivery is then answered at once (the invoice is
    idempotent on the order anyway; this only spares the work)."""
    await redis.set(keys.shop_delivery(connection_id, delivery_id), "1", ex=ttl_seconds)


async def mark_paid_early(
    redis: aioredis.Redis, connection_id: str, order_id: str, ttl_seconds: int
) -> None:
    """The shop says the order is paid and Facto has no invoice for it yet: its create, if it
    comes later (webhooks are not delivered in order), issues it paid."""
    await redis.set(keys.shop_paid_order(connection_id, order_id), "1", ex=ttl_seconds)


async def paid_early(redis: aioredis.Redis, connection_id: str, order_id: str) -> bool:
    return bool(await redis.exists(keys.shop_paid_order(connection_id, order_id)))


async def record_refusal(
    redis: aioredis.Redis, connection_id: str, refusal: dict[str, str]
) -> None:
    """An order the shop sent that was not invoiced, and why: the merchant reads them with the
    connection (GET /api/v1/shops/{id}); the shop also got the 422."""
    key = keys.shop_refusals(connection_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, json.dumps(refusal))
        pipe.ltrim(key, 0, REFUSALS_KEPT - 1)
        await pipe.execute()


async def refusals(redis: aioredis.Redis, connection_id: str) -> list[dict[str, str]]:
    raws = await redis.lrange(keys.shop_refusals(connection_id), 0, REFUSALS_KEPT - 1)
    return [json.loads(raw) for raw in raws]


async def customer_by_phone(redis: aioredis.Redis, merchant_id: str, phone: str) -> str | None:
    """The id of the merchant's customer with this E.164 number, if Facto knows one."""
    found = await redis.hget(keys.customer_phones(merchant_id), phone)
    return str(found) if found else None


def index_phone(
    pipe: aioredis.client.Pipeline, merchant_id: str, phone: str, customer_id: str
) -> None:
    pipe.hset(keys.customer_phones(merchant_id), phone, customer_id)
