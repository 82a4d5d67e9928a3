"""Issue 15: every Lua script and MULTI touches keys of one hash slot (Redis Cluster ready).

A MONITOR connection records every command the code sends while real flows run; the keys of
each EVAL/EVALSHA (as declared) and of each MULTI...EXEC block (as the server itself reports
them, with COMMAND GETKEYS) must all map to one slot (redis-py's `key_slot`, the same CRC16
as CLUSTER KEYSLOT).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot

from bot.embedded_redis import EmbeddedRedis
from bot.engine import deadletters, retention
from bot.engine.pipeline import Dispatcher, Event, ingest
from bot.engine.retention import RetentionPolicy
from bot.store import keys
from tests.scenario.harness import Facto, invoice_body
from tests.scenario.test_money import invoice, pay, refund
from tests.scenario.test_refunds import dispute

pytestmark = pytest.mark.fault


@dataclass
class Atomic:
    """One script or transaction as the server saw it."""

    kind: str  # "EVAL" or "MULTI"
    commands: list[list[str]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)

    @property
    def slots(self) -> set[int]:
        return {key_slot(k.encode()) for k in self.keys}

    def describe(self) -> str:
        names = " ".join(c[0] for c in self.commands[:8])
        return f"{self.kind} [{names}] keys={sorted(self.keys)[:6]}"


class Recorder:
    def __init__(self, url: str) -> None:
        self._url = url
        self.lines: list[dict[str, Any]] = []

    @contextlib.asynccontextmanager
    async def recording(self) -> AsyncIterator[None]:
        client = aioredis.Redis.from_url(self._url, decode_responses=True)
        started = asyncio.Event()

        async def listen() -> None:
            async with client.monitor() as monitor:
                await monitor.connect()
                started.set()
                while True:  # raw lines: redis-py's parser joins the arguments with spaces
                    raw = await monitor.connection.read_response()
                    _time, data = str(raw).split(" ", 1)
                    matched = monitor.monitor_re.match(data)
                    if matched is None:
                        continue
                    _db, who, command = matched.groups()
                    args = monitor.command_re.findall(command)
                    self.lines.append({"who": who, "args": args})

        task = asyncio.create_task(listen())
        await started.wait()
        await asyncio.sleep(0.05)  # MONITOR is in effect once its OK is read
        try:
            yield
        finally:
            await asyncio.sleep(0.1)  # let the last lines arrive
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await client.aclose()

    async def atomics(self) -> list[Atomic]:
        admin = aioredis.Redis.from_url(self._url, decode_responses=True)
        admin.response_callbacks.pop("COMMAND", None)  # its parser expects COMMAND INFO
        try:
            return await self._atomics(admin)
        finally:
            await admin.aclose()

    async def _atomics(self, admin: aioredis.Redis) -> list[Atomic]:
        found: list[Atomic] = []
        open_multi: dict[str, Atomic] = {}
        for line in self.lines:
            who, args = line["who"], line["args"]
            if who == "lua" or not args:
                continue  # commands a script runs: covered by the script's declared keys
            name = args[0].upper()
            if name in ("EVAL", "EVALSHA"):
                declared = args[3 : 3 + int(args[2])]
                found.append(Atomic("EVAL", [args[:1]], set(declared)))
            elif name == "MULTI":
                open_multi[who] = Atomic("MULTI")
            elif name == "EXEC" and who in open_multi:
                found.append(open_multi.pop(who))
            elif who in open_multi:
                block = open_multi[who]
                block.commands.append(args)
                with contextlib.suppress(aioredis.ResponseError):
                    block.keys.update(await admin.execute_command("COMMAND", "GETKEYS", *args))
        return found


def cross_slot(atomics: list[Atomic]) -> list[str]:
    return sorted({a.describe() for a in atomics if len(a.slots) > 1})


async def test_pipeline_scripts_and_transactions_stay_on_one_slot(
    redis: aioredis.Redis, redis_server: EmbeddedRedis
) -> None:
    """Ingest, lock, commit, park, replay, schedule release, the periodic lease."""
    recorder = Recorder(redis_server.url)
    fail = {"yes": True}

    async def handler(r: aioredis.Redis, ev: Event, pipe: Any) -> None:
        if ev.data["n"] == 1 and fail["yes"]:
            raise ValueError("bug")
        pipe.set(keys.conv_state(ev.conversation), "{}")

    from bot.engine import schedule
    from bot.engine.lease import Lease

    async with recorder.recording():
        for n in (1, 2):
            await ingest(
                redis, Event(id=f"e{n}", type="t", conversation="sms:+33600000001", data={"n": n})
            )
        dispatcher = Dispatcher(redis, handler, "w")
        await dispatcher.drain("sms:+33600000001")
        [letter] = await deadletters.list_all(redis)
        fail["yes"] = False
        await deadletters.replay(redis, letter)
        await dispatcher.sweep()
        now = datetime(2026, 11, 20, tzinfo=UTC)
        async with redis.pipeline(transaction=True) as pipe:
            schedule.schedule(pipe, "promise:x", now, Event("promise:x", "t", "telegram:1", {}))
            await pipe.execute()
        await schedule.release_due(redis, now)
        lease = Lease(redis, keys.PERIODIC_LEASE, "w", 1000)
        await lease.hold()
        await lease.release()
    atomics = await recorder.atomics()
    assert any(a.kind == "EVAL" for a in atomics) and any(a.kind == "MULTI" for a in atomics)
    assert cross_slot(atomics) == []


async def test_every_script_and_transaction_of_a_conversation_stays_on_one_slot(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """Merchant creation, the API's create, pay later, split, pay (and the removal of the
    paid invoice's Telegram buttons), refund, dispute, a retry."""
    recorder = Recorder(redis_server.url)
    async with recorder.recording():
        await facto.add_merchant(name="Second")
        created = await facto.issue(invoice_body())
        await facto.customer_says("telegram", "424242", "plus tard vendredi")
        await facto.customer_says("telegram", "424242", "en 3 fois")
        await facto.customer_says("telegram", "424242", "oui")
        await facto.customer_says("telegram", "424242", "stop")
        await facto.customer_says("telegram", "424242", "un humain svp")
        other = await facto.issue(invoice_body(address=515151))
        session_id = await pay(facto, other["pay_url"])
        await refund(facto, session_id, 1000)
        await dispute(facto, session_id)
        [key] = [k async for k in facto.redis.scan_iter(match=keys.outbox_message("*:0"))][:1]
        await facto.redis.zadd(keys.OUTBOX_RETRY, {key.removeprefix("outbox:msg:"): 0})
        await facto.drain()
    atomics = await recorder.atomics()
    assert len(atomics) > 20
    assert await deadletters.list_all(facto.redis) == []  # every step above really ran
    body = await invoice(facto, other["id"])
    assert (body["status"], len(body["credit_notes"])) == ("disputed", 1)
    assert created["number"] != other["number"]
    # Paid: the buttons of its earlier Telegram messages were removed (issue 13).
    assert facto.sandbox.edits
    assert cross_slot(atomics) == []


