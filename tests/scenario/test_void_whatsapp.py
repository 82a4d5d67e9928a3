"""A voided invoice's message on WhatsApp: outside the 24 h window it goes as its approved
template (`facto_invoice_voided`), on WhatsApp, never as free text and not by SMS."""

from __future__ import annotations

from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_review_actions import api
from tests.scenario.test_whatsapp import LINES, PHONE, bot_messages


async def test_a_voided_invoice_is_told_by_template_when_the_window_is_closed(
    facto: Facto,
) -> None:
    created = await facto.issue(invoice_body("whatsapp", PHONE, lines=LINES))
    [invoice] = await bot_messages(facto)
    assert invoice["template"] == "facto_invoice"  # the customer never wrote: window closed
    status, body = await api(facto, f"/api/v1/invoices/{created['id']}/void")
    assert status == 202, body
    await facto.drain()
    [_, voided] = await bot_messages(facto)
    assert voided["template"] == "facto_invoice_voided"
    assert created["number"] in voided["text"] and "144,00" in voided["text"]
    assert "/a/" in voided["text"]  # the credit note's page
    assert await facto.messages("sms", PHONE) == []  # no fallback was needed
