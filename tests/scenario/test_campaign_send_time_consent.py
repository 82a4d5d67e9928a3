"""A campaign SMS committed to the outbox is judged again (STOP, quiet hours) when its turn
comes: a paced 1 msg/s SMS number can hold it for hours."""

from __future__ import annotations

from tests.scenario.harness import Facto
from tests.scenario.test_campaigns import CONSENT, campaign_body, get, post


async def test_stop_and_quiet_hours_hold_a_paced_campaign_sms(facto: Facto) -> None:
    person = {"id": "s1", "name": "Sam", "phone": "+33612340001", "consent": CONSENT}
    assert (await post(facto, "/api/v1/customers", person))[0] == 201
    _, audience = await post(facto, "/api/v1/audiences", {"customers": ["s1"]})
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience["id"]))
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.worker.campaigns.run_all()
    while await facto.worker.dispatcher.run_once():
        pass  # dispatched at 10:00 Paris: committed to the outbox, waiting for its turn
    facto.clock.advance(12 * 3600)  # the paced queue reaches it at 22:00 Paris
    await facto.sms("+33612340001", 7, "STOP")  # and Sam said STOP meanwhile
    await facto.drain()
    offers = [m for m in await facto.messages("sms", "+33612340001") if "/o/" in m["text"]]
    assert offers == [], offers
    view = await get(facto, f"/api/v1/campaigns/{campaign['id']}")
    assert view["counts"]["skipped_no_consent"] == 1 and view["counts"]["sent"] == 0


async def test_quiet_hours_park_a_paced_campaign_sms_until_the_morning(facto: Facto) -> None:
    person = {"id": "s2", "name": "Sol", "phone": "+33612340002", "consent": CONSENT}
    assert (await post(facto, "/api/v1/customers", person))[0] == 201
    _, audience = await post(facto, "/api/v1/audiences", {"customers": ["s2"]})
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience["id"]))
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.worker.campaigns.run_all()
    while await facto.worker.dispatcher.run_once():
        pass  # committed at 10:00 Paris
    facto.clock.advance(12 * 3600)  # its turn comes at 22:00 Paris
    await facto.drain()
    assert [m for m in await facto.messages("sms", "+33612340002") if "/o/" in m["text"]] == []
    facto.clock.advance(10 * 3600 + 60)  # 08:01 the next morning
    await facto.drain()
    offers = [m for m in await facto.messages("sms", "+33612340002") if "/o/" in m["text"]]
    assert len(offers) == 1
