"""Issue an invoice and announce it: one atomic step, then an idempotent follow-up.

One Lua script on the merchant's hash slot checks the Idempotency-Key record, allocates the
number, stores the invoice and stores the answer for the key, together with an *announcement*:
what the create still has to write on other slots (the invoice's locator, its pay and view
tokens, the "invoice issued" event for the customer's conversation). Redis runs a script
entirely or not at all, so a create either committed all of that or nothing (issue 6 §3: during
connection resets, invoices used to be numbered without ever being sent).

The announcement is then carried out (`announce_pending`): the plain SETs again and again if
need be, the event through `ingest`, which dedupes on its id; only then is it removed. The API
does it before answering; if it dies first, the worker's periodic step finds the merchant in
`issuing:announcing` (added before the script runs) and finishes it. Redis Cluster ready: no
step touches two slots (docs/decisions.md "One commit per dispatched event, on one hash slot").

When the connection breaks, the answer is lost but the script may have run. `issue_and_announce`
then settles it on a fresh connection: either the invoice is there (committed), or the draft is
voided so that a script still on its way cannot commit it later, and "nothing was issued" is
true. With an Idempotency-Key, a retry is exact in every case: both attempts check the same
record inside their script, so at most one commits.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.engine.documents import queue_render
from bot.engine.events import InvoiceIssued, encode
from bot.engine.lua import Lua
from bot.engine.pipeline import Event, ingest_script, queue_ingest
from bot.logs import log_fields
from bot.store import idempotency, invoices, keys
from bot.store import policy as collection_policy
from bot.store.announcement_retirer import AnnouncementRetirer
from payments.invoice import Invoice

log = logging.getLogger(__name__)

SETTLE_ATTEMPTS = 3  # a reset connection is replaced at once; more would only delay the 503


def _refs(table: str, start: int, count: int) -> str:
    return ", ".join(f"{table}[{i}]" for i in range(start, start + count))


_K_ISSUE = 3  # KEYS: 1 idempotency record, 2 void marker, then the issue keys, the key's lock
_K_LOCK = _K_ISSUE + invoices.ISSUE_KEYS
_A_ISSUE = 4  # ARGV: 1-3 find args ('' fingerprint = no key), then the issue args
# Then the answer template, its TTL, the placeholder, the lock's token.
_A_RECORD = _A_ISSUE + invoices.ISSUE_ARGS

_K_ANNOUNCE = _K_ISSUE + 3  # the merchant's announcements (the 4th of issue_step's keys)
_A_RETIRE = _A_RECORD + 4  # then the ids of announcements this process carried out, if any

_CREATE = (
    idempotency.FIND_LUA
    + idempotency.RELEASE_LUA
    + invoices.ISSUE_LUA
    + f"""
