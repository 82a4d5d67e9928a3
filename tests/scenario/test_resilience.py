"""Durability: acknowledged means processed, once; numbering stays gap-free under load."""

from __future__ import annotations

import asyncio

from bot.engine import outbox
from bot.engine.worker import Worker
from bot.store import keys
from bot.web.app_keys import SERVICES
from tests.scenario.harness import Facto, invoice_body


async def test_message_acknowledged_then_crash_is_processed_after_restart(facto: Facto) -> None:
    await facto.issue(invoice_body())
    # The customer answers; the webhook acknowledges, and the worker "dies" before running.
    response = await facto.client.post(
        "/sandbox/api/customer/telegram/424242", json={"text": "payer"}
    )
    assert response.status == 200
    assert await facto.redis.llen(keys.conv_inbox("telegram:424242")) == 1
    # Its wake-up was read by the dead worker but never acknowledged.
    await facto.redis.xreadgroup(
        keys.PIPELINE_GROUP, "dead-worker", {keys.PIPELINE_WAKE: ">"}, count=10
    )

    restarted = Worker(facto.client.app[SERVICES])
    await restarted.prepare()
    await restarted.recover(reclaim_idle_ms=0)
    await restarted.drain()

    messages = await facto.messages("telegram", "424242")
    assert len(messages) == 2 and "/p/" in messages[1]["text"]
    assert await facto.redis.llen(keys.conv_inbox("telegram:424242")) == 0
    assert not await facto.redis.sismember(keys.PIPELINE_PENDING, "telegram:424242")


async def test_crash_after_send_before_ack_does_not_send_twice(facto: Facto) -> None:
    await facto.client.post(
        "/api/v1/invoices",
        json=invoice_body(),
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    await facto.worker.dispatcher.run_once()
    # A sender reads the message and sends it, then dies before acknowledging the entry.
    entries = await facto.redis.xreadgroup(
        keys.OUTBOX_GROUP, "dead-sender", {keys.outbox_stream("telegram"): ">"}, count=10
    )
    [(_, [(_, fields)])] = entries
    record = await facto.redis.hgetall(keys.outbox_message(fields["key"]))
    assert record["state"] == "pending"
    dead_senders_record = await outbox.load(facto.redis, fields["key"])
    assert dead_senders_record is not None
    await facto.worker.sender._send(dead_senders_record)  # it did reach the provider
    assert len(await facto.messages("telegram", "424242")) == 1

    await facto.worker.sender.reclaim(min_idle_ms=0)
    assert len(await facto.messages("telegram", "424242")) == 1
    assert await outbox.unacknowledged(facto.redis) == 0


async def test_fifty_concurrent_invoices_are_numbered_without_gaps(facto: Facto) -> None:
    responses = await asyncio.gather(
        *(facto.post_invoice(invoice_body("sms", f"+336123456{i:02d}")) for i in range(50))
    )
    assert all(r.status == 201 for r in responses)
    numbers = sorted([(await r.json())["number"] for r in responses])
    year = facto.clock.now().year
    assert numbers == [f"F-{year}-{n:06d}" for n in range(1, 51)]


async def test_numbering_is_per_merchant(facto: Facto) -> None:
    _, other_key = await facto.add_merchant(name="Autre boutique", invoice_prefix="B")
    first = await (await facto.post_invoice(invoice_body())).json()
    other = await (await facto.post_invoice(invoice_body(), api_key=other_key)).json()
    assert first["number"].endswith("-000001")
    assert other["number"].startswith("B-") and other["number"].endswith("-000001")


async def test_one_conversation_is_processed_in_order(facto: Facto) -> None:
    await facto.issue(invoice_body("sms", "+33612345678"))
    for text in ("aide", "payer", "bonjour"):
        response = await facto.client.post(
            "/sandbox/api/customer/sms/+33612345678", json={"text": text}
        )
        assert response.status == 200
    await facto.drain()
    texts = [m["text"] for m in await facto.messages("sms", "+33612345678")]
    assert "Choisissez ci-dessous" in texts[1]
    assert "/p/" in texts[2] and texts[2].startswith("Voici")
    assert texts[3].startswith("Bonjour !")


async def test_webhook_without_redis_is_503_so_the_provider_retries(
    facto: Facto, redis_server: object
) -> None:
    """TESTCASES 11: no durable write, no acknowledgement (Telegram retries; SMS is spooled)."""
    from bot.embedded_redis import free_port
    from tests.scenario.harness import start_facto

    dead = f"redis://127.0.0.1:{free_port()}/0"
    broken = await start_facto(dead, facto.redis, prepare_worker=False)
    try:
        response = await broken.client.post(
            "/sandbox/api/customer/telegram/424242", json={"text": "payer"}
        )
        assert response.status == 503
        assert (await broken.client.get("/readyz")).status == 503
        assert (await broken.client.get("/healthz")).status == 200
    finally:
        await broken.client.close()
