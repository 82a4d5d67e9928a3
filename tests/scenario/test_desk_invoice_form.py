"""Creating an invoice from the dashboard: the API's checks, each problem next to its field,
what was typed kept; a valid form issues, archives and sends the invoice like the API."""

from __future__ import annotations

from tests.scenario.console_client import Browser
from tests.scenario.harness import Facto

NEW = "/console/dashboard/invoices/new"
GOOD = {
    "customer.name": "Camille Martin",
    "channel": "telegram",
    "customer.address_to": "424242",
    "due_date": "2026-12-15",
    "currency": "EUR",
    "lines.0.description": "Lampe de bureau",
    "lines.0.quantity": "2",
    "lines.0.unit_amount": "60,00",
    "lines.0.vat_rate": "20",
}


async def test_errors_are_shown_per_field_and_what_was_typed_stays(
    facto: Facto, owner: Browser
) -> None:
    status, text = await owner.get(NEW)
    assert status == 200 and 'name="lines.0.unit_amount"' in text
    bad = {
        **GOOD,
        "customer.name": "",
        "due_date": "2020-01-01",
        "lines.0.unit_amount": "soixante",
        "lines.1.description": "Ampoules",
        "lines.1.quantity": "0",
        "lines.1.unit_amount": "5.75",
        "lines.1.vat_rate": "20",
    }
    status, text = await owner.post(NEW, bad)
    assert status == 422
    for field in ("customer.name", "due_date", "lines.0.unit_amount", "lines.1.quantity"):
        assert f'id="e-{field}"' in text, field
    assert 'id="e-lines.0.description"' not in text
    assert 'value="soixante"' in text and 'value="Ampoules"' in text
    response = await facto.client.get(
        "/api/v1/invoices", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert (await response.json())["invoices"] == []  # nothing was issued


async def test_a_valid_form_issues_and_sends_the_invoice(facto: Facto, owner: Browser) -> None:
    await owner.get(NEW)
    status, text = await owner.post(NEW, GOOD)
    assert status == 200 and "F-2026-000001" in text  # the new invoice's page
    await facto.drain()
    response = await facto.client.get(
        "/api/v1/invoices", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    [made] = (await response.json())["invoices"]
    assert (made["totals"]["gross"], made["channel"]) == (14400, "telegram")
    [sent] = await facto.messages("telegram", "424242")
    assert made["number"] in sent["text"]
    owner.csrf = "forged"
    status, _ = await owner.post(NEW, GOOD)
    assert status == 403
