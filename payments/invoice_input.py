"""Validation of the merchant API's `POST /api/v1/invoices` JSON body.

Every invalid field is reported at once, as `{"field": "lines.0.unit_amount", "message": …}`
(list indexes are dotted). Unknown fields are refused, which also stops mass assignment of
`status`, `number` or `merchant_id` (TESTCASES 59). Amounts are strict integers in minor units.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from types import MappingProxyType
from typing import Annotated, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from payments.invoice import (
    CustomerSnapshot,
    InvoiceLine,
    VatRate,
    compute_totals,
    is_time_zone,
)
from payments.merchant_ids import validate_siren
from payments.money import normalize_currency

__all__ = ["MAX_GROSS", "InvoiceInputError", "InvoiceRequest", "parse_invoice_request"]

MAX_GROSS = 10**11  # minor units: one billion euros, far above any SMS invoice
# Invoice text reaches chats and the legal invoice page. Refused: controls (C0, C1, DEL: Cc),
# invisible format characters (bidi overrides and isolates, zero-width space/joiners, BOM, soft
# hyphen: Cf), line/paragraph separators (Zl, Zp), surrogates (Cs) and private use (Co). Tab
# and newline are layout in multi-line fields only. Refused rather than stripped: a legal
# document's text is not ours to change silently, and the 422 names the field and the code point.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_LAYOUT = frozenset("\t\n")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class InvoiceInputError(ValueError):
    """The body is invalid; `errors` lists every problem (the API answers 422 with it)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = errors


def _visible_text(*, multiline: bool) -> Callable[[str], str]:
    allowed = _LAYOUT if multiline else frozenset()

    def check(value: str) -> str:
        for position, char in enumerate(value, start=1):
            if char not in allowed and unicodedata.category(char) in _INVISIBLE_CATEGORIES:
                msg = (
                    "must not contain invisible or control characters "
                    f"(U+{ord(char):04X} at position {position})"
                )
                raise ValueError(msg)
        # Composed form: "é" typed as e + combining accent is stored, shown and compared as one.
        return unicodedata.normalize("NFC", value)

    return check


def _chat_id(value: object) -> object:
    # JSON clients often send 64-bit ids as strings; only plain digit strings are converted.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return value


def _iso_date(value: object) -> object:
    # pydantic alone would also take unix timestamps and datetimes; the API takes YYYY-MM-DD.
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        msg = "must be a date in YYYY-MM-DD format"
        raise ValueError(msg)
    return value


def _country(value: str) -> str:
    if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
        msg = "must be an ISO 3166 alpha-2 country code"
        raise ValueError(msg)
    return value.upper()


_TEXT = StringConstraints(strict=True, strip_whitespace=True, min_length=1)
_SINGLE_LINE = AfterValidator(_visible_text(multiline=False))
_MULTI_LINE = AfterValidator(_visible_text(multiline=True))
Name = Annotated[str, _TEXT, Field(max_length=200), _SINGLE_LINE]
Description = Annotated[str, _TEXT, Field(max_length=500), _MULTI_LINE]
Address = Annotated[str, _TEXT, Field(max_length=500), _MULTI_LINE]
Country = Annotated[
    str, StringConstraints(strict=True, pattern=r"^[A-Za-z]{2}$"), AfterValidator(_country)
]
ChatId = Annotated[int, BeforeValidator(_chat_id), Field(strict=True, ge=1, le=10**15)]
Siren = Annotated[str, Field(strict=True), AfterValidator(validate_siren)]


class CustomerInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    country: Country | None = None  # declared before `phone`, whose validator reads it
    phone: Annotated[str, StringConstraints(strict=True, max_length=32)] | None = None
    telegram_chat_id: ChatId | None = None
    # None: the language is chosen per message (Telegram's language, phone country, default).
    locale: Literal["fr", "en"] | None = None
    is_business: Annotated[bool, Field(strict=True)] = False
    address: Address | None = None
    siren: Siren | None = None
    # IANA zone: reminders at 10:00 and quiet hours in it, "demain" read in it (default Paris).
    timezone: Annotated[str, StringConstraints(strict=True, max_length=64)] | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not is_time_zone(value):
            msg = 'is not an IANA time zone such as "Europe/Paris"'
            raise ValueError(msg)
        return value

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        # Twilio writes WhatsApp addresses "whatsapp:+33…": the number is the same one.
        return to_e164(value.removeprefix("whatsapp:"), info.data.get("country"))


