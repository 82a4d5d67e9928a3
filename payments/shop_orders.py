"""Shop orders read into invoice lines: Shopify `orders/create`, WooCommerce `order.created`.

Both shops send amounts as decimal strings ("19.99"); they become minor units with Decimal,
exactly, or the order is refused: a fraction of a cent is never rounded away. Each line's VAT
must be one French rate (FRENCH_VAT_RATES, 0 % aside: a VAT-free sale needs its exemption
mention, which a shop does not send). A shop whose prices include VAT (Shopify's
`taxes_included`) gives TTC amounts: the HT of each rate is the one whose TTC is exactly the
shop's (`net_for_gross`), split over the rate's lines. Last check: the invoice's TTC must be the
order's total to the cent, or nothing is issued (the customer would be asked for another sum).

Every refusal is an `OrderRefused` naming the field (dotted path) and why: the webhook answers
422 with it, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from payments.invoice import FRENCH_VAT_RATES, InvoiceLine, VatRate, compute_totals, net_for_gross
from payments.money import currency_exponent, normalize_currency

Platform = Literal["shopify", "woocommerce"]
_AMOUNT = re.compile(r"-?\d{1,12}(\.\d{1,12})?")
MAX_LINES = 100  # the invoice API's own limit
_DESCRIPTION_MAX = 500
# Shopify's financial_status of an order Facto invoices: awaiting payment (an open invoice), or
# paid in the shop (issued paid). None: an order without it, read as awaiting payment.
_SHOPIFY_INVOICED = (None, "pending", "paid")
# WooCommerce's order status: awaiting payment (`pending`, `on-hold` for a transfer or a
# cheque) or paid (`processing`, `completed`). Cancelled, refunded, failed or draft orders are
# not asked for. None: an order without it, read as awaiting payment.
_WOO_INVOICED = (None, "pending", "on-hold", "processing", "completed")
_WOO_PAID = ("processing", "completed")
# WooCommerce's groups of lines and the field that names each line: products, then extras.
_WOO_LINE_GROUPS = (
    ("line_items", "name"),
    ("shipping_lines", "method_title"),
    ("fee_lines", "name"),
)


class OrderRefused(ValueError):
    """The order cannot become an invoice: `field` (dotted path) and `reason`."""

    def __init__(self, field: str, reason: str, code: str = "invalid_order") -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.code = code


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """What Facto needs of a shop's order, amounts in minor units."""

    platform: Platform
    order_id: str  # the shop's id: the invoice's idempotency key
    name: str  # what the shop shows ("#1001")
    currency: str
    customer_name: str
    phone: str | None  # as the shop has it; normalised to E.164 later, with `country`
    country: str | None
    locale: str | None
    lines: tuple[InvoiceLine, ...]
    total: int
    paid: bool
    # False when the shop holds or gave back its money (Shopify `authorized`, `partially_paid`,
    # `refunded`, `voided`...): an open invoice would ask the customer to pay it again.
    payable: bool = True


@dataclass(frozen=True, slots=True)
class _Raw:
    """A line before VAT is settled: the shop's amount for all units (HT or TTC)."""

    field: str
    description: str
    quantity: int
    amount: int
    rate: VatRate


def parse_shopify_order(payload: object) -> ShopOrder:
    order = _object(payload, "body")
    currency = _currency(order.get("currency"), "currency")

    def item_amount(line: Mapping[str, Any], where: str, quantity: int) -> int:
        price = _minor(line.get("price"), f"{where}.price", currency)
        return price * quantity - _shopify_discount(line, where, currency)

    def shipping_amount(line: Mapping[str, Any], where: str, _quantity: int) -> int:
        price_field = "discounted_price" if "discounted_price" in line else "price"
        return _minor(line.get(price_field), f"{where}.{price_field}", currency)

    raw = _line_group(
        order,
        "line_items",
        amount=item_amount,
        described_by=("name", "title"),
        rate=_shopify_line_rate,
        counted=True,
    )
    raw += _line_group(
        order,
        "shipping_lines",
        amount=shipping_amount,
        described_by=("title",),
        rate=_shopify_line_rate,
    )
    included = order.get("taxes_included", False)
    if not isinstance(included, bool):
        raise OrderRefused("taxes_included", "must be true or false")
    billing = _optional_object(order.get("billing_address"), "billing_address")
    shipping_address = _optional_object(order.get("shipping_address"), "shipping_address")
    customer = _optional_object(order.get("customer"), "customer")
    phone = _first_text(
        order.get("phone"),
        customer.get("phone"),
        billing.get("phone"),
        shipping_address.get("phone"),
    )
    country = _first_text(billing.get("country_code"), shipping_address.get("country_code"))
    name = _first_text(
        billing.get("name"),
        _joined(billing.get("first_name"), billing.get("last_name")),
        _joined(customer.get("first_name"), customer.get("last_name")),
        billing.get("company"),
    )
    return _order(
        "shopify",
        order,
        currency=currency,
        raw=raw,
        included=included,
        total=_minor(order.get("total_price"), "total_price", currency),
        name=name,
        phone=phone,
        country=country,
        locale=_first_text(order.get("customer_locale")),
        paid=order.get("financial_status") == "paid",
        payable=order.get("financial_status") in _SHOPIFY_INVOICED,
    )


