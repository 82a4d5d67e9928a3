"""The support console (`/console`): the queue, a conversation, and what an agent does to it.

Pages are rendered on the server (jinja2, autoescaped); `console.js` only refreshes parts of
them when the websocket says a conversation changed. Every action is a POST with the session's
CSRF token, limited to the user's merchant, and becomes an event of the conversation's inbox
(`bot.engine.handover.submit`): the conversation's own dispatch applies it, and an agent's
words reach the customer through the outbox like any other message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import date
from decimal import Decimal, DecimalException
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web
from redis.exceptions import RedisError

from bot.engine import handover as engine_handover
from bot.engine.events import AgentActed
from bot.logs import log_fields
from bot.store import handover, keys, users
from bot.store.conversations import load_state
from bot.store.invoices import get_invoice
from bot.store.merchants import get_merchant
from bot.store.users import Role
from bot.web import console_views as views
from bot.web.app_keys import SERVICES
from bot.web.console_auth import (
    Agent,
    action,
    current_agent,
    page,
    redirect,
    render,
    same_origin,
    setup_console_auth,
)
from bot.web.pages import visitor_locale
from flows.agent import MAX_REPLY_CHARS, OFFLINE_METHODS, refusal
from flows.model import AgentKind
from payments.invoice import Invoice
from payments.money import Money, currency_exponent

log = logging.getLogger(__name__)

CANNED_REPLIES = {
    "fr": (
        "Bonjour, je suis {agent}, je m'occupe de votre dossier.",
        "Je vérifie votre paiement et je reviens vers vous rapidement.",
        "Votre paiement est bien enregistré. Merci !",
        "Je vous renvoie le lien de paiement sécurisé.",
        "Je vous repasse à l'assistant automatique. Bonne journée !",
    ),
    "en": (
        "Hello, I am {agent} and I am looking after your file.",
        "I am checking your payment and will get back to you shortly.",
        "Your payment is recorded. Thank you!",
        "I am sending you the secure payment link again.",
        "I am handing you back to the automatic assistant. Have a nice day!",
    ),
}
SESSION_RECHECK_SECONDS = 5.0
PAYMENT_OPS = (
    "resend_link",
    "extend_due",
    "offer_plan",
    "offline_payment",
    "pause_reminders",
    "resume_reminders",
    "credit_note",
)


def setup_console(app: web.Application) -> None:
    setup_console_auth(app)
    app.router.add_get("/console", queue_page)
    app.router.add_get("/console/queue", queue_part)
    app.router.add_get("/console/ws", websocket)
    app.router.add_get("/console/c/{ref}", conversation_page)
    app.router.add_get("/console/c/{ref}/live", conversation_part)
    app.router.add_post("/console/c/{ref}/claim", claim)
    app.router.add_post("/console/c/{ref}/release", release)
    app.router.add_post("/console/c/{ref}/reassign", reassign)
    app.router.add_post("/console/c/{ref}/reply", reply)
    app.router.add_post("/console/c/{ref}/resolve", resolve)
    app.router.add_post("/console/c/{ref}/payment", payment)
    app.router.add_get("/console/team", team_page)
    app.router.add_post("/console/team", invite)


# Pages --------------------------------------------------------------------------------------


async def _queue(request: web.Request, agent: Agent) -> list[views.QueueItem]:
    services = request.app[SERVICES]
    return await views.queue_items(
        services.redis, agent.user.merchant_id, services.clock.now(), visitor_locale(request)
    )


@page
async def queue_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    items = await _queue(request, agent)
    return render(request, "queue.html", agent=agent.user, csrf=agent.session.csrf, items=items)


@page
async def queue_part(request: web.Request, agent: Agent) -> web.StreamResponse:
    items = await _queue(request, agent)
    return render(request, "_queue.html", agent=agent.user, items=items)


async def _conversation(request: web.Request, agent: Agent) -> str:
    services = request.app[SERVICES]
    conversation = await handover.resolve_ref(
        services.redis, agent.user.merchant_id, request.match_info["ref"]
    )
    if conversation is None:
        raise web.HTTPNotFound(text="no such conversation")
    return conversation


async def _view_context(request: web.Request, agent: Agent) -> dict[str, Any]:
    services = request.app[SERVICES]
    conversation = await _conversation(request, agent)
    merchant_id = agent.user.merchant_id
    found = await views.context(
        services.redis, merchant_id, conversation, services.settings.public_base_url
    )
    colleagues = [u for u in await users.list_users(services.redis, merchant_id) if not u.disabled]
    locale = found.state.locale or services.settings.default_locale
    canned = [
        text.format(agent=agent.user.name)
        for text in CANNED_REPLIES.get(locale, CANNED_REPLIES["fr"])
    ]
    merchant = await get_merchant(services.redis, merchant_id)
    handed = await _handed_invoice(request, agent, conversation)
    window = await views.whatsapp_window_of(
        services.redis,
        conversation,
        now=services.clock.now(),
        zone=ZoneInfo(services.settings.default_timezone),
        locale=locale,
        team=merchant.name if merchant else "",
    )
    return {
        "agent": agent.user,
        "csrf": agent.session.csrf,
        "c": found,
        "window": window,
        "lines": await views.lines(services.redis, conversation),
        "mine": found.holder is not None and found.holder.user_id == agent.user.id,
        "colleagues": [u for u in colleagues if u.id != agent.user.id],
        "names": {u.id: u.name for u in colleagues},
        "canned": canned,
        # While the WhatsApp window is closed the reply goes in a template: less room.
        "max_reply": window.max_chars if window and not window.open else MAX_REPLY_CHARS,
        "methods": OFFLINE_METHODS,
        "notice": request.query.get("notice", "")[:20],
        "reasons": views.REASONS,
        # The actions the handed invoice refuses (voided, nothing left to pay), not offered.
        "handed": handed,
        "blocked": _blocked(handed),
        "refused": None,
    }


def _blocked(invoice: Invoice | None) -> dict[str, str]:
    if invoice is None:
        return {}
    found = {op: refusal(op, invoice.status.value, invoice.amount_due) for op in PAYMENT_OPS}
    return {op: why for op, why in found.items() if why is not None}


@page
async def conversation_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    return render(request, "conversation.html", **await _view_context(request, agent))


@page
async def conversation_part(request: web.Request, agent: Agent) -> web.StreamResponse:
    return render(request, "_conversation.html", **await _view_context(request, agent))


# Actions ------------------------------------------------------------------------------------


NOTICES = ("held", "reassigned", "not_waiting", "done", "no_invoice")


def _back(ref: str, notice: str = "") -> web.Response:
    """Back to the conversation, with one of the page's own notices (a code, never text: a
    link cannot make the console say something it did not)."""
    suffix = f"?notice={notice}" if notice in NOTICES else ""
    return redirect(f"/console/c/{ref}{suffix}")


async def _submit(
    request: web.Request,
    agent: Agent,
    conversation: str,
    kind: AgentKind,
    *,
    text: str = "",
    settled: bool = False,
    forced: bool = False,
    params: dict[str, Any] | None = None,
) -> None:
    acted = AgentActed(
        kind,
        agent.user.merchant_id,
        agent_id=agent.user.id,
        agent_name=agent.user.name,
        text=text,
        settled=settled,
        forced=forced,
        params=params or {},
    )
    await engine_handover.submit(request.app[SERVICES].redis, conversation, acted)


@action
async def claim(request: web.Request, agent: Agent) -> web.StreamResponse:
    services = request.app[SERVICES]
    conversation = await _conversation(request, agent)
    result = await handover.claim(
        services.redis,
        agent.user.merchant_id,
        conversation,
        user_id=agent.user.id,
        name=agent.user.name,
        now=services.clock.now(),
    )
    ref = request.match_info["ref"]
    if result.holder is not None:
        return _back(ref, "held")
    if not result.waiting:
        return _back(ref, "not_waiting")
    await _submit(request, agent, conversation, AgentKind.CLAIM)
    log.info("conversation claimed", extra=log_fields(user=agent.user.id, conv=ref))
    return _back(ref)


@action
async def reassign(request: web.Request, agent: Agent) -> web.StreamResponse:
    services = request.app[SERVICES]
    if agent.user.role is not Role.OWNER:
        raise web.HTTPForbidden(text="only an owner can reassign a conversation")
    conversation = await _conversation(request, agent)
    form = await request.post()
    target = await users.get_user(
        services.redis, agent.user.merchant_id, str(form.get("user_id") or "")
    )
    if target is None:
        raise web.HTTPBadRequest(text="user_id: no such user in your team")
    if target.disabled:  # turned off in Settings: nobody to answer
        raise web.HTTPBadRequest(text="user_id: that account is disabled")
    result = await handover.claim(
        services.redis,
        agent.user.merchant_id,
        conversation,
        user_id=target.id,
        name=target.name,
        now=services.clock.now(),
        force=True,
    )
    ref = request.match_info["ref"]
    if not result.won:
        return _back(ref, "not_waiting")
    acted = AgentActed(
        AgentKind.CLAIM,
        agent.user.merchant_id,
        agent_id=target.id,
        agent_name=target.name,
        forced=True,
    )
    await engine_handover.submit(services.redis, conversation, acted)
    return _back(ref, "reassigned")


async def _holding(request: web.Request, agent: Agent) -> str:
    """The conversation, if this agent holds it (else 409 with who does)."""
    services = request.app[SERVICES]
    conversation = await _conversation(request, agent)
    holder = await handover.holder(services.redis, agent.user.merchant_id, conversation)
    if holder is None or holder.user_id != agent.user.id:
        who = holder.name if holder else "nobody"
        raise web.HTTPConflict(text=f"you do not hold this conversation ({who} does)")
    return conversation


@action
async def release(request: web.Request, agent: Agent) -> web.StreamResponse:
    services = request.app[SERVICES]
    conversation = await _holding(request, agent)
    await handover.release(services.redis, agent.user.merchant_id, conversation, agent.user.id)
    await _submit(request, agent, conversation, AgentKind.RELEASE)
    return redirect("/console")


@action
async def reply(request: web.Request, agent: Agent) -> web.StreamResponse:
    conversation = await _holding(request, agent)
    form = await request.post()
    text = str(form.get("text") or "").strip()
    if not text:
        raise web.HTTPBadRequest(text="text: write something to send")
    if len(text) > MAX_REPLY_CHARS:
        raise web.HTTPBadRequest(text=f"text: at most {MAX_REPLY_CHARS} characters")
    services = request.app[SERVICES]
    window = await views.whatsapp_window_of(
        services.redis,
        conversation,
        now=services.clock.now(),
        zone=ZoneInfo(services.settings.default_timezone),
        locale="fr",
        team="",
    )
    if window is not None and not window.open and len(text) > window.max_chars:
        raise web.HTTPBadRequest(
            text=f"text: the WhatsApp window is closed, so the reply goes in an approved "
            f"template: at most {window.max_chars} characters"
        )
    merchant = await get_merchant(services.redis, agent.user.merchant_id)
    team = merchant.name if merchant else ""
    await _submit(request, agent, conversation, AgentKind.REPLY, text=text, params={"team": team})
    return _back(request.match_info["ref"])


@action
async def resolve(request: web.Request, agent: Agent) -> web.StreamResponse:
    services = request.app[SERVICES]
    conversation = await _conversation(request, agent)
    holder = await handover.holder(services.redis, agent.user.merchant_id, conversation)
    mine = holder is not None and holder.user_id == agent.user.id
    if not mine and agent.user.role is not Role.OWNER:
        raise web.HTTPConflict(text="claim the conversation before handing it back")
    form = await request.post()
    await _submit(
        request,
        agent,
        conversation,
        AgentKind.RESOLVE,
        settled=form.get("settled") == "1",
        forced=not mine,
    )
    if holder is not None:
        await handover.release(
            services.redis, agent.user.merchant_id, conversation, holder.user_id
        )
    return redirect("/console")


@action
async def payment(request: web.Request, agent: Agent) -> web.StreamResponse:
    conversation = await _holding(request, agent)
    form = await request.post()
    op = str(form.get("op") or "")
    if op not in PAYMENT_OPS:
        raise web.HTTPBadRequest(text=f"op: one of {', '.join(PAYMENT_OPS)}")
    invoice = await _handed_invoice(request, agent, conversation)
    if invoice is None:  # a campaign question: no invoice of this merchant to act on
        return _back(request.match_info["ref"], "no_invoice")
    if (why := refusal(op, invoice.status.value, invoice.amount_due)) is not None:
        # Nothing queued: the flow would refuse it anyway, silently; the agent is told why.
        return await _refused(request, agent, why, invoice, status=409)
    params = _payment_params(op, {k: str(v) for k, v in form.items()}, invoice.currency)
    limit = {
        "offline_payment": invoice.amount_due,
        "credit_note": invoice.amount_paid - invoice.amount_refunded,
    }.get(op)
    if limit is not None and params["amount"] > limit:
        why = "over_due" if op == "offline_payment" else "over_paid"
        limit_money = Money(limit, invoice.currency)
        return await _refused(request, agent, why, invoice, status=400, limit=limit_money)
    await _submit(request, agent, conversation, AgentKind.PAYMENT, text=op, params=params)
    return _back(request.match_info["ref"], "done")


async def _refused(
    request: web.Request,
    agent: Agent,
    why: str,
    invoice: Invoice,
    *,
    status: int,
    limit: Money | None = None,
) -> web.Response:
    """The conversation again, saying why the action was refused (a 4xx: nothing stored)."""
    log.info(
        "payment action refused",
        extra=log_fields(user=agent.user.id, invoice=invoice.id, why=why),
    )
    context = await _view_context(request, agent)
    context["refused"] = {"why": why, "number": invoice.number, "limit": limit}
    return render(request, "conversation.html", status=status, **context)


async def _handed_invoice(request: web.Request, agent: Agent, conversation: str) -> Invoice | None:
    """The invoice handed to the agent's merchant in this conversation (never another
    merchant's invoice of the same customer: merchants share platform senders)."""
    services = request.app[SERVICES]
    merchant_id = agent.user.merchant_id
    state = await load_state(services.redis, conversation)
    invoice_id = await handover.handed_invoice(
        services.redis, merchant_id, conversation, state.invoice_id
    )
    invoice = await get_invoice(services.redis, merchant_id, invoice_id) if invoice_id else None
    return invoice if invoice is not None and invoice.merchant_id == merchant_id else None


