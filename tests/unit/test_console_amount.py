"""The console's amount field: any text is an amount in minor units or a precise 400."""

from __future__ import annotations

import pytest
from aiohttp import web
from hypothesis import example, given
from hypothesis import strategies as st

from bot.web.console import _minor, _payment_params

AMOUNT_LIKE = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[-+]?[0-9]{0,20}([.,][0-9]{0,6})?([eE][-+]?[0-9]{1,12})?", fullmatch=True),
    st.sampled_from(["NaN", "sNaN", "-sNaN", "Infinity", "-inf", "1e999999999", "1E-999999999"]),
)


@given(text=AMOUNT_LIKE, currency=st.sampled_from(["EUR", "JPY", "KWD"]))
@example(text="sNaN", currency="EUR")
@example(text="1e999999999", currency="EUR")
@example(text="1e-999999999", currency="JPY")
def test_an_amount_field_is_minor_units_or_a_400(text: str, currency: str) -> None:
    form = {"amount": text, "method": "cash", "reference": "x"}
    for op in ("offline_payment", "credit_note"):
        try:
            params = _payment_params(op, form, currency)
        except web.HTTPBadRequest as refused:
            assert refused.text == "amount: an amount such as 40.00"
        else:
            assert isinstance(params["amount"], int) and params["amount"] > 0


@pytest.mark.parametrize(
    ("text", "currency", "minor"), [("40", "EUR", 4000), ("40,5", "EUR", 4050), ("40", "JPY", 40)]
)
def test_ordinary_amounts_are_read(text: str, currency: str, minor: int) -> None:
    assert _minor(text, currency) == minor


@pytest.mark.parametrize("text", ["sNaN", "NaN", "Infinity", "1e999999999", "0", "-1", "0.001"])
def test_what_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        _minor(text, "EUR")
