"""The merchant's API keys as the dashboard manages them: created with a name and shown once,
listed (name, date, last characters), revoked at once.

A key is `apikey:<sha256>` → merchant id (what the API checks on every request, so deleting
it refuses the next request), and an entry in the merchant's list. Keys made before the list
existed (with `merchant create`) work and are not listed.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.merchants import API_KEY_PREFIX, hash_api_key

MAX_KEYS = 20
MAX_NAME = 80


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str  # the start of the digest: names the key in the dashboard and the revoke form
    name: str
    created_at: str
    last4: str


async def create(
    redis: aioredis.Redis, merchant_id: str, name: str, now: datetime
) -> tuple[ApiKey, str] | None:
    """A new key (the clear key is returned once); None when the merchant has too many."""
    if await redis.hlen(keys.merchant_api_keys(merchant_id)) >= MAX_KEYS:
        return None
    clear = API_KEY_PREFIX + secrets.token_urlsafe(32)
    digest = hash_api_key(clear)
    made = ApiKey(digest[:16], name, now.isoformat(), clear[-4:])
    # The list first, then the key (two hash slots): a crash in between lists a key that
    # does not work (revoke removes it), never a working key that nobody sees.
    await redis.hset(keys.merchant_api_keys(merchant_id), digest, json.dumps(asdict(made)))
    await redis.set(keys.api_key(digest), merchant_id)
    return made, clear


async def listed(redis: aioredis.Redis, merchant_id: str) -> list[ApiKey]:
    raw = await redis.hgetall(keys.merchant_api_keys(merchant_id))
    found = [ApiKey(**json.loads(value)) for value in raw.values()]
    return sorted(found, key=lambda k: k.created_at)


async def revoke(redis: aioredis.Redis, merchant_id: str, key_id: str) -> ApiKey | None:
    """Refuse the key from now on; None when the merchant has no such key."""
    index = keys.merchant_api_keys(merchant_id)
    for digest, value in (await redis.hgetall(index)).items():
        if digest.startswith(key_id) and len(key_id) == 16:
            # Only a key of this merchant: the digest came from this merchant's own list.
            if await redis.get(keys.api_key(digest)) == merchant_id:
                await redis.delete(keys.api_key(digest))
            await redis.hdel(index, digest)
            return ApiKey(**json.loads(value))
    return None
