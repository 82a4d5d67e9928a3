"""`POST /api/v1/shops` with an Idempotency-Key: the WooCommerce secret Facto made is shown
again by a replay (the first answer may never have been read), but the answer kept for the
replay is sealed like the secret itself: nothing in Redis holds the secret in clear."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.store import keys
from tests.scenario.harness import Facto

SITE = "https://miel-des-collines.fr/"
KEY = "connect-woo-1"


async def _connect(facto: Facto, key: str = KEY) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = await facto.client.post(
        "/api/v1/shops",
        json={"platform": "woocommerce", "shop": SITE},
        headers={"Authorization": f"Bearer {facto.api_key}", "Idempotency-Key": key},
    )
    return response.status, dict(response.headers), await response.json()


async def _values_in_redis(facto: Facto) -> list[str]:
    """Every string, hash, list, set and sorted-set value in the database."""
    found: list[str] = []
    async for key in facto.redis.scan_iter(count=1000):
        kind = await facto.redis.type(key)
        if kind == "string":
            found.append(await facto.redis.get(key) or "")
        elif kind == "hash":
            found += (await facto.redis.hgetall(key)).values()
        elif kind == "list":
            found += await facto.redis.lrange(key, 0, -1)
        elif kind == "set":
            found += await facto.redis.smembers(key)
        elif kind == "zset":
            found += await facto.redis.zrange(key, 0, -1)
    return found


def _record_key(facto: Facto, key: str = KEY) -> str:
    assert facto.merchant is not None
    return keys.idempotency(facto.merchant.id, hashlib.sha256(key.encode()).hexdigest())


async def test_the_replay_shows_the_secret_again_but_redis_never_holds_it_in_clear(
    facto: Facto,
) -> None:
    status, _, first = await _connect(facto)
    assert status == 201
    secret = first["secret"]

    assert not [value for value in await _values_in_redis(facto) if secret in value]
    assert json.loads(await facto.redis.get(_record_key(facto)))["sealed"] is True

    status, headers, again = await _connect(facto)
    assert status == 201
    assert headers["Idempotent-Replayed"] == "true"
    assert again == first  # the same connection and the same secret, not a second shop
    listed = await facto.client.get(
        "/api/v1/shops", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert len((await listed.json())["data"]) == 1


async def test_a_replay_sealed_under_another_key_is_409_not_500(facto: Facto) -> None:
    status, _, _ = await _connect(facto)
    assert status == 201
    record = json.loads(await facto.redis.get(_record_key(facto)))
    record["body"] = "gAAAAABsealed-under-another-key"  # FACTO_SECRETS_KEY changed since
    await facto.redis.set(_record_key(facto), json.dumps(record))

    status, _, answer = await _connect(facto)

    assert status == 409
    assert answer["code"] == "idempotency_answer_sealed"
    assert "FACTO_SECRETS_KEY" in answer["error"]
