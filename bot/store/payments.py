"""What was applied per payment, where a PaymentIntent belongs, and credit notes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.invoices import hash_link_token
from payments.credit_note import CREDIT_NOTE_PREFIX, CreditNote
from payments.ledger import PaymentRecord

_NUMBER_PLACEHOLDER = "@@FACTO-CREDIT-NOTE-NUMBER@@"

# One credit note per refund or dispute, numbered in the same step as it is stored: a crash
# cannot leave a gap in the series nor a note without its number (LEGAL_FR §1.2).
_ISSUE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[2])
local number = string.format('%s-%04d-%06d', ARGV[2], tonumber(ARGV[3]), seq)
local body = string.gsub(ARGV[1], ARGV[4], number, 1)
redis.call('SET', KEYS[3], body)
redis.call('RPUSH', KEYS[4], ARGV[5])
redis.call('SET', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True, slots=True)
class IntentLocation:
    merchant_id: str
    invoice_id: str
    session_id: str


async def load_records(
    redis: aioredis.Redis, merchant_id: str, invoice_id: str
) -> dict[str, PaymentRecord]:
    raw = await redis.hgetall(keys.invoice_payments(merchant_id, invoice_id))
    return {session: PaymentRecord.loads(value) for session, value in raw.items()}


def save_record(
    pipe: aioredis.client.Pipeline, merchant_id: str, invoice_id: str, record: PaymentRecord
) -> None:
    pipe.hset(keys.invoice_payments(merchant_id, invoice_id), record.session_id, record.dumps())


def save_intent_location(
    pipe: aioredis.client.Pipeline | aioredis.Redis,
    payment_intent: str,
    location: IntentLocation,
) -> Any:
    """On a MULTI pipeline (dispatch), or directly (routing: awaited by the caller)."""
    return pipe.set(
        keys.payment_intent_locator(payment_intent),
        json.dumps(
            {
                "merchant_id": location.merchant_id,
                "invoice_id": location.invoice_id,
                "session_id": location.session_id,
            }
        ),
    )


async def locate_intent(redis: aioredis.Redis, payment_intent: str) -> IntentLocation | None:
    raw = await redis.get(keys.payment_intent_locator(payment_intent))
    if raw is None:
        return None
    data = json.loads(raw)
    return IntentLocation(data["merchant_id"], data["invoice_id"], data["session_id"])


def issue_credit_note(pipe: aioredis.client.Pipeline, note: CreditNote) -> None:
    """Queue the numbering and storage of `note` (skipped if its source already has one)."""
    body = note.to_dict()
    body["number"] = _NUMBER_PLACEHOLDER
    pipe.eval(
        _ISSUE,
        4,
        keys.credit_note_source(note.merchant_id, note.source_id),
        keys.merchant_credit_note_seq(note.merchant_id, note.issue_date.year),
        keys.credit_note(note.merchant_id, note.id),
        keys.invoice_credit_notes(note.merchant_id, note.invoice_id),
        json.dumps(body),
        CREDIT_NOTE_PREFIX,
        str(note.issue_date.year),
        _NUMBER_PLACEHOLDER.replace("-", "%-"),  # a Lua pattern: '-' is a quantifier there
        note.id,
    )
    # The link lives on another hash slot than the merchant's, so not in the script: if the
    # source had its note already, this token names a note that does not exist (a 404).
    pipe.set(
        keys.credit_note_view_token(hash_link_token(note.view_token)),
        json.dumps({"merchant_id": note.merchant_id, "credit_note_id": note.id}),
    )


async def get_credit_note(
    redis: aioredis.Redis, merchant_id: str, credit_note_id: str
) -> CreditNote | None:
    """The merchant's credit note, or None, including when it belongs to another merchant."""
    raw = await redis.get(keys.credit_note(merchant_id, credit_note_id))
    return CreditNote.from_dict(json.loads(raw)) if raw else None


async def credit_notes_of(
    redis: aioredis.Redis, merchant_id: str, invoice_id: str
) -> list[CreditNote]:
    ids = await redis.lrange(keys.invoice_credit_notes(merchant_id, invoice_id), 0, -1)
    notes = [await get_credit_note(redis, merchant_id, i) for i in ids]
    return [n for n in notes if n is not None]


async def credit_note_by_token(redis: aioredis.Redis, token: str) -> CreditNote | None:
    if not 16 <= len(token) <= 128 or not token.replace("-", "").replace("_", "").isalnum():
        return None
    raw = await redis.get(keys.credit_note_view_token(hash_link_token(token)))
    if raw is None:
        return None
    data = json.loads(raw)
    return await get_credit_note(redis, data["merchant_id"], data["credit_note_id"])
