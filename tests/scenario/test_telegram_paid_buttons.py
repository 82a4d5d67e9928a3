"""Once an invoice is paid its old Telegram messages stop offering to pay it (issue 13): the
buttons of the invoice message and of every other message of that invoice that offered to pay,
later or split are removed through editMessageReplyMarkup, via the outbox, once."""

from __future__ import annotations

from urllib.parse import urlparse

from channels.base import ChannelName
from sandbox.state import ChatEntry
from tests.scenario.harness import Facto, invoice_body

TG = ("telegram", "424242")


def chat(facto: Facto) -> list[ChatEntry]:
    return facto.sandbox.bot_messages(ChannelName.TELEGRAM, TG[1])


def path(url: str) -> str:
    return urlparse(url).path


async def pay_by_card(facto: Facto, pay_url: str) -> None:
    response = await facto.client.post(path(pay_url), allow_redirects=False)
    assert response.status == 303, await response.text()
    checkout = path(response.headers["Location"])
    await facto.client.post(f"{checkout}/card", allow_redirects=False)
    await facto.drain()


async def test_paying_removes_the_pay_buttons_of_the_earlier_messages_once(
    facto: Facto,
) -> None:
    created = await facto.issue(invoice_body(*TG))
    await facto.customer_says(*TG, "aide")
    await facto.customer_says(*TG, "bonjour")
    offering = [m for m in chat(facto) if m.buttons]
    assert len(offering) >= 2, [m.text for m in chat(facto)]
    invoice_message = chat(facto)[0]
    assert any(b.url for b in invoice_message.buttons)  # "Payer 85,80 €" opens the pay page
    assert {b.action for b in invoice_message.buttons} >= {"later", "split"}

    await pay_by_card(facto, created["pay_url"])

    assert all(not m.buttons for m in chat(facto)), [(m.text, m.buttons) for m in chat(facto)]
    assert sorted(facto.sandbox.edits) == sorted((TG[1], m.message_id) for m in offering)
    assert "edit_date" not in invoice_message.extra and invoice_message.extra.get("edited")
    # The edits are not messages: the receipt is the chat's only new message.
    assert chat(facto)[-1].text.startswith("Paiement enregistré : 85,80")

    # Later events of the paid invoice queue nothing more: each edit went out once.
    edits = len(facto.sandbox.edits)
    await facto.customer_says(*TG, "merci")
    await facto.customer_says(*TG, "payer")
    assert len(facto.sandbox.edits) == edits


async def test_an_agents_offline_payment_also_removes_them(facto: Facto) -> None:
    """Settled by a person in the console (an offline payment): same clean-up."""
    from tests.scenario.console_client import Browser, add_user

    await facto.issue(invoice_body(*TG))
    await facto.customer_says(*TG, "un conseiller svp")
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    try:
        await ines.log_in("ines@atelier.fr", secret)
        _, queue = await ines.get("/console")
        ref = queue.split('href="/console/c/', 1)[1][:24]
        await ines.post(f"/console/c/{ref}/claim")
        await facto.drain()
        assert chat(facto)[0].buttons
        await ines.post(
            f"/console/c/{ref}/payment",
            {"op": "offline_payment", "amount": "85,80", "method": "transfer", "reference": "V1"},
        )
        await facto.drain()
        assert not chat(facto)[0].buttons
        assert len(facto.sandbox.edits) == len({e for e in facto.sandbox.edits})
    finally:
        await ines.close()


async def test_voiding_the_invoice_also_removes_them(facto: Facto) -> None:
    """A voided invoice cannot be paid any more: its old messages stop offering to."""
    created = await facto.issue(invoice_body(*TG))
    offering = [m for m in chat(facto) if m.buttons]
    assert offering
    response = await facto.client.post(
        f"/api/v1/invoices/{created['id']}/void",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    assert response.status == 202, await response.text()
    await facto.drain()
    assert all(not m.buttons for m in chat(facto)), [(m.text, m.buttons) for m in chat(facto)]
    assert sorted(facto.sandbox.edits) == sorted((TG[1], m.message_id) for m in offering)
