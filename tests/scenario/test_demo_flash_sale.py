"""The demo's flash sale, as the issue's "done when" tells it: 200 seeded customers (mixed
channels and consents), a two-variant sale with a stock of 20; start, watch, pause, resume;
each channel shows its message, opted-out customers get nothing, paying works until the stock
runs out, then the sold-out page shows."""

from __future__ import annotations

from urllib.parse import urlparse

from bot.demo_flash import demo_customers, seed_flash_sale
from tests.scenario.harness import Facto


async def test_the_demo_flash_sale(facto: Facto) -> None:
    welcome = await seed_flash_sale(
        facto.client.session, facto.base_url, facto.api_key, facto.sandbox, facto.clock.now()
    )
    assert "200 customers imported, audience of 200" in welcome[0]
    cid = welcome[0].split("sale ")[1].split(" ")[0]
    auth = {"Authorization": f"Bearer {facto.api_key}"}
    assert (await facto.client.post(f"/api/v1/campaigns/{cid}/start", headers=auth)).status == 200
    await facto.worker.campaigns.run_all()
    assert (await facto.client.post(f"/api/v1/campaigns/{cid}/pause", headers=auth)).status == 200
    await facto.drain()
    view = await (await facto.client.get(f"/api/v1/campaigns/{cid}", headers=auth)).json()
    assert view["state"] == "paused" and view["counts"]["sent"] == 0
    assert (await facto.client.post(f"/api/v1/campaigns/{cid}/resume", headers=auth)).status == 200
    facto.clock.advance(61)
    await facto.drain()
    await facto.drain()
    view = await (await facto.client.get(f"/api/v1/campaigns/{cid}", headers=auth)).json()
    people = demo_customers()
    consenting = [p for p in people if "consent" in p]
    assert view["counts"]["sent"] == len(consenting) == 150
    assert view["counts"]["skipped_no_consent"] == 50
    assert all(v["sent"] > 50 for v in view["variants"].values())
    # Each channel shows its message; a customer without consent got nothing.
    links = []
    for person in consenting:
        channel, address = (
            ("telegram", str(person["telegram_chat_id"]))
            if "telegram_chat_id" in person
            else ("sms", str(person["phone"]))
        )
        [message] = await facto.messages(channel, address)
        links.append("/o/" + message["text"].rsplit("/o/", 1)[1].split()[0])
    silent = next(p for p in people if "consent" not in p)
    assert await facto.messages("telegram", str(silent["telegram_chat_id"])) == []
    # Paying works until the stock runs out, then the sold-out page shows.
    for link in links[:20]:
        tap = await facto.client.post(link, allow_redirects=False)
        assert tap.status == 303, await tap.text()
        checkout = urlparse(tap.headers["Location"]).path
        paid = await facto.client.post(f"{checkout}/card", allow_redirects=False)
        assert paid.status in (200, 303)
    await facto.drain()
    late = await facto.client.post(links[20], allow_redirects=False)
    assert late.status == 410 and "Épuisé" in await late.text()
    view = await (await facto.client.get(f"/api/v1/campaigns/{cid}", headers=auth)).json()
    assert sum(v["paid"] for v in view["variants"].values()) == 20
    assert sum(v["revenue"] for v in view["variants"].values()) == 20 * 4900
