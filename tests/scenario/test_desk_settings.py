"""The dashboard's Settings: the legal identity checked like `merchant create` (errors per
field) and printed on the next invoice; API keys created with a name, shown once, listed and
revoked (the next request with it gets a 401). Owners only, CSRF-protected."""

from __future__ import annotations

import json
import re

from bot.store import keys
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body

SETTINGS = "/console/dashboard/settings"


IDENTITY = {
    "name": "Atelier Rivoli",
    "legal_name": "Atelier Rivoli SARL",
    "legal_form": "SARL",
    "share_capital": "7 500",
    "siren": "732 829 320",
    "rcs_city": "Lyon",
    "vat_number": "FR44732829320",
    "address": "3 rue de Rivoli, 75001 Paris",
}


async def test_identity_is_checked_field_by_field_then_printed(
    facto: Facto, owner: Browser
) -> None:
    status, text = await owner.get(SETTINGS)
    assert status == 200 and 'name="legal_name"' in text
    bad = {**IDENTITY, "siren": "123456789", "share_capital": "beaucoup", "address": " "}
    status, text = await owner.post(SETTINGS + "/identity", bad)
    assert status == 422
    assert 'id="e-siren"' in text and "check digit" in text
    assert 'id="e-share_capital"' in text and 'id="e-address"' in text
    assert 'id="e-legal_name"' not in text and "beaucoup" in text  # what was typed stays
    status, text = await owner.post(SETTINGS + "/identity", IDENTITY)
    assert status == 200 and 'id="saved"' in text
    assert facto.merchant is not None
    stored = json.loads(await facto.redis.get(keys.merchant(facto.merchant.id)))
    assert (stored["siren"], stored["share_capital"], stored["rcs_city"]) == (
        "732829320",
        "750000",
        "RCS Lyon",
    )
    created = await facto.issue(invoice_body())
    page = await facto.client.get("/i/" + created["invoice_url"].rsplit("/i/", 1)[1])
    shown = await page.text()
    assert "Atelier Rivoli SARL" in shown and "RCS Lyon" in shown


