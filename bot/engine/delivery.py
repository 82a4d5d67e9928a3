"""What a failed delivery reported by status callback does to a message we thought sent.

Twilio accepts a message (201) and only later says it did not arrive: SMS "undelivered" with
30003 (unreachable handset), 30005 (unknown destination), 30006 (landline or unreachable
carrier); WhatsApp "failed" with 63003/63024/131026 (not on WhatsApp, unreachable), 63016 or
131047 (outside the 24 h window), 63014 (blocked). The message is marked failed and listed for
its merchant; an unreachable customer gets it once on their next known channel (after 30003,
often temporary, one more SMS 15 minutes later first: TESTCASES 37); a window error sends it
again as its template on WhatsApp itself, or on the next channel when it has none
(PROVIDERS §2.4, §2.6).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from bot.engine import marketing_gate, outbox
from bot.logs import log_fields
from bot.store import delivery_timeline, handover, keys, sms_reach, whatsapp_window
from channels.base import ChannelName, DeliveryReport, DeliveryState, OutboundMessage
from channels.twilio_sms import OPTED_OUT_CODES
from channels.twilio_whatsapp import MARKETING_OPT_OUT_CODES, UNREACHABLE_CODES, WINDOW_CODES

log = logging.getLogger(__name__)

SMS_UNDELIVERABLE_CODES = frozenset({30003, 30005, 30006})
# 30003 (unreachable handset) is often temporary: one delayed try on SMS first (TESTCASES 37).
SMS_RETRY_ONCE_CODES = frozenset({30003})
SMS_RETRY_DELAY = timedelta(minutes=15)
SMS_NOT_CAPABLE_CODES = frozenset({30006})  # landline or unreachable carrier: for good
RETRY_SUFFIX = ":retry"
_FALLBACK_CODES = {
    ChannelName.SMS: SMS_UNDELIVERABLE_CODES,
    ChannelName.WHATSAPP: UNREACHABLE_CODES,
}


async def announce(redis: aioredis.Redis, report: DeliveryReport) -> None:
    """A recorded status callback, pushed to the consoles of the message's merchant (the
    conversation's transcript shows each outbound message's delivery state)."""
    key = await redis.get(keys.outbox_by_provider_id(report.provider_message_id))
    record = await outbox.load(redis, key) if key else None
    if record is not None and record.merchant_id:
        await handover.publish_delivery(redis, record.merchant_id, record.conversation)


async def after_report(redis: aioredis.Redis, report: DeliveryReport, now: datetime) -> None:
    """Act on a status callback that says the message did not arrive; one that says it did
    counts a campaign message as delivered (its variant's conversion)."""
    if report.state in (DeliveryState.DELIVERED, DeliveryState.READ):
        await marketing_gate.count_delivered(redis, report.provider_message_id)
        return
    if report.state not in (DeliveryState.UNDELIVERED, DeliveryState.FAILED):
        return
    try:
        code = int(report.error_code or "")
    except ValueError:
        code = 0
    key = await redis.get(keys.outbox_by_provider_id(report.provider_message_id))
    record = await outbox.load(redis, key) if key else None
    if record is None or record.state is not DeliveryState.SENT:
        return  # not ours, or already dealt with
    name = keys.outbox_message(record.key)
    if not await redis.hsetnx(name, "undelivered_code", str(code)):
        return  # a duplicate callback
    channel = record.message.channel
    error = f"Undelivered{code}" if code else "Undelivered"
    replaced_by = await _replace(redis, record, code, now)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.hset(
            name,
            mapping={
                "state": DeliveryState.FAILED.value,
                "last_error": error,
                "failed_at": now.isoformat(),
                # A sent record keeps its content only for a while (bot.engine.outbox
                # `SENT_BODY_SECONDS`); a failed one is listed for its merchant with it.
                **_content(record),
            },
        )
        if record.merchant_id:
            pipe.zadd(
                keys.merchant_failed_messages(record.merchant_id), {record.key: now.timestamp()}
            )
        await pipe.execute()
    if record.merchant_id and record.invoice_id:
        await delivery_timeline.note(
            redis,
            record.merchant_id,
            record.invoice_id,
            at=now,
            message_id=record.key,
            channel=channel.value,
            error=error,
            replaced_by=replaced_by.value if replaced_by else None,
        )
    log.error(
        "message not delivered",
        extra=log_fields(key=record.key, channel=channel, error=error, alert=True),
    )


def _content(record: outbox.OutboxRecord) -> dict[str, str]:
    content = {"message": json.dumps(record.message.to_dict())}
    if record.merchant_id:
        content["merchant_id"] = record.merchant_id
    if record.invoice_id:
        content["invoice_id"] = record.invoice_id
    return content


async def _replace(
    redis: aioredis.Redis, record: outbox.OutboxRecord, code: int, now: datetime
) -> ChannelName | None:
    """Send the content again where it can arrive; returns the channel it was queued on."""
    channel = record.message.channel
    replaced_by: ChannelName | None = None
    if channel is ChannelName.WHATSAPP and code in WINDOW_CODES:
        # Our view of the window was wrong: forget it until the customer writes again.
        await whatsapp_window.forget(redis, record.message.address, record.message.sender)
        if record.message.template:
            await _resend_as_template(redis, record)
            replaced_by = ChannelName.WHATSAPP
        else:  # free text only: it cannot go on WhatsApp now
            replaced_by = await outbox.fall_back_once(redis, record, now)
    elif (
        channel is ChannelName.SMS
        and code in SMS_RETRY_ONCE_CODES
        and not record.key.endswith(RETRY_SUFFIX)
        and not record.fallback_of
    ):
        await _retry_later(redis, record, now + SMS_RETRY_DELAY)
        replaced_by = ChannelName.SMS
    elif channel is ChannelName.WHATSAPP and code in MARKETING_OPT_OUT_CODES:
        # Reported after acceptance: the same as when the send is refused at once.
        await outbox.record_whatsapp_marketing_opt_out(redis, record, now)
    else:
        if code in OPTED_OUT_CODES:
            await outbox.record_carrier_opt_out(redis, record, now)
        if channel is ChannelName.SMS and code in SMS_NOT_CAPABLE_CODES:
            # Later SMS to this number are not even tried (bot.store.sms_reach).
            await sms_reach.mark(redis, record.message.address, code, now)
        if code in _FALLBACK_CODES.get(channel, frozenset()):
            replaced_by = await outbox.fall_back_once(redis, record, now)
    return replaced_by


async def _retry_later(redis: aioredis.Redis, record: outbox.OutboxRecord, due: datetime) -> None:
    """The same SMS once more at `due`; if that one is undelivered too, it falls back."""
    again = dataclasses.replace(record.message, idempotency_key=record.key + RETRY_SUFFIX)
    # Written before it is queued, so that no sender takes it before its time.
    await redis.hset(keys.outbox_message(again.idempotency_key), "retry_at", repr(due.timestamp()))
    await redis.zadd(keys.OUTBOX_RETRY, {again.idempotency_key: due.timestamp()})
    await outbox.queue_now(
        redis,
        again,
        record.conversation,
        merchant_id=record.merchant_id,
        invoice_id=record.invoice_id,
    )
    await redis.hset(keys.outbox_message(record.key), "fallback", again.idempotency_key)


async def _resend_as_template(redis: aioredis.Redis, record: outbox.OutboxRecord) -> None:
    """Send the message again; with the window closed the adapter picks its template."""
    message = record.message
    again = OutboundMessage(
        channel=message.channel,
        address=message.address,
        text=message.text,
        idempotency_key=f"{record.key}:template",
        buttons=message.buttons,
        template=message.template,
    )
    await outbox.queue_now(
        redis,
        again,
        record.conversation,
        merchant_id=record.merchant_id,
        invoice_id=record.invoice_id,
        fallback_of=record.key,
    )
    await redis.hset(keys.outbox_message(record.key), "fallback", again.idempotency_key)
