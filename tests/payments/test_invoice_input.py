from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from payments.invoice import VatRate
from payments.invoice_input import (
    MAX_GROSS,
    InvoiceInputError,
    InvoiceRequest,
    parse_invoice_request,
)

TODAY = date(2026, 11, 21)


def body(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "customer": {"name": "Alice Dupont", "phone": "+33612345678"},
        "channel": "sms",
        "currency": "EUR",
        "due_date": "2026-12-21",
        "lines": [
            {"description": "Intervention", "quantity": 1, "unit_amount": 7550, "vat_rate": "20"}
        ],
    }
    raw.update(overrides)
    return raw


def errors_of(raw: object) -> dict[str, str]:
    with pytest.raises(InvoiceInputError) as info:
        parse_invoice_request(raw, today=TODAY)
    fields = [e["field"] for e in info.value.errors]
    assert len(fields) == len(set(fields)), "one error per field"
    assert all(set(e) == {"field", "message"} for e in info.value.errors)
    return {e["field"]: e["message"] for e in info.value.errors}


def test_valid_request() -> None:
    req = parse_invoice_request(body(), today=TODAY)
    assert isinstance(req, InvoiceRequest)
    assert req.customer.phone == "+33612345678"
    assert req.customer.locale is None  # not forced: chosen per message (issue 6 §3)
    assert req.customer.is_business is False
    assert req.due_date == date(2026, 12, 21)
    (line,) = req.to_lines()
    assert (line.quantity, line.unit_amount, line.vat_rate) == (1, 7550, VatRate.parse("20"))
    assert req.to_customer().phone == "+33612345678"


def test_normalisations() -> None:
    raw = body(
        customer={
            "name": "  Bob  ",
            "phone": "06 12 34 56 78",
            "country": "fr",
            "locale": "en",
            "is_business": True,
            "siren": "732 829 320",
            "address": "1 rue X",
        },
        currency="eur",
        due_date="2026-11-21",  # due today is fine
    )
    req = parse_invoice_request(raw, today=TODAY)
    assert req.customer.name == "Bob"
    assert req.customer.phone == "+33612345678"
    assert req.customer.country == "FR"
    assert req.customer.siren == "732829320"
    assert req.currency == "EUR"
    snapshot = req.to_customer()
    assert (snapshot.locale, snapshot.is_business, snapshot.address) == ("en", True, "1 rue X")


def test_telegram_chat_id_as_int_or_digit_string() -> None:
    for chat_id in (123456789, "123456789"):
        raw = body(channel="telegram", customer={"name": "Bob", "telegram_chat_id": chat_id})
        assert parse_invoice_request(raw, today=TODAY).customer.telegram_chat_id == 123456789


@pytest.mark.parametrize("chat_id", [0, -100123, "-100123", "12a", True, 1.0, "", 10**16])
def test_bad_telegram_chat_ids(chat_id: object) -> None:
    raw = body(channel="telegram", customer={"name": "Bob", "telegram_chat_id": chat_id})
    assert "customer.telegram_chat_id" in errors_of(raw)


def test_every_error_is_listed_at_once() -> None:
    raw = {
        "customer": {"name": "", "phone": "0612", "is_business": "yes", "nickname": "x"},
        "channel": "fax",
        "currency": "ABC",
        "due_date": "2026-11-01",
        "lines": [
            {"description": "ok", "quantity": 1.0, "unit_amount": -5, "vat_rate": 20.0},
            {"quantity": "2", "unit_amount": True, "vat_rate": "100", "discount": 5},
            {"description": "x", "quantity": 0, "unit_amount": 0, "vat_rate": "5.555"},
        ],
        "status": "paid",
        "number": "F-0001",
        "merchant_id": "B",
    }
    errors = errors_of(raw)
    assert set(errors) == {
        "customer.name",
        "customer.phone",
        "customer.is_business",
        "customer.nickname",
        "channel",
        "currency",
        "due_date",
        "lines.0.quantity",
        "lines.0.unit_amount",
        "lines.0.vat_rate",
        "lines.1.description",
        "lines.1.quantity",
        "lines.1.unit_amount",
        "lines.1.vat_rate",
        "lines.1.discount",
        "lines.2.quantity",
        "lines.2.unit_amount",
        "lines.2.vat_rate",
        "status",
        "number",
        "merchant_id",
    }
    assert errors["status"] == "is not an accepted field"  # mass assignment, TESTCASES 59
    assert errors["lines.1.description"] == "is required"


