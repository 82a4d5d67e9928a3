"""Idempotency-Key on the merchant API's POSTs (issue 6 §3, Stripe semantics).

Before: three POSTs with one key issued three numbered invoices.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot.store import keys
from tests.scenario.harness import Facto, invoice_body

PATH = "/api/v1/invoices"


async def post(
    facto: Facto, body: Any, key: str | None, api_key: str | None = None
) -> ClientResponse:
    headers = {"Authorization": f"Bearer {api_key or facto.api_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await facto.client.post(PATH, json=body, headers=headers)


async def invoice_count(facto: Facto, merchant_id: str | None = None) -> int:
    assert facto.merchant is not None
    count: int = await facto.redis.zcard(keys.merchant_invoices(merchant_id or facto.merchant.id))
    return count


async def test_three_posts_with_one_key_issue_one_invoice(facto: Facto) -> None:
    responses = [await post(facto, invoice_body(), "order-42") for _ in range(3)]
    bodies = [await r.json() for r in responses]

    assert [r.status for r in responses] == [201, 201, 201]
    assert "Idempotent-Replayed" not in responses[0].headers
    assert [r.headers.get("Idempotent-Replayed") for r in responses[1:]] == ["true", "true"]
    assert bodies[1] == bodies[0] and bodies[2] == bodies[0]
    assert bodies[0]["number"].endswith("-000001")
    assert await invoice_count(facto) == 1
    await facto.drain()
    assert len(await facto.messages("telegram", "424242")) == 1  # sent once


async def test_the_replay_is_the_first_answer_even_after_the_invoice_changed(
    facto: Facto,
) -> None:
    first = await (await post(facto, invoice_body(), "order-42")).json()
    # Key order and whitespace do not make another request: the same JSON object is replayed.
    body = dict(reversed(list(invoice_body().items())))
    await facto.drain()
    await facto.customer_says("telegram", "424242", "payer")
    replay = await post(facto, body, "order-42")
    assert replay.status == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert await replay.json() == first


async def test_same_key_with_another_body_is_a_422_naming_the_conflict(facto: Facto) -> None:
    first = await post(facto, invoice_body(), "order-42")
    other = invoice_body()
    other["lines"][0]["unit_amount"] = 9900
    response = await post(facto, other, "order-42")

    assert first.status == 201
    assert response.status == 422
    answer = await response.json()
    assert answer["code"] == "idempotency_key_reused"
    assert answer["field"] == "Idempotency-Key"
    assert "different request" in answer["error"]
    assert await invoice_count(facto) == 1


async def test_concurrent_posts_with_one_key_create_one_invoice(facto: Facto) -> None:
    responses = await asyncio.gather(*(post(facto, invoice_body(), "burst") for _ in range(12)))
    statuses = [r.status for r in responses]
    created = [r for r in responses if r.status == 201]
    originals = [r for r in created if "Idempotent-Replayed" not in r.headers]

    assert set(statuses) <= {201, 409}
    assert len(originals) == 1
    assert len({(await r.json())["id"] for r in created}) == 1
    for busy in (r for r in responses if r.status == 409):
        assert (await busy.json())["code"] == "idempotency_key_in_use"
        assert busy.headers["Retry-After"] == "1"
    assert await invoice_count(facto) == 1
    # Once the first is done, the key answers with its replay.
    later = await post(facto, invoice_body(), "burst")
    assert later.status == 201 and later.headers["Idempotent-Replayed"] == "true"


async def test_a_crashed_request_frees_its_key_after_the_lock_time(facto: Facto) -> None:
    """A request that died holding the key (process killed) does not block it forever."""
    from bot.store import idempotency

    assert facto.merchant is not None
    fingerprint = idempotency.fingerprint("POST", PATH, invoice_body())
    dead = idempotency.Claim.new(facto.merchant.id, "stuck", fingerprint, facto.clock.now())
    assert (await idempotency.begin(facto.redis, dead))[0] == "proceed"

    assert (await post(facto, invoice_body(), "stuck")).status == 409
    facto.clock.advance((idempotency.LOCK_FOR + timedelta(seconds=1)).total_seconds())
    assert (await post(facto, invoice_body(), "stuck")).status == 201


async def test_keys_are_scoped_per_merchant(facto: Facto) -> None:
    other, other_key = await facto.add_merchant(name="Autre boutique", invoice_prefix="B")
    mine = await post(facto, invoice_body(), "shared-key")
    theirs = await post(facto, invoice_body(), "shared-key", api_key=other_key)

    assert mine.status == 201 and theirs.status == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert (await theirs.json())["number"].startswith("B-")
    assert await invoice_count(facto) == 1
    assert await invoice_count(facto, other.id) == 1


async def test_the_key_expires_after_24_hours(facto: Facto) -> None:
    first = await (await post(facto, invoice_body(), "daily")).json()
    facto.clock.advance(timedelta(hours=23, minutes=59).total_seconds())
    assert (await post(facto, invoice_body(), "daily")).headers["Idempotent-Replayed"] == "true"
    facto.clock.advance(120)
    again = await post(facto, invoice_body(), "daily")
    assert again.status == 201 and "Idempotent-Replayed" not in again.headers
    assert (await again.json())["id"] != first["id"]


async def test_a_refused_request_does_not_use_up_its_key(facto: Facto) -> None:
    """Like Stripe: a request that failed validation ran nothing, so nothing is remembered."""
    invalid = invoice_body()
    invalid["currency"] = "NOPE"
    assert (await post(facto, invalid, "fix-and-retry")).status == 422
    response = await post(facto, invoice_body(), "fix-and-retry")
    assert response.status == 201 and "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize(
    "key",
    ["", " ", "a" * 256, "clé-accentuée", "two words", "tab\there", 'quote"s', "semi;colon"],
)
async def test_a_malformed_key_is_a_400(facto: Facto, key: str) -> None:
    response = await post(facto, invoice_body(), key)
    assert response.status == 400
    answer = await response.json()
    assert answer["field"] == "Idempotency-Key"
    assert "Idempotency-Key" in answer["error"]
    assert await invoice_count(facto) == 0


@pytest.mark.parametrize(
    "key", ["a", "a" * 255, "550e8400-e29b-41d4-a716-446655440000", "b64+/x==", "o:1.a_b~c"]
)
async def test_well_formed_keys_are_accepted(facto: Facto, key: str) -> None:
    assert (await post(facto, invoice_body(), key)).status == 201
    assert (await post(facto, invoice_body(), key)).headers["Idempotent-Replayed"] == "true"


async def test_without_a_key_each_post_is_a_new_invoice(facto: Facto) -> None:
    for _ in range(2):
        assert (await post(facto, invoice_body(), None)).status == 201
    assert await invoice_count(facto) == 2
