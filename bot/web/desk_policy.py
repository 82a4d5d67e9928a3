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


def _view(
    request: web.Request,
    agent: Agent,
    merchant: Merchant,
    text: str,
    *,
    status: int = 200,
    error: PolicyError | None = None,
    saved: bool = False,
) -> web.Response:
    return render(
        request,
        "dashboard/policy.html",
        status=status,
        agent=agent.user,
        csrf=agent.session.csrf,
        text=text,
        error=error,
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
    merchant = await _merchant(request, agent)
    text = str((await request.post()).get("policy") or "")
    try:
        if len(text) > MAX_FORM:
            raise PolicyError("body", f"at most {MAX_FORM} characters")
        policy = from_json(text)
    except PolicyError as problem:
        return _view(request, agent, merchant, text, status=problem.status, error=problem)
    await collection_policy.save(request.app[SERVICES].redis, merchant.id, policy)
    await audit(request, agent, "policy_changed", "")
    return redirect(PAGE + "?saved=1")
