"""Voiding an invoice: a credit note of what is still due (the credit-note series), the
invoice `void`, reminders cancelled, pay links showing it cancelled, the customer told in the
chat; idempotent; refused for a paid invoice; from the API and the dashboard."""

from __future__ import annotations

from urllib.parse import urlparse

from bot.store import keys
from bot.store.users import Role
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_money import (
    GROSS,
    invoice,
    pay,
    pay_outside_our_link,
    texts,
)
from tests.scenario.test_review_actions import api, check, to_review

VOID = "/api/v1/invoices/{invoice_id}/void"


async def credit_notes(facto: Facto, invoice_id: str) -> list[dict[str, object]]:
    response = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}/credit-notes",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    notes: list[dict[str, object]] = (await response.json())["credit_notes"]
    return notes


async def test_void_an_unpaid_invoice(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    await facto.customer_says("telegram", "424242", "je paierai vendredi")
    assert await facto.redis.zcard(keys.SCHEDULE) > 0  # a promise and the ladder wait
    status, body = await api(facto, f"/api/v1/invoices/{created['id']}/void")
    assert status == 202, body
    check(VOID, 202, body)
    assert body == {
        "invoice_id": created["id"],
        "amount": GROSS,
        "partly_paid": False,
        "state": "queued",
    }
    await facto.drain()
    after = await invoice(facto, created["id"])
    assert (after["status"], after["amount_due"], after["amount_paid"]) == ("void", 0, 0)
    [note] = await credit_notes(facto, created["id"])
    assert note["reason"] == "void" and str(note["number"]).startswith("A-")
    assert note["totals"]["gross"] == GROSS  # type: ignore[index]
    told = (await texts(facto))[-1]
    assert "annulé la facture" in told and str(note["credit_note_url"]) in told
    assert await facto.redis.zcard(keys.SCHEDULE) == 0  # every reminder cancelled
    # The pay link shows it cancelled and opens no checkout.
    pay_path = urlparse(created["pay_url"]).path
    page = await facto.client.get(pay_path)
    assert page.status == 200 and "annulée" in await page.text()
    tap = await facto.client.post(pay_path, allow_redirects=False)
    assert tap.status == 200 and "annulée" in await tap.text()
    # Idempotent: again is 200, nothing more issued or said.
    sent = len(await texts(facto))
    status, body = await api(facto, f"/api/v1/invoices/{created['id']}/void")
    assert status == 200 and body["state"] == "done"
    check(VOID, 200, body)
    await facto.drain()
    assert len(await credit_notes(facto, created["id"])) == 1
    assert len(await texts(facto)) == sent


async def test_void_a_partly_paid_invoice_credits_the_rest(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    short = await pay_outside_our_link(facto, created["id"], 3000, "invoice")
    status, _ = await api(
        facto, f"/api/v1/payments/review/{short}/apply", {"invoice_id": created["id"]}
    )
    assert status == 202
    await facto.drain()
    status, body = await api(facto, f"/api/v1/invoices/{created['id']}/void")
    assert status == 202 and (body["amount"], body["partly_paid"]) == (GROSS - 3000, True)
    await facto.drain()
    after = await invoice(facto, created["id"])
    assert (after["status"], after["amount_paid"], after["amount_due"]) == ("void", 3000, 0)
    [note] = await credit_notes(facto, created["id"])
    assert note["totals"]["gross"] == GROSS - 3000  # type: ignore[index]
    assert "restant dus" in (await texts(facto))[-1]


async def test_a_payment_after_voiding_goes_to_review(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    assert (await api(facto, f"/api/v1/invoices/{created['id']}/void"))[0] == 202
    await facto.drain()
    await pay_outside_our_link(facto, created["id"], GROSS, "invoice")
    after = await invoice(facto, created["id"])
    assert (after["status"], after["amount_paid"]) == ("void", 0)
    [item] = await to_review(facto)
    assert item["reason"] == "the invoice was voided"


async def test_paid_invoices_and_strangers_are_refused(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    await pay(facto, created["pay_url"])
    status, body = await api(facto, f"/api/v1/invoices/{created['id']}/void")
    assert status == 409 and "cannot be voided" in body["error"]
    check(VOID, 409, body)
    status, body = await api(facto, "/api/v1/invoices/inv_nope/void")
    assert status == 404
    _, other_key = await facto.add_merchant(name="Autre")
    status, _ = await api(facto, f"/api/v1/invoices/{created['id']}/void", key=other_key)
    assert status == 404


async def test_dashboard_void_is_owner_only_and_csrf_protected(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    path = f"/console/dashboard/invoices/{created['id']}"
    _, agent_secret = await add_user(facto, "agent@atelier.fr", "Aline")
    _, owner_secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    agent, owner = Browser.open(facto), Browser.open(facto)
    try:
        await agent.log_in("agent@atelier.fr", agent_secret)
        status, _ = await agent.post(f"{path}/void")
        assert status == 403
        await owner.log_in("owner@atelier.fr", owner_secret)
        status, text = await owner.get(path)
        assert status == 200 and "Void the invoice" in text
        good, owner.csrf = owner.csrf, "forged"
        status, _ = await owner.post(f"{path}/void")
        assert status == 403
        owner.csrf = good
        status, _ = await owner.post(f"{path}/void")
        assert status == 200
        await facto.drain()
        status, text = await owner.get(path)
        assert "step-credit_note" in text and ">void<" in text
        assert "Void the invoice" not in text
    finally:
        await agent.close()
        await owner.close()
