"""Load what a flow may know about a conversation's invoice (the flow itself does no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.engine.pipeline import Read
from bot.store import consent, keys, senders
from bot.store import policy as collection_policy
from bot.store.conversations import person_key, sender_of, split_key
from bot.store.invoices import customer_address
from bot.store.ledger import InvoiceExtras, Plan, load_extras
from bot.store.merchants import Merchant, get_merchant
from bot.store.policy import CollectionPolicy
from channels.base import ChannelName
from flows.model import Facts, InstalmentFacts, InvoiceFacts, PayLaterPolicy
from payments.instalments import InstalmentPolicy
from payments.invoice import Invoice
from payments.money import Money

# Split from 50 € (payments.instalments.SPLIT_MINIMUMS: other currencies are not split) in 2 or
# 3 payments over at most 90 days (LEGAL_FR §4.3); 4 only for a merchant who chose it.
DEFAULT_SPLIT_POLICY = InstalmentPolicy(allowed_parts=(2, 3))
DEFAULT_PAY_LATER_POLICY = PayLaterPolicy(max_days_after_due=30)


def split_policy(max_instalments: int) -> InstalmentPolicy:
    """The default policy, in 2 up to `max_instalments` payments."""
    return replace(DEFAULT_SPLIT_POLICY, allowed_parts=tuple(range(2, max_instalments + 1)))


def split_policy_for(merchant: Merchant | None) -> InstalmentPolicy:
    """The merchant's own maximum number of instalments (`merchant create --max-instalments`)."""
    return split_policy(merchant.max_instalments) if merchant else DEFAULT_SPLIT_POLICY


class Reads:
    """What a dispatch reads, gathered: values read up front in one pipeline per stage and
    served to the store's own readers (`get_invoice`, `load_extras`, `consent.is_opted_out`...,
    called as they are, with this object for their Redis), so parsing stays theirs.

    A read not gathered goes to Redis as before (a round trip); anything else (writes,
    scripts, other commands) goes straight to the client. Every value is read before the
    commit, as the handler's own reads always were: the handler never reads its own writes.
    """

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._values: dict[Read, Any] = {}

    def know(self, read: Read, value: Any) -> None:
        """A value read elsewhere in this dispatch (the dispatcher's lock step)."""
        self._values[read] = value

    def know_all(self, values: Mapping[Read, Any]) -> None:
        self._values.update(values)

    async def fetch(self, reads: Iterable[Read]) -> None:
        """Read, in one round trip, those of `reads` not read yet (none: no round trip)."""
        missing = [r for r in dict.fromkeys(reads) if r not in self._values]
        if not missing:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for read in missing:
                pipe.execute_command(*read)
            values = await pipe.execute(raise_on_error=False)
        for read, value in zip(missing, values, strict=True):
            if not isinstance(value, Exception):  # refused: the reader's own call says why
                self._values[read] = value

    async def _one(self, read: Read) -> Any:
        if read not in self._values:
            await self.fetch([read])
        if read not in self._values:
            return await self._redis.execute_command(*read)
        return self._values[read]

    async def get(self, name: str) -> Any:
        return await self._one(("GET", name))

    async def exists(self, *names: str) -> Any:
        if len(names) != 1:
            return await self._redis.exists(*names)
        return await self._one(("EXISTS", names[0]))

    async def zrange(self, name: str, start: int, end: int, **options: Any) -> Any:
        if (start, end) != (0, -1) or options:
            return await self._redis.zrange(name, start, end, **options)
        return list(await self._one(zrange_all(name)))

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> _Batch:
        """For readers that pipeline their reads (`load_extras`): GET and EXISTS only."""
        return _Batch(self)

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    def __getattr__(self, name: str) -> Any:
        return getattr(self._redis, name)


class _Batch:
    """A reader's own pipeline: GETs and EXISTSs answered from `Reads`; one with any other
    command is sent to Redis as it is, every command in its order."""

    def __init__(self, reads: Reads) -> None:
        self._reads = reads
        self._queued: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    async def __aenter__(self) -> _Batch:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._queued = []

    def __getattr__(self, name: str) -> Callable[..., _Batch]:
        def queue(*args: Any, **options: Any) -> _Batch:
            self._queued.append((name, args, options))
            return self

        return queue

    async def execute(self) -> list[Any]:
        gathered = [
            (name.upper(), *args)
            for name, args, options in self._queued
            if name in ("get", "exists") and len(args) == 1 and not options
        ]
        if len(gathered) == len(self._queued):
            await self._reads.fetch(gathered)
            return [await self._reads._one(read) for read in gathered]
        async with self._reads.client.pipeline(transaction=False) as pipe:
            for name, args, options in self._queued:
                getattr(pipe, name)(*args, **options)
            result: list[Any] = await pipe.execute()
        return result


def zrange_all(key: str) -> Read:
    return ("ZRANGE", key, "0", "-1")


def extras_reads(merchant_id: str, invoice_id: str) -> list[Read]:
    """What `load_extras` reads (bot.store.ledger)."""
    return [
        ("GET", keys.invoice_plan(merchant_id, invoice_id)),
        ("GET", keys.invoice_promise(merchant_id, invoice_id)),
        ("EXISTS", keys.invoice_paused(merchant_id, invoice_id)),
        ("GET", keys.invoice_reward(merchant_id, invoice_id)),
    ]


def invoice_reads(merchant_id: str, invoice_id: str) -> list[Read]:
    """What `invoice_facts` reads for one invoice of `merchant_id`, its locator included."""
    return [
        ("GET", keys.invoice_locator(invoice_id)),
        ("GET", keys.invoice(merchant_id, invoice_id)),
        ("GET", keys.merchant(merchant_id)),
        ("GET", keys.merchant_policy(merchant_id)),
        *extras_reads(merchant_id, invoice_id),
    ]


