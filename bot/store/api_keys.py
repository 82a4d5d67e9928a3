"""The merchant's API keys as the dashboard manages them: created with a name and shown once,
listed (name, date, last characters), revoked at once.

A key is `apikey:<sha256>` → merchant id (what the API checks on every request, so deleting
it refuses the next request), and an entry in the merchant's list. The key `merchant create`
gives is listed too; one made before it was (an older deployment) is found once by
`adopt_unlisted` and listed without its last characters, which were never kept.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.merchants import API_KEY_PREFIX, FIRST_KEY_NAME, listed_key

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
    digest, entry = listed_key(clear, name, now.isoformat())
    # The list first, then the key (two hash slots): a crash in between lists a key that
    # does not work (revoke removes it), never a working key that nobody sees.
    await redis.hset(keys.merchant_api_keys(merchant_id), digest, entry)
    await redis.set(keys.api_key(digest), merchant_id)
    return ApiKey(**json.loads(entry)), clear


async def adopt_unlisted(redis: aioredis.Redis, merchant_id: str, created_at: str) -> int:
    """List the merchant's keys made before `merchant create` listed its key (once per
    merchant: a marker remembers it; the keys are found by a SCAN, so not on every page).
    Returns how many were adopted."""
    marker = keys.merchant_api_keys_adopted(merchant_id)
    if await redis.exists(marker):
        return 0
    listed_now = await redis.hgetall(keys.merchant_api_keys(merchant_id))
    adopted = 0
    async for name in redis.scan_iter(match=keys.api_key("*"), count=1000):
        digest = name.removeprefix(keys.api_key(""))
        if digest in listed_now or await redis.get(name) != merchant_id:
            continue
        entry = ApiKey(digest[:16], FIRST_KEY_NAME, created_at, "")
        await redis.hset(keys.merchant_api_keys(merchant_id), digest, json.dumps(asdict(entry)))
        adopted += 1
    await redis.set(marker, "1")
    return adopted


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
