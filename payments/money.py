"""Money as an integer number of minor units plus an ISO 4217 currency; never floats.

The number of minor units per major unit (the currency exponent) comes from babel's CLDR data:
EUR 2, JPY 0, KWD 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import NumberPattern, get_currency_precision, get_currency_symbol, is_currency

__all__ = [
    "STRIPE_CURRENCIES",
    "Money",
    "currency_exponent",
    "format_money",
    "normalize_currency",
    "parse_minor",
]


# What an invoice may be issued in: active ISO 4217 money currencies that Stripe accepts for
# payments (docs.stripe.com/currencies). babel also knows fund codes (CHE, USN, BOV…),
# precious metals (XAU, XAG…), the testing code XTS, "no currency" XXX and withdrawn currencies
# (HRK, SLL, STD…): none of those can be charged, so none may be invoiced.
STRIPE_CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL
    GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR ISK JMD JOD JPY KES KGS KHR KMF KRW KWD
    KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD NGN
    NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SEK SGD
    SHP SLE SOS SRD SZL THB TJS TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VND VUV WST XAF
    XCD XOF XPF YER ZAR ZMW
    """.split()  # noqa: SIM905 - a table reads better than 138 quoted strings
)


@lru_cache(maxsize=512)
def _exponent(code: str) -> int:
    # Memoised: babel's `is_currency` rebuilds a 300-element set on every call.
    if not is_currency(code):
        msg = f"unknown ISO 4217 currency: {code!r}"
        raise ValueError(msg)
    return get_currency_precision(code)


def currency_exponent(code: str) -> int:
    """Number of decimal digits of `code` (EUR 2, JPY 0, KWD 3); ValueError if unknown."""
    if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isupper():
        msg = "currency must be a 3-letter uppercase ISO 4217 code"
        raise ValueError(msg)
    return _exponent(code)


def normalize_currency(value: object) -> str:
    """Uppercase a currency code and check it is money Stripe accepts; ValueError otherwise."""
    if not isinstance(value, str):
        msg = "currency must be a string"
        raise ValueError(msg)
    code = value.strip().upper()
    currency_exponent(code)
    if code not in STRIPE_CURRENCIES:
        msg = (
            f"{code} cannot be invoiced: use an ISO 4217 currency that Stripe accepts, "
            "e.g. EUR (no test, fund or metal codes such as XXX, XTS, XAU)"
        )
        raise ValueError(msg)
    return code


def parse_minor(value: object) -> int:
    """Accept only a real `int` as an amount in minor units.

    `bool` is an `int` subclass and `True` would silently mean 1 cent; floats and strings lose or
    hide precision. All three are refused with TypeError.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"amount must be an integer number of minor units, got {type(value).__name__}"
        raise TypeError(msg)
    return value


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents for EUR) of one currency."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        parse_minor(self.amount)
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def from_decimal(cls, value: Decimal, currency: str) -> Money:
        """Exact conversion from major units; ValueError if `value` has too many decimals."""
        minor = value.scaleb(currency_exponent(currency))
        if not minor.is_finite() or minor != minor.to_integral_value():
            msg = f"{value} {currency} is not a whole number of minor units"
            raise ValueError(msg)
        return cls(int(minor), currency)

    def to_decimal(self) -> Decimal:
        """The amount in major units, with exactly the currency's number of decimals."""
        exponent = currency_exponent(self.currency)
        return Decimal(self.amount).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))

    def is_zero(self) -> bool:
        return self.amount == 0

    def _same_currency(self, other: object) -> Money:
        if not isinstance(other, Money):
            msg = f"cannot combine Money with {type(other).__name__}"
            raise TypeError(msg)
        if other.currency != self.currency:
            msg = f"currency mismatch: {self.currency} vs {other.currency}"
            raise ValueError(msg)
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other).amount


@dataclass(frozen=True, slots=True)
class _CurrencyFormat:
    """A locale's currency pattern with the symbol and precision resolved once."""

    locale: Locale
    pattern: NumberPattern
    symbol: str
    code: str

    def apply(self, value: Decimal) -> str:
        # Formatting without `currency=` skips babel's per-call currency *name* lookup (plural
        # rules), which is most of format_currency's cost; the symbol is substituted afterwards.
        text: str = self.pattern.apply(value, self.locale)
        return text.replace("¤¤", self.code).replace("¤", self.symbol)


@lru_cache(maxsize=256)
def _currency_format(locale: str, currency: str) -> _CurrencyFormat:
    # Memoised pure function of CLDR data: broadcasts format thousands of amounts with the same
    # (locale, currency) and babel currency formatting dominates render time (INTEGRATION_NOTES
    # §13).
    try:
        loc = Locale.parse(locale.replace("-", "_"))
    except (ValueError, UnknownLocaleError) as e:
        msg = f"unknown locale: {locale!r}"
        raise ValueError(msg) from e
    base = loc.currency_formats["standard"]
    digits = currency_exponent(currency)
    pattern = NumberPattern(
        base.pattern,
        base.prefix,
        base.suffix,
        base.grouping,
        base.int_prec,
        (digits, digits),
        base.exp_prec,
        base.exp_plus,
        base.number_pattern,
    )
    return _CurrencyFormat(loc, pattern, get_currency_symbol(currency, loc), currency)


def format_money(money: Money, locale: str) -> str:
    """Localised amount, e.g. '1\u202f234,50\xa0€' for fr.

    Output equals `babel.numbers.format_currency`, NBSPs included: the SMS channel normalises
    them, pages keep them.
    """
    return _currency_format(locale, money.currency).apply(money.to_decimal())