def consent_reads(merchant_id: str, addresses: Iterable[str], conversation: str) -> list[Read]:
    """What `load_facts` asks `consent` for these addresses (as the person, any sender)."""
    people = sorted({person_key(a) for a in addresses})
    return [
        *(
            ("GET", keys.consent(owner, a))
            for owner in (merchant_id, keys.NO_MERCHANT)
            for a in people
        ),
        ("EXISTS", keys.consent_channel_marketing(merchant_id, person_key(conversation))),
    ]


def sender_reads(conversation: str) -> list[Read]:
    """What `stop_number` reads: the conversation's own SMS sender, if it has one."""
    channel, _address = split_key(conversation)
    ref = sender_of(conversation)
    if channel is not ChannelName.SMS or ref is None:
        return []
    return [("GET", keys.channel_sender(channel.value, ref))]


def customer_addresses(invoice: Invoice, conversation: str) -> list[str]:
    """Every address we know for the invoice's customer: consent follows the person."""
    addresses = {conversation}
    channel, address = customer_address(invoice)
    addresses.add(f"{channel.value}:{address}")
    if invoice.customer.phone:
        addresses.add(f"sms:{invoice.customer.phone}")
    if invoice.customer.telegram_chat_id is not None:
        addresses.add(f"telegram:{invoice.customer.telegram_chat_id}")
    return sorted(addresses)


async def load_facts(
    redis: aioredis.Redis,
    invoice: Invoice | None,
    *,
    conversation: str,
    base_url: str,
    now: datetime,
    timezone: str,
    updated_plan: Plan | None = None,
) -> Facts:
    stop_to = await stop_number(redis, conversation)
    if invoice is None:
        return Facts(invoice=None, now=now, timezone=timezone, stop_to=stop_to)
    addresses = customer_addresses(invoice, conversation)
    # Marketing stopped on this channel only (WhatsApp, Meta 131050) counts here: a START in
    # this conversation lifts it, a STOP finds it done.
    opted_out = await consent.is_opted_out(
        redis, invoice.merchant_id, addresses
    ) or await consent.channel_opted_out(redis, invoice.merchant_id, conversation)
    policy = await collection_policy.load_all(redis, invoice.merchant_id)
    return Facts(
        invoice=await invoice_facts(redis, invoice, base_url, updated_plan, policy),
        now=now,
        # The customer's own zone when the invoice gives one: "demain", 10:00, quiet hours.
        timezone=invoice.customer.timezone or timezone,
        customer_timezone=invoice.customer.timezone,
        opted_out=opted_out,
        # Read when the invoice is issued; each reminder then carries it (flows.dunning).
        dunning_policy=policy.reminders,
        languages=policy.languages,
        stop_to=stop_to,
    )


async def stop_number(redis: aioredis.Redis, conversation: str) -> str | None:
    """Where the customer texts STOP when the conversation's SMS sender is an alphanumeric
    ID nobody can answer: the merchant's reply number (None: "reply STOP" works)."""
    channel, _address = split_key(conversation)
    ref = sender_of(conversation)
    if channel is not ChannelName.SMS or ref is None:
        return None
    sender = await senders.by_ref(redis, channel, ref)
    return sender.reply_number if sender is not None and sender.alphanumeric else None


async def invoice_facts(
    redis: aioredis.Redis,
    invoice: Invoice,
    base_url: str,
    updated_plan: Plan | None = None,
    policy: CollectionPolicy | None = None,
) -> InvoiceFacts:
    """`updated_plan`: a plan changed by the event being dispatched, not yet committed."""
    merchant = await get_merchant(redis, invoice.merchant_id)
    extras = await load_extras(redis, invoice.merchant_id, invoice.id)
    if updated_plan is not None:
        extras = replace(extras, plan=updated_plan)
    if policy is None:
        policy = await collection_policy.load_all(redis, invoice.merchant_id)
    return facts_of(invoice, extras, merchant, base_url, policy)


def facts_of(
    invoice: Invoice,
    extras: InvoiceExtras,
    merchant: Merchant | None,
    base_url: str,
    policy: CollectionPolicy | None = None,
) -> InvoiceFacts:
    """What the flow sees of a stored invoice, its plan, promise and pause (pure: the flow
    tests build their facts with it too, so they see exactly what dispatch shows)."""
    pay_url = f"{base_url}/p/{invoice.pay_token}"
    instalments = tuple(
        InstalmentFacts(
            number=i.number,
            amount=Money(i.amount, invoice.currency),
            due_date=i.due_date,
            status=i.status,
            pay_url=f"{pay_url}/{i.number}",
        )
        for i in (extras.plan.instalments if extras.plan else ())
    )
    return InvoiceFacts(
        invoice_id=invoice.id,
        merchant_name=merchant.name if merchant else invoice.seller.legal_name,
        customer_name=invoice.customer.name,
        number=invoice.number,
        gross=Money(invoice.totals.gross, invoice.currency),
        amount_due=Money(invoice.amount_due, invoice.currency),
        due_date=invoice.due_date,
        status=invoice.status.value,
        pay_url=pay_url,
        invoice_url=f"{base_url}/i/{invoice.view_token}",
        instalments=instalments,
        promise_date=extras.promise,
        reminders_paused=extras.paused,
        # The merchant's policy (GET/PUT /api/v1/policy), else the defaults.
        pay_later_policy=policy.pay_later if policy else DEFAULT_PAY_LATER_POLICY,
        split_policy=(policy.split if policy else None) or split_policy_for(merchant),
        customer_is_business=invoice.customer.is_business,
        late_penalty_rate=invoice.seller.late_penalty_rate,
        reward=invoice.reward,
        counted=extras.counted,
        reward_granted=extras.reward,
    )
