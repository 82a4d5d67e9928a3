"""Housekeeping: nothing Facto keeps in Redis grows without bound (issue 15, "Growth").

Each step is a small function that reads ages from the data itself against the injected clock
(never from Redis TTLs alone, which follow the wall clock), so a test can fill Redis, move the
clock and see what is left. What is kept, and for how long, is in docs/decisions.md
("Retention"); the lengths are settings.

- sent (or given-up) outbox records: `FACTO_OUTBOX_RETENTION_DAYS` after they were sent (a
  sent record is slimmed by its sender at once and carries a Redis expiry of that length too;
  its content expires on its own after hours: bot.engine.outbox `SENT_BODY_SECONDS`);
- transcripts: entries older than `FACTO_TRANSCRIPT_RETENTION_DAYS` (GDPR: customer data is
  kept 3 years after the last contact, LEGAL_FR §3), in the compressed archive of older turns
  as in the live list, whose remaining turns are then folded into the archive; a conversation
  with nothing in its transcript nor its inbox for 30 more days also loses its state;
- Checkout Sessions still listed in `checkout:open` long after Stripe expired them
  (`FACTO_CHECKOUT_STALE_DAYS`): the sweep stops asking about them;
- stream consumers that died with nothing pending are removed, and stream entries every group
  has acknowledged are trimmed (entries still pending are kept: they are reclaimed, not lost);
- dedupe markers expire with their source's retry horizon, set at ingest (bot.store.dedupe);
- flash sales: a campaign's personal links (the click attribution) go 30 days after its end,
  its per-recipient records (recipients, holds, orders, units bought) after
  `FACTO_CAMPAIGN_RETENTION_DAYS`; its definition and aggregate counts stay.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.engine.campaigns import LINK_KEPT_AFTER_END_SECONDS
from bot.logs import log_fields
from bot.store import campaigns, keys
from bot.store.conversations import (
    archive_value,
    archived,
    decode_entry,
    fold_transcript,
    sha1,
)
from bot.store.invoices import migrate_clear_link_tokens
from channels.base import ChannelName, DeliveryState

log = logging.getLogger(__name__)

_FINAL = frozenset(
    {
        DeliveryState.SENT,
        DeliveryState.DELIVERED,
        DeliveryState.READ,
        DeliveryState.UNDELIVERED,
        DeliveryState.FAILED,
    }
)
SCAN_BATCH = 500


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    outbox: timedelta = timedelta(days=30)
    transcripts: timedelta = timedelta(days=3 * 365)
    checkout_stale: timedelta = timedelta(days=2)
    consumer_idle: timedelta = timedelta(hours=24)
    silent_state: timedelta = timedelta(days=30)  # after its transcript is gone
    campaigns: timedelta = timedelta(days=90)  # per-recipient records, after the sale's end
    offer_links: timedelta = timedelta(seconds=LINK_KEPT_AFTER_END_SECONDS)


@dataclass(frozen=True, slots=True)
class Housekept:
    """What one pass removed."""

    outbox_records: int = 0
    transcript_entries: int = 0
    conversations: int = 0
    checkout_sessions: int = 0
    consumers: int = 0
    stream_entries: int = 0
    link_tokens_hashed: int = 0
    failed_listings: int = 0
    campaigns_forgotten: int = 0
    offer_links: int = 0


async def housekeep(redis: aioredis.Redis, now: datetime, policy: RetentionPolicy) -> Housekept:
    done = Housekept(
        outbox_records=await expire_outbox_records(redis, now - policy.outbox, now),
        transcript_entries=await trim_transcripts(redis, now - policy.transcripts),
        conversations=await forget_silent_conversations(redis, now, policy.silent_state),
        checkout_sessions=await drop_stale_checkout_sessions(redis, now, policy.checkout_stale),
        consumers=await remove_dead_consumers(redis, policy.consumer_idle),
        stream_entries=await trim_acknowledged_entries(redis),
        link_tokens_hashed=await migrate_clear_link_tokens(redis),
        failed_listings=await trim_failed_listings(redis, now - policy.outbox),
        campaigns_forgotten=await forget_campaign_recipients(redis, now, policy.campaigns),
        offer_links=await drop_offer_links(redis, now, policy.offer_links),
    )
    log.info("housekeeping done", extra=log_fields(**{k: getattr(done, k) for k in _FIELDS}))
    return done


_FIELDS = Housekept.__dataclass_fields__


async def expire_outbox_records(redis: aioredis.Redis, cutoff: datetime, now: datetime) -> int:
    """Delete records in a final state since before `cutoff`.

    A record sent by this version has `sent_at`; one that failed for good (or an older one)
    gets `final_seen_at` stamped on the first pass, and its age counts from there.
    """
    removed = 0
    async for name in redis.scan_iter(match=keys.outbox_message("*"), count=SCAN_BATCH):
        state, sent_at, seen = await redis.hmget(name, "state", "sent_at", "final_seen_at")
        if state is None or DeliveryState(state) not in _FINAL:
            continue  # pending or sending: still the sender's
        since = sent_at or seen
        if since is None:
            await redis.hset(name, "final_seen_at", now.isoformat())
        elif datetime.fromisoformat(since) < cutoff:
            removed += await redis.delete(name)
    return removed


async def trim_failed_listings(redis: aioredis.Redis, cutoff: datetime) -> int:
    """The merchants' lists of failed messages lose the entries whose records are gone."""
    removed = 0
    pattern = keys.merchant_failed_messages("*")
    async for name in redis.scan_iter(match=pattern, count=SCAN_BATCH):
        removed += await redis.zremrangebyscore(name, "-inf", cutoff.timestamp())
    return removed


