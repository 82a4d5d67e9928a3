"""Split policy: 2 or 3 instalments by default (LEGAL_FR §4.3); 4 only for a merchant who chose
it (`merchant create --max-instalments 4`). Before: every merchant offered 4 (issue 6 §3)."""

from __future__ import annotations

from tests.scenario.harness import Facto, invoice_body

LINES = [{"description": "Canapé", "quantity": 1, "unit_amount": 12000, "vat_rate": "20"}]


async def last(facto: Facto, chat: str) -> dict[str, object]:
    message: dict[str, object] = (await facto.messages("telegram", chat))[-1]
    return message


def actions(message: dict[str, object]) -> list[str]:
    buttons = message.get("buttons") or []
    assert isinstance(buttons, list)
    return [str(button["action"]) for button in buttons]


async def test_by_default_four_instalments_are_refused(facto: Facto) -> None:
    await facto.issue(invoice_body("telegram", 424242, lines=LINES))
    await facto.customer_says("telegram", "424242", "en 4 fois")

    refusal = await last(facto, "424242")
    assert "3 fois maximum" in str(refusal["text"])
    assert actions(refusal) == ["split:2", "split:3"]


async def test_a_merchant_set_to_four_offers_four(facto: Facto) -> None:
    _, key = await facto.add_merchant(name="Quatre fois", max_instalments=4)
    response = await facto.post_invoice(invoice_body("telegram", 434343, lines=LINES), key)
    assert response.status == 201
    await facto.drain()

    await facto.customer_says("telegram", "434343", "je veux payer en plusieurs fois")
    assert actions(await last(facto, "434343")) == ["split:2", "split:3", "split:4"]
    await facto.customer_says("telegram", "434343", "en 4 fois")
    proposal = await last(facto, "434343")
    assert actions(proposal) == ["yes", "no"]
    assert str(proposal["text"]).count("36,00") == 4  # 144 € incl. VAT in 4 equal parts
