"""Telegram deep links (issue 13): how a merchant gets a customer's chat id.

Before: nothing told the merchant the chat id an invoice on Telegram needs; only the bot sees
it, once the customer has written.
"""

from __future__ import annotations

from typing import Any

from tests.scenario.harness import Facto, invoice_body


async def new_link(facto: Facto, api_key: str | None = None) -> dict[str, Any]:
    response = await facto.client.post(
        "/api/v1/telegram-links",
        headers={"Authorization": f"Bearer {api_key or facto.api_key}"},
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def read_link(facto: Facto, token: str, api_key: str | None = None) -> Any:
    return await facto.client.get(
        f"/api/v1/telegram-links/{token}",
        headers={"Authorization": f"Bearer {api_key or facto.api_key}"},
    )


async def test_opening_the_deep_link_binds_the_chat_and_the_invoice_reaches_it(
    facto: Facto,
) -> None:
    link = await new_link(facto)
    assert link["url"] == f"https://t.me/facto_sandbox_bot?start={link['token']}"
    assert link["telegram_chat_id"] is None

    # What the customer's Telegram sends when the link is opened and "Start" tapped.
    await facto.customer_says("telegram", "555001", f"/start {link['token']}")
    [welcome] = await facto.messages("telegram", "555001")
    assert welcome["text"].startswith("Bonjour")

    bound = await (await read_link(facto, link["token"])).json()
    assert bound["telegram_chat_id"] == 555001

    await facto.issue(invoice_body("telegram", bound["telegram_chat_id"]))
    assert len(await facto.messages("telegram", "555001")) == 2  # the invoice arrived


async def test_a_forwarded_link_keeps_the_first_chat(facto: Facto) -> None:
    link = await new_link(facto)
    await facto.customer_says("telegram", "555001", f"/start {link['token']}")
    await facto.customer_says("telegram", "555002", f"/start {link['token']}")
    bound = await (await read_link(facto, link["token"])).json()
    assert bound["telegram_chat_id"] == 555001


async def test_another_merchants_link_is_404(facto: Facto) -> None:
    link = await new_link(facto)
    _, other_key = await facto.add_merchant(name="Autre")
    assert (await read_link(facto, link["token"], other_key)).status == 404
    assert (await read_link(facto, "A" * 22)).status == 404
