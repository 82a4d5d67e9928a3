"""The fast-payment reward on WhatsApp outside the 24 h window: the invoice goes as its reward
template (`facto_invoice_reward`), announcing the reward in the words of the free-form message,
and the receipt as `facto_receipt_reward`, giving it — never as free text, never by SMS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_fast_payment_reward import PERCENT, POINTS, pay_twice_at_once, put
from tests.scenario.test_whatsapp import LINES, PHONE, bot_messages


def flat(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("locale", "reward", "announced", "given"),
    [
        (
            "fr",
            PERCENT,
            "Réglée d'ici le 20 nov. 2026 à 10:00 : 10 % de réduction sur votre prochain achat.",
            "-10 % au prochain achat avec le code MERCI10",
        ),
        (
            "en",
            POINTS,
            "Paid by Nov 19, 2026 at 10:00 AM: 50 loyalty points.",
            "Paid quickly: 50 loyalty points, 50 in all.",
        ),
    ],
)
async def test_the_reward_goes_in_its_templates_when_the_window_is_closed(
    facto: Facto, locale: str, reward: dict[str, Any], announced: str, given: str
) -> None:
    status, body = await put(facto, {"reward": reward})
    assert status == 200, body
    created = await facto.issue(invoice_body("whatsapp", PHONE, locale=locale, lines=LINES))
    [invoice] = await bot_messages(facto)
    assert invoice["template"] == "facto_invoice_reward"  # the customer never wrote
    assert announced in flat(invoice["text"])
    assert created["number"] in invoice["text"] and "/p/" in invoice["text"]
    assert "MERCI10" not in invoice["text"]  # the code comes with the receipt only
    assert [b["action"] for b in invoice["buttons"]] == ["pay", "later", "split"]

    facto.clock.advance(timedelta(hours=1).total_seconds())
    await pay_twice_at_once(facto, created["pay_url"])
    receipts = [m for m in await bot_messages(facto) if m["template"] == "facto_receipt_reward"]
    assert len(receipts) == 1, await bot_messages(facto)
    assert given in flat(receipts[0]["text"])
    assert await facto.messages("sms", PHONE) == []  # no fallback was needed


async def test_without_a_reward_the_plain_templates_go(facto: Facto) -> None:
    created = await facto.issue(invoice_body("whatsapp", PHONE, lines=LINES))
    await pay_twice_at_once(facto, created["pay_url"])
    assert [m["template"] for m in await bot_messages(facto)] == ["facto_invoice", "facto_receipt"]