#: An amount typed in the console: a few digits, one decimal separator; anything bigger
#: (or "NaN", "Infinity", "1e999999999") is refused before decimal arithmetic sees it.
MAX_AMOUNT_CHARS = 16


def _minor(text: str, currency: str) -> int:
    """ "40", "40.5", "40,50" -> minor units of `currency`; ValueError otherwise."""
    cleaned = text.strip().replace(",", ".")
    if len(cleaned) > MAX_AMOUNT_CHARS:
        raise ValueError(text)
    try:
        value = Decimal(cleaned)
        if not value.is_finite():
            raise ValueError(text)
        scaled = value.scaleb(currency_exponent(currency))
        if scaled != scaled.to_integral_value() or scaled <= 0 or scaled.adjusted() > 12:
            raise ValueError(text)
    except DecimalException:
        raise ValueError(text) from None
    return int(scaled)


def _payment_params(op: str, form: dict[str, str], currency: str) -> dict[str, Any]:
    """Checked here for a precise 400; the flow checks again against the invoice's policy."""
    if op == "extend_due":
        try:
            return {"date": date.fromisoformat(form.get("date", "")).isoformat()}
        except ValueError:
            raise web.HTTPBadRequest(text="date: a date as YYYY-MM-DD") from None
    if op == "offer_plan":
        parts = form.get("parts", "")
        if parts not in ("2", "3", "4"):
            raise web.HTTPBadRequest(text="parts: 2, 3 or 4")
        return {"parts": int(parts)}
    if op == "credit_note":
        try:
            amount = _minor(form.get("amount", ""), currency)
        except ValueError:
            raise web.HTTPBadRequest(text="amount: an amount such as 40.00") from None
        reference = form.get("reference", "").strip()[:100]
        return {"amount": amount, "reference": reference}
    if op == "offline_payment":
        method = form.get("method", "")
        if method not in OFFLINE_METHODS:
            raise web.HTTPBadRequest(text=f"method: one of {', '.join(OFFLINE_METHODS)}")
        try:
            amount = _minor(form.get("amount", ""), currency)
        except ValueError:
            raise web.HTTPBadRequest(text="amount: an amount such as 40.00") from None
        reference = form.get("reference", "").strip()
        if not reference or len(reference) > 100:
            raise web.HTTPBadRequest(text="reference: 1 to 100 characters")
        return {"amount": amount, "method": method, "reference": reference}
    return {}


