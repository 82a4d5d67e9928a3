"""StripeGateway with the real stripe SDK: against the sandbox emulator, and against a tiny
recording handler for the exact wire format and the error mapping. Loopback only."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest
import stripe
from aiohttp import web

from bot.clock import FakeClock
from bot.settings import Settings, secret
from payments.ledger import facts_from_objects
from payments.stripe_gateway import PaymentProviderError, StripeGateway
from payments.webhook import event_object, payment_ref, verify_stripe_event
from sandbox import SandboxState, create_sandbox_app

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def create_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "amount": 12_000,
        "currency": "EUR",
        "description": "Facture F-2026-000001",
        "invoice_id": "inv_1",
        "merchant_id": "m_1",
        "purpose": "invoice",
        "idempotency_key": "inv:inv_1:checkout:v1:1",
        "success_url": "http://127.0.0.1/paid",
        "cancel_url": "http://127.0.0.1/cancel",
        "expires_at": NOW + timedelta(hours=1),
        "locale": "fr",
    }
    kwargs.update(overrides)
    return kwargs


# --- against the sandbox emulator -----------------------------------------------------------


@dataclass
class Emulator:
    gateway: StripeGateway
    state: SandboxState
    settings: Settings
    webhooks: list[bytes] = field(default_factory=list)


@pytest.fixture
async def emulator(aiohttp_server: Any) -> AsyncIterator[Emulator]:
    port = _free_port()
    env: dict[str, Any] = {
        "FACTO_SANDBOX": True,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "_env_file": None,  # ignore any .env in the working directory
    }
    settings = Settings(**env)
    state = SandboxState(clock=FakeClock(current=NOW))
    app = web.Application()
    received: list[bytes] = []

    async def webhook(request: web.Request) -> web.Response:  # the emulator's deliveries
        received.append(await request.read())
        return web.Response()

    app.router.add_post("/webhooks/{tail:.*}", webhook)
    app.add_subapp("/sandbox", create_sandbox_app(settings, state))
    await aiohttp_server(app, host="127.0.0.1", port=port)
    gateway = StripeGateway(
        secret(settings.stripe_api_key), settings.stripe_api_base, max_network_retries=0
    )
    await gateway.start()
    yield Emulator(gateway, state, settings, received)
    await gateway.close()


async def test_create_retrieve_expire(emulator: Emulator) -> None:
    gw = emulator.gateway
    session = await gw.create_checkout_session(**create_kwargs())
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert (session.amount_total, session.currency) == (12_000, "EUR")
    assert session.expires_at == NOW + timedelta(hours=1)
    assert session.metadata == {"invoice_id": "inv_1", "merchant_id": "m_1", "purpose": "invoice"}
    assert session.url is not None and session.id in session.url
    stored = emulator.state.sessions[session.id]
    assert stored.client_reference_id == "inv_1"
    assert stored.locale == "fr"

    assert await gw.retrieve_checkout_session(session.id) == session

    expired = await gw.expire_checkout_session(session.id)
    assert expired.status == "expired"
    assert expired.url is None
    assert (await gw.retrieve_checkout_session(session.id)).status == "expired"


async def test_same_idempotency_key_returns_the_same_session(emulator: Emulator) -> None:
    first = await emulator.gateway.create_checkout_session(**create_kwargs())
    again = await emulator.gateway.create_checkout_session(**create_kwargs())
    assert again == first
    assert len(emulator.state.sessions) == 1
    other = await emulator.gateway.create_checkout_session(
        **create_kwargs(idempotency_key="inv:inv_1:checkout:v1:2")
    )
    assert other.id != first.id


async def test_same_key_with_other_params_fails_loudly(emulator: Emulator) -> None:  # TC 21
    await emulator.gateway.create_checkout_session(**create_kwargs())
    with pytest.raises(PaymentProviderError) as info:
        await emulator.gateway.create_checkout_session(**create_kwargs(amount=11_000))
    assert info.value.retryable is False
    assert isinstance(info.value.__cause__, stripe.IdempotencyError)


async def test_expiring_twice_is_not_retryable(emulator: Emulator) -> None:
    session = await emulator.gateway.create_checkout_session(**create_kwargs())
    await emulator.gateway.expire_checkout_session(session.id)
    with pytest.raises(PaymentProviderError) as info:
        await emulator.gateway.expire_checkout_session(session.id)
    assert (info.value.retryable, info.value.http_status) == (False, 400)


async def test_unknown_session(emulator: Emulator) -> None:
    with pytest.raises(PaymentProviderError) as info:
        await emulator.gateway.retrieve_checkout_session("cs_test_missing")
    assert (info.value.retryable, info.value.http_status) == (False, 404)
    assert info.value.code == "resource_missing"


async def test_wrong_api_key_is_not_retryable(emulator: Emulator) -> None:
    gateway = StripeGateway("sk_test_wrong", emulator.settings.stripe_api_base)
    await gateway.start()
    try:
        with pytest.raises(PaymentProviderError) as info:
            await gateway.retrieve_checkout_session("cs_test_x")
    finally:
        await gateway.close()
    assert info.value.retryable is False
    assert isinstance(info.value.__cause__, stripe.AuthenticationError)


async def test_expiry_event_from_the_emulator_reconciles(emulator: Emulator) -> None:
    session = await emulator.gateway.create_checkout_session(**create_kwargs())
    await emulator.gateway.expire_checkout_session(session.id)
    (event,) = emulator.state.events.values()  # recorded synchronously; delivery is async
    secret_ = secret(emulator.settings.stripe_webhook_secret)
    header = stripe.WebhookSignature.generate_signature_header(
        event.payload, secret_, int(NOW.timestamp())
    )
    verified = verify_stripe_event(event.payload.encode(), header, [secret_], now=NOW)
    ref = payment_ref(verified)
    assert ref is not None and ref.livemode is False
    assert (ref.session_id, ref.invoice_id, ref.merchant_id) == (session.id, "inv_1", "m_1")
    obj = event_object(verified)
    assert obj is not None
    facts = facts_from_objects(obj)
    assert (facts.verdict, facts.amount, facts.currency) == ("expired", 12_000, "EUR")


# --- against a recording handler ------------------------------------------------------------


@dataclass
class Recorder:
    requests: list[tuple[str, str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)


SESSION_JSON = {
    "id": "cs_test_1",
    "object": "checkout.session",
    "url": "https://checkout.example/cs_test_1",
    "status": "open",
    "payment_status": "unpaid",
    "amount_total": 12_000,
    "currency": "eur",
    "expires_at": int((NOW + timedelta(hours=1)).timestamp()),
    "metadata": {"invoice_id": "inv_1", "merchant_id": "m_1", "purpose": "invoice"},
}

GatewayFactory = Callable[..., Awaitable[tuple[StripeGateway, Recorder]]]


@pytest.fixture
async def recorded(aiohttp_server: Any) -> AsyncIterator[GatewayFactory]:
    gateways: list[StripeGateway] = []

    async def make(
        status: int = 200, body: dict[str, Any] | None = None
    ) -> tuple[StripeGateway, Recorder]:
        recorder = Recorder(status=status, body=SESSION_JSON if body is None else body)

        async def handle(request: web.Request) -> web.Response:
            form = dict(parse_qsl((await request.read()).decode(), keep_blank_values=True))
            recorder.requests.append((request.method, request.path, dict(request.headers), form))
            return web.json_response(recorder.body, status=recorder.status)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        server = await aiohttp_server(app)
        gateway = StripeGateway("sk_test_x", str(server.make_url("")), max_network_retries=0)
        await gateway.start()
        gateways.append(gateway)
        return gateway, recorder

    yield make
    for gateway in gateways:
        await gateway.close()


async def test_create_sends_the_expected_form(recorded: GatewayFactory) -> None:
    gateway, recorder = await recorded()
    session = await gateway.create_checkout_session(
        **create_kwargs(purpose="instalment:2", amount=4000, locale="en")
    )
    assert session.currency == "EUR"
    ((method, path, headers, form),) = recorder.requests
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert headers["Idempotency-Key"] == "inv:inv_1:checkout:v1:1"
    assert headers["Authorization"] == "Bearer sk_test_x"
    assert form == {
        "mode": "payment",
        "client_reference_id": "inv_1",
        "metadata[invoice_id]": "inv_1",
        "metadata[merchant_id]": "m_1",
        "metadata[purpose]": "instalment:2",
        "payment_intent_data[metadata][invoice_id]": "inv_1",
        "payment_intent_data[metadata][merchant_id]": "m_1",
        "payment_intent_data[metadata][purpose]": "instalment:2",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "4000",
        "line_items[0][price_data][product_data][name]": "Facture F-2026-000001",
        "success_url": "http://127.0.0.1/paid",
        "cancel_url": "http://127.0.0.1/cancel",
        "expires_at": str(int((NOW + timedelta(hours=1)).timestamp())),
        "locale": "en",
    }


async def test_retrieve_and_expire_paths(recorded: GatewayFactory) -> None:
    gateway, recorder = await recorded()
    await gateway.retrieve_checkout_session("cs_test_1")
    await gateway.expire_checkout_session("cs_test_1")
    assert [(m, p) for m, p, _, _ in recorder.requests] == [
        ("GET", "/v1/checkout/sessions/cs_test_1"),
        ("POST", "/v1/checkout/sessions/cs_test_1/expire"),
    ]


@pytest.mark.parametrize(
    ("status", "error_type", "retryable"),
    [
        (500, "api_error", True),
        (503, "api_error", True),
        (429, "invalid_request_error", True),
        (400, "invalid_request_error", False),
        (401, "invalid_request_error", False),
        (403, "invalid_request_error", False),
        (404, "invalid_request_error", False),
    ],
)
async def test_error_mapping(
    recorded: GatewayFactory, status: int, error_type: str, retryable: bool
) -> None:
    body = {"error": {"type": error_type, "message": "nope", "code": "some_code"}}
    gateway, _ = await recorded(status=status, body=body)
    with pytest.raises(PaymentProviderError) as info:
        await gateway.retrieve_checkout_session("cs_test_1")
    assert info.value.retryable is retryable
    assert info.value.http_status == status
    assert isinstance(info.value.__cause__, stripe.StripeError)


async def test_connection_errors_are_retryable() -> None:
    gateway = StripeGateway("sk_test_x", f"http://127.0.0.1:{_free_port()}", max_network_retries=0)
    await gateway.start()
    try:
        with pytest.raises(PaymentProviderError) as info:
            await gateway.retrieve_checkout_session("cs_test_1")
    finally:
        await gateway.close()
    assert info.value.retryable is True
    assert isinstance(info.value.__cause__, stripe.APIConnectionError)


async def test_malformed_session_from_provider(recorded: GatewayFactory) -> None:
    body = {k: v for k, v in SESSION_JSON.items() if k != "amount_total"}
    gateway, _ = await recorded(body=body)
    with pytest.raises(PaymentProviderError) as info:
        await gateway.retrieve_checkout_session("cs_test_1")
    assert info.value.retryable is False


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 0},
        {"amount": 10.5},
        {"currency": "XYZ"},
        {"idempotency_key": ""},
        {"idempotency_key": "k" * 256},
        {"expires_at": datetime(2026, 11, 21, 10, 0)},  # naive on purpose
        {"locale": "de"},
        {"purpose": "instalment-2"},
    ],
)
async def test_create_validates_before_calling(
    recorded: GatewayFactory, overrides: dict[str, Any]
) -> None:
    gateway, recorder = await recorded()
    with pytest.raises((ValueError, TypeError)):
        await gateway.create_checkout_session(**create_kwargs(**overrides))
    assert recorder.requests == []


async def test_calls_before_start_fail_clearly() -> None:
    gateway = StripeGateway("sk_test_x", "http://127.0.0.1:1")
    with pytest.raises(RuntimeError, match="start"):
        await gateway.retrieve_checkout_session("cs_1")
    await gateway.close()  # closing an unstarted gateway is harmless


def test_an_api_key_is_required() -> None:
    with pytest.raises(ValueError):
        StripeGateway("", "http://127.0.0.1:1")
