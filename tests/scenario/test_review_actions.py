"""Money to review, acted on: a payment the ledger did not count is applied to an invoice of
the same merchant (counted once, receipt sent, off the list), refunded through the Stripe
emulator with the real SDK (the refund webhook then issues the credit note), or dismissed;
from the dashboard (owners, CSRF) and from the API, answers checked against the OpenAPI
document."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema_rs
import pytest

from bot.engine import review
from bot.store import keys
from bot.web.openapi import document
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_money import GROSS, invoice, pay_outside_our_link, texts

REVIEW = "/api/v1/payments/review"


async def api(facto: Facto, path: str, body: Any = None, key: str = "") -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {key or facto.api_key}"}
    response = await facto.client.post(path, json=body, headers=headers)
    return response.status, await response.json()


def check(template: str, status: int, body: Any) -> None:
    doc = document("http://x")
    schema = doc["paths"][template]["post"]["responses"][str(status)]["content"]
    full = {**schema["application/json"]["schema"], "components": doc["components"]}
    jsonschema_rs.Draft202012Validator(full).validate(body)


async def to_review(facto: Facto) -> list[dict[str, Any]]:
    response = await facto.client.get(REVIEW, headers={"Authorization": f"Bearer {facto.api_key}"})
    payments: list[dict[str, Any]] = (await response.json())["payments"]
    return payments


async def audit(facto: Facto) -> list[str]:
    assert facto.merchant is not None
    raw = await facto.redis.lrange(keys.audit(facto.merchant.id), 0, -1)
    return [json.loads(r)["what"] for r in raw]


async def test_api_applies_a_short_payment_once_with_its_receipt(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    session = await pay_outside_our_link(facto, created["id"], 3000, "invoice")
    [item] = await to_review(facto)
    assert item["payment_id"] == session and "instead of 8580" in item["reason"]
    path = f"{REVIEW}/{session}/apply"
    status, body = await api(facto, path, {"invoice_id": created["id"]})
    assert status == 202, body
    check(f"{REVIEW}/{{payment_id}}/apply", 202, body)
    assert body == {
        "action": "apply",
        "payment_id": session,
        "invoice_id": created["id"],
        "amount": 3000,
        "state": "queued",
    }
    await facto.drain()
    after = await invoice(facto, created["id"])
    assert (after["status"], after["amount_paid"]) == ("partially_paid", 3000)
    assert any("30,00" in t for t in (await texts(facto))[-1:])  # the partial receipt
    assert await to_review(facto) == []
    # Again, and once more through the worker: still counted once.
    status, _ = await api(facto, path, {"invoice_id": created["id"]})
    assert status == 202
    await facto.drain()
    assert (await invoice(facto, created["id"]))["amount_paid"] == 3000
    assert (await audit(facto)).count("review_applied") == 1
    response = await facto.client.get(
        f"/api/v1/invoices/{created['id']}/payments",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    credited = [p for p in (await response.json())["payments"] if p["credited"]]
    assert [(p["id"], p["credited"]) for p in credited] == [(f"review:{session}", 3000)]
    # Another invoice cannot have it now.
    other = await facto.issue(invoice_body("telegram", 191))
    status, body = await api(facto, path, {"invoice_id": other["id"]})
    assert status == 409 and "already applied" in body["error"]
    check(f"{REVIEW}/{{payment_id}}/apply", 409, body)


async def test_a_payment_on_the_wrong_invoice_pays_another_one_in_full(facto: Facto) -> None:
    wrong = await facto.issue(invoice_body("telegram", 201))
    right = await facto.issue(invoice_body("telegram", 202))
    session = await pay_outside_our_link(facto, wrong["id"], GROSS, "instalment:1")
    status, _ = await api(facto, f"{REVIEW}/{session}/apply", {"invoice_id": right["id"]})
    assert status == 202
    await facto.drain()
    assert (await invoice(facto, right["id"]))["status"] == "paid"
    assert (await invoice(facto, wrong["id"]))["status"] == "open"
    assert any("Paiement" in t for t in await texts(facto, "202"))  # the receipt, there


async def test_what_cannot_be_applied_is_refused(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    too_much = await pay_outside_our_link(facto, created["id"], GROSS + 100, "invoice")
    status, body = await api(facto, f"{REVIEW}/{too_much}/apply", {"invoice_id": created["id"]})
    assert status == 409 and "refund the difference" in body["error"]
    status, body = await api(facto, f"{REVIEW}/{too_much}/apply", {"invoice_id": "inv_nope"})
    assert status == 404
    status, body = await api(facto, f"{REVIEW}/cs_nope/apply", {"invoice_id": created["id"]})
    assert status == 404
    status, body = await api(facto, f"{REVIEW}/{too_much}/apply", {"invoice": "x"})
    assert status == 422
    check(f"{REVIEW}/{{payment_id}}/apply", 422, body)
    # Another merchant sees none of it.
    _, other_key = await facto.add_merchant(name="Autre boutique")
    status, _ = await api(facto, f"{REVIEW}/{too_much}/refund", key=other_key)
    assert status == 404
    # A partial refund leaves the rest on the list; the rest can then be applied.
    status, body = await api(facto, f"{REVIEW}/{too_much}/refund", {"amount": 100})
    assert status == 200 and body["amount"] == 100, body
    check(f"{REVIEW}/{{payment_id}}/refund", 200, body)
    await facto.drain()
    assert [p["payment_id"] for p in await to_review(facto)] == [too_much]
    status, body = await api(facto, f"{REVIEW}/{too_much}/apply", {"invoice_id": created["id"]})
    assert status == 202 and body["amount"] == GROSS, body
    await facto.drain()
    after = await invoice(facto, created["id"])
    assert (after["status"], after["amount_paid"]) == ("paid", GROSS)
    assert after["amount_refunded"] == 0  # the 100 given back was never counted here


async def test_api_refund_goes_through_stripe_and_its_webhook(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    session = await pay_outside_our_link(facto, created["id"], 2000, "invoice")
    status, body = await api(facto, f"{REVIEW}/{session}/refund")
    assert status == 200 and body["amount"] == 2000, body
    await facto.drain()
    intent = facto.sandbox.sessions[session].payment_intent
    assert [r.amount for r in facto.sandbox.refunds.values() if r.payment_intent == intent] == [
        2000
    ]
    assert await to_review(facto) == []
    after = await invoice(facto, created["id"])
    assert (after["status"], after["amount_paid"]) == ("open", 0)
    response = await facto.client.get(
        f"/api/v1/invoices/{created['id']}/credit-notes",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    [note] = (await response.json())["credit_notes"]
    assert (note["reason"], note["totals"]["gross"]) == ("refund", 2000)
    assert any("avoir" in t.lower() for t in await texts(facto))  # the customer is told
    status, body = await api(facto, f"{REVIEW}/{session}/refund")
    assert status in (404, 409)
    status, body = await api(facto, f"{REVIEW}/{session}/apply", {"invoice_id": created["id"]})
    assert status in (404, 409)
    assert (await audit(facto)).count("review_refunded") == 1


async def test_dashboard_apply_twice_at_once_counts_once(facto: Facto, owner: Browser) -> None:
    created = await facto.issue(invoice_body())
    other = await facto.issue(invoice_body("telegram", 211))
    session = await pay_outside_our_link(facto, created["id"], 1500, "invoice")
    status, text = await owner.get("/console/dashboard/review")
    assert status == 200 and session in text and other["number"] in text
    form = {"payment": session, "invoice": created["id"]}
    answers = await asyncio.gather(
        owner.post("/console/dashboard/review/apply", form),
        owner.post("/console/dashboard/review/apply", form),
        owner.post("/console/dashboard/review/apply", {**form, "invoice": other["id"]}),
    )
    # Whichever invoice's click takes the claim first wins: the same click twice is answered
    # the same, the click for the other invoice is refused.
    same = sorted(status for status, _ in answers[:2])
    if answers[2][0] == 200:
        winner, loser = other, created
        assert same == [409, 409], answers
    else:
        winner, loser = created, other
        assert same == [200, 200] and answers[2][0] == 409, answers
    await facto.drain()
    assert (await invoice(facto, winner["id"]))["amount_paid"] == 1500
    assert (await invoice(facto, loser["id"]))["amount_paid"] == 0
    assert (await audit(facto)).count("review_applied") == 1
    status, text = await owner.get("/console/dashboard/review")
    assert "Nothing to review." in text and "review_applied" in text


async def test_dashboard_refund_is_owner_only_and_csrf_protected(
    facto: Facto, owner: Browser
) -> None:
    created = await facto.issue(invoice_body())
    session = await pay_outside_our_link(facto, created["id"], 1500, "invoice")
    _, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    agent = Browser.open(facto)
    try:
        await agent.log_in("agent@atelier.fr", secret)
        status, _ = await agent.post("/console/dashboard/review/refund", {"payment": session})
        assert status == 403
    finally:
        await agent.close()
    await owner.get("/console/dashboard/review")
    good = owner.csrf
    owner.csrf = "forged"
    status, _ = await owner.post("/console/dashboard/review/refund", {"payment": session})
    assert status == 403
    owner.csrf = good
    status, text = await owner.post(
        "/console/dashboard/review/refund", {"payment": session, "amount": "99999"}
    )
    assert status == 422 and "from 1 to 1500" in text
    status, _ = await owner.post("/console/dashboard/review/refund", {"payment": session})
    assert status == 200
    await facto.drain()
    intent = facto.sandbox.sessions[session].payment_intent
    refunds = [r.amount for r in facto.sandbox.refunds.values() if r.payment_intent == intent]
    assert refunds == [1500]
    assert await to_review(facto) == []
    assert "review_refunded" in await audit(facto)


async def test_api_dismiss(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    session = await pay_outside_our_link(facto, created["id"], 1500, "invoice")
    status, body = await api(facto, f"{REVIEW}/{session}/dismiss")
    assert status == 200 and body["action"] == "dismiss"
    check(f"{REVIEW}/{{payment_id}}/dismiss", 200, body)
    status, body = await api(facto, f"{REVIEW}/{session}/dismiss")
    assert status == 404
    check(f"{REVIEW}/{{payment_id}}/dismiss", 404, body)


async def test_a_click_overtaken_by_the_same_click_gets_the_same_answer(
    facto: Facto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second of two clicks read no claim, then the first one took it and its payment was
    counted before the second read the payment ("nothing to review"): still the same click."""
    created = await facto.issue(invoice_body())
    session = await pay_outside_our_link(facto, created["id"], 1500, "invoice")
    assert facto.merchant is not None
    merchant = facto.merchant.id
    services = facto.worker.services
    original = review._money

    async def overtaken(services: Any, merchant_id: str, session_id: str) -> Any:
        monkeypatch.setattr(review, "_money", original)
        await review.apply(services, merchant_id, session_id, created["id"], "u_first")
        await facto.drain()
        return await original(services, merchant_id, session_id)

    monkeypatch.setattr(review, "_money", overtaken)
    done = await review.apply(services, merchant, session, created["id"], "u_second")
    assert (done.action, done.invoice_id, done.amount) == ("apply", created["id"], 1500)
    await facto.drain()
    assert (await invoice(facto, created["id"]))["amount_paid"] == 1500
    assert (await audit(facto)).count("review_applied") == 1