def to_e164(phone: str, country: str | None) -> str:
    """Normalise an international (+33…) or national (06…, with `country`) number to E.164."""
    international = phone.startswith("+")
    if not international and country is None:
        msg = "a national number needs a valid customer.country, or use the +<code> form"
        raise ValueError(msg)
    try:
        parsed = phonenumbers.parse(phone, None if international else country)
    except phonenumbers.NumberParseException as e:
        msg = "is not a phone number"
        raise ValueError(msg) from e
    if not phonenumbers.is_valid_number(parsed):
        msg = "is not a valid phone number"
        raise ValueError(msg)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class LineInput(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: Description
    quantity: Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
    unit_amount: Annotated[int, Field(strict=True, gt=0, le=MAX_GROSS)]
    vat_rate: Annotated[VatRate, PlainValidator(VatRate.parse)]
    vat_exemption: Annotated[str, Field(min_length=1, max_length=200)] | None = None

    def to_line(self) -> InvoiceLine:
        return InvoiceLine(
            self.description, self.quantity, self.unit_amount, self.vat_rate, self.vat_exemption
        )


class InvoiceRequest(BaseModel):
    """A valid invoice request; build it with `parse_invoice_request`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    customer: CustomerInput
    channel: Literal["sms", "telegram", "whatsapp"]
    currency: Annotated[str, PlainValidator(normalize_currency)]
    due_date: Annotated[date, BeforeValidator(_iso_date)]
    lines: Annotated[list[LineInput], Field(min_length=1, max_length=100)]

    @field_validator("due_date")
    @classmethod
    def _not_before_issue(cls, value: date, info: ValidationInfo) -> date:
        today = (info.context or {}).get("today")
        if not isinstance(today, date):
            msg = "validate with context={'today': date}"
            raise TypeError(msg)  # a programming error, not a 422
        if value < today:
            msg = f"must not be before the issue date ({today.isoformat()})"
            raise ValueError(msg)
        return value

    @field_validator("lines")
    @classmethod
    def _gross_fits(cls, lines: list[LineInput]) -> list[LineInput]:
        # Minor-unit totals do not depend on the currency; any valid code will do here.
        gross = compute_totals((line.to_line() for line in lines), "EUR").gross
        if gross > MAX_GROSS:
            msg = f"invoice total must not exceed {MAX_GROSS} minor units"
            raise ValueError(msg)
        return lines

    @model_validator(mode="after")
    def _address_for_channel(self) -> InvoiceRequest:
        problem = _missing_address(
            self.channel, self.customer.phone, self.customer.telegram_chat_id
        )
        if problem is not None:
            raise PydanticCustomError("address_required", problem[1], {"field": problem[0]})
        return self

    def to_lines(self) -> tuple[InvoiceLine, ...]:
        return tuple(line.to_line() for line in self.lines)

    def to_customer(self) -> CustomerSnapshot:
        c = self.customer
        return CustomerSnapshot(
            c.name,
            c.phone,
            c.telegram_chat_id,
            c.locale,
            c.is_business,
            c.address,
            c.siren,
            timezone=c.timezone,
        )


def _missing_address(channel: object, phone: object, chat_id: object) -> tuple[str, str] | None:
    if channel in ("sms", "whatsapp") and phone is None:
        return "customer.phone", f"is required when channel is {channel}"
    if channel == "telegram" and chat_id is None:
        return "customer.telegram_chat_id", "is required when channel is telegram"
    return None


def parse_invoice_request(raw: object, *, today: date) -> InvoiceRequest:
    """Validate a decoded JSON body; InvoiceInputError lists every invalid field at once."""
    try:
        return InvoiceRequest.model_validate(raw, context={"today": today})
    except ValidationError as e:
        errors = [_error(detail) for detail in e.errors()]
    # The channel/address rule runs after field validation, so pydantic skips it whenever any
    # other field failed; check it on the raw input to still report it in the same answer.
    reported = {err["field"] for err in errors}
    extra = _raw_address_problem(raw)
    if extra is not None and extra[0] not in reported:
        errors.append({"field": extra[0], "message": extra[1]})
    raise InvoiceInputError(errors)


def _raw_address_problem(raw: object) -> tuple[str, str] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("customer"), dict):
        return None
    customer = raw["customer"]
    return _missing_address(
        raw.get("channel"), customer.get("phone"), customer.get("telegram_chat_id")
    )


_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "missing": "is required",
        "extra_forbidden": "is not an accepted field",
        "model_type": "must be a JSON object",
        "model_attributes_type": "must be a JSON object",
        "int_type": "must be an integer",
        "int_from_float": "must be an integer",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "string_unicode": "must be valid Unicode text (a lone surrogate, U+D800-U+DFFF)",
    }
)


def _error(detail: ErrorDetails) -> dict[str, str]:
    ctx = detail.get("ctx") or {}
    field = ctx.get("field") or ".".join(str(part) for part in detail["loc"]) or "body"
    message = _MESSAGES.get(detail["type"], detail["msg"]).removeprefix("Value error, ")
    return {"field": str(field), "message": message}
