"""The support console end to end over HTTP: login with TOTP, the queue, an exclusive claim,
a reply that reaches the customer's chat, payment actions, hand-back, and the walls between
merchants."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pyotp
import pytest

from bot.store import keys
from bot.store.users import Role, list_users
from tests.scenario.console_client import PASSWORD, Browser, add_user
from tests.scenario.harness import Facto, invoice_body

TG = ("telegram", "424242")
REF = re.compile(r'href="/console/c/([0-9a-f]{24})"')


@pytest.fixture
async def browsers(facto: Facto) -> AsyncIterator[list[Browser]]:
    opened: list[Browser] = []

    def browser() -> Browser:
        opened.append(Browser.open(facto))
        return opened[-1]

    facto.browser = browser  # type: ignore[attr-defined]
    yield opened
    for b in opened:
        await b.close()


async def waiting_conversation(facto: Facto) -> None:
    await facto.issue(invoice_body(*TG))
    await facto.customer_says(*TG, "un conseiller svp")


async def texts(facto: Facto) -> list[str]:
    return [m["text"] for m in await facto.messages(*TG)]


async def test_login_needs_the_password_and_a_current_totp_code(
    facto: Facto, browsers: list[Browser]
) -> None:
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    browser = Browser.open(facto)
    browsers.append(browser)

    _, text = await browser.get("/console")
    assert "Log in" in text

    await browser.get("/console/login")
    status, text = await browser.post(
        "/console/login", {"email": "ines@atelier.fr", "password": "wrong password!"}
    )
    assert status == 400 and "Wrong email or password" in text

    status, text = await browser.post(
        "/console/login", {"email": "INES@atelier.fr", "password": PASSWORD}
    )
    assert "Two-factor code" in text
    status, text = await browser.post("/console/login/code", {"code": "000000"})
    assert status == 400
    # A code from another secret is refused; the right one opens the console.
    status, text = await browser.post(
        "/console/login/code", {"code": pyotp.TOTP(pyotp.random_base32()).now()}
    )
    assert status == 400
    status, text = await browser.post("/console/login/code", {"code": pyotp.TOTP(secret).now()})
    assert status == 200 and "Waiting for a person" in text


async def test_first_login_enrols_totp_with_a_qr_code_and_recovery_codes(
    facto: Facto, browsers: list[Browser]
) -> None:
    assert facto.merchant is not None
    from bot.store.users import create_user

    await create_user(
        facto.redis,
        merchant_id=facto.merchant.id,
        email="new@atelier.fr",
        name="Nouvelle",
        role=Role.AGENT,
        password=PASSWORD,
        now=facto.clock.now(),
    )
    browser = Browser.open(facto)
    browsers.append(browser)
    await browser.get("/console/login")
    _, text = await browser.post(
        "/console/login", {"email": "new@atelier.fr", "password": PASSWORD}
    )
    assert "<svg" in text and "Set up two-factor" in text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', text)
    assert secret is not None
    _, text = await browser.post("/console/enrol", {"code": pyotp.TOTP(secret.group(1)).now()})
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", text)
    assert len(codes) == 8
    status, text = await browser.get("/console")
    assert status == 200 and "Waiting for a person" in text

    # Logged out, a recovery code replaces the phone, once.
    await browser.post("/console/logout")
    for expected in (200, 400):
        await browser.get("/console/login")
        await browser.post("/console/login", {"email": "new@atelier.fr", "password": PASSWORD})
        status, _ = await browser.post("/console/login/code", {"code": codes[0]})
        assert status == expected


async def test_logins_are_throttled(facto: Facto, browsers: list[Browser]) -> None:
    await add_user(facto, "ines@atelier.fr", "Inès")
    browser = Browser.open(facto)
    browsers.append(browser)
    for _ in range(5):
        await browser.get("/console/login")
        await browser.post("/console/login", {"email": "ines@atelier.fr", "password": "nope"})
    await browser.get("/console/login")
    status, text = await browser.post(
        "/console/login", {"email": "ines@atelier.fr", "password": PASSWORD}
    )
    assert status == 429 and "Too many failed attempts" in text


async def test_actions_need_the_csrf_token_and_our_origin(
    facto: Facto, browsers: list[Browser]
) -> None:
    await waiting_conversation(facto)
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    browser = Browser.open(facto)
    browsers.append(browser)
    await browser.log_in("ines@atelier.fr", secret)
    _, queue = await browser.get("/console")
    [ref] = REF.findall(queue)

    good = browser.csrf
    browser.csrf = "forged"
    status, _ = await browser.post(f"/console/c/{ref}/claim")
    assert status == 403
    browser.csrf = good
    async with browser.session.post(
        f"{facto.base_url}/console/c/{ref}/claim",
        data={"csrf": good},
        headers={"Origin": "https://evil.example"},
    ) as response:
        assert response.status == 403
    assert await facto.redis.get(keys.claim(facto.merchant.id, "telegram:424242")) is None  # type: ignore[union-attr]


async def test_claim_is_exclusive_reply_reaches_the_chat_and_hand_back_wakes_the_bot(
    facto: Facto, browsers: list[Browser]
) -> None:
    await waiting_conversation(facto)
    _, ines_secret = await add_user(facto, "ines@atelier.fr", "Inès")
    _, hugo_secret = await add_user(facto, "hugo@atelier.fr", "Hugo")
    ines, hugo = Browser.open(facto), Browser.open(facto)
    browsers.extend([ines, hugo])
    await ines.log_in("ines@atelier.fr", ines_secret)
    await hugo.log_in("hugo@atelier.fr", hugo_secret)

    _, queue = await ines.get("/console")
    [ref] = REF.findall(queue)
    assert "asked for a person" in queue and "Camille Martin" in queue
    assert "424242" not in queue  # the chat id is masked
    await hugo.get(f"/console/c/{ref}")
    await ines.get(f"/console/c/{ref}")

    # Both click at once: exactly one holds it, the other is told who.
    (_, one), (_, two) = await asyncio.gather(
        ines.post(f"/console/c/{ref}/claim"), hugo.post(f"/console/c/{ref}/claim")
    )
    told = [page for page in (one, two) if "already has this conversation" in page]
    assert len(told) == 1
    winner, loser = (ines, hugo) if told[0] is two else (hugo, ines)
    await facto.drain()

    status, _ = await loser.post(f"/console/c/{ref}/reply", {"text": "hello"})
    assert status == 409
    before = len(await texts(facto))
    await winner.post(f"/console/c/{ref}/reply", {"text": "Bonjour, je regarde <b>ça</b>"})
    await facto.drain()
    assert (await texts(facto))[before:] == ["Bonjour, je regarde <b>ça</b>"]
    _, page = await winner.get(f"/console/c/{ref}")
    assert "Bonjour, je regarde &lt;b&gt;ça&lt;/b&gt;" in page

    # While a person holds it the bot says nothing.
    await facto.customer_says(*TG, "payer")
    assert len(await texts(facto)) == before + 1

    status, _ = await winner.post(
        f"/console/c/{ref}/payment",
        {"op": "offline_payment", "amount": "20,00", "method": "cheque", "reference": "n°123"},
    )
    await facto.drain()
    assert "20,00" in (await texts(facto))[-1]
    _, page = await winner.get(f"/console/c/{ref}")
    assert "offline_payment" in page and "cheque 2000" in page

    await winner.post(f"/console/c/{ref}/resolve")
    await facto.drain()
    assert "de nouveau l'assistant" in (await texts(facto))[-1]
    await facto.customer_says(*TG, "payer")
    assert "/p/" in (await texts(facto))[-1]
    _, queue = await winner.get("/console")
    assert "Nobody is waiting" in queue


async def test_logout_releases_the_claims(facto: Facto, browsers: list[Browser]) -> None:
    await waiting_conversation(facto)
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    browsers.append(ines)
    await ines.log_in("ines@atelier.fr", secret)
    _, queue = await ines.get("/console")
    [ref] = REF.findall(queue)
    await ines.post(f"/console/c/{ref}/claim")
    await facto.drain()
    assert facto.merchant is not None
    assert await facto.redis.get(keys.claim(facto.merchant.id, "telegram:424242"))

    await ines.post("/console/logout")
    await facto.drain()
    assert await facto.redis.get(keys.claim(facto.merchant.id, "telegram:424242")) is None
    _, text = await ines.get("/console")
    assert "Log in" in text


async def test_another_merchants_user_sees_nothing_of_ours(
    facto: Facto, browsers: list[Browser]
) -> None:
    await waiting_conversation(facto)
    other, _ = await facto.add_merchant(name="Autre")
    _, secret = await add_user(facto, "eve@autre.fr", "Eve", merchant_id=other.id)
    _, ines_secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines, eve = Browser.open(facto), Browser.open(facto)
    browsers.extend([ines, eve])
    await ines.log_in("ines@atelier.fr", ines_secret)
    _, queue = await ines.get("/console")
    [ref] = REF.findall(queue)

    await eve.log_in("eve@autre.fr", secret)
    _, theirs = await eve.get("/console")
    assert "Camille" not in theirs
    status, _ = await eve.get(f"/console/c/{ref}")
    assert status == 404
    status, _ = await eve.post(f"/console/c/{ref}/claim")
    assert status == 404

    # Their websocket hears nothing about our conversations.
    async with eve.session.ws_connect(
        f"{facto.base_url}/console/ws", headers={"Origin": facto.base_url}
    ) as ws:
        await facto.customer_says(*TG, "allo ?")
        with pytest.raises(asyncio.TimeoutError):
            await ws.receive(timeout=0.5)


async def test_the_websocket_needs_a_session_and_hears_the_merchants_conversations(
    facto: Facto, browsers: list[Browser]
) -> None:
    await facto.issue(invoice_body(*TG))
    anonymous = Browser.open(facto)
    browsers.append(anonymous)
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await anonymous.session.ws_connect(f"{facto.base_url}/console/ws")

    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    browsers.append(ines)
    await ines.log_in("ines@atelier.fr", secret)
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await ines.session.ws_connect(
            f"{facto.base_url}/console/ws", headers={"Origin": "https://evil.example"}
        )
    async with ines.session.ws_connect(
        f"{facto.base_url}/console/ws", headers={"Origin": facto.base_url}
    ) as ws:
        await asyncio.sleep(0.05)  # let the subscription settle
        await facto.customer_says(*TG, "un conseiller svp")
        message = await ws.receive_json(timeout=5)
        assert set(message) == {"ref"} and len(message["ref"]) == 24


async def logged_in_pair(facto: Facto, browsers: list[Browser]) -> tuple[Browser, Browser, str]:
    """An owner (Léa) and an agent (Hugo), logged in, and the waiting conversation's ref."""
    await waiting_conversation(facto)
    _, owner_secret = await add_user(facto, "lea@atelier.fr", "Léa", Role.OWNER)
    _, agent_secret = await add_user(facto, "hugo@atelier.fr", "Hugo")
    owner, agent = Browser.open(facto), Browser.open(facto)
    browsers.extend([owner, agent])
    await owner.log_in("lea@atelier.fr", owner_secret)
    await agent.log_in("hugo@atelier.fr", agent_secret)
    _, queue = await owner.get("/console")
    [ref] = REF.findall(queue)
    return owner, agent, ref


