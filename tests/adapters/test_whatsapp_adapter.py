"""TwilioWhatsAppAdapter (twilio SDK, Messages and Content APIs) against the sandbox emulator:
the 24 h window, templates, quick replies and list pickers, and each WhatsApp error code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from channels.base import (
    Blocked,
    Button,
    ChannelName,
    InboundKind,
    MalformedPayload,
    MarketingOptedOut,
    OutboundMessage,
    OutsideWindow,
    PermanentError,
    RateLimited,
    RecipientUnreachable,
    TemplateUse,
)
from channels.twilio_whatsapp import (
    TwilioWhatsAppAdapter,
    content_request,
    parse_inbound_whatsapp,
    window_open,
)
from channels.whatsapp_templates import TEMPLATES, required_sid_keys, sandbox_content_sids
from sandbox.http import random_id
from sandbox.state import ChatEntry
from tests.adapters.conftest import Sandbox

PHONE = "+33611223344"
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
RECEIPT = TemplateUse(
    name="facto_receipt",
    locale="fr",
    variables=(
        ("1", "144,00 €"),
        ("2", "F-2026-000001"),
        ("3", "Atelier Lumière"),
        ("4", "https://facto.example/i/tok"),
    ),
)


def outbound(
    text: str, *buttons: Button, template: TemplateUse | None = RECEIPT
) -> OutboundMessage:
    return OutboundMessage(
        channel=ChannelName.WHATSAPP,
        address=PHONE,
        text=text,
        idempotency_key=random_id("k"),
        buttons=buttons,
        template=template,
    )


class Window:
    """Our side's record of the customer's last message (the store, in the app)."""

    def __init__(self) -> None:
        self.last: datetime | None = None

    async def __call__(self, phone: str, sender: str | None) -> datetime | None:
        return self.last


@pytest.fixture
def clock(sandbox: Sandbox) -> FakeClock:
    clock = FakeClock(NOW)
    sandbox.state.clock = clock
    return clock


@pytest.fixture
def window() -> Window:
    return Window()


@pytest.fixture
async def adapter(
    sandbox: Sandbox, clock: FakeClock, window: Window
) -> AsyncIterator[TwilioWhatsAppAdapter]:
    settings = sandbox.settings
    whatsapp = TwilioWhatsAppAdapter(
        account_sid=settings.twilio_account_sid or "",
        auth_token=sandbox.twilio_token,
        from_number=settings.twilio_whatsapp_from or "",
        api_base=settings.twilio_api_base,
        status_callback_url=sandbox.url("/webhooks/twilio/status"),
        content_sids=settings.whatsapp_content_sids,
        last_inbound=window,
        now=clock.now,
    )
    await whatsapp.start()
    yield whatsapp
    await whatsapp.close()


def customer_wrote(sandbox: Sandbox, window: Window, at: datetime) -> None:
    """The customer's message, as both WhatsApp (the emulator) and our store saw it."""
    to = f"whatsapp:{sandbox.settings.twilio_whatsapp_from}"  # the platform's number
    sandbox.state.record(
        ChatEntry(
            ChannelName.WHATSAPP,
            PHONE,
            "customer",
            "bonjour",
            at,
            random_id("SM"),
            extra={"to": to},
        )
    )
    window.last = at


async def test_closed_window_sends_the_template_with_its_variables(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter
) -> None:
    result = await adapter.send(outbound("free text that must not leave"))
    assert result.provider_message_id.startswith("SM")
    [message] = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert message["template"] == "facto_receipt"
    assert message["text"] == (
        "Paiement reçu : 144,00 € pour la facture F-2026-000001 de Atelier Lumière. Merci ! "
        "Votre facture : https://facto.example/i/tok"
    )
    hits = await sandbox.hooks.wait_for("/webhooks/twilio/status", 2)
    assert [h.form()["MessageStatus"] for h in hits] == ["sent", "delivered"]
    assert {h.form()["To"] for h in hits} == {f"whatsapp:{PHONE}"}


async def test_closed_window_without_template_is_never_sent(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter
) -> None:
    with pytest.raises(OutsideWindow):
        await adapter.send(outbound("Bonjour", template=None))
    assert sandbox.state.send_requests[ChannelName.WHATSAPP] == 0


