"""The OpenAPI document tells the truth: real answers validate against it, the cursor walks
every invoice once, the reference page renders it, and schemathesis finds no input that gives
a 500."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs

from bot.store import keys
from tests.scenario.harness import START, Facto, invoice_body
from tests.scenario.test_money import pay

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"


async def get(facto: Facto, path: str, **params: str) -> tuple[int, Any]:
    response = await facto.client.get(
        path, params=params, headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    return response.status, await response.json()


def check(doc: dict[str, Any], path: str, status: int, body: Any) -> None:
    """Validate `body` against the document's response schema for GET `path` and `status`."""
    schema = doc["paths"][path]["get"]["responses"][str(status)]["content"]["application/json"]
    full = {**schema["schema"], "components": doc["components"]}
    jsonschema_rs.Draft202012Validator(full).validate(body)


async def test_real_answers_validate_against_the_document(facto: Facto) -> None:
    status, doc = await get(facto, "/api/v1/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.1")
    paid = await facto.issue(invoice_body("telegram", 131))
    await facto.issue(invoice_body("telegram", 132))
    await pay(facto, paid["pay_url"])
    i = paid["id"]
    day = START.date().isoformat()
    answers = [
        ("/api/v1/invoices", "/api/v1/invoices", {}),
        ("/api/v1/invoices", "/api/v1/invoices", {"status": "paid", "limit": "1"}),
        ("/api/v1/invoices/{invoice_id}", f"/api/v1/invoices/{i}", {}),
        ("/api/v1/invoices/{invoice_id}/timeline", f"/api/v1/invoices/{i}/timeline", {}),
        ("/api/v1/invoices/{invoice_id}/payments", f"/api/v1/invoices/{i}/payments", {}),
        ("/api/v1/invoices/{invoice_id}/credit-notes", f"/api/v1/invoices/{i}/credit-notes", {}),
        ("/api/v1/payments/review", "/api/v1/payments/review", {}),
        ("/api/v1/conversations", "/api/v1/conversations", {"status": "waiting_agent"}),
        ("/api/v1/kpis", "/api/v1/kpis", {"from": day, "to": day}),
    ]
    for template, path, params in answers:
        status, body = await get(facto, path, **params)
        assert status == 200, (path, body)
        check(doc, template, 200, body)
    status, body = await get(facto, "/api/v1/invoices", status="paid")
    assert [x["id"] for x in body["invoices"]] == [i]
    status, body = await get(facto, f"/api/v1/invoices/{i}/payments")
    assert body["payments"][0]["credited"] == paid["totals"]["gross"]
    status, body = await get(facto, "/api/v1/kpis", **{"from": day, "to": day})
    assert body["figures"]["all"]["conversion"] == 0.5
    for path, params in [
        ("/api/v1/invoices", {"limit": "0"}),
        ("/api/v1/invoices", {"cursor": "!!"}),
        ("/api/v1/invoices", {"overdue": "maybe"}),
        ("/api/v1/kpis", {"from": "2029-02-30"}),
    ]:
        status, body = await get(facto, path, **params)
        assert status == 422, (path, params)
        check(doc, path, 422, body)
    status, body = await get(facto, "/api/v1/invoices/inv_nope/timeline")
    assert status == 404
    check(doc, "/api/v1/invoices/{invoice_id}/timeline", 404, body)


async def test_the_cursor_walks_every_invoice_once_even_with_equal_times(facto: Facto) -> None:
    created = [(await facto.issue(invoice_body("telegram", 140 + n)))["id"] for n in range(7)]
    assert facto.merchant is not None
    # Same issue time for some of them: the cursor still neither repeats nor skips one.
    for invoice_id in created[2:5]:
        await facto.redis.zadd(keys.merchant_invoices(facto.merchant.id), {invoice_id: 1.5e9})
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(10):
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, body = await get(facto, "/api/v1/invoices", **params)
        assert status == 200
        seen += [x["id"] for x in body["invoices"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))


async def test_the_reference_page_renders_the_document(facto: Facto) -> None:
    response = await facto.client.get("/api/v1/reference")
    text = await response.text()
    assert response.status == 200
    assert "GET /api/v1/invoices/{invoice_id}/timeline" in text and "schema-Invoice" in text
    assert "script" not in response.headers["Content-Security-Policy"]


async def test_schemathesis_finds_no_input_that_gives_a_500(facto: Facto, tmp_path: Path) -> None:
    paid = await facto.issue(invoice_body("telegram", 151))
    await pay(facto, paid["pay_url"])
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        f"{facto.base_url}/api/v1/openapi.json",
        "--checks",
        "not_a_server_error",
        "--header",
        f"Authorization: Bearer {facto.api_key}",
        "--max-examples",
        "25",
        "--seed",
        "14",
        "--phases",
        "examples,coverage,fuzzing",
        "--request-timeout",
        "10",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,  # its cache (.schemathesis/) stays out of the worktree
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-4000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", text)
    assert counts and counts.group(1) == counts.group(2) and int(counts.group(1)) > 100, text


async def test_webhook_endpoint_answers_validate(facto: Facto) -> None:
    _, doc = await get(facto, "/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {facto.api_key}"}
    response = await facto.client.post(
        "/api/v1/webhook-endpoints",
        json={"url": "https://erp.example/hooks", "events": ["invoice.paid"]},
        headers=headers,
    )
    body = await response.json()
    assert response.status == 201 and body["secret"].startswith("whsec_")
    schema = doc["paths"]["/api/v1/webhook-endpoints"]["post"]["responses"]["201"]
    full = {**schema["content"]["application/json"]["schema"], "components": doc["components"]}
    jsonschema_rs.Draft202012Validator(full).validate(body)
    status, listed = await get(facto, "/api/v1/webhook-endpoints")
    assert status == 200 and "secret" not in listed["endpoints"][0]
    check(doc, "/api/v1/webhook-endpoints", 200, listed)
    bad: object
    for bad in (
        {"url": "ftp://x", "events": ["invoice.paid"]},
        {"url": "https://x.example", "events": ["invoice.eaten"]},
        {"url": "https://x.example", "events": [], "extra": 1},
        [],
    ):
        response = await facto.client.post("/api/v1/webhook-endpoints", json=bad, headers=headers)
        assert response.status == 422, bad
    response = await facto.client.delete(
        f"/api/v1/webhook-endpoints/{body['id']}", headers=headers
    )
    assert response.status == 200
    response = await facto.client.delete(
        f"/api/v1/webhook-endpoints/{body['id']}", headers=headers
    )
    assert response.status == 404
