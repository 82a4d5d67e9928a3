"""Invoice creation through the API: the merchant's identity is validated once per process
per version of the merchant, and its API key costs one Redis read in steady state, while a
changed merchant is always read fresh."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import redis.asyncio as aioredis

import payments.merchant_ids
from bot.clock import FakeClock
from bot.store import keys, merchants
from bot.store.merchants import create_merchant, hash_api_key, merchant_for_api_key, set_iban
from bot.store.seller import seller_snapshot

IBAN = "FR7630006000011234567890189"


async def _merchant(redis: aioredis.Redis) -> tuple[merchants.Merchant, str]:
    return await create_merchant(
        redis,
        name="Cache",
        legal_name="Cache SAS",
        siren="732829320",
        vat_number="FR44732829320",
        address="1 rue du Test, 75001 Paris",
        now=FakeClock().now(),
        legal_form="SAS",
        share_capital=1_000_000,
        rcs_city="RCS Paris",
    )


class Counting:
    """Counts the round trips a client makes: single GETs and pipelines."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis, self.round_trips = redis, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.redis, name)

    async def get(self, key: str) -> Any:
        self.round_trips += 1
        return await self.redis.get(key)

    def pipeline(self, transaction: bool = True) -> Any:
        pipe = self.redis.pipeline(transaction=transaction)
        execute = pipe.execute

        async def counted(raise_on_error: bool = True) -> Any:
            self.round_trips += 1
            return await execute(raise_on_error)

        pipe.execute = counted
        return pipe


async def test_a_revoked_key_is_refused_at_once(redis: aioredis.Redis) -> None:
    """No per-process memory of keys, only of the merchant a key named: the key is read on
    every request, so a revocation holds on every web process at once."""
    merchant, api_key = await _merchant(redis)
    counting, hints = Counting(redis), dict[str, str]()
    assert await merchant_for_api_key(counting, api_key, hints) == merchant
    assert counting.round_trips == 2  # the key, then the merchant's record
    assert await merchant_for_api_key(counting, api_key, hints) == merchant
    assert counting.round_trips == 3  # seen before: the key and the merchant together
    await redis.delete(keys.api_key(hash_api_key(api_key)))
    assert await merchant_for_api_key(redis, api_key, hints) is None
    assert hints == {}  # forgotten with the key
    assert await merchant_for_api_key(redis, api_key, hints) is None


async def test_without_hints_the_key_and_its_merchant_take_two_round_trips(
    redis: aioredis.Redis,
) -> None:
    """The hints are the caller's (one mapping per process, `Services.key_hints`): none kept
    between calls that pass none, and two processes' hints are independent."""
    merchant, api_key = await _merchant(redis)
    counting = Counting(redis)
    for round_trips in (2, 4):
        assert await merchant_for_api_key(counting, api_key) == merchant
        assert counting.round_trips == round_trips
    one, other = dict[str, str](), dict[str, str]()
    assert await merchant_for_api_key(redis, api_key, one) == merchant
    assert one == {hash_api_key(api_key): merchant.id} and other == {}


async def test_the_prelude_is_read_with_the_key(redis: aioredis.Redis) -> None:
    merchant, api_key = await _merchant(redis)
    await redis.set(keys.merchant_policy(merchant.id), "{}")

    def prelude(pipe: aioredis.client.Pipeline, merchant_id: str) -> None:
        pipe.get(keys.merchant_policy(merchant_id))
        pipe.exists(keys.merchant(merchant_id))

    counting, hints = Counting(redis), dict[str, str]()
    for round_trips in (2, 3):
        found = await merchants.authenticate(counting, api_key, prelude, hints=hints)
        assert found is not None and found.merchant == merchant
        assert found.replies == ["{}", 1]
        assert counting.round_trips == round_trips


async def test_a_changed_merchant_is_never_served_stale(redis: aioredis.Redis) -> None:
    merchant, api_key = await _merchant(redis)
    hints = dict[str, str]()
    assert await merchant_for_api_key(redis, api_key, hints) == merchant
    await set_iban(redis, merchant.id, IBAN)
    changed = await merchant_for_api_key(redis, api_key, hints)
    assert changed is not None and changed.iban == IBAN


async def test_an_unknown_key_is_refused_every_time(redis: aioredis.Redis) -> None:
    _, api_key = await _merchant(redis)
    assert await merchant_for_api_key(redis, api_key + "x") is None
    assert await merchant_for_api_key(redis, "fk_unknown") is None


async def test_a_deleted_merchant_is_not_served_from_the_cache(redis: aioredis.Redis) -> None:
    merchant, api_key = await _merchant(redis)
    hints = dict[str, str]()
    assert await merchant_for_api_key(redis, api_key, hints) == merchant
    await redis.delete(keys.merchant(merchant.id))
    assert await merchant_for_api_key(redis, api_key, hints) is None


async def test_siren_and_vat_are_validated_once_per_version(
    redis: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    merchant, _key = await _merchant(redis)
    checked: list[str] = []
    real = payments.merchant_ids.validate_siren

    def counting(siren: str) -> str:
        checked.append(siren)
        return real(siren)

    monkeypatch.setattr(payments.merchant_ids, "validate_siren", counting)
    seller_snapshot.cache_clear()
    first = seller_snapshot(merchant)
    per_snapshot = len(checked)
    assert per_snapshot >= 1
    assert seller_snapshot(merchant) is first and len(checked) == per_snapshot
    moved = dataclasses.replace(merchant, address="2 rue du Test, 75002 Paris")
    assert seller_snapshot(moved).address == "2 rue du Test, 75002 Paris"
    assert len(checked) == 2 * per_snapshot
