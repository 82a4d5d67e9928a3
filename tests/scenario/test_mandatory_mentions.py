"""TESTCASES 74: an invoice lacking a mandatory mention is never issued; French VAT rates.

Before: a merchant created without legal form, share capital or RCS city issued invoices
without them (a 15 € fine per omission), and any rate such as 19 % was accepted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

from bot.store import keys
from tests.scenario.harness import Facto, invoice_body


async def refused(facto: Facto, body: dict[str, Any], api_key: str) -> list[str]:
    response = await facto.post_invoice(body, api_key)
    assert response.status == 422, await response.text()
    answer = await response.json()
    assert answer["code"] == "mandatory_mention_missing"
    assert "nothing was issued" in answer["error"]
    return [item["field"] for item in answer["fields"]]


@pytest.mark.parametrize(
    ("identity", "fields"),
    [
        (
            {"legal_form": None, "share_capital": None, "rcs_city": None},
            ["merchant.legal_form"],
        ),
        ({"share_capital": None}, ["merchant.share_capital"]),
        ({"rcs_city": None}, ["merchant.rcs_city"]),
        (
            {"share_capital": None, "rcs_city": None},
            ["merchant.share_capital", "merchant.rcs_city"],
        ),
    ],
)
async def test_a_company_without_its_identity_cannot_issue(
    facto: Facto, identity: dict[str, Any], fields: list[str]
) -> None:
    merchant, key = await facto.add_merchant(name="Sans mentions", **identity)
    assert await refused(facto, invoice_body(), key) == fields
    # Nothing issued: no number taken, nothing sent.
    assert not await facto.redis.exists(
        keys.merchant_invoice_seq(merchant.id, facto.clock.now().year)
    )
    await facto.drain()
    assert await facto.messages("telegram", "424242") == []


async def test_a_sole_trader_needs_neither_capital_nor_registry(facto: Facto) -> None:
    _, key = await facto.add_merchant(
        name="Camille Couture", legal_form="EI", share_capital=None, rcs_city=None
    )
    response = await facto.post_invoice(invoice_body(), key)
    assert response.status == 201, await response.text()


async def test_an_sas_invoice_prints_its_form_capital_and_registry(facto: Facto) -> None:
    created = await facto.issue(invoice_body())
    page = await (await facto.client.get(urlparse(created["invoice_url"]).path)).text()
    text = page.replace("\xa0", " ").replace("\u202f", " ")
    assert "Atelier Lumière SAS — SAS au capital de 10 000,00 € — " in text
    assert " — RCS Paris 732 829 320 — " in text


def line(rate: str, exemption: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "description": "Lampe",
        "quantity": 1,
        "unit_amount": 10000,
        "vat_rate": rate,
    }
    if exemption is not None:
        item["vat_exemption"] = exemption
    return item


@pytest.mark.parametrize("rate", ["20", "10", "5.5", "2.1", "0"])
async def test_french_rates_are_accepted(facto: Facto, rate: str) -> None:
    response = await facto.post_invoice(invoice_body(lines=[line(rate)]))
    assert response.status == 201, await response.text()


@pytest.mark.parametrize("rate", ["19", "21", "7", "5"])
async def test_a_rate_that_is_not_french_is_refused_without_a_reason(
    facto: Facto, rate: str
) -> None:
    body = invoice_body(lines=[line("20"), line(rate)])
    assert await refused(facto, body, facto.api_key) == ["lines.1.vat_rate"]


async def test_a_rate_with_its_reason_is_issued_and_the_reason_printed(facto: Facto) -> None:
    reason = "TVA allemande, vente à distance (art. 258 A du CGI)"
    created = await facto.issue(invoice_body(lines=[line("19", reason)]))
    page = await (await facto.client.get(urlparse(created["invoice_url"]).path)).text()
    assert reason in page
    stored = await facto.client.get(
        f"/api/v1/invoices/{created['id']}", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert stored.status == 200


@pytest.mark.parametrize(("unit_amount", "status"), [(15000, 201), (15001, 422)])
async def test_charging_vat_above_150_euros_needs_the_vat_number(
    facto: Facto, unit_amount: int, status: int
) -> None:
    _, key = await facto.add_merchant(name="Sans TVA", vat_number=None)
    item = {**line("20"), "unit_amount": unit_amount}
    response = await facto.post_invoice(invoice_body(lines=[item]), key)
    assert response.status == status, await response.text()
    if status == 422:
        assert (await response.json())["fields"][0]["field"] == "merchant.vat_number"
