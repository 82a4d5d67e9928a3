"""Abandoned carts: one relaunch in the customer's chat, as an event of their conversation.

Recording a cart schedules `cart_relaunch` in the conversation of the customer's first channel
at the merchant's delay. When it is dispatched, a cart still open gets one message with its
pay link — under the marketing rules (consent now, quiet hours: it waits for the morning) —
and becomes `relaunched`; a cart paid meanwhile (the shop said so) gets nothing. The state
moves by a script that only leaves `open`, so a payment recorded at the same moment is kept;
the move to `relaunched` runs before the commit, and the message is queued only if it
succeeded (a payment landing during the dispatch means no relaunch).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import timedelta

import redis.asyncio as aioredis

from bot.clock import Clock
from bot.engine import events, outbox, schedule
from bot.engine.facts import stop_number
from bot.engine.pipeline import Event
from bot.store import carts, consent, customers, keys, senders
from bot.store.carts import MOVE_STATE
from bot.store.conversations import append_transcript, conversation_key, split_key
from bot.store.merchants import get_merchant
from channels.base import Button, ChannelName, OutboundMessage
from flows.campaign import Decision, cart_text, decide, with_marketing_mentions
from payments.money import Money, format_money

log = logging.getLogger(__name__)

EVENT_TYPE = events.CartRelaunchDue.TYPE


class UnknownCustomer(ValueError):
    pass


async def record(redis: aioredis.Redis, merchant_id: str, cart: carts.Cart, clock: Clock) -> bool:
    """Store the cart and schedule its relaunch; False when it existed (nothing changed)."""
    customer = await customers.get(redis, merchant_id, cart.customer_id)
    if customer is None or not customer.channels:
        raise UnknownCustomer(cart.customer_id)
    if not await carts.create(redis, merchant_id, cart):
        return False
    channel, address = next(iter(customer.channels.items()))
    own = await senders.merchant_refs(redis, merchant_id)
    conversation = conversation_key(ChannelName(channel), address, own.get(channel))
    job = f"cart:{merchant_id}:{cart.id}"
    event = events.encode(job, conversation, events.CartRelaunchDue(merchant_id, cart.id))
    async with redis.pipeline(transaction=True) as pipe:
        schedule.schedule(pipe, job, clock.now() + timedelta(minutes=cart.delay_minutes), event)
        await pipe.execute()
    return True


@dataclass
class CartRelaunch:
    redis: aioredis.Redis
    pipe: aioredis.client.Pipeline
    event: Event
    due: events.CartRelaunchDue
    clock: Clock

    async def run(self) -> None:
        merchant_id, cart_id = self.due.merchant_id, self.due.cart_id
        relaunch_id = self.due.origin or self.event.id
        found = await carts.load(self.redis, merchant_id, cart_id)
        if found is None or found[1] not in ("open", "relaunched"):
            return  # paid or cancelled meanwhile: no relaunch
        cart, _state = found
        customer = await customers.get(self.redis, merchant_id, cart.customer_id)
        merchant = await get_merchant(self.redis, merchant_id)
        if customer is None or merchant is None:
            return
        now = self.clock.now()
        verdict = decide(
            state="running",
            now=now,
            window_start=None,
            window_end=None,
            consented=await consent.may_market(
                self.redis, merchant_id, customer.addresses(), via=self.event.conversation
            ),
            zone=customer.timezone,
        )
        if verdict.decision is Decision.WAIT and verdict.at is not None:
            waited = dataclasses.replace(self.due, origin=relaunch_id)
            later = events.encode(relaunch_id, self.event.conversation, waited)
            schedule.schedule(self.pipe, f"{relaunch_id}:wait", verdict.at, later)
            return
        name = keys.cart(merchant_id, cart_id)
        if verdict.decision is not Decision.SEND:
            self.pipe.eval(MOVE_STATE, 1, name, "skipped", "open")
            self.pipe.hincrby(keys.cart_counts(merchant_id), "skipped_no_consent", 1)
            return
        # Moved now, not in the commit: a payment recorded since the load above wins, and
        # then nothing is queued (a deferred move could fail while its message still went).
        if not await carts.take_for_relaunch(self.redis, merchant_id, cart_id, relaunch_id):
            return
        self.pipe.hincrby(keys.cart_counts(merchant_id), "relaunched", 1)
        amount = format_money(Money(cart.amount, cart.currency), customer.locale)
        text = cart_text(customer.locale, customer.name, amount, cart.pay_url)
        channel, address = split_key(self.event.conversation)
        stop_to = await stop_number(self.redis, self.event.conversation)
        text = with_marketing_mentions(
            text, customer.locale, channel.value, merchant.name, stop_to
        )
        label = "Finaliser" if customer.locale == "fr" else "Complete"
        message = OutboundMessage(
            channel,
            address,
            text,
            f"cart:{merchant_id}:{cart_id}:relaunch",
            buttons=(Button(label=label, url=cart.pay_url),),
        )
        outbox.queue(
            self.pipe,
            message,
            self.event.conversation,
            merchant_id=merchant_id,
            # With the record, before its wake-up; consent and hours judged again at send time.
            extra={
                "class": "marketing",
                "sender": merchant.name,  # outbox.queue checks the text names it
                "customer": cart.customer_id,
                "cart": cart_id,
            },
        )
        append_transcript(
            self.pipe,
            self.event.conversation,
            direction="out",
            text=text,
            at=now,
            ref=message.idempotency_key,
        )