async def test_an_owner_reassigns_an_agent_cannot(facto: Facto, browsers: list[Browser]) -> None:
    owner, agent, ref = await logged_in_pair(facto, browsers)
    await owner.post(f"/console/c/{ref}/claim")
    await facto.drain()
    assert facto.merchant is not None
    team = {u.name: u.id for u in await list_users(facto.redis, facto.merchant.id)}

    await agent.get(f"/console/c/{ref}")
    status, _ = await agent.post(f"/console/c/{ref}/reassign", {"user_id": team["Léa"]})
    assert status == 403

    await owner.get(f"/console/c/{ref}")
    status, page = await owner.post(f"/console/c/{ref}/reassign", {"user_id": team["Hugo"]})
    assert "Reassigned to Hugo" in page
    await facto.drain()
    before = len(await texts(facto))
    await agent.get(f"/console/c/{ref}")
    await agent.post(f"/console/c/{ref}/reply", {"text": "C'est Hugo, je prends le relais."})
    await facto.drain()
    assert (await texts(facto))[before:] == ["C'est Hugo, je prends le relais."]
    _, page = await owner.get(f"/console/c/{ref}")
    assert "reassigned" in page and 'id="holder">Hugo<' in page


async def test_an_idle_agent_loses_the_conversation_to_the_queue(
    facto: Facto, browsers: list[Browser]
) -> None:
    owner, _, ref = await logged_in_pair(facto, browsers)
    await owner.post(f"/console/c/{ref}/claim")
    await facto.drain()
    facto.clock.advance(31 * 60)
    await facto.drain()

    assert facto.merchant is not None
    assert await facto.redis.get(keys.claim(facto.merchant.id, "telegram:424242")) is None
    _, queue = await owner.get("/console")
    assert "<em>nobody</em>" in queue
    _, page = await owner.get(f"/console/c/{ref}")
    assert "waiting_agent" in page and 'id="claim"' in page