async def test_open_window_sends_free_text_and_quick_replies(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, window: Window, clock: FakeClock
) -> None:
    customer_wrote(sandbox, window, clock.now())
    await adapter.send(
        outbound(
            "Combien de fois ?",
            Button("En 2 fois", action="split:2"),
            Button("En 3 fois", action="split:3"),
            Button("Payer", url="https://pay.example/cs_1"),
        )
    )
    [message] = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert message["template"] is None
    assert message["text"] == "Combien de fois ?\n\nPayer: https://pay.example/cs_1"
    assert [(b["label"], b["action"]) for b in message["buttons"]] == [
        ("En 2 fois", "split:2"),
        ("En 3 fois", "split:3"),
    ]
    [content] = [c for c in sandbox.state.contents.values() if not c.approved]
    assert "twilio/quick-reply" in content.types


async def test_same_buttons_reuse_one_content(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, window: Window, clock: FakeClock
) -> None:
    customer_wrote(sandbox, window, clock.now())
    for _ in range(3):
        await adapter.send(outbound("Oui ?", Button("Oui", action="yes"), Button("Non", "no")))
    assert len([c for c in sandbox.state.contents.values() if not c.approved]) == 1
    assert len(await sandbox.messages(ChannelName.WHATSAPP, PHONE)) == 3


async def test_more_than_three_choices_is_a_list_picker(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, window: Window, clock: FakeClock
) -> None:
    customer_wrote(sandbox, window, clock.now())
    choices = [("Payer", "pay"), ("Plus tard", "later"), ("En plusieurs fois", "split")]
    buttons = [Button(label, action=action) for label, action in choices]
    await adapter.send(outbound("Que voulez-vous faire ?", *buttons, Button("Aide", "help")))
    [content] = [c for c in sandbox.state.contents.values() if not c.approved]
    assert "twilio/list-picker" in content.types
    [message] = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert [b["action"] for b in message["buttons"]] == ["pay", "later", "split", "help"]


async def test_window_closes_between_two_sends(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, window: Window, clock: FakeClock
) -> None:
    customer_wrote(sandbox, window, clock.now())
    await adapter.send(outbound("Merci !"))
    clock.advance(timedelta(hours=24).total_seconds())
    await adapter.send(outbound("Merci !"))
    sent = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert [m["template"] for m in sent] == [None, "facto_receipt"]


async def test_63016_when_our_window_was_wrong_resends_as_template(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, window: Window, clock: FakeClock
) -> None:
    # We believe the customer wrote an hour ago; WhatsApp never saw it: free text gets 63016.
    window.last = clock.now() - timedelta(hours=1)
    await adapter.send(outbound("Merci !"))
    [message] = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert message["template"] == "facto_receipt"
    assert sandbox.state.send_requests[ChannelName.WHATSAPP] == 2


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (63024, RecipientUnreachable),  # not a WhatsApp user: fallback
        (63003, RecipientUnreachable),  # unreachable: fallback
        (131026, RecipientUnreachable),  # message undeliverable: fallback
        (63018, RateLimited),  # rate: retry
        (63014, Blocked),  # blocked by the customer: give up
        (131050, MarketingOptedOut),  # stopped marketing in WhatsApp: WhatsApp-only opt-out
        (21211, RecipientUnreachable),  # invalid number, as for SMS
    ],
)
async def test_error_codes_map_to_typed_errors(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, code: int, error: type[Exception]
) -> None:
    await sandbox.fault("whatsapp", 400, code=code)
    with pytest.raises(error):
        await adapter.send(outbound("Merci !"))


@pytest.mark.parametrize("code", [63016, 131047])
async def test_window_codes_send_the_template(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, window: Window, clock: FakeClock, code: int
) -> None:
    customer_wrote(sandbox, window, clock.now())
    await sandbox.fault("whatsapp", 400, code=code)
    await adapter.send(outbound("Merci !"))
    [message] = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert message["template"] == "facto_receipt"


async def test_window_code_without_template_is_outside_window(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter, window: Window, clock: FakeClock
) -> None:
    customer_wrote(sandbox, window, clock.now())
    await sandbox.fault("whatsapp", 400, code=63016)
    with pytest.raises(OutsideWindow):
        await adapter.send(outbound("Bonjour", template=None))


async def test_template_without_content_sid_is_a_permanent_error(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter
) -> None:
    unknown = TemplateUse(name="facto_receipt", locale="de", variables=RECEIPT.variables)
    with pytest.raises(PermanentError):
        await adapter.send(outbound("Danke", template=unknown))