# Team ---------------------------------------------------------------------------------------


@page
async def team_page(request: web.Request, agent: Agent) -> web.StreamResponse:
    services = request.app[SERVICES]
    team = await users.list_users(services.redis, agent.user.merchant_id)
    return render(
        request, "team.html", agent=agent.user, csrf=agent.session.csrf, team=team, invited=None
    )


@action
async def invite(request: web.Request, agent: Agent) -> web.StreamResponse:
    """An owner adds a colleague: a first password shown once, TOTP enrolled at first login."""
    services = request.app[SERVICES]
    if agent.user.role is not Role.OWNER:
        raise web.HTTPForbidden(text="only an owner can add users")
    try:
        invited, password = await invite_colleague(request, agent)
    except users.UserError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    team = await users.list_users(services.redis, agent.user.merchant_id)
    return render(
        request,
        "team.html",
        agent=agent.user,
        csrf=agent.session.csrf,
        team=team,
        invited=(invited, password),
    )


async def invite_colleague(request: web.Request, agent: Agent) -> tuple[users.User, str]:
    """The invitation form's colleague, created with a first password to show once (this
    page and the dashboard's Settings); UserError says what is wrong with the form."""
    services = request.app[SERVICES]
    form = await request.post()
    invited, password = await users.invite(
        services.redis,
        merchant_id=agent.user.merchant_id,
        email=str(form.get("email") or ""),
        name=str(form.get("name") or ""),
        role=str(form.get("role") or "agent"),
        now=services.clock.now(),
    )
    log.info("user invited", extra=log_fields(by=agent.user.id, user=invited.id))
    return invited, password


