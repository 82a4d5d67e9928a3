"""Twilio's WhatsApp side: Messages API sends to `whatsapp:` addresses and the Content API.

Enforces what WhatsApp enforces (PROVIDERS §2.6): outside the 24 h window that the customer's
last message opened, only an approved template goes through; free text or a session content
(quick replies, list pickers) gets error 63016. Approved templates are the ones declared in
`channels.whatsapp_templates`, under the sandbox's ContentSids; they are shown rendered with
their variables, and quick replies as buttons.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import formatdate
from typing import Any

from aiohttp import web

from channels.base import Button, ChannelName
from channels.whatsapp_templates import TEMPLATES
from sandbox.http import E164, BadInput, random_id, read_form_pairs
from sandbox.runtime import runtime_of, settings_of, state_of
from sandbox.state import ChatEntry, Content, SandboxState
from sandbox.twilio_api import (
    BASE,
    MAX_BODY_CHARS,
    account_token,
    authorised,
    create_sms_message,
    fault_response,
    message_json,
    number_account,
    report_delivery,
    twilio_error,
    unauthorised,
)

PREFIX = "whatsapp:"
WINDOW = timedelta(hours=24)
MAX_CONTENT_BODY = 1024
MAX_QUICK_REPLIES = 10
MAX_LIST_ITEMS = 10
MAX_LIST_ITEM_CHARS = 24


def add_routes(app: web.Application) -> None:
    app.router.add_post(BASE + "/Messages.json", _create_message)
    app.router.add_post("/twilio/v1/Content", create_content)


async def _create_message(request: web.Request) -> web.Response:
    account = authorised(request, settings_of(request))
    if account is None:
        return unauthorised()
    try:
        form = dict(await read_form_pairs(request))
    except BadInput as e:
        return twilio_error(400, 21600, e.message)
    if form.get("To", "").startswith(PREFIX):
        return await _create_whatsapp_message(request, form, account)
    return await create_sms_message(request, form, account)


def window_open(state: SandboxState, phone: str, sender: str) -> bool:
    """WhatsApp's 24 h window between one of our numbers (`sender`) and the customer: opened
    by the customer's last message *to that number*, as WhatsApp keeps it per pair."""
    last = state.last_customer_message(ChannelName.WHATSAPP, phone, sender.removeprefix(PREFIX))
    return last is not None and state.clock.now() < last + WINDOW


async def _create_whatsapp_message(
    request: web.Request, form: dict[str, str], account: str
) -> web.Response:
    settings, state = settings_of(request), state_of(request)
    fault = state.take_fault(ChannelName.WHATSAPP)
    if fault is not None:
        await state.hold(fault)
        if fault.status is not None:
            return fault_response(fault)
    to, sender = form.get("To", ""), form.get("From", "")
    phone = to.removeprefix(PREFIX)
    if not E164.match(phone):
        return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    ours = {settings.twilio_whatsapp_from or ""} | state.twilio_numbers
    number = sender.removeprefix(PREFIX)
    in_account = number_account(settings, state, number) == account
    if not sender.startswith(PREFIX) or number not in ours or not in_account:
        return twilio_error(
            400, 63007, "Twilio could not find a Channel with the specified From address"
        )
    shown = _shown(state, form, account, settings.twilio_account_sid or "")
    if isinstance(shown, web.Response):
        return shown
    text, buttons, content = shown
    approved = content is not None and content.approved
    if not approved and not window_open(state, phone, number):
        return twilio_error(
            400,
            63016,
            "Failed to send freeform message because you are outside the allowed "
            "window. If you are using WhatsApp, please use a Message Template.",
        )
    entry = state.record(
        ChatEntry(
            channel=ChannelName.WHATSAPP,
            address=phone,
            sender="bot",
            text=text,
            time=state.clock.now(),
            message_id=random_id("SM", 16),
            buttons=buttons,
            status="queued",
            extra={
                "to": to,
                "from": sender,
                "template": content.template if content is not None else None,
                "status_callback": form.get("StatusCallback"),
                "account": account,
            },
        )
    )
    callback = form.get("StatusCallback")
    if callback:
        runtime_of(request).spawn(
            report_delivery(
                runtime_of(request),
                settings,
                entry,
                callback,
                sender=sender,
                token=account_token(settings, state, account) or "",
                undelivered=fault.undelivered if fault is not None else None,
            )
        )
    return web.json_response(message_json(entry, settings), status=201)