async def test_the_reminder_ladder_stays_on_one_slot(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """Issue, every step of the ladder (sent, waiting on a promise, collapsed), then paid."""
    recorder = Recorder(redis_server.url)
    due = date(2027, 2, 26)
    async with recorder.recording():
        created = await facto.issue(invoice_body(due=due))
        for when in (datetime(2027, 2, 23, 9, tzinfo=UTC), datetime(2027, 2, 26, 9, tzinfo=UTC)):
            facto.clock.current = when
            await facto.drain()
        await facto.customer_says("telegram", "424242", "je paierai le 2 mars")
        facto.clock.current = datetime(2027, 3, 9, 13, tzinfo=UTC)
        await facto.drain()
        await pay(facto, created["pay_url"])
    atomics = await recorder.atomics()
    assert any("ladder:" in " ".join(" ".join(c) for c in a.commands) for a in atomics)
    assert await deadletters.list_all(facto.redis) == []
    assert await facto.redis.zcard(keys.SCHEDULE) == 0  # paid: the ladder is cancelled
    assert cross_slot(atomics) == []


async def _delivered(facto: Facto, campaign_id: str, customer_id: str) -> None:
    """The carrier says a campaign SMS arrived (a signed status callback)."""
    from bot.engine import campaigns, outbox
    from tests.scenario.test_whatsapp import signed

    record = await outbox.load(facto.redis, campaigns.message_key(campaign_id, customer_id))
    assert record is not None and record.provider_message_id
    form = {"MessageSid": record.provider_message_id, "MessageStatus": "delivered"}
    path = "/webhooks/twilio/status"
    response = await facto.client.post(path, data=form, headers=signed(facto, path, form))
    assert response.status == 200


async def test_a_flash_sale_stays_on_one_slot_per_script_and_transaction(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """Customers with consent, an audience, a campaign started twice, paused, resumed, sent,
    an SMS delivered, a tap that reserves a unit, its payment reconciled with its invoice and
    a receipt (and swept), a STOP, answers to the offer, carts relaunched or paid."""
    from tests.scenario.test_campaigns import _seed, campaign_body, post

    recorder = Recorder(redis_server.url)
    async with recorder.recording():
        audience_id = await _seed(facto)
        _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
        for action in ("start", "start", "pause"):
            await post(facto, f"/api/v1/campaigns/{campaign['id']}/{action}", {})
        await facto.drain()
        await post(facto, f"/api/v1/campaigns/{campaign['id']}/resume", {})
        facto.clock.advance(120)
        await facto.drain()
        [offer] = await facto.messages("telegram", "5002")
        await _delivered(facto, campaign["id"], "s1")  # counted per variant (one MULTI)
        link = "/o/" + offer["text"].rsplit("/o/", 1)[1].split()[0]
        tap = await facto.client.post(link, allow_redirects=False)
        checkout = tap.headers["Location"].split("/sandbox/", 1)[1]
        await facto.client.post(f"/sandbox/{checkout}/card", allow_redirects=False)
        await facto.drain()
        await facto.worker.reconcile()  # the hold's session swept: settled already
        await facto.drain()
        await facto.customer_says("telegram", "5001", "stop")
        await facto.customer_says("telegram", "5002", "je prends")
        await facto.customer_says("telegram", "5002", "c'est quoi la taille ?")
        cart = {"id": "c1", "customer_id": "s1", "amount": 990, "pay_url": "https://s.fr/c"}
        await post(facto, "/api/v1/carts", cart)
        await post(facto, "/api/v1/carts", {**cart, "id": "c2"})
        await post(facto, "/api/v1/carts/c2/paid", {})
        facto.clock.advance(3601)
        await facto.drain()
        facto.clock.advance(120 * 24 * 3600)  # the campaign's per-recipient records age out
        done = await retention.housekeep(facto.redis, facto.clock.now(), RetentionPolicy())
        assert done.campaigns_forgotten == 1
    atomics = await recorder.atomics()
    assert len(atomics) > 10
    assert len(await facto.messages("sms", "+33612340001")) == 2  # the offer, one relaunch
    assert len(await facto.messages("telegram", "5002")) == 4  # offer, receipt, two answers
    assert await deadletters.list_all(facto.redis) == []
    assert len(await facto.messages("telegram", "5001")) == 2  # the offer, then the STOP's answer
    assert cross_slot(atomics) == []


async def test_a_sale_paused_then_cancelled_at_send_time_stays_on_one_slot(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """Messages already in the outbox when the sale is paused (parked, horizon restarted),
    then cancelled (dropped, moved from sent to dropped_cancelled): issue 9."""
    from tests.scenario.test_campaigns import _seed, campaign_body, get, post

    recorder = Recorder(redis_server.url)
    async with recorder.recording():
        audience_id = await _seed(facto)
        _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
        await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
        await facto.worker.campaigns.run_all()
        while await facto.worker.dispatcher.run_once():
            pass  # committed to the outbox, not sent
        await post(facto, f"/api/v1/campaigns/{campaign['id']}/pause", {})
        await facto.drain()
        await post(facto, f"/api/v1/campaigns/{campaign['id']}/cancel", {})
        facto.clock.advance(120)
        await facto.drain()
    view = await get(facto, f"/api/v1/campaigns/{campaign['id']}")
    assert view["counts"]["dropped_cancelled"] == 4 and view["counts"]["sent"] == 0
    assert cross_slot(await recorder.atomics()) == []


async def test_pdfs_iban_and_gdpr_erasure_stay_on_one_slot(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """Issue 14: the PDF archive, setting an IBAN, and a GDPR erasure's merchant commit."""
    from urllib.parse import urlparse

    from bot.store.merchants import set_iban

    assert facto.merchant is not None
    headers = {"Authorization": f"Bearer {facto.api_key}"}
    body = {
        "id": "c9",
        "name": "Léa",
        "phone": "+33612345678",
        "consent": {"source": "form", "words": "oui"},
    }
    assert (await facto.client.post("/api/v1/customers", json=body, headers=headers)).status == 201
    recorder = Recorder(redis_server.url)
    async with recorder.recording():
        await set_iban(facto.redis, facto.merchant.id, "FR7630006000011234567890189")
        created = await facto.issue(invoice_body("sms", "+33612345678"))
        await facto.customer_says("sms", "+33612345678", "aide")
        pdf = await facto.client.get(urlparse(created["invoice_url"]).path + "/pdf")
        assert pdf.status == 200
        erased = await facto.client.delete("/api/v1/customers/c9", headers=headers)
        assert erased.status == 200
    atomics = await recorder.atomics()
    described = " ".join(a.describe() for a in atomics)
    assert ":pdf" in described and ":erasures" in described and "HDEL" in described
    assert cross_slot(atomics) == []


async def test_merchant_senders_stay_on_one_slot(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """A merchant's own SMS number and bot registered, an invoice from its number, a reply to
    it, the WhatsApp window of its own number: every script and MULTI on one slot."""
    from tests.scenario import test_merchant_senders as own

    facto.sandbox.twilio_numbers.add(own.NUMBER_A)
    facto.sandbox.telegram_bots[own.BOT_A] = None
    recorder = Recorder(redis_server.url)
    async with recorder.recording():
        _merchant, key = await facto.add_merchant(name="Atelier Alpha")
        for body in (
            {"channel": "sms", "from": own.NUMBER_A},
            {"channel": "telegram", "token": own.BOT_A},
            {"channel": "whatsapp", "from": own.NUMBER_A},
        ):
            assert (await own.register(facto, key, body)).status == 201
        await own.invoice(facto, key, invoice_body("sms", own.PHONE))
        await own.sms_to(facto, own.NUMBER_A, 1, "payer")
        await own.invoice(facto, key, invoice_body("whatsapp", own.PHONE))
    atomics = await recorder.atomics()
    assert any(
        a.kind == "EVAL" and keys.channel_sender("sms", own.NUMBER_A) in a.keys for a in atomics
    )
    assert cross_slot(atomics) == []


async def test_ordered_telegram_ingest_stays_on_one_slot(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """Telegram updates are ingested in update_id order (seen marker, inbox, lock read)."""
    from tests.scenario import test_telegram_order as order

    await facto.issue(invoice_body("telegram", order.CHAT))
    recorder = Recorder(redis_server.url)
    async with recorder.recording():
        await order.deliver(facto, order.update(12, "deux"))
        await order.deliver(facto, order.update(11, "un"))
        await facto.drain()
    atomics = await recorder.atomics()
    lock = keys.conv_lock(f"telegram:{order.CHAT}")
    assert any(a.kind == "EVAL" and lock in a.keys for a in atomics)
    assert cross_slot(atomics) == []


async def test_money_to_review_actions_stay_on_one_slot(
    facto: Facto, redis_server: EmbeddedRedis
) -> None:
    """A payment to review applied to another invoice (claim, event, the dispatch that counts
    it), another refunded through Stripe (its webhook, the credit note), a third dismissed."""
    from tests.scenario.test_money import pay_outside_our_link
    from tests.scenario.test_review_actions import REVIEW, api

    first = await facto.issue(invoice_body())
    second = await facto.issue(invoice_body(address=525252))
    recorder = Recorder(redis_server.url)
    async with recorder.recording():
        applied = await pay_outside_our_link(facto, first["id"], 1000, "invoice")
        refunded = await pay_outside_our_link(facto, first["id"], 1100, "invoice")
        dismissed = await pay_outside_our_link(facto, first["id"], 1200, "invoice")
        assert (await api(facto, f"{REVIEW}/{applied}/apply", {"invoice_id": second["id"]}))[
            0
        ] == 202
        assert (await api(facto, f"{REVIEW}/{refunded}/refund"))[0] == 200
        assert (await api(facto, f"{REVIEW}/{dismissed}/dismiss"))[0] == 200
        await facto.drain()
    atomics = await recorder.atomics()
    assert await deadletters.list_all(facto.redis) == []
    assert (await invoice(facto, second["id"]))["amount_paid"] == 1000
    assert len((await invoice(facto, first["id"]))["credit_notes"]) == 1
    assert cross_slot(atomics) == []
