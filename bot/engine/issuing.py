"""Issue an invoice and announce it in one atomic step (the merchant API's create).

One Lua script checks the Idempotency-Key record, allocates the number, stores the invoice,
its tokens and locator, ingests the "invoice issued" event into the conversation's inbox
(pending set and wake-up included) and stores the answer for the key. Redis runs a script
entirely or not at all, so a create either committed all of that or nothing (issue 6 §3: during
connection resets, invoices used to be numbered without ever being sent).

When the connection breaks, the answer is lost but the script may have run. `issue_and_announce`
then settles it on a fresh connection: either the invoice is there (committed), or the draft is
voided so that a script still on its way cannot commit it later, and "nothing was issued" is
true. With an Idempotency-Key, a retry is exact in every case: both attempts check the same
record inside their script, so at most one commits.

All keys of the script are on one Redis primary (docs/decisions.md: no Cluster).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.engine.pipeline import INGEST_ARGS, INGEST_KEYS, INGEST_LUA, Event, ingest_step
from bot.logs import log_fields
from bot.store import idempotency, invoices, keys
from bot.store.conversations import conversation_key
from payments.invoice import Invoice

log = logging.getLogger(__name__)

SETTLE_ATTEMPTS = 3  # a reset connection is replaced at once; more would only delay the 503


def _refs(table: str, start: int, count: int) -> str:
    return ", ".join(f"{table}[{i}]" for i in range(start, start + count))


_K_ISSUE = 3  # KEYS: 1 idempotency record, 2 void marker, then the issue keys, then ingest
_K_INGEST = _K_ISSUE + invoices.ISSUE_KEYS
_A_ISSUE = 4  # ARGV: 1-3 find args ('' fingerprint = no key), then the issue and ingest args
_A_INGEST = _A_ISSUE + invoices.ISSUE_ARGS
_A_RECORD = _A_INGEST + INGEST_ARGS  # the answer template, its TTL, the number placeholder

_CREATE = (
    idempotency.FIND_LUA
    + invoices.ISSUE_LUA
    + INGEST_LUA
    + f"""
if ARGV[1] ~= '' then
  local found = facto_idem_find(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
  if found then return found end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {{'void', ''}} end
if redis.call('EXISTS', KEYS[{_K_ISSUE + 1}]) == 1 then return {{'exists', ''}} end
local number = facto_issue({_refs("KEYS", _K_ISSUE, invoices.ISSUE_KEYS)},
                           {_refs("ARGV", _A_ISSUE, invoices.ISSUE_ARGS)})
facto_ingest({_refs("KEYS", _K_INGEST, INGEST_KEYS)}, {_refs("ARGV", _A_INGEST, INGEST_ARGS)})
if ARGV[1] ~= '' then
  local record = string.gsub(ARGV[{_A_RECORD}], ARGV[{_A_RECORD + 2}], number)
  redis.call('SET', KEYS[1], record, 'EX', ARGV[{_A_RECORD + 1}])
end
return {{'created', number}}
"""
)


@dataclass(frozen=True, slots=True)
class Created:
    """Committed with its announcement; `body` is the answer (also stored for the key)."""

    invoice: Invoice
    body: str


@dataclass(frozen=True, slots=True)
class Replayed:
    """The key was already used: `conflict` when with another request."""

    stored: idempotency.Stored
    conflict: bool


class NotIssued(Exception):
    """Nothing was committed, for sure; or, when `unknown`, Redis could not even tell."""

    def __init__(self, *, unknown: bool) -> None:
        super().__init__("outcome unknown" if unknown else "nothing was issued")
        self.unknown = unknown


def issued_event(invoice: Invoice) -> Event:
    channel, address = invoices.customer_address(invoice)
    return Event(
        id=f"issued:{invoice.id}",
        type="invoice_issued",
        conversation=conversation_key(channel, address),
        data={"invoice_id": invoice.id, "merchant_id": invoice.merchant_id},
    )


async def issue_and_announce(
    redis: aioredis.Redis,
    draft: Invoice,
    *,
    prefix: str,
    now: datetime,
    answer: str,
    claim: idempotency.Claim | None,
) -> Created | Replayed:
    """Commit `draft` and its "invoice issued" event together, or raise NotIssued.

    `answer` is the JSON body of the 201, with `invoices.NUMBER_PLACEHOLDER` where the number
    goes; with a `claim`, it is stored for the key in the same script.
    """
    issue_keys, issue_args = invoices.issue_step(draft, prefix, now)
    ingest_keys, ingest_args = ingest_step(issued_event(draft))
    record_key = claim.record_key if claim else keys.idempotency(draft.merchant_id, "-")
    find_args = claim.find_args() if claim else ["", "0", "0"]
    template = claim.record(201, answer) if claim else ""
    try:
        verdict, value = await redis.eval(
            _CREATE,
            2 + len(issue_keys) + len(ingest_keys),
            record_key,
            keys.invoice_void(draft.merchant_id, draft.id),
            *issue_keys,
            *ingest_keys,
            *find_args,
            *issue_args,
            *ingest_args,
            template,
            str(idempotency.RECORD_TTL_SECONDS),
            invoices.NUMBER_PATTERN,
        )
    except RedisError:
        log.warning("create interrupted; settling it", extra=log_fields(invoice=draft.id))
        return await _settle(redis, draft, answer)
    if verdict in ("replay", "conflict"):
        return Replayed(idempotency.Stored.loads(value), conflict=verdict == "conflict")
    if verdict == "exists":  # this very draft committed already (a resent script)
        return await _committed(redis, draft, answer)
    if verdict == "void":
        raise NotIssued(unknown=False)
    return _created(draft, answer, str(value))


def _created(draft: Invoice, answer: str, number: str) -> Created:
    return Created(
        replace(draft, number=number), answer.replace(invoices.NUMBER_PLACEHOLDER, number)
    )


async def _settle(redis: aioredis.Redis, draft: Invoice, answer: str) -> Created:
    for _ in range(SETTLE_ATTEMPTS):
        try:
            committed = await invoices.settle_lost_issue(redis, draft.merchant_id, draft.id)
        except RedisError:
            continue
        if not committed:
            raise NotIssued(unknown=False)
        return await _committed(redis, draft, answer)
    raise NotIssued(unknown=True)


async def _committed(redis: aioredis.Redis, draft: Invoice, answer: str) -> Created:
    try:
        stored = await invoices.get_invoice(redis, draft.merchant_id, draft.id)
    except RedisError as exc:
        raise NotIssued(unknown=True) from exc
    if stored is None:  # settled as committed, then gone: cannot happen without a flush
        raise NotIssued(unknown=True)
    return _created(draft, answer, stored.number)
