"""`GET/PUT /api/v1/policy`: the merchant's reminder ladder, validated, applied to invoices
issued after the change (an invoice keeps the policy of its issue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from tests.scenario.harness import Facto, invoice_body, start_facto
from tests.scenario.test_conversations import LINES, texts
from tests.scenario.test_reminders import walk_to

DUE = date(2027, 2, 26)  # a Friday
BEFORE, AFTER = ("telegram", "424242"), ("telegram", "515151")


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis)
    await app.add_merchant()
    yield app
    await app.client.close()


async def put(shop: Facto, body: Any) -> tuple[int, dict[str, Any]]:
    response = await shop.client.put(
        "/api/v1/policy", json=body, headers={"Authorization": f"Bearer {shop.api_key}"}
    )
    return response.status, await response.json()


async def test_defaults_are_todays_ladder(shop: Facto) -> None:
    response = await shop.client.get(
        "/api/v1/policy", headers={"Authorization": f"Bearer {shop.api_key}"}
    )
    assert response.status == 200
    reminders = (await response.json())["reminders"]
    assert reminders["days"] == [-3, 0, 3, 10, 30]
    assert (reminders["opens"], reminders["closes"], reminders["send_at"]) == (
        "09:00",
        "19:00",
        "10:00",
    )
    assert reminders["weekdays"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert reminders["on_holidays"] is False
    assert reminders["max_per_week"] == 2  # TESTCASES 80
    assert (await shop.client.get("/api/v1/policy")).status == 401


@pytest.mark.parametrize(
    ("reminders", "field"),
    [
        ({"days": [3, 0]}, "reminders.days"),
        ({"days": [0, 0]}, "reminders.days"),
        ({"days": [0, 400]}, "reminders.days"),
        ({"days": "3"}, "reminders.days"),
        ({"days": [1.5]}, "reminders.days"),
        ({"days": list(range(11))}, "reminders.days"),
        ({"opens": "9h"}, "reminders.opens"),
        ({"opens": "20:00"}, "reminders.closes"),
        ({"weekdays": []}, "reminders.weekdays"),
        ({"weekdays": ["monday"]}, "reminders.weekdays"),
        ({"on_holidays": "yes"}, "reminders.on_holidays"),
        ({"timezone": "Mars/Olympus"}, "reminders.timezone"),
        ({"timezone": "UTC+1"}, "reminders.timezone"),
        ({"colour": "red"}, "reminders.colour"),
        ({"max_per_week": 0}, "reminders.max_per_week"),
        ({"max_per_week": 8}, "reminders.max_per_week"),
        ({"max_per_week": "2"}, "reminders.max_per_week"),
        ({"max_per_week": True}, "reminders.max_per_week"),
    ],
)
async def test_bad_policies_are_422_naming_the_field(
    shop: Facto, reminders: dict[str, Any], field: str
) -> None:
    status, body = await put(shop, {"reminders": reminders})
    assert (status, body["field"]) == (422, field), body


async def test_not_json_is_refused(shop: Facto) -> None:
    response = await shop.client.put(
        "/api/v1/policy", data="days=3", headers={"Authorization": f"Bearer {shop.api_key}"}
    )
    assert response.status == 415
    status, _ = await put(shop, ["reminders"])
    assert status == 422
    # Bytes that are not UTF-8 (schemathesis found this one answered 500).
    response = await shop.client.put(
        "/api/v1/policy",
        data=b'{"\xa2": 1}',
        headers={"Authorization": f"Bearer {shop.api_key}", "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert (await response.json())["field"] == "body"


async def test_a_change_applies_to_invoices_issued_afterwards(shop: Facto) -> None:
    await shop.issue(invoice_body(*BEFORE, due=DUE, lines=LINES))
    status, body = await put(
        shop,
        {
            "reminders": {
                "days": [0, 9],  # on the due date, then a final notice on Sunday 7 March
                "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "send_at": "11:00",
            }
        },
    )
    assert status == 200 and body["reminders"]["days"] == [0, 9]
    await shop.issue(invoice_body(*AFTER, due=DUE, lines=LINES))

    # Tuesday 23 February: -3 exists only in the older invoice's ladder.
    assert len(await walk_to(shop, datetime(2027, 2, 23, 9, 0, tzinfo=UTC), *BEFORE)) == 1
    assert len(await texts(shop, *AFTER)) == 1  # only the invoice itself
    # Friday 26 at 11:00 in Paris (10:00 UTC): the new ladder's first step.
    assert await walk_to(shop, datetime(2027, 2, 26, 9, 59, tzinfo=UTC), *AFTER) == []
    [due] = await walk_to(shop, datetime(2027, 2, 26, 10, 0, tzinfo=UTC), *AFTER)
    assert "aujourd'hui" in due
    # Sunday 7 March is allowed by the new policy: the final notice goes then.
    [final] = await walk_to(shop, datetime(2027, 3, 7, 10, 0, tzinfo=UTC), *AFTER)
    assert "dernier rappel" in final


async def test_the_rest_of_the_policy_defaults(shop: Facto) -> None:
    response = await shop.client.get(
        "/api/v1/policy", headers={"Authorization": f"Bearer {shop.api_key}"}
    )
    body = await response.json()
    assert body["pay_later"] == {"max_days_after_due": 30}
    # LEGAL_FR §4.3: "3 fois sans frais" at most by default, from 50 € over 90 days at most.
    assert body["split"] == {
        "allowed_parts": [2, 3],
        "minimum": {"EUR": 5000},
        "max_span_days": 90,
    }
    assert body["languages"] == ["fr", "en"]


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"pay_later": {"max_days_after_due": 91}}, "pay_later.max_days_after_due"),
        ({"pay_later": {"max_days_after_due": -1}}, "pay_later.max_days_after_due"),
        ({"pay_later": {"max_days_after_due": "30"}}, "pay_later.max_days_after_due"),
        ({"pay_later": {"weeks": 2}}, "pay_later.weeks"),
        ({"pay_later": 30}, "pay_later"),
        ({"split": {"allowed_parts": [5]}}, "split.allowed_parts"),
        ({"split": {"allowed_parts": [1, 2]}}, "split.allowed_parts"),
        ({"split": {"allowed_parts": [3, 2]}}, "split.allowed_parts"),
        ({"split": {"allowed_parts": []}}, "split.allowed_parts"),
        ({"split": {"allowed_parts": [2, 4], "max_span_days": 2}}, "split.allowed_parts"),
        ({"split": {"max_span_days": 91}}, "split.max_span_days"),
        ({"split": {"minimum": {"eur": 5000}}}, "split.minimum"),
        ({"split": {"minimum": {"EUR": -1}}}, "split.minimum"),
        ({"split": {"minimum": {"EUR": 50.5}}}, "split.minimum"),
        ({"split": {"fees": 100}}, "split.fees"),
        ({"languages": ["de"]}, "languages"),
        ({"languages": []}, "languages"),
        ({"languages": ["fr", "fr"]}, "languages"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_bad_pay_later_split_and_languages_are_422_naming_the_field(
    shop: Facto, policy: dict[str, Any], field: str
) -> None:
    status, body = await put(shop, policy)
    assert (status, body["field"]) == (422, field), body


async def test_the_flows_follow_the_pay_later_window_and_the_split_rules(shop: Facto) -> None:
    status, body = await put(
        shop, {"pay_later": {"max_days_after_due": 10}, "split": {"allowed_parts": [2]}}
    )
    assert status == 200 and body["split"]["allowed_parts"] == [2]
    created = await shop.issue(invoice_body(*BEFORE, due=DUE, lines=LINES))
    assert created["id"]
    # 26 February + 10 days: 8 March is the latest; 20 March gets that as a counter-proposal.
    await shop.customer_says(*BEFORE, "je paierai le 20 mars 2027")
    late = (await texts(shop, *BEFORE))[-1]
    assert "trop tard" in late and "8 mars 2027" in late
    await shop.customer_says(*BEFORE, "le 5 mars 2027")
    assert "5 mars" in (await texts(shop, *BEFORE))[-1]
    # "3 fois" is not allowed any more: refused, with the allowed option.
    await shop.customer_says(*BEFORE, "je veux payer en 3 fois")
    refused = (await texts(shop, *BEFORE))[-1]
    assert "en 3 fois n'est pas possible" in refused and "2 fois maximum" in refused
    messages = await shop.messages(*BEFORE)
    assert [b["action"] for b in messages[-1]["buttons"]] == ["split:2"]


async def test_languages_offered_limit_the_reply_language(shop: Facto) -> None:
    status, _ = await put(shop, {"languages": ["fr"]})
    assert status == 200
    await shop.issue(invoice_body(*BEFORE, locale="en", due=DUE, lines=LINES))
    [invoice] = await texts(shop, *BEFORE)
    assert "Bonjour" in invoice  # English is not offered: French
    await shop.customer_says(*BEFORE, "I would like to pay in two weeks please")
    assert "Hello" not in (await texts(shop, *BEFORE))[-1]
