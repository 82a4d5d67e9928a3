"""The real stripe client against the sandbox Checkout Sessions emulator and test page."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import stripe

from bot.settings import secret
from tests.adapters.conftest import Sandbox

STRIPE_HOOK = "/webhooks/stripe"


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "success_url": "http://127.0.0.1:1/merci?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:1/annule",
        "client_reference_id": "conv-7",
        "metadata": {"invoice_id": "F-42"},
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 7000,
                    "product_data": {"name": "Facture F-42"},
                },
            },
            {
                "quantity": 2,
                "price_data": {
                    "currency": "eur",
                    "unit_amount": 275,
                    "product_data": {"name": "Frais <b>port</b>"},
                },
            },
        ],
    }
    params.update(overrides)
    return params


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[stripe.StripeClient]:
    http = stripe.AIOHTTPClient()
    yield stripe.StripeClient(
        secret(sandbox.settings.stripe_api_key),
        base_addresses={"api": sandbox.settings.stripe_api_base},
        http_client=http,
        max_network_retries=0,
    )
    await http.close_async()  # type: ignore[no-untyped-call]


async def create(client: stripe.StripeClient, key: str, **overrides: Any) -> Any:
    return await client.v1.checkout.sessions.create_async(
        params=session_params(**overrides),  # type: ignore[arg-type]
        options={"idempotency_key": key},
    )


def verified_events(sandbox: Sandbox) -> list[stripe.Event]:
    whsec = secret(sandbox.settings.stripe_webhook_secret)
    return [
        stripe.Webhook.construct_event(hit.body, hit.headers.get("Stripe-Signature"), whsec)
        for hit in sandbox.hooks.at(STRIPE_HOOK)
    ]


async def test_create_is_idempotent_and_retrievable(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    first = await create(client, "invoice-F-42-v1")
    again = await create(client, "invoice-F-42-v1")
    other = await create(client, "invoice-F-42-v2")

    assert first.id == again.id != other.id
    assert first.id.startswith("cs_test_")
    assert first.amount_total == 7550
    assert (first.currency, first.status, first.payment_status) == ("eur", "open", "unpaid")
    assert first.metadata["invoice_id"] == "F-42"
    assert first.client_reference_id == "conv-7"
    assert first.url == f"{sandbox.base}/sandbox/stripe/pay/{first.id}"
    assert first.livemode is False
    assert first.expires_at - first.created == 24 * 3600

    fetched = await client.v1.checkout.sessions.retrieve_async(first.id)
    assert fetched.to_dict() == first.to_dict()


async def test_same_key_with_other_params_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    await create(client, "k1")
    with pytest.raises(stripe.IdempotencyError):
        await create(client, "k1", client_reference_id="conv-8")


@pytest.mark.parametrize(
    "overrides",
    [
        {"line_items": []},
        {"mode": "subscription"},
        {"expires_at": 2**31},
        {"bogus": "1"},
        {"line_items": [{"price": "price_123", "quantity": 1}]},
    ],
)
async def test_invalid_params_are_refused(
    client: stripe.StripeClient, overrides: dict[str, Any]
) -> None:
    with pytest.raises(stripe.InvalidRequestError):
        await create(client, f"bad-{sorted(overrides)}", **overrides)


async def test_unknown_session_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        await client.v1.checkout.sessions.retrieve_async("cs_test_nope")
    assert caught.value.code == "resource_missing"
    assert caught.value.http_status == 404


async def test_wrong_api_key_is_rejected(sandbox: Sandbox) -> None:
    http = stripe.AIOHTTPClient()
    bad = stripe.StripeClient(
        "sk_test_wrong",
        base_addresses={"api": sandbox.settings.stripe_api_base},
        http_client=http,
        max_network_retries=0,
    )
    try:
        with pytest.raises(stripe.AuthenticationError):
            await bad.v1.checkout.sessions.retrieve_async("cs_test_x")
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]


async def test_expire_sends_a_signed_event(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    session = await create(client, "k-expire")

    expired = await client.v1.checkout.sessions.expire_async(session.id)

    assert expired.status == "expired"
    assert expired.url is None
    await sandbox.hooks.wait_for(STRIPE_HOOK)
    [event] = verified_events(sandbox)
    assert event.type == "checkout.session.expired"
    assert event.data.object["id"] == session.id
    with pytest.raises(stripe.InvalidRequestError):
        await client.v1.checkout.sessions.expire_async(session.id)
    async with sandbox.http.get(session.url) as page:
        assert page.status == 200
        assert "Session expirée" in await page.text()
    async with sandbox.http.post(session.url + "/card", allow_redirects=False) as paid:
        assert paid.status == 409


async def test_card_payment_on_the_test_page(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    session = await create(client, "k-card")
    async with sandbox.http.get(session.url) as page:
        body = await page.text()
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "MODE TEST" in body
    assert "75,50\xa0€" in body
    assert html.escape("Frais <b>port</b>") in body

    async with sandbox.http.post(session.url + "/card", allow_redirects=False) as paid:
        assert paid.status == 303
        assert paid.headers["Location"] == f"http://127.0.0.1:1/merci?session={session.id}"

    [event] = verified_events(sandbox)
    assert event.type == "checkout.session.completed"
    assert event.api_version == "2026-10-28.endive"
    assert event.livemode is False
    assert event.data.object["payment_status"] == "paid"
    assert event.data.object["metadata"].to_dict() == {"invoice_id": "F-42"}
    fetched = await client.v1.checkout.sessions.retrieve_async(session.id)
    assert (fetched.status, fetched.payment_status) == ("complete", "paid")

    async with sandbox.http.post(session.url + "/card", allow_redirects=False) as twice:
        assert twice.status == 409
    assert len(sandbox.hooks.at(STRIPE_HOOK)) == 1


async def test_sepa_payment_then_bank_confirmation(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    session = await create(client, "k-sepa")

    async with sandbox.http.post(session.url + "/sepa", allow_redirects=False) as pending:
        assert pending.status == 303
    async with sandbox.http.get(session.url) as page:
        assert "Confirmer le prélèvement" in await page.text()
    async with sandbox.http.post(session.url + "/sepa/confirm", allow_redirects=False) as done:
        assert done.status == 303

    completed, succeeded = verified_events(sandbox)
    assert (completed.type, completed.data.object["payment_status"]) == (
        "checkout.session.completed",
        "unpaid",
    )
    assert (succeeded.type, succeeded.data.object["payment_status"]) == (
        "checkout.session.async_payment_succeeded",
        "paid",
    )


async def test_redeliver_sends_the_same_bytes(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    session = await create(client, "k-redeliver")
    async with sandbox.http.post(session.url + "/card", allow_redirects=False):
        pass
    [event] = await sandbox.get_json("/sandbox/api/stripe/events")

    response = await sandbox.post_json(f"/sandbox/api/stripe/redeliver/{event['id']}", {})

    assert response.status == 200
    first, second = sandbox.hooks.at(STRIPE_HOOK)
    assert first.body == second.body
    assert [e.id for e in verified_events(sandbox)] == [event["id"], event["id"]]
    [listed] = await sandbox.get_json("/sandbox/api/stripe/events")
    assert listed["deliveries"] == [200, 200]
    missing = await sandbox.post_json("/sandbox/api/stripe/redeliver/evt_nope", {})
    assert missing.status == 404


async def test_unknown_pay_page_is_a_clear_404(sandbox: Sandbox) -> None:
    async with sandbox.http.get(sandbox.url("/sandbox/stripe/pay/cs_test_nope")) as page:
        assert page.status == 404
        assert "Session introuvable" in await page.text()


async def test_bad_form_body_is_a_400_stripe_error(sandbox: Sandbox) -> None:
    headers = {"Authorization": f"Bearer {secret(sandbox.settings.stripe_api_key)}"}
    async with sandbox.http.post(
        sandbox.url("/sandbox/stripe/v1/checkout/sessions"),
        data="line_items[0]=a&line_items[0][x]=b",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        assert response.status == 400
        body = json.loads(await response.text())
    assert body["error"]["type"] == "invalid_request_error"
