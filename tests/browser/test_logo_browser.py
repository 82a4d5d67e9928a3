"""The logo in a real browser (Chromium): an owner's SVG is refused with the reason, a PNG is
taken and previewed, and the customer's invoice page shows it under its strict CSP (the
image loads, nothing is blocked)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, ConsoleMessage, Locator, expect

from bot.store.users import Role
from tests.browser.test_console_browser import logged_in
from tests.scenario.console_client import add_user
from tests.scenario.harness import Facto, invoice_body
from tests.unit.test_logo_image import SCRIPT, png


async def loaded_width(image: Locator) -> int:
    """The image's own width once loaded: 0 when the browser did not (or could not) load it."""
    width: int = await image.evaluate("img => img.complete ? img.naturalWidth : 0")
    return width


async def test_owner_uploads_a_logo_the_invoice_page_shows(
    browser: Browser, live_facto: Facto, tmp_path: Path
) -> None:
    facto = live_facto
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    context, page = await logged_in(browser, facto, "owner@atelier.fr", secret)
    await page.goto("/console/dashboard/settings")
    await expect(page.locator("#no-logo")).to_be_visible()

    svg = tmp_path / "logo.svg"
    svg.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg">' + SCRIPT + b"</svg>")
    await page.locator("#f-logo").set_input_files(str(svg))
    await page.get_by_role("button", name="Upload the logo").click()
    await expect(page.locator("#e-logo")).to_contain_text("SVG")
    await expect(page.locator("#no-logo")).to_be_visible()

    logo = tmp_path / "logo.png"
    logo.write_bytes(png((800, 320)))
    await page.locator("#f-logo").set_input_files(str(logo))
    await page.get_by_role("button", name="Upload the logo").click()
    await expect(page.locator("#logo-saved")).to_be_visible()
    preview = page.locator("#current-logo")
    await expect(preview).to_be_visible()
    assert await loaded_width(preview) == 400

    created = await facto.issue(invoice_body())
    blocked: list[str] = []

    def csp(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    customer = await context.new_page()
    customer.on("console", csp)
    await customer.goto("/i/" + created["invoice_url"].rsplit("/i/", 1)[1])
    shown = customer.locator("img.logo")
    await expect(shown).to_be_visible()
    assert await loaded_width(shown) == 400
    box = await shown.bounding_box()
    assert box is not None and box["height"] <= 96  # facto.css: at most 6rem tall
    assert blocked == []
    await context.close()
