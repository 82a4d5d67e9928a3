"""The dashboard's collection policy page (owners only, linked from Settings): the policy of
`GET /api/v1/policy` shown as editable JSON, saved through the very check of
`PUT /api/v1/policy` (bot.web.policy.from_json): a refused field re-shows the form with the
API's message naming it, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.engine.facts import split_policy_for
from bot.store import policy as collection_policy
from bot.store.merchants import Merchant, get_merchant
from bot.store.policy import CollectionPolicy, split_to_dict
from bot.web.app_keys import SERVICES
from bot.web.console_auth import Agent, action, page, redirect, render
from bot.web.desk_settings import BASE, audit, owner_only
from bot.web.policy import PolicyError, document, from_json

PAGE = BASE + "/policy"
MAX_FORM = 20_000  # characters: a full policy is about 1 000


def setup_policy(app: web.Application) -> None:
    app.router.add_get(PAGE, policy_page)
    app.router.add_post(PAGE, save_policy)


def editable(policy: CollectionPolicy, merchant: Merchant) -> str:
    """What PUT accepts back: the API's document without its note, and without `split` while
    the merchant has none of its own (the default follows the account's --max-instalments;
    saving it here would freeze it)."""
    shown: dict[str, Any] = document(policy, merchant)
    del shown["applies_to"]
    if policy.split is None:
        del shown["split"]
    return json.dumps(shown, indent=2, ensure_ascii=False)


async def _merchant(request: web.Request, agent: Agent) -> Merchant:
    owner_only(agent)
    merchant = await get_merchant(request.app[SERVICES].redis, agent.user.merchant_id)
    if merchant is None:
        raise web.HTTPNotFound(text="no such merchant")
    return merchant


# The labelled fields: named like the API's fields, so its error lands next to the right one.
LABELLED = (
    "reminders.days",
    "reminders.send_at",
    "reminders.opens",
    "reminders.closes",
    "reminders.max_per_week",
    "pay_later.max_days_after_due",
)


def labelled(document: dict[str, Any]) -> dict[str, str]:
    """The labelled fields' values, as typed: days as `-3, 0, 3`."""
    values: dict[str, str] = {}
    for name in LABELLED:
        section, key = name.split(".")
        value = document[section][key]
        values[name] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return values


def _typed(text: str) -> object:
    """A whole number when it reads as one, else the text as typed: the API's check then
    refuses it with its own message."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def with_fields(document: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """The stored policy with the labelled fields sent, to be checked like a PUT."""
    changed = {
        section: dict(value) if isinstance(value, dict) else value
        for section, value in document.items()
    }
    for name in LABELLED:
        if name not in form:
            continue
        section, key = name.split(".")
        raw = form[name]
        if key == "days":
            changed[section][key] = [_typed(d) for d in raw.split(",") if d.strip()]
        elif key in ("max_per_week", "max_days_after_due"):
            changed[section][key] = _typed(raw)
        else:
            changed[section][key] = raw.strip()
    return changed


def _view(
    request: web.Request,
    agent: Agent,
    merchant: Merchant,
    text: str,
    *,
    status: int = 200,
    error: PolicyError | None = None,
    saved: bool = False,
    fields: dict[str, str] | None = None,
) -> web.Response:
    return render(
        request,
        "dashboard/policy.html",
        status=status,
        agent=agent.user,
        csrf=agent.session.csrf,
        text=text,
        error=error,
        field_error=error if error is not None and error.field in LABELLED else None,
        fields=fields or labelled(json.loads(text)),
        saved=saved,
        default_split=json.dumps(split_to_dict(split_policy_for(merchant))),
    )


@page
async def policy_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    merchant = await _merchant(request, agent)
    policy = await collection_policy.load_all(request.app[SERVICES].redis, merchant.id)
    saved = request.query.get("saved") == "1"
    return _view(request, agent, merchant, editable(policy, merchant), saved=saved)


@action
async def save_policy(request: web.Request, agent: Agent) -> web.StreamResponse:
    """Either form: the whole policy as JSON, or the labelled fields over the stored policy."""
    merchant = await _merchant(request, agent)
    redis = request.app[SERVICES].redis
    form = {k: str(v)[: MAX_FORM + 1] for k, v in (await request.post()).items() if k != "csrf"}
    stored = editable(await collection_policy.load_all(redis, merchant.id), merchant)
    fields = None
    if "policy" in form:
        text = form["policy"]
    else:
        fields = {name: form.get(name, "") for name in LABELLED}
        text = json.dumps(with_fields(json.loads(stored), form), indent=2, ensure_ascii=False)
    try:
        if len(text) > MAX_FORM:
            raise PolicyError("body", f"at most {MAX_FORM} characters")
        policy = from_json(text)
    except PolicyError as problem:
        # A refused labelled field keeps what was typed there, and the JSON shows what is stored.
        shown = text if fields is None else stored
        fields = fields or labelled(json.loads(stored))
        return _view(
            request, agent, merchant, shown, status=problem.status, error=problem, fields=fields
        )
    await collection_policy.save(redis, merchant.id, policy)
    await audit(request, agent, "policy_changed", "")
    return redirect(PAGE + "?saved=1")
