"""The merchant dashboard in a real browser (Chromium): log in, filter invoices, open a
timeline, read a KPI, and see the chart drawn by the vendored Chart.js under the strict CSP."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, expect

from bot.store.users import Role
from tests.browser.test_console_browser import logged_in, until
from tests.scenario.console_client import add_user
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_money import pay_outside_our_link

XSS_NAME = '<img src=x onerror="window.pwned=1">Zoé'


async def test_owner_filters_opens_a_timeline_and_reads_a_kpi(
    browser: Browser, live_facto: Facto
) -> None:
    facto = live_facto
    paid = await (await facto.post_invoice(invoice_body("telegram", 501))).json()
    body = invoice_body("telegram", 502)
    body["customer"]["name"] = XSS_NAME
    odd = await (await facto.post_invoice(body)).json()
    # Paid through the real pay link and the test checkout.
    response = await facto.client.post(
        "/p/" + paid["pay_url"].rsplit("/p/", 1)[1], allow_redirects=False
    )
    checkout = response.headers["Location"].split("://", 1)[1].split("/", 1)[1]
    await facto.client.post(f"/{checkout}/card", allow_redirects=False)

    async def is_paid() -> bool:
        r = await facto.client.get(
            f"/api/v1/invoices/{paid['id']}",
            headers={"Authorization": f"Bearer {facto.api_key}"},
        )
        status: Any = (await r.json())["status"]
        return bool(status == "paid")

    await until(is_paid)
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    context, page = await logged_in(browser, facto, "owner@atelier.fr", secret)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    await page.goto("/dashboard")
    await expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    rows = page.locator("#invoices tbody tr")
    await expect(rows).to_have_count(2)
    await page.get_by_label("Status").select_option("paid")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(paid["number"])
    await page.get_by_label("Status").select_option("")
    await page.get_by_label("Customer or number").fill("zoé")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(odd["number"])
    await expect(rows.first).to_contain_text('<img src=x onerror="window.pwned=1">Zoé')
    assert await page.evaluate("window.pwned === undefined") is True

    await page.goto("/console/dashboard")
    await page.get_by_role("link", name=paid["number"]).click()
    timeline = page.locator("#timeline")
    await expect(timeline.locator(".step-issued")).to_have_count(1)
    await expect(timeline.locator(".step-payment")).to_have_count(1)

    await page.get_by_role("link", name="KPIs").click()
    await expect(page.locator('[data-kpi="all-conversion"]')).to_have_text("0.5")
    await expect(page.locator("#kpi-chart[data-drawn='1']")).to_have_count(1)
    # Audit 14 item 6: every chart drawn by the vendored Chart.js from the same JSON.
    for chart in ("weekly-chart", "delay-chart", "rates-chart", "campaign-chart"):
        await expect(page.locator(f"#{chart}[data-drawn='1']")).to_have_count(1)
    weeks = await page.evaluate(
        "Chart.getChart(document.getElementById('weekly-chart')).data.datasets[1].data"
    )
    assert sum(weeks) == 1, weeks  # the one paid invoice, in its week
    delays = await page.evaluate(
        "Chart.getChart(document.getElementById('delay-chart')).data.datasets[0].data"
    )
    assert delays == [1, 0, 0, 0, 0], delays  # paid the day it was issued
    assert not [e for e in errors if "Content Security Policy" in e], errors
    await context.close()


async def test_owner_applies_a_payment_to_review_from_the_list(
    browser: Browser, live_facto: Facto
) -> None:
    facto = live_facto
    wrong = await (await facto.post_invoice(invoice_body("telegram", 511))).json()
    right = await (await facto.post_invoice(invoice_body("telegram", 512))).json()
    await pay_outside_our_link(facto, wrong["id"], 2000, "invoice")
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    context, page = await logged_in(browser, facto, "owner@atelier.fr", secret)

    await page.goto("/console/dashboard/review")
    rows = page.locator("#review tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("amount 2000 instead of 8580 due")
    await rows.first.get_by_label("Apply to").select_option(right["id"])
    await rows.first.get_by_role("button", name="Apply").click()
    await expect(rows.first).to_contain_text("Nothing to review.")
    await expect(page.locator("#review-audit .audit-review_applied")).to_contain_text(
        right["number"]
    )

    async def counted() -> bool:
        r = await facto.client.get(
            f"/api/v1/invoices/{right['id']}",
            headers={"Authorization": f"Bearer {facto.api_key}"},
        )
        return bool((await r.json())["amount_paid"] == 2000)

    await until(counted)
    await page.goto(f"/console/dashboard/invoices/{right['id']}")
    await expect(page.locator("#timeline .step-payment")).to_have_count(1)
    await context.close()


async def test_owner_voids_an_invoice_and_the_pay_link_shows_it_cancelled(
    browser: Browser, live_facto: Facto
) -> None:
    facto = live_facto
    created = await (await facto.post_invoice(invoice_body("telegram", 521))).json()
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    context, page = await logged_in(browser, facto, "owner@atelier.fr", secret)

    await page.goto(f"/console/dashboard/invoices/{created['id']}")
    await page.get_by_role("button", name="Void the invoice").click()
    await expect(page.locator("#voiding")).to_be_visible()
    await expect(page.get_by_role("button", name="Void the invoice")).to_have_count(0)

    async def voided() -> bool:
        r = await facto.client.get(
            f"/api/v1/invoices/{created['id']}",
            headers={"Authorization": f"Bearer {facto.api_key}"},
        )
        return bool((await r.json())["status"] == "void")

    await until(voided)  # the worker issues the credit note a moment later
    await page.reload()
    timeline = page.locator("#timeline")
    await expect(timeline.locator(".step-credit_note")).to_have_count(1)
    await expect(page.locator("#invoice-status")).to_have_text("void")

    customer = await context.new_page()
    await customer.goto("/p/" + created["pay_url"].rsplit("/p/", 1)[1])
    await expect(customer.locator(".status-void")).to_be_visible()
    await expect(customer.get_by_role("button")).to_have_count(0)  # nothing to pay
    await context.close()


async def test_owner_creates_an_api_key_in_settings(browser: Browser, live_facto: Facto) -> None:
    facto = live_facto
    _, secret = await add_user(facto, "owner@atelier.fr", "Odile", Role.OWNER)
    context, page = await logged_in(browser, facto, "owner@atelier.fr", secret)

    await page.goto("/console/dashboard")
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="API keys")).to_be_visible()
    await page.get_by_label("Name of the new key").fill("Comptabilité")
    await page.get_by_role("button", name="Create a key").click()
    key = (await page.locator("#new-key").text_content() or "").strip()
    assert key.startswith("fk_")
    response = await facto.client.get(
        "/api/v1/invoices", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status == 200
    await page.goto("/console/dashboard/settings")
    rows = page.locator("#api-keys tbody tr")
    await expect(rows).to_have_count(2)  # the key `merchant create` printed, and this one
    mine = rows.filter(has_text="Comptabilité")
    await expect(mine).to_have_count(1)
    await expect(page.locator("#new-key")).to_have_count(0)  # shown once
    await mine.get_by_role("button", name="Revoke").click()
    await expect(rows.filter(has_text="Comptabilité")).to_have_count(0)
    await expect(rows).to_have_count(1)  # the other key still works
    response = await facto.client.get(
        "/api/v1/invoices", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status == 401
    await context.close()
