"""A merchant whose stored identity cannot be printed on an invoice (here a VAT number of
another company's SIREN, written around the checks of the CLI and Settings) issues nothing:
the API and the dashboard answer 422 naming the field and telling the owner to fix Settings,
never a 500, and no wrong VAT number is ever printed."""

from __future__ import annotations

from bot.store import keys
from bot.store.seller import update_identity
from tests.scenario.console_client import Browser
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_desk_invoice_form import GOOD, NEW

# A valid French VAT number, but of SIREN 552100554, not of the merchant's 732829320.
OTHER_COMPANYS_VAT = "FR96552100554"


async def _break_vat(facto: Facto) -> None:
    assert facto.merchant is not None
    stored = await update_identity(
        facto.redis, facto.merchant.id, {"vat_number": OTHER_COMPANYS_VAT}
    )
    assert stored is not None and stored.vat_number == OTHER_COMPANYS_VAT


async def _issued(facto: Facto) -> list[str]:
    assert facto.merchant is not None
    found = await facto.redis.keys(f"{keys.merchant(facto.merchant.id)}:invoice:inv_*")
    return [key for key in found if key.count(":") == 3]


async def test_the_api_answers_422_naming_the_vat_number_and_settings(facto: Facto) -> None:
    await _break_vat(facto)

    response = await facto.post_invoice(invoice_body())

    assert response.status == 422, await response.text()
    answer = await response.json()
    assert answer["code"] == "merchant_identity_invalid"
    assert answer["fields"][0]["field"] == "merchant.vat_number"
    assert "does not match SIREN 732829320" in answer["fields"][0]["message"]
    assert "/console/dashboard/settings" in answer["error"]
    assert await _issued(facto) == []


async def test_the_dashboard_form_shows_the_same_refusal(facto: Facto, owner: Browser) -> None:
    await _break_vat(facto)
    await owner.get(NEW)

    status, text = await owner.post(NEW, GOOD)

    assert status == 422
    assert "Settings" in text and "does not match SIREN 732829320" in text
    assert await _issued(facto) == []
