"""Flash-sale campaigns through the one way in and the one way out.

Starting a campaign fixes its recipients once; then the enqueuer appends one event per
recipient to that recipient's conversation (`campaign_message`, id `campaign:<c>:<customer>`)
in batches through `ingest`'s own script, and advances a cursor after each batch. The events
are dispatched like any other: the dispatch decides (pure, `flows.campaign`) from the campaign's
state, the recipient's consent *now* and the quiet hours in their time zone, and queues the
message on the outbox in the dispatch commit — so a message exists exactly when its decision
committed.

Exactly once: ingest dedupes on the event id, so a batch enqueued again (a worker killed
between the batch and its cursor, a second start, a Redis restart that kept the batch but not
the cursor) adds nothing; the cursor only moves after its batch, so no one is skipped. A
double start is one Lua transition; the enqueuer runs under a per-campaign lease.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from bot.clock import Clock, SystemClock
from bot.engine import events, handover, merchant_webhooks, outbox, schedule
from bot.engine.facts import stop_number
from bot.engine.lease import RELEASE_IF_OURS, TAKE_OR_EXTEND
from bot.engine.pipeline import _INGEST, Event, ingest_call
from bot.logs import log_fields, mask_card_numbers
from bot.store import campaigns as store
from bot.store import consent, customers, keys, senders
from bot.store.conversations import (
    append_transcript,
    conversation_key,
    load_state,
    save_state,
    split_key,
)
from bot.store.merchants import get_merchant
from bot.store.offers import token_digest
from channels.base import Button, ChannelName, InboundKind, InboundMessage, OutboundMessage
from channels.sms_text import segment_count, sms_safe
from flows.campaign import (
    Decision,
    ReplyKind,
    decide,
    pick_variant,
    read_reply,
    reply_text,
    with_marketing_mentions,
)
from flows.intents import understand
from flows.model import ConversationStatus

log = logging.getLogger(__name__)

EVENT_TYPE = events.CampaignMessageDue.TYPE
BATCH = 1000
LEASE_MS = 30_000
WAKE_MAXLEN = 100_000
LINK_KEPT_AFTER_END_SECONDS = 30 * 24 * 3600
# Conversations per wake-up entry: one entry per recipient would cost a command each; a
# dispatcher drains an entry's conversations one after the other, so keep groups small
# enough that several workers share a campaign.
WAKE_GROUP = 20


# A promotional SMS, with its link, a name and the mentions, may take this many segments; a
# longer variant is refused when the campaign is created (each segment is billed per recipient).
MAX_PROMO_SMS_SEGMENTS = 3
_SAMPLE_NAME = "Maximilienne"
_SAMPLE_LINK = "https://facto.example.fr/o/" + "x" * 22  # a personal link of the real length
_SAMPLE_REPLY_NUMBER = "+33612345678"  # what an alphanumeric sender's closing line names


def lint(campaign: store.Campaign, sender: str) -> list[dict[str, str]]:
    """What makes a campaign unfit to send (TESTCASES 79's linter), as field errors.

    The sender and the STOP are added to every message (`with_marketing_mentions`), so what is
    checked is that there is a sender to name, and that each SMS still fits its budget.
    """
    if not sender.strip():
        return [{"field": "", "message": "the merchant has no commercial name to sign with"}]
    if "sms" not in campaign.channels:
        return []
    errors = []
    for index, variant in enumerate(campaign.variants):
        for locale, text in sorted(variant.text.items()):
            body = text.replace("{name}", _SAMPLE_NAME)
            body = (
                body.replace("{link}", _SAMPLE_LINK)
                if "{link}" in body
                else f"{body}\n{_SAMPLE_LINK}"
            )
            # The longest closing line: an alphanumeric sender's, with its reply number.
            body = with_marketing_mentions(body, locale, "sms", sender, _SAMPLE_REPLY_NUMBER)
            segments = segment_count(sms_safe(body))
            if segments > MAX_PROMO_SMS_SEGMENTS:
                errors.append(
                    {
                        "field": f"variants[{index}].text.{locale}",
                        "message": f"{segments} SMS segments with the link, the sender and STOP;"
                        f" at most {MAX_PROMO_SMS_SEGMENTS}",
                    }
                )
    return errors


def event_id(campaign_id: str, customer_id: str) -> str:
    return f"campaign:{campaign_id}:{customer_id}"


def message_key(campaign_id: str, customer_id: str) -> str:
    return f"campaign:{campaign_id}:{customer_id}:msg"


async def start(
    redis: aioredis.Redis, merchant_id: str, campaign_id: str, clock: Clock, action: str
) -> tuple[int, str]:
    """start / pause / resume / cancel; a running campaign is (again) handed to enqueuers."""
    done, state = await store.transition(redis, merchant_id, campaign_id, action, clock.now())
    if state == "running":
        # Also when already running: a start whose SADD was lost is finished by clicking again.
        await redis.sadd(keys.CAMPAIGNS_RUNNING, f"{merchant_id}/{campaign_id}")
    return done, state


@dataclass
class Enqueuer:
    """Turns running campaigns into conversation events, a batch at a time."""

    redis: aioredis.Redis
    owner: str
    batch: int = BATCH
    clock: Clock = field(default_factory=SystemClock)  # when campaign.finished is stamped

    async def run_all(self) -> int:
        total = 0
        for member in await self.redis.smembers(keys.CAMPAIGNS_RUNNING):
            merchant_id, _, campaign_id = member.partition("/")
            total += await self.run(merchant_id, campaign_id)
        return total

    async def run(self, merchant_id: str, campaign_id: str, max_batches: int = 10_000) -> int:
        """Enqueue what is left of one campaign while it runs; returns how many were sent in."""
        lease = keys.campaign_enqueue_lease(merchant_id, campaign_id)
        if not await self.redis.eval(TAKE_OR_EXTEND, 1, lease, self.owner, str(LEASE_MS)):
            return 0  # another process enqueues it
        try:
            return await self._run(merchant_id, campaign_id, lease, max_batches)
        finally:
            await self.redis.eval(RELEASE_IF_OURS, 1, lease, self.owner)

    async def _run(self, merchant_id: str, campaign_id: str, lease: str, batches: int) -> int:
        status = await store.load(self.redis, merchant_id, campaign_id)
        member = f"{merchant_id}/{campaign_id}"
        if status is None or status.state in ("cancelled", "draft"):
            await self.redis.srem(keys.CAMPAIGNS_RUNNING, member)
            return 0
        total = status.total
        if total is None:
            total = await self._fix_recipients(status.campaign)
        cursor, enqueued = status.cursor, 0
        name = keys.campaign(merchant_id, campaign_id)
        for _ in range(batches):
            if cursor >= total:
                await self.redis.srem(keys.CAMPAIGNS_RUNNING, member)
                await merchant_webhooks.campaign_finished(
                    self.redis, merchant_id, campaign_id, total, self.clock.now()
                )
                break
            if await self.redis.hget(name, "state") != "running":
                break  # paused: resume hands it back; cancelled: dropped next time
            recipients = await self.redis.lrange(
                keys.campaign_recipients(merchant_id, campaign_id), cursor, cursor + self.batch - 1
            )
            await self._ingest_batch(status.campaign, recipients)
            cursor += len(recipients)
            enqueued += len(recipients)
            # After the batch, never before: a crash in between enqueues it again (deduped).
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(name, "cursor", cursor)
                pipe.eval(TAKE_OR_EXTEND, 1, lease, self.owner, str(LEASE_MS))
                await pipe.execute()
        return enqueued

    async def _fix_recipients(self, campaign: store.Campaign) -> int:
        """The audience as it is at the first start, with each recipient's channel and variant.

        Written in one MULTI with `total`, so a crash before it leaves nothing half-written and
        the next enqueuer computes it again.
        """
        audience = await customers.get_audience(
            self.redis, campaign.merchant_id, campaign.audience_id
        )
        people = (
            await customers.members(self.redis, campaign.merchant_id, audience) if audience else []
        )
        shares = [v.share for v in campaign.variants]
        own = await senders.merchant_refs(self.redis, campaign.merchant_id)
        rows = []
        for person in people:
            channel = next((c for c in campaign.channels if c in person.channels), None)
            if channel is None:
                continue
            rows.append(
                json.dumps(
                    [
                        person.id,
                        # The merchant's own sender on that channel, if it has one.
                        conversation_key(
                            ChannelName(channel), person.channels[channel], own.get(channel)
                        ),
                        pick_variant(campaign.id, person.id, shares),
                    ],
                    separators=(",", ":"),
                )
            )
        recipients = keys.campaign_recipients(campaign.merchant_id, campaign.id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(recipients)
            for start in range(0, len(rows), 10_000):
                pipe.rpush(recipients, *rows[start : start + 10_000])
            pipe.hset(keys.campaign(campaign.merchant_id, campaign.id), "total", len(rows))
            await pipe.execute()
        return len(rows)

    async def _ingest_batch(self, campaign: store.Campaign, rows: list[str]) -> None:
        """`ingest` for a batch: its dedupe-and-append script per recipient (each on that
        conversation's slot), then the pending set and the wake-ups, in one round trip."""
        conversations = []
        # EVALSHA rather than EVAL: the digest, not the script's text, per recipient. Loaded
        # for each batch, so a Redis restarted in between (scripts lost) costs nothing more.
        sha = await self.redis.script_load(_INGEST)
        async with self.redis.pipeline(transaction=False) as pipe:
            for row in rows:
                customer_id, conversation, variant = json.loads(row)
                due = events.CampaignMessageDue(
                    campaign.merchant_id, campaign.id, customer_id, variant
                )
                event = events.encode(event_id(campaign.id, customer_id), conversation, due)
                ingest_keys, ingest_args = ingest_call(event)
                pipe.evalsha(sha, len(ingest_keys), *ingest_keys, *ingest_args)
                conversations.append(conversation)
            pipe.sadd(keys.PIPELINE_PENDING, *conversations)
            for first in range(0, len(conversations), WAKE_GROUP):
                group = "\n".join(conversations[first : first + WAKE_GROUP])
                pipe.xadd(keys.PIPELINE_WAKE, {"conversations": group}, maxlen=WAKE_MAXLEN)
            await pipe.execute()


@dataclass
class CampaignDispatch:
    """One `campaign_message` event, queued on the dispatch's MULTI pipeline."""

    redis: aioredis.Redis
    pipe: aioredis.client.Pipeline
    event: Event
    due: events.CampaignMessageDue
    clock: Clock
    base_url: str

    async def run(self) -> None:
        merchant_id, campaign_id = self.due.merchant_id, self.due.campaign_id
        customer_id, variant_index = self.due.customer_id, self.due.variant
        status = await store.load(self.redis, merchant_id, campaign_id)
        customer = await customers.get(self.redis, merchant_id, customer_id)
        merchant = await get_merchant(self.redis, merchant_id)
        if status is None or customer is None or merchant is None:
            log.warning(
                "campaign message without its campaign or customer",
                extra=log_fields(campaign=campaign_id),
            )
            return
        campaign = status.campaign
        now = self.clock.now()
        consented = await consent.may_market(
            self.redis, merchant_id, customer.addresses(), via=self.event.conversation
        )
        verdict = decide(
            state=status.state,
            now=now,
            window_start=campaign.window_start,
            window_end=campaign.window_end,
            consented=consented,
            zone=customer.timezone,
        )
        variant = campaign.variants[min(variant_index, len(campaign.variants) - 1)]
        counts = keys.campaign_counts(merchant_id, campaign_id)
        if verdict.decision is Decision.WAIT and verdict.at is not None:
            # The same event, later: released into this conversation when due.
            schedule.schedule(
                self.pipe, f"{self.event.id}:{verdict.reason}", verdict.at, self.event
            )
            return
        if verdict.decision is not Decision.SEND:
            self.pipe.hincrby(counts, verdict.reason, 1)
            return
        link = new_link(
            self.pipe,
            self.base_url,
            {
                "merchant_id": merchant_id,
                "campaign_id": campaign_id,
                "customer_id": customer_id,
                "variant": variant.name,
                "conversation": self.event.conversation,
            },
            keep_until=campaign.window_end,
            now=now,
        )
        text = variant.text.get(customer.locale) or variant.text["fr"]
        body = text.replace("{name}", customer.name)
        body = body.replace("{link}", link) if "{link}" in body else f"{body}\n{link}"
        channel, address = split_key(self.event.conversation)
        stop_to = await stop_number(self.redis, self.event.conversation)
        body = with_marketing_mentions(
            body, customer.locale, channel.value, merchant.name, stop_to
        )
        message = OutboundMessage(
            channel=channel,
            address=address,
            text=body,
            idempotency_key=message_key(campaign_id, customer_id),
            buttons=(Button(label="Commander" if customer.locale == "fr" else "Order", url=link),),
        )
        # outbox.queue writes the record, the send queue and the wake-up; the class marks it
        # as marketing for pacing (transactional messages go first). Written with the record,
        # so the record's group is applied before its wake-up.
        outbox.queue(
            self.pipe,
            message,
            self.event.conversation,
            merchant_id=merchant_id,
            extra={
                "class": "marketing",
                "sender": merchant.name,  # outbox.queue checks the text names it
                "campaign": f"{merchant_id}/{campaign_id}/{variant.name}",
                "customer": customer_id,  # consent and hours judged again at send time
            },
        )
        # Replies to this message are read against it (CampaignReply), until the sale ends.
        self.pipe.set(
            keys.conv_offer(self.event.conversation),
            json.dumps(
                {
                    "merchant_id": merchant_id,
                    "campaign_id": campaign_id,
                    "customer_id": customer_id,
                    "variant": variant.name,
                }
            ),
            ex=max(int((campaign.window_end - now).total_seconds()), 1),
        )
        self.pipe.hincrby(counts, "sent", 1)
        self.pipe.hincrby(counts, f"{variant.name}:sent", 1)
        append_transcript(
            self.pipe,
            self.event.conversation,
            direction="out",
            text=body,
            at=now,
            ref=message.idempotency_key,
        )


def new_link(
    pipe: aioredis.client.Pipeline,
    base_url: str,
    link: dict[str, str],
    *,
    keep_until: datetime,
    now: datetime,
) -> str:
    """A personal offer link, its token stored only as its SHA-256 (like pay links).

    Kept 30 days past the end of the sale, so a late tap still shows "offer ended".
    """
    token = secrets.token_urlsafe(16)
    ttl = int((keep_until - now).total_seconds()) + LINK_KEPT_AFTER_END_SECONDS
    pipe.set(keys.offer_token(token_digest(token)), json.dumps(link), ex=max(ttl, 60))
    return f"{base_url}/o/{token}"


@dataclass
class CampaignReply:
    """A customer's answer to a campaign message, in a conversation without an invoice."""

    redis: aioredis.Redis
    pipe: aioredis.client.Pipeline
    event: Event
    clock: Clock
    base_url: str
    timezone: str
    agent_return_hours: float

    async def run(self, offer_raw: str) -> bool:
        """True when handled here; False lets the usual conversation answer (STOP...)."""
        message = events.decode(self.event)
        if not isinstance(message, InboundMessage) or message.kind is not InboundKind.TEXT:
            return False
        offer = json.loads(offer_raw)
        merchant_id, campaign_id = offer["merchant_id"], offer["campaign_id"]
        customer = await customers.get(self.redis, merchant_id, offer["customer_id"])
        status = await store.load(self.redis, merchant_id, campaign_id)
        if customer is None or status is None:
            return False
        now = self.clock.now()
        text = mask_card_numbers(message.text)
        meaning = understand(text, locale=customer.locale, now=now, tz=self.timezone)
        kind = read_reply(text, meaning.intent.value)
        if kind is ReplyKind.USUAL:
            return False
        conversation = self.event.conversation
        append_transcript(
            self.pipe, conversation, direction="in", text=text, at=now, ref=self.event.id
        )
        link = ""
        if kind is ReplyKind.LINK_AGAIN:
            link = new_link(
                self.pipe,
                self.base_url,
                {**offer, "conversation": conversation},
                keep_until=status.campaign.window_end,
                now=now,
            )
        else:
            # Waiting for a person of this merchant: the console's actions and the return timer
            # work on it like any hand-over, without an invoice (flows.agent, decisions.md).
            state = await load_state(self.redis, conversation)
            if state.status is ConversationStatus.BOT:
                waiting = state.evolve(
                    merchant_id=merchant_id,
                    status=ConversationStatus.WAITING_AGENT,
                    agent_seen=now.isoformat(),
                )
                save_state(self.pipe, conversation, waiting)
                back = timedelta(hours=self.agent_return_hours)
                handover.timer(self.pipe, conversation, now + back, merchant_id)
            self.pipe.zadd(
                keys.waiting_conversations(merchant_id), {conversation: now.timestamp()}, nx=True
            )
            self.pipe.set(
                keys.handoff(merchant_id, conversation),
                json.dumps(
                    {
                        "reason": "campaign_question",
                        "since": now.isoformat(),
                        "campaign_id": campaign_id,
                        "customer_name": customer.name,
                        "channel": split_key(conversation)[0].value,
                    }
                ),
            )
        body = reply_text(kind, customer.locale, product=status.campaign.offer.product, link=link)
        channel, address = split_key(conversation)
        answer = OutboundMessage(channel, address, body, f"{self.event.id}:0")
        outbox.queue(self.pipe, answer, conversation, merchant_id=merchant_id)
        append_transcript(
            self.pipe, conversation, direction="out", text=body, at=now, ref=answer.idempotency_key
        )
        return True
