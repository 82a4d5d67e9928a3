"""The Twilio emulator as several accounts and several senders: WhatsApp's 24 h window is per
(our number, customer) pair, and each account has its own credentials, numbers, contents and
webhook signatures. Real twilio SDK against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from channels.twilio_sms import FactoTwilioHttpClient
from tests.adapters.conftest import Sandbox, wait_until

PHONE = "+33611223344"
NUMBER_A, NUMBER_B = "+33700000011", "+33700000022"
ACCOUNT_B, TOKEN_B = "AC" + "b" * 32, "merchant-b-own-auth-token"


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[FactoTwilioHttpClient]:
    transport = FactoTwilioHttpClient(sandbox.settings.twilio_api_base)
    yield transport
    await transport.close()


@pytest.fixture
def platform(sandbox: Sandbox, http: FactoTwilioHttpClient) -> Client:
    return Client(sandbox.settings.twilio_account_sid, sandbox.twilio_token, http_client=http)


@pytest.fixture
def merchant_b(sandbox: Sandbox, http: FactoTwilioHttpClient) -> Client:
    """Merchant B's own Twilio account, owning NUMBER_B; NUMBER_A is in the platform's."""
    sandbox.state.add_twilio_account(ACCOUNT_B, TOKEN_B)
    sandbox.state.add_twilio_number(NUMBER_A)
    sandbox.state.add_twilio_number(NUMBER_B, ACCOUNT_B)
    return Client(ACCOUNT_B, TOKEN_B, http_client=http)


async def whatsapp(client: Client, sender: str, body: str = "Bonjour") -> Any:
    return await client.messages.create_async(
        to=f"whatsapp:{PHONE}", from_=f"whatsapp:{sender}", body=body
    )


async def customer_writes(sandbox: Sandbox, to: str, text: str = "bonjour") -> None:
    response = await sandbox.post_json(
        f"/sandbox/api/customer/whatsapp/{PHONE}", {"text": text, "to": to}
    )
    assert response.status == 200, response.status


async def test_the_window_is_per_sender_and_customer_pair(
    sandbox: Sandbox, platform: Client, merchant_b: Client
) -> None:
    """Writing to merchant A's number opens A's window only, as WhatsApp keeps it."""
    await customer_writes(sandbox, NUMBER_A)

    sent = await whatsapp(platform, NUMBER_A)
    assert sent.sid.startswith("SM")
    for client, sender in (
        (platform, sandbox.settings.twilio_whatsapp_from or ""),
        (merchant_b, NUMBER_B),
    ):
        with pytest.raises(TwilioRestException) as refused:
            await whatsapp(client, sender)
        assert refused.value.code == 63016, sender
    # The page's window follows the thread picked.
    for peer, open_ in ((NUMBER_A, True), (sandbox.settings.twilio_whatsapp_from, False)):
        state = await sandbox.get_json("/sandbox/api/whatsapp/window", to=PHONE, peer=peer or "")
        assert state["open"] is open_, peer


async def test_each_account_sends_only_from_its_own_numbers(
    sandbox: Sandbox, platform: Client, merchant_b: Client
) -> None:
    await customer_writes(sandbox, NUMBER_B)
    await customer_writes(sandbox, NUMBER_A)
    with pytest.raises(TwilioRestException) as refused:
        await whatsapp(platform, NUMBER_B)
    assert refused.value.code == 63007
    with pytest.raises(TwilioRestException) as refused:
        await whatsapp(merchant_b, NUMBER_A)
    assert refused.value.code == 63007
    with pytest.raises(TwilioRestException) as refused:
        await platform.messages.create_async(to=PHONE, from_=NUMBER_B, body="x")
    assert refused.value.code == 21606
    sms = await merchant_b.messages.create_async(to=PHONE, from_=NUMBER_B, body="Bonjour")
    assert sms.account_sid == ACCOUNT_B
    # A message is only seen from the account that sent it.
    assert [m.sid for m in await merchant_b.messages.list_async(to=PHONE)] == [sms.sid]
    assert await platform.messages.list_async(to=PHONE) == []
    with pytest.raises(TwilioRestException) as hidden:
        await platform.messages(sms.sid).fetch_async()
    assert hidden.value.status == 404


async def test_a_wrong_token_is_refused(sandbox: Sandbox, http: FactoTwilioHttpClient) -> None:
    sandbox.state.add_twilio_account(ACCOUNT_B, TOKEN_B)
    for sid, token in ((ACCOUNT_B, sandbox.twilio_token), (ACCOUNT_B, "wrong")):
        with pytest.raises(TwilioRestException) as refused:
            await Client(sid, token, http_client=http).messages.create_async(
                to=PHONE, from_="ALPHA", body="x"
            )
        assert refused.value.status == 401 and refused.value.code == 20003


async def test_webhooks_are_signed_with_the_account_of_the_number(
    sandbox: Sandbox, merchant_b: Client
) -> None:
    """Inbound messages and status callbacks of B's number carry B's signature only."""
    await customer_writes(sandbox, NUMBER_B, "payer")
    [inbound] = await sandbox.hooks.wait_for("/webhooks/twilio/whatsapp")
    form, signature = inbound.form(), inbound.headers["X-Twilio-Signature"]
    url = sandbox.url("/webhooks/twilio/whatsapp")
    assert form["AccountSid"] == ACCOUNT_B and form["To"] == f"whatsapp:{NUMBER_B}"
    assert RequestValidator(TOKEN_B).validate(url, form, signature)
    assert not RequestValidator(sandbox.twilio_token).validate(url, form, signature)

    status_url = sandbox.url("/webhooks/twilio/status")
    await merchant_b.messages.create_async(
        to=f"whatsapp:{PHONE}",
        from_=f"whatsapp:{NUMBER_B}",
        body="Merci",
        status_callback=status_url,
    )
    callbacks = await sandbox.hooks.wait_for("/webhooks/twilio/status", 2)
    for hit in callbacks:
        form, signature = hit.form(), hit.headers["X-Twilio-Signature"]
        assert form["AccountSid"] == ACCOUNT_B
        assert RequestValidator(TOKEN_B).validate(status_url, form, signature)
        assert not RequestValidator(sandbox.twilio_token).validate(status_url, form, signature)

    # The platform's number is still signed with the platform's token.
    await customer_writes(sandbox, sandbox.settings.twilio_whatsapp_from or "")
    await wait_until(lambda: len(sandbox.hooks.at("/webhooks/twilio/whatsapp")) == 2)
    last = sandbox.hooks.at("/webhooks/twilio/whatsapp")[-1]
    assert RequestValidator(sandbox.twilio_token).validate(
        url, last.form(), last.headers["X-Twilio-Signature"]
    )


async def test_a_session_content_belongs_to_its_account(
    sandbox: Sandbox, platform: Client, merchant_b: Client
) -> None:
    await customer_writes(sandbox, NUMBER_B)
    request = {
        "friendly_name": "facto_session_x",
        "language": "fr",
        "types": {
            "twilio/quick-reply": {
                "body": "Que voulez-vous faire ?",
                "actions": [{"type": "QUICK_REPLY", "title": "Payer", "id": "pay"}],
            }
        },
    }
    created = await merchant_b.content.v1.contents.create_async(
        ContentList.ContentCreateRequest(request)
    )
    sent = await merchant_b.messages.create_async(
        to=f"whatsapp:{PHONE}", from_=f"whatsapp:{NUMBER_B}", content_sid=created.sid
    )
    assert sent.sid.startswith("SM")
    await customer_writes(sandbox, sandbox.settings.twilio_whatsapp_from or "")
    with pytest.raises(TwilioRestException) as refused:
        await platform.messages.create_async(
            to=f"whatsapp:{PHONE}",
            from_=f"whatsapp:{sandbox.settings.twilio_whatsapp_from}",
            content_sid=created.sid,
        )
    assert refused.value.code == 21655


async def test_each_account_lists_and_points_its_own_numbers(
    sandbox: Sandbox, platform: Client, merchant_b: Client
) -> None:
    [own] = await merchant_b.incoming_phone_numbers.list_async()
    assert own.phone_number == NUMBER_B
    assert await merchant_b.incoming_phone_numbers.list_async(phone_number=NUMBER_A) == []
    ours = [n.phone_number for n in await platform.incoming_phone_numbers.list_async()]
    assert NUMBER_A in ours and NUMBER_B not in ours
    url = sandbox.url("/webhooks/twilio/sms")
    await merchant_b.incoming_phone_numbers(own.sid).update_async(sms_url=url, sms_method="POST")
    with pytest.raises(TwilioRestException) as hidden:
        await platform.incoming_phone_numbers(own.sid).update_async(sms_url=url)
    assert hidden.value.status == 404
    # The customer's SMS to that number goes to the URL set, signed by B's account.
    response = await sandbox.post_json(
        f"/sandbox/api/customer/sms/{PHONE}", {"text": "payer", "to": NUMBER_B}
    )
    assert response.status == 200
    [hit] = await sandbox.hooks.wait_for("/webhooks/twilio/sms")
    assert RequestValidator(TOKEN_B).validate(url, hit.form(), hit.headers["X-Twilio-Signature"])
