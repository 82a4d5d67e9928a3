"""Invoices: lines, VAT totals, payment status, numbering, JSON round-trip, legal mentions.

An `Invoice` is an *issued* invoice (it has its number). It is never edited: payment changes
produce a new value (`dataclasses.replace`) that the lead's storage writes atomically.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from payments.merchant_ids import Mention, SellerSnapshot, seller_mentions, validate_siren
from payments.money import Money, currency_exponent, parse_minor
from payments.reward import RewardOffer

__all__ = [
    "RECOVERY_INDEMNITY",
    "Channel",
    "CustomerSnapshot",
    "Invoice",
    "InvoiceLine",
    "InvoiceNumber",
    "InvoiceStatus",
    "Mention",
    "SellerSnapshot",
    "Totals",
    "VatLine",
    "VatRate",
    "advance",
    "compute_totals",
    "format_invoice_number",
    "legal_mentions",
    "missing_mentions",
    "net_for_gross",
    "new_link_token",
    "parse_invoice_number",
    "settled_status",
]

Channel = Literal["sms", "telegram", "whatsapp"]
_RATE = re.compile(r"(0|[1-9]\d?)(\.\d{1,2})?")
_HUNDRED = Decimal(100)
# secrets.token_urlsafe(16) is 22 characters: 128 bits (TESTCASES 60).
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,128}")
_E164 = re.compile(r"\+[1-9]\d{6,14}")


@dataclass(frozen=True, slots=True, order=True)
class VatRate:
    """A VAT rate in percent (20, 5.5, 2.1, 0): 0 ≤ rate < 100, at most 2 decimals."""

    percent: Decimal

    def __post_init__(self) -> None:
        if not isinstance(self.percent, Decimal) or not _RATE.fullmatch(_plain(self.percent)):
            msg = f"VAT rate must be a percentage in [0, 100) with ≤ 2 decimals: {self.percent!r}"
            raise ValueError(msg)

    @classmethod
    def parse(cls, value: object) -> VatRate:
        """From a decimal string ("20", "5.5"); floats and other types are refused."""
        if not isinstance(value, str) or not _RATE.fullmatch(value):
            msg = "VAT rate must be a decimal string such as '20' or '5.5' (0 to 99.99)"
            raise ValueError(msg)
        return cls(Decimal(value))

    def __str__(self) -> str:
        return _plain(self.percent)


def _plain(d: Decimal) -> str:
    """Canonical decimal text without exponent or trailing zeros: 20.00 → '20', 5.50 → '5.5'."""
    if not d.is_finite():
        return str(d)
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "0") else text


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    description: str
    quantity: int
    unit_amount: int
    vat_rate: VatRate
    # Why the rate is not a French one, or why no VAT is charged ("Autoliquidation",
    # "Exonération, art. 262 ter I du CGI"): printed next to the rate (LEGAL_FR §1.1).
    vat_exemption: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.description, str) or not self.description.strip():
            msg = "line description must be a non-empty string"
            raise ValueError(msg)
        if parse_minor(self.quantity) < 1 or parse_minor(self.unit_amount) < 1:
            msg = "line quantity must be ≥ 1 and unit_amount > 0"
            raise ValueError(msg)
        if not isinstance(self.vat_rate, VatRate):
            msg = "vat_rate must be a VatRate"
            raise TypeError(msg)

    @property
    def net(self) -> int:
        return self.quantity * self.unit_amount


@dataclass(frozen=True, slots=True)
class VatLine:
    """One row of the 'VAT per rate' table: the summed net of the lines at `rate`, its VAT."""

    rate: VatRate
    base: int
    vat: int


@dataclass(frozen=True, slots=True)
class Totals:
    currency: str
    net: int
    vat_by_rate: tuple[VatLine, ...]
    vat: int
    gross: int


def compute_totals(lines: Iterable[InvoiceLine], currency: str) -> Totals:
    """HT, VAT per rate (ascending) and TTC in minor units.

    VAT is rounded half-up once per rate on the sum of that rate's nets, not per line, so that
    the printed table is reproducible from the printed bases.
    """
    currency_exponent(currency)
    bases: dict[VatRate, int] = {}
    for line in lines:
        bases[line.vat_rate] = bases.get(line.vat_rate, 0) + line.net
    table = tuple(
        VatLine(rate, base, _vat_amount(base, rate)) for rate, base in sorted(bases.items())
    )
    net = sum(row.base for row in table)
    vat = sum(row.vat for row in table)
    return Totals(currency, net, table, vat, net + vat)


def net_for_gross(gross: int, rate: VatRate) -> int | None:
    """The HT amount whose TTC at `rate` is exactly `gross`, or None when no amount gives it.

    A price is often set TTC (a flash sale's offer); its invoice prints HT, VAT and TTC, and
    the VAT is rounded, so about one price in six at 20 % has no exact HT (2 cents: 2 HT gives
    2 TTC, 3 HT gives 4).
    """
    guess = int((Decimal(gross) * _HUNDRED / (_HUNDRED + rate.percent)).to_integral_value())
    for net in (guess, guess - 1, guess + 1):
        if net > 0 and net + _vat_amount(net, rate) == gross:
            return net
    return None


def _vat_amount(base: int, rate: VatRate) -> int:
    return int((Decimal(base) * rate.percent / _HUNDRED).quantize(Decimal(1), ROUND_HALF_UP))


class InvoiceStatus(StrEnum):
    """Payment state of an invoice; only moves forward (see `advance`)."""

    OPEN = "open"
    PROCESSING = "processing"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    # Derived from refunds and disputes by `payments.ledger.derive_status`, not by `advance`:
    DISPUTED = "disputed"  # a chargeback is open: reminders pause
    PARTIALLY_REFUNDED = "partially_refunded"  # paid, part given back (credit note issued)
    REFUNDED = "refunded"  # paid, all given back (credit notes cover the whole amount)
    # Cancelled by the merchant: a credit note covers what was unpaid; nothing is due.
    VOID = "void"

    @property
    def rank(self) -> int:
        return _ORDER.index(self.value)


_ORDER = (
    "open",
    "processing",
    "partially_paid",
    "paid",
    "disputed",
    "partially_refunded",
    "refunded",
    "void",
)


def advance(current: InvoiceStatus, new: InvoiceStatus) -> InvoiceStatus:
    """The later of two states: an older 'processing' after 'paid' stays 'paid' (TESTCASES 9).

    The one legitimate step back (a delayed payment failed: processing → open) is not done here;
    `payments.webhook.apply_payment` does it explicitly.
    """
    return new if new.rank > current.rank else current


class InvoiceNumber(NamedTuple):
    prefix: str
    year: int
    seq: int


_PREFIX = re.compile(r"[A-Z0-9][A-Z0-9-]{0,9}")
_NUMBER = re.compile(r"(?P<prefix>.+)-(?P<year>\d{4})-(?P<seq>\d{6,})")


def format_invoice_number(prefix: str, year: int, seq: int) -> str:
    """'F', 2026, 1 → 'F-2026-000001'. The gap-free `seq` is allocated by the caller."""
    if not isinstance(prefix, str) or not _PREFIX.fullmatch(prefix):
        msg = f"invoice prefix must be 1-10 chars of A-Z, 0-9, '-' (starting alnum): {prefix!r}"
        raise ValueError(msg)
    if not 2000 <= parse_minor(year) <= 9999 or parse_minor(seq) < 1:
        msg = f"invalid invoice year/sequence: {year}/{seq}"
        raise ValueError(msg)
    return f"{prefix}-{year:04d}-{seq:06d}"


def parse_invoice_number(number: str) -> InvoiceNumber:
    """Inverse of `format_invoice_number`; ValueError unless `number` is in canonical form."""
    match = _NUMBER.fullmatch(number) if isinstance(number, str) else None
    if match is None:
        msg = f"not an invoice number: {number!r}"
        raise ValueError(msg)
    parsed = InvoiceNumber(match["prefix"], int(match["year"]), int(match["seq"]))
    if format_invoice_number(*parsed) != number:
        msg = f"not a canonical invoice number: {number!r}"
        raise ValueError(msg)
    return parsed


def new_link_token() -> str:
    """An unguessable pay/view link token carrying no meaning (TESTCASES 60)."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    """The customer as they were when the invoice was issued."""

    name: str
    phone: str | None  # E.164
    telegram_chat_id: int | None
    locale: str | None  # None: chosen per message (bot.i18n.pick_locale)
    is_business: bool = False
    address: str | None = None
    siren: str | None = None
    # IANA zone of the customer: reminders' hours and the dates read in replies ("demain").
    # None: the merchant's policy's zone, else the default (Europe/Paris).
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.timezone is not None and not is_time_zone(self.timezone):
            msg = "customer timezone must be an IANA time zone such as Europe/Paris"
            raise ValueError(msg)
        if not isinstance(self.name, str) or not self.name.strip():
            msg = "customer name is required"
            raise ValueError(msg)
        if self.locale is not None and (not isinstance(self.locale, str) or not self.locale):
            msg = "customer locale must be a language code or None"
            raise ValueError(msg)
        if not isinstance(self.is_business, bool):
            msg = "is_business must be a bool"
            raise TypeError(msg)
        if self.phone is not None and not _E164.fullmatch(self.phone):
            msg = "customer phone must be in E.164 format"
            raise ValueError(msg)
        chat = self.telegram_chat_id
        if chat is not None and (isinstance(chat, bool) or not isinstance(chat, int) or chat < 1):
            msg = "telegram_chat_id must be a positive integer (a private chat)"
            raise ValueError(msg)
        if self.siren is not None:
            validate_siren(self.siren)


@dataclass(frozen=True, slots=True)
class Invoice:
    id: str
    merchant_id: str
    number: str
    status: InvoiceStatus
    currency: str
    lines: tuple[InvoiceLine, ...]
    amount_paid: int
    issue_date: date
    due_date: date
    customer: CustomerSnapshot
    channel: Channel
    pay_token: str
    view_token: str
    seller: SellerSnapshot
    amount_refunded: int = 0  # refunds and lost disputes, each covered by a credit note
    # The merchant's own sender the invoice's conversation goes through (its number, Messaging
    # Service or bot id), fixed at issue; None: the platform's (and every older invoice).
    sender: str | None = None
    # The fast-payment reward this invoice promised at issue (payments.reward), if any.
    reward: RewardOffer | None = None
    totals: Totals = field(init=False)

    def __post_init__(self) -> None:
        if not self.lines:
            msg = "an invoice needs at least one line"
            raise ValueError(msg)
        object.__setattr__(self, "status", InvoiceStatus(self.status))
        object.__setattr__(self, "lines", tuple(self.lines))
        object.__setattr__(self, "totals", compute_totals(self.lines, self.currency))
        parse_invoice_number(self.number)
        _check_invoice(self)

    @property
    def amount_due(self) -> int:
        """What the customer still owes. A refund does not change it: its credit note takes
        the same amount off what was invoiced; so does voiding (the credit note of the rest)."""
        if self.status is InvoiceStatus.VOID:
            return 0
        return self.totals.gross - self.amount_paid

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates ISO, VAT rates as strings, amounts in minor units)."""
        data = {
            "version": 1,
            **{k: getattr(self, k) for k in ("id", "merchant_id", "number", "currency")},
            "status": str(self.status),
            "lines": [_line_to_dict(line) for line in self.lines],
            "totals": _totals_to_dict(self.totals),
            "amount_paid": self.amount_paid,
            "amount_refunded": self.amount_refunded,
            "issue_date": self.issue_date.isoformat(),
            "due_date": self.due_date.isoformat(),
            "customer": {
                **{k: getattr(self.customer, k) for k in _CUSTOMER_KEYS},
                **({"timezone": self.customer.timezone} if self.customer.timezone else {}),
            },
            "channel": self.channel,
            "pay_token": self.pay_token,
            "view_token": self.view_token,
            "seller": self.seller.to_dict(),
        } | ({"sender": self.sender} if self.sender else {})
        if self.reward is not None:  # only when set: older invoices stay byte-identical
            data["reward"] = self.reward.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Invoice:
        """Inverse of `to_dict`; ValueError/TypeError/KeyError on a corrupt record."""
        if data.get("version") != 1:
            msg = f"unsupported invoice record version {data.get('version')!r}"
            raise ValueError(msg)
        invoice = cls(
            **{k: _str(data, k) for k in ("id", "merchant_id", "number", "currency")},
            status=InvoiceStatus(_str(data, "status")),
            lines=tuple(_line_from_dict(d) for d in data["lines"]),
            amount_paid=parse_minor(data["amount_paid"]),
            issue_date=date.fromisoformat(_str(data, "issue_date")),
            due_date=date.fromisoformat(_str(data, "due_date")),
            customer=CustomerSnapshot(
                **{k: data["customer"][k] for k in _CUSTOMER_KEYS},
                timezone=data["customer"].get("timezone"),  # invoices stored before it: None
            ),
            channel=_channel(_str(data, "channel")),
            pay_token=_str(data, "pay_token"),
            view_token=_str(data, "view_token"),
            seller=SellerSnapshot.from_dict(data["seller"]),
            amount_refunded=parse_minor(data.get("amount_refunded", 0)),
            sender=data.get("sender") or None,
            reward=RewardOffer.from_dict(data["reward"]) if data.get("reward") else None,
        )
        if "totals" in data and data["totals"] != _totals_to_dict(invoice.totals):
            msg = f"stored totals of invoice {invoice.id} disagree with its lines"
            raise ValueError(msg)
        return invoice


def _check_invoice(inv: Invoice) -> None:
    problems: list[str] = []
    if not inv.id or not inv.merchant_id:
        problems.append("id and merchant_id are required")
    if inv.channel not in ("sms", "telegram", "whatsapp"):
        problems.append(f"unknown channel {inv.channel!r}")
    if inv.channel == "sms" and not inv.customer.phone:
        problems.append("an SMS invoice needs the customer's phone")
    if inv.channel == "whatsapp" and not inv.customer.phone:
        problems.append("a WhatsApp invoice needs the customer's phone")
    if inv.channel == "telegram" and inv.customer.telegram_chat_id is None:
        problems.append("a Telegram invoice needs the customer's chat id")
    if inv.due_date < inv.issue_date:
        problems.append("due date is before the issue date")
    if not (_TOKEN.fullmatch(inv.pay_token) and _TOKEN.fullmatch(inv.view_token)):
        problems.append("link tokens must be ≥ 128-bit url-safe random strings")
    problems.extend(
        _status_problems(
            inv.status,
            parse_minor(inv.amount_paid),
            parse_minor(inv.amount_refunded),
            inv.totals.gross,
        )
    )
    if problems:
        raise ValueError("; ".join(problems))


def _status_problems(status: InvoiceStatus, paid: int, refunded: int, gross: int) -> list[str]:
    # Each status is tied to the amounts so that a stored invoice cannot say "paid" with money
    # still due, or "open" with money received.
    if not 0 <= refunded <= paid <= gross:
        return [
            f"status {status} is inconsistent with {refunded} refunded of {paid} paid of {gross}"
        ]
    kept = paid - refunded
    ok = {
        InvoiceStatus.OPEN: kept == 0 and paid < gross,
        InvoiceStatus.PROCESSING: kept == 0 and paid < gross,
        InvoiceStatus.PARTIALLY_PAID: kept > 0 and paid < gross,
        InvoiceStatus.PAID: paid == gross and refunded == 0,
        InvoiceStatus.DISPUTED: True,
        InvoiceStatus.PARTIALLY_REFUNDED: paid == gross and 0 < refunded < paid,
        InvoiceStatus.REFUNDED: paid == gross and refunded == paid,
        InvoiceStatus.VOID: paid < gross,  # the rest was cancelled by a credit note
    }[status]
    return [] if ok else [f"status {status} is inconsistent with {paid} paid of {gross}"]


def settled_status(amount_paid: int, gross: int) -> InvoiceStatus:
    """The status that the received amount alone implies (no delayed payment pending)."""
    if amount_paid >= gross:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID if amount_paid > 0 else InvoiceStatus.OPEN


# --- JSON codec helpers -------------------------------------------------------------------

_CUSTOMER_KEYS = ("name", "phone", "telegram_chat_id", "locale", "is_business", "address", "siren")


def is_time_zone(name: object) -> bool:
    """An IANA zone name ("Europe/Paris", "America/Martinique") the system knows."""
    if not isinstance(name, str) or not (name == "UTC" or "/" in name) or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        msg = f"{key} must be a string"
        raise TypeError(msg)
    return value


def _channel(value: str) -> Channel:
    if value == "sms":
        return "sms"
    if value == "telegram":
        return "telegram"
    if value == "whatsapp":
        return "whatsapp"
    msg = f"unknown channel {value!r}"
    raise ValueError(msg)


def _line_to_dict(line: InvoiceLine) -> dict[str, Any]:
    data: dict[str, Any] = {
        "description": line.description,
        "quantity": line.quantity,
        "unit_amount": line.unit_amount,
        "vat_rate": str(line.vat_rate),
    }
    if line.vat_exemption is not None:  # only when set: earlier invoices stay byte-identical
        data["vat_exemption"] = line.vat_exemption
    return data


def _line_from_dict(d: Mapping[str, Any]) -> InvoiceLine:
    return InvoiceLine(
        d["description"],
        d["quantity"],
        d["unit_amount"],
        VatRate.parse(d["vat_rate"]),
        d.get("vat_exemption"),
    )


def _totals_to_dict(t: Totals) -> dict[str, Any]:
    rows = [{"rate": str(r.rate), "base": r.base, "vat": r.vat} for r in t.vat_by_rate]
    return {"net": t.net, "vat_by_rate": rows, "vat": t.vat, "gross": t.gross}


# --- Legal mentions (ids documented on `Mention`) ------------------------------------------

# The rates a French seller charges (CGI art. 278 to 281 nonies; 0 for exempt operations).
FRENCH_VAT_RATES = frozenset(VatRate(Decimal(r)) for r in ("20", "10", "5.5", "2.1", "0"))
# Sole traders have no share capital and may be on no trade register (liberal professions).
INDIVIDUAL_FORMS = frozenset({"EI", "EIRL", "MICRO-ENTREPRISE", "AUTO-ENTREPRENEUR"})
# A VAT number may be left off French operations up to 150 € excl. VAT (LEGAL_FR §1.1).
VAT_NUMBER_THRESHOLD = 15_000


def missing_mentions(
    seller: SellerSnapshot, lines: Sequence[InvoiceLine]
) -> list[tuple[str, str]]:
    """Mandatory mentions an invoice of `seller` with `lines` would lack, as (field, reason).

    Any missing mention blocks issuance (TESTCASES 74: a 15 € fine per omission).
    """
    problems: list[tuple[str, str]] = []
    form = (seller.legal_form or "").strip()
    if not form:
        problems.append(("merchant.legal_form", "the legal form (SAS, SARL, EI...) is missing"))
    elif form.upper() not in INDIVIDUAL_FORMS:
        if seller.share_capital is None:
            problems.append(("merchant.share_capital", f"a {form} must state its share capital"))
        if not seller.rcs_city:
            problems.append(
                ("merchant.rcs_city", f"a {form} must state its registry and city (RCS Paris)")
            )
    charges_vat = any(line.vat_rate.percent > 0 for line in lines)
    net = sum(line.net for line in lines)
    if charges_vat and seller.vat_number is None and net > VAT_NUMBER_THRESHOLD:
        problems.append(("merchant.vat_number", "VAT is charged above 150 €: the VAT number"))
    for index, line in enumerate(lines):
        if line.vat_rate not in FRENCH_VAT_RATES and not (line.vat_exemption or "").strip():
            problems.append(
                (
                    f"lines.{index}.vat_rate",
                    f"{line.vat_rate}% is not a French VAT rate (20, 10, 5.5, 2.1, 0): "
                    "say why in vat_exemption",
                )
            )
    return problems


RECOVERY_INDEMNITY = Money(4000, "EUR")


def legal_mentions(
    seller: SellerSnapshot,
    customer_is_business: bool,
    lines: Sequence[InvoiceLine],
    reward: RewardOffer | None = None,
) -> list[Mention]:
    """The mentions to print for `seller`, in display order (LEGAL_FR §1.1, §1.4).

    With a fast-payment `reward`, "no discount for early payment" stays true (the reward is on
    a future purchase) and a mention right after it says so (payments.reward)."""
    mentions = seller_mentions(seller)
    # Franchise en base (art. 293 B): no VAT charged and no VAT number to charge it under.
    if seller.vat_number is None and all(line.vat_rate.percent == 0 for line in lines):
        mentions.append(Mention("vat_franchise"))
    mentions.append(Mention("no_early_payment_discount"))
    if reward is not None:
        mentions.append(Mention("fast_payment_reward", {"hours": str(reward.within_hours)}))
    if customer_is_business:
        if seller.late_penalty_rate is None:
            mentions.append(Mention("late_penalty_legal_rate"))
        else:
            mentions.append(Mention("late_penalty_rate", {"rate": seller.late_penalty_rate}))
        mentions.append(Mention("recovery_indemnity", {"amount": RECOVERY_INDEMNITY}))
    return mentions
