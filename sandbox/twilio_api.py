"""Twilio Messages API emulator: Basic auth, Twilio's error JSON, signed status callbacks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import operator
import re
from datetime import UTC
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.settings import Settings
from channels.base import ChannelName
from channels.sms_text import segment_count
from sandbox.http import E164, random_id, read_form_pairs
from sandbox.runtime import Runtime, runtime_of, settings_of, state_of, twilio_token
from sandbox.state import ChatEntry, Fault, SandboxState

BASE = "/twilio/2010-04-01/Accounts/{sid}"
MAX_BODY_CHARS = 1600
_FAULT_DEFAULTS = {
    400: (21606, "The From phone number is not a valid, SMS-capable phone number."),
    403: (20403, "Forbidden"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")


def add_routes(app: web.Application) -> None:
    # POST Messages.json is routed by sandbox.twilio_whatsapp: SMS come back to
    # `create_sms_message`, WhatsApp sends (To "whatsapp:...") stay there.
    app.router.add_get(BASE + ".json", _fetch_account)
    app.router.add_get(BASE + "/IncomingPhoneNumbers.json", _list_numbers)
    app.router.add_post(BASE + "/IncomingPhoneNumbers/{number_sid}.json", _update_number)
    app.router.add_get(BASE + "/Messages.json", _list_messages)
    app.router.add_get(BASE + "/Messages/{message_sid}.json", _fetch_message)


def twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status, headers=headers)


def fault_response(fault: Fault) -> web.Response:
    status = fault.status or 500
    code, message = _FAULT_DEFAULTS.get(status, (20500, "Error"))
    headers = {}
    if fault.retry_after is not None:
        headers["Retry-After"] = str(int(fault.retry_after))
    return twilio_error(status, fault.code or code, message, headers)


def account_token(settings: Settings, state: SandboxState, account_sid: str) -> str | None:
    """The auth token of a Twilio account the emulator knows: the platform's or a merchant's."""
    if account_sid == (settings.twilio_account_sid or ""):
        return twilio_token(settings)
    return state.twilio_accounts.get(account_sid)


def authorised(request: web.Request, settings: Settings) -> str | None:
    """The account a request authenticates as (Basic SID:token, and the SID of the URL when
    it has one), or None: Twilio answers 401 (20003)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    token = account_token(settings, state_of(request), user)
    if scheme != "Basic" or token is None:
        return None
    if not hmac.compare_digest(password.encode(), token.encode()):
        return None
    return user if request.match_info.get("sid", user) == user else None


def number_account(settings: Settings, state: SandboxState, number: str) -> str:
    """The account a number of ours was bought in (the platform's unless a merchant's)."""
    return state.number_accounts.get(number, settings.twilio_account_sid or "")


def service_account(settings: Settings, state: SandboxState, service: str) -> str:
    return state.service_accounts.get(service, settings.twilio_account_sid or "")


def unauthorised() -> web.Response:
    return twilio_error(401, 20003, "Authenticate")


async def create_sms_message(
    request: web.Request, form: dict[str, str], account: str
) -> web.Response:
    """An authorised, readable create request for an SMS, from `account`."""
    settings, state = settings_of(request), state_of(request)
    fault = state.take_fault(ChannelName.SMS)
    if fault is not None:
        await state.hold(fault)
        if fault.status is not None:
            return fault_response(fault)
    problem = _validate(form, settings, state, account)
    if problem is not None:
        return twilio_error(400, *problem)
    sender = _sender(form, settings, state)
    entry = state.record(
        ChatEntry(
            channel=ChannelName.SMS,
            address=form["To"],
            sender="bot",
            text=form["Body"],
            time=state.clock.now(),
            message_id=random_id("SM", 16),
            status="queued",
            extra={
                "status_callback": form.get("StatusCallback"),
                "from": sender,
                "account": account,
            },
        )
    )
    callback = form.get("StatusCallback")
    if callback:
        undelivered = fault.undelivered if fault is not None else None
        runtime_of(request).spawn(
            report_delivery(
                runtime_of(request),
                settings,
                entry,
                callback,
                sender=sender,
                token=account_token(settings, state, account) or "",
                undelivered=undelivered,
            )
        )
    return web.json_response(message_json(entry, settings), status=201)


