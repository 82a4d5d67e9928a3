"""Every route of the merchant API is in the OpenAPI document (so a new route cannot be
forgotten), and the answers of the policy and channel routes validate against it."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from bot.web.openapi import SELF
from tests.scenario.harness import Facto, invoice_body


async def document(facto: Facto) -> dict[str, Any]:
    response = await facto.client.get("/api/v1/openapi.json")
    assert response.status == 200
    doc: dict[str, Any] = await response.json()
    return doc


def validate(doc: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    answer = doc["paths"][path][method]["responses"][str(status)]
    schema = answer["content"]["application/json"]["schema"]
    jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]}).validate(body)


async def test_every_api_route_is_in_the_document(facto: Facto) -> None:
    doc = await document(facto)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in facto.client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.resource.canonical not in SELF
        and route.method != "HEAD"  # aiohttp adds one to every GET
    }
    documented = {
        (method, path)
        for path, operations in doc["paths"].items()
        for method in operations
        if method in ("get", "put", "post", "delete", "patch")
    }
    assert served, "no route found: the test would pass vacuously"
    assert served - documented == set(), "routes missing from bot/web/openapi.py"
    assert documented - served == set(), "documented routes that do not exist"


async def test_policy_answers_validate(facto: Facto) -> None:
    doc = await document(facto)
    headers = {"Authorization": f"Bearer {facto.api_key}"}
    response = await facto.client.get("/api/v1/policy", headers=headers)
    validate(doc, "/api/v1/policy", "get", 200, await response.json())
    reward = {"enabled": True, "kind": "code", "code": "MERCI10", "within_hours": 24}
    body = {
        "reminders": {"days": [0, 7], "timezone": "America/Martinique"},
        "split": {"allowed_parts": [2, 3], "minimum": {"EUR": 3000}, "max_span_days": 60},
        "reward": reward,
    }
    jsonschema_rs.Draft202012Validator(
        {**doc["components"]["schemas"]["PolicyIn"], "components": doc["components"]}
    ).validate(body)
    response = await facto.client.put("/api/v1/policy", json=body, headers=headers)
    assert response.status == 200
    validate(doc, "/api/v1/policy", "put", 200, await response.json())
    response = await facto.client.put(
        "/api/v1/policy",
        json={"reward": {**reward, "applies_to": "this_invoice"}},
        headers=headers,
    )
    assert response.status == 422
    validate(doc, "/api/v1/policy", "put", 422, await response.json())

    # An invoice issued now carries the reward and its customer's zone, as documented.
    created = await facto.post_invoice(
        {
            **invoice_body(),
            "customer": {
                "name": "Camille Martin",
                "telegram_chat_id": 424242,
                "timezone": "America/Martinique",
            },
        }
    )
    assert created.status == 201
    issued = await created.json()
    validate(doc, "/api/v1/invoices", "post", 201, issued)
    assert issued["customer"]["timezone"] == "America/Martinique"
    assert issued["reward"]["code"] == "MERCI10"
    response = await facto.client.get(f"/api/v1/invoices/{issued['id']}", headers=headers)
    read = await response.json()
    validate(doc, "/api/v1/invoices/{invoice_id}", "get", 200, read)
    assert read["reward"]["granted"] is None


async def test_channel_answers_validate(facto: Facto) -> None:
    doc = await document(facto)
    headers = {"Authorization": f"Bearer {facto.api_key}"}
    response = await facto.client.post(
        "/api/v1/channels", json={"channel": "sms", "from": "+33757000111"}, headers=headers
    )
    assert response.status == 201, await response.text()
    validate(doc, "/api/v1/channels", "post", 201, await response.json())
    response = await facto.client.get("/api/v1/channels", headers=headers)
    listed = await response.json()
    validate(doc, "/api/v1/channels", "get", 200, listed)
    assert [s["from"] for s in listed["data"]] == ["+33757000111"]
    response = await facto.client.post(
        "/api/v1/channels", json={"channel": "fax"}, headers=headers
    )
    assert response.status == 400
    validate(doc, "/api/v1/channels", "post", 400, await response.json())
    response = await facto.client.delete("/api/v1/channels/sms", headers=headers)
    assert response.status == 204
    response = await facto.client.delete("/api/v1/channels/sms", headers=headers)
    assert response.status == 404
    validate(doc, "/api/v1/channels/{channel}", "delete", 404, await response.json())
