"""The shop order parser (payments.shop_orders), by property: any JSON gives an order or an
OrderRefused naming a field, never another exception; an order's amounts become minor units
exactly, and an invoice made from it costs the order's total to the cent or is refused."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.invoice import VatRate, compute_totals
from payments.shop_orders import (
    OrderRefused,
    ShopOrder,
    parse_shopify_order,
    parse_woocommerce_order,
)
from sandbox.shops import shopify_order, woocommerce_order

RATES = {"20": 0.2, "10": 0.1, "5.5": 0.055, "2.1": 0.021}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def _money(cents: int) -> str:
    return f"{Decimal(cents) / 100:.2f}"


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_any_json_is_an_order_or_a_refusal_naming_a_field(payload: Any) -> None:
    for parse in (parse_shopify_order, parse_woocommerce_order):
        try:
            parse(payload)
        except OrderRefused as refused:
            assert refused.field and refused.reason


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutating_a_real_order_never_escapes_the_refusal(data: st.DataObject) -> None:
    """Real orders with one field replaced by anything: still an order or a precise refusal."""
    for order, parse in (
        (shopify_order(), parse_shopify_order),
        (woocommerce_order(), parse_woocommerce_order),
    ):
        target: Any = order
        path = data.draw(st.lists(st.integers(0, 20), min_size=1, max_size=3))
        for step in path[:-1]:
            children = list(target.values()) if isinstance(target, dict) else target
            if not isinstance(children, list) or not children:
                break
            nxt = children[step % len(children)]
            if not isinstance(nxt, dict | list) or not nxt:
                break
            target = nxt
        if isinstance(target, dict) and target:
            key = list(target)[path[-1] % len(target)]
            target[key] = data.draw(json_values)
        try:
            parse(order)
        except OrderRefused as refused:
            assert refused.field


shopify_lines = st.lists(
    st.tuples(st.integers(1, 50_000), st.integers(1, 5), st.sampled_from(sorted(RATES))),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(shopify_lines)
def test_a_vat_included_order_costs_its_total_or_is_refused(
    lines: list[tuple[int, int, str]],
) -> None:
    order = shopify_order()
    order["shipping_lines"] = []
    order["line_items"] = [
        {
            "name": f"Article {i}",
            "quantity": quantity,
            "price": _money(price),
            "discount_allocations": [],
            "tax_lines": [{"title": "TVA", "price": "0.00", "rate": RATES[rate]}],
        }
        for i, (price, quantity, rate) in enumerate(lines)
    ]
    total = sum(price * quantity for price, quantity, _ in lines)
    order["total_price"] = _money(total)
    try:
        parsed = parse_shopify_order(order)
    except OrderRefused as refused:
        # Only a TTC with no exact HT at its rate may be refused (VAT rounds to the cent).
        assert refused.code == "no_exact_net"
        return
    assert compute_totals(parsed.lines, "EUR").gross == total == parsed.total
    by_rate: dict[str, int] = {}
    for line in parsed.lines:
        assert line.unit_amount > 0
        by_rate[str(line.vat_rate)] = by_rate.get(str(line.vat_rate), 0) + line.net
    assert set(by_rate) == {rate for *_, rate in lines}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 90_000), st.integers(1, 4), st.sampled_from(["20", "5.5"])),
        min_size=1,
        max_size=8,
    ),
    st.integers(-1, 1),
)
def test_a_vat_excluded_order_is_taken_to_the_cent(
    lines: list[tuple[int, int, str]], off_by: int
) -> None:
    order = woocommerce_order()
    order["shipping_lines"] = []
    ids = {"20": 1, "5.5": 2}
    order["line_items"] = [
        {
            "name": f"Article {i}",
            "quantity": quantity,
            "total": _money(net),
            "taxes": [{"id": ids[rate], "total": "1.00"}],
        }
        for i, (net, quantity, rate) in enumerate(lines)
    ]
    bases: dict[str, int] = {}
    for net, _, rate in lines:
        bases[rate] = bases.get(rate, 0) + net
    vat = sum(
        int((Decimal(base) * Decimal(rate) / 100).quantize(Decimal(1), "ROUND_HALF_UP"))
        for rate, base in bases.items()
    )
    expected = sum(bases.values()) + vat
    order["total"] = _money(expected + off_by)
    if off_by:
        with pytest.raises(OrderRefused) as refused:
            parse_woocommerce_order(order)
        assert refused.value.code == "total_mismatch"
        return
    parsed = parse_woocommerce_order(order)
    assert compute_totals(parsed.lines, "EUR").gross == expected
    # Each line keeps its exact HT: per unit when it divides, else one line for all units.
    for line, (net, quantity, rate) in zip(parsed.lines, lines, strict=True):
        assert line.net == net and line.vat_rate == VatRate.parse(rate)
        assert line.quantity in (quantity, 1)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("19.999", "whole number of minor units"),
        ("1e3", "decimal string"),
        ("-1.00", "negative"),
        ("NaN", "decimal string"),
    ],
)
def test_amounts_are_exact_decimal_strings(amount: str, reason: str) -> None:
    order = shopify_order()
    order["line_items"][0]["price"] = amount
    with pytest.raises(OrderRefused) as refused:
        parse_shopify_order(order)
    assert refused.value.field == "line_items.0.price"
    assert reason in refused.value.reason


def test_a_float_amount_is_refused_not_rounded() -> None:
    order = woocommerce_order()
    order["line_items"][0]["total"] = 30.0
    with pytest.raises(OrderRefused, match="decimal string"):
        parse_woocommerce_order(order)


def test_both_shops_read_their_lines_by_the_same_rules() -> None:
    """One loop reads every group of lines (payments.shop_orders._line_group): products need
    one line at least and keep their quantity; a free shipping or fee line is left out before
    its VAT is asked for; a line's text is the shop's own field, named in a refusal."""
    shopify, woo = shopify_order(), woocommerce_order()
    shopify["shipping_lines"] = [{"title": "Retrait", "price": "0.00", "tax_lines": []}]
    shopify["total_price"] = "80.00"
    shopify["line_items"][0].pop("name")  # the title stands in for a missing name
    woo["fee_lines"] = [{"name": "Offert", "total": "0.00", "taxes": []}]
    parsed = parse_shopify_order(shopify)
    assert [line.description for line in parsed.lines][:1] == ["Lampe de bureau"]
    assert len(parsed.lines) == 2  # the free pick-up is not a line
    assert len(parse_woocommerce_order(woo).lines) == 3  # two products and the delivery
    refusals: tuple[tuple[Callable[[object], ShopOrder], dict[str, Any], str, str], ...] = (
        (parse_shopify_order, {"line_items": []}, "line_items", "the order has no line"),
        (parse_woocommerce_order, {"line_items": []}, "line_items", "the order has no line"),
        (parse_woocommerce_order, {"fee_lines": [{"total": "1.00"}]}, "fee_lines.0.name", ""),
        (
            parse_shopify_order,
            {"shipping_lines": [{"price": "1.00"}]},
            "shipping_lines.0.title",
            "",
        ),
    )
    for parse, change, field, reason in refusals:
        base = shopify_order() if parse is parse_shopify_order else woocommerce_order()
        with pytest.raises(OrderRefused) as refused:
            parse({**base, **change})
        assert refused.value.field == field
        assert refused.value.reason.startswith(reason)