def _sender(form: dict[str, str], settings: Settings, state: SandboxState) -> str:
    """What the customer's phone shows as the sender: From, or the service's pool number."""
    service = form.get("MessagingServiceSid")
    if service:
        return state.twilio_services[service]
    return form.get("From") or settings.twilio_sms_from or ""


def _validate(
    form: dict[str, str], settings: Settings, state: SandboxState, account: str
) -> tuple[int, str] | None:
    """Twilio's own error codes for the mistakes a bot can make."""
    to, sender, body = form.get("To"), form.get("From"), form.get("Body")
    service = form.get("MessagingServiceSid")
    if not to:
        return 21604, "A 'To' phone number is required."
    if service is not None:
        in_account = service_account(settings, state, service) == account
        if service not in state.twilio_services or not in_account:
            return 21705, "The Messaging Service Sid is invalid."
        sender = state.twilio_services[service]
    if not sender:
        return 21603, "A 'From' phone number is required."
    if not body:
        return 21602, "Message body is required."
    if not E164.match(to):
        return 21211, f"The 'To' number {to} is not a valid phone number."
    # A number this account bought, or an alphanumeric sender ID (France allows them).
    bought = sender == settings.twilio_sms_from or sender in state.twilio_numbers
    known = bought and number_account(settings, state, sender) == account
    if not known and not ALPHANUMERIC_SENDER.fullmatch(sender):
        return _FAULT_DEFAULTS[400]
    if len(body) > MAX_BODY_CHARS:
        return 21617, "The concatenated message body exceeds the 1600 character limit."
    return None


async def _fetch_account(request: web.Request) -> web.Response:
    """`GET /Accounts/{sid}.json`: what Facto asks to check a merchant's own credentials."""
    account = authorised(request, settings_of(request))
    if account is None:
        return unauthorised()
    created = formatdate(0, usegmt=True)
    return web.json_response(
        {
            "sid": account,
            "owner_account_sid": account,
            "friendly_name": f"Sandbox account {account[-6:]}",
            "status": "active",
            "type": "Full",
            "auth_token": "",  # never echoed here
            "date_created": created,
            "date_updated": created,
            "uri": f"/2010-04-01/Accounts/{account}.json",
            "subresource_uris": {},
        }
    )


def _numbers_of(settings: Settings, state: SandboxState, account: str) -> list[str]:
    """The numbers an account bought (the platform's: its configured ones and the others)."""
    bought = {settings.twilio_sms_from or "", settings.twilio_whatsapp_from or ""}
    bought |= state.twilio_numbers
    return sorted(n for n in bought if n and number_account(settings, state, n) == account)


def number_sid(number: str) -> str:
    return "PN" + hashlib.sha256(number.encode()).hexdigest()[:32]


def _number_json(number: str, account: str, state: SandboxState) -> dict[str, Any]:
    return {
        "sid": number_sid(number),
        "account_sid": account,
        "phone_number": number,
        "friendly_name": number,
        "sms_url": state.number_sms_urls.get(number),
        "sms_method": "POST",
        "capabilities": {"sms": True, "mms": False, "voice": False},
        "uri": f"/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{number_sid(number)}.json",
    }


