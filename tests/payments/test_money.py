from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.money import Money, currency_exponent, format_money, normalize_currency, parse_minor

amounts = st.integers(min_value=-(10**15), max_value=10**15)
currencies = st.sampled_from(["EUR", "JPY", "KWD", "USD", "CHF", "GBP"])


@pytest.mark.parametrize(("code", "exponent"), [("EUR", 2), ("JPY", 0), ("KWD", 3), ("USD", 2)])
def test_currency_exponent_comes_from_babel(code: str, exponent: int) -> None:
    assert currency_exponent(code) == exponent


@pytest.mark.parametrize("code", ["ABC", "eur", "EURO", "", "E1R", None, 978])
def test_unknown_or_malformed_currency_is_refused(code: object) -> None:
    with pytest.raises(ValueError):
        currency_exponent(code)  # type: ignore[arg-type]


def test_normalize_currency_uppercases() -> None:
    assert normalize_currency(" eur ") == "EUR"
    with pytest.raises(ValueError):
        normalize_currency("zzz")


@pytest.mark.parametrize(
    "code", ["XXX", "XTS", "XAU", "XAG", "XPT", "XDR", "XBA", "CHE", "USN", "BOV", "HRK", "STD"]
)
def test_only_money_that_stripe_accepts_can_be_invoiced(code: str) -> None:
    """Issue 6 §3: test, fund, metal and withdrawn codes are known to babel, not chargeable."""
    currency_exponent(code)  # babel knows it…
    with pytest.raises(ValueError, match="cannot be invoiced"):
        normalize_currency(code)  # …but it is not money a customer can pay


@pytest.mark.parametrize("code", ["EUR", "jpy", "KWD", "XOF", "XPF", "GBP", "CHF", "USD"])
def test_real_currencies_are_accepted(code: str) -> None:
    assert normalize_currency(code) == code.upper()


@pytest.mark.parametrize("value", [True, False, 1.0, "100", Decimal(1), None])
def test_parse_minor_accepts_only_int(value: object) -> None:
    with pytest.raises(TypeError):
        parse_minor(value)


def test_money_rejects_float_bool_and_unknown_currency() -> None:
    with pytest.raises(TypeError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "EUR")
    with pytest.raises(ValueError):
        Money(1, "XYZ")


@given(amounts, amounts, currencies)
def test_addition_and_subtraction_are_exact(a: int, b: int, cur: str) -> None:
    assert Money(a, cur) + Money(b, cur) == Money(a + b, cur)
    assert (Money(a, cur) + Money(b, cur)) - Money(b, cur) == Money(a, cur)
    assert -Money(a, cur) == Money(-a, cur)


@given(amounts, amounts, currencies)
def test_comparisons_follow_amounts(a: int, b: int, cur: str) -> None:
    x, y = Money(a, cur), Money(b, cur)
    assert (x < y) == (a < b)
    assert (x <= y) == (a <= b)
    assert (x > y) == (a > b)
    assert (x >= y) == (a >= b)


def test_mixing_currencies_raises() -> None:
    eur, usd = Money(100, "EUR"), Money(100, "USD")
    for op in (
        lambda: eur + usd,
        lambda: eur - usd,
        lambda: eur < usd,
        lambda: eur <= usd,
        lambda: eur > usd,
        lambda: eur >= usd,
    ):
        with pytest.raises(ValueError, match="currency mismatch"):
            op()
    assert eur != usd  # equality is defined: different currencies are simply different


def test_is_zero_and_zero() -> None:
    assert Money.zero("JPY").is_zero()
    assert not Money(1, "JPY").is_zero()


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (Money(7550, "EUR"), Decimal("75.50")),
        (Money(1000, "JPY"), Decimal(1000)),
        (Money(1234, "KWD"), Decimal("1.234")),
        (Money(-5, "EUR"), Decimal("-0.05")),
    ],
)
def test_to_decimal(money: Money, expected: Decimal) -> None:
    assert money.to_decimal() == expected
    assert str(money.to_decimal()) == str(expected)


@given(amounts, currencies)
def test_from_decimal_round_trips(a: int, cur: str) -> None:
    money = Money(a, cur)
    assert Money.from_decimal(money.to_decimal(), cur) == money


def test_from_decimal_refuses_sub_minor_precision() -> None:
    with pytest.raises(ValueError):
        Money.from_decimal(Decimal("1.005"), "EUR")
    with pytest.raises(ValueError):
        Money.from_decimal(Decimal("1.5"), "JPY")


@pytest.mark.parametrize(
    ("money", "locale", "expected"),
    [
        (Money(7550, "EUR"), "fr", "75,50\xa0€"),
        (Money(123450, "EUR"), "fr_FR", "1\u202f234,50\xa0€"),
        (Money(7550, "EUR"), "en", "€75.50"),
        (Money(7550, "USD"), "fr", "75,50\xa0$US"),
        (Money(1000, "JPY"), "en", "¥1,000"),
        (Money(1234, "KWD"), "en", "KWD1.234"),
        (Money(-500, "EUR"), "fr", "-5,00\xa0€"),
    ],
)
def test_format_money_keeps_babel_output(money: Money, locale: str, expected: str) -> None:
    assert format_money(money, locale) == expected


@settings(deadline=None)  # the first call per locale loads CLDR data
@given(amounts, currencies, st.sampled_from(["fr", "fr_FR", "en", "en_GB", "de_CH", "ar_EG"]))
def test_format_money_equals_babel_format_currency(a: int, cur: str, locale: str) -> None:
    money = Money(a, cur)
    assert format_money(money, locale) == format_currency(money.to_decimal(), cur, locale=locale)


def test_format_money_accepts_dash_locales_and_refuses_unknown() -> None:
    assert format_money(Money(100, "EUR"), "fr-FR") == "1,00\xa0€"
    with pytest.raises(ValueError):
        format_money(Money(100, "EUR"), "xx_YY")
