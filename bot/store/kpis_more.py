"""Figures beyond the invoices' own: conversations (hand-over rate, agents' first response,
messages and SMS segments per paid invoice) and campaigns. `conversation_figures` and
`campaign_figures` are pure (tested on known data sets); `load_*` read Redis.

Conversations are read from their transcripts: what the bot and agents said since each
invoice's issue date. A customer's conversation is shared by their invoices, so a message is
counted for each of their invoices issued before it (an over-count only for customers with
several open invoices at once; documented in docs/decisions.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import redis.asyncio as aioredis

from bot.store import campaigns as campaign_store
from bot.store import keys, kpis, kpis_charts
from bot.store.conversations import transcript
from bot.store.desk import CLOSED
from bot.store.invoices import invoice_conversation
from channels.sms_text import segment_count
from payments.invoice import Invoice


@dataclass(frozen=True, slots=True)
class Said:
    at: datetime
    outbound: bool
    by_agent: bool
    text: str


@dataclass(frozen=True, slots=True)
class Conversation:
    invoice: Invoice
    lines: Sequence[Said]
    handed_over_at: datetime | None  # the first hand-over since the invoice was issued


@dataclass(frozen=True, slots=True)
class ConversationFigures:
    invoices: int
    handed_over: int
    handover_rate: float | None
    first_response_seconds_median: float | None  # hand-over → an agent's first message
    paid: int
    messages_per_paid_invoice: float | None
    sms_segments_per_paid_invoice: float | None

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def _ratio(part: float, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def conversation_figures(rows: Iterable[Conversation]) -> ConversationFigures:
    rows = list(rows)
    handed = [r for r in rows if r.handed_over_at is not None]
    responses = []
    for r in handed:
        assert r.handed_over_at is not None
        first = next((s.at for s in r.lines if s.by_agent and s.at >= r.handed_over_at), None)
        if first is not None:
            responses.append((first - r.handed_over_at).total_seconds())
    paid = [r for r in rows if r.invoice.status in CLOSED]
    messages = sum(sum(1 for s in r.lines if s.outbound) for r in paid)
    segments = sum(
        sum(segment_count(s.text) for s in r.lines if s.outbound)
        for r in paid
        if r.invoice.channel == "sms"
    )
    return ConversationFigures(
        invoices=len(rows),
        handed_over=len(handed),
        handover_rate=_ratio(len(handed), len(rows)),
        first_response_seconds_median=float(statistics.median(responses)) if responses else None,
        paid=len(paid),
        messages_per_paid_invoice=_ratio(messages, len(paid)),
        sms_segments_per_paid_invoice=_ratio(segments, len(paid)),
    )


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def record_handoff(pipe: aioredis.client.Pipeline, invoice: Invoice, at: datetime) -> None:
    """When an invoice's conversation was first handed to a person (the hand-over rate)."""
    pipe.zadd(keys.merchant_handoffs(invoice.merchant_id), {invoice.id: at.timestamp()}, nx=True)


async def load_conversations(
    redis: aioredis.Redis, merchant_id: str, invoices: Iterable[Invoice]
) -> list[Conversation]:
    said: dict[str, list[Said]] = {}
    rows = []
    for invoice in invoices:
        conversation = invoice_conversation(invoice)
        if conversation not in said:
            said[conversation] = [
                Said(
                    _aware(datetime.fromisoformat(e["at"])),
                    e.get("dir") == "out",
                    bool(e.get("by")),
                    str(e.get("text", "")),
                )
                for e in await transcript(redis, conversation)
                if e.get("at")
            ]
        since = invoice.issue_date.isoformat()
        lines = [s for s in said[conversation] if s.at.date().isoformat() >= since]
        score = await redis.zscore(keys.merchant_handoffs(merchant_id), invoice.id)
        handed = None if score is None else datetime.fromtimestamp(float(score), tz=UTC)
        rows.append(Conversation(invoice, lines, handed))
    return rows


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    campaign_id: str
    name: str
    state: str
    sent: int
    clicked: int
    paid: int
    revenue: int
    conversion: float | None  # paid / delivered (a message that never arrived cannot convert)
    delivered: int = 0

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def campaign_figures(
    campaign_id: str, name: str, state: str, counts: Mapping[str, int]
) -> CampaignFigures:
    delivered, paid = counts.get("delivered", 0), counts.get("paid", 0)
    return CampaignFigures(
        campaign_id,
        name,
        state,
        counts.get("sent", 0),
        counts.get("clicked", 0),
        paid,
        counts.get("revenue", 0),
        _ratio(paid, delivered),
        delivered,
    )


async def load_campaigns(
    redis: aioredis.Redis, merchant_id: str, start: datetime, end: datetime
) -> list[CampaignFigures]:
    """Campaigns created in [start, end]."""
    ids = await redis.zrangebyscore(
        keys.merchant_campaigns(merchant_id), start.timestamp(), end.timestamp()
    )
    found = []
    for campaign_id in ids:
        status = await campaign_store.load(redis, merchant_id, campaign_id)
        if status is not None:
            found.append(
                campaign_figures(campaign_id, status.campaign.name, status.state, status.counts)
            )
    return found


async def report(
    redis: aioredis.Redis, merchant_id: str, start: date, end: date, today: date
) -> dict[str, Any]:
    """Everything the KPI page and `GET /api/v1/kpis` show, JSON-ready."""
    facts = [
        f for f in await kpis.load(redis, merchant_id) if start <= f.invoice.issue_date <= end
    ]
    figures = kpis.compute(facts, start, end, today)
    rows = await load_conversations(redis, merchant_id, [f.invoice for f in facts])
    conversations = {"all": conversation_figures(rows).to_dict()}
    for channel in sorted({str(r.invoice.channel) for r in rows}):
        chosen = [r for r in rows if str(r.invoice.channel) == channel]
        conversations[channel] = conversation_figures(chosen).to_dict()
    first = datetime.combine(start, time.min, tzinfo=UTC) - timedelta(days=1)
    last = datetime.combine(end, time.max, tzinfo=UTC) + timedelta(days=1)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "figures": {name: f.to_dict() for name, f in figures.items()},
        "conversations": conversations,
        "campaigns": [c.to_dict() for c in await load_campaigns(redis, merchant_id, first, last)],
        "delays": kpis_charts.delay_buckets(facts),
        "weeks": [w.to_dict() for w in kpis_charts.weekly(facts, start, end)],
    }
