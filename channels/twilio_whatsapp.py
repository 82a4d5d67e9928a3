"""WhatsApp through Twilio: inbound parsing, the 24 h window, templates and quick replies.

Signatures and status callbacks are Twilio's, exactly as for SMS (`channels.twilio_sms`).
What differs is what may be sent (PROVIDERS §2.6, §3):

- inside the customer-service window (24 h from the customer's last message) any text, and
  choices as buttons: a Content API `twilio/quick-reply` (up to 3) or `twilio/list-picker`
  (more), created once per distinct content and reused by its ContentSid;
- outside it, only an approved template (ContentSid + ContentVariables). The window is read
  when the message is sent, not when it was written, since it may have closed in between; and
  if WhatsApp still answers 63016 (our view of the window was wrong), the message goes again
  as its template. A message without a template cannot be sent outside the window.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.rest.content.v1.content import ContentList

from channels.base import (
    Blocked,
    Button,
    ChannelAdapter,
    ChannelError,
    ChannelName,
    InboundKind,
    InboundMessage,
    MalformedPayload,
    MarketingOptedOut,
    OutboundMessage,
    OutsideWindow,
    PermanentError,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
    SenderResolver,
    SenderRoute,
    SendResult,
    resolve_route,
)
from channels.twilio_sms import (
    TwilioClients,
    map_twilio_error,
    status_callback_for,
    twilio_status_path,
)
from channels.whatsapp_templates import TEMPLATES, sid_key

log = logging.getLogger(__name__)

PREFIX = "whatsapp:"
WINDOW = timedelta(hours=24)
# Decide a little before the window really closes: the message still has to reach WhatsApp.
# (TESTCASES 40: at +23 h 59 min free text still goes; at +24 h 01 min only the template.)
WINDOW_MARGIN = timedelta(seconds=30)

QUICK_REPLY_MAX_BUTTONS = 3  # in-session without approval (PROVIDERS §2.6)
QUICK_REPLY_TITLE_MAX_CHARS = 20  # WhatsApp's button title limit; longer labels go in a list
LIST_PICKER_MAX_ITEMS = 10
LIST_ITEM_MAX_CHARS = 24
BODY_MAX_CHARS = 1024
CONTENT_CACHE_SIZE = 512
_LIST_BUTTON = {"fr": "Choisir", "en": "Choose"}  # the button that opens a list-picker

# Twilio and Meta error codes (PROVIDERS §2.4, §2.6): what each means for the message.
WINDOW_CODES = frozenset({63016, 131047})  # outside the window / re-engagement needed
UNREACHABLE_CODES = frozenset({63003, 63024, 131026})  # not on WhatsApp, unreachable
RATE_CODES = frozenset({63018})
BLOCKED_CODES = frozenset({63014})
MARKETING_OPT_OUT_CODES = frozenset({131050})  # the user stopped marketing messages
# A status callback with one of these: the message will not arrive on WhatsApp.
UNDELIVERABLE_CODES = WINDOW_CODES | UNREACHABLE_CODES


class _WindowClosed(OutsideWindow):
    """WhatsApp said the window is closed: send the template instead, if there is one."""


def whatsapp_address(phone: str) -> str:
    return phone if phone.startswith(PREFIX) else PREFIX + phone


def phone_of(address: str) -> str:
    return address.removeprefix(PREFIX)


def map_whatsapp_error(error: TwilioException) -> ChannelError:
    """Twilio's WhatsApp codes: template, fallback, retry or give up; others as for SMS."""
    code = getattr(error, "code", None)
    message = f"twilio whatsapp {getattr(error, 'status', None)} (code {code}): " + (
        getattr(error, "msg", "") or repr(error)
    )
    if code in WINDOW_CODES:
        return _WindowClosed(message)
    if code in UNREACHABLE_CODES:
        return RecipientUnreachable(message)
    if code in RATE_CODES:
        return RateLimited(message, retry_after=None)
    if code in BLOCKED_CODES:
        return Blocked(message)
    if code in MARKETING_OPT_OUT_CODES:
        return MarketingOptedOut(message)
    return map_twilio_error(error)


