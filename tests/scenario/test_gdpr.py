"""GDPR export and erasure of one customer (issue 14), through the API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.engine.gdpr import digest
from bot.store import keys
from bot.store.conversations import fold_transcript, transcript
from sandbox.shops import shopify_order, shopify_request
from tests.scenario.harness import Facto, invoice_body, start_facto

WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
PHONE = "+33612345678"
SMS = ("sms", PHONE)
CONSENT = {"source": "checkout-form", "words": "J'accepte de recevoir les offres par SMS"}


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=WEDNESDAY)
    await app.add_merchant()
    yield app
    await app.client.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def call(shop: Facto, method: str, path: str, key: str | None = None) -> tuple[int, Any]:
    response = await shop.client.request(method, path, headers=auth(key or shop.api_key))
    return response.status, await response.json()


async def known_customer(shop: Facto) -> dict[str, Any]:
    body = {"id": "c1", "name": "Léa Petit", "phone": PHONE, "consent": CONSENT}
    response = await shop.client.post("/api/v1/customers", json=body, headers=auth(shop.api_key))
    assert response.status == 201, await response.text()
    created = await shop.issue(invoice_body(*SMS))
    await shop.customer_says(*SMS, "aide")
    return created


async def test_the_export_holds_everything_about_the_customer(shop: Facto) -> None:
    created = await known_customer(shop)
    await shop.customer_says(*SMS, "merci")  # the older turns are read from the archive
    status, data = await call(shop, "GET", "/api/v1/customers/c1/export")
    assert status == 200
    assert data["customer"]["name"] == "Léa Petit"
    assert data["consent"][f"sms:{PHONE}"]["words"] == CONSENT["words"]
    assert [e["words"] for e in data["consent_log"]] == [CONSENT["words"]]
    said = [e["text"] for e in data["conversations"][f"sms:{PHONE}"]]
    assert "aide" in said and "merci" in said and len(said) >= 4  # both ways, in order
    assert said.index("aide") < said.index("merci")
    assert [i["id"] for i in data["invoices"]] == [created["id"]]
    assert "pay_token" not in data["invoices"][0]
    assert data["erasures"] == []


async def test_another_merchant_or_an_unknown_id_gets_a_404(shop: Facto) -> None:
    await known_customer(shop)
    _, other = await shop.add_merchant(name="Autre")
    for method, path in (
        ("GET", "/api/v1/customers/c1/export"),
        ("DELETE", "/api/v1/customers/c1"),
    ):
        assert (await call(shop, method, path, other))[0] == 404
    assert (await call(shop, "GET", "/api/v1/customers/nobody/export"))[0] == 404
    assert (await call(shop, "GET", "/api/v1/customers/%20bad%20/export"))[0] == 404
    assert (await shop.client.delete("/api/v1/customers/c1")).status == 401


async def test_erasure_removes_contact_data_keeps_invoices_and_is_recorded(shop: Facto) -> None:
    created = await known_customer(shop)
    assert shop.merchant is not None
    merchant = shop.merchant.id
    # Their run of invoices paid on time and reward points (issue 10) are keyed by the phone.
    await shop.redis.hset(keys.payer(merchant, PHONE), mapping={"streak": 2, "points": 50})
    await shop.customer_says(*SMS, "merci")
    await fold_transcript(shop.redis, f"sms:{PHONE}")  # housekeeping: older turns archived
    await shop.customer_says(*SMS, "merci encore")  # and the last ones live
    assert await shop.redis.exists(keys.conv_log_archive(f"sms:{PHONE}"))
    assert await shop.redis.exists(keys.conv_log(f"sms:{PHONE}"))
    status, body = await call(shop, "DELETE", "/api/v1/customers/c1")
    assert status == 200, body
    assert not await shop.redis.exists(keys.payer(merchant, PHONE))
    record = body["erasure"]
    assert record["customer_id"] == "c1" and record["at"] == shop.clock.now().isoformat()
    assert record["addresses"] == [digest(f"sms:{PHONE}")]
    assert record["kept"]["invoices"] == 1 and "transcripts" in record["erased"]
    assert PHONE not in json.dumps(record) and "Léa" not in json.dumps(record)

    assert await shop.redis.hget(keys.customers(merchant), "c1") is None
    assert len(await transcript(shop.redis, f"sms:{PHONE}")) == 0
    assert not await shop.redis.exists(keys.conv_log_archive(f"sms:{PHONE}"))
    consent = json.loads(await shop.redis.get(keys.consent(merchant, f"sms:{PHONE}")))
    assert consent["opted_in"] is True and consent["words"] == "" and "proof" not in consent
    log = [json.loads(e) for e in await shop.redis.lrange(keys.consent_log(merchant), 0, -1)]
    assert PHONE not in json.dumps(log) and "J'accepte" not in json.dumps(log)
    erasures = await shop.redis.lrange(keys.merchant_erasures(merchant), 0, -1)
    assert [json.loads(e)["customer_id"] for e in erasures] == ["c1"]

    # The invoice stays for ten years, as issued, and so does its PDF.
    status, invoice = await call(shop, "GET", f"/api/v1/invoices/{created['id']}")
    assert status == 200 and invoice["customer"]["name"] == "Camille Martin"
    pdf = await shop.client.get(urlparse(created["invoice_url"]).path + "/pdf")
    assert pdf.status == 200

    assert (await call(shop, "DELETE", "/api/v1/customers/c1"))[0] == 404
    assert (await call(shop, "GET", "/api/v1/customers/c1/export"))[0] == 404


async def test_an_opt_out_survives_the_erasure(shop: Facto) -> None:
    await known_customer(shop)
    await shop.customer_says(*SMS, "STOP")
    assert shop.merchant is not None
    assert (await call(shop, "DELETE", "/api/v1/customers/c1"))[0] == 200
    consent = json.loads(await shop.redis.get(keys.consent(shop.merchant.id, f"sms:{PHONE}")))
    assert consent["opted_in"] is False  # the suppression list still stops marketing


async def test_an_erasure_waits_for_the_dispatch_that_holds_the_conversation(
    shop: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dispatch commits its transcript entries under the conversation's lock: the erasure
    waits for it, so the entry of the message being handled is erased too."""
    await known_customer(shop)
    conversation = f"sms:{PHONE}"
    await shop.redis.set(keys.conv_lock(conversation), "a-worker")
    polls = 0
    clock_sleep = shop.clock.sleep

    async def poll_while_the_dispatch_finishes(seconds: float) -> None:
        nonlocal polls
        polls += 1
        if polls == 3:  # the dispatch commits its entry, then lets the conversation go
            await shop.redis.rpush(keys.conv_log(conversation), json.dumps({"text": "late"}))
            await shop.redis.delete(keys.conv_lock(conversation))
        await clock_sleep(seconds)

    monkeypatch.setattr(shop.clock, "sleep", poll_while_the_dispatch_finishes)
    status, body = await call(shop, "DELETE", "/api/v1/customers/c1")
    assert status == 200, body
    assert polls == 3
    assert len(await transcript(shop.redis, conversation)) == 0