async def test_api_keys_are_shown_once_listed_and_revoked_at_once(
    facto: Facto, owner: Browser
) -> None:
    await owner.get(SETTINGS)
    status, text = await owner.post(SETTINGS + "/keys", {"name": "ERP"})
    assert status == 201
    found = re.search(r'<code id="new-key">(fk_[^<]+)</code>', text)
    assert found is not None
    key = found.group(1)
    headers = {"Authorization": f"Bearer {key}"}
    response = await facto.client.get("/api/v1/invoices", headers=headers)
    assert response.status == 200
    status, text = await owner.get(SETTINGS)
    assert "ERP" in text and key not in text and key[-4:] in text  # listed, never shown again
    status, _ = await owner.post(SETTINGS + "/keys", {"name": ""})
    assert status == 422
    # The ERP key's row (the key `merchant create` gave is listed first).
    key_id = re.search(r"<td>ERP</td>.*?/settings/keys/([0-9a-f]{16})/revoke", text)
    assert key_id is not None
    status, _ = await owner.post(f"{SETTINGS}/keys/{key_id.group(1)}/revoke")
    assert status == 200
    response = await facto.client.get("/api/v1/invoices", headers=headers)
    assert response.status == 401
    status, _ = await owner.post(f"{SETTINGS}/keys/{key_id.group(1)}/revoke")
    assert status == 404
    # The merchant's first key still works.
    response = await facto.client.get(
        "/api/v1/invoices", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert response.status == 200


async def test_agents_and_forged_forms_are_refused(facto: Facto, owner: Browser) -> None:
    _, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    agent = Browser.open(facto)
    try:
        await agent.log_in("agent@atelier.fr", secret)
        status, _ = await agent.get(SETTINGS)
        assert status == 403
        status, _ = await agent.post(SETTINGS + "/keys", {"name": "mine"})
        assert status == 403
    finally:
        await agent.close()
    await owner.get(SETTINGS)
    owner.csrf = "forged"
    status, _ = await owner.post(SETTINGS + "/identity", IDENTITY)
    assert status == 403
    assert facto.merchant is not None
    assert await facto.redis.hlen(keys.merchant_api_keys(facto.merchant.id)) == 1  # the first


async def test_the_brand_colour_reaches_the_customers_pages(facto: Facto, owner: Browser) -> None:
    await owner.get(SETTINGS)
    status, text = await owner.post(SETTINGS + "/identity", {**IDENTITY, "brand_colour": "red"})
    assert status == 422 and 'id="e-brand_colour"' in text and "#rrggbb" in text
    assert facto.merchant is not None
    stored = json.loads(await facto.redis.get(keys.merchant(facto.merchant.id)))
    assert stored.get("brand_colour") is None  # nothing stored
    created = await facto.issue(invoice_body())
    invoice_path = "/i/" + created["invoice_url"].rsplit("/i/", 1)[1]
    shown = await (await facto.client.get(invoice_path)).text()
    assert "/brand/" not in shown  # Facto's own colour until one is chosen
    status, text = await owner.post(
        SETTINGS + "/identity", {**IDENTITY, "brand_colour": " #FFD700 "}
    )
    assert status == 200 and 'value="#ffd700"' in text
    for page_path in (invoice_path, "/p/" + created["pay_url"].rsplit("/p/", 1)[1]):
        response = await facto.client.get(page_path)
        shown = await response.text()
        # Strict CSP still: the colour is a stylesheet of our own, not an inline style.
        assert "style-src 'self'" in response.headers["Content-Security-Policy"]
        assert '<link rel="stylesheet" href="/brand/ffd700.css">' in shown, page_path
        assert "style=" not in shown
    response = await facto.client.get("/brand/ffd700.css")
    css = await response.text()
    assert response.status == 200 and response.content_type == "text/css"
    # Gold is pale: the button's text turns dark to stay readable.
    assert "--accent: #ffd700;" in css and "--on-accent: #1d2433;" in css
    for bad in ("/brand/FFD700.css", "/brand/ffd70.css", "/brand/red.css"):
        assert (await facto.client.get(bad)).status == 404


async def test_the_iban_is_checked_like_the_cli_saved_and_csrf_protected(
    facto: Facto, owner: Browser
) -> None:
    """Audit 14 item 11: the IBAN was only settable by `merchant set-iban`."""
    assert facto.merchant is not None
    status, text = await owner.get(SETTINGS)
    assert status == 200 and 'name="iban"' in text
    status, text = await owner.post(
        SETTINGS + "/iban", {"iban": "FR76 3000 6000 0112 3456 7890 188"}
    )
    assert status == 422 and 'id="e-iban"' in text and "invalid IBAN" in text
    assert "FR76 3000 6000 0112 3456 7890 188" in text  # what was typed stays
    status, text = await owner.post(
        SETTINGS + "/iban", {"iban": "FR76 3000 6000 0112 3456 7890 189"}
    )
    assert status == 200 and 'id="saved"' in text and "FR7630006000011234567890189" in text
    stored = json.loads(await facto.redis.get(keys.merchant(facto.merchant.id)))
    assert stored["iban"] == "FR7630006000011234567890189"  # compact, as the CLI stores it
    trail = [json.loads(e) for e in await facto.redis.lrange(keys.audit(facto.merchant.id), 0, -1)]
    assert {"what": "iban_changed", "detail": "…0189"}.items() <= trail[-1].items()

    owner.csrf = "forged"
    status, _ = await owner.post(SETTINGS + "/iban", {"iban": ""})
    assert status == 403
    stored = json.loads(await facto.redis.get(keys.merchant(facto.merchant.id)))
    assert stored["iban"] == "FR7630006000011234567890189"
    await owner.get(SETTINGS)  # a fresh token
    status, _ = await owner.post(SETTINGS + "/iban", {"iban": ""})
    assert status == 200
    stored = json.loads(await facto.redis.get(keys.merchant(facto.merchant.id)))
    assert stored["iban"] is None