def parse_woocommerce_order(payload: object) -> ShopOrder:
    order = _object(payload, "body")
    currency = _currency(order.get("currency"), "currency")
    rates = _woo_rates(order.get("tax_lines") or [])

    def amount(line: Mapping[str, Any], where: str, _quantity: int) -> int:
        # `total`: all the line's units after coupons, without VAT, whatever the shop shows.
        return _minor(line.get("total"), f"{where}.total", currency)

    def rate(line: Mapping[str, Any], where: str) -> VatRate:
        return _woo_rate(line, where, rates)

    raw: list[_Raw] = []
    for group, title in _WOO_LINE_GROUPS:
        counted = group == "line_items"
        raw += _line_group(
            order, group, amount=amount, described_by=(title,), rate=rate, counted=counted
        )
    billing = _optional_object(order.get("billing"), "billing")
    shipping = _optional_object(order.get("shipping"), "shipping")
    name = _first_text(
        _joined(billing.get("first_name"), billing.get("last_name")),
        billing.get("company"),
        _joined(shipping.get("first_name"), shipping.get("last_name")),
    )
    return _order(
        "woocommerce",
        order,
        currency=currency,
        raw=raw,
        included=False,
        total=_minor(order.get("total"), "total", currency),
        name=name,
        phone=_first_text(billing.get("phone"), shipping.get("phone")),
        country=_first_text(billing.get("country"), shipping.get("country")),
        locale=None,
        paid=bool(order.get("date_paid")) or order.get("status") in _WOO_PAID,
        payable=order.get("status") in _WOO_INVOICED,
    )


def _line_group(
    order: Mapping[str, Any],
    group: str,
    *,
    amount: Callable[[Mapping[str, Any], str, int], int],
    described_by: tuple[str, ...],
    rate: Callable[[Mapping[str, Any], str], VatRate],
    counted: bool = False,
) -> list[_Raw]:
    """One group of an order's lines, read the shop's way: `amount` (all units, in minor
    units) and `rate` of each line, called with the line and its dotted path, and its text from
    the first of the `described_by` fields that has one. `counted`: the products, at least one,
    each with its quantity, kept even when free (their VAT still checked); otherwise shipping
    or fees, one unit each, and a free one is left out before its VAT is asked for."""
    value = order.get(group)
    entries = _list(value if counted else value or [], group)
    if counted and not entries:
        raise OrderRefused(group, "the order has no line")
    raw: list[_Raw] = []
    for i, entry in enumerate(entries):
        where = f"{group}.{i}"
        line = _object(entry, where)
        quantity = _quantity(line.get("quantity"), f"{where}.quantity") if counted else 1
        total = amount(line, where, quantity)
        if total == 0 and not counted:
            continue
        named = next((line.get(name) for name in described_by if line.get(name)), None)
        text = _text(named, f"{where}.{described_by[-1]}")
        raw.append(_Raw(where, text, quantity, total, rate(line, where)))
    return raw


def _shopify_line_rate(line: Mapping[str, Any], where: str) -> VatRate:
    return _shopify_rate(line.get("tax_lines"), f"{where}.tax_lines")


