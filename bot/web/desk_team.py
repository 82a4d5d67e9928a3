"""Settings, second half (owners only, on the Settings page): the merchant's own senders and
its console users.

Senders go through the same code as `/api/v1/channels` (`bot.web.senders_api.save_sender`
and `drop_sender`, so the same checks, the same 409 for someone else's number or bot, the
Telegram webhook set before the bot is kept); a form sends the channel's fields as the API's
JSON would, and a token is never shown back. Users: the team listed, a colleague invited with
a first password shown once (as on the console's Team page, through `users.invite`), a role
changed, an account turned off (its sessions end at once) or on again. Nobody changes their
own account here, and the team always keeps an active owner. Every form carries the session's
CSRF token; every change is audited.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.logs import log_fields
from bot.store import users
from bot.store.users import Role
from bot.web.app_keys import SERVICES
from bot.web.console import invite_colleague
from bot.web.console_auth import CONSOLE_HEADERS, Agent, action, redirect
from bot.web.desk_settings import BASE, audit, owner_only, settings_view
from bot.web.senders_api import SenderRefused, drop_sender, save_sender

log = logging.getLogger(__name__)


def setup_team(app: web.Application) -> None:
    app.router.add_post(BASE + "/senders", save_own_sender)
    app.router.add_post(BASE + "/senders/{channel}/remove", remove_own_sender)
    app.router.add_post(BASE + "/users", invite_user)
    app.router.add_post(BASE + "/users/{user_id}/role", change_role)
    app.router.add_post(BASE + "/users/{user_id}/disable", disable_user)
    app.router.add_post(BASE + "/users/{user_id}/enable", enable_user)


@action
async def save_own_sender(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    form = await request.post()
    channel = str(form.get("channel") or "")
    # The form's boxes are the API's field names, all passed on for the shared code to check
    # (a field it does not know is refused there); an empty box is a field not given, as a
    # key left out of the API's JSON.
    fields = {
        name: str(value).strip()
        for name, value in form.items()
        if name not in ("csrf", "channel") and str(value).strip()
    }
    try:
        sender = await save_sender(services, agent.user.merchant_id, channel, fields)
    except SenderRefused as exc:
        errors = {"sender": exc.message}
        return await settings_view(request, agent, status=exc.status, errors=errors)
    await audit(request, agent, "sender_set", f"{channel} {sender.ref}")
    log.info("sender set from settings", extra=log_fields(user=agent.user.id, channel=channel))
    return redirect(BASE + "#senders")


@action
async def remove_own_sender(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    channel = request.match_info["channel"][:16]
    if not await drop_sender(services, agent.user.merchant_id, channel):
        raise web.HTTPNotFound(text="no own sender on that channel", headers=CONSOLE_HEADERS)
    await audit(request, agent, "sender_removed", channel)
    return redirect(BASE + "#senders")


@action
async def invite_user(request: web.Request, agent: Agent) -> web.StreamResponse:
    owner_only(agent)
    try:
        invited, password = await invite_colleague(request, agent)
    except users.UserError as exc:
        return await settings_view(request, agent, status=422, errors={"user": str(exc)})
    await audit(request, agent, "user_invited", f"{invited.id} {invited.role.value}")
    # The first password is in this answer only (stored hashed, never in a URL).
    return await settings_view(request, agent, status=201, invited=(invited, password))


@action
async def change_role(request: web.Request, agent: Agent) -> web.StreamResponse:
    role = str((await request.post()).get("role") or "")
    if role not in (Role.OWNER.value, Role.AGENT.value):
        return await _refused(request, agent, "role: owner or agent")
    return await _change(request, agent, "user_role_changed", role=Role(role))


@action
async def disable_user(request: web.Request, agent: Agent) -> web.StreamResponse:
    return await _change(request, agent, "user_disabled", disabled=True)


@action
async def enable_user(request: web.Request, agent: Agent) -> web.StreamResponse:
    return await _change(request, agent, "user_enabled", disabled=False)


async def _change(
    request: web.Request,
    agent: Agent,
    what: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
) -> web.StreamResponse:
    owner_only(agent)
    services = request.app[SERVICES]
    user_id = request.match_info["user_id"][:64]
    if user_id == agent.user.id:
        return await _refused(request, agent, "your own account is changed by another owner")
    try:
        changed = await users.change_member(
            services.redis, agent.user.merchant_id, user_id, role=role, disabled=disabled
        )
    except users.UserError as exc:
        if str(exc).startswith("user: no such user"):
            raise web.HTTPNotFound(text=str(exc), headers=CONSOLE_HEADERS) from None
        return await _refused(request, agent, str(exc))
    await audit(request, agent, what, f"{changed.id} {changed.role.value}")
    return redirect(BASE + "#users")


async def _refused(request: web.Request, agent: Agent, message: str) -> web.Response:
    owner_only(agent)
    return await settings_view(request, agent, status=409, errors={"user": message})
