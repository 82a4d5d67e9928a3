"""The phone simulator: registered contacts, and one chat page per customer.

Pages work without JavaScript (forms post here and redirect back); `static/phone.js` adds
polling and posts through the JSON customer API instead.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.settings import Settings, secret
from channels.base import ChannelName
from sandbox.api import CONVERSATION_ROUTE, CUSTOMER_ROUTE
from sandbox.clock_api import advance_clock, seconds_to_advance
from sandbox.customer import CustomerInput, send_as_customer
from sandbox.http import BadInput, check_address, parse_channel, read_form_pairs
from sandbox.runtime import render, runtime_of, settings_of, state_of
from sandbox.state import ChatEntry, Contact, SandboxState
from sandbox.twilio_whatsapp import WINDOW, window_open

CHAT_ROUTE = "sandbox_phone_chat"
WINDOW_ROUTE = "sandbox_phone_window"
LABELS = {"sms": "SMS", "telegram": "Telegram", "whatsapp": "WhatsApp"}
_LINK = re.compile(r"https?://[^\s<>\"']+")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/phone", _index, name="sandbox_phone_index")
    app.router.add_get("/phone/open", _open)
    app.router.add_post("/phone/clock", _clock)
    app.router.add_get("/phone/{channel}/{address}", _chat, name=CHAT_ROUTE)
    app.router.add_post("/phone/{channel}/{address}", _post)
    app.router.add_get("/api/whatsapp/window", _window, name=WINDOW_ROUTE)


def link_parts(text: str) -> list[tuple[str, str | None]]:
    """Split text into (segment, href) pairs; only http(s) URLs become links."""
    parts: list[tuple[str, str | None]] = []
    position = 0
    for match in _LINK.finditer(text):
        if match.start() > position:
            parts.append((text[position : match.start()], None))
        parts.append((match.group(), match.group()))
        position = match.end()
    if position < len(text):
        parts.append((text[position:], None))
    return parts


def _chat_url(request: web.Request, channel: ChannelName, address: str) -> str:
    return str(request.app.router[CHAT_ROUTE].url_for(channel=channel.value, address=address))


async def _index(request: web.Request) -> web.Response:
    state = state_of(request)
    contacts = sorted(seen_contacts(state), key=lambda c: c.name.lower())
    links = [(c, _chat_url(request, c.channel, c.address)) for c in contacts]
    return render(
        request,
        "phone_index.html",
        contacts=links,
        channels=list(ChannelName),
        labels=LABELS,
        now=state.clock.now(),
        movable=hasattr(state.clock, "advance"),
    )


def seen_contacts(state: SandboxState) -> list[Contact]:
    """Every customer the sandbox has seen: the seeded ones, and anyone a message went to or
    came from (customers created through the API), in their language when it shows."""
    found = dict(state.contacts)
    for entry in state.entries:
        key = (entry.channel, entry.address)
        if key not in found:
            found[key] = Contact(entry.address, entry.channel, entry.address, _language(entry))
    return list(found.values())


def _language(entry: ChatEntry) -> str:
    return _address_language(entry.channel, entry.address)


def _address_language(channel: ChannelName, address: str) -> str:
    """A customer's language from their number (+44 → en), as Facto picks it without one."""
    number = address.removeprefix("whatsapp:")
    if channel in (ChannelName.SMS, ChannelName.WHATSAPP) and number.startswith("+"):
        return "fr" if number.startswith(_FRENCH_PREFIXES) else "en"
    return "fr"


_CHAT_FR = {"empty": "Pas encore de message.", "placeholder": "Votre message", "send": "Envoyer"}
_CHAT_EN = {"empty": "No message yet.", "placeholder": "Your message", "send": "Send"}


_FRENCH_PREFIXES = ("+33", "+32", "+352", "+377", "+41", "+262", "+590", "+596", "+594")


async def _clock(request: web.Request) -> web.Response:
    """The simulator's "one day later" button (no JavaScript): move the clock, come back."""
    form = dict(await read_form_pairs(request))
    hours = form.get("hours", "24")
    if not hours.isdigit():
        raise BadInput("hours must be a whole number")
    advance_clock(request, seconds_to_advance({"hours": int(hours)}))
    raise web.HTTPSeeOther(str(request.app.router["sandbox_phone_index"].url_for()))


async def _open(request: web.Request) -> web.Response:
    channel = parse_channel(request.query.get("channel"))
    address = check_address(channel, request.query.get("address", "").strip())
    raise web.HTTPSeeOther(_chat_url(request, channel, address))


def _target(request: web.Request) -> tuple[ChannelName, str]:
    channel = parse_channel(request.match_info["channel"])
    return channel, check_address(channel, request.match_info["address"])


def platform_peer(settings: Settings, channel: ChannelName) -> str:
    """The platform's sender on `channel`, as a thread of the phone shows it."""
    if channel is ChannelName.TELEGRAM:
        return secret(settings.telegram_bot_token).split(":", 1)[0]
    if channel is ChannelName.WHATSAPP:
        return settings.twilio_whatsapp_from or ""
    return settings.twilio_sms_from or ""