@pytest.mark.parametrize("field", ["status", "number", "merchant_id", "amount_paid", "id"])
def test_mass_assignment_is_refused(field: str) -> None:
    assert errors_of(body(**{field: "x"})) == {field: "is not an accepted field"}


@pytest.mark.parametrize("field", ["customer", "channel", "currency", "due_date", "lines"])
def test_missing_top_level_fields(field: str) -> None:
    raw = body()
    del raw[field]
    assert errors_of(raw)[field] == "is required"


def test_missing_customer_name() -> None:
    assert errors_of(body(customer={"phone": "+33612345678"})) == {"customer.name": "is required"}


@pytest.mark.parametrize("raw", [None, [], "x", 42, [body()]])
def test_body_must_be_an_object(raw: object) -> None:
    assert errors_of(raw) == {"body": "must be a JSON object"}


@pytest.mark.parametrize(
    "customer", [{"name": "x", "phone": 33612345678}, {"name": 5, "phone": "+33612345678"}]
)
def test_malformed_customer_types(customer: dict[str, Any]) -> None:
    assert errors_of(body(customer=customer))


def test_customer_must_be_an_object() -> None:
    assert errors_of(body(customer="Alice")) == {"customer": "must be a JSON object"}


def test_unknown_channel() -> None:
    assert set(errors_of(body(channel="signal"))) == {"channel"}
    assert set(errors_of(body(channel=None))) == {"channel"}


def test_whatsapp_needs_the_phone_and_takes_twilios_form() -> None:
    raw = body(channel="whatsapp", customer={"name": "Bob", "telegram_chat_id": 42})
    assert errors_of(raw) == {"customer.phone": "is required when channel is whatsapp"}
    parsed = parse_invoice_request(
        body(channel="whatsapp", customer={"name": "Bob", "phone": "whatsapp:+33612345678"}),
        today=TODAY,
    )
    assert parsed.channel == "whatsapp" and parsed.customer.phone == "+33612345678"


def test_sms_without_phone_points_at_the_phone() -> None:
    raw = body(customer={"name": "Bob", "telegram_chat_id": 42})
    assert errors_of(raw) == {"customer.phone": "is required when channel is sms"}


def test_telegram_without_chat_id_points_at_the_chat_id() -> None:
    raw = body(channel="telegram")
    assert errors_of(raw) == {"customer.telegram_chat_id": "is required when channel is telegram"}


def test_missing_address_is_reported_with_other_errors() -> None:
    raw = body(channel="telegram", currency="XYZ")
    assert set(errors_of(raw)) == {"currency", "customer.telegram_chat_id"}
    raw = body(customer={"name": "", "telegram_chat_id": 1})  # sms: phone missing + bad name
    assert set(errors_of(raw)) == {"customer.name", "customer.phone"}


def test_an_invalid_phone_is_reported_once() -> None:
    raw = body(customer={"name": "Bob", "phone": "+33 6 12 34 56 7"})
    assert errors_of(raw) == {"customer.phone": "is not a valid phone number"}


@pytest.mark.parametrize(
    ("phone", "country"),
    [
        ("+33 6 12 34 56 7", None),
        ("0612345678", None),
        ("0612345678", "ZZ"),
        ("hello", "FR"),
        ("+1 555", None),
    ],
)
def test_invalid_phones(phone: str, country: str | None) -> None:
    customer: dict[str, Any] = {"name": "Bob", "phone": phone}
    if country is not None:
        customer["country"] = country
    assert "customer.phone" in errors_of(body(customer=customer))


