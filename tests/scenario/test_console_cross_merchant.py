"""Merchants share platform senders: one chat can hold invoices of two merchants. A person of
merchant A acts on A's invoice only, and B's invoice does not take A's hand-over away."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.engine import handover
from bot.engine.events import AgentActed
from bot.store import keys
from bot.store.conversations import load_state
from bot.store.handover import audit_trail, conversation_ref
from bot.store.invoices import get_invoice
from flows.model import AgentKind, ConversationStatus
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body

TG = ("telegram", "424242")
REF = re.compile(r'href="/console/c/([0-9a-f]{24})"')


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    opened: list[Browser] = []
    yield opened
    for b in opened:
        await b.close()


async def test_agent_of_a_records_offline_payment_on_merchant_b_invoice(
    facto: Facto, browsers: list[Browser]
) -> None:
    assert facto.merchant is not None
    merchant_a = facto.merchant
    a_invoice = (await facto.issue(invoice_body(*TG)))["id"]
    await facto.customer_says(*TG, "un conseiller svp")  # waits in A's queue

    # Merchant B (shared platform bot) invoices the same chat.
    other, other_key = await facto.add_merchant(name="Autre")
    response = await facto.post_invoice(invoice_body(*TG), api_key=other_key)
    assert response.status == 201, await response.text()
    b_invoice = (await response.json())["id"]
    await facto.drain()
    # B's invoice reaches the customer all the same.
    assert "Autre" in (await facto.messages(*TG))[-1]["text"]

    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    browsers.append(ines)
    await ines.log_in("ines@atelier.fr", secret)
    _, queue = await ines.get("/console")
    [ref] = REF.findall(queue)
    await ines.post(f"/console/c/{ref}/claim")
    await facto.drain()
    status, _ = await ines.post(
        f"/console/c/{ref}/payment",
        {"op": "offline_payment", "amount": "20,00", "method": "cash", "reference": "x"},
    )
    assert status in (200, 303)
    await facto.drain()
    invoice_b = await get_invoice(facto.redis, other.id, b_invoice)
    invoice_a = await get_invoice(facto.redis, merchant_a.id, a_invoice)
    assert invoice_a is not None and invoice_b is not None
    # An agent of A never moves B's ledger: the payment is A's invoice's.
    assert invoice_b.amount_paid == 0, (merchant_a.id, other.id, invoice_b.amount_paid)
    assert invoice_a.amount_paid == 2000
    assert await facto.redis.zcard(keys.waiting_conversations(other.id)) == 0


async def test_an_agent_event_of_another_merchant_is_refused_and_audited(facto: Facto) -> None:
    assert facto.merchant is not None
    await facto.issue(invoice_body(*TG))
    await facto.customer_says(*TG, "un conseiller svp")
    other, _ = await facto.add_merchant(name="Autre")
    acted = AgentActed(AgentKind.CLAIM, other.id, agent_id="intruder", agent_name="X")
    await handover.submit(facto.redis, "telegram:424242", acted)
    await facto.drain()
    state = await load_state(facto.redis, "telegram:424242")
    assert (state.status, state.agent_id) == (ConversationStatus.WAITING_AGENT, None)
    ref = conversation_ref(other.id, "telegram:424242")
    [entry] = await audit_trail(facto.redis, other.id, ref)
    assert entry["what"] == "action_refused" and entry["user"] == "intruder"
