"""A merchant's collection policy, one JSON document (validated by `bot.web.policy`): the
reminder ladder, the pay-later window, the split rules, the languages offered and the
fast-payment reward."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys
from flows.dunning import policy_from_dict, policy_to_dict
from flows.model import DunningPolicy, PayLaterPolicy
from payments.instalments import InstalmentPolicy
from payments.reward import RewardPolicy

LANGUAGES = ("fr", "en")  # the catalogs in locales/


@dataclass(frozen=True, slots=True)
class CollectionPolicy:
    reminders: DunningPolicy = field(default_factory=DunningPolicy)
    pay_later: PayLaterPolicy = field(default_factory=PayLaterPolicy)
    split: InstalmentPolicy | None = None  # None: 2 up to the merchant's --max-instalments
    languages: tuple[str, ...] = LANGUAGES
    reward: RewardPolicy = field(default_factory=RewardPolicy)


def split_to_dict(policy: InstalmentPolicy) -> dict[str, Any]:
    return {
        "allowed_parts": list(policy.allowed_parts),
        "minimum": dict(policy.min_totals),
        "max_span_days": policy.max_span_days,
    }


def split_from_dict(data: dict[str, Any]) -> InstalmentPolicy:
    return InstalmentPolicy(
        min_totals=tuple(sorted((str(c), int(a)) for c, a in data["minimum"].items())),
        allowed_parts=tuple(int(p) for p in data["allowed_parts"]),
        max_span_days=int(data["max_span_days"]),
    )


async def load_all(redis: aioredis.Redis, merchant_id: str) -> CollectionPolicy:
    return parse_policy(await redis.get(keys.merchant_policy(merchant_id)))


def parse_policy(raw: str | None) -> CollectionPolicy:
    """The policy stored as `raw` (None: never set, the defaults)."""
    return _parsed(raw) if raw else _defaults()


@functools.cache
def _defaults() -> CollectionPolicy:
    # Read on every invoice created by a merchant who never set a policy: built once, shared
    # like the parsed ones (every part of it is immutable).
    return CollectionPolicy()


@functools.lru_cache(maxsize=1024)
def _parsed(raw: str) -> CollectionPolicy:
    # Once per process per version of the document: a changed policy is another string, so
    # nothing stale is returned, and every part of CollectionPolicy is immutable (shared).
    document = json.loads(raw)
    pay_later = document.get("pay_later")
    split = document.get("split")
    return CollectionPolicy(
        reminders=policy_from_dict(document.get("reminders", {})),
        pay_later=PayLaterPolicy(int(pay_later["max_days_after_due"]))
        if pay_later
        else PayLaterPolicy(),
        split=split_from_dict(split) if split else None,
        languages=tuple(document.get("languages") or LANGUAGES),
        reward=RewardPolicy.from_dict(document["reward"])
        if document.get("reward")
        else RewardPolicy(),
    )


async def load(redis: aioredis.Redis, merchant_id: str) -> DunningPolicy:
    return (await load_all(redis, merchant_id)).reminders


async def save(redis: aioredis.Redis, merchant_id: str, policy: CollectionPolicy) -> None:
    document: dict[str, Any] = {
        "version": 2,
        "reminders": policy_to_dict(policy.reminders),
        "pay_later": {"max_days_after_due": policy.pay_later.max_days_after_due},
        "languages": list(policy.languages),
        "reward": policy.reward.to_dict(),
    }
    if policy.split is not None:
        document["split"] = split_to_dict(policy.split)
    await redis.set(keys.merchant_policy(merchant_id), json.dumps(document))
