"""A question about a flash sale (no invoice in the conversation) waits for a person of the
merchant, who answers it and hands it back; payment actions are refused with a notice."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.store import keys
from bot.store.conversations import load_state
from flows.model import ConversationStatus
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto
from tests.scenario.test_campaigns import _links

REF = re.compile(r'href="/console/c/([0-9a-f]{24})"')


@pytest.fixture
async def browsers() -> AsyncIterator[list[Browser]]:
    opened: list[Browser] = []
    yield opened
    for b in opened:
        await b.close()


async def test_agent_answers_a_campaign_question(facto: Facto, browsers: list[Browser]) -> None:
    await _links(facto, 1, stock=3)
    await facto.customer_says("telegram", "8000", "c'est quoi la taille ?")
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    assert texts[-1].startswith("Bonne question")  # "a person will answer"

    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    browsers.append(ines)
    await ines.log_in("ines@atelier.fr", secret)
    _, queue = await ines.get("/console")
    [ref] = REF.findall(queue)
    await ines.post(f"/console/c/{ref}/claim")
    await facto.drain()
    status, _ = await ines.post(f"/console/c/{ref}/reply", {"text": "Taille 40 cm"})
    await facto.drain()
    assert status in (200, 303)
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    assert texts[-1] == "Taille 40 cm", texts

    state = await load_state(facto.redis, "telegram:8000")
    assert state.status is ConversationStatus.AGENT and state.invoice_id is None

    status, page = await ines.post(
        f"/console/c/{ref}/payment",
        {"op": "offline_payment", "amount": "20", "method": "cash", "reference": "x"},
    )
    assert status == 200 and "No invoice in this conversation" in page

    await facto.customer_says("telegram", "8000", "merci, et en bleu ?")
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    assert texts[-1] == "Taille 40 cm"  # the bot does not talk over the person

    status, _ = await ines.post(f"/console/c/{ref}/resolve")
    await facto.drain()
    state = await load_state(facto.redis, "telegram:8000")
    assert state.status is ConversationStatus.BOT
    assert facto.merchant is not None
    assert await facto.redis.zcard(keys.waiting_conversations(facto.merchant.id)) == 0
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    assert texts[-1] != "Taille 40 cm"  # the hand-back message
