"""The dashboard's Settings (owners only): the merchant's legal identity, viewed and edited with
the checks of `merchant create`, with the colour of its customers' pages (bot.web.brand) and
its logo (bot.web.desk_logo); its API keys (created with a name and shown once, listed,
revoked: a revoked key gets a 401 on its next request; the key `merchant create` gave is
listed too), and on the same page its own senders and its console users (bot.web.desk_team).
The collection policy has a page of its own, linked from here (bot.web.desk_policy)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bot.logs import log_fields
from bot.runtime import legal_identity
from bot.store import api_keys, handover, logos, seller, senders, users
from bot.store.merchants import Merchant, get_merchant, set_iban
from bot.web.app_keys import SERVICES
from bot.web.brand import brand_colour
from bot.web.console_auth import Agent, action, page, redirect, render

# Re-exported: desk_team and desk_policy take it from here.
from bot.web.console_auth import owner_only as owner_only  # noqa: PLC0414
from payments.merchant_ids import validate_fr_vat_number, validate_siren
from payments.transfer import validate_iban

log = logging.getLogger(__name__)

BASE = "/console/dashboard/settings"
MAX_TEXT = 300


def setup_settings(app: web.Application) -> None:
    app.router.add_get(BASE, settings_page)
    app.router.add_post(BASE + "/identity", save_identity)
    app.router.add_post(BASE + "/iban", save_iban)
    app.router.add_post(BASE + "/keys", create_key)
    app.router.add_post(BASE + "/keys/{key_id}/revoke", revoke_key)


async def settings_view(
    request: web.Request,
    agent: Agent,
    *,
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    typed: Mapping[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    services = request.app[SERVICES]
    merchant = await get_merchant(services.redis, agent.user.merchant_id)
    if merchant is None:
        raise web.HTTPNotFound(text="no such merchant")
    await api_keys.adopt_unlisted(services.redis, merchant.id, merchant.created_at)
    return render(
        request,
        "dashboard/settings.html",
        status=status,
        agent=agent.user,
        csrf=agent.session.csrf,
        identity=typed or _shown(merchant),
        errors=errors or {},
        keys=await api_keys.listed(services.redis, merchant.id),
        senders=[s.public() for s in await senders.all_of(services.redis, merchant.id)],
        team=await users.list_users(services.redis, merchant.id),
        logo=await logos.current(services.redis, merchant.id),
        logo_saved=request.query.get("logo") == "saved",
        **{"new_key": None, "saved": False, "invited": None, "iban_typed": None, **extra},
    )


def _shown(merchant: Merchant) -> dict[str, str]:
    capital = merchant.share_capital
    euros = "" if capital is None else f"{int(capital) // 100}.{int(capital) % 100:02d}"
    return {
        "name": merchant.name,
        "legal_name": merchant.legal_name,
        "siren": merchant.siren,
        "vat_number": merchant.vat_number or "",
        "address": merchant.address,
        "legal_form": merchant.legal_form or "",
        "share_capital": euros.removesuffix(".00"),
        "rcs_city": merchant.rcs_city or "",
        "brand_colour": merchant.brand_colour or "",
        "iban": merchant.iban or "",
    }


@page
async def settings_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    return await settings_view(request, agent, saved=request.query.get("saved") == "1")


def check_identity(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """What `merchant create` accepts, field by field: (values to store, errors by field)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in ("name", "legal_name", "address"):
        text = form.get(name, "").strip()
        if not text or len(text) > MAX_TEXT:
            errors[name] = f"required, at most {MAX_TEXT} characters"
        values[name] = text
    try:
        values["siren"] = validate_siren(form.get("siren", ""))
    except ValueError as exc:
        errors["siren"] = str(exc)
    vat = form.get("vat_number", "").strip()
    try:
        values["vat_number"] = validate_fr_vat_number(vat, values.get("siren")) if vat else None
    except ValueError as exc:
        errors["vat_number"] = str(exc)
    try:
        identity = legal_identity(
            form.get("legal_form", "")[:MAX_TEXT] or None,
            form.get("share_capital", "").strip() or None,
            form.get("rcs_city", "")[:MAX_TEXT] or None,
        )
    except ValueError as exc:
        errors["share_capital"] = str(exc)
    else:
        capital = identity["share_capital"]
        values |= {**identity, "share_capital": None if capital is None else str(capital)}
    return values, errors


@action
async def save_identity(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    form = {k: str(v) for k, v in (await request.post()).items() if k != "csrf"}
    values, errors = check_identity(form)
    try:
        values["brand_colour"] = brand_colour(form.get("brand_colour", ""))
    except ValueError as exc:
        errors["brand_colour"] = str(exc)
    if errors:
        return await settings_view(request, agent, status=422, errors=errors, typed=form)
    merchant_id = agent.user.merchant_id
    if await seller.update_identity(services.redis, merchant_id, values) is None:
        raise web.HTTPNotFound(text="no such merchant")
    await audit(request, agent, "identity_changed", values["legal_name"])
    return redirect(BASE + "?saved=1")


@action
async def save_iban(request: web.Request, agent: Agent) -> web.StreamResponse:
    """The IBAN shown for a bank transfer, checked as `merchant set-iban` checks it (country
    layout and checksum); empty removes it."""
    owner_only(agent)
    services = request.app[SERVICES]
    typed = str((await request.post()).get("iban") or "").strip()
    try:
        value = validate_iban(typed) if typed else None
    except ValueError as exc:
        errors = {"iban": str(exc)}
        return await settings_view(request, agent, status=422, errors=errors, iban_typed=typed)
    if await set_iban(services.redis, agent.user.merchant_id, value) is None:
        raise web.HTTPNotFound(text="no such merchant")
    # Only the last four characters in the audit trail: enough to tell which account it was.
    await audit(request, agent, "iban_changed", f"…{value[-4:]}" if value else "removed")
    return redirect(BASE + "?saved=1#iban")


@action
async def create_key(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    name = str((await request.post()).get("name") or "").strip()
    if not name or len(name) > api_keys.MAX_NAME:
        errors = {"key_name": f"a name, at most {api_keys.MAX_NAME} characters"}
        return await settings_view(request, agent, status=422, errors=errors)
    made = await api_keys.create(
        services.redis, agent.user.merchant_id, name, services.clock.now()
    )
    if made is None:
        errors = {"key_name": f"at most {api_keys.MAX_KEYS} keys: revoke one first"}
        return await settings_view(request, agent, status=409, errors=errors)
    key, clear = made
    await audit(request, agent, "api_key_created", f"{key.name} …{key.last4}")
    log.info("api key created", extra=log_fields(user=agent.user.id))
    # Shown in this answer only (never stored in clear, never in a URL).
    return await settings_view(request, agent, status=201, new_key=clear)


@action
async def revoke_key(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    key_id = request.match_info["key_id"][:32]
    revoked = await api_keys.revoke(services.redis, agent.user.merchant_id, key_id)
    if revoked is None:
        raise web.HTTPNotFound(text="no such API key")
    await audit(request, agent, "api_key_revoked", f"{revoked.name} …{revoked.last4}")
    return redirect(BASE)


async def audit(request: web.Request, agent: Agent, what: str, detail: str) -> None:
    services = request.app[SERVICES]
    async with services.redis.pipeline(transaction=True) as pipe:
        handover.audit_entry(
            pipe,
            agent.user.merchant_id,
            at=services.clock.now(),
            ref="",
            what=what,
            user_id=agent.user.id,
            detail=detail,
        )
        await pipe.execute()
