"""GET /api/v1/customers, /campaigns, /payments, /credit-notes: the merchant's own, paged with
the invoices' cursor and 422s, and the answers validate against the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

from bot.store import desk, keys
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_openapi_routes import document, validate


async def get(facto: Facto, path: str, key: str) -> tuple[int, Any]:
    response = await facto.client.get(path, headers={"Authorization": f"Bearer {key}"})
    return response.status, await response.json()


async def test_lists_are_scoped_paged_and_documented(facto: Facto) -> None:
    doc = await document(facto)
    headers = {"Authorization": f"Bearer {facto.api_key}"}
    for n in range(3):
        body = {"id": f"c{n}", "name": f"Client {n}", "phone": f"+3361234500{n}"}
        response = await facto.client.post("/api/v1/customers", json=body, headers=headers)
        assert response.status == 201, await response.text()
    assert (await facto.post_invoice(invoice_body())).status == 201
    _other, other_key = await facto.add_merchant(name="Autre boutique")

    status, first = await get(facto, "/api/v1/customers?limit=2", facto.api_key)
    assert status == 200
    validate(doc, "/api/v1/customers", "get", 200, first)
    assert [c["id"] for c in first["customers"]] == ["c0", "c1"]
    _, second = await get(facto, f"/api/v1/customers?cursor={first['next_cursor']}", facto.api_key)
    assert [c["id"] for c in second["customers"]] == ["c2"] and second["next_cursor"] is None
    assert (await get(facto, "/api/v1/customers", other_key))[1]["customers"] == []

    for path in ("/api/v1/campaigns", "/api/v1/payments", "/api/v1/credit-notes"):
        status, page = await get(facto, path, facto.api_key)
        assert status == 200, page
        validate(doc, path, "get", 200, page)
        assert page["next_cursor"] is None
        status, bad = await get(facto, path + "?limit=0&cursor=%25", facto.api_key)
        assert status == 422
        validate(doc, path, "get", 422, bad)
        assert {f["field"] for f in bad["fields"]} == {"limit", "cursor"}
    status, bad = await get(facto, "/api/v1/campaigns?state=gone", facto.api_key)
    assert status == 422 and bad["fields"][0]["field"] == "state"


async def test_money_to_review_reads_past_other_merchants_entries(facto: Facto) -> None:
    """The review list is shared by all merchants: 1,200 entries of others before ours must
    not hide ours (it used to read only the first 500)."""
    assert facto.merchant is not None
    others = [
        json.dumps({"merchant_id": "other", "invoice_id": f"i{n}", "session_id": f"s{n}"})
        for n in range(1200)
    ]
    await facto.redis.rpush(keys.PAYMENTS_MISMATCH, *others)
    ours = {"merchant_id": facto.merchant.id, "invoice_id": "inv", "session_id": "cs_late"}
    await facto.redis.rpush(keys.PAYMENTS_MISMATCH, json.dumps({**ours, "reason": "amount"}))
    status, body = await get(facto, "/api/v1/payments/review", facto.api_key)
    assert status == 200
    assert body["payments"] == [{"invoice_id": "inv", "payment_id": "cs_late", "reason": "amount"}]
    found = await desk.find_review(facto.redis, facto.merchant.id, "cs_late")
    assert found is not None
    assert await desk.remove_review(facto.redis, facto.merchant.id, "cs_late") == 1