def thread_peers(
    settings: Settings, state: SandboxState, channel: ChannelName, address: str
) -> list[str]:
    """The senders the customer can pick a thread with: the platform's, every merchant
    number or bot the sandbox knows, and any sender that already wrote (a sender ID)."""
    known: list[str] = [platform_peer(settings, channel)]
    if channel is ChannelName.TELEGRAM:
        known += [token.split(":", 1)[0] for token in state.telegram_bots]
    elif channel is ChannelName.WHATSAPP:
        # A number is a WhatsApp sender once it sent on WhatsApp (not every SMS number is).
        sent = {e.peer for e in state.entries if e.channel is channel and e.sender == "bot"}
        known += sorted(sent)
    else:
        known += sorted(state.twilio_numbers | set(state.twilio_services.values()))
    known += state.peers(channel, address)
    return [peer for peer in dict.fromkeys(known) if peer]


def _peer(request: web.Request, channel: ChannelName, address: str) -> str:
    settings, state = settings_of(request), state_of(request)
    peer = request.query.get("peer") or platform_peer(settings, channel)
    if peer not in thread_peers(settings, state, channel, address):
        raise BadInput(f"no sender {peer} on this phone's {channel.value}", 404)
    return peer


async def _chat(request: web.Request) -> web.Response:
    channel, address = _target(request)
    state = state_of(request)
    settings = settings_of(request)
    peer = _peer(request, channel, address)
    platform = platform_peer(settings, channel)
    contact = state.contact(channel, address)
    language = contact.language_code[:2] if contact else _address_language(channel, address)
    context: dict[str, Any] = {
        "lang": "en" if language == "en" else "fr",
        "t": _CHAT_EN if language == "en" else _CHAT_FR,
        "channel": channel.value,
        "address": address,
        "name": contact.name if contact else address,
        "entries": state.thread(channel, address, peer),
        "peer": peer,
        "platform": platform,
        "peers": [
            (other, f"{_chat_url(request, channel, address)}?{urlencode({'peer': other})}")
            for other in thread_peers(settings, state, channel, address)
        ],
        "api_send": str(
            request.app.router[CUSTOMER_ROUTE].url_for(channel=channel.value, address=address)
        ),
        "api_poll": str(
            request.app.router[CONVERSATION_ROUTE]
            .url_for()
            .with_query(channel=channel.value, to=address, peer=peer)
        ),
        "notice": request.query.get("notice", ""),
        "labels": LABELS,
        "window": None,
    }
    if channel is ChannelName.WHATSAPP:
        poll = request.app.router[WINDOW_ROUTE].url_for().with_query(to=address, peer=peer)
        context["window"] = {**window_state(request, address, peer), "poll": str(poll)}
    return render(request, "phone_chat.html", **context)


def window_state(request: web.Request, address: str, peer: str) -> dict[str, Any]:
    """WhatsApp's 24 h window between `peer` (one of our numbers) and the customer, as the
    emulator sees it, in words for the phone page."""
    state = state_of(request)
    last = state.last_customer_message(ChannelName.WHATSAPP, address, peer)
    if last is None or not window_open(state, address, peer):
        text = "Fenêtre de 24 h fermée : seuls les modèles approuvés peuvent arriver."
        return {"open": False, "until": None, "text": text}
    until = last + WINDOW
    text = f"Fenêtre de 24 h ouverte jusqu'au {until:%d/%m à %H:%M} UTC : messages libres."
    return {"open": True, "until": until.isoformat(), "text": text}


async def _window(request: web.Request) -> web.Response:
    address = check_address(ChannelName.WHATSAPP, request.query.get("to", ""))
    return web.json_response(
        window_state(request, address, _peer(request, ChannelName.WHATSAPP, address))
    )


async def _post(request: web.Request) -> web.Response:
    """The no-JavaScript path: send what the form says, come back to the chat."""
    channel, address = _target(request)
    form = dict(await read_form_pairs(request))
    text, action, peer = form.get("text", ""), form.get("action", ""), form.get("to", "")
    back = _chat_url(request, channel, address)
    if peer:
        back = f"{back}?{urlencode({'peer': peer})}"
    joiner = "&" if peer else "?"
    if not action and not text.strip():
        raise web.HTTPSeeOther(back)
    said_json: dict[str, Any] = {"action": action} if action else {"text": text}
    if peer:
        said_json["to"] = peer
    try:
        said = CustomerInput.from_json(said_json, channel)
    except BadInput as e:
        raise web.HTTPSeeOther(f"{back}{joiner}{urlencode({'notice': e.message})}") from e
    delivery = await send_as_customer(
        runtime_of(request),
        settings_of(request),
        state_of(request),
        channel=channel,
        address=address,
        said=said,
    )
    if delivery.status is not None and delivery.status < 300:
        raise web.HTTPSeeOther(back)
    notice = urlencode({"notice": f"webhook: {delivery.status}"})
    raise web.HTTPSeeOther(f"{back}{joiner}{notice}")
