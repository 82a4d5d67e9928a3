"""Flash sales over HTTP: customers, import, consent proof, audiences, campaigns sent through
the pipeline and the outbox to the sandbox's phones."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from bot.store import keys
from tests.scenario.harness import START, Facto

EXPIRES = (START + timedelta(days=2)).isoformat()
CONSENT = {"source": "checkout-form", "words": "J'accepte de recevoir les offres par SMS"}


def auth(facto: Facto) -> dict[str, str]:
    return {"Authorization": f"Bearer {facto.api_key}"}


async def post(facto: Facto, path: str, body: Any) -> tuple[int, Any]:
    response = await facto.client.post(path, json=body, headers=auth(facto))
    return response.status, await response.json()


async def get(facto: Facto, path: str) -> Any:
    response = await facto.client.get(path, headers=auth(facto))
    assert response.status == 200, await response.text()
    return await response.json()


def campaign_body(audience_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Vente flash",
        "offer": {
            "product": "Lampe Lumière",
            "amount": 2900,
            "currency": "EUR",
            "stock": 20,
            "expires_at": EXPIRES,
            "per_customer_limit": 1,
        },
        "audience_id": audience_id,
        "variants": [
            {
                "name": "A",
                "share": 50,
                "text": {"fr": "Bonjour {name} : -30 % !", "en": "Hi {name}: 30% off!"},
            },
            {
                "name": "B",
                "share": 50,
                "text": {"fr": "{name}, offre flash : {link}", "en": "{name}, flash sale: {link}"},
            },
        ],
        "channels": ["telegram", "sms"],
        **overrides,
    }


async def test_customer_created_with_consent_proof(facto: Facto) -> None:
    status, body = await post(
        facto,
        "/api/v1/customers",
        {"id": "c1", "name": "Léa", "phone": "+33612345678", "tags": ["VIP"], "consent": CONSENT},
    )
    assert status == 201, body
    assert body["channels"] == {"sms": "+33612345678"} and body["tags"] == ["vip"]
    assert facto.merchant is not None
    raw = await facto.redis.get(keys.consent(facto.merchant.id, "sms:+33612345678"))
    proof = json.loads(raw)
    assert proof["opted_in"] is True
    assert proof["channel"] == "checkout-form" and proof["words"].startswith("J'accepte")
    assert proof["proof"] == {"source": "checkout-form", "customer": "c1"}
    status, again = await post(
        facto, "/api/v1/customers", {"id": "c1", "name": "Léa M", "phone": "+33612345678"}
    )
    assert status == 200 and again["name"] == "Léa M"


async def test_bad_customers_get_precise_errors(facto: Facto) -> None:
    status, body = await post(
        facto,
        "/api/v1/customers",
        {"name": "", "phone": "12", "timezone": "Mars/Olympus", "consent": {"source": "x"}},
    )
    assert status == 422
    fields = {e["field"] for e in body["fields"]}
    assert {"name", "phone", "timezone", "consent.words"} <= fields
    response = await facto.client.post("/api/v1/customers", data="nope", headers=auth(facto))
    assert response.status == 415


async def test_import_reports_each_line(facto: Facto) -> None:
    csv_text = (
        "id,name,phone,telegram_chat_id,tags,locale,consent_source,consent_words\n"
        "a1,Alice,+33612345001,,vip|lyon,fr,shop,Oui aux offres\n"
        "a2,,+33612345002,,,fr,,\n"
        "a3,Bob,,777,lyon,en,,\n"
        "a4,Carl,+33612345004,,,xx,,\n"
    )
    response = await facto.client.post(
        "/api/v1/customers/import",
        data=csv_text.encode(),
        headers={**auth(facto), "Content-Type": "text/csv"},
    )
    body = await response.json()
    assert response.status == 200, body
    assert body["imported"] == 2 and body["errors"] == 2
    by_line = {item["line"]: item for item in body["lines"]}
    assert by_line[2]["status"] == "created" and by_line[4]["status"] == "created"
    assert by_line[3]["errors"][0]["field"] == "name"
    assert by_line[5]["errors"][0]["field"] == "locale"
    lines = '{"id":"j1","name":"Jo","telegram_chat_id":42}\nnot json\n[1]\n'
    response = await facto.client.post(
        "/api/v1/customers/import",
        data=lines.encode(),
        headers={**auth(facto), "Content-Type": "application/x-ndjson"},
    )
    body = await response.json()
    assert [item["status"] for item in body["lines"]] == ["created", "error", "error"]


async def _seed(facto: Facto) -> str:
    people = [
        {
            "id": "t1",
            "name": "Tina",
            "telegram_chat_id": 5001,
            "tags": ["vip"],
            "consent": CONSENT,
        },
        {
            "id": "t2",
            "name": "Tom",
            "telegram_chat_id": 5002,
            "tags": ["vip"],
            "locale": "en",
            "consent": CONSENT,
        },
        {"id": "s1", "name": "Sam", "phone": "+33612340001", "tags": ["vip"], "consent": CONSENT},
        {"id": "s2", "name": "Sid", "phone": "+33612340002", "tags": ["vip"]},  # no consent
        {"id": "s3", "name": "Sue", "phone": "+33612340003", "tags": ["vip"], "consent": CONSENT},
        {"id": "x1", "name": "Xavier", "phone": "+33612340009", "consent": CONSENT},  # not vip
    ]
    for person in people:
        status, body = await post(facto, "/api/v1/customers", person)
        assert status == 201, body
    status, audience = await post(
        facto, "/api/v1/audiences", {"name": "VIP", "filter": {"tags": ["vip"]}}
    )
    assert status == 201 and audience["size"] == 5
    return str(audience["id"])


async def test_campaign_reaches_consenting_customers_once(facto: Facto) -> None:
    audience_id = await _seed(facto)
    # Sue says STOP before the campaign: her opt-in is overridden.
    await facto.sms("+33612340003", 1, "STOP")
    await facto.drain()
    status, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    assert status == 201, campaign
    assert campaign["state"] == "draft"
    cid = campaign["id"]
    for _ in range(2):  # a double click starts once
        status, body = await post(facto, f"/api/v1/campaigns/{cid}/start", {})
        assert status == 200 and body["state"] == "running"
    await facto.drain()
    await facto.drain()
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert view["recipients"] == 5 and view["enqueued"] == 5
    assert view["counts"]["sent"] == 3 and view["counts"]["skipped_no_consent"] == 2
    assert sum(v["sent"] for v in view["variants"].values()) == 3
    tina = await facto.messages("telegram", "5001")
    tom = await facto.messages("telegram", "5002")
    sam = await facto.messages("sms", "+33612340001")
    assert len(tina) == 1 and "Tina" in tina[0]["text"] and "/o/" in tina[0]["text"]
    assert len(tom) == 1 and ("Hi Tom" in tom[0]["text"] or "Tom, flash sale" in tom[0]["text"])
    assert len(sam) == 1
    assert await facto.messages("sms", "+33612340002") == []
    assert [m for m in await facto.messages("sms", "+33612340003") if "/o/" in m["text"]] == []
    # Starting again (or a second worker) sends nothing more.
    status, _ = await post(facto, f"/api/v1/campaigns/{cid}/start", {})
    await facto.drain()
    assert len(await facto.messages("telegram", "5001")) == 1
    status, body = await post(facto, f"/api/v1/campaigns/{cid}/resume", {})
    assert status == 409


async def test_pause_holds_messages_until_resume(facto: Facto) -> None:
    audience_id = await _seed(facto)
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    cid = campaign["id"]
    await post(facto, f"/api/v1/campaigns/{cid}/start", {})
    await facto.worker.campaigns.run_all()  # enqueued, not yet dispatched
    status, body = await post(facto, f"/api/v1/campaigns/{cid}/pause", {})
    assert status == 200 and body["state"] == "paused"
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    facto.clock.advance(120)
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    await post(facto, f"/api/v1/campaigns/{cid}/resume", {})
    facto.clock.advance(60)
    await facto.drain()
    assert len(await facto.messages("telegram", "5001")) == 1
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert view["counts"]["sent"] == 4


async def test_cancel_drops_what_is_left(facto: Facto) -> None:
    audience_id = await _seed(facto)
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    cid = campaign["id"]
    await post(facto, f"/api/v1/campaigns/{cid}/start", {})
    await facto.worker.campaigns.run_all()
    status, body = await post(facto, f"/api/v1/campaigns/{cid}/cancel", {})
    assert status == 200 and body["state"] == "cancelled"
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert view["counts"]["sent"] == 0 and view["counts"]["dropped_cancelled"] == 5


async def test_quiet_hours_wait_for_monday_morning(facto: Facto) -> None:
    audience_id = await _seed(facto)
    # Saturday 21:30 in Paris: nothing until Monday 08:00 (Sunday is never allowed).
    facto.clock.current = datetime(2026, 11, 21, 20, 30, tzinfo=UTC)
    body = campaign_body(audience_id)
    body["offer"]["expires_at"] = datetime(2026, 11, 25, tzinfo=UTC).isoformat()
    _, campaign = await post(facto, "/api/v1/campaigns", body)
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    facto.clock.current = datetime(2026, 11, 23, 6, 59, tzinfo=UTC)  # 07:59 Monday in Paris
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    facto.clock.current = datetime(2026, 11, 23, 7, 0, 1, tzinfo=UTC)
    await facto.drain()
    assert len(await facto.messages("telegram", "5001")) == 1


async def test_stop_during_campaign_is_honoured_at_send_time(facto: Facto) -> None:
    audience_id = await _seed(facto)
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.worker.campaigns.run_all()  # Sam's message is in his inbox, not yet decided
    await facto.sms("+33612340001", 7, "STOP")  # lands behind it in the same inbox
    # Sam's STOP arrives after the campaign event in his inbox: the event is decided (and
    # committed to the outbox) first, but the sender judges consent again before sending.
    await facto.drain()
    first = await get(facto, f"/api/v1/campaigns/{campaign['id']}")
    _, second = await post(facto, "/api/v1/campaigns", campaign_body(audience_id, name="Deux"))
    await post(facto, f"/api/v1/campaigns/{second['id']}/start", {})
    await facto.drain()
    sam = [m for m in await facto.messages("sms", "+33612340001") if "/o/" in m["text"]]
    assert sam == []
    # Dropped at send time, counted with the skips: what the merchant reads stays true.
    assert first["counts"]["sent"] == 3 and first["counts"]["skipped_no_consent"] == 2
    view = await get(facto, f"/api/v1/campaigns/{second['id']}")
    assert view["counts"]["sent"] == 3 and view["counts"]["skipped_no_consent"] == 2


async def test_campaign_input_errors(facto: Facto) -> None:
    status, body = await post(
        facto, "/api/v1/campaigns", {"offer": {"amount": -1}, "variants": []}
    )
    assert status == 422
    fields = {e["field"] for e in body["fields"]}
    assert {"offer.amount", "offer.stock", "offer.expires_at", "variants", "audience_id"} <= fields
    status, body = await post(facto, "/api/v1/campaigns", campaign_body("aud_missing"))
    assert status == 422 and body["fields"][0]["field"] == "audience_id"
    status, _ = await post(facto, "/api/v1/campaigns/cmp_nope/start", {})
    assert status == 404
    status, _ = await post(facto, "/api/v1/campaigns/cmp_nope/explode", {})
    assert status == 404


async def test_stop_while_waiting_for_morning_means_nothing_is_sent(facto: Facto) -> None:
    audience_id = await _seed(facto)
    facto.clock.current = datetime(2026, 11, 18, 21, 0, tzinfo=UTC)  # 22:00 in Paris
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.drain()
    await facto.sms("+33612340001", 8, "STOP")
    facto.clock.current = datetime(2026, 11, 19, 7, 0, 1, tzinfo=UTC)
    await facto.drain()
    assert [m for m in await facto.messages("sms", "+33612340001") if "/o/" in m["text"]] == []
    assert len(await facto.messages("telegram", "5001")) == 1


async def _links(facto: Facto, count: int, stock: int) -> tuple[str, list[str]]:
    people = [
        {"id": f"p{i:03d}", "name": f"P{i}", "telegram_chat_id": 8000 + i, "consent": CONSENT}
        for i in range(count)
    ]
    for person in people:
        status, _ = await post(facto, "/api/v1/customers", person)
        assert status == 201
    _, audience = await post(facto, "/api/v1/audiences", {"customers": [p["id"] for p in people]})
    body = campaign_body(audience["id"])
    body["offer"]["stock"] = stock
    _, campaign = await post(facto, "/api/v1/campaigns", body)
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.drain()
    links = []
    for i in range(count):
        [message] = await facto.messages("telegram", str(8000 + i))
        links.append("/o/" + message["text"].rsplit("/o/", 1)[1].split()[0])
    return campaign["id"], links


async def test_a_link_preview_reserves_nothing_and_a_tap_opens_checkout(facto: Facto) -> None:
    cid, [link] = await _links(facto, 1, stock=1)
    page = await facto.client.get(link)
    assert page.status == 200
    html = await page.text()
    assert "Lampe Lumière" in html and 'method="post"' in html
    tap = await facto.client.post(link, allow_redirects=False)
    assert tap.status == 303 and "/sandbox/stripe" in tap.headers["Location"]
    again = await facto.client.post(link, allow_redirects=False)  # the same hold, same session
    assert again.headers["Location"] == tap.headers["Location"]
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert sum(v["clicked"] for v in view["variants"].values()) == 2
    assert sum(v["checkout"] for v in view["variants"].values()) == 1
    unknown = await facto.client.get("/o/" + "x" * 22)
    assert unknown.status == 404


async def test_a_thousand_concurrent_taps_on_a_stock_of_ten_sell_exactly_ten(
    facto: Facto,
) -> None:
    import asyncio

    cid, links = await _links(facto, 100, stock=10)

    async def tap(link: str) -> int:
        response = await facto.client.post(link, allow_redirects=False)
        await response.read()
        return response.status

    statuses = await asyncio.gather(*(tap(links[i % 100]) for i in range(1000)))
    assert set(statuses) <= {303, 410}
    assert facto.merchant is not None
    holds = await facto.redis.hgetall(keys.campaign_holds(facto.merchant.id, cid))
    assert len(holds) == 10
    assert len(facto.sandbox.sessions) == 10
    # Every tap put its hold on the sweep's list first; the 990 never reserved came off it.
    assert await facto.redis.zcard(keys.OFFER_SESSIONS_OPEN) == 10
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert sum(v["checkout"] for v in view["variants"].values()) == 10
    assert view["counts"]["sold_out"] > 0
    late = await facto.client.post(links[0], allow_redirects=False)
    assert late.status in (303, 410)
    if late.status == 410:
        assert "Épuisé" in await late.text()


async def test_an_ended_offer_shows_its_page(facto: Facto) -> None:
    cid, [link] = await _links(facto, 1, stock=5)
    facto.clock.advance(3 * 24 * 3600)
    page = await facto.client.post(link, allow_redirects=False)
    assert page.status == 410
    assert "Offre terminée" in await page.text()
    counts = (await get(facto, f"/api/v1/campaigns/{cid}"))["counts"]
    # A tap on an ended sale is not a message dropped because the sale ended.
    assert (counts["offer_ended"], counts["dropped_ended"], counts["sent"]) == (1, 0, 1)
    await post(facto, f"/api/v1/campaigns/{cid}/cancel", {})
    assert (await facto.client.get(link)).status == 200


async def test_progress_is_streamed_until_every_recipient_is_decided(facto: Facto) -> None:
    audience_id = await _seed(facto)
    _, campaign = await post(facto, "/api/v1/campaigns", campaign_body(audience_id))
    await post(facto, f"/api/v1/campaigns/{campaign['id']}/start", {})
    await facto.drain()
    response = await facto.client.get(
        f"/api/v1/campaigns/{campaign['id']}/stream", headers=auth(facto)
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    text = (await response.read()).decode()
    assert text.startswith("event: progress\ndata: ")
    first = json.loads(text.split("\n")[1].removeprefix("data: "))
    assert first["counts"]["sent"] == 4 and first["recipients"] == 5
    assert "event: done" in text
    bad = await facto.client.get(
        f"/api/v1/campaigns/{campaign['id']}/stream?every=0", headers=auth(facto)
    )
    assert bad.status == 400


async def _tap(facto: Facto, link: str) -> str:
    tap = await facto.client.post(link, allow_redirects=False)
    assert tap.status == 303, await tap.text()
    return urlparse(tap.headers["Location"]).path


async def test_a_paid_order_is_counted_and_gets_a_receipt_in_the_chat(facto: Facto) -> None:
    cid, [link] = await _links(facto, 1, stock=1)
    checkout = await _tap(facto, link)
    paid = await facto.client.post(f"{checkout}/card", allow_redirects=False)
    assert paid.status in (200, 303)
    await facto.drain()
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    assert len(texts) == 2 and texts[1].startswith("Merci ! Votre paiement pour « Lampe Lumière »")
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    [variant] = [v for v in view["variants"].values() if v["sent"]]
    assert variant["paid"] == 1 and variant["revenue"] == 2900
    # Stripe delivers the event again: nothing more.
    events = await (await facto.client.get("/sandbox/api/stripe/events")).json()
    [event] = [e for e in events if e["type"] == "checkout.session.completed"]
    await facto.client.post(f"/sandbox/api/stripe/redeliver/{event['id']}")
    await facto.drain()
    assert len(await facto.messages("telegram", "8000")) == 2
    assert (await get(facto, f"/api/v1/campaigns/{cid}"))["counts"]["sold_out"] == 0


async def test_an_expired_checkout_gives_the_unit_back(facto: Facto) -> None:
    import asyncio

    cid, links = await _links(facto, 2, stock=1)
    checkout = await _tap(facto, links[0])
    second = await facto.client.post(links[1], allow_redirects=False)
    assert second.status == 410  # sold out while the first one holds it
    facto.clock.advance(31 * 60)
    await facto.client.get(checkout)  # Stripe expires the session; its webhook follows
    assert facto.merchant is not None
    holds = keys.campaign_holds(facto.merchant.id, cid)
    for _ in range(200):
        await facto.drain()
        if not await facto.redis.hlen(holds):
            break
        await asyncio.sleep(0.01)  # the emulator's webhook runs in the background
    assert await facto.redis.hlen(holds) == 0
    assert (await facto.client.post(links[1], allow_redirects=False)).status == 303


async def test_answers_to_a_campaign_message(facto: Facto) -> None:
    _cid, [link] = await _links(facto, 1, stock=3)
    await facto.customer_says("telegram", "8000", "je prends")
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    assert texts[1].startswith("Avec plaisir ! Voici votre lien pour « Lampe Lumière »")
    again = "/o/" + texts[1].rsplit("/o/", 1)[1].split()[0]
    assert again != link
    assert (await facto.client.get(again)).status == 200  # a new personal link that works
    await facto.customer_says("telegram", "8000", "c'est quoi la taille ?")
    texts = [m["text"] for m in await facto.messages("telegram", "8000")]
    assert texts[2].startswith("Bonne question")
    waiting = await get(facto, "/api/v1/conversations?status=waiting_agent")
    assert "8000" in json.dumps(waiting)
    await facto.customer_says("telegram", "8000", "STOP")
    assert facto.merchant is not None
    _, customers_list = await post(facto, "/api/v1/audiences", {"customers": ["p000"]})
    body = campaign_body(customers_list["id"], name="Encore")
    _, second = await post(facto, "/api/v1/campaigns", body)
    await post(facto, f"/api/v1/campaigns/{second['id']}/start", {})
    await facto.drain()
    view = await get(facto, f"/api/v1/campaigns/{second['id']}")
    assert view["counts"]["skipped_no_consent"] == 1  # the STOP was recorded


def cart(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "cart-1",
        "customer_id": "t1",
        "amount": 4590,
        "currency": "EUR",
        "pay_url": "https://shop.example.fr/cart/1",
        "relaunch_after_minutes": 60,
        **overrides,
    }


async def test_an_abandoned_cart_is_relaunched_once(facto: Facto) -> None:
    await _seed(facto)
    status, body = await post(facto, "/api/v1/carts", cart())
    assert status == 201 and body["state"] == "open"
    status, _ = await post(facto, "/api/v1/carts", cart())
    assert status == 200  # the same cart again: nothing new
    facto.clock.advance(59 * 60)
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    facto.clock.advance(61)
    await facto.drain()
    [message] = await facto.messages("telegram", "5001")
    assert "votre panier (45,90" in message["text"]
    assert "https://shop.example.fr/cart/1" in message["text"]
    facto.clock.advance(3600)
    await facto.drain()
    assert len(await facto.messages("telegram", "5001")) == 1  # one relaunch only
    _, paid = await post(facto, "/api/v1/carts/cart-1/paid", {})
    assert paid["state"] == "paid"
    assert paid["merchant_totals"] == {
        "carts": 1,
        "relaunched": 1,
        "paid": 1,
        "paid_after_relaunch": 1,
    }


async def test_a_cart_relaunch_due_at_night_waits_for_the_morning_once(facto: Facto) -> None:
    """Due Tuesday 21:45 in Paris, after the marketing hours: it waits for 08:00 Wednesday
    (the wait keeps the first event's id as its origin), then goes once, whatever the drains
    after."""
    await _seed(facto)
    facto.clock.current = datetime(2026, 11, 24, 19, 45, tzinfo=UTC)  # 20:45 in Paris
    status, _ = await post(facto, "/api/v1/carts", cart())
    assert status == 201
    facto.clock.advance(3600)
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    facto.clock.current = datetime(2026, 11, 25, 6, 59, tzinfo=UTC)  # 07:59 Wednesday
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    facto.clock.current = datetime(2026, 11, 25, 7, 0, 1, tzinfo=UTC)
    await facto.drain()
    [message] = await facto.messages("telegram", "5001")
    assert "https://shop.example.fr/cart/1" in message["text"]
    facto.clock.advance(86_400)
    await facto.drain()
    assert len(await facto.messages("telegram", "5001")) == 1
    _, relaunched = await get_cart(facto, "cart-1")
    assert relaunched["state"] == "relaunched"


async def test_paying_cancels_the_relaunch_and_consent_rules_apply(facto: Facto) -> None:
    await _seed(facto)
    await post(facto, "/api/v1/carts", cart())
    await post(facto, "/api/v1/carts", cart(id="cart-2", customer_id="s2"))  # no consent
    status, paid = await post(facto, "/api/v1/carts/cart-1/paid", {})
    assert status == 200 and paid["state"] == "paid"
    facto.clock.advance(2 * 3600)
    await facto.drain()
    assert await facto.messages("telegram", "5001") == []
    assert await facto.messages("sms", "+33612340002") == []
    _, skipped = await get_cart(facto, "cart-2")
    assert skipped["state"] == "skipped"
    status, bad = await post(facto, "/api/v1/carts", cart(id="x", customer_id="nobody", amount=0))
    assert status == 422
    assert {e["field"] for e in bad["fields"]} == {"amount"}
    status, bad = await post(facto, "/api/v1/carts", cart(id="y", customer_id="nobody"))
    assert status == 422 and bad["fields"][0]["field"] == "customer_id"
    status, _ = await post(facto, "/api/v1/carts/nope/paid", {})
    assert status == 404


async def get_cart(facto: Facto, cart_id: str) -> tuple[int, Any]:
    response = await facto.client.get(f"/api/v1/carts/{cart_id}", headers=auth(facto))
    return response.status, await response.json()


async def test_the_per_customer_limit(facto: Facto) -> None:
    cid, [link] = await _links(facto, 1, stock=5)  # per_customer_limit 1 in campaign_body
    checkout = await _tap(facto, link)
    await facto.client.post(f"{checkout}/card", allow_redirects=False)
    await facto.drain()
    again = await facto.client.post(link, allow_redirects=False)
    assert again.status == 409 and "Déjà à vous" in await again.text()
    view = await get(facto, f"/api/v1/campaigns/{cid}")
    assert sum(v["paid"] for v in view["variants"].values()) == 1
