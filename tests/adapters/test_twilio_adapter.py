"""TwilioSmsAdapter (twilio SDK) against the sandbox Messages API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from channels.base import (
    Button,
    ChannelName,
    DeliveryState,
    InboundKind,
    OptedOut,
    OutboundMessage,
    PermanentError,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
)
from channels.twilio_sms import (
    TwilioSmsAdapter,
    parse_inbound_sms,
    parse_status_callback,
    rewrite_twilio_url,
    verify_twilio_signature,
)
from sandbox.http import random_id
from tests.adapters.conftest import Sandbox, free_port

PHONE = "+33612345678"
STATUS_PATH = "/webhooks/twilio/status"


def outbound(text: str, *buttons: Button, address: str = PHONE) -> OutboundMessage:
    return OutboundMessage(
        channel=ChannelName.SMS,
        address=address,
        text=text,
        idempotency_key=random_id("k"),
        buttons=buttons,
    )


def make_adapter(sandbox: Sandbox, **overrides: str | None) -> TwilioSmsAdapter:
    settings = sandbox.settings
    options: dict[str, str | None] = {
        "account_sid": settings.twilio_account_sid,
        "auth_token": sandbox.twilio_token,
        "from_number": settings.twilio_sms_from,
        "api_base": settings.twilio_api_base,
        "status_callback_url": sandbox.url(STATUS_PATH),
        **overrides,
    }
    return TwilioSmsAdapter(**options)  # type: ignore[arg-type]


@pytest.fixture
async def adapter(sandbox: Sandbox) -> AsyncIterator[TwilioSmsAdapter]:
    sms = make_adapter(sandbox)
    await sms.start()
    yield sms
    await sms.close()


async def test_send_records_rendered_body_and_reports_delivery(
    sandbox: Sandbox, adapter: TwilioSmsAdapter
) -> None:
    result = await adapter.send(
        outbound(
            "Votre facture F-42 : 75,50\u202f€ à régler avant le 30 novembre, merci l’équipe",
            Button("Payer", url="https://pay.example/cs_1"),
            Button("Payer en 3 fois", action="split"),
            Button("Aide", action="help"),
        )
    )

    assert result.provider_message_id.startswith("SM")
    [message] = await sandbox.messages(ChannelName.SMS, PHONE)
    assert message["text"] == (
        "Votre facture F-42 : 75,50 € à régler avant le 30 novembre, merci l'équipe\n"
        "https://pay.example/cs_1\n1. Payer en 3 fois\n2. Aide"
    )
    assert message["buttons"] == []

    hits = await sandbox.hooks.wait_for(STATUS_PATH, count=2)
    reports = []
    for hit in hits:
        form = hit.form()
        verify_twilio_signature(
            sandbox.base + hit.path_qs,
            form,
            hit.headers.get("X-Twilio-Signature"),
            sandbox.twilio_token,
        )
        reports.append(parse_status_callback(form))
    assert [r.state for r in reports] == [DeliveryState.SENT, DeliveryState.DELIVERED]
    assert {r.provider_message_id for r in reports} == {result.provider_message_id}


async def test_no_status_callback_when_not_asked(sandbox: Sandbox) -> None:
    sms = make_adapter(sandbox, status_callback_url=None)
    await sms.start()
    try:
        await sms.send(outbound("hello"))
    finally:
        await sms.close()
    assert sandbox.state.entries[0].extra["status_callback"] is None


async def test_rate_limited_reads_retry_after(sandbox: Sandbox, adapter: TwilioSmsAdapter) -> None:
    await sandbox.fault("sms", 429, retry_after=30)
    with pytest.raises(RateLimited) as caught:
        await adapter.send(outbound("hello"))
    assert caught.value.retry_after == 30


async def test_rate_limited_without_retry_after(
    sandbox: Sandbox, adapter: TwilioSmsAdapter
) -> None:
    await sandbox.fault("sms", 429)
    with pytest.raises(RateLimited) as caught:
        await adapter.send(outbound("hello"))
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (503, None, ProviderUnavailable),
        (500, None, ProviderUnavailable),
        (400, 21610, OptedOut),
        (400, 21614, RecipientUnreachable),
        (400, 30006, RecipientUnreachable),
        (400, None, PermanentError),
        (403, None, PermanentError),
    ],
)
async def test_provider_errors_are_typed(
    sandbox: Sandbox,
    adapter: TwilioSmsAdapter,
    status: int,
    code: int | None,
    error: type[Exception],
) -> None:
    await sandbox.fault("sms", status, code=code)
    with pytest.raises(error) as caught:
        await adapter.send(outbound("hello"))
    assert caught.value.__cause__ is not None
    assert await sandbox.messages(ChannelName.SMS, PHONE) == []


async def test_invalid_number_is_unreachable(adapter: TwilioSmsAdapter) -> None:
    with pytest.raises(RecipientUnreachable):
        await adapter.send(outbound("hello", address="0612345678"))


async def test_wrong_credentials_are_permanent(sandbox: Sandbox) -> None:
    sms = make_adapter(sandbox, auth_token="wrong")
    await sms.start()
    try:
        with pytest.raises(PermanentError):
            await sms.send(outbound("hello"))
    finally:
        await sms.close()


async def test_unreachable_api_is_provider_unavailable(sandbox: Sandbox) -> None:
    sms = make_adapter(sandbox, api_base=f"http://127.0.0.1:{free_port()}/sandbox/twilio")
    await sms.start()
    try:
        with pytest.raises(ProviderUnavailable):
            await sms.send(outbound("hello"))
    finally:
        await sms.close()


async def test_customer_sms_is_signed_over_the_public_url(sandbox: Sandbox) -> None:
    response = await sandbox.post_json(f"/sandbox/api/customer/sms/{PHONE}", {"text": "PAYER"})

    assert response.status == 200
    [hit] = sandbox.hooks.at("/webhooks/twilio/sms")
    form = hit.form()
    verify_twilio_signature(
        sandbox.base + "/webhooks/twilio/sms",
        form,
        hit.headers.get("X-Twilio-Signature"),
        sandbox.twilio_token,
    )
    inbound = parse_inbound_sms(form)
    assert (inbound.kind, inbound.address, inbound.text) == (InboundKind.TEXT, PHONE, "PAYER")
    assert form["To"] == sandbox.settings.twilio_sms_from


async def test_customer_api_answers_with_our_webhook_status(sandbox: Sandbox) -> None:
    sandbox.hooks.status = 403
    response = await sandbox.post_json(f"/sandbox/api/customer/sms/{PHONE}", {"text": "x"})
    assert response.status == 403


async def test_customer_mms_without_text_is_unsupported(sandbox: Sandbox) -> None:
    await sandbox.post_json(f"/sandbox/api/customer/sms/{PHONE}", {"attachment": True})
    [hit] = sandbox.hooks.at("/webhooks/twilio/sms")
    assert parse_inbound_sms(hit.form()).kind is InboundKind.UNSUPPORTED


def test_rewrite_keeps_the_base_path_prefix() -> None:
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1"
    assert rewrite_twilio_url(url, "http://127.0.0.1:8080/sandbox/twilio/") == (
        "http://127.0.0.1:8080/sandbox/twilio/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )
    assert rewrite_twilio_url("https://example.com/a", "http://h/b") == "https://example.com/a"
    assert rewrite_twilio_url("https://eviltwilio.com/a", "http://h/b") == (
        "https://eviltwilio.com/a"
    )
