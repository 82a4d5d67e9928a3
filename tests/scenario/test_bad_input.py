"""Hostile, malformed and unauthorised requests: a precise 4xx, never a 500, nothing lost."""

from __future__ import annotations

import json

import pytest
import stripe
from twilio.request_validator import RequestValidator

from bot.store import keys
from bot.store.conversations import transcript
from tests.scenario.harness import Facto, invoice_body

AUTH = "Authorization"


def bearer(facto: Facto) -> dict[str, str]:
    return {AUTH: f"Bearer {facto.api_key}"}


async def test_missing_or_invalid_api_key_is_401(facto: Facto) -> None:
    for headers in ({}, {AUTH: "Bearer nope"}, {AUTH: "Basic abc"}, {AUTH: "Bearer "}):
        response = await facto.client.post(
            "/api/v1/invoices", json=invoice_body(), headers=headers
        )
        assert response.status == 401
        assert "error" in await response.json()


async def test_malformed_json_is_400(facto: Facto) -> None:
    response = await facto.client.post(
        "/api/v1/invoices",
        data=b"{not json",
        headers={**bearer(facto), "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "malformed JSON" in (await response.json())["error"]


async def test_wrong_content_type_is_415(facto: Facto) -> None:
    response = await facto.client.post(
        "/api/v1/invoices",
        data="a=b",
        headers={**bearer(facto), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 415


async def test_invalid_fields_are_all_listed_in_422(facto: Facto) -> None:
    body = invoice_body("sms", "not a phone")
    body["currency"] = "XXY"
    body["lines"][0]["unit_amount"] = 0
    body["lines"][1]["vat_rate"] = 20.0
    body["status"] = "paid"
    response = await facto.post_invoice(body)
    assert response.status == 422
    fields = {e["field"] for e in (await response.json())["fields"]}
    assert {
        "customer.phone",
        "currency",
        "lines.0.unit_amount",
        "lines.1.vat_rate",
        "status",
    } <= fields


@pytest.mark.parametrize(
    ("channel", "missing"),
    [("sms", "customer.phone"), ("telegram", "customer.telegram_chat_id"), ("fax", "channel")],
)
async def test_channel_without_its_address_is_422(
    facto: Facto, channel: str, missing: str
) -> None:
    body = invoice_body()
    body["channel"] = channel
    body["customer"].pop("telegram_chat_id")
    body["customer"]["name"] = "X"
    response = await facto.post_invoice(body)
    assert response.status == 422
    assert missing in {e["field"] for e in (await response.json())["fields"]}


async def test_other_merchants_invoice_is_404(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    _, other_key = await facto.add_merchant(name="Autre")
    response = await facto.client.get(
        f"/api/v1/invoices/{created['id']}", headers={AUTH: f"Bearer {other_key}"}
    )
    assert response.status == 404
    missing = await facto.client.get("/api/v1/invoices/inv_nope", headers=bearer(facto))
    assert missing.status == 404


async def test_oversized_body_is_413(facto: Facto) -> None:
    big = invoice_body()
    big["lines"][0]["description"] = "x" * 200_000
    response = await facto.post_invoice(big)
    assert response.status == 413
    stripe_big = await facto.client.post(
        "/webhooks/stripe",
        data=b"{" + b" " * 200_000 + b"}",
        headers={"Stripe-Signature": "t=1,v1=00"},
    )
    assert stripe_big.status == 413


async def test_unsigned_or_wrongly_signed_webhooks_store_nothing(facto: Facto) -> None:
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "text": "payer",
            "chat": {"id": 424242, "type": "private"},
        },
    }
    for secret in (None, "wrong"):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        response = await facto.client.post("/webhooks/telegram", json=update, headers=headers)
        assert response.status == 403

    form = {"MessageSid": "SM" + "1" * 32, "From": "+33612345678", "Body": "payer"}
    bad_sig = RequestValidator("wrong-token").compute_signature(
        f"{facto.base_url}/webhooks/twilio/sms", form
    )
    for headers in ({}, {"X-Twilio-Signature": bad_sig}):
        response = await facto.client.post("/webhooks/twilio/sms", data=form, headers=headers)
        assert response.status == 403

    payload = json.dumps({"id": "evt_1", "type": "checkout.session.completed"})
    signature = stripe.WebhookSignature.generate_signature_header(payload, "whsec_wrong")
    for headers in ({}, {"Stripe-Signature": signature}, {"Stripe-Signature": "garbage"}):
        response = await facto.client.post("/webhooks/stripe", data=payload, headers=headers)
        assert response.status == 400

    assert await facto.redis.keys("conv:*") == []
    assert await facto.redis.scard(keys.PIPELINE_PENDING) == 0


async def test_twilio_signature_is_checked_against_the_public_url(facto: Facto) -> None:
    """TESTCASES 29/30: the configured base URL counts, never a forwarded host."""
    form = {"MessageSid": "SM" + "2" * 32, "From": "+33612345678", "Body": "aide"}
    token = "sandbox-twilio-token"
    spoofed = RequestValidator(token).compute_signature(
        "http://evil.test/webhooks/twilio/sms", form
    )
    response = await facto.client.post(
        "/webhooks/twilio/sms",
        data=form,
        headers={"X-Twilio-Signature": spoofed, "X-Forwarded-Host": "evil.test"},
    )
    assert response.status == 403
    good = RequestValidator(token).compute_signature(f"{facto.base_url}/webhooks/twilio/sms", form)
    response = await facto.client.post(
        "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": good}
    )
    assert response.status == 200
    assert "<Response>" in await response.text()


async def test_stripe_event_from_the_future_is_rejected(facto: Facto) -> None:
    payload = json.dumps({"id": "evt_2", "type": "checkout.session.completed", "data": {}})
    header = stripe.WebhookSignature.generate_signature_header(
        payload, "whsec_sandbox", int(facto.clock.now().timestamp()) + 600
    )
    response = await facto.client.post(
        "/webhooks/stripe", data=payload, headers={"Stripe-Signature": header}
    )
    assert response.status == 400
    old = stripe.WebhookSignature.generate_signature_header(
        payload, "whsec_sandbox", int(facto.clock.now().timestamp()) - 10_000
    )
    assert (
        await facto.client.post(
            "/webhooks/stripe", data=payload, headers={"Stripe-Signature": old}
        )
    ).status == 400


async def test_unknown_stripe_event_type_is_acknowledged_and_ignored(facto: Facto) -> None:
    payload = json.dumps({"id": "evt_3", "type": "customer.created", "data": {"object": {}}})
    header = stripe.WebhookSignature.generate_signature_header(
        payload, "whsec_sandbox", int(facto.clock.now().timestamp())
    )
    response = await facto.client.post(
        "/webhooks/stripe", data=payload, headers={"Stripe-Signature": header}
    )
    assert response.status == 200
    assert (await response.json())["ignored"] is True


def telegram_headers() -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": "sandbox-telegram-secret"}


@pytest.mark.parametrize(
    "update",
    [
        {
            "update_id": 10,
            "edited_message": {
                "message_id": 1,
                "date": 0,
                "text": "x",
                "chat": {"id": 424242, "type": "private"},
            },
        },
        {
            "update_id": 11,
            "channel_post": {
                "message_id": 1,
                "date": 0,
                "text": "x",
                "chat": {"id": -100, "type": "channel"},
            },
        },
        {
            "update_id": 12,
            "message": {
                "message_id": 1,
                "date": 0,
                "text": "x",
                "chat": {"id": -5, "type": "group"},
            },
        },
    ],
)
async def test_telegram_updates_we_do_not_handle_get_200(
    facto: Facto, update: dict[str, object]
) -> None:
    response = await facto.client.post(
        "/webhooks/telegram", json=update, headers=telegram_headers()
    )
    assert response.status == 200
    assert await facto.redis.scard(keys.PIPELINE_PENDING) == 0


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"update_id": "x"}', b"null"])
async def test_malformed_telegram_update_is_400(facto: Facto, body: bytes) -> None:
    response = await facto.client.post(
        "/webhooks/telegram",
        data=body,
        headers={**telegram_headers(), "Content-Type": "application/json"},
    )
    assert response.status == 400


async def test_sticker_from_a_waiting_customer_gets_a_text_only_reply(facto: Facto) -> None:
    await facto.issue(invoice_body())
    sticker = {
        "update_id": 20,
        "message": {
            "message_id": 5,
            "date": 0,
            "sticker": {"file_id": "abc"},
            "from": {"id": 424242, "is_bot": False, "first_name": "C"},
            "chat": {"id": 424242, "type": "private"},
        },
    }
    response = await facto.client.post(
        "/webhooks/telegram", json=sticker, headers=telegram_headers()
    )
    assert response.status == 200
    await facto.drain()
    assert "que le texte" in (await facto.messages("telegram", "424242"))[-1]["text"]


async def test_redelivered_telegram_update_is_processed_once(facto: Facto) -> None:
    await facto.issue(invoice_body())
    update = {
        "update_id": 30,
        "message": {
            "message_id": 6,
            "date": 0,
            "text": "payer",
            "from": {"id": 424242, "is_bot": False, "first_name": "C"},
            "chat": {"id": 424242, "type": "private"},
        },
    }
    for _ in range(3):
        response = await facto.client.post(
            "/webhooks/telegram", json=update, headers=telegram_headers()
        )
        assert response.status == 200
    await facto.drain()
    assert len(await facto.messages("telegram", "424242")) == 2


async def test_wrong_method_and_unknown_routes(facto: Facto) -> None:
    assert (await facto.client.get("/webhooks/stripe")).status == 405
    assert (await facto.client.get("/api/v1/nothing")).status == 404
    assert (await facto.client.get("/healthz")).status == 200
    assert (await facto.client.get("/readyz")).status == 200


async def test_card_number_typed_in_chat_is_redacted_in_the_transcript(facto: Facto) -> None:
    await facto.issue(invoice_body())
    await facto.customer_says("telegram", "424242", "ma carte 4242 4242 4242 4242 exp 12/28")
    log = [e["text"] for e in await transcript(facto.redis, "telegram:424242")]
    assert not any("4242 4242" in entry for entry in log)
    assert any("[CARD REDACTED]" in entry for entry in log)