def _shown(
    state: SandboxState, form: dict[str, str], account: str, platform: str
) -> tuple[str, tuple[Button, ...], Content | None] | web.Response:
    """What the customer's phone shows for this send: text, buttons, and the content used."""
    sid, body = form.get("ContentSid"), form.get("Body")
    if not sid:
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY_CHARS:
            return twilio_error(400, 21617, "The message body exceeds the 1600 character limit.")
        return body, (), None
    content = state.contents.get(sid)
    # A content (approved template or session content) is its account's: another account's
    # ContentSid is unknown there. Contents without an account are the platform's.
    if content is None or (content.account or platform) != account:
        return twilio_error(400, 21655, f"The ContentSid {sid} is invalid.")
    try:
        variables = json.loads(form.get("ContentVariables") or "{}")
    except ValueError:
        variables = None
    if not isinstance(variables, dict):
        return twilio_error(400, 21656, "The ContentVariables parameter is invalid.")
    if content.approved:
        template = TEMPLATES[content.template or ""]
        missing = [str(n) for n in range(1, len(template.variables) + 1)]
        if any(not str(variables.get(n, "")).strip() for n in missing):
            return twilio_error(400, 21656, "A template variable is missing or empty.")
        values = {str(k): str(v) for k, v in variables.items()}
        locale = content.locale or "fr"
        buttons = tuple(Button(label=titles[locale], action=p) for p, titles in template.buttons)
        return template.render(locale, values), buttons, content
    return (*_session_content(content), content)


def _session_content(content: Content) -> tuple[str, tuple[Button, ...]]:
    quick = content.types.get("twilio/quick-reply")
    if quick is not None:
        buttons = tuple(Button(label=a["title"], action=a["id"]) for a in quick["actions"])
        return str(quick["body"]), buttons
    picker = content.types.get("twilio/list-picker")
    if picker is not None:
        buttons = tuple(Button(label=i["item"], action=i["id"]) for i in picker["items"])
        return str(picker["body"]), buttons
    return str(content.types.get("twilio/text", {}).get("body", "")), ()


async def create_content(request: web.Request) -> web.Response:
    """`POST /v1/Content` (JSON): a session content; only its types matter here."""
    settings, state = settings_of(request), state_of(request)
    account = authorised(request, settings)
    if account is None:
        return unauthorised()
    try:
        data = json.loads(await request.text())
    except ValueError:
        return twilio_error(400, 20001, "Invalid JSON body")
    problem = _content_problem(data)
    if problem is not None:
        return twilio_error(400, 20001, problem)
    sid = random_id("HX", 16)
    state.contents[sid] = Content(sid=sid, types=data["types"], account=account)
    created = formatdate(state.clock.now().timestamp(), usegmt=True)
    answer: dict[str, Any] = {
        "sid": sid,
        "account_sid": account,
        "friendly_name": data.get("friendly_name"),
        "language": data.get("language"),
        "variables": data.get("variables") or {},
        "types": data["types"],
        "url": f"https://content.twilio.com/v1/Content/{sid}",
        "date_created": created,
        "date_updated": created,
        "links": {},
    }
    return web.json_response(answer, status=201)


def _content_problem(data: object) -> str | None:
    """The Content API's limits for the two types Facto creates."""
    if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
        return "types is required"
    types = data["types"]
    quick, picker = types.get("twilio/quick-reply"), types.get("twilio/list-picker")
    if quick is None and picker is None:
        return "only twilio/quick-reply and twilio/list-picker are emulated"
    item = quick or picker
    if not isinstance(item, dict) or not isinstance(item.get("body"), str):
        return "body is required"
    if len(item["body"]) > MAX_CONTENT_BODY:
        return f"body must be at most {MAX_CONTENT_BODY} characters"
    if quick is not None:
        actions = quick.get("actions")
        if not isinstance(actions, list) or not 1 <= len(actions) <= MAX_QUICK_REPLIES:
            return f"a quick-reply has 1 to {MAX_QUICK_REPLIES} actions"
        return None
    items = picker.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LIST_ITEMS:
        return f"a list-picker has 1 to {MAX_LIST_ITEMS} items"
    if any(len(str(i.get("item", ""))) > MAX_LIST_ITEM_CHARS for i in items):
        return f"a list item is at most {MAX_LIST_ITEM_CHARS} characters"
    return None
