"""The support console in a real browser (Chromium): TOTP login, a waiting conversation that
appears live, a claim race between two browsers, a reply that reaches the customer's chat, an
offline payment, the hand-back, and customer text that stays text."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlparse

import pyotp
from playwright.async_api import Browser, BrowserContext, Page, expect

from bot.store import keys, whatsapp_window
from bot.store.handover import Holder
from bot.store.users import Role
from tests.scenario.console_client import PASSWORD, add_user
from tests.scenario.harness import Facto, invoice_body

TG = ("telegram", "424242")
XSS_NAME = '<img src=x onerror="window.pwned=1">Camille'
XSS_TEXT = "<script>window.pwned=1</script> un conseiller svp"


async def say(facto: Facto, text: str) -> None:
    """The customer writes in the phone simulator; the background worker does the rest."""
    response = await facto.client.post(
        f"/sandbox/api/customer/{TG[0]}/{TG[1]}", json={"text": text}
    )
    assert response.status == 200, await response.text()


async def chat(facto: Facto) -> list[str]:
    response = await facto.client.get(
        "/sandbox/api/messages", params={"channel": TG[0], "to": TG[1]}
    )
    return [m["text"].replace("\xa0", " ").replace("\u202f", " ") for m in await response.json()]


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def logged_in(
    browser: Browser, facto: Facto, email: str, secret: str
) -> tuple[BrowserContext, Page]:
    context = await browser.new_context(base_url=facto.base_url, locale="en-GB")
    page = await context.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.dismiss()))
    await page.goto("/console")
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("authenticator").fill(pyotp.TOTP(secret).now())
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Waiting for a person")).to_be_visible()
    await expect(page.locator("body[data-live='1']")).to_have_count(1)  # websocket open
    return context, page


async def not_pwned(page: Page) -> None:
    pwned: Any = await page.evaluate("window.pwned === undefined")
    assert pwned is True


async def test_an_agent_takes_over_answers_records_a_payment_and_hands_back(
    browser: Browser, live_facto: Facto
) -> None:
    facto = live_facto
    body = invoice_body(*TG)
    body["customer"]["name"] = XSS_NAME
    response = await facto.post_invoice(body)
    assert response.status == 201
    _, ines_secret = await add_user(facto, "ines@atelier.fr", "Inès", Role.OWNER)
    _, hugo_secret = await add_user(facto, "hugo@atelier.fr", "Hugo")
    _, ines = await logged_in(browser, facto, "ines@atelier.fr", ines_secret)
    _, hugo = await logged_in(browser, facto, "hugo@atelier.fr", hugo_secret)
    await expect(ines.get_by_text("Nobody is waiting")).to_be_visible()

    # The customer asks for a person: the queue shows it without a reload.
    await say(facto, XSS_TEXT)
    row = ines.locator(".queue-item")
    await expect(row).to_have_count(1, timeout=10_000)
    await expect(row).to_contain_text("asked for a person")
    await expect(row.locator(".customer")).to_have_text(XSS_NAME)  # the markup, as text
    await not_pwned(ines)

    await row.locator(".customer").click()
    await hugo.goto(ines.url)
    await expect(ines.locator(".msg-in .text").first).to_have_text(XSS_TEXT)
    await not_pwned(ines)
    await expect(ines.locator(".amount-due").first).to_have_text("€85.80")

    # Both click "take" at once: one holds it, the other is told who does. The clicks run in
    # the pages themselves, together: the live refresh that follows the first claim removes
    # the second page's button, which a user would see happen too.
    click = (
        "(() => { const b = document.getElementById('claim'); if (b) b.click(); return !!b; })()"
    )
    clicked = await asyncio.gather(ines.evaluate(click), hugo.evaluate(click))
    assert any(clicked)
    assert facto.merchant is not None
    holder = await until_holder(facto)
    ines_won = holder == "Inès"
    winner, loser = (ines, hugo) if ines_won else (hugo, ines)
    await expect(winner.locator("#send")).to_be_visible(timeout=10_000)
    await expect(loser.locator("#holder")).to_have_text(holder, timeout=10_000)
    if clicked[1 if ines_won else 0]:  # the loser's click went out: told who has it
        told = f"{holder} already has this conversation."
        await expect(loser.locator("#notice")).to_have_text(told)
    await expect(loser.locator("#send")).to_have_count(0)
    await expect(winner.locator("#holder")).to_have_text(holder)

    # The reply goes through the outbox to the customer's chat.
    await winner.locator("#reply-text").fill("Bonjour, je regarde votre dossier.")
    await winner.locator("#send").click()
    await until(lambda: _last_is(facto, "Bonjour, je regarde votre dossier."))
    await expect(winner.locator(".msg-out").last).to_contain_text("Bonjour, je regarde")

    # The customer writes: it appears live, and the bot stays silent.
    count = len(await chat(facto))
    await say(facto, "payer")
    await expect(winner.locator(".msg-in .text").last).to_have_text("payer", timeout=10_000)
    assert len(await chat(facto)) == count

    # An offline payment: in the ledger, the conversation and the page.
    form = winner.locator("#offline-form")
    await form.get_by_label("Amount").fill("22")
    await form.get_by_label("By").select_option("cheque")
    await form.get_by_label("Reference").fill("chèque n° 0042")
    await form.get_by_role("button", name="Record the payment").click()
    await until(lambda: _last_contains(facto, "22,00 €"))
    await expect(winner.locator(".amount-due").first).to_have_text("€63.80", timeout=10_000)

    # Hand back: the bot answers the next message again.
    await winner.locator("#resolve").click()
    await expect(winner.get_by_text("Nobody is waiting")).to_be_visible(timeout=10_000)
    await until(lambda: _last_contains(facto, "de nouveau l'assistant"))
    await say(facto, "payer")
    await until(lambda: _last_contains(facto, "/p/"))
    await not_pwned(winner)


async def until_holder(facto: Facto) -> str:
    """The name of whoever won the claim, once it is decided."""
    assert facto.merchant is not None
    key = keys.claim(facto.merchant.id, f"{TG[0]}:{TG[1]}")
    await until(lambda: _exists(facto, key))
    held = Holder.loads(await facto.redis.get(key))
    return held.name


async def _exists(facto: Facto, key: str) -> bool:
    return bool(await facto.redis.exists(key))


async def _last_is(facto: Facto, text: str) -> bool:
    texts = await chat(facto)
    return bool(texts) and texts[-1] == text


async def _last_contains(facto: Facto, text: str) -> bool:
    texts = await chat(facto)
    return bool(texts) and text in texts[-1]


WA_PHONE = "+33611223344"


async def test_whatsapp_window_and_delivery_states_live(
    browser: Browser, live_facto: Facto
) -> None:
    """A WhatsApp conversation: the context says until when the window is open, the reply's
    delivery state turns "delivered" on screen by itself (pushed, not polled every 15 s), and
    once WhatsApp says the window is closed the agent is told what will be sent instead."""
    facto = live_facto
    response = await facto.post_invoice(invoice_body("whatsapp", WA_PHONE))
    assert response.status == 201
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    _, page = await logged_in(browser, facto, "ines@atelier.fr", secret)
    response = await facto.whatsapp(WA_PHONE, 1, "un conseiller svp")
    assert response.status == 200
    row = page.locator(".queue-item")
    await expect(row).to_have_count(1, timeout=10_000)
    await row.locator(".customer").click()
    # The customer wrote at 09:00 UTC (10:00 in Paris): the window is open until 10:00.
    await expect(page.locator("#wa-window")).to_have_text("open until 10:00")
    await page.locator("#claim").click()
    await expect(page.locator("#send")).to_be_visible(timeout=10_000)
    await expect(page.locator("#window-closed")).to_have_count(0)

    await page.locator("#reply-text").fill("Je regarde votre dossier.")
    await page.locator("#send").click()
    reply = page.locator(".msg-out", has_text="Je regarde votre dossier.")
    # Well under the old 15 s poll: the outbox's "sent" then the provider's "delivered".
    await expect(reply.locator(".meta")).to_contain_text("delivered", timeout=5_000)

    # WhatsApp refused a message for the window (63016): believed until the customer writes.
    await whatsapp_window.forget(facto.redis, WA_PHONE)
    await page.reload()
    await expect(page.locator("#wa-window")).to_have_text("closed")
    notice = page.locator("#window-closed")
    await expect(notice).to_contain_text("The WhatsApp window is closed")
    await expect(page.locator("#template-preview")).to_contain_text(
        "Bonjour, un message de l'équipe Atelier Lumière"
    )
    await expect(page.locator("#template-preview mark")).to_have_text("your reply")


async def test_the_phone_simulator_shows_the_pay_buttons_gone_once_paid(
    browser: Browser, live_facto: Facto
) -> None:
    """Issue 13: an old Telegram message of a paid invoice stops offering to pay it."""
    facto = live_facto
    response = await facto.post_invoice(invoice_body(*TG))
    assert response.status == 201
    created = await response.json()
    context = await browser.new_context(base_url=facto.base_url, locale="fr-FR")
    page = await context.new_page()
    await page.goto(f"/sandbox/phone/{TG[0]}/{TG[1]}")
    invoice_message = page.locator(".msg.bot").first
    await expect(invoice_message.locator(".buttons")).to_contain_text(
        "Payer plus tard", timeout=10_000
    )

    pay_path = urlparse(created["pay_url"]).path
    response = await facto.client.post(pay_path, allow_redirects=False)
    checkout = urlparse(response.headers["Location"]).path
    await facto.client.post(f"{checkout}/card", allow_redirects=False)

    # The receipt arrives and the invoice message has no buttons any more (the page polls).
    await expect(page.locator(".msg.bot").last).to_contain_text("Paiement", timeout=10_000)
    await expect(page.locator(".msg.bot .buttons")).to_have_count(0, timeout=10_000)
    await context.close()


async def test_a_stale_form_on_a_voided_invoice_is_refused_with_the_reason(
    browser: Browser, live_facto: Facto
) -> None:
    """The agent's page still shows the payment forms; the invoice is voided meanwhile (the
    dashboard, the API): recording a payment is refused, the page says why and offers no
    payment action any more, and nothing is recorded."""
    facto = live_facto
    response = await facto.post_invoice(invoice_body(*TG))
    assert response.status == 201
    created = await response.json()
    _, secret = await add_user(facto, "ines@atelier.fr", "Inès")
    _, page = await logged_in(browser, facto, "ines@atelier.fr", secret)
    await say(facto, "un conseiller svp")
    row = page.locator(".queue-item")
    await expect(row).to_have_count(1, timeout=10_000)
    await row.locator(".customer").click()
    await page.locator("#claim").click()
    await expect(page.locator("#offline-form")).to_be_visible(timeout=10_000)

    voided = await facto.client.post(
        f"/api/v1/invoices/{created['id']}/void",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    assert voided.status == 202
    await until(lambda: _last_contains(facto, "a annulé"))

    form = page.locator("#offline-form")  # the page was not reloaded: the form is still there
    await form.get_by_label("Amount").fill("22")
    await form.get_by_label("Reference").fill("VIR 9")
    await form.get_by_role("button", name="Record the payment").click()
    await expect(page.locator("#refused")).to_contain_text("is cancelled (voided)")
    await expect(page.locator("#refused")).to_contain_text("Nothing was recorded")
    await expect(page.locator("#actions-closed")).to_be_visible()
    await expect(page.locator("#offline-form")).to_have_count(0)
    detail = await facto.client.get(
        f"/api/v1/invoices/{created['id']}",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    body = await detail.json()
    assert (body["status"], body["amount_paid"]) == ("void", 0)
