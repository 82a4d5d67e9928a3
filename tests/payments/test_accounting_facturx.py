"""The accounting CSV rows and the Factur-X XML, on known invoices."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import pytest

from payments.accounting import Payment, credit_note_rows, invoice_rows, payment_row, to_csv
from payments.credit_note import draft_credit_note
from payments.facturx import FRANCHISE_REASON, check, invoice_xml
from payments.invoice import Invoice, InvoiceLine, VatRate
from tests.payments.factories import customer, invoice, line, seller

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


def two_rates() -> Invoice:
    return invoice(
        lines=(
            line(10_000, 1, "20"),
            InvoiceLine("Livre", 2, 1_000, VatRate.parse("5.5")),
        ),
        customer=customer(name='=HYPERLINK("x")', is_business=True, siren="732829320"),
    )


def test_an_invoice_is_one_sales_row_per_vat_rate_and_sums_to_its_totals() -> None:
    inv = two_rates()
    rows = invoice_rows(inv)
    assert [(r.vat_rate, r.net, r.vat, r.gross) for r in rows] == [
        ("5.5", Decimal("20.00"), Decimal("1.10"), Decimal("21.10")),
        ("20", Decimal("100.00"), Decimal("20.00"), Decimal("120.00")),
    ]
    assert sum(r.gross for r in rows) == Decimal("141.10")
    assert {r.journal for r in rows} == {"VT"}


def test_a_credit_note_is_negative_and_a_payment_goes_to_the_bank_journal() -> None:
    inv = two_rates()
    note = draft_credit_note(inv, 4_000, "refund", "re_1", issue_date=date(2026, 12, 2))
    rows = credit_note_rows(note)
    assert sum(r.gross for r in rows) == Decimal("-40.00")
    assert {r.invoice for r in rows} == {"F-2026-000001"}
    paid = payment_row(Payment(inv, date(2026, 12, 1), 14_110, "pi_1"))
    assert (paid.journal, paid.gross, paid.payment_reference) == ("BQ", Decimal("141.10"), "pi_1")

    text = to_csv([*credit_note_rows(note), paid, *invoice_rows(inv)])
    table = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert [r["type"] for r in table] == [
        "invoice",
        "invoice",
        "payment",
        "credit_note",
        "credit_note",
    ]
    assert [r["date"] for r in table] == ["2026-11-21"] * 2 + ["2026-12-01"] + ["2026-12-02"] * 2
    # A name that a spreadsheet would run as a formula is written as text.
    assert all(r["customer"].startswith("'=") for r in table)
    assert table[0]["customer_siren"] == "732829320"


def test_the_factur_x_xml_is_valid_en16931_and_says_what_was_issued() -> None:
    inv = two_rates()
    xml = invoice_xml(inv, iban="FR7630006000011234567890189")
    check(xml)  # raises on any XSD error
    tree = ET.fromstring(xml)

    def one(path: str) -> str:
        found = tree.find(f".{path}", NS)
        assert found is not None and found.text is not None, path
        return found.text

    assert one("//rsm:ExchangedDocument/ram:ID") == "F-2026-000001"
    assert one("//rsm:ExchangedDocument/ram:TypeCode") == "380"
    assert one("//ram:GrandTotalAmount") == "141.10"
    assert one("//ram:TaxTotalAmount") == "21.10"
    assert (
        one("//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == inv.seller.vat_number
    )
    assert one("//ram:IBANID") == "FR7630006000011234567890189"
    header = ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"
    rates = [e.text for e in tree.findall(f"{header}/ram:RateApplicablePercent", NS)]
    assert rates == ["5.50", "20.00"]


def test_a_franchise_invoice_says_why_no_vat_is_charged() -> None:
    inv = invoice(lines=(line(5_000, 1, "0"),), seller=seller(vat_number=None))
    xml = invoice_xml(inv)
    check(xml)
    assert FRANCHISE_REASON.encode() in xml
    assert b"<ram:CategoryCode>E</ram:CategoryCode>" in xml


def test_an_xml_broken_against_the_schema_is_refused() -> None:
    xml = invoice_xml(invoice()).replace(
        b"<ram:TypeCode>380", b"<ram:Bogus>1</ram:Bogus><ram:TypeCode>380"
    )
    with pytest.raises(Exception, match=r"(?i)xsd|schema|valid|element"):
        check(xml)
