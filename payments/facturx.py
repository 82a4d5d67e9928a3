"""The Factur-X (EN 16931 profile) XML of an invoice: UN/CEFACT CII D16B, as issued.

Built element by element in the order the XSD imposes, then checked against Factur-X's own
XSD by the `factur-x` package (`check`). Like the PDF, it says what was issued, not what was
paid since: `DuePayableAmount` is the invoice's total.

`embed` puts the XML into the invoice's PDF (a PDF/A-3B from `payments.pdf`) as the Factur-X
attachment: one file that a person reads and an accounting system imports.

Choices where EN 16931 needs data Facto does not hold: the seller's and buyer's country is
France (Facto serves French merchants; the customer's address is free text, kept whole in
LineOne); the unit is C62 ("one"); the seller is identified by its SIREN (scheme 0002).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import facturx

from payments.invoice import Invoice, VatRate
from payments.money import Money

__all__ = ["FRANCHISE_REASON", "check", "embed", "invoice_xml"]

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
EN16931 = "urn:cen.eu:en16931:2017"
FRANCHISE_REASON = "TVA non applicable, art. 293 B du CGI"
INVOICE = "380"  # UNTDID 1001: commercial invoice

for _prefix, _uri in (("rsm", RSM), ("ram", RAM), ("udt", UDT), ("qdt", QDT)):
    ET.register_namespace(_prefix, _uri)


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    ns, _, name = tag.partition(":")
    element = ET.SubElement(parent, f"{{{RAM if ns == 'ram' else RSM}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _date(parent: ET.Element, tag: str, day: date) -> None:
    holder = _el(parent, tag)
    stamp = ET.SubElement(holder, f"{{{UDT}}}DateTimeString", {"format": "102"})
    stamp.text = day.strftime("%Y%m%d")


def _amount(amount: int, currency: str) -> str:
    return str(Money(amount, currency).to_decimal())


def _rate(rate: VatRate) -> str:
    return str(rate.percent.quantize(Decimal("0.01")))


def _category(invoice: Invoice, rate: VatRate) -> tuple[str, str | None]:
    """VAT category (UNCL 5305) and exemption reason for lines at `rate`."""
    if rate.percent > 0:
        return "S", None
    reasons = {
        line.vat_exemption
        for line in invoice.lines
        if line.vat_rate == rate and line.vat_exemption
    }
    if reasons:
        return "E", "; ".join(sorted(reasons))
    if invoice.seller.vat_number is None:
        return "E", FRANCHISE_REASON
    return "Z", None


def invoice_xml(invoice: Invoice, iban: str | None = None) -> bytes:
    root = ET.Element(f"{{{RSM}}}CrossIndustryInvoice")
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.number)
    _el(document, "ram:TypeCode", INVOICE)
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    currency = invoice.currency
    for index, line in enumerate(invoice.lines, start=1):
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(index))
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        price = _el(_el(item, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
        _el(price, "ram:ChargeAmount", _amount(line.unit_amount, currency))
        delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
        _el(delivery, "ram:BilledQuantity", str(line.quantity), unitCode="C62")
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", _category(invoice, line.vat_rate)[0])
        _el(tax, "ram:RateApplicablePercent", _rate(line.vat_rate))
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _amount(line.net, currency))
    _parties(_el(transaction, "ram:ApplicableHeaderTradeAgreement"), invoice)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(_el(transaction, "ram:ApplicableHeaderTradeSettlement"), invoice, iban)
    return bytes(ET.tostring(root, encoding="UTF-8", xml_declaration=True))


def _parties(agreement: ET.Element, invoice: Invoice) -> None:
    seller = _el(agreement, "ram:SellerTradeParty")
    _el(seller, "ram:Name", invoice.seller.legal_name)
    _el(
        _el(seller, "ram:SpecifiedLegalOrganization"),
        "ram:ID",
        invoice.seller.siren,
        schemeID="0002",
    )
    _address(seller, invoice.seller.address)
    if invoice.seller.vat_number:
        registration = _el(seller, "ram:SpecifiedTaxRegistration")
        _el(registration, "ram:ID", invoice.seller.vat_number, schemeID="VA")
    buyer = _el(agreement, "ram:BuyerTradeParty")
    _el(buyer, "ram:Name", invoice.customer.name)
    if invoice.customer.siren:
        legal = _el(buyer, "ram:SpecifiedLegalOrganization")
        _el(legal, "ram:ID", invoice.customer.siren, schemeID="0002")
    _address(buyer, invoice.customer.address)


def _address(party: ET.Element, text: str | None) -> None:
    address = _el(party, "ram:PostalTradeAddress")
    if text:
        _el(address, "ram:LineOne", text)
    _el(address, "ram:CountryID", "FR")


def _settlement(settlement: ET.Element, invoice: Invoice, iban: str | None) -> None:
    currency = invoice.currency
    _el(settlement, "ram:PaymentReference", invoice.number)
    _el(settlement, "ram:InvoiceCurrencyCode", currency)
    if iban:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _el(means, "ram:TypeCode", "58")  # SEPA credit transfer
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", iban)
    for row in invoice.totals.vat_by_rate:
        category, reason = _category(invoice, row.rate)
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _amount(row.vat, currency))
        _el(tax, "ram:TypeCode", "VAT")
        if reason:
            _el(tax, "ram:ExemptionReason", reason)
        _el(tax, "ram:BasisAmount", _amount(row.base, currency))
        _el(tax, "ram:CategoryCode", category)
        _el(tax, "ram:RateApplicablePercent", _rate(row.rate))
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _date(terms, "ram:DueDateDateTime", invoice.due_date)
    totals = invoice.totals
    summation = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(summation, "ram:LineTotalAmount", _amount(totals.net, currency))
    _el(summation, "ram:TaxBasisTotalAmount", _amount(totals.net, currency))
    _el(summation, "ram:TaxTotalAmount", _amount(totals.vat, currency), currencyID=currency)
    _el(summation, "ram:GrandTotalAmount", _amount(totals.gross, currency))
    _el(summation, "ram:DuePayableAmount", _amount(totals.gross, currency))


def check(xml: bytes) -> None:
    """Raise if `xml` is not valid Factur-X EN 16931 per the package's XSD."""
    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")


def embed(pdf: bytes, xml: bytes, *, title: str, author: str, lang: str) -> bytes:
    """`pdf` (already PDF/A-3: fonts embedded, output intent) with `xml` attached as
    `factur-x.xml` (AFRelationship Data) and the Factur-X XMP declared; the XML is checked
    against the EN 16931 XSD first (the package raises if it is not valid)."""
    combined: bytes = facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        lang=lang,
        pdf_metadata={
            "author": author,
            "keywords": "Factur-X",
            "title": title,
            "subject": title,
        },
    )
    return combined
