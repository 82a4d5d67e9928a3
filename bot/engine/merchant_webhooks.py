"""Deliver outgoing webhooks to the merchant's endpoints: signed, retried with backoff.

Signature like Stripe's: header `Facto-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" with the endpoint's secret>`; the receiver checks it and refuses an old `t`
(replays). `Facto-Event-Id` is stable across retries: the receiver deduplicates on it, as we
deduplicate emitted events before fan-out. A delivery is retried on a timeout, a connection
error or any non-2xx answer, after BACKOFF_SECONDS, then marked failed; every attempt goes to
the delivery log the dashboard shows.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
import redis.asyncio as aioredis

from bot.engine import egress
from bot.logs import log_fields
from bot.services import Services
from bot.store import keys
from bot.store import merchant_webhooks as store
from payments.invoice import Invoice, InvoiceStatus

log = logging.getLogger(__name__)

BACKOFF_SECONDS = (30, 120, 600, 1800, 7200, 21600)  # then failed: 7 attempts over ~8.5 hours
TIMEOUT_SECONDS = 10.0
USER_AGENT = "Facto-Webhooks/1"


def signature(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (and what the tests check the sender against)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected, f"t={timestamp},v1={parts.get('v1', '')}")


def url_host(url: str) -> str:
    return urlsplit(url).hostname or ""


def url_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def next_attempt(attempts_done: int, now: datetime) -> datetime | None:
    """After `attempts_done` failed attempts: when to try again, or None to give up."""
    if attempts_done > len(BACKOFF_SECONDS):
        return None
    return now + timedelta(seconds=BACKOFF_SECONDS[attempts_done - 1])


class MerchantWebhooks:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def run_once(self) -> int:
        """Fan out new events and make the attempts that are due; returns attempts made."""
        redis, now = self.services.redis, self.services.clock.now()
        attempts = 0
        for merchant_id in await redis.smembers(keys.WEBHOOK_MERCHANTS):
            await store.fan_out(redis, merchant_id, now)
            due = await store.due_deliveries(redis, merchant_id, now)
            if due:
                secrets = {e.id: e.secret for e in await store.endpoints(redis, merchant_id)}
                timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
                allow = self.services.settings.webhooks_allow_loopback
                connector = aiohttp.TCPConnector(
                    resolver=egress.GuardedResolver(allow_loopback=allow)
                )
                async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
                    for delivery in due:
                        await self._attempt(http, merchant_id, delivery, secrets)
                        attempts += 1
            if not await store.has_work(redis, merchant_id):
                await redis.srem(keys.WEBHOOK_MERCHANTS, merchant_id)
                if await store.has_work(redis, merchant_id):  # an event raced the SREM
                    await redis.sadd(keys.WEBHOOK_MERCHANTS, merchant_id)
        return attempts

    async def _refusal(self, url: str) -> str | None:
        """Why the URL's host is not to be reached now (SSRF, bot.engine.egress), or None.
        A name that does not resolve is left to the request, which fails and is retried."""
        try:
            await egress.check_resolved(
                url_host(url),
                url_port(url),
                allow_loopback=self.services.settings.webhooks_allow_loopback,
            )
        except egress.RefusedAddress as refused:
            return str(refused)
        except OSError:
            return None
        return None

    async def _attempt(
        self,
        http: aiohttp.ClientSession,
        merchant_id: str,
        delivery: store.Delivery,
        secrets: dict[str, str],
    ) -> None:
        redis, now = self.services.redis, self.services.clock.now()
        secret = secrets.get(delivery.endpoint)
        status: int | None = None
        if secret is None:
            await store.record_attempt(
                redis,
                merchant_id,
                delivery,
                at=now,
                status=None,
                error="endpoint removed",
                next_at=None,
                delivered=False,
            )
            return
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Facto-Event-Id": delivery.event["id"],
            "Facto-Event-Type": delivery.event["type"],
            "Facto-Signature": signature(secret, int(now.timestamp()), delivery.body),
        }
        refused = await self._refusal(delivery.url)
        if refused:  # not retried: the merchant must change the endpoint (the log says why)
            await store.record_attempt(
                redis,
                merchant_id,
                delivery,
                at=now,
                status=None,
                error=f"refused: {refused}",
                next_at=None,
                delivered=False,
            )
            return
        error = ""
        try:
            async with http.post(
                delivery.url, data=delivery.body.encode(), headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        delivered = status is not None and 200 <= status < 300
        if not delivered and not error:
            error = f"HTTP {status}"
        next_at = None if delivered else next_attempt(delivery.attempts + 1, now)
        await store.record_attempt(
            redis,
            merchant_id,
            delivery,
            at=now,
            status=status,
            error=error,
            next_at=next_at,
            delivered=delivered,
        )
        log.info(
            "merchant webhook attempt",
            extra=log_fields(
                merchant=merchant_id,
                event=delivery.event["id"],
                status=status,
                delivered=delivered,
            ),
        )


# What the rest of the engine emits: one line at each place, the event's shape here. -------
# Event ids are derived from what happened, so that a replayed commit emits the same id and
# the fan-out drops the copy.


def _event_id(*parts: object) -> str:
    return "evt_" + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:24]


def payment_applied(
    pipe: aioredis.client.Pipeline,
    before: Invoice,
    after: Invoice,
    *,
    session_id: str,
    instalment: int | None,
    instalment_paid: bool,
    at: datetime,
) -> None:
    """invoice.paid / invoice.partially_paid / instalment.paid after a payment was applied."""
    data = {
        "invoice_id": after.id,
        "number": after.number,
        "status": after.status.value,
        "amount_paid": after.amount_paid,
        "amount_due": after.amount_due,
        "currency": after.currency,
        "payment_id": session_id,
    }
    m = after.merchant_id
    if instalment is not None and instalment_paid:
        event = _event_id(after.id, "instalment", instalment)
        store.emit(
            pipe, m, "instalment.paid", event, data={**data, "instalment": instalment}, at=at
        )
    if after.amount_paid == before.amount_paid:
        return
    if after.status is InvoiceStatus.PAID:
        store.emit(pipe, m, "invoice.paid", _event_id(after.id, "paid"), data=data, at=at)
    elif after.status is InvoiceStatus.PARTIALLY_PAID:
        event = _event_id(after.id, "partially_paid", session_id)
        store.emit(pipe, m, "invoice.partially_paid", event, data=data, at=at)


def needs_review(
    pipe: aioredis.client.Pipeline, invoice: Invoice, session_id: str, reason: str, at: datetime
) -> None:
    data = {"invoice_id": invoice.id, "payment_id": session_id, "reason": reason}
    event = _event_id(invoice.id, "review", session_id, reason)
    store.emit(pipe, invoice.merchant_id, "payment.needs_review", event, data=data, at=at)


def promise_made(
    pipe: aioredis.client.Pipeline, invoice: Invoice, pay_on: date, at: datetime
) -> None:
    data = {"invoice_id": invoice.id, "number": invoice.number, "pay_on": pay_on.isoformat()}
    event = _event_id(invoice.id, "promise", pay_on)
    store.emit(pipe, invoice.merchant_id, "promise.made", event, data=data, at=at)


def handoff_requested(
    pipe: aioredis.client.Pipeline, invoice: Invoice, reason: str, at: datetime
) -> None:
    data = {"invoice_id": invoice.id, "number": invoice.number, "reason": reason}
    event = _event_id(invoice.id, "handoff", at.isoformat())
    store.emit(pipe, invoice.merchant_id, "handoff.requested", event, data=data, at=at)


async def campaign_finished(
    redis: aioredis.Redis, merchant_id: str, campaign_id: str, enqueued: int, at: datetime
) -> None:
    data = {"campaign_id": campaign_id, "recipients": enqueued}
    event = _event_id(campaign_id, "finished")
    await store.emit_now(redis, merchant_id, "campaign.finished", event, data=data, at=at)
