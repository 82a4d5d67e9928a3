"""Who holds a conversation waiting for a person: the claim, the queue, the audit trail.

The claim is decided here, by one script on the merchant's slot, before the claim enters the
conversation's inbox: two agents clicking at once get exactly one "yes", and the other learns
at once who has it. The conversation's state follows through its own dispatch
(`flows.agent`), which is the only writer of what the bot does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis

from bot.store import keys
from bot.store.invoices import locate_invoice

AUDIT_LIMIT = 10_000

# KEYS: waiting zset, claim key, user's claims set. ARGV: conversation, user id, claim JSON,
# force ("1": an owner reassigns). Returns {1, ""} won, {0, ""} not waiting, {-1, holder}.
_CLAIM = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return {0, ''} end
local held = redis.call('GET', KEYS[2])
if held and ARGV[4] ~= '1' then
  local holder = cjson.decode(held)
  if holder['user_id'] ~= ARGV[2] then return {-1, held} end
end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
return {1, ''}
"""

# KEYS: claim key. ARGV: user id ("" = whoever holds it). Deletes the claim if it is theirs.
RELEASE_IF_HOLDER = """
local held = redis.call('GET', KEYS[1])
if not held then return 0 end
if ARGV[1] ~= '' and cjson.decode(held)['user_id'] ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class Holder:
    user_id: str
    name: str
    at: str

    @classmethod
    def loads(cls, raw: str) -> Holder:
        data = json.loads(raw)
        return cls(str(data["user_id"]), str(data["name"]), str(data["at"]))


@dataclass(frozen=True, slots=True)
class ClaimResult:
    won: bool
    waiting: bool = True
    holder: Holder | None = None


def conversation_ref(merchant_id: str, conversation: str) -> str:
    """An opaque, stable name for a conversation in console URLs, pages and pub/sub."""
    return hashlib.sha256(f"{merchant_id}\x00{conversation}".encode()).hexdigest()[:24]


DELIVERY = "delivery"  # the `kind` of a console message that only says a delivery state moved


async def publish_delivery(redis: aioredis.Redis, merchant_id: str, conversation: str) -> None:
    """Tell the merchant's open consoles that a message of this conversation changed delivery
    state (sent, delivered, read, failed): the page showing it refreshes its transcript."""
    message = {"ref": conversation_ref(merchant_id, conversation), "kind": DELIVERY}
    await redis.publish(keys.console_channel(merchant_id), json.dumps(message))


async def resolve_ref(redis: aioredis.Redis, merchant_id: str, ref: str) -> str | None:
    """The conversation behind a console reference, only within the merchant."""
    if not (len(ref) == 24 and ref.isascii() and ref.isalnum()):
        return None
    conversation: str | None = await redis.get(keys.conversation_ref(merchant_id, ref))
    return conversation


async def claim(
    redis: aioredis.Redis,
    merchant_id: str,
    conversation: str,
    *,
    user_id: str,
    name: str,
    now: datetime,
    force: bool = False,
) -> ClaimResult:
    payload = json.dumps({"user_id": user_id, "name": name, "at": now.isoformat()})
    status, held = await redis.eval(
        _CLAIM,
        3,
        keys.waiting_conversations(merchant_id),
        keys.claim(merchant_id, conversation),
        keys.user_claims(merchant_id, user_id),
        conversation,
        user_id,
        payload,
        "1" if force else "0",
    )
    if int(status) == 1:
        return ClaimResult(won=True)
    if int(status) == 0:
        return ClaimResult(won=False, waiting=False)
    return ClaimResult(won=False, holder=Holder.loads(held))


async def release(
    redis: aioredis.Redis, merchant_id: str, conversation: str, user_id: str
) -> bool:
    released = await redis.eval(
        RELEASE_IF_HOLDER, 1, keys.claim(merchant_id, conversation), user_id
    )
    await redis.srem(keys.user_claims(merchant_id, user_id), conversation)
    return bool(released)


async def holder(redis: aioredis.Redis, merchant_id: str, conversation: str) -> Holder | None:
    raw = await redis.get(keys.claim(merchant_id, conversation))
    return Holder.loads(raw) if raw else None


async def held_by(redis: aioredis.Redis, merchant_id: str, user_id: str) -> list[str]:
    return sorted(await redis.smembers(keys.user_claims(merchant_id, user_id)))


@dataclass(frozen=True, slots=True)
class Waiting:
    conversation: str
    since: datetime
    handoff: dict[str, Any]
    holder: Holder | None


async def queue(redis: aioredis.Redis, merchant_id: str, limit: int = 200) -> list[Waiting]:
    """The conversations waiting for (or held by) a person, oldest first."""
    entries = await redis.zrange(
        keys.waiting_conversations(merchant_id), 0, limit - 1, withscores=True
    )
    found = []
    for conversation, score in entries:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.get(keys.handoff(merchant_id, conversation))
            pipe.get(keys.claim(merchant_id, conversation))
            handoff, held = await pipe.execute()
        found.append(
            Waiting(
                conversation=conversation,
                since=datetime.fromtimestamp(float(score), tz=UTC),
                handoff=json.loads(handoff) if handoff else {},
                holder=Holder.loads(held) if held else None,
            )
        )
    return found


def audit_entry(
    pipe: aioredis.client.Pipeline,
    merchant_id: str,
    *,
    at: datetime,
    ref: str,
    what: str,
    user_id: str | None,
    detail: str = "",
) -> None:
    entry = {"at": at.isoformat(), "conv": ref, "what": what, "user": user_id, "detail": detail}
    pipe.rpush(keys.audit(merchant_id), json.dumps(entry))
    pipe.ltrim(keys.audit(merchant_id), -AUDIT_LIMIT, -1)


async def audit_trail(
    redis: aioredis.Redis, merchant_id: str, ref: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    raw = await redis.lrange(keys.audit(merchant_id), -AUDIT_LIMIT, -1)
    entries = [json.loads(r) for r in raw]
    if ref is not None:
        entries = [e for e in entries if e.get("conv") == ref]
    return entries[-limit:]


async def handed_invoice(
    redis: aioredis.Redis, merchant_id: str, conversation: str, state_invoice: str | None
) -> str | None:
    """The invoice a person of `merchant_id` acts on in this conversation: the one recorded
    when it was handed to that merchant, never simply the conversation's latest invoice
    (merchants share platform senders, so another merchant may have invoiced it since).

    `state_invoice` (the conversation's own) is used only when it is that merchant's."""
    raw = await redis.get(keys.handoff(merchant_id, conversation))
    if raw is not None:
        recorded = json.loads(raw).get("invoice_id")
        if recorded is not None:
            return str(recorded)
        return None  # handed over without an invoice (a campaign question)
    if state_invoice is None:
        return None
    location = await locate_invoice(redis, state_invoice)
    return state_invoice if location is not None and location.merchant_id == merchant_id else None
