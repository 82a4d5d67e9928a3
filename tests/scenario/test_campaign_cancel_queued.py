"""Issue 9: cancelling, pausing or the end of a flash sale reaches the messages already in the
outbox.

Under SMS pacing (1 segment a second) a sale's messages are all committed to the outbox long
before their turn; the sender judges the campaign's state again just before each provider
call: cancelled, the message is dropped and counted `dropped_cancelled`; paused, it is held
(not sent, not lost) and goes once after resume.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.store import keys
from channels.base import ChannelName
from tests.scenario.harness import START, Facto, invoice_body
from tests.scenario.test_campaigns import CONSENT, auth, campaign_body, get, post

N = 30
SENT_BEFORE = 5  # sent before the merchant clicks


def phone(n: int) -> str:
    return f"+336123450{n:02d}"


async def _queued_sale(facto: Facto) -> str:
    """A sale to N SMS customers, every message committed to the outbox, none sent yet;
    then the first SENT_BEFORE conversations sent (the paced queue's head)."""
    lines = "\n".join(
        json.dumps(
            {"id": f"p{n}", "name": f"Client {n}", "phone": phone(n), "tags": ["flash"]}
            | {"consent": CONSENT}
        )
        for n in range(N)
    )
    response = await facto.client.post(
        "/api/v1/customers/import",
        data=lines.encode(),
        headers={**auth(facto), "Content-Type": "application/x-ndjson"},
    )
    assert response.status == 200, await response.text()
    _, audience = await post(facto, "/api/v1/audiences", {"filter": {"tags": ["flash"]}})
    assert audience["size"] == N
    body = campaign_body(audience["id"], channels=["sms"])
    body["offer"]["expires_at"] = (START + timedelta(days=4)).isoformat()
    status, campaign = await post(facto, "/api/v1/campaigns", body)
    assert status == 201, campaign
    cid = str(campaign["id"])
    await post(facto, f"/api/v1/campaigns/{cid}/start", {})
    await facto.worker.campaigns.run_all()
    while await facto.worker.dispatcher.run_once():
        pass  # every recipient decided: N messages waiting in the outbox
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert view["counts"]["sent"] == N  # counted when handed to the outbox
    assert await _offers_received(facto) == 0
    for n in range(SENT_BEFORE):
        await facto.worker.sender.drain(f"{ChannelName.SMS.value}:{phone(n)}")
    assert await _offers_received(facto) == SENT_BEFORE
    return cid


async def _offers(facto: Facto, n: int) -> list[dict[str, Any]]:
    return [m for m in await facto.messages("sms", phone(n)) if "/o/" in m["text"]]


async def _offers_received(facto: Facto) -> int:
    return sum([len(await _offers(facto, n)) for n in range(N)])


async def _stream(facto: Facto, cid: str) -> tuple[dict[str, Any], str]:
    response = await facto.client.get(f"/api/v1/campaigns/{cid}/stream", headers=auth(facto))
    assert response.status == 200
    text = (await response.read()).decode()
    events = [line.removeprefix("data: ") for line in text.split("\n") if line.startswith("data")]
    return json.loads(events[-2]), text


async def test_cancel_drops_the_messages_already_in_the_outbox(facto: Facto) -> None:
    cid = await _queued_sale(facto)
    status, body = await post(facto, f"/api/v1/campaigns/{cid}/cancel", {})
    assert status == 200 and body["state"] == "cancelled"
    await facto.drain()
    facto.clock.advance(3600)  # nothing was parked to come back later either
    await facto.drain()
    assert await _offers_received(facto) == SENT_BEFORE  # none of the queued ones
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    counts = view["counts"]
    assert counts["sent"] == SENT_BEFORE
    assert counts["dropped_cancelled"] == N - SENT_BEFORE
    assert counts["sent"] + counts["dropped_cancelled"] == view["recipients"] == N
    assert view["variants"]["A"]["sent"] + view["variants"]["B"]["sent"] == SENT_BEFORE
    # The records say why, and no sender will take them again.
    dropped = await facto.redis.hgetall(keys.outbox_message(f"campaign:{cid}:p{N - 1}:msg"))
    assert dropped["state"] == "failed" and dropped["last_error"] == "CampaignCancelled"
    # The progress stream ends, on counts that add up.
    last, text = await _stream(facto, cid)
    assert text.rstrip().endswith("event: done\ndata: {}")
    assert last["counts"]["sent"] + last["counts"]["dropped_cancelled"] == N


async def test_a_sale_over_sends_none_of_its_queued_messages(facto: Facto) -> None:
    """Still queued (paced) when the sale's window ends: dropped at send time, counted as
    `dropped_ended`, never sent (the offer's page would only say "ended")."""
    cid = await _queued_sale(facto)
    facto.clock.advance(timedelta(days=4, minutes=1).total_seconds())  # past the offer's end
    await facto.drain()
    assert await _offers_received(facto) == SENT_BEFORE
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    counts = view["counts"]
    assert counts["sent"] == SENT_BEFORE
    assert counts["dropped_ended"] == N - SENT_BEFORE
    dropped = await facto.redis.hgetall(keys.outbox_message(f"campaign:{cid}:p{N - 1}:msg"))
    assert dropped["state"] == "failed" and dropped["last_error"] == "CampaignEnded"


async def test_pause_holds_the_queued_messages_and_resume_sends_each_once(facto: Facto) -> None:
    cid = await _queued_sale(facto)
    status, body = await post(facto, f"/api/v1/campaigns/{cid}/pause", {})
    assert status == 200 and body["state"] == "paused"
    # Paused for longer than the outbox's 24 h retry horizon: held, never given up.
    for _ in range(26):
        await facto.drain()
        assert await _offers_received(facto) == SENT_BEFORE
        facto.clock.advance(3600)
    # An invoice to a customer whose offer is held is not held behind it.
    await facto.issue(invoice_body("sms", phone(N - 1)))
    await facto.drain()
    [notice] = await facto.messages("sms", phone(N - 1))
    assert "/o/" not in notice["text"]
    held = await facto.redis.hgetall(keys.outbox_message(f"campaign:{cid}:p{N - 1}:msg"))
    assert held["state"] == "pending" and held["last_error"] == "CampaignPaused"
    assert held.get("attempts", "0") == "0"  # waiting is not a failed try
    status, body = await post(facto, f"/api/v1/campaigns/{cid}/resume", {})
    assert status == 200 and body["state"] == "running"
    # One provider hiccup after the long pause: retried, not given up (the pause did not
    # use up the message's retry horizon).
    fault = {"channel": "sms", "status": 503, "count": 1}
    assert (await facto.client.post("/sandbox/api/faults", json=fault)).status == 201
    facto.clock.advance(61)  # the next look at a paused sale's message
    await facto.drain()
    facto.clock.advance(600)  # the hiccup's backoff
    await facto.drain()
    for n in range(N):
        assert len(await _offers(facto, n)) == 1, n  # all sent, none twice
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert view["counts"]["sent"] == N and view["counts"]["dropped_cancelled"] == 0
    assert facto.merchant is not None
    assert await facto.redis.zcard(keys.merchant_failed_messages(facto.merchant.id)) == 0