def parse_inbound_whatsapp(form: Mapping[str, str]) -> InboundMessage:
    """An incoming WhatsApp message; a tapped button or list item arrives as its payload."""
    sid, sender = form.get("MessageSid"), form.get("From")
    if not sid or not sender:
        raise MalformedPayload("twilio inbound WhatsApp without MessageSid or From")
    if not sender.startswith(PREFIX) or len(sender) <= len(PREFIX):
        raise MalformedPayload("twilio inbound WhatsApp From is not a whatsapp: address")
    body = form.get("Body") or ""
    payload = form.get("ButtonPayload") or form.get("ListId")
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError as e:
        raise MalformedPayload("twilio NumMedia is not a number") from e
    if payload:
        kind = InboundKind.CHOICE
    elif media > 0 and not body.strip():
        kind = InboundKind.UNSUPPORTED
    else:
        kind = InboundKind.TEXT
    return InboundMessage(
        channel=ChannelName.WHATSAPP,
        address=phone_of(sender),
        provider_id=sid,
        kind=kind,
        text=body,
        payload=payload or None,
    )


class WindowReader(Protocol):
    """When the customer last wrote to us on WhatsApp (None: never, or long ago)."""

    async def __call__(self, phone: str, sender: str | None) -> datetime | None: ...


def window_open(last_inbound: datetime | None, now: datetime) -> bool:
    return last_inbound is not None and now < last_inbound + WINDOW - WINDOW_MARGIN


def session_body(message: OutboundMessage) -> str:
    """The free-form text: links written out (WhatsApp makes them tappable)."""
    lines = [message.text.rstrip()]
    for button in message.buttons:
        if button.action is None and button.url and button.url not in message.text:
            lines.append(f"{button.label}: {button.url}")
    return "\n\n".join(lines)[:BODY_MAX_CHARS]


_SPACES = re.compile(r"\s{4,}")


def template_variable(value: str) -> str:
    """A value WhatsApp accepts in a template: no newline or tab, no run of four spaces, not
    empty (Meta refuses the message otherwise); JSON-escaped by the caller."""
    flat = _SPACES.sub("   ", value.replace("\r", " ").replace("\n", " ").replace("\t", " "))
    return flat.strip() or "-"


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def content_request(body: str, actions: tuple[Button, ...], language: str) -> dict[str, Any]:
    """The Content API resource that shows `actions` as buttons, or as a list when there are
    more than three or a label is too long for a button (never cut a button's words)."""
    fits_buttons = all(len(b.label) <= QUICK_REPLY_TITLE_MAX_CHARS for b in actions)
    if len(actions) <= QUICK_REPLY_MAX_BUTTONS and fits_buttons:
        types: dict[str, Any] = {
            "twilio/quick-reply": {
                "body": body,
                "actions": [
                    {"type": "QUICK_REPLY", "title": b.label, "id": b.action} for b in actions
                ],
            }
        }
    else:
        types = {
            "twilio/list-picker": {
                "body": body,
                "button": _LIST_BUTTON.get(language, _LIST_BUTTON["fr"]),
                "items": [
                    {"item": _shorten(b.label, LIST_ITEM_MAX_CHARS), "id": b.action}
                    for b in actions[:LIST_PICKER_MAX_ITEMS]
                ],
            }
        }
    digest = hashlib.sha256(json.dumps(types, sort_keys=True).encode()).hexdigest()[:16]
    return {"friendly_name": f"facto_session_{digest}", "language": language, "types": types}


