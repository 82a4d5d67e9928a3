"""The sandbox's own API and pages: inspection, faults, customer side, bad input, escaping."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from bot.settings import ConfigurationError, Settings, secret
from channels.base import Button, ChannelName
from channels.twilio_sms import verify_twilio_signature
from sandbox import SandboxState, create_sandbox_app
from sandbox.state import ChatEntry
from tests.adapters.conftest import Sandbox

CHAT = "4242"
PHONE = "+33612345678"


def bot_says(sandbox: Sandbox, text: str, *buttons: Button, address: str = CHAT) -> None:
    sandbox.state.record(
        ChatEntry(
            channel=ChannelName.TELEGRAM,
            address=address,
            sender="bot",
            text=text,
            time=sandbox.state.clock.now(),
            message_id=str(sandbox.state.next_message_id(address)),
            buttons=buttons,
            extra={"bot": sandbox.telegram_token.split(":", 1)[0]},  # the platform's bot
        )
    )


def test_refuses_to_build_outside_sandbox_mode() -> None:
    with pytest.raises(ConfigurationError):
        create_sandbox_app(Settings(FACTO_SANDBOX=False), SandboxState())


@pytest.mark.parametrize(
    "query",
    [{"channel": "fax", "to": "1"}, {"channel": "sms"}, {"to": CHAT}],
)
async def test_messages_api_rejects_bad_queries(sandbox: Sandbox, query: dict[str, str]) -> None:
    async with sandbox.http.get(sandbox.url("/sandbox/api/messages"), params=query) as response:
        assert response.status == 400
        assert "error" in await response.json()


async def test_conversation_shows_both_sides_in_order(sandbox: Sandbox) -> None:
    bot_says(sandbox, "Facture F-42", Button("Payer", action="pay"))
    await sandbox.post_json(f"/sandbox/api/customer/telegram/{CHAT}", {"action": "pay"})
    await sandbox.post_json(f"/sandbox/api/customer/telegram/{CHAT}", {"text": "merci"})

    conversation = await sandbox.get_json("/sandbox/api/conversation", channel="telegram", to=CHAT)

    assert [(e["from"], e["text"]) for e in conversation] == [
        ("bot", "Facture F-42"),
        ("customer", "Payer"),
        ("customer", "merci"),
    ]
    assert [m["text"] for m in await sandbox.messages(ChannelName.TELEGRAM, CHAT)] == [
        "Facture F-42"
    ]
    first, second = (json.loads(h.body) for h in sandbox.hooks.at("/webhooks/telegram"))
    assert second["update_id"] == first["update_id"] + 1
    assert first["callback_query"]["message"]["text"] == "Facture F-42"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (f"/sandbox/api/customer/telegram/{CHAT}", {"action": "pay"}),  # no bot message yet
        (f"/sandbox/api/customer/telegram/{CHAT}", {}),
        (f"/sandbox/api/customer/telegram/{CHAT}", {"text": 5}),
        (f"/sandbox/api/customer/telegram/{CHAT}", {"action": "x" * 65}),
        (f"/sandbox/api/customer/sms/{PHONE}", {"action": "pay"}),
        ("/sandbox/api/customer/sms/0612345678", {"text": "hi"}),
        ("/sandbox/api/customer/telegram/not-a-chat", {"text": "hi"}),
        ("/sandbox/api/customer/fax/1", {"text": "hi"}),
        ("/sandbox/api/faults", {"channel": "sms", "status": 418}),
        ("/sandbox/api/faults", {"channel": "sms", "status": 429, "count": 0}),
        ("/sandbox/api/faults", {"channel": "sms", "status": 429, "retry_after": "soon"}),
        ("/sandbox/api/faults", {"channel": "pigeon", "status": 429}),
        ("/sandbox/api/faults", {"channel": "sms", "status": None}),
        ("/sandbox/api/faults", {"channel": "sms", "status": None, "delay": 61}),
        ("/sandbox/api/faults", {"channel": "sms", "status": 503, "for_seconds": 0}),
        ("/sandbox/api/faults", {"channel": "sms", "status": 503, "for_seconds": "1h"}),
        ("/sandbox/api/faults", ["not", "an", "object"]),
    ],
)
async def test_bad_json_input_is_a_400_or_409(sandbox: Sandbox, path: str, body: Any) -> None:
    response = await sandbox.post_json(path, body)
    assert response.status in (400, 409)
    assert sandbox.hooks.hits == []


@pytest.mark.parametrize(
    "path",
    [
        "/sandbox/api/faults",
        f"/sandbox/api/customer/sms/{PHONE}",
        "/sandbox/api/stripe/redeliver/evt_x",
    ],
)
async def test_malformed_json_is_a_400(sandbox: Sandbox, path: str) -> None:
    async with sandbox.http.post(
        sandbox.url(path), data=b"{nope\xff", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status in (400, 404)
        assert "error" in json.loads(await response.text())


async def test_faults_are_listed_and_cleared(sandbox: Sandbox) -> None:
    await sandbox.fault("telegram", 429, count=3, retry_after=2.5)
    listed = await sandbox.get_json("/sandbox/api/faults")
    assert listed["telegram"] == [
        {
            "status": 429,
            "remaining": 3,
            "retry_after": 2.5,
            "code": None,
            "delay": 0.0,
            "until": None,
            "undelivered": None,
        }
    ]
    async with sandbox.http.delete(sandbox.url("/sandbox/api/faults")) as response:
        assert (await response.json())["telegram"] == []


async def test_telegram_429_shape(sandbox: Sandbox) -> None:
    await sandbox.fault("telegram", 429, retry_after=2.5)
    url = sandbox.url(f"/sandbox/telegram/bot{sandbox.telegram_token}/sendMessage")
    async with sandbox.http.post(url, data={"chat_id": CHAT, "text": "x"}) as response:
        assert response.status == 429
        assert await response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        }


@pytest.mark.parametrize(
    ("method", "data", "status"),
    [
        ("sendMessage", {"chat_id": CHAT}, 400),
        ("sendMessage", {"chat_id": "@someone", "text": "x"}, 400),
        ("sendMessage", {"chat_id": CHAT, "text": "x", "reply_markup": "{bad"}, 400),
        (
            "sendMessage",
            {
                "chat_id": CHAT,
                "text": "x",
                "reply_markup": '{"inline_keyboard": [[{"text": "a"}]]}',
            },
            400,
        ),
        ("editMessageText", {"chat_id": CHAT, "message_id": "99", "text": "x"}, 400),
        ("answerCallbackQuery", {"callback_query_id": "nope"}, 400),
        ("setWebhook", {"url": "http://x", "secret_token": "bad token!"}, 400),
        ("noSuchMethod", {}, 404),
    ],
)
async def test_telegram_api_errors(
    sandbox: Sandbox, method: str, data: dict[str, str], status: int
) -> None:
    url = sandbox.url(f"/sandbox/telegram/bot{sandbox.telegram_token}/{method}")
    async with sandbox.http.post(url, data=data) as response:
        assert response.status == status
        body = await response.json()
    assert body["ok"] is False
    assert body["error_code"] == status


async def test_telegram_wrong_token_and_bad_json(sandbox: Sandbox) -> None:
    async with sandbox.http.post(sandbox.url("/sandbox/telegram/bot1:nope/getMe")) as response:
        assert response.status == 404
        assert await response.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found",
        }
    url = sandbox.url(f"/sandbox/telegram/bot{sandbox.telegram_token}/sendMessage")
    async with sandbox.http.post(
        url, data=b"{", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400


async def test_telegram_edit_message(sandbox: Sandbox) -> None:
    bot_says(sandbox, "Facture F-42")
    bot_says(sandbox, "Another chat, same message id", address="5555")
    url = sandbox.url(f"/sandbox/telegram/bot{sandbox.telegram_token}/editMessageText")
    async with sandbox.http.post(
        url, json={"chat_id": int(CHAT), "message_id": 1, "text": "Facture F-42 (payée)"}
    ) as response:
        assert response.status == 200
        assert (await response.json())["result"]["text"] == "Facture F-42 (payée)"
    assert [m["text"] for m in await sandbox.messages(ChannelName.TELEGRAM, CHAT)] == [
        "Facture F-42 (payée)"
    ]


async def test_twilio_requires_basic_auth(sandbox: Sandbox) -> None:
    sid = sandbox.settings.twilio_account_sid
    url = sandbox.url(f"/sandbox/twilio/2010-04-01/Accounts/{sid}/Messages.json")
    async with sandbox.http.post(url, data={"To": PHONE, "From": "x", "Body": "y"}) as response:
        assert response.status == 401
        assert (await response.json())["code"] == 20003


async def test_customer_telegram_respects_allowed_updates(sandbox: Sandbox) -> None:
    url = sandbox.url(f"/sandbox/telegram/bot{sandbox.telegram_token}/setWebhook")
    async with sandbox.http.post(
        url,
        data={
            "url": sandbox.url("/webhooks/tg-custom"),
            "allowed_updates": '["message"]',
        },
    ) as response:
        assert response.status == 200
    bot_says(sandbox, "Facture", Button("Payer", action="pay"))

    tapped = await sandbox.post_json(f"/sandbox/api/customer/telegram/{CHAT}", {"action": "pay"})
    typed = await sandbox.post_json(f"/sandbox/api/customer/telegram/{CHAT}", {"text": "ok"})

    assert (tapped.status, typed.status) == (202, 200)
    [hit] = sandbox.hooks.at("/webhooks/tg-custom")
    assert "X-Telegram-Bot-Api-Secret-Token" not in hit.headers


async def test_customer_api_reports_unreachable_webhook(sandbox: Sandbox) -> None:
    sandbox.state.webhook_paths = type(sandbox.state.webhook_paths)(sms="/nowhere")
    response = await sandbox.post_json(f"/sandbox/api/customer/sms/{PHONE}", {"text": "x"})
    assert response.status == 404  # what our server answered


async def test_phone_pages_escape_everything(sandbox: Sandbox) -> None:
    sandbox.state.add_contact("<i>Zoé</i>", ChannelName.TELEGRAM, CHAT)
    bot_says(
        sandbox,
        "<script>alert(1)</script> voir https://pay.example/x?a=1&b=2",
        Button("<b>Payer</b>", url="javascript:alert(1)"),
        Button("Aide", action="help"),
    )
    async with sandbox.http.get(sandbox.url("/sandbox/phone")) as index:
        page = await index.text()
        assert "&lt;i&gt;Zoé&lt;/i&gt;" in page
        assert "<i>Zoé" not in page
    async with sandbox.http.get(sandbox.url(f"/sandbox/phone/telegram/{CHAT}")) as chat:
        assert chat.status == 200
        assert "script-src 'self'" in chat.headers["Content-Security-Policy"]
        page = await chat.text()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="https://pay.example/x?a=1&amp;b=2"' in page
    assert 'href="javascript:' not in page
    assert "&lt;b&gt;Payer&lt;/b&gt;" in page
    assert '<script src="/sandbox/static/phone.js" defer></script>' in page
    async with sandbox.http.get(sandbox.url("/sandbox/static/phone.js")) as script:
        assert script.status == 200


async def test_phone_form_fallback_posts_as_customer(sandbox: Sandbox) -> None:
    async with sandbox.http.post(
        sandbox.url(f"/sandbox/phone/sms/{PHONE}"), data={"text": "STOP"}, allow_redirects=False
    ) as response:
        assert response.status == 303
    [hit] = sandbox.hooks.at("/webhooks/twilio/sms")
    assert hit.form()["Body"] == "STOP"
    async with sandbox.http.get(
        sandbox.url("/sandbox/phone/open"),
        params={"channel": "sms", "address": PHONE},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        assert response.headers["Location"].startswith("/sandbox/phone/sms/")


async def test_phone_bad_addresses(sandbox: Sandbox) -> None:
    for path in ("/sandbox/phone/sms/notanumber", "/sandbox/phone/fax/1"):
        async with sandbox.http.get(sandbox.url(path)) as response:
            assert response.status == 400


def test_sandbox_app_is_an_aiohttp_application() -> None:
    settings = Settings(FACTO_SANDBOX=True)
    assert isinstance(create_sandbox_app(settings, SandboxState()), web.Application)


HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("application/json", b"[" * 100_000),
    ("application/json", b"\xff\xfe\x00"),
    ("application/json", b'{"text": "\\ud800"}'),
    ("application/x-www-form-urlencoded", b"a=%ZZ&b=\xff&text=%F0%28"),
    ("application/x-www-form-urlencoded", b"line_items[99999999][x]=1&a[=1"),
    ("application/x-www-form-urlencoded", b"reply_markup=" + b"[" * 50_000),
    ("multipart/form-data; boundary=zz", b"--zz\r\nnonsense"),
    ("text/plain", b"hello"),
    ("", b""),
]


@pytest.mark.parametrize(("content_type", "body"), HOSTILE_BODIES)
async def test_hostile_bodies_never_cause_a_500(
    sandbox: Sandbox, content_type: str, body: bytes
) -> None:
    sid = sandbox.settings.twilio_account_sid
    auth = {"Authorization": "Bearer " + secret(sandbox.settings.stripe_api_key)}
    paths = [
        ("/sandbox/api/faults", {}),
        (f"/sandbox/api/customer/telegram/{CHAT}", {}),
        (f"/sandbox/api/customer/sms/{PHONE}", {}),
        (f"/sandbox/phone/sms/{PHONE}", {}),
        ("/sandbox/stripe/v1/checkout/sessions", auth),
        (f"/sandbox/telegram/bot{sandbox.telegram_token}/sendMessage", {}),
        (f"/sandbox/telegram/bot{sandbox.telegram_token}/setWebhook", {}),
        (f"/sandbox/twilio/2010-04-01/Accounts/{sid}/Messages.json", {}),
    ]
    for path, headers in paths:
        async with sandbox.http.post(
            sandbox.url(path), data=body, headers={"Content-Type": content_type, **headers}
        ) as response:
            assert response.status < 500, (path, response.status, await response.text())


async def test_whatsapp_phone_page_shows_buttons_template_and_window(sandbox: Sandbox) -> None:
    phone = "+33698765432"
    sandbox.state.add_contact("Inès <b>H</b>", ChannelName.WHATSAPP, phone)
    sandbox.state.record(
        ChatEntry(
            channel=ChannelName.WHATSAPP,
            address=phone,
            sender="bot",
            text="Bonjour <script>x</script>",
            time=sandbox.state.clock.now(),
            message_id="SM1",
            buttons=(Button("En plusieurs fois", action="split"),),
            extra={"template": "facto_invoice", "from": "whatsapp:+33700000001"},
        )
    )
    async with sandbox.http.get(sandbox.url(f"/sandbox/phone/whatsapp/{phone}")) as chat:
        assert chat.status == 200
        page = await chat.text()
    assert "phone whatsapp" in page and "WhatsApp · +33698765432" in page
    assert "Modèle approuvé · facto_invoice" in page
    assert 'value="split"' in page and "&lt;script&gt;" in page
    assert "Fenêtre de 24 h fermée" in page
    window = await sandbox.get_json("/sandbox/api/whatsapp/window", to=phone)
    assert window["open"] is False

    # The customer taps the button: Twilio posts it signed, with its payload.
    response = await sandbox.post_json(
        f"/sandbox/api/customer/whatsapp/{phone}", {"action": "split"}
    )
    assert response.status == 200
    [hit] = sandbox.hooks.at("/webhooks/twilio/whatsapp")
    form = hit.form()
    assert form["ButtonPayload"] == "split" and form["Body"] == "En plusieurs fois"
    assert form["From"] == f"whatsapp:{phone}"
    verify_twilio_signature(
        sandbox.url("/webhooks/twilio/whatsapp"),
        form,
        hit.headers["X-Twilio-Signature"],
        sandbox.twilio_token,
    )
    window = await sandbox.get_json("/sandbox/api/whatsapp/window", to=phone)
    assert window["open"] is True and window["until"]
    async with sandbox.http.get(sandbox.url("/sandbox/phone")) as index:
        listing = await index.text()
    assert "badge whatsapp" in listing and "Inès &lt;b&gt;H&lt;/b&gt;" in listing


async def test_whatsapp_button_that_was_never_offered_is_a_409(sandbox: Sandbox) -> None:
    response = await sandbox.post_json(
        "/sandbox/api/customer/whatsapp/+33698765432", {"action": "pay"}
    )
    assert response.status == 409