async def test_in_english_on_sms_the_bot_takes_back_with_the_promised_link(
    facto: Facto, browsers: list[Browser]
) -> None:
    phone = "+447911123456"
    await facto.issue(invoice_body("sms", phone, locale="en"))
    await facto.customer_says("sms", phone, "I'll pay on friday")
    await facto.customer_says("sms", phone, "human please")
    _, secret = await add_user(facto, "lea@atelier.fr", "Léa", Role.OWNER)
    owner = Browser.open(facto)
    browsers.append(owner)
    await owner.log_in("lea@atelier.fr", secret)
    _, queue = await owner.get("/console")
    [ref] = REF.findall(queue)
    assert "+44•" in queue and phone not in queue
    await owner.post(f"/console/c/{ref}/claim")
    await facto.drain()

    facto.clock.advance(3 * 24 * 3600)  # Friday comes while Léa holds it: nothing is sent
    await facto.drain()
    sent = [m["text"] for m in await facto.messages("sms", phone)]
    await owner.post(f"/console/c/{ref}/resolve")
    await facto.drain()
    [handback] = [m["text"] for m in await facto.messages("sms", phone)][len(sent) :]
    assert "I am the assistant again" in handback and "/p/" in handback


async def test_the_queue_is_pruned_when_the_invoice_gets_paid(facto: Facto) -> None:
    from tests.scenario.test_conversations import pay

    created = await facto.issue(invoice_body(*TG))
    await facto.customer_says(*TG, "j'ai déjà payé")  # not found: waits for a person
    assert facto.merchant is not None
    waiting = keys.waiting_conversations(facto.merchant.id)
    assert await facto.redis.zcard(waiting) == 1

    await pay(facto, created["pay_url"])

    assert await facto.redis.zcard(waiting) == 0
    assert "Paiement enregistré" in (await texts(facto))[-1]
    await facto.customer_says(*TG, "merci")
    assert "Paiement enregistré" not in (await texts(facto))[-1]


