"""The dashboard's collection policy page: it shows what `GET /api/v1/policy` returns, saves
through the very check of `PUT /api/v1/policy` (a refused field is named, nothing stored),
and is for the merchant's owners only, CSRF-protected."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from bot.store import keys
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto

PAGE = "/console/dashboard/settings/policy"


def shown(text: str) -> dict[str, Any]:
    found = re.search(r'<textarea id="f-policy"[^>]*>(.*?)</textarea>', text, re.S)
    assert found is not None
    loaded: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return loaded


async def api_policy(facto: Facto) -> dict[str, Any]:
    response = await facto.client.get(
        "/api/v1/policy", headers={"Authorization": f"Bearer {facto.api_key}"}
    )
    assert response.status == 200
    document: dict[str, Any] = await response.json()
    return document


async def test_the_page_shows_the_policy_and_saves_it_like_the_api(
    facto: Facto, owner: Browser
) -> None:
    status, text = await owner.get("/console/dashboard/settings")
    assert status == 200 and f'href="{PAGE}"' in text
    status, text = await owner.get(PAGE)
    assert status == 200
    policy = shown(text)
    api = await api_policy(facto)
    assert policy["reminders"] == api["reminders"] and policy["reward"] == api["reward"]
    assert policy["languages"] == ["fr", "en"] and "split" not in policy  # the account's default
    assert "applies_to" not in policy
    policy["reminders"]["days"] = [-2, 0, 5]
    policy["pay_later"]["max_days_after_due"] = 20
    policy["reward"] |= {"enabled": True, "percent": 10, "code": "MERCI10"}
    status, text = await owner.post(PAGE, {"policy": json.dumps(policy)})
    assert status == 200 and 'id="saved"' in text
    api = await api_policy(facto)
    assert api["reminders"]["days"] == [-2, 0, 5]
    assert api["pay_later"]["max_days_after_due"] == 20
    assert (api["reward"]["enabled"], api["reward"]["code"]) == (True, "MERCI10")
    assert shown(text)["reminders"]["days"] == [-2, 0, 5]  # the page shows what is stored


async def test_a_refused_field_is_named_and_nothing_is_stored(
    facto: Facto, owner: Browser
) -> None:
    assert facto.merchant is not None
    stored_key = keys.merchant_policy(facto.merchant.id)
    _, text = await owner.get(PAGE)
    policy = shown(text)
    cases = [
        ({**policy, "reminders": {**policy["reminders"], "opens": "20:00"}}, "reminders.closes"),
        (
            {**policy, "reward": {**policy["reward"], "applies_to": "this_invoice"}},
            "reward.applies_to",
        ),
        ({**policy, "colour": "red"}, "colour"),
        ({**policy, "languages": ["de"]}, "languages"),
    ]
    for bad, field in cases:
        typed = json.dumps(bad)
        status, text = await owner.post(PAGE, {"policy": typed})
        assert status == 422, field
        assert shown(text) == bad  # what was typed stays
        response = await facto.client.put(
            "/api/v1/policy",
            data=typed,
            headers={
                "Authorization": f"Bearer {facto.api_key}",
                "Content-Type": "application/json",
            },
        )
        api_error = await response.json()
        assert response.status == 422 and api_error["field"] == field
        said = re.search(r'<p class="error" role="alert" id="e-policy">(.*?)</p>', text, re.S)
        assert said is not None  # the API's own message
        assert (
            html.unescape(said.group(1))
            == f'<code id="e-field">{field}</code>: ' + (api_error["error"])
        )
    status, text = await owner.post(PAGE, {"policy": "{not json"})
    assert status == 400 and '<code id="e-field">body</code>' in text and "{not json" in text
    assert await facto.redis.get(stored_key) is None


async def test_agents_and_forged_forms_are_refused(facto: Facto, owner: Browser) -> None:
    _, secret = await add_user(facto, "agent@atelier.fr", "Aline")
    agent = Browser.open(facto)
    try:
        await agent.log_in("agent@atelier.fr", secret)
        status, _ = await agent.get(PAGE)
        assert status == 403
        status, _ = await agent.post(PAGE, {"policy": "{}"})
        assert status == 403
    finally:
        await agent.close()
    await owner.get(PAGE)
    owner.csrf = "forged"
    status, _ = await owner.post(PAGE, {"policy": "{}"})
    assert status == 403
    assert facto.merchant is not None
    assert await facto.redis.get(keys.merchant_policy(facto.merchant.id)) is None


async def test_the_labelled_fields_change_only_themselves(facto: Facto, owner: Browser) -> None:
    assert facto.merchant is not None
    _, text = await owner.get(PAGE)
    assert 'value="-3, 0, 3, 10, 30"' in text and 'name="pay_later.max_days_after_due"' in text
    fields = {
        "reminders.days": "-3, 0, 3, 10, 30",
        "reminders.send_at": "10:00",
        "reminders.opens": "09:00",
        "reminders.closes": "19:00",
        "reminders.max_per_week": "2",
        "pay_later.max_days_after_due": "15",
    }
    for name, typed in (
        ("reminders.days", "3, 1"),
        ("reminders.days", "3, soon"),
        ("reminders.opens", "9h"),
        ("reminders.max_per_week", "8"),
        ("pay_later.max_days_after_due", "a month"),
    ):
        status, text = await owner.post(PAGE, {**fields, name: typed})
        assert status == 422, (name, typed)
        assert f'<code id="e-field">{name}</code>' in text
        assert f'id="f-{name}" name="{name}" value="{typed}" aria-invalid="true"' in text
    assert await facto.redis.get(keys.merchant_policy(facto.merchant.id)) is None
    status, text = await owner.post(
        PAGE, {**fields, "reminders.days": "0, 7", "pay_later.max_days_after_due": "15"}
    )
    assert status == 200 and 'id="saved"' in text
    api = await api_policy(facto)
    assert api["reminders"]["days"] == [0, 7] and api["pay_later"]["max_days_after_due"] == 15
    assert api["reminders"]["weekdays"] == ["mon", "tue", "wed", "thu", "fri", "sat"]  # kept
