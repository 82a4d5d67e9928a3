"""The merchant's dashboard over HTTP: owners only, invoice filters, a timeline with the
payment, money to review dismissed and audited, KPIs as a page and as JSON."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlparse

from bot.engine import outbox
from bot.store import keys
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import START, Facto, invoice_body
from tests.scenario.test_money import pay, pay_outside_our_link, refund
from tests.scenario.test_whatsapp import signed


async def test_agents_are_refused_and_strangers_sent_to_login(facto: Facto) -> None:
    _, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    browser = Browser.open(facto)
    try:
        status, text = await browser.get("/dashboard")
        assert status == 200 and "Log in" in text  # /dashboard → /console/dashboard → login
        await browser.log_in("agent@atelier.fr", secret)
        status, _ = await browser.get("/console/dashboard")
        assert status == 403
        status, _ = await browser.get("/console/dashboard/kpis.json")
        assert status == 403
    finally:
        await browser.close()


async def test_filters_and_timeline(facto: Facto, owner: Browser) -> None:
    paid = await facto.issue(invoice_body("telegram", 111))
    late = await facto.issue(invoice_body("telegram", 112, due=START.date()))
    body = invoice_body("telegram", 113, due=START.date() + timedelta(days=10))
    body["customer"]["name"] = "<script>Zoé</script>"
    odd = await facto.issue(body)
    await pay(facto, paid["pay_url"])
    facto.clock.advance(2 * 86400)  # `late` is now overdue

    status, text = await owner.get("/console/dashboard")
    assert status == 200
    assert all(i["number"] in text for i in (paid, late, odd))
    assert "<script>Zoé" not in text and "&lt;script&gt;Zoé" in text  # escaped

    _, text = await owner.get("/console/dashboard?status=paid")
    assert paid["number"] in text and late["number"] not in text
    _, text = await owner.get("/console/dashboard?overdue=1")
    assert late["number"] in text and paid["number"] not in text and odd["number"] not in text
    _, text = await owner.get("/console/dashboard?customer=zo")
    assert odd["number"] in text and paid["number"] not in text
    _, text = await owner.get("/console/dashboard?channel=sms")
    assert "No invoice matches." in text
    status, _ = await owner.get("/console/dashboard?status=nonsense")
    assert status == 400
    status, _ = await owner.get("/console/dashboard?due_before=tomorrow")
    assert status == 400

    status, text = await owner.get(f"/console/dashboard/invoices/{paid['id']}")
    assert status == 200
    assert "step-issued" in text and "step-sent" in text and "step-payment" in text
    assert "step-message" in text  # the invoice's own message, from the transcript
    status, _ = await owner.get("/console/dashboard/invoices/inv_nope")
    assert status == 404


async def test_timeline_shows_the_promise_replies_and_hand_over(
    facto: Facto, owner: Browser
) -> None:
    created = await facto.issue(invoice_body("telegram", 171))
    await facto.customer_says("telegram", "171", "je paierai vendredi")
    await facto.customer_says("telegram", "171", "un conseiller svp")
    status, text = await owner.get(f"/console/dashboard/invoices/{created['id']}")
    assert status == 200
    assert "step-reply" in text and "je paierai vendredi" in text
    assert "step-promise" in text


async def test_another_merchants_invoice_is_not_found(facto: Facto, owner: Browser) -> None:
    created = await facto.issue(invoice_body())
    await facto.redis.rename(
        keys.invoice(facto.merchant.id if facto.merchant else "", created["id"]),
        keys.invoice("m_other", created["id"]),
    )
    status, _ = await owner.get(f"/console/dashboard/invoices/{created['id']}")
    assert status == 404


async def test_money_to_review_is_listed_dismissed_and_audited(
    facto: Facto, owner: Browser
) -> None:
    created = await facto.issue(invoice_body())
    await pay_outside_our_link(facto, created["id"], 10, "instalment:1")
    # Another merchant's alert is not shown.
    await facto.redis.rpush(
        keys.PAYMENTS_MISMATCH,
        json.dumps({"merchant_id": "m_other", "invoice_id": "inv_x", "session_id": "cs_x"}),
    )
    status, text = await owner.get("/console/dashboard/review")
    assert status == 200 and "no such instalment" in text and "inv_x" not in text
    [mine] = [
        r for r in await facto.redis.lrange(keys.PAYMENTS_MISMATCH, 0, -1) if created["id"] in r
    ]
    status, _ = await owner.post("/console/dashboard/review/dismiss", {"item": mine})
    assert status == 200  # followed the 303 back to the list
    assert await facto.redis.llen(keys.PAYMENTS_MISMATCH) == 1
    assert facto.merchant is not None
    [audit] = await facto.redis.lrange(keys.audit(facto.merchant.id), 0, -1)
    assert json.loads(audit)["what"] == "review_dismissed"
    status, _ = await owner.post("/console/dashboard/review/dismiss", {"item": mine})
    assert status == 404
    other = (await facto.redis.lrange(keys.PAYMENTS_MISMATCH, 0, -1))[0]
    status, _ = await owner.post("/console/dashboard/review/dismiss", {"item": other})
    assert status == 404  # another merchant's entry cannot be dismissed from here
    owner.csrf = "forged"
    status, _ = await owner.post("/console/dashboard/review/dismiss", {"item": mine})
    assert status == 403


async def test_kpis_page_and_json(facto: Facto, owner: Browser) -> None:
    paid = await facto.issue(invoice_body("telegram", 121))
    await facto.issue(invoice_body("telegram", 122, due=START.date()))
    await pay(facto, paid["pay_url"])
    await facto.customer_says("telegram", "122", "un conseiller svp")
    facto.clock.advance(2 * 86400)  # the second is overdue
    day = START.date()
    status, text = await owner.get(f"/console/dashboard/kpis?from={day}&to={day}")
    assert status == 200 and 'data-kpi="all-conversion">0.5<' in text
    assert 'data-kpi="all-rewards_offered">0<' in text  # the fast-payment reward (issue 10)
    async with owner.session.get(
        owner.base_url + f"/console/dashboard/kpis.json?from={day}&to={day}"
    ) as response:
        assert response.status == 200
        data = await response.json()
    figures = data["figures"]["all"]
    assert (figures["invoices"], figures["paid"], figures["conversion"]) == (2, 1, 0.5)
    assert figures["median_delay_days"] == 0.0
    assert figures["unpaid_rate"] == 0.5  # two equal invoices, one overdue and unpaid
    assert set(data["figures"]) == {"all", "telegram"}
    talk = data["conversations"]["all"]
    assert (talk["handed_over"], talk["handover_rate"]) == (1, 0.5)
    assert talk["messages_per_paid_invoice"] >= 2  # the invoice and the receipt at least
    assert talk["sms_segments_per_paid_invoice"] == 0  # no SMS invoice
    assert data["campaigns"] == []
    status, _ = await owner.get("/console/dashboard/kpis.json?from=2029-01-02&to=2029-01-01")
    assert status == 400


async def test_timeline_shows_delivered_and_clicked(facto: Facto, owner: Browser) -> None:
    """Twilio's status callbacks (kept per message) and the checkout a pay link opened."""
    created = await facto.issue(invoice_body("sms", "+33612345601"))
    await facto.drain()
    response = await facto.client.get(
        f"/api/v1/invoices/{created['id']}/timeline",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    kinds = [e["kind"] for e in (await response.json())["events"]]
    assert "delivered" in kinds and "clicked" not in kinds, kinds
    tap = await facto.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    assert tap.status == 303
    status, text = await owner.get(f"/console/dashboard/invoices/{created['id']}")
    assert status == 200 and "step-delivered" in text and "step-clicked" in text
    assert "pay link opened the checkout (8580), attempt 1" in text


async def _kinds(facto: Facto, invoice_id: str) -> list[str]:
    response = await facto.client.get(
        f"/api/v1/invoices/{invoice_id}/timeline",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    assert response.status == 200, await response.text()
    return [e["kind"] for e in (await response.json())["events"]]


async def test_timeline_shows_plan_reminder_refund_handover_and_read(facto: Facto) -> None:
    """Issue 14: every step a merchant looks for, from a real conversation (Telegram) and a
    WhatsApp message the provider reported read."""
    created = await facto.issue(invoice_body())
    await facto.customer_says("telegram", "424242", "je préfère payer en 3 fois svp")
    await facto.customer_says("telegram", "424242", action="yes")
    first = await pay(facto, created["pay_url"] + "/1")
    await refund(facto, first, 500)
    facto.clock.advance(timedelta(days=35).total_seconds())  # instalment 2's link: a reminder
    await facto.drain()
    await facto.customer_says("telegram", "424242", "un conseiller svp")
    kinds = await _kinds(facto, created["id"])
    for kind in ("plan", "payment", "refund", "reminder", "handover"):
        assert kind in kinds, (kind, kinds)
    assert facto.merchant is not None
    handed = await facto.redis.zscore(keys.merchant_handoffs(facto.merchant.id), created["id"])
    assert handed is not None  # the step is the hand-over the KPIs count

    phone = "+33612345602"
    before = set(await facto.redis.keys("outbox:msg:*"))
    later = facto.clock.now().date() + timedelta(days=10)
    sent = await facto.issue(invoice_body("whatsapp", phone, due=later))
    [key] = set(await facto.redis.keys("outbox:msg:*")) - before  # the invoice's message
    record = await outbox.load(facto.redis, key.removeprefix("outbox:msg:"))
    assert record is not None and record.provider_message_id
    path = "/webhooks/twilio/status"
    form = {"MessageSid": record.provider_message_id, "MessageStatus": "read"}
    form["To"] = f"whatsapp:{phone}"
    response = await facto.client.post(path, data=form, headers=signed(facto, path, form))
    assert response.status == 200
    assert "read" in await _kinds(facto, sent["id"])