def _order(
    platform: Platform,
    order: Mapping[str, Any],
    *,
    currency: str,
    raw: list[_Raw],
    included: bool,
    total: int,
    name: str | None,
    phone: str | None,
    country: str | None,
    locale: str | None,
    paid: bool,
    payable: bool = True,
) -> ShopOrder:
    order_id = order.get("id")
    if isinstance(order_id, bool) or not isinstance(order_id, int | str) or not str(order_id):
        raise OrderRefused("id", "must be the order's id (a number or a string)")
    if len(str(order_id)) > 64:
        raise OrderRefused("id", "must be at most 64 characters")
    if name is None:
        raise OrderRefused("billing", "the order names no customer (billing name or company)")
    if len(raw) > MAX_LINES:
        raise OrderRefused("line_items", f"at most {MAX_LINES} lines can be invoiced")
    lines = _lines_from_ttc(raw) if included else _lines_from_ht(raw)
    gross = compute_totals(lines, currency).gross
    if gross != total:
        raise OrderRefused(
            "total",
            f"the order's total is {total} but its lines give {gross} (minor units) once VAT "
            "is rounded per rate as on a French invoice: not invoiced",
            "total_mismatch",
        )
    shown = order.get("name") or order.get("number") or order_id
    return ShopOrder(
        platform=platform,
        order_id=str(order_id),
        name=str(shown)[:64],
        currency=currency,
        customer_name=name[:200],
        phone=phone,
        country=country.upper() if country else None,
        locale=_locale(locale),
        lines=lines,
        total=total,
        paid=paid,
        payable=payable,
    )


def _lines_from_ht(raw: Sequence[_Raw]) -> tuple[InvoiceLine, ...]:
    return tuple(_line(item, item.amount) for item in raw if item.amount != 0)