async def test_a_conversation_held_too_long_gets_a_409_and_nothing_is_erased(shop: Facto) -> None:
    await known_customer(shop)
    assert shop.merchant is not None
    conversation = f"sms:{PHONE}"
    await shop.redis.set(keys.conv_lock(conversation), "a-stuck-worker")
    status, body = await call(shop, "DELETE", "/api/v1/customers/c1")
    assert status == 409, body
    assert await shop.redis.hget(keys.customers(shop.merchant.id), "c1") is not None
    assert len(await transcript(shop.redis, conversation)) > 0
    assert await shop.redis.llen(keys.merchant_erasures(shop.merchant.id)) == 0


async def test_erasure_forgets_the_phone_a_shop_order_indexed(shop: Facto) -> None:
    """A shop order indexes the customer's number (phone -> customer id) to find them on the
    next order: erasing the customer must not leave that number behind."""
    assert shop.merchant is not None
    secret = "shpss_0123456789abcdef0123456789abcdef"
    domain = "atelier-lumiere.myshopify.com"
    connected = await shop.client.post(
        "/api/v1/shops",
        json={"platform": "shopify", "shop": domain, "secret": secret},
        headers=auth(shop.api_key),
    )
    path = (await connected.json())["webhook_path"]
    body, headers = shopify_request(shopify_order(phone=PHONE), secret, shop=domain)
    ordered = await shop.client.post(path, data=body, headers=headers)
    assert ordered.status == 201, await ordered.text()
    index = keys.customer_phones(shop.merchant.id)
    [customer_id] = (await shop.redis.hgetall(index)).values()

    status, _ = await call(shop, "DELETE", f"/api/v1/customers/{customer_id}")

    assert status == 200
    assert await shop.redis.hget(index, PHONE) is None


async def test_an_invoice_only_customer_is_exported_and_erased_by_address(shop: Facto) -> None:
    """Invoiced through the API, never registered: the address stands for the customer."""
    created = await shop.issue(invoice_body(*SMS))
    await shop.customer_says(*SMS, "aide")
    assert shop.merchant is not None
    path = f"/api/v1/customers/sms:{PHONE}"
    status, data = await call(shop, "GET", path + "/export")
    assert status == 200, data
    assert data["customer"] == {"id": None, "addresses": [f"sms:{PHONE}", f"whatsapp:{PHONE}"]}
    assert [i["id"] for i in data["invoices"]] == [created["id"]]
    assert "aide" in [e["text"] for e in data["conversations"][f"sms:{PHONE}"]]

    status, body = await call(shop, "DELETE", path)
    assert status == 200, body
    record = body["erasure"]
    assert record["customer_id"] is None and PHONE not in json.dumps(record)
    assert record["kept"]["invoices"] == 1 and record["transcripts_erased"] == 1
    assert len(await transcript(shop.redis, f"sms:{PHONE}")) == 0
    # The invoice stays; the erasure is found again by the same address.
    assert (await call(shop, "GET", f"/api/v1/invoices/{created['id']}"))[0] == 200
    status, data = await call(shop, "GET", path + "/export")
    assert status == 200 and not any(data["conversations"].values())
    assert [e["customer_id"] for e in data["erasures"]] == [None]


async def test_an_unknown_or_malformed_address_gets_a_404(shop: Facto) -> None:
    await shop.issue(invoice_body(*SMS))
    _, other = await shop.add_merchant(name="Autre")
    for path in ("sms:+33699999999", "sms:0612", "telegram:abc", "fax:+33612345678"):
        assert (await call(shop, "GET", f"/api/v1/customers/{path}/export"))[0] == 404, path
    assert (await call(shop, "DELETE", f"/api/v1/customers/sms:{PHONE}", other))[0] == 404


async def test_an_address_of_a_registered_customer_erases_the_whole_customer(shop: Facto) -> None:
    await known_customer(shop)
    status, body = await call(shop, "DELETE", f"/api/v1/customers/sms:{PHONE}")
    assert status == 200 and body["erasure"]["customer_id"] == "c1"
    assert (await call(shop, "GET", "/api/v1/customers/c1/export"))[0] == 404
