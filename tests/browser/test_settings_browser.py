"""Settings' senders and users in a real browser (Chromium): an owner sets an SMS sender ID,
adds a colleague (first password shown once), makes her an owner, then disables her."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from bot.store import users
from bot.store.users import Role
from tests.browser.test_console_browser import logged_in
from tests.scenario.console_client import add_user
from tests.scenario.harness import Facto

NUMBER = "+33700000011"


async def test_owner_sets_a_sender_and_manages_a_colleague(
    browser: Browser, live_facto: Facto
) -> None:
    facto = live_facto
    facto.sandbox.twilio_numbers |= {NUMBER}
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    context, page = await logged_in(browser, facto, "owner@atelier.fr", secret)
    await page.goto("/console/dashboard/settings")

    sms = page.locator("#sender-sms")
    await sms.locator("#f-sms-from").fill("ATELIER")
    await sms.get_by_role("button").click()
    await expect(page.locator("#e-sender")).to_contain_text("reply_number")
    sms = page.locator("#sender-sms")
    await sms.locator("#f-sms-from").fill("ATELIER")
    await sms.locator("#f-sms-reply").fill(NUMBER)
    await sms.get_by_role("button").click()
    await expect(page.locator("#own-senders")).to_contain_text("ATELIER")

    invite = page.locator("#invite")
    await invite.locator("#f-user-name").fill("Aline")
    await invite.locator("#f-user-email").fill("aline@atelier.fr")
    await invite.get_by_role("button").click()
    await expect(page.locator("#first-password")).to_have_count(1)
    assert facto.merchant is not None
    [aline] = [
        u for u in await users.list_users(facto.redis, facto.merchant.id) if u.name == "Aline"
    ]
    row = page.locator(f"#user-{aline.id}")
    await row.locator("select[name=role]").select_option("owner")
    await row.get_by_role("button", name="Change").click()
    row = page.locator(f"#user-{aline.id}")
    await expect(row).to_contain_text("owner")
    await row.get_by_role("button", name="Disable").click()
    await expect(page.locator(f"#user-{aline.id}")).to_contain_text("disabled")
    await expect(page.locator("#first-password")).to_have_count(0)  # shown once only
    await context.close()