async def _list_numbers(request: web.Request) -> web.Response:
    """`GET .../IncomingPhoneNumbers.json?PhoneNumber=`: the account's numbers (exact match)."""
    settings, state = settings_of(request), state_of(request)
    account = authorised(request, settings)
    if account is None:
        return unauthorised()
    wanted = request.query.get("PhoneNumber")
    found = [n for n in _numbers_of(settings, state, account) if wanted in (None, n)]
    path = request.path.removeprefix("/twilio")
    return web.json_response(
        {
            "incoming_phone_numbers": [_number_json(n, account, state) for n in found],
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": max(len(found) - 1, 0),
            "uri": path,
            "first_page_uri": path,
            "next_page_uri": None,
            "previous_page_uri": None,
        }
    )


async def _update_number(request: web.Request) -> web.Response:
    """`POST .../IncomingPhoneNumbers/{PN}.json` with `SmsUrl`: where its messages go."""
    settings, state = settings_of(request), state_of(request)
    account = authorised(request, settings)
    if account is None:
        return unauthorised()
    wanted = request.match_info["number_sid"]
    number = next(
        (n for n in _numbers_of(settings, state, account) if number_sid(n) == wanted), None
    )
    if number is None:
        return twilio_error(404, 20404, "The requested resource was not found")
    form = dict(await read_form_pairs(request))
    if "SmsUrl" in form:
        if not form["SmsUrl"].startswith(("http://", "https://")):
            return twilio_error(400, 21502, "SmsUrl is not a valid URL")
        state.number_sms_urls[number] = form["SmsUrl"]
    return web.json_response(_number_json(number, account, state))


async def _fetch_message(request: web.Request) -> web.Response:
    settings, state = settings_of(request), state_of(request)
    account = authorised(request, settings)
    if account is None:
        return unauthorised()
    sid = request.match_info["message_sid"]
    entry = state.find_bot_message(ChannelName.SMS, sid) or state.find_bot_message(
        ChannelName.WHATSAPP, sid
    )
    if entry is None or entry_account(entry, settings) != account:
        return twilio_error(404, 20404, "The requested resource was not found")
    return web.json_response(message_json(entry, settings))


def entry_account(entry: ChatEntry, settings: Settings) -> str:
    """The account that sent a message (the platform's unless recorded otherwise)."""
    return str(entry.extra.get("account") or settings.twilio_account_sid or "")


def message_json(entry: ChatEntry, settings: Settings) -> dict[str, Any]:
    sid = entry_account(entry, settings)
    created = formatdate(entry.time.timestamp(), usegmt=True)
    outbound = entry.sender == "bot"
    ours = settings.twilio_sms_from
    return {
        "sid": entry.message_id,
        "account_sid": sid,
        "to": entry.extra.get("to", entry.address if outbound else ours),
        "from": entry.extra.get("from", ours if outbound else entry.address),
        "body": entry.text,
        "status": entry.status,
        "num_segments": str(segment_count(entry.text)),
        "num_media": "0",
        "direction": "outbound-api" if outbound else "inbound",
        "api_version": "2010-04-01",
        "date_created": created,
        "date_updated": created,
        "date_sent": _date_sent(entry),
        "price": _sandbox_price(entry),
        "price_unit": "EUR",
        "error_code": None,
        "error_message": None,
        "messaging_service_sid": None,
        "uri": f"/2010-04-01/Accounts/{sid}/Messages/{entry.message_id}.json",
    }


# A made-up tariff, so that the bot's records show a price (Twilio fills it in later).
SANDBOX_PRICE_PER_SEGMENT = 0.0792


def _sandbox_price(entry: ChatEntry) -> str:
    segments = segment_count(entry.text) if entry.channel is ChannelName.SMS else 1
    return f"-{SANDBOX_PRICE_PER_SEGMENT * segments:.5f}"


