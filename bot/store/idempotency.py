"""`Idempotency-Key` on the merchant API's POSTs, with Stripe's semantics.

The first successful answer to a key is stored with a fingerprint of its request (method, path,
canonical JSON body) for 24 hours. The same key and fingerprint get that answer again; the same
key with another request is a conflict (422). While a request with a key runs, the key is locked:
a concurrent one with the same key gets 409, as Stripe's `idempotency_key_in_use`. Keys are
scoped per merchant. Answers that changed nothing (validation errors, 503) are not stored, so
the caller can fix the request and send it again under the same key. An answer that shows a
secret once (a shop's webhook secret Facto made) is kept sealed under FACTO_SECRETS_KEY, like
the secret itself, and opened only to be replayed.

Expiry and the lock's lifetime are judged by the injected clock (records carry their time), so
tests move time instead of sleeping; Redis' own TTLs only clean up, later.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from bot.store import keys

WINDOW = timedelta(hours=24)
LOCK_FOR = timedelta(seconds=30)  # far longer than a create takes; a dead request frees it then
RECORD_TTL_SECONDS = int(WINDOW.total_seconds()) + 3600  # Redis cleans up after the window
MAX_KEY_LENGTH = 255  # Stripe's limit
# UUIDs, ULIDs, base64/base64url, "order-42:attempt-1": visible ASCII that needs no escaping.
_KEY = re.compile(r"[A-Za-z0-9._:~+/=-]+")

# Shared by `begin` and the atomic create (bot.engine.issuing): a stored answer still within
# its window, compared with this request's fingerprint.
FIND_LUA = """
local function facto_idem_find(record_key, fingerprint, now_ms, window_ms)
  local raw = redis.call('GET', record_key)
  if not raw then return nil end
  local record = cjson.decode(raw)
  if tonumber(record.at_ms) + tonumber(window_ms) <= tonumber(now_ms) then return nil end
  if record.fingerprint == fingerprint then return {'replay', raw} end
  return {'conflict', raw}
end
"""

_BEGIN = (
    FIND_LUA
    + """
local found = facto_idem_find(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
if found then return found end
local held = redis.call('GET', KEYS[2])
-- Our own lock (this very call, resent by the client after a connection reset) is no rival.
local ours = held and string.sub(held, 1, string.len(ARGV[4]) + 1) == ARGV[4] .. ' '
if held and not ours and tonumber(string.match(held, ' (%d+)$')) > tonumber(ARGV[2]) then
  return {'in_use', ''}
end
redis.call('SET', KEYS[2], ARGV[4] .. ' ' .. ARGV[5], 'EX', ARGV[6])
return {'proceed', ''}
"""
)

# Shared by `release` and the atomic create, which frees the key with the answer it stores.
RELEASE_LUA = """
local function facto_idem_release(lock_key, token)
  local held = redis.call('GET', lock_key)
  if held and string.sub(held, 1, string.len(token) + 1) == token .. ' ' then
    return redis.call('DEL', lock_key)
  end
  return 0
end
"""

_RELEASE = RELEASE_LUA + "return facto_idem_release(KEYS[1], ARGV[1])\n"


async def _script(redis: aioredis.Redis, text: str, names: list[str], args: list[str]) -> object:
    """`text` run by its SHA: the text crosses once per Redis start, not with every request."""
    sha = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()
    try:
        return await redis.evalsha(sha, len(names), *names, *args)
    except NoScriptError:
        return await redis.eval(text, len(names), *names, *args)


Verdict = Literal["proceed", "replay", "conflict", "in_use"]


def key_problem(value: str) -> str | None:
    """Why an Idempotency-Key header value is refused, or None if it is acceptable."""
    if not value:
        return "Idempotency-Key must not be empty"
    if len(value) > MAX_KEY_LENGTH:
        return f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters"
    if not _KEY.fullmatch(value):
        return "Idempotency-Key may only contain letters, digits and . _ : ~ + / = -"
    return None


def fingerprint(method: str, path: str, body: object) -> str:
    """Same request ⇔ same fingerprint: key order and whitespace of the JSON do not count."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Stored:
    """An answer kept for a key: replayed as it was first given."""

    status: int
    body: str
    fingerprint: str
    sealed: bool = False  # `body` sealed with the server's SecretBox: it holds a secret

    @classmethod
    def loads(cls, raw: str) -> Stored:
        data = json.loads(raw)
        status, body, fingerprint = int(data["status"]), str(data["body"]), data["fingerprint"]
        return cls(status, body, str(fingerprint), sealed=data.get("sealed") is True)


@dataclass(frozen=True, slots=True)
class Claim:
    """One request's use of a key: who, which request, when, and its lock token."""

    merchant_id: str
    key_digest: str
    fingerprint: str
    now: datetime
    token: str

    @classmethod
    def new(cls, merchant_id: str, key: str, fingerprint: str, now: datetime) -> Claim:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return cls(merchant_id, digest, fingerprint, now, secrets.token_hex(8))

    @property
    def record_key(self) -> str:
        return keys.idempotency(self.merchant_id, self.key_digest)

    @property
    def lock_key(self) -> str:
        return keys.idempotency_lock(self.merchant_id, self.key_digest)

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)

    def record(self, status: int, body: str, *, sealed: bool = False) -> str:
        """The stored form of an answer (what `Stored.loads` reads back)."""
        record = {"fingerprint": self.fingerprint, "status": status, "body": body}
        return json.dumps({**record, "at_ms": self.now_ms, **({"sealed": True} if sealed else {})})

    def find_args(self) -> list[str]:
        """ARGV for `facto_idem_find` after the record key: fingerprint, now, window."""
        return [self.fingerprint, str(self.now_ms), str(_ms(WINDOW))]


def _ms(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


async def begin(redis: aioredis.Redis, claim: Claim) -> tuple[Verdict, Stored | None]:
    """Replay, conflict, in use, or proceed (then the key is locked until `release`)."""
    reply = await _script(
        redis,
        _BEGIN,
        [claim.record_key, claim.lock_key],
        [
            *claim.find_args(),
            claim.token,
            str(claim.now_ms + _ms(LOCK_FOR)),
            str(RECORD_TTL_SECONDS),
        ],
    )
    verdict, raw = cast(list[Any], reply)
    stored = Stored.loads(raw) if raw else None
    if verdict not in ("proceed", "replay", "conflict", "in_use"):
        msg = f"unexpected idempotency verdict {verdict!r}"
        raise RuntimeError(msg)
    result: Verdict = verdict
    return result, stored


async def save(
    redis: aioredis.Redis, claim: Claim, status: int, body: str, *, sealed: bool = False
) -> None:
    """Keep an answer that a handler could not store atomically with its own writes; `sealed`:
    the caller sealed `body` (an answer holding a secret is never kept in clear)."""
    record = claim.record(status, body, sealed=sealed)
    await redis.set(claim.record_key, record, ex=RECORD_TTL_SECONDS)


async def release(redis: aioredis.Redis, claim: Claim) -> None:
    await _script(redis, _RELEASE, [claim.lock_key], [claim.token])
