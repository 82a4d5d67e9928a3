"""An invoice read from Redis is parsed once per stored text: never stale, since a changed
invoice is another text."""

from __future__ import annotations

import json
from dataclasses import replace

from bot.store.invoices import invoice_from_json
from payments.invoice import InvoiceStatus
from tests.flows.helpers import _stored_invoice, invoice_facts


def test_the_same_text_is_parsed_once_and_a_changed_invoice_anew() -> None:
    invoice = _stored_invoice(invoice_facts())
    raw = json.dumps(invoice.to_dict())
    first = invoice_from_json(raw)
    assert first == invoice
    again = "".join(list(raw))  # an equal text, another object (`str(raw)` is `raw` itself)
    assert again is not raw
    assert invoice_from_json(again) is first  # an equal text read again: no parse
    paid = replace(invoice, status=InvoiceStatus.PAID, amount_paid=invoice.totals.gross)
    changed = invoice_from_json(json.dumps(paid.to_dict()))
    assert changed.status is InvoiceStatus.PAID
    assert invoice_from_json(raw).status is not InvoiceStatus.PAID