class TwilioWhatsAppAdapter(ChannelAdapter):
    """Sends WhatsApp messages through the twilio SDK (Messages and Content APIs)."""

    name = ChannelName.WHATSAPP

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base: str | None,
        status_callback_url: str | None,
        content_sids: Mapping[str, str],
        last_inbound: WindowReader,
        now: Callable[[], datetime],
        resolve: SenderResolver | None = None,
    ) -> None:
        self._resolve = resolve  # merchants' own WhatsApp numbers
        self._from = whatsapp_address(from_number)
        self._status_callback_url = status_callback_url
        self._content_sids = dict(content_sids)
        self._last_inbound = last_inbound
        self._now = now
        self._clients = TwilioClients(account_sid, auth_token, api_base)
        # Session contents (buttons) already created at Twilio, per account (a content is
        # its account's): (account, body+buttons digest) -> sid.
        self._session_contents: OrderedDict[tuple[str, str], str] = OrderedDict()

    async def start(self) -> None:
        await self._clients.start()

    async def close(self) -> None:
        await self._clients.close()

    async def send(self, message: OutboundMessage) -> SendResult:
        self._clients.for_route(None)  # raises if start() was not awaited
        route = await resolve_route(self._resolve, ChannelName.WHATSAPP, message.sender)
        last = await self._last_inbound(phone_of(message.address), message.sender)
        if window_open(last, self._now()):
            try:
                return await self._send_session(message, route)
            except _WindowClosed:
                # Our view of the window was wrong (a missed message, clocks): WhatsApp's wins.
                log.warning("whatsapp window closed at send time, sending the template")
        return await self._send_template(message, route)

    async def _send_session(
        self, message: OutboundMessage, route: SenderRoute | None
    ) -> SendResult:
        body = session_body(message)
        actions = tuple(b for b in message.buttons if b.action is not None)
        if not actions:
            return await self._create(message, route, body=body)
        locale = message.template.locale if message.template else "fr"
        content_sid = await self._session_content(route, content_request(body, actions, locale))
        return await self._create(message, route, content_sid=content_sid)

    async def _send_template(
        self, message: OutboundMessage, route: SenderRoute | None
    ) -> SendResult:
        use = message.template
        if use is None or use.name not in TEMPLATES:
            raise OutsideWindow("whatsapp window closed and the message has no template")
        # A ContentSid is its account's: a merchant's own account has its own approvals.
        sids = route.content_sids if route and route.content_sids is not None else None
        content_sid = (sids or self._content_sids).get(sid_key(use.name, use.locale))
        if content_sid is None:
            raise PermanentError(f"no ContentSid configured for {sid_key(use.name, use.locale)}")
        variables = {number: template_variable(value) for number, value in use.variables}
        try:
            return await self._create(
                message,
                route,
                content_sid=content_sid,
                content_variables=json.dumps(variables, ensure_ascii=False),
            )
        except _WindowClosed as e:
            # A template is refused for the window only if it is not approved: not ours to fix.
            raise PermanentError(f"template {use.name} refused: {e}") from e

    async def _session_content(self, route: SenderRoute | None, request: dict[str, Any]) -> str:
        client = self._clients.for_route(route)
        name = (str(client.account_sid), request["friendly_name"])
        sid = self._session_contents.get(name)
        if sid is not None:
            self._session_contents.move_to_end(name)
            return sid
        try:
            created = await client.content.v1.contents.create_async(
                ContentList.ContentCreateRequest(request)
            )
        except TwilioException as e:
            raise map_whatsapp_error(e) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ProviderUnavailable(f"twilio content API unreachable: {e!r}") from e
        sid = str(created.sid)
        self._session_contents[name] = sid
        if len(self._session_contents) > CONTENT_CACHE_SIZE:
            self._session_contents.popitem(last=False)
        return sid

    async def _create(
        self, message: OutboundMessage, route: SenderRoute | None, **content: str
    ) -> SendResult:
        sender = whatsapp_address(route.from_) if route and route.from_ else self._from
        params: dict[str, str] = {
            "to": whatsapp_address(message.address),
            "from_": sender,
            **content,
        }
        callback = status_callback_for(
            self._status_callback_url,
            route,
            twilio_status_path(ChannelName.WHATSAPP, message.sender or ""),
        )
        if callback:
            params["status_callback"] = callback
        try:
            created = await self._clients.for_route(route).messages.create_async(**params)
        except TwilioException as e:
            raise map_whatsapp_error(e) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ProviderUnavailable(f"twilio unreachable: {e!r}") from e
        return SendResult(provider_message_id=str(created.sid))