def test_inbound_text_button_and_list_replies() -> None:
    base = {"MessageSid": "SM1", "From": f"whatsapp:{PHONE}", "Body": "payer", "NumMedia": "0"}
    text = parse_inbound_whatsapp(base)
    assert (text.channel, text.address, text.kind, text.text) == (
        ChannelName.WHATSAPP,
        PHONE,
        InboundKind.TEXT,
        "payer",
    )
    button = parse_inbound_whatsapp({**base, "Body": "En 3 fois", "ButtonPayload": "split:3"})
    assert (button.kind, button.payload) == (InboundKind.CHOICE, "split:3")
    listed = parse_inbound_whatsapp({**base, "ListId": "help", "ListTitle": "Aide"})
    assert (listed.kind, listed.payload) == (InboundKind.CHOICE, "help")
    photo = parse_inbound_whatsapp({**base, "Body": "", "NumMedia": "1"})
    assert photo.kind is InboundKind.UNSUPPORTED


@pytest.mark.parametrize(
    "form",
    [
        {"From": f"whatsapp:{PHONE}"},
        {"MessageSid": "SM1", "From": PHONE},
        {"MessageSid": "SM1", "From": "whatsapp:"},
        {"MessageSid": "SM1", "From": f"whatsapp:{PHONE}", "NumMedia": "x"},
    ],
)
def test_malformed_inbound_is_refused(form: dict[str, str]) -> None:
    with pytest.raises(MalformedPayload):
        parse_inbound_whatsapp(form)


def test_window_is_24_hours_from_the_last_message_with_a_margin() -> None:
    assert not window_open(None, NOW)
    assert window_open(NOW, NOW + timedelta(hours=23))
    assert not window_open(NOW, NOW + timedelta(hours=24))
    assert not window_open(NOW, NOW + timedelta(hours=23, minutes=59, seconds=30))


def test_every_template_is_declared_in_both_languages_with_its_variables() -> None:
    assert set(sandbox_content_sids()) == set(required_sid_keys())
    for template in TEMPLATES.values():
        for locale in ("fr", "en"):
            body = template.text[locale]
            for number in range(1, len(template.variables) + 1):
                assert "{{" + str(number) + "}}" in body, (template.name, locale, number)
            assert len(body) <= 1024
        for _, titles in template.buttons:
            assert all(len(title) <= 20 for title in titles.values())


def test_quick_reply_titles_and_list_items_fit_whatsapp_limits() -> None:
    short = (Button("Payer", action="pay"), Button("Plus tard", action="later"))
    quick = content_request("?", short, "fr")["types"]["twilio/quick-reply"]
    assert [a["title"] for a in quick["actions"]] == ["Payer", "Plus tard"]
    # "Payer en plusieurs fois" is 23 characters: a list, not a cut button.
    split = (*short, Button("Payer en plusieurs fois", action="split"))
    listed = content_request("?", split, "fr")["types"]["twilio/list-picker"]
    assert [i["item"] for i in listed["items"]][-1] == "Payer en plusieurs fois"
    long = Button("Un libellé beaucoup trop long pour un bouton", action="help")
    picker = content_request("?", (long,) * 12, "en")["types"]["twilio/list-picker"]
    assert len(picker["items"]) == 10 and picker["button"] == "Choose"
    assert all(len(item["item"]) <= 24 for item in picker["items"])
    assert picker["items"][0]["item"].endswith("…")


def test_readme_lists_every_template_to_submit_with_its_text() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for template in TEMPLATES.values():
        assert f"**`{template.name}`**" in readme
        for locale in ("fr", "en"):
            assert f"  - {locale}: `{template.text[locale].replace(chr(10) * 2, '⏎⏎')}`" in readme


@pytest.mark.parametrize(
    ("after", "template"),
    [(timedelta(hours=23, minutes=59), None), (timedelta(hours=24, minutes=1), "facto_receipt")],
)
async def test_testcase_40_window_edges(
    sandbox: Sandbox,
    adapter: TwilioWhatsAppAdapter,
    window: Window,
    clock: FakeClock,
    after: timedelta,
    template: str | None,
) -> None:
    customer_wrote(sandbox, window, clock.now())
    clock.advance(after.total_seconds())
    await adapter.send(outbound("Merci !"))
    [message] = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert message["template"] == template
    assert sandbox.state.send_requests[ChannelName.WHATSAPP] == 1  # no 63016 on the way


async def test_template_variables_are_escaped_and_flattened(
    sandbox: Sandbox, adapter: TwilioWhatsAppAdapter
) -> None:
    hostile = TemplateUse(
        name="facto_receipt",
        locale="en",
        variables=(("1", '12 "€"\n\t'), ("2", "F-1     {{3}}"), ("3", "A\\B"), ("4", " ")),
    )
    await adapter.send(outbound("x", template=hostile))
    [message] = await sandbox.messages(ChannelName.WHATSAPP, PHONE)
    assert message["text"] == (
        'Payment received: 12 "€" for invoice F-1   {{3}} from A\\B. Thank you! Your invoice: -'
    )
