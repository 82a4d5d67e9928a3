"""The merchant's logo: the PNG re-encoded from its upload (bot.web.logo_image), never the
uploaded bytes. One JSON value per merchant, replaced whole, so a reader sees the old logo or
the new one, never half of each. Its version (a digest of the PNG) goes into the logo's
address, so browsers may keep it for as long as they like: a new logo is a new address.
Base64, because every Facto client decodes replies as text."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

import redis.asyncio as aioredis

from bot.store import keys


@dataclass(frozen=True, slots=True)
class Logo:
    version: str  # the first 16 hex digits of the PNG's SHA-256
    png: bytes
    width: int
    height: int


def version_of(png: bytes) -> str:
    return hashlib.sha256(png).hexdigest()[:16]


async def current(redis: aioredis.Redis, merchant_id: str) -> Logo | None:
    raw: str | None = await redis.get(keys.merchant_logo(merchant_id))
    if raw is None:
        return None
    data = json.loads(raw)
    return Logo(data["version"], base64.b64decode(data["png"]), data["width"], data["height"])


async def replace(
    redis: aioredis.Redis, merchant_id: str, png: bytes, width: int, height: int
) -> Logo:
    logo = Logo(version_of(png), png, width, height)
    value = {
        "version": logo.version,
        "png": base64.b64encode(png).decode(),
        "width": width,
        "height": height,
    }
    await redis.set(keys.merchant_logo(merchant_id), json.dumps(value))
    return logo


async def remove(redis: aioredis.Redis, merchant_id: str) -> bool:
    """Back to no logo; False when there was none."""
    return bool(await redis.delete(keys.merchant_logo(merchant_id)))