if #ARGV >= {_A_RETIRE} then
  redis.call('HDEL', KEYS[{_K_ANNOUNCE}], unpack(ARGV, {_A_RETIRE}, #ARGV))
end
if ARGV[1] ~= '' then
  local found = facto_idem_find(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
  if found then return found end
end
if redis.call('EXISTS', KEYS[2]) == 1 then return {{'void', ''}} end
if redis.call('EXISTS', KEYS[{_K_ISSUE + 1}]) == 1 then return {{'exists', ''}} end
local number = facto_issue({_refs("KEYS", _K_ISSUE, invoices.ISSUE_KEYS)},
                           {_refs("ARGV", _A_ISSUE, invoices.ISSUE_ARGS)})
if ARGV[1] ~= '' then
  local record = string.gsub(ARGV[{_A_RECORD}], ARGV[{_A_RECORD + 2}], number)
  redis.call('SET', KEYS[1], record, 'EX', ARGV[{_A_RECORD + 1}])
  facto_idem_release(KEYS[{_K_LOCK}], ARGV[{_A_RECORD + 3}])
end
return {{'created', number}}
"""
)
CREATE = Lua(_CREATE)


@dataclass(frozen=True, slots=True)
class Created:
    """Committed with its announcement; `body` is the answer (also stored for the key).

    The committed invoice is the draft with its allocated number, built only when asked for:
    building it validates the whole invoice again, and the API answers with `body` alone.
    """

    draft: Invoice
    number: str
    body: str

    @property
    def invoice(self) -> Invoice:
        return replace(self.draft, number=self.number)


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
    payload = InvoiceIssued(invoice_id=invoice.id, merchant_id=invoice.merchant_id)
    return encode(f"issued:{invoice.id}", invoices.invoice_conversation(invoice), payload)


@dataclass(frozen=True, slots=True)
class MerchantFacts:
    """What a create reads besides its merchant: its own senders (channel -> ref, which the
    invoice snapshots) and its collection policy (the reward the invoice offers)."""

    senders: dict[str, str]
    policy: collection_policy.CollectionPolicy


def queue_facts(pipe: aioredis.client.Pipeline, merchant_id: str) -> None:
    """A create's reads on the caller's pipeline (one round trip with the API key's), and the
    mark that lets the worker find a create whose follow-up never ran: it must be in Redis
    before the create script runs, and the set only grows with merchants (harmless twice)."""
    pipe.hgetall(keys.merchant_senders(merchant_id))
    pipe.get(keys.merchant_policy(merchant_id))
    pipe.sadd(keys.ANNOUNCING_MERCHANTS, merchant_id)


def facts_from(replies: list[Any]) -> MerchantFacts:
    """The MerchantFacts in the replies to `queue_facts`' commands."""
    senders, policy, _marked = replies
    return MerchantFacts(
        {str(k): str(v) for k, v in senders.items()}, collection_policy.parse_policy(policy)
    )


async def read_facts(redis: aioredis.Redis, merchant_id: str) -> MerchantFacts:
    async with redis.pipeline(transaction=False) as pipe:
        queue_facts(pipe, merchant_id)
        return facts_from(await pipe.execute())


async def issue_and_announce(
    redis: aioredis.Redis,
    draft: Invoice,
    *,
    prefix: str,
    now: datetime,
    answer: str,
    claim: idempotency.Claim | None,
    retirer: AnnouncementRetirer,
    announce: bool = True,
    marked: bool = False,
    announce_on: BoundedClient | None = None,
) -> Created | Replayed:
    """Commit `draft` and its "invoice issued" event together, or raise NotIssued.

    `answer` is the JSON body of the 201, with `invoices.NUMBER_PLACEHOLDER` where the number
    goes; with a `claim`, it is stored for the key and the key's lock freed in the same script
    (the caller need not release it once `Created` or `Replayed`). `announce=False` for an
    invoice issued already paid (a flash-sale order): findable and viewable, but no "invoice
    issued" message with a pay link (its receipt names it instead). The draft's id makes it
    idempotent: a draft committed already comes back as it was stored (`exists`). `marked`:
    the caller ran `queue_facts` for the merchant (its mark is in Redis already). `retirer`:
    the process's (`Services.retirer`); the script removes the merchant's announcements it
    holds, and this create's own goes to it once carried out. `announce_on`: a client without
    a timeout per reply (`Services.bounded_redis`) to carry the announcement out on, within
    its seconds (a pipeline of eight commands: one timer instead of eight). Never give it
    `Services.bounded_redis` with None: that client has no timeout of its own.
    """
    announcing = announcement(draft, event=announce)
    issue_keys, issue_args = invoices.issue_step(draft, prefix, now, announcing.raw)
    record_key = claim.record_key if claim else keys.idempotency(draft.merchant_id, "-")
    lock_key = claim.lock_key if claim else keys.idempotency_lock(draft.merchant_id, "-")
    find_args = claim.find_args() if claim else ["", "0", "0"]
    template = claim.record(201, answer) if claim else ""
    retiring = retirer.take(draft.merchant_id)
    try:
        if not marked:  # first, so that a create whose follow-up never ran is found
            await redis.sadd(keys.ANNOUNCING_MERCHANTS, draft.merchant_id)
        reply = await CREATE(
            redis,
            [record_key, keys.invoice_void(draft.merchant_id, draft.id), *issue_keys, lock_key],
            [
                *find_args,
                *issue_args,
                template,
                str(idempotency.RECORD_TTL_SECONDS),
                invoices.NUMBER_PATTERN,
                claim.token if claim else "",
                *retiring,
            ],
        )
    except RedisError:
        retirer.give_back(draft.merchant_id, retiring)
        log.warning("create interrupted; settling it", extra=log_fields(invoice=draft.id))
        return await _settle(redis, draft, answer)
    verdict, value = cast(list[str], reply)
    if verdict in ("replay", "conflict"):
        await _announce_quietly(redis, draft.merchant_id)  # the first may have died before
        return Replayed(idempotency.Stored.loads(value), conflict=verdict == "conflict")
    if verdict == "exists":  # this very draft committed already (a resent script)
        return await _committed(redis, draft, answer)
    if verdict == "void":
        raise NotIssued(unknown=False)
    await _announce_own(announce_on or BoundedClient(redis, None), draft, announcing, retirer)
    return _created(draft, answer, str(value))


@dataclass(frozen=True, slots=True)
class Announcement:
    """What a create writes outside the merchant's slot, once committed: as stored with the
    create (`raw`, read back by `announce_pending`), and as built (carried out by the create
    itself without reading its own JSON back)."""

    writes: list[tuple[str, str]]
    event: Event | None
    raw: str


def announcement(draft: Invoice, *, event: bool = True) -> Announcement:
    """What `draft`'s create writes outside the merchant's slot, once committed."""
    writes = invoices.link_writes(draft)
    issued = issued_event(draft) if event else None
    raw = json.dumps({"writes": writes, "event": issued.dumps() if issued else None})
    return Announcement(writes, issued, raw)


async def announce_pending(redis: aioredis.Redis, merchant_id: str) -> int:
    """Carry out the merchant's committed announcements; how many were finished.

    Safe to run twice at once, and while the creates that wrote them carry them out
    (`_carry_out`).
    """
    name = keys.merchant_announcements(merchant_id)
    done = 0
    for invoice_id, raw in (await redis.hgetall(name)).items():
        await _carry_out(redis, merchant_id, invoice_id, raw)
        await redis.hdel(name, invoice_id)
        done += 1
    return done


async def _carry_out(redis: aioredis.Redis, merchant_id: str, invoice_id: str, raw: str) -> None:
    """One announcement, in one round trip: locator and links first, with the job that
    archives its PDF (bot.engine.documents), the event last, so that the invoice is findable
    before it is dispatched (a pipeline runs in its order). Repeatable: SETs of fixed values, a
    second render job finds the PDF archived, and the ingest dedupes on the event id."""
    data = json.loads(raw)
    event = Event.loads(data["event"]) if data["event"] is not None else None
    await _carry_out_built(redis, merchant_id, invoice_id, data["writes"], event)


async def _carry_out_built(
    redis: aioredis.Redis,
    merchant_id: str,
    invoice_id: str,
    writes: Sequence[Sequence[str]],
    event: Event | None,
) -> None:
    async def once() -> None:
        async with redis.pipeline(transaction=False) as pipe:
            for key, value in writes:
                pipe.set(key, value)
            queue_render(pipe, merchant_id, invoice_id)
            # Open dashboards list the new invoice: in this pipeline, no round trip of its own.
            invoices.dashboard_changed(pipe, merchant_id, invoices.INVOICES_CHANGED)
            if event is not None:
                queue_ingest(pipe, event)
            await pipe.execute()

    if event is None:
        await once()
    else:
        await ingest_script(event).retried(redis, once)


async def announce_all(redis: aioredis.Redis) -> int:
    """The worker's backstop: finish what an API process died before finishing."""
    done = 0
    # Merchants never leave the set: one that did between a create's SADD and its script
    # could not be found again. It grows with merchants only, never with invoices.
    for merchant_id in await redis.smembers(keys.ANNOUNCING_MERCHANTS):
        done += await announce_pending(redis, merchant_id)
    return done


async def _announce_quietly(redis: aioredis.Redis, merchant_id: str) -> None:
    """The invoice is issued whatever happens here: a failure is left to the worker."""
    try:
        await announce_pending(redis, merchant_id)
    except RedisError:
        log.warning("announcement deferred to the worker", extra=log_fields(merchant=merchant_id))


@dataclass(frozen=True, slots=True)
class BoundedClient:
    """A Redis client and the seconds a call on it may take (None: the client bounds each
    reply itself, as `bot.services.redis_client` builds it by default)."""

    redis: aioredis.Redis
    seconds: float | None


async def _announce_own(
    client: BoundedClient, draft: Invoice, own: Announcement, retirer: AnnouncementRetirer
) -> None:
    """Carry out the announcement this create just committed, and only it: the merchant's
    other creates in flight carry out their own (reading them all here made each concurrent
    create repeat the others' work). Its entry is removed off the answer's path (`retirer`);
    until then the worker's backstop may carry it out again, which is harmless."""
    try:
        async with asyncio.timeout(client.seconds):
            await _carry_out_built(
                client.redis, draft.merchant_id, draft.id, own.writes, own.event
            )
    except (RedisError, TimeoutError):
        log.warning("announcement deferred to the worker", extra=log_fields(invoice=draft.id))
        return
    retirer.retire(draft.merchant_id, draft.id)


def _created(draft: Invoice, answer: str, number: str) -> Created:
    return Created(draft, number, answer.replace(invoices.NUMBER_PLACEHOLDER, number))


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
    await _announce_quietly(redis, draft.merchant_id)
    return _created(draft, answer, stored.number)
