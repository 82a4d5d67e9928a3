"""Delivered per variant: counted from the carrier's status callbacks, once per message
(a repeated "delivered", or "read" after it, counts nothing), shown next to sent and paid."""

from __future__ import annotations

import asyncio

from bot.engine import campaigns, outbox
from tests.scenario.harness import Facto
from tests.scenario.test_campaigns import _seed, campaign_body, get, post
from tests.scenario.test_whatsapp import signed

STATUS = "/webhooks/twilio/status"


async def _callback(facto: Facto, sid: str, status: str, to: str) -> None:
    form = {"MessageSid": sid, "MessageStatus": status, "To": to}
    response = await facto.client.post(STATUS, data=form, headers=signed(facto, STATUS, form))
    assert response.status == 200


async def test_delivered_is_counted_per_variant_once_per_message(facto: Facto) -> None:
    audience_id = await _seed(facto)
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    cid = campaign["id"]
    await post(facto, f"/api/v1/campaigns/{cid}/start", {})
    await facto.drain()
    sids = {}
    for customer, phone in (("s1", "+33612340001"), ("s3", "+33612340003")):
        record = await outbox.load(facto.redis, campaigns.message_key(cid, customer))
        assert record is not None and record.provider_message_id
        sids[phone] = record.provider_message_id
    for phone, sid in sids.items():  # the carrier's own report, and duplicates of it
        for status in ("sent", "delivered", "delivered", "read"):
            await _callback(facto, sid, status, phone)
    for _ in range(50):  # the emulator's own callbacks, posted in the background, add nothing
        await asyncio.sleep(0.01)
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert view["counts"]["sent"] == 4 and view["counts"]["delivered"] == 2  # 2 SMS, 2 Telegram
    assert sum(v["delivered"] for v in view["variants"].values()) == 2
    for variant in view["variants"].values():
        assert variant["delivered"] <= variant["sent"]
    # A callback about a message that is not a campaign's changes nothing.
    await _callback(facto, "SM" + "0" * 32, "delivered", "+33612340001")
    assert (await get(facto, f"/api/v1/campaigns/{cid}"))["counts"]["delivered"] == 2
