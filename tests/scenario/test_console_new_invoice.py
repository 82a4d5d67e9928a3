"""A new invoice while a person holds the conversation: the invoice is sent (a document the
customer is owed) and the hold stays, so the holder can still answer and hand back."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.store.conversations import load_state
from flows.model import ConversationStatus
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


async def test_holder_can_still_reply_after_a_second_invoice(
    facto: Facto, browsers: list[Browser]
) -> None:
    await facto.issue(invoice_body(*TG))
    await facto.customer_says(*TG, "un conseiller svp")
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    browsers.append(ines)
    await ines.log_in("ines@atelier.fr", secret)
    _, queue = await ines.get("/console")
    [ref] = REF.findall(queue)
    await ines.post(f"/console/c/{ref}/claim")
    await facto.drain()

    sent = len(await facto.messages(*TG))
    second = await facto.issue(invoice_body(*TG))  # the same merchant invoices them again
    state = await load_state(facto.redis, "telegram:424242")
    assert state.status is ConversationStatus.AGENT
    assert (state.invoice_id, state.agent_name) == (second["id"], "Inès")
    assert state.agent_id is not None and state.agent_seen is not None
    assert len(await facto.messages(*TG)) == sent + 1  # the new invoice

    before = len(await facto.messages(*TG))
    status, _ = await ines.post(f"/console/c/{ref}/reply", {"text": "Je regarde"})
    await facto.drain()
    texts = [m["text"] for m in await facto.messages(*TG)]
    assert status in (200, 303)
    assert texts[before:] == ["Je regarde"], texts[before:]

    status, _ = await ines.post(f"/console/c/{ref}/resolve")
    await facto.drain()
    assert status in (200, 303)
    state = await load_state(facto.redis, "telegram:424242")
    assert (state.status, state.agent_id) == (ConversationStatus.BOT, None)
