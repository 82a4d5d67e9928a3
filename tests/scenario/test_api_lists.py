"""GET /api/v1/customers, /campaigns, /payments, /credit-notes: the merchant's own, paged with
the invoices' cursor and 422s, and the answers validate against the OpenAPI document."""

from __future__ import annotations

from typing import Any

from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_openapi_routes import document, validate

CONSENT = {"source": "shop", "words": "J'accepte les offres"}


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
