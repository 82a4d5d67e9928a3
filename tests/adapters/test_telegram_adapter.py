"""TelegramAdapter (python-telegram-bot) against the sandbox Bot API emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from channels.base import (
    Button,
    ChannelError,
    ChannelName,
    InboundKind,
    OutboundMessage,
    PermanentError,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
)
from channels.telegram import TelegramAdapter, parse_telegram_update, verify_telegram_secret
from sandbox.http import random_id
from tests.adapters.conftest import Sandbox, free_port

CHAT = "424242"


def outbound(text: str, *buttons: Button, address: str = CHAT) -> OutboundMessage:
    return OutboundMessage(
        channel=ChannelName.TELEGRAM,
        address=address,
        text=text,
        idempotency_key=random_id("k"),
        buttons=buttons,
    )


@pytest.fixture
async def adapter(sandbox: Sandbox) -> AsyncIterator[TelegramAdapter]:
    tg = TelegramAdapter(sandbox.telegram_token, sandbox.settings.telegram_api_base)
    await tg.start()
    yield tg
    await tg.close()


async def test_send_plain_text(sandbox: Sandbox, adapter: TelegramAdapter) -> None:
    result = await adapter.send(outbound("Bonjour <b>Zoé</b> *pas* de markdown"))

    assert result.provider_message_id == "1"
    [message] = await sandbox.messages(ChannelName.TELEGRAM, CHAT)
    assert message["text"] == "Bonjour <b>Zoé</b> *pas* de markdown"
    assert message["buttons"] == []
    assert sandbox.state.entries[0].extra["parse_mode"] is None


async def test_send_with_buttons_one_per_row(sandbox: Sandbox, adapter: TelegramAdapter) -> None:
    buttons = (
        Button("Payer 75,50 €", url="http://127.0.0.1/sandbox/stripe/pay/cs_test_1"),
        Button("Plus tard", action="later:F-42"),
        Button("Aide", action="help"),
    )
    await adapter.send(outbound("Votre facture F-42", *buttons))

    [message] = await sandbox.messages(ChannelName.TELEGRAM, CHAT)
    assert message["buttons"] == [
        {"label": "Payer 75,50 €", "action": None, "url": buttons[0].url},
        {"label": "Plus tard", "action": "later:F-42", "url": None},
        {"label": "Aide", "action": "help", "url": None},
    ]
    markup = sandbox.state.entries[0].extra["reply_markup"]
    assert [len(row) for row in markup["inline_keyboard"]] == [1, 1, 1]


async def test_callback_data_over_64_bytes_is_refused_before_sending(
    sandbox: Sandbox, adapter: TelegramAdapter
) -> None:
    with pytest.raises(PermanentError):
        await adapter.send(outbound("x", Button("Trop long", action="é" * 33)))
    assert sandbox.state.entries == []


async def test_rate_limited_with_retry_after(sandbox: Sandbox, adapter: TelegramAdapter) -> None:
    await sandbox.fault("telegram", 429, retry_after=7)

    with pytest.raises(RateLimited) as caught:
        await adapter.send(outbound("hello"))

    assert caught.value.retry_after == 7
    assert caught.value.__cause__ is not None
    assert await sandbox.messages(ChannelName.TELEGRAM, CHAT) == []


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (403, RecipientUnreachable),
        (500, ProviderUnavailable),
        (503, ProviderUnavailable),
        (400, PermanentError),
    ],
)
async def test_provider_errors_are_typed(
    sandbox: Sandbox, adapter: TelegramAdapter, status: int, error: type[Exception]
) -> None:
    await sandbox.fault("telegram", status)
    with pytest.raises(error):
        await adapter.send(outbound("hello"))


async def test_fault_count_then_recovery(sandbox: Sandbox, adapter: TelegramAdapter) -> None:
    await sandbox.fault("telegram", 503, count=2)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            await adapter.send(outbound("retry me"))

    await adapter.send(outbound("retry me"))

    assert [m["text"] for m in await sandbox.messages(ChannelName.TELEGRAM, CHAT)] == ["retry me"]


async def test_wrong_token_is_permanent(sandbox: Sandbox) -> None:
    tg = TelegramAdapter("999:wrong", sandbox.settings.telegram_api_base)
    await tg.start()
    try:
        with pytest.raises(PermanentError):
            await tg.send(outbound("hello"))
    finally:
        await tg.close()


async def test_unreachable_api_is_provider_unavailable() -> None:
    tg = TelegramAdapter("1:x", f"http://127.0.0.1:{free_port()}/bot")
    await tg.start()
    try:
        with pytest.raises(ProviderUnavailable):
            await tg.send(outbound("hello"))
    finally:
        await tg.close()


async def test_send_before_start_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        await TelegramAdapter("1:x", "http://127.0.0.1:1/bot").send(outbound("x"))


async def test_webhook_round_trip_with_button_tap(
    sandbox: Sandbox, adapter: TelegramAdapter
) -> None:
    secret = "s3cret-Token_1"
    await adapter.set_webhook(sandbox.url("/webhooks/telegram"), secret)
    hook = sandbox.state.telegram_webhook
    assert hook is not None
    assert hook.allowed_updates == ("message", "callback_query")
    await adapter.send(outbound("Facture F-42", Button("Payer", action="pay:F-42")))

    response = await sandbox.post_json(
        f"/sandbox/api/customer/telegram/{CHAT}", {"action": "pay:F-42"}
    )

    assert response.status == 200
    [hit] = sandbox.hooks.at("/webhooks/telegram")
    verify_telegram_secret(hit.headers.get("X-Telegram-Bot-Api-Secret-Token"), secret)
    inbound = parse_telegram_update(json.loads(hit.body))
    assert inbound is not None
    assert inbound.kind is InboundKind.CHOICE
    assert (inbound.address, inbound.payload) == (CHAT, "pay:F-42")

    query_id = inbound.extra["callback_query_id"]
    await adapter.answer_choice(query_id)
    await adapter.answer_choice(query_id)  # too old / already answered: swallowed
    assert sandbox.state.callback_queries[query_id] is True


async def test_customer_text_reaches_webhook(sandbox: Sandbox) -> None:
    sandbox.state.add_contact("Zoé", ChannelName.TELEGRAM, CHAT, language_code="en")

    response = await sandbox.post_json(f"/sandbox/api/customer/telegram/{CHAT}", {"text": "payer"})

    assert response.status == 200
    [hit] = sandbox.hooks.at("/webhooks/telegram")
    verify_telegram_secret(
        hit.headers.get("X-Telegram-Bot-Api-Secret-Token"),
        sandbox.settings.telegram_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
    )
    inbound = parse_telegram_update(json.loads(hit.body))
    assert inbound is not None
    assert (inbound.kind, inbound.text, inbound.language_code) == (InboundKind.TEXT, "payer", "en")


def remove_buttons(message_id: str) -> OutboundMessage:
    return OutboundMessage(
        channel=ChannelName.TELEGRAM,
        address=CHAT,
        text="",
        idempotency_key=random_id("k"),
        remove_buttons_of=message_id,
    )


async def test_buttons_are_removed_with_edit_message_reply_markup(
    sandbox: Sandbox, adapter: TelegramAdapter
) -> None:
    sent = await adapter.send(outbound("Votre facture F-42", Button("Plus tard", action="later")))
    result = await adapter.send(remove_buttons(sent.provider_message_id))

    assert result.provider_message_id == sent.provider_message_id
    [message] = await sandbox.messages(ChannelName.TELEGRAM, CHAT)
    assert message["text"] == "Votre facture F-42" and message["buttons"] == []
    assert sandbox.state.edits == [(CHAT, sent.provider_message_id)]
    # Again (a retry after a lost answer): "message is not modified", which is no error.
    await adapter.send(remove_buttons(sent.provider_message_id))
    # A message Telegram does not know (deleted by the customer): nothing to do either.
    await adapter.send(remove_buttons("9999"))
    assert sandbox.state.edits == [(CHAT, sent.provider_message_id)]


@pytest.mark.parametrize(("status", "error"), [(403, PermanentError), (503, ProviderUnavailable)])
async def test_a_refused_edit_never_falls_back_a_failing_one_is_retried(
    sandbox: Sandbox, adapter: TelegramAdapter, status: int, error: type[Exception]
) -> None:
    sent = await adapter.send(outbound("Votre facture F-42", Button("Plus tard", action="later")))
    await sandbox.fault("telegram", status)
    with pytest.raises(error) as raised:
        await adapter.send(remove_buttons(sent.provider_message_id))
    assert isinstance(raised.value, ChannelError)
    # Retried if the API failed; refused for good, never re-sent elsewhere: there is no
    # message to send (and its outbox record names no invoice to find another address by).
    assert raised.value.retryable is (status == 503)
    if status == 403:
        assert not raised.value.falls_back
