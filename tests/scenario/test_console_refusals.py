"""The console's payment actions refuse an invoice they no longer apply to (issue 8): a voided
invoice takes none, one with nothing left to pay takes only a credit note, a fully refunded one
none, and an amount beyond what is due (or was paid) is refused. Each refusal is a precise 4xx
for the form's POST, a page that tells the agent why, and nothing stored: no event queued, no
audit entry, no message, the invoice unchanged. The same rule holds at dispatch time, when the
invoice changed between the click and the event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.store import keys
from tests.scenario.console_client import Browser
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_money import GROSS, invoice, texts
from tests.scenario.test_review_actions import api

TG = ("telegram", "424242")

#: Every payment action, with a valid form: only the invoice's state can refuse it.
ACTIONS: dict[str, dict[str, str]] = {
    "resend_link": {},
    "extend_due": {"date": "2026-12-31"},
    "offer_plan": {"parts": "2"},
    "offline_payment": {"amount": "10", "method": "transfer", "reference": "VIR 1"},
    "credit_note": {"amount": "10", "reference": "geste"},
    "pause_reminders": {},
    "resume_reminders": {},
}


@pytest.fixture
async def held(facto: Facto, owner: Browser) -> AsyncIterator[tuple[Browser, str, str]]:
    """The owner holds the customer's conversation about a fresh invoice: (browser, ref, id)."""
    created = await facto.issue(invoice_body(*TG))
    await facto.customer_says(*TG, "un conseiller svp")
    _, queue = await owner.get("/console")
    ref = queue.split('href="/console/c/', 1)[1][:24]
    await owner.post(f"/console/c/{ref}/claim")
    await facto.drain()
    await owner.get(f"/console/c/{ref}")
    yield owner, ref, str(created["id"])


async def stored(facto: Facto) -> dict[str, Any]:
    """Everything Facto keeps, but the console's own login sessions (a request refreshes
    its session): what a refused action must leave untouched."""
    found: dict[str, Any] = {}
    async for key in facto.redis.scan_iter(count=1000):
        name = key if isinstance(key, str) else key.decode()
        if ":session:" in name or name.startswith("session:") or ":sessions" in name:
            continue
        found[name] = await facto.redis.dump(key)
    return found


async def act(browser: Browser, ref: str, op: str, **form: str) -> tuple[int, str]:
    return await browser.post(f"/console/c/{ref}/payment", {"op": op, **ACTIONS[op], **form})


async def test_a_voided_invoice_takes_no_payment_action(
    facto: Facto, held: tuple[Browser, str, str]
) -> None:
    owner, ref, invoice_id = held
    status, _ = await api(facto, f"/api/v1/invoices/{invoice_id}/void")
    assert status == 202
    await facto.drain()
    said = await texts(facto)
    before = await stored(facto)

    for op in ACTIONS:
        status, page = await act(owner, ref, op)
        assert status == 409, (op, status)
        assert 'id="refused"' in page and "is cancelled (voided)" in page, op
        assert "Nothing was recorded and the customer was not told." in page
    await facto.drain()

    assert await stored(facto) == before  # no event, no audit line, no record, no message
    assert await texts(facto) == said
    after = await invoice(facto, invoice_id)
    assert (after["status"], after["amount_paid"], after["amount_refunded"]) == ("void", 0, 0)
    # The page no longer offers them, and says why.
    _, page = await owner.get(f"/console/c/{ref}")
    assert 'id="actions-closed"' in page and "is cancelled (voided)" in page
    assert 'id="offline-form"' not in page and 'id="credit-note-form"' not in page
    assert 'value="resend_link"' not in page and 'value="pause_reminders"' not in page


async def test_the_agent_reads_the_refusal_in_the_browsers_language(
    facto: Facto, held: tuple[Browser, str, str]
) -> None:
    owner, ref, invoice_id = held
    await api(facto, f"/api/v1/invoices/{invoice_id}/void")
    await facto.drain()
    async with owner.session.post(
        f"{owner.base_url}/console/c/{ref}/payment",
        data={"csrf": owner.csrf, "op": "offline_payment", **ACTIONS["offline_payment"]},
        headers={"Origin": owner.base_url, "Accept-Language": "fr-FR,fr;q=0.9"},
    ) as response:
        page = await response.text()
        assert response.status == 409
    assert "est annulée" in page and "Rien n'a été enregistré" in page