def _lines_from_ttc(raw: Sequence[_Raw]) -> tuple[InvoiceLine, ...]:
    """Each rate's HT is the one whose TTC is exactly the shop's, split over its lines in
    proportion (the last line takes the remainder), so the invoice's TTC is the order's."""
    nets: dict[int, int] = {}
    for rate in dict.fromkeys(item.rate for item in raw):
        group = [(i, item) for i, item in enumerate(raw) if item.rate == rate and item.amount]
        gross = sum(item.amount for _, item in group)
        if gross == 0:
            continue
        net = net_for_gross(gross, rate)
        if net is None:
            raise OrderRefused(
                group[-1][1].field,
                f"{gross} TTC at {rate} % has no exact HT amount (VAT is rounded to the cent): "
                "not invoiced",
                "no_exact_net",
            )
        left = net
        for position, (i, item) in enumerate(group):
            # At least a cent each: a 0.01 TTC line still has an HT to print.
            share = left if position == len(group) - 1 else max(1, item.amount * net // gross)
            if share <= 0:
                raise OrderRefused(
                    item.field,
                    f"the HT of {gross} TTC at {rate} % cannot be split over its lines "
                    "without a line at zero: not invoiced",
                    "no_exact_net",
                )
            nets[i] = share
            left -= share
    return tuple(_line(item, nets[i]) for i, item in enumerate(raw) if i in nets)


def _line(item: _Raw, net: int) -> InvoiceLine:
    if net <= 0:
        raise OrderRefused(item.field, "a line's amount must be above zero once discounted")
    if net % item.quantity == 0:
        return InvoiceLine(item.description, item.quantity, net // item.quantity, item.rate)
    # A unit price that is not a whole number of cents: one line for all units, saying so.
    description = f"{item.quantity} × {item.description}"[:_DESCRIPTION_MAX]
    return InvoiceLine(description, 1, net, item.rate)


def _shopify_discount(line: Mapping[str, Any], where: str, currency: str) -> int:
    allocations = line.get("discount_allocations")
    if allocations:
        total = 0
        for i, allocation in enumerate(_list(allocations, f"{where}.discount_allocations")):
            entry = _object(allocation, f"{where}.discount_allocations.{i}")
            total += _minor(
                entry.get("amount"), f"{where}.discount_allocations.{i}.amount", currency
            )
        return total
    if line.get("total_discount") is None:
        return 0
    return _minor(line.get("total_discount"), f"{where}.total_discount", currency)


def _shopify_rate(value: object, where: str) -> VatRate:
    taxes = [t for t in _list(value or [], where) if _object(t, where).get("rate") not in (0, "0")]
    if not taxes:
        raise _no_vat(where)
    if len(taxes) > 1:
        raise OrderRefused(where, "several taxes on one line: not a French VAT", "not_french_vat")
    return _french_rate(_object(taxes[0], f"{where}.0").get("rate"), f"{where}.0.rate", 100)


def _woo_rates(value: object) -> dict[int, object]:
    rates: dict[int, object] = {}
    for i, entry in enumerate(_list(value, "tax_lines")):
        tax = _object(entry, f"tax_lines.{i}")
        rate_id = tax.get("rate_id")
        if isinstance(rate_id, bool) or not isinstance(rate_id, int):
            raise OrderRefused(f"tax_lines.{i}.rate_id", "must be an integer")
        if tax.get("compound"):
            raise OrderRefused(f"tax_lines.{i}", "a compound tax is not a French VAT")
        if "rate_percent" not in tax:
            raise OrderRefused(
                f"tax_lines.{i}.rate_percent",
                "is required (WooCommerce 5.7 or later sends it)",
            )
        rates[rate_id] = tax["rate_percent"]
    return rates


def _woo_rate(line: Mapping[str, Any], where: str, rates: Mapping[int, object]) -> VatRate:
    taxes = []
    for i, entry in enumerate(_list(line.get("taxes") or [], f"{where}.taxes")):
        tax = _object(entry, f"{where}.taxes.{i}")
        if tax.get("total") in ("", "0", "0.00", None, 0):
            continue  # Woo lists every rate of the class, charged or not
        taxes.append((i, tax))
    if not taxes:
        raise _no_vat(f"{where}.taxes")
    if len(taxes) > 1:
        raise OrderRefused(
            f"{where}.taxes", "several taxes on one line: not a French VAT", "not_french_vat"
        )
    i, tax = taxes[0]
    rate_id = tax.get("id")
    if isinstance(rate_id, bool) or not isinstance(rate_id, int) or rate_id not in rates:
        raise OrderRefused(f"{where}.taxes.{i}.id", "names no rate of the order's tax_lines")
    return _french_rate(rates[rate_id], f"{where}.taxes.{i}", 1)


def _no_vat(where: str) -> OrderRefused:
    return OrderRefused(
        where,
        "no VAT on this line: a VAT-free sale needs its exemption mention, which the shop "
        "does not send; issue that invoice through the API with vat_exemption",
        "no_vat",
    )


def _french_rate(value: object, where: str, scale: int) -> VatRate:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OrderRefused(where, "must be a number")
    try:
        percent = (Decimal(str(value)) * scale).normalize()
    except ArithmeticError as e:  # InvalidOperation, and Overflow ("1e999999999" * 100)
        raise OrderRefused(where, "must be a number") from e
    if not percent.is_finite():
        raise OrderRefused(where, "must be a number")
    rates = {rate.percent: rate for rate in FRENCH_VAT_RATES if rate.percent}
    found = rates.get(percent)
    if found is None:
        allowed = ", ".join(sorted((str(r) for r in rates.values()), key=Decimal))
        raise OrderRefused(
            where,
            f"a VAT of {format(percent, 'f')} % is not a French rate ({allowed} %)",
            "not_french_vat",
        )
    return found


def _minor(value: object, where: str, currency: str) -> int:
    if not isinstance(value, str) or not _AMOUNT.fullmatch(value.strip()):
        raise OrderRefused(where, 'must be a decimal string such as "19.99"')
    scaled = Decimal(value.strip()).scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise OrderRefused(where, f"{value} is not a whole number of minor units of {currency}")
    if scaled < 0:
        raise OrderRefused(where, "must not be negative")
    return int(scaled)


def _currency(value: object, where: str) -> str:
    try:
        return normalize_currency(value)
    except ValueError as e:
        raise OrderRefused(where, str(e)) from e


def _quantity(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
        raise OrderRefused(where, "must be an integer from 1 to 1000000")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OrderRefused(where, "must be a non-empty string")
    return value.strip()[:_DESCRIPTION_MAX]


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise OrderRefused(where, "must be a JSON object")
    return value


def _optional_object(value: object, where: str) -> Mapping[str, Any]:
    return {} if value is None else _object(value, where)


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise OrderRefused(where, "must be a JSON array")
    return value


def _first_text(*values: object) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _joined(*parts: object) -> str | None:
    words = [p.strip() for p in parts if isinstance(p, str) and p.strip()]
    return " ".join(words) or None


def _locale(value: str | None) -> str | None:
    language = (value or "").split("-")[0].lower()
    return language if language in ("fr", "en") else None
