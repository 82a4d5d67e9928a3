"""Issue 12: creating an invoice through the API costs 3 Redis round trips before its answer
(the key with the merchant's record, senders and policy; the create script; the announcement),
and what a process keeps between creates never outlives a change: the merchant's record and
policy are cached by their stored text, the key itself is read on every request."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlparse

import pytest
from redis.asyncio.connection import Connection

from bot.store import keys
from bot.store.announcement_retirer import AnnouncementRetirer
from bot.store.merchants import hash_api_key
from bot.web.app_keys import SERVICES
from tests.scenario.harness import Facto, invoice_body

REWARD = {"enabled": True, "within_hours": 48, "kind": "points", "points": 50, "streak": 3}


@pytest.fixture
def sends(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every command or pipeline any client sends (nothing else talks to Redis here)."""
    tally: list[int] = []
    original = Connection.send_packed_command

    async def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        tally.append(1)
        await original(self, command, check_health)

    monkeypatch.setattr(Connection, "send_packed_command", counted)
    return tally


def retirer(facto: Facto) -> AnnouncementRetirer:
    """The web process's (its removals are awaited before counting)."""
    found: AnnouncementRetirer = facto.client.app[SERVICES].retirer
    return found


async def created(facto: Facto, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await facto.post_invoice(body or invoice_body())
    assert response.status == 201, await response.text()
    answer: dict[str, Any] = await response.json()
    return answer


async def test_a_create_answers_after_three_round_trips_findable_and_announced(
    facto: Facto, sends: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    await created(facto, invoice_body(address=1))  # the key seen, the scripts loaded
    await retirer(facto).wait()
    sends.clear()
    before_answer: list[int] = []
    retire = AnnouncementRetirer.retire

    def counted(self: AnnouncementRetirer, merchant_id: str, invoice_id: str) -> None:
        before_answer.append(len(sends))  # the last step before the answer
        retire(self, merchant_id, invoice_id)

    monkeypatch.setattr(AnnouncementRetirer, "retire", counted)

    answer = await created(facto)
    await retirer(facto).wait()
    assert before_answer == [3]
    assert len(sends) == 4  # and the announcement's removal, after the answer
    # Findable by its links, and its "invoice issued" event waiting, when the answer leaves.
    assert (await facto.client.get(urlparse(answer["pay_url"]).path)).status in (200, 302, 303)
    [raw] = await facto.redis.lrange("conv:{telegram:424242}:inbox", 0, -1)
    assert json.loads(raw)["data"]["invoice_id"] == answer["id"]
    # Its announcement is removed: nothing left for the worker.
    assert facto.merchant is not None
    assert await facto.redis.hlen(keys.merchant_announcements(facto.merchant.id)) == 0
    assert await facto.worker.announce_issued() == 0
    await facto.drain()
    assert len(await facto.messages("telegram", "424242")) == 1


async def test_concurrent_creates_each_announce_their_own_once(facto: Facto) -> None:
    bodies = [invoice_body("sms", f"+336123400{n:02d}") for n in range(12)]
    answers = await asyncio.gather(*(created(facto, body) for body in bodies))
    await retirer(facto).wait()
    assert facto.merchant is not None
    assert await facto.redis.hlen(keys.merchant_announcements(facto.merchant.id)) == 0
    await facto.drain()
    for body, answer in zip(bodies, answers, strict=True):
        [message] = await facto.messages("sms", body["customer"]["phone"])
        assert answer["pay_url"] in str(message)


async def test_a_revoked_key_is_refused_on_the_next_request(facto: Facto) -> None:
    await created(facto)
    await facto.redis.delete(keys.api_key(hash_api_key(facto.api_key)))
    assert (await facto.post_invoice(invoice_body())).status == 401


async def test_an_edited_merchant_is_printed_on_the_next_invoice(facto: Facto) -> None:
    """The cached identity is keyed by the stored record: an edit (the desk's Settings, from
    any process) is read by the very next create, and a broken one refused at once."""
    assert facto.merchant is not None
    first = await created(facto)
    stored = json.loads(await facto.redis.get(keys.merchant(facto.merchant.id)))
    await facto.redis.set(
        keys.merchant(facto.merchant.id), json.dumps({**stored, "legal_name": "Renamed SAS"})
    )
    second = await created(facto)
    invoice = json.loads(
        await facto.redis.get(keys.invoice(facto.merchant.id, second["id"])) or "{}"
    )
    assert invoice["seller"]["legal_name"] == "Renamed SAS"
    assert first["id"] != second["id"]

    await facto.redis.set(
        keys.merchant(facto.merchant.id),
        json.dumps({**stored, "vat_number": "FR00732829320"}),
    )
    refused = await facto.post_invoice(invoice_body())
    assert refused.status == 422
    assert (await refused.json())["code"] == "merchant_identity_invalid"


async def test_a_policy_change_applies_to_the_next_invoice(facto: Facto) -> None:
    assert facto.merchant is not None
    assert (await created(facto))["reward"] is None
    headers = {"Authorization": f"Bearer {facto.api_key}"}
    response = await facto.client.put("/api/v1/policy", json={"reward": REWARD}, headers=headers)
    assert response.status == 200, await response.text()
    assert (await created(facto))["reward"]["points"] == 50


async def test_with_an_idempotency_key_the_create_frees_the_key_itself(
    facto: Facto, sends: list[int]
) -> None:
    """One round trip more (the key's claim), none after: the create script stores the answer
    and frees the key's lock together, so nothing is left to release."""
    headers = {"Authorization": f"Bearer {facto.api_key}", "Idempotency-Key": "order-0"}
    warm = await facto.client.post(
        "/api/v1/invoices", json=invoice_body(address=1), headers=headers
    )
    assert warm.status == 201  # the key seen, the scripts loaded
    headers["Idempotency-Key"] = "order-1"
    await retirer(facto).wait()
    sends.clear()
    first = await facto.client.post("/api/v1/invoices", json=invoice_body(), headers=headers)
    assert first.status == 201
    await retirer(facto).wait()
    assert len(sends) == 5  # key, claim, create, announcement; then its removal
    assert facto.merchant is not None
    assert await facto.redis.keys(keys.idempotency_lock(facto.merchant.id, "*")) == []
    again = await facto.client.post("/api/v1/invoices", json=invoice_body(), headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.json() == await first.json()


async def test_the_next_create_removes_the_announcement_before_it(
    facto: Facto, sends: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back-to-back creates remove each other's carried-out announcement in their own script:
    no round trip of its own; only the last one waits for the removal task."""
    monkeypatch.setattr(AnnouncementRetirer, "RETIRE_AFTER", 3600.0)  # only `wait` flushes
    await created(facto, invoice_body(address=1))
    await retirer(facto).wait()
    sends.clear()
    assert facto.merchant is not None
    announcing = keys.merchant_announcements(facto.merchant.id)

    first = await created(facto, invoice_body(address=2))
    assert await facto.redis.hkeys(announcing) == [first["id"]]
    second = await created(facto, invoice_body(address=3))
    assert await facto.redis.hkeys(announcing) == [second["id"]]
    assert len(sends) == 6 + 2  # two creates, and this test's two reads
    await retirer(facto).wait()
    assert await facto.redis.hlen(announcing) == 0