async def test_an_owner_adds_a_colleague_who_enrols_at_first_login(
    facto: Facto, browsers: list[Browser]
) -> None:
    owner, agent, _ = await logged_in_pair(facto, browsers)
    await agent.get("/console/team")
    status, _ = await agent.post(
        "/console/team", {"name": "Zoé", "email": "zoe@atelier.fr", "role": "agent"}
    )
    assert status == 403

    await owner.get("/console/team")
    status, page = await owner.post(
        "/console/team", {"name": "<b>Zoé</b>", "email": "zoe@atelier.fr", "role": "agent"}
    )
    assert status == 200 and "&lt;b&gt;Zoé&lt;/b&gt;" in page
    found = re.search(r'id="first-password">([^<]+)<', page)
    assert found is not None
    zoe = Browser.open(facto)
    browsers.append(zoe)
    await zoe.get("/console/login")
    _, text = await zoe.post(
        "/console/login", {"email": "zoe@atelier.fr", "password": found.group(1)}
    )
    assert "Set up two-factor" in text
    status, _ = await owner.post(
        "/console/team", {"name": "Zoé", "email": "zoe@atelier.fr", "role": "agent"}
    )
    assert status == 400


async def test_the_websocket_closes_once_the_session_ends(
    facto: Facto, browsers: list[Browser], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.web.console.SESSION_RECHECK_SECONDS", 0.0)
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    browsers.append(ines)
    await ines.log_in("ines@atelier.fr", secret)
    await ines.get("/console")
    async with ines.session.ws_connect(
        f"{facto.base_url}/console/ws", headers={"Origin": facto.base_url}
    ) as ws:
        await ines.post("/console/logout-everywhere")
        message = await ws.receive(timeout=5)
        assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_the_console_speaks_the_browsers_language(
    facto: Facto, browsers: list[Browser]
) -> None:
    await waiting_conversation(facto)
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    ines = Browser.open(facto)
    browsers.append(ines)
    await ines.log_in("ines@atelier.fr", secret)
    facto.clock.advance(3 * 3600 + 5 * 60)
    _, queue = await ines.get("/console", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "En attente d’un conseiller" in queue and "a demandé un conseiller" in queue
    # The waiting time too, with babel: "3 heures" here, "3 hours" in English.
    assert "<td>3\xa0heures</td>" in queue and "hours" not in queue
    _, english_queue = await ines.get("/console")
    assert "<td>3 hours</td>" in english_queue
    [ref] = REF.findall(queue)
    _, page = await ines.get(f"/console/c/{ref}", headers={"Accept-Language": "fr"})
    assert "Prendre cette conversation" in page and "Reste dû" in page
    _, english = await ines.get(f"/console/c/{ref}")
    assert "Take this conversation" in english


async def test_a_refund_outside_stripe_issues_its_credit_note(
    facto: Facto, browsers: list[Browser]
) -> None:
    owner, _, ref = await logged_in_pair(facto, browsers)
    await owner.post(f"/console/c/{ref}/claim")
    await facto.drain()
    await owner.get(f"/console/c/{ref}")
    await owner.post(
        f"/console/c/{ref}/payment",
        {"op": "offline_payment", "amount": "30", "method": "transfer", "reference": "VIR 77"},
    )
    await facto.drain()
    before = len(await texts(facto))

    status, page = await owner.post(
        f"/console/c/{ref}/payment", {"op": "credit_note", "amount": "31"}
    )
    assert status == 400 and "At most €30.00 can be credited" in page
    await facto.drain()
    assert len(await texts(facto)) == before  # more than was paid: refused, nothing said

    await owner.post(
        f"/console/c/{ref}/payment", {"op": "credit_note", "amount": "10", "reference": "geste"}
    )
    await facto.drain()
    [told] = (await texts(facto))[before:]
    assert "10,00" in told and "/a/" in told
    assert facto.merchant is not None
    ids = await facto.redis.zrange(keys.merchant_invoices(facto.merchant.id), 0, -1)
    detail = await facto.client.get(
        f"/api/v1/invoices/{ids[0]}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    body = await detail.json()
    assert body["amount_refunded"] == 1000 and len(body["credit_notes"]) == 1
    _, page = await owner.get(f"/console/c/{ref}")
    assert "credit_note" in page and "action_refused" not in page  # the 400 queued nothing


async def test_an_amount_that_is_not_a_number_is_a_400(
    facto: Facto, browsers: list[Browser]
) -> None:
    owner, _, ref = await logged_in_pair(facto, browsers)
    await owner.post(f"/console/c/{ref}/claim")
    await facto.drain()
    for amount in ("sNaN", "1e999999999", "Infinity"):
        status, body = await owner.post(
            f"/console/c/{ref}/payment",
            {"op": "offline_payment", "amount": amount, "method": "cash", "reference": "x"},
        )
        assert status == 400 and "amount: an amount such as 40.00" in body, (amount, body)
