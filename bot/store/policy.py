"""A merchant's collection policy, one JSON document (validated by `bot.web.policy`)."""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from bot.store import keys
from flows.dunning import policy_from_dict, policy_to_dict
from flows.model import DunningPolicy


async def load(redis: aioredis.Redis, merchant_id: str) -> DunningPolicy:
    raw = await redis.get(keys.merchant_policy(merchant_id))
    return policy_from_dict(json.loads(raw)["reminders"]) if raw else DunningPolicy()


async def save(redis: aioredis.Redis, merchant_id: str, policy: DunningPolicy) -> None:
    document = {"version": 1, "reminders": policy_to_dict(policy)}
    await redis.set(keys.merchant_policy(merchant_id), json.dumps(document))