# Live updates -------------------------------------------------------------------------------


async def websocket(request: web.Request) -> web.StreamResponse:
    """Pushes `{"ref": ...}` whenever one of the merchant's conversations changes.

    Authenticated by the session cookie at the handshake, refused from another origin (a
    page elsewhere cannot open it with our cookie), and subscribed to the user's merchant's
    channel only: nothing of another merchant can reach it.
    """
    agent = await current_agent(request)
    if agent is None:
        raise web.HTTPUnauthorized(text="log in first")
    return await serve_websocket(request, agent, keys.console_channel(agent.user.merchant_id))


async def serve_websocket(request: web.Request, agent: Agent, channel: str) -> web.StreamResponse:
    """Forwards what is published on one of the agent's merchant's channels (the console's,
    the dashboard's: bot.web.dashboard) until the page or the session goes away."""
    if not same_origin(request):
        raise web.HTTPForbidden(text="cross-origin websocket refused")
    services = request.app[SERVICES]
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(channel)
    forward = asyncio.create_task(_forward(pubsub, ws, request, agent.token))
    try:
        async for message in ws:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                break  # the client only listens; anything it sends is ignored
    finally:
        forward.cancel()
        with contextlib.suppress(asyncio.CancelledError, RedisError):
            await forward
        # Closing the connection ends the subscription; an UNSUBSCRIBE first would be one more
        # command that can fail and skip the close, leaving the connection open.
        with contextlib.suppress(RedisError, OSError):
            await pubsub.aclose()
    return ws


async def _forward(
    pubsub: Any, ws: web.WebSocketResponse, request: web.Request, token: str
) -> None:
    services = request.app[SERVICES]
    loop = asyncio.get_running_loop()
    checked = loop.time()
    while not ws.closed:
        if loop.time() - checked > SESSION_RECHECK_SECONDS:
            # Logged out (here or everywhere) since the handshake: stop talking to this page.
            if await users.load_session(services.redis, token) is None:
                await ws.close(code=4401, message=b"session ended")
                return
            checked = loop.time()
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is None or message.get("type") != "message":
            continue
        try:
            data = json.loads(message["data"])
            ref = str(data["ref"])
        except (ValueError, KeyError, TypeError):
            continue
        # Only what the page needs, never more of what was published.
        if data.get("kind") == handover.DELIVERY:
            await ws.send_json({"ref": ref, "kind": handover.DELIVERY})
        else:
            await ws.send_json({"ref": ref})