async def trim_transcripts(redis: aioredis.Redis, cutoff: datetime) -> int:
    """Drop transcript entries older than `cutoff`, oldest first (entries are in time order):
    those of the archives (the older turns), then the live lists' heads. Then fold what is
    left live into the archive (bot.store.conversations: an idle conversation's last turns)."""
    removed = await trim_transcript_archives(redis, cutoff)
    async for name in redis.scan_iter(match=keys.conv_log("*"), count=SCAN_BATCH):
        while (head := await redis.lindex(name, 0)) is not None and _at(head) < cutoff:
            await redis.lpop(name)
            removed += 1
        if await redis.exists(name):
            conversation = name.removeprefix("conv:{").removesuffix("}:log")
            await fold_transcript(redis, conversation)
    return removed


# Replace an archive only if it is still the one read. KEYS: archive. ARGV: its sha1, the new
# value ('': delete it).
_REWRITE_ARCHIVE = """
if redis.sha1hex(redis.call('GET', KEYS[1]) or '') ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


async def trim_transcript_archives(redis: aioredis.Redis, cutoff: datetime) -> int:
    removed = 0
    async for name in redis.scan_iter(match=keys.conv_log_archive("*"), count=SCAN_BATCH):
        value = await redis.get(name)
        entries = archived(value)
        kept = [e for e in entries if _at(e) >= cutoff]
        if len(kept) == len(entries):
            continue
        new = archive_value(kept) if kept else ""
        if await redis.eval(_REWRITE_ARCHIVE, 1, name, sha1(value or ""), new):
            removed += len(entries) - len(kept)
    return removed


# Checked and deleted in one step: an event dispatched between a check and a delete would
# otherwise lose the state it just wrote (the three keys share the conversation's slot).
_FORGET_IF_STILL_SILENT = """
if redis.call('EXISTS', KEYS[2], KEYS[3], KEYS[4]) == 0 then return redis.call('DEL', KEYS[1]) end
return 0
"""


async def forget_silent_conversations(
    redis: aioredis.Redis, now: datetime, silent_for: timedelta
) -> int:
    """Forget the state of a conversation with no transcript and no inbox for `silent_for`.

    Silence is timed from the first pass that finds it (a state can exist without any message
    yet, e.g. an invoice to an opted-out customer: that one must not be forgotten at once).
    """
    removed = 0
    since = dict(await redis.zrange(keys.CONVERSATIONS_SILENT_SINCE, 0, -1, withscores=True))
    cutoff = (now - silent_for).timestamp()
    async for name in redis.scan_iter(match=keys.conv_state("*"), count=SCAN_BATCH):
        conversation = name.removeprefix("conv:{").removesuffix("}:state")
        if await redis.exists(*_said_or_waiting(conversation)):
            if conversation in since:
                await redis.zrem(keys.CONVERSATIONS_SILENT_SINCE, conversation)
        elif conversation not in since:
            await redis.zadd(keys.CONVERSATIONS_SILENT_SINCE, {conversation: now.timestamp()})
        elif since[conversation] < cutoff:
            removed += await redis.eval(
                _FORGET_IF_STILL_SILENT, 4, name, *_said_or_waiting(conversation)
            )
            await redis.zrem(keys.CONVERSATIONS_SILENT_SINCE, conversation)
    return removed


def _said_or_waiting(conversation: str) -> tuple[str, str, str]:
    """The keys whose presence means the conversation is not silent."""
    return (
        keys.conv_log(conversation),
        keys.conv_log_archive(conversation),
        keys.conv_inbox(conversation),
    )


async def drop_stale_checkout_sessions(
    redis: aioredis.Redis, now: datetime, stale_after: timedelta
) -> int:
    """Sessions tracked for longer than any Stripe session lives leave `checkout:open`.

    The time a session was first tracked is kept beside the set (sessions tracked before that
    existed start their clock on the first pass).
    """
    tracked = await redis.smembers(keys.CHECKOUT_SESSIONS_OPEN)
    since = dict(await redis.zrange(keys.CHECKOUT_SESSIONS_SINCE, 0, -1, withscores=True))
    new = {session: now.timestamp() for session in tracked if session not in since}
    if new:
        await redis.zadd(keys.CHECKOUT_SESSIONS_SINCE, new, nx=True)
    cutoff = (now - stale_after).timestamp()
    stale = [s for s, at in since.items() if at < cutoff or s not in tracked]
    if stale:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.srem(keys.CHECKOUT_SESSIONS_OPEN, *stale)
            pipe.zrem(keys.CHECKOUT_SESSIONS_SINCE, *stale)
            await pipe.execute()
    return len([s for s in stale if s in tracked])


async def _campaign_ends(redis: aioredis.Redis) -> dict[tuple[str, str], datetime | None]:
    """Every campaign's end (its window's), None once its recipients were forgotten."""
    ends: dict[tuple[str, str], datetime | None] = {}
    async for name in redis.scan_iter(match=keys.merchant_campaigns("*"), count=SCAN_BATCH):
        merchant_id = name.split("{", 1)[1].split("}", 1)[0]
        for campaign_id in await redis.zrange(name, 0, -1):
            spec, forgotten = await redis.hmget(
                keys.campaign(merchant_id, campaign_id), ["spec", "recipients_forgotten_at"]
            )
            if spec is not None:
                end = datetime.fromisoformat(json.loads(spec)["window"]["end"])
                ends[merchant_id, campaign_id] = None if forgotten else end
    return ends


async def forget_campaign_recipients(redis: aioredis.Redis, now: datetime, keep: timedelta) -> int:
    """Campaigns ended more than `keep` ago lose their per-recipient records (once)."""
    running = await redis.smembers(keys.CAMPAIGNS_RUNNING)
    forgotten = 0
    for (merchant_id, campaign_id), end in (await _campaign_ends(redis)).items():
        if end is None or end + keep > now or f"{merchant_id}/{campaign_id}" in running:
            continue  # forgotten already, recent, or still being enqueued
        members = await campaigns.forget_recipients(redis, merchant_id, campaign_id, now)
        if members:
            await redis.zrem(keys.OFFER_SESSIONS_OPEN, *members)
        forgotten += 1
    return forgotten


async def drop_offer_links(redis: aioredis.Redis, now: datetime, kept: timedelta) -> int:
    """Personal offer links of campaigns ended more than `kept` ago (or gone): what a late
    tap showed as "offer ended" becomes "unknown link". They carry a Redis expiry too; this
    makes it follow the injected clock and covers links whose campaign is gone."""
    ends = await _campaign_ends(redis)
    removed = 0
    async for name in redis.scan_iter(match=keys.offer_token("*"), count=SCAN_BATCH):
        raw = await redis.get(name)
        if raw is None:
            continue
        link = json.loads(raw)
        key = (str(link["merchant_id"]), str(link["campaign_id"]))
        end = ends.get(key)
        if key not in ends or end is None or end + kept < now:
            removed += await redis.delete(name)
    return removed


_STREAMS = (
    (keys.PIPELINE_WAKE, keys.PIPELINE_GROUP),
    *((keys.outbox_stream(channel.value), keys.OUTBOX_GROUP) for channel in ChannelName),
)


async def remove_dead_consumers(redis: aioredis.Redis, idle: timedelta) -> int:
    """Consumers (one per worker process) idle that long with nothing pending are gone."""
    removed = 0
    for stream, group in _STREAMS:
        try:
            consumers = await redis.xinfo_consumers(stream, group)
        except ResponseError:
            continue  # no such stream or group yet
        for consumer in consumers:
            if consumer["pending"] == 0 and consumer["idle"] >= idle.total_seconds() * 1000:
                await redis.xgroup_delconsumer(stream, group, consumer["name"])
                removed += 1
    return removed


async def trim_acknowledged_entries(redis: aioredis.Redis) -> int:
    """Trim what every group has read and acknowledged; keep pending and unread entries."""
    trimmed = 0
    for stream, _group in _STREAMS:
        try:
            groups = await redis.xinfo_groups(stream)
        except ResponseError:
            continue
        if not groups:
            continue
        keep_from = []
        for group in groups:
            summary = await redis.xpending(stream, group["name"])
            keep_from.append(summary["min"] if summary["pending"] else _next(group))
        # Exact trimming: "~" only frees whole nodes (100 entries), so small streams never shrink.
        trimmed += await redis.xtrim(stream, minid=min(keep_from, key=_id_key), approximate=False)
    return trimmed


def _next(group: dict[str, object]) -> str:
    """The first id this group has not read yet."""
    millis, _, seq = str(group["last-delivered-id"]).partition("-")
    return f"{millis}-{int(seq or 0) + 1}"


def _id_key(entry_id: str) -> tuple[int, int]:
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)


def _at(entry: str) -> datetime:
    return datetime.fromisoformat(decode_entry(entry)["at"])
