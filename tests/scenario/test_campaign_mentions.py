"""A real campaign run and a real cart relaunch reach the sandbox's phones signed by the
merchant's commercial name and with the free STOP (LEGAL_FR 2.2, TESTCASES 79), on SMS and
Telegram, in French and English."""

from __future__ import annotations

from channels.sms_text import is_gsm7, segment_count
from tests.scenario.harness import MERCHANT, Facto
from tests.scenario.test_campaigns import CONSENT, _seed, campaign_body, cart, get, post

NAME = str(MERCHANT["name"])


def last_line(text: str) -> str:
    return text.rstrip().splitlines()[-1]


async def test_every_campaign_message_names_the_merchant_and_the_stop(facto: Facto) -> None:
    await _seed(facto)
    status, _ = await post(
        facto,
        "/api/v1/customers",
        {"id": "e1", "name": "Eve", "phone": "+33612340005", "tags": ["vip"], "locale": "en"}
        | {"consent": CONSENT},
    )
    assert status == 201
    audience_id = (
        await post(facto, "/api/v1/audiences", {"name": "VIP2", "filter": {"tags": ["vip"]}})
    )[1]["id"]
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.drain()
    await facto.drain()
    expected = {
        ("telegram", "5001"): f"Offre de {NAME}. Pour ne plus recevoir nos offres, repondez STOP.",
        ("telegram", "5002"): f"Offer from {NAME}. To stop receiving our offers, reply STOP.",
        ("sms", "+33612340001"): f"{NAME} - STOP: repondez STOP",
        ("sms", "+33612340005"): f"{NAME} - Opt out: reply STOP",
    }
    for (channel, to), mention in expected.items():
        [message] = await facto.messages(channel, to)
        assert "/o/" in message["text"]
        assert last_line(message["text"]) == mention, message["text"]
        if channel == "sms":
            assert is_gsm7(message["text"]) and segment_count(message["text"]) <= 2
    view = await get(facto, f"/api/v1/campaigns/{campaign['id']}")
    assert view["counts"]["sent"] == 5  # and Sue (sms, fr), not shown above


async def test_a_cart_relaunch_names_the_merchant_and_the_stop(facto: Facto) -> None:
    await _seed(facto)
    await post(facto, "/api/v1/carts", cart())
    await post(facto, "/api/v1/carts", cart(id="cart-2", customer_id="s1"))
    facto.clock.advance(3601)
    await facto.drain()
    [chat] = await facto.messages("telegram", "5001")
    assert last_line(chat["text"]) == (
        f"Offre de {NAME}. Pour ne plus recevoir nos offres, repondez STOP."
    )
    [sms] = await facto.messages("sms", "+33612340001")
    assert last_line(sms["text"]) == f"{NAME} - STOP: repondez STOP"
    assert "https://shop.example.fr/cart/1" in sms["text"]


async def test_a_variant_too_long_for_sms_with_its_mentions_is_refused(facto: Facto) -> None:
    audience_id = await _seed(facto)
    body = campaign_body(audience_id)
    # 430 characters: 3 segments alone, 4 with the link, the sender and the STOP.
    body["variants"][0]["text"]["fr"] = "Soldes ! " + "a" * 421
    status, answer = await post(facto, "/api/v1/campaigns", body)
    assert status == 422, answer
    [problem] = answer["fields"]
    assert problem["field"] == "variants[0].text.fr" and "4 SMS segments" in problem["message"]
    body["channels"] = ["telegram"]  # chats have no segments
    status, answer = await post(facto, "/api/v1/campaigns", body)
    assert status == 201, answer