@pytest.mark.parametrize(
    ("phone", "country", "e164"),
    [
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+44 7911 123456", "FR", "+447911123456"),
    ],
)
def test_phone_normalisation(phone: str, country: str | None, e164: str) -> None:
    customer: dict[str, Any] = {"name": "Bob", "phone": phone}
    if country is not None:
        customer["country"] = country
    assert parse_invoice_request(body(customer=customer), today=TODAY).customer.phone == e164


def _line(**overrides: Any) -> dict[str, Any]:
    line = {"description": "x", "quantity": 1, "unit_amount": 100, "vat_rate": "20"}
    line.update(overrides)
    return line


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_amount", 0),
        ("unit_amount", -1),
        ("unit_amount", 1.0),
        ("unit_amount", 12.5),
        ("unit_amount", "100"),
        ("unit_amount", True),
        ("unit_amount", None),
        ("quantity", 0),
        ("quantity", 1_000_001),
        ("quantity", 2.0),
        ("quantity", "2"),
        ("quantity", False),
        ("vat_rate", 20),
        ("vat_rate", 20.0),
        ("vat_rate", "abc"),
        ("vat_rate", "-5"),
        ("vat_rate", "100"),
        ("vat_rate", "5.555"),
        ("vat_rate", None),
        ("description", ""),
        ("description", "   "),
        ("description", "x" * 501),
        ("description", 5),
        ("description", "bell\x07"),
    ],
)
def test_bad_line_values(field: str, value: object) -> None:
    assert set(errors_of(body(lines=[_line(**{field: value})]))) == {f"lines.0.{field}"}


def test_line_count_limits() -> None:
    assert set(errors_of(body(lines=[]))) == {"lines"}
    assert set(errors_of(body(lines=[_line()] * 101))) == {"lines"}
    parse_invoice_request(body(lines=[_line()] * 100), today=TODAY)
    assert set(errors_of(body(lines={"0": _line()}))) == {"lines"}


def test_description_may_contain_newlines() -> None:
    req = parse_invoice_request(body(lines=[_line(description="a\nb\tc")]), today=TODAY)
    assert req.lines[0].description == "a\nb\tc"


def test_gross_total_must_fit() -> None:
    big = _line(quantity=10, unit_amount=MAX_GROSS // 10, vat_rate="20")
    assert errors_of(body(lines=[big])) == {
        "lines": f"invoice total must not exceed {MAX_GROSS} minor units"
    }
    fits = _line(quantity=1, unit_amount=MAX_GROSS, vat_rate="0")
    parse_invoice_request(body(lines=[fits]), today=TODAY)


@pytest.mark.parametrize("currency", ["ABC", "EURO", "", 978, None, "€"])
def test_bad_currency(currency: object) -> None:
    assert set(errors_of(body(currency=currency))) == {"currency"}


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "xau", "CHE"])
def test_non_money_currency_is_a_422_on_the_currency_field(currency: str) -> None:
    errors = errors_of(body(currency=currency))
    assert set(errors) == {"currency"}
    assert "cannot be invoiced" in errors["currency"]


@pytest.mark.parametrize(
    "due",
    [
        "2026-11-20",
        "21/12/2026",
        "2026-12-21T00:00:00",
        1798000000,
        "2026-02-30",
        "20261221",
        None,
        "2026-W52-1",
    ],
)
def test_bad_due_dates(due: object) -> None:
    assert set(errors_of(body(due_date=due))) == {"due_date"}


def test_today_is_required_as_context() -> None:
    with pytest.raises(TypeError):
        InvoiceRequest.model_validate(body())


def test_input_is_not_mutated() -> None:
    raw = body(currency="eur")
    before = copy.deepcopy(raw)
    parse_invoice_request(raw, today=TODAY)
    assert raw == before
