"""Settings: the merchant's own senders and console users, through HTTP as an owner's browser.

Senders are checked by the same code as `/api/v1/channels` (a bad sender ID, someone else's
number, a token Telegram refuses); users are invited with a first password shown once, have
their role changed and their account turned off (their session ends at once; they cannot log
in again) and on. Merchant-scoped, owners only, CSRF-checked."""

from __future__ import annotations

import re

import pyotp

from bot.store import keys, senders, users
from bot.store.users import Role
from channels.base import ChannelName
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto
from tests.scenario.test_console import REF, waiting_conversation

SETTINGS = "/console/dashboard/settings"
NUMBER, OTHER = "+33700000011", "+33700000022"
BOT = "777001:merchant-own-bot-token"


async def test_the_first_key_of_merchant_create_is_listed_and_revocable(
    facto: Facto, owner: Browser
) -> None:
    status, text = await owner.get(SETTINGS)
    assert status == 200
    assert "merchant create" in text and f"…{facto.api_key[-4:]}" in text
    found = re.search(r"/settings/keys/([0-9a-f]{16})/revoke", text)
    assert found is not None
    status, _ = await owner.post(f"{SETTINGS}/keys/{found.group(1)}/revoke")
    assert status == 200
    response = await facto.client.get(
        "/api/v1/invoices", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert response.status == 401


async def test_a_key_made_before_it_was_listed_is_adopted_once(
    facto: Facto, owner: Browser
) -> None:
    """An older deployment: the first key works but is in no list."""
    assert facto.merchant is not None
    mid = facto.merchant.id
    await facto.redis.delete(keys.merchant_api_keys(mid), keys.merchant_api_keys_adopted(mid))
    other, _ = await facto.add_merchant(name="Autre", legal_name="Autre SAS")
    await facto.redis.delete(keys.merchant_api_keys(other.id))  # not ours to list
    _, text = await owner.get(SETTINGS)
    assert "merchant create" in text and "(not kept)" in text
    assert await facto.redis.hlen(keys.merchant_api_keys(mid)) == 1
    await owner.get(SETTINGS)
    assert await facto.redis.hlen(keys.merchant_api_keys(mid)) == 1


async def test_senders_are_set_checked_and_removed_like_the_api(
    facto: Facto, owner: Browser
) -> None:
    facto.sandbox.twilio_numbers |= {NUMBER, OTHER}
    assert facto.merchant is not None
    await owner.get(SETTINGS)
    # A sender ID without a number to reply to: the API's own check, its message, a 400.
    status, text = await owner.post(
        SETTINGS + "/senders", {"channel": "sms", "from": "ATELIER", "reply_number": ""}
    )
    assert status == 400 and 'id="e-sender"' in text and "reply_number" in text
    status, text = await owner.post(
        SETTINGS + "/senders", {"channel": "sms", "from": "ATELIER", "reply_number": NUMBER}
    )
    assert status == 200, text  # after the 303, the page again
    assert "ATELIER" in text and NUMBER in text
    own = await senders.merchant_sender(facto.redis, facto.merchant.id, ChannelName.SMS)
    assert own is not None and own.from_ == "ATELIER" and own.reply_number == NUMBER
    # Another merchant's number: 409, as from the API.
    other, _ = await facto.add_merchant(name="Autre", legal_name="Autre SAS")
    await senders.register(
        facto.redis,
        senders.MerchantSender(other.id, ChannelName.WHATSAPP, OTHER, "x", from_=OTHER),
        set(),
    )
    status, text = await owner.post(SETTINGS + "/senders", {"channel": "whatsapp", "from": OTHER})
    assert status in (400, 409) and 'id="e-sender"' in text
    status, _ = await owner.post(SETTINGS + "/senders", {"channel": "fax", "from": NUMBER})
    assert status == 400
    status, text = await owner.post(
        SETTINGS + "/senders", {"channel": "sms", "from": NUMBER, "evil": "x"}
    )
    assert status == 400 and "unknown field" in text  # the shared code's own check
    # A Telegram bot: its webhook is set at Telegram first; its token never shown back.
    facto.sandbox.telegram_bots[BOT] = None
    status, text = await owner.post(SETTINGS + "/senders", {"channel": "telegram", "token": BOT})
    assert status == 200 and "777001" in text and BOT not in text
    hook = facto.sandbox.telegram_bots[BOT]
    assert hook is not None and hook.url.endswith("/webhooks/telegram/777001")
    # Back to the platform's sender.
    status, text = await owner.post(SETTINGS + "/senders/sms/remove")
    assert status == 200 and "ATELIER" not in text
    assert await senders.merchant_sender(facto.redis, facto.merchant.id, ChannelName.SMS) is None
    status, _ = await owner.post(SETTINGS + "/senders/sms/remove")
    assert status == 404


async def test_users_are_invited_changed_disabled_and_enabled(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    await owner.get(SETTINGS)
    status, text = await owner.post(SETTINGS + "/users", {"name": "Aline", "email": "bad"})
    assert status == 422 and 'id="e-user"' in text
    status, text = await owner.post(
        SETTINGS + "/users", {"name": "Aline", "email": "aline@atelier.fr", "role": "agent"}
    )
    assert status == 201
    found = re.search(r'<code id="first-password">([^<]+)</code>', text)
    assert found is not None
    password = found.group(1)
    status, text = await owner.get(SETTINGS)
    assert "aline@atelier.fr" in text and password not in text  # shown once
    aline = next(
        u for u in await users.list_users(facto.redis, facto.merchant.id) if u.name == "Aline"
    )
    assert aline.role is Role.AGENT
    # Aline logs in (enrols TOTP), then is made an owner, then turned off.
    browser = Browser.open(facto)
    try:
        await browser.get("/console/login")
        _, text = await browser.post(
            "/console/login", {"email": "aline@atelier.fr", "password": password}
        )
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', text)
        assert secret is not None, text
        await browser.post("/console/enrol", {"code": pyotp.TOTP(secret.group(1)).now()})
        status, _ = await browser.get("/console")
        assert status == 200
        status, _ = await owner.post(f"{SETTINGS}/users/{aline.id}/role", {"role": "owner"})
        assert status == 200
        status, _ = await browser.get(SETTINGS)  # an owner now
        assert status == 200
        status, _ = await owner.post(f"{SETTINGS}/users/{aline.id}/role", {"role": "boss"})
        assert status == 409
        status, text = await owner.post(f"{SETTINGS}/users/{aline.id}/disable")
        assert status == 200 and "disabled" in text
        status, _ = await browser.get(SETTINGS, allow_redirects=False)
        assert status == 303  # her session ended at once: back to the login page
        await browser.get("/console/login")
        status, text = await browser.post(
            "/console/login", {"email": "aline@atelier.fr", "password": password}
        )
        assert status >= 400 and "Two-factor" not in text  # refused like a wrong password
        assert await users.check_password(facto.redis, "aline@atelier.fr", password) is None
        status, _ = await owner.post(f"{SETTINGS}/users/{aline.id}/enable")
        assert status == 200
        assert await users.check_password(facto.redis, "aline@atelier.fr", password) is not None
    finally:
        await browser.close()


async def test_the_team_keeps_an_owner_and_nobody_changes_themselves(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    [me] = await users.list_users(facto.redis, facto.merchant.id)
    await owner.get(SETTINGS)
    status, text = await owner.post(f"{SETTINGS}/users/{me.id}/role", {"role": "agent"})
    assert status == 409 and 'id="e-user"' in text
    status, _ = await owner.post(f"{SETTINGS}/users/{me.id}/disable")
    assert status == 409
    # Even when two owners demote each other, one owner is left (checked under WATCH).
    other, _ = await add_user(facto, "olga@atelier.fr", "Olga", Role.OWNER)
    await users.change_member(facto.redis, facto.merchant.id, other.id, role=Role.AGENT)
    try:
        await users.change_member(facto.redis, facto.merchant.id, me.id, role=Role.AGENT)
    except users.UserError as exc:
        assert "active owner" in str(exc)
    else:
        raise AssertionError("the last owner was demoted")
    status, _ = await owner.post(f"{SETTINGS}/users/u_nobody/disable")
    assert status == 404


async def test_other_merchants_agents_and_forged_forms_are_refused(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    stranger_merchant, _ = await facto.add_merchant(name="Autre", legal_name="Autre SAS")
    stranger, _ = await add_user(
        facto, "x@autre.fr", "Xavier", Role.AGENT, merchant_id=stranger_merchant.id
    )
    await owner.get(SETTINGS)
    # Another merchant's user is not in this team: 404, and not listed.
    status, text = await owner.post(f"{SETTINGS}/users/{stranger.id}/disable")
    assert status == 404
    status, text = await owner.get(SETTINGS)
    assert "x@autre.fr" not in text
    refreshed = await users.get_user(facto.redis, stranger_merchant.id, stranger.id)
    assert refreshed is not None and not refreshed.disabled
    # An agent of this merchant: 403 on every form.
    agent_user, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    agent = Browser.open(facto)
    try:
        await agent.log_in("agent@atelier.fr", secret)
        await agent.get("/console")
        for path, form in (
            ("/senders", {"channel": "sms", "from": NUMBER}),
            ("/users", {"name": "Eve", "email": "eve@atelier.fr"}),
            (f"/users/{agent_user.id}/role", {"role": "owner"}),
        ):
            status, _ = await agent.post(SETTINGS + path, form)
            assert status == 403, path
    finally:
        await agent.close()
    owner.csrf = "forged"
    status, _ = await owner.post(SETTINGS + "/users", {"name": "Eve", "email": "eve@atelier.fr"})
    assert status == 403
    assert len(await users.list_users(facto.redis, facto.merchant.id)) == 2


async def test_a_disabled_colleague_cannot_be_given_a_conversation(
    facto: Facto, owner: Browser
) -> None:
    await waiting_conversation(facto)
    assert facto.merchant is not None
    hugo, _ = await add_user(facto, "hugo@atelier.fr", "Hugo")
    await owner.get(SETTINGS)
    status, _ = await owner.post(f"{SETTINGS}/users/{hugo.id}/disable")
    assert status == 200
    _, queue = await owner.get("/console")
    [ref] = REF.findall(queue)
    await owner.post(f"/console/c/{ref}/claim")
    _, page = await owner.get(f"/console/c/{ref}")
    assert hugo.id not in page  # not offered as a colleague to hand it to
    status, text = await owner.post(f"/console/c/{ref}/reassign", {"user_id": hugo.id})
    assert status == 400 and "disabled" in text