async def test_a_paid_invoice_takes_only_a_credit_note_and_a_refunded_one_nothing(
    facto: Facto, held: tuple[Browser, str, str]
) -> None:
    owner, ref, invoice_id = held
    full = f"{GROSS // 100},{GROSS % 100:02d}"
    status, _ = await act(owner, ref, "offline_payment", amount=full)
    assert status == 200  # followed the redirect back to the conversation
    await facto.drain()
    assert (await invoice(facto, invoice_id))["status"] == "paid"
    before = await stored(facto)
    for op in ACTIONS:
        if op == "credit_note":
            continue
        status, page = await act(owner, ref, op)
        assert status == 409 and "has nothing left to pay" in page, (op, status)
    # More than was paid cannot be credited: a 400 that says how much can.
    status, page = await act(owner, ref, "credit_note", amount=str(GROSS // 100 + 1))
    assert status == 400 and "At most €85.80 can be credited on invoice" in page
    await facto.drain()
    assert await stored(facto) == before
    _, page = await owner.get(f"/console/c/{ref}")
    assert 'id="credit-note-form"' in page and 'id="offline-form"' not in page

    # The whole amount given back: the invoice is refunded, and then nothing applies.
    status, _ = await act(owner, ref, "credit_note", amount=full)
    assert status == 200
    await facto.drain()
    assert (await invoice(facto, invoice_id))["status"] == "refunded"
    before = await stored(facto)
    for op in ACTIONS:
        status, page = await act(owner, ref, op)
        assert status == 409 and "is fully refunded" in page, (op, status)
    await facto.drain()
    assert await stored(facto) == before


async def test_an_offline_payment_over_what_is_due_is_a_400(
    facto: Facto, held: tuple[Browser, str, str]
) -> None:
    owner, ref, invoice_id = held
    before = await stored(facto)
    status, page = await act(owner, ref, "offline_payment", amount=str(GROSS))
    assert status == 400 and "is left to pay on invoice" in page
    await facto.drain()
    assert await stored(facto) == before
    assert (await invoice(facto, invoice_id))["amount_paid"] == 0


@pytest.mark.parametrize("op", ["offline_payment", "credit_note", "pause_reminders"])
async def test_voided_between_the_click_and_the_dispatch_is_refused_by_the_flow(
    facto: Facto, held: tuple[Browser, str, str], op: str
) -> None:
    """The console saw an open invoice; the void was queued first, so the conversation's
    dispatch applies it first and then refuses the action (audited, nothing else)."""
    owner, ref, invoice_id = held
    if op == "credit_note":  # something paid to give back
        await act(owner, ref, "offline_payment", amount="10")
        await facto.drain()
    said = len(await texts(facto))
    status, _ = await api(facto, f"/api/v1/invoices/{invoice_id}/void")
    assert status == 202
    status, _ = await act(owner, ref, op)  # not dispatched yet: the console lets it through
    assert status == 200
    await facto.drain()

    after = await invoice(facto, invoice_id)
    assert after["status"] == "void"
    assert after["amount_paid"] == (1000 if op == "credit_note" else 0)
    assert after["amount_refunded"] == 0
    assert len(after.get("credit_notes") or []) <= 1  # the void's own credit note only
    new = (await texts(facto))[said:]
    assert len(new) == 1 and "a annulé" in new[0]  # only the void is told
    assert facto.merchant is not None
    trail = [e for e in await _audit(facto) if e["what"] == "action_refused"]
    assert trail and trail[-1]["detail"] == f"{op}: void"
    paused = keys.invoice_paused(facto.merchant.id, invoice_id)
    assert not await facto.redis.exists(paused)


async def _audit(facto: Facto) -> list[dict[str, Any]]:
    from bot.store.handover import audit_trail

    assert facto.merchant is not None
    return await audit_trail(facto.redis, facto.merchant.id)