async def report_delivery(
    runtime: Runtime,
    settings: Settings,
    entry: ChatEntry,
    callback_url: str,
    *,
    sender: str,
    token: str,
    undelivered: int | None = None,
) -> None:
    """What the carrier would tell us, in order: sent, then delivered (or undelivered with
    its error code, when a fault asked for it), signed with the sending account's token."""
    final = "undelivered" if undelivered is not None else "delivered"
    for status in ("sent", final):
        entry.status = status
        entry.extra.setdefault("date_sent", entry.time)  # the emulator's carrier is instant
        params = {
            "MessageSid": entry.message_id,
            "SmsSid": entry.message_id,
            "MessageStatus": status,
            "SmsStatus": status,
            "AccountSid": entry_account(entry, settings),
            "To": entry.extra.get("to", entry.address),
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        if status == "undelivered":
            params["ErrorCode"] = str(undelivered)
        await runtime.post_twilio_form(callback_url, params, token)


# --- Messages list: `GET .../Messages.json` with Twilio's filters ---------------------------
# To, From, DateSent (a GMT day; `DateSent>` on or after it, `DateSent<` on or before it; a
# message not sent yet has no DateSent and matches none of them), newest first, paged by
# PageSize (default 50, at most 1000) and Page. Used by the outbox to ask whether a message
# whose sender died during the call went out (bot/engine/outbox.py).
_LIST_PAGE_SIZE = 50
_LIST_MAX_PAGE_SIZE = 1000


def _date_sent(entry: ChatEntry) -> str | None:
    sent = entry.extra.get("date_sent")
    return formatdate(sent.timestamp(), usegmt=True) if sent is not None else None


def _day(value: str) -> str | None:
    """`YYYY-MM-DD`, or the day of an ISO 8601 time (what twilio-python sends for a datetime)."""
    day = value[:10]
    return day if len(day) == 10 and day[4] == "-" and day[7] == "-" else None


def _matches(entry: ChatEntry, query: dict[str, str], our_number: str) -> bool:
    outbound = entry.sender == "bot"
    ours = str(entry.extra.get("from" if outbound else "to") or our_number)
    to, sender = (entry.address, ours) if outbound else (ours, entry.address)
    if query.get("To", to) != to or query.get("From", sender) != sender:
        return False
    sent = entry.extra.get("date_sent") if outbound else entry.time
    day = sent.astimezone(UTC).strftime("%Y-%m-%d") if sent is not None else None
    for name, keep in (
        ("DateSent", operator.eq),
        ("DateSent>", operator.ge),
        ("DateSent<", operator.le),
    ):
        if name in query and (day is None or not keep(day, query[name])):
            return False
    return True


async def _list_messages(request: web.Request) -> web.Response:
    settings, state = settings_of(request), state_of(request)
    account = authorised(request, settings)
    if account is None:
        return unauthorised()
    query = dict(request.query)
    for name in ("DateSent", "DateSent>", "DateSent<"):
        if name in query:
            day = _day(query[name])
            if day is None:
                return twilio_error(400, 20001, f"Invalid {name}: {query[name]}")
            query[name] = day
    try:
        size = min(int(query.get("PageSize", _LIST_PAGE_SIZE)), _LIST_MAX_PAGE_SIZE)
        page = int(query.get("Page", "0"))
    except ValueError:
        return twilio_error(400, 20001, "Invalid PageSize or Page")
    if size < 1 or page < 0:
        return twilio_error(400, 20001, "Invalid PageSize or Page")
    our_number = settings.twilio_sms_from or ""
    found = [
        e
        for e in reversed(state.entries)  # newest first
        if e.channel is ChannelName.SMS
        and entry_account(e, settings) == account
        and _matches(e, query, our_number)
    ]
    chunk = found[page * size : (page + 1) * size]
    path = request.path.removeprefix("/twilio")
    kept = {k: v for k, v in request.query.items() if k not in ("Page", "PageToken")}

    def page_uri(number: int) -> str:
        return f"{path}?{urlencode({**kept, 'PageSize': size, 'Page': number})}"

    more = (page + 1) * size < len(found)
    return web.json_response(
        {
            "messages": [message_json(e, settings) for e in chunk],
            "page": page,
            "page_size": size,
            "start": page * size,
            "end": page * size + max(len(chunk) - 1, 0),
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if more else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        }
    )
