"""What the accounting export reads: a merchant's invoices, credit notes and payments.

Invoices are indexed by issue time; credit notes and payments are found through their invoice
(a refund in March of a January invoice is March's), so every invoice issued up to the end of
the period is read, 500 at a time in one round trip each. That is O(invoices ever issued up to
`end`) per export: fine for the merchants Facto serves, and a period index is the cure if not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from bot.store import keys
from payments.accounting import Payment, Row, credit_note_rows, invoice_rows, payment_row
from payments.credit_note import CreditNote
from payments.invoice import Invoice
from payments.ledger import PaymentRecord

CHUNK = 500
MAX_DAYS = 366  # one export covers at most a year (a fiscal year may be 12 months + a few days)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date  # inclusive

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def parse_period(start: str | None, end: str | None) -> Period:
    """`from` and `to` as ISO dates, both included; ValueError naming what is wrong."""
    if not start or not end:
        msg = "'from' and 'to' are required, as dates: from=2026-01-01&to=2026-01-31"
        raise ValueError(msg)
    try:
        period = Period(date.fromisoformat(start), date.fromisoformat(end))
    except ValueError:
        msg = "'from' and 'to' must be dates in the form YYYY-MM-DD"
        raise ValueError(msg) from None
    if period.end < period.start:
        msg = "'to' is before 'from'"
        raise ValueError(msg)
    if (period.end - period.start).days >= MAX_DAYS:
        msg = f"a period covers at most {MAX_DAYS} days"
        raise ValueError(msg)
    return period


async def accounting_rows(
    redis: aioredis.Redis, merchant_id: str, period: Period, zone: ZoneInfo
) -> list[Row]:
    until = datetime.combine(period.end + timedelta(days=1), time(), tzinfo=zone).timestamp()
    ids: list[str] = await redis.zrangebyscore(
        keys.merchant_invoices(merchant_id), "-inf", f"({until}"
    )
    rows: list[Row] = []
    for offset in range(0, len(ids), CHUNK):
        rows += await _chunk(redis, merchant_id, ids[offset : offset + CHUNK], period, zone)
    return rows


async def _chunk(
    redis: aioredis.Redis, merchant_id: str, ids: list[str], period: Period, zone: ZoneInfo
) -> list[Row]:
    async with redis.pipeline(transaction=False) as pipe:
        for invoice_id in ids:
            pipe.get(keys.invoice(merchant_id, invoice_id))
            pipe.hgetall(keys.invoice_payments(merchant_id, invoice_id))
            pipe.lrange(keys.invoice_credit_notes(merchant_id, invoice_id), 0, -1)
        answers = await pipe.execute()
    rows: list[Row] = []
    note_ids: list[str] = []
    for index in range(0, len(answers), 3):
        raw, records, notes = answers[index : index + 3]
        if raw is None:
            continue
        invoice = Invoice.from_dict(json.loads(raw))
        if invoice.issue_date in period:
            rows += invoice_rows(invoice)
        rows += _payments(invoice, records.values(), period, zone)
        note_ids += notes
    if note_ids:
        async with redis.pipeline(transaction=False) as pipe:
            for note_id in note_ids:
                pipe.get(keys.credit_note(merchant_id, note_id))
            for raw_note in await pipe.execute():
                if raw_note is None:
                    continue
                note = CreditNote.from_dict(json.loads(raw_note))
                if note.issue_date in period:
                    rows += credit_note_rows(note)
    return rows


def _payments(invoice: Invoice, records: object, period: Period, zone: ZoneInfo) -> list[Row]:
    rows = []
    for raw in records:  # type: ignore[attr-defined]
        record = PaymentRecord.loads(raw)
        if not record.credited or not record.received_at:
            continue  # not counted (under review): not the invoice's money yet
        day = datetime.fromisoformat(record.received_at).astimezone(zone).date()
        if day in period:
            reference = record.payment_intent or record.session_id
            rows.append(payment_row(Payment(invoice, day, record.credited, reference)))
    return rows
