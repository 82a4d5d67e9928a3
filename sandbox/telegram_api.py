"""Telegram Bot API emulator: the methods the bot calls, with Telegram's error shapes."""

from __future__ import annotations

import hmac
import math
import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.settings import secret
from channels.base import Button, ChannelName
from sandbox.http import BadInput, decode_json_values, read_form_pairs, read_json_object
from sandbox.runtime import settings_of, state_of
from sandbox.state import ChatEntry, Fault, SandboxState, TelegramWebhook

Method = Callable[[SandboxState, dict[str, Any], dict[str, Any]], Any]
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_FAULTS = {
    400: "Bad Request: chat not found",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
MAX_TEXT = 4096
CALLBACK_DATA_MAX_BYTES = 64


class TelegramApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def add_routes(app: web.Application) -> None:
    app.router.add_route("*", "/telegram/bot{token}/{method}", _dispatch)


def telegram_error(status: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def fault_response(fault: Fault) -> web.Response:
    if fault.status == 429:
        # Telegram always says how long to wait, as whole seconds.
        wait = max(1, math.ceil(fault.retry_after or 1))
        return telegram_error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
    status = fault.status or 500
    return telegram_error(status, _FAULTS.get(status, "Internal Server Error"))


def bot_user(token: str) -> dict[str, Any]:
    prefix = token.split(":", 1)[0]
    return {
        "id": int(prefix) if prefix.isdigit() else 1,
        "is_bot": True,
        "first_name": "Facto (sandbox)",
        "username": "facto_sandbox_bot",
    }


async def _dispatch(request: web.Request) -> web.Response:
    token = secret(settings_of(request).telegram_bot_token)
    given = request.match_info["token"]
    # The platform's bot, or a merchant's own bot that BotFather "created" (state.telegram_bots).
    known = [token, *state_of(request).telegram_bots]
    if not any(hmac.compare_digest(given.encode(), t.encode()) for t in known):
        return telegram_error(404, "Not Found")
    token = given
    method = _METHODS.get(request.match_info["method"].lower())
    if method is None:
        return telegram_error(404, "Not Found: method not found")
    try:
        # Read before a held fault, as Telegram has the request once it holds it: a sender that
        # dies while the call is held still has its message accepted (the at-least-once window).
        params = await _params(request)
    except BadInput as e:
        return telegram_error(400, f"Bad Request: {e.message}")
    if method in (_send_message, _edit_message_reply_markup):  # what the outbox sends
        fault = state_of(request).take_fault(ChannelName.TELEGRAM)
        if fault is not None:
            await state_of(request).hold(fault)
            if fault.status is not None:
                return fault_response(fault)
    try:
        result = method(state_of(request), params, bot_user(token))
    except TelegramApiError as e:
        return telegram_error(e.status, e.description)
    except BadInput as e:
        return telegram_error(400, f"Bad Request: {e.message}")
    if isinstance(result, web.Response):
        return result
    return web.json_response({"ok": True, "result": result})


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = decode_json_values(request.query.items())
    if request.content_type == "application/json":
        params.update(await read_json_object(request))
    else:
        params.update(decode_json_values(await read_form_pairs(request)))
    return params


def _chat_id(params: dict[str, Any]) -> str:
    value = str(params.get("chat_id", ""))
    if not re.fullmatch(r"-?\d{1,15}", value):
        raise TelegramApiError(400, "Bad Request: chat not found")
    return value


def _text(params: dict[str, Any]) -> str:
    text = params.get("text")
    if not isinstance(text, str) or not text.strip():
        raise TelegramApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise TelegramApiError(400, "Bad Request: message is too long")
    return text


def _buttons(markup: object) -> tuple[Button, ...]:
    """The inline keyboard as neutral buttons; other keyboards carry nothing we record."""
    if markup is None:
        return ()
    if not isinstance(markup, dict):
        raise TelegramApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return ()
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise TelegramApiError(400, 'Bad Request: field "inline_keyboard" must be an Array')
    return tuple(_button(item) for row in rows for item in row)


def _button(item: object) -> Button:
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        raise TelegramApiError(400, "Bad Request: can't parse inline keyboard button")
    data, url = item.get("callback_data"), item.get("url")
    if isinstance(data, str) and url is None:
        if not 1 <= len(data.encode()) <= CALLBACK_DATA_MAX_BYTES:
            raise TelegramApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return Button(label=item["text"], action=data)
    if isinstance(url, str) and data is None:
        if not url.startswith(("http://", "https://", "tg://")):
            raise TelegramApiError(
                400, f"Bad Request: inline keyboard button URL '{url}' is invalid"
            )
        return Button(label=item["text"], url=url)
    raise TelegramApiError(400, 'Bad Request: can\'t find field "callback_data" or "url"')


def message_json(state: SandboxState, entry: ChatEntry, bot: dict[str, Any]) -> dict[str, Any]:
    contact = state.contact(ChannelName.TELEGRAM, entry.address)
    message: dict[str, Any] = {
        "message_id": int(entry.message_id),
        "from": bot,
        "chat": {
            "id": int(entry.address),
            "type": "private",
            "first_name": contact.name if contact else "Client",
        },
        "date": int(entry.time.timestamp()),
        "text": entry.text,
    }
    if entry.buttons:
        message["reply_markup"] = entry.extra.get("reply_markup")
    if entry.extra.get("edited"):
        message["edit_date"] = entry.extra["edited"]
    return message


def _send_message(state: SandboxState, params: dict[str, Any], bot: dict[str, Any]) -> Any:
    chat_id, text = _chat_id(params), _text(params)
    buttons = _buttons(params.get("reply_markup"))
    entry = state.record(
        ChatEntry(
            channel=ChannelName.TELEGRAM,
            address=chat_id,
            sender="bot",
            text=text,
            time=state.clock.now(),
            message_id=str(state.next_message_id(chat_id)),
            buttons=buttons,
            extra={
                "reply_markup": params.get("reply_markup"),
                "parse_mode": params.get("parse_mode"),
                "link_preview_options": params.get("link_preview_options"),
                "bot": str(bot["id"]),
            },
        )
    )
    return message_json(state, entry, bot)


def _edit_message_text(state: SandboxState, params: dict[str, Any], bot: dict[str, Any]) -> Any:
    chat_id, text = _chat_id(params), _text(params)
    message_id = str(params.get("message_id", ""))
    entry = state.find_bot_message(ChannelName.TELEGRAM, message_id, chat_id)
    if entry is None:
        raise TelegramApiError(400, "Bad Request: message to edit not found")
    markup = params.get("reply_markup")
    buttons = _buttons(markup)
    if entry.text == text and entry.buttons == buttons:
        raise TelegramApiError(
            400,
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message",
        )
    entry.text, entry.buttons = text, buttons
    entry.extra.update(reply_markup=markup, edited=int(state.clock.now().timestamp()))
    return message_json(state, entry, bot)


def _edit_message_reply_markup(
    state: SandboxState, params: dict[str, Any], bot: dict[str, Any]
) -> Any:
    """Replace (or, without `reply_markup`, remove) a message's inline keyboard."""
    chat_id = _chat_id(params)
    message_id = str(params.get("message_id", ""))
    entry = state.find_bot_message(ChannelName.TELEGRAM, message_id, chat_id)
    if entry is None:
        raise TelegramApiError(400, "Bad Request: message to edit not found")
    markup = params.get("reply_markup")
    buttons = _buttons(markup)
    if entry.buttons == buttons:
        raise TelegramApiError(
            400,
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message",
        )
    entry.buttons = buttons
    entry.extra.update(reply_markup=markup, edited=int(state.clock.now().timestamp()))
    state.edits.append((chat_id, message_id))
    return message_json(state, entry, bot)


def _answer_callback_query(
    state: SandboxState, params: dict[str, Any], bot: dict[str, Any]
) -> Any:
    query_id = str(params.get("callback_query_id", ""))
    if state.callback_queries.get(query_id, True):  # unknown or already answered
        raise TelegramApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )
    state.callback_queries[query_id] = True
    return True


def _set_webhook(state: SandboxState, params: dict[str, Any], bot: dict[str, Any]) -> Any:
    url = params.get("url")
    if not isinstance(url, str):
        raise TelegramApiError(400, "Bad Request: bad webhook: URL is missing")
    if not url:
        state.telegram_webhook = None
        return True
    token = params.get("secret_token")
    if token is not None and (not isinstance(token, str) or not _SECRET_TOKEN.match(token)):
        raise TelegramApiError(400, "Bad Request: secret token contains unallowed characters")
    allowed = params.get("allowed_updates") or []
    if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
        raise TelegramApiError(400, "Bad Request: can't parse allowed updates")
    hook = TelegramWebhook(url=url, secret=token, allowed_updates=tuple(allowed))
    own = _own_bot_token(state, bot)
    if own is not None:
        state.telegram_bots[own] = hook
    else:
        state.telegram_webhook = hook
    return True


def _own_bot_token(state: SandboxState, bot: dict[str, Any]) -> str | None:
    """The token of a merchant's own bot (by its id), None for the platform's."""
    return next((t for t in state.telegram_bots if t.split(":", 1)[0] == str(bot["id"])), None)


def _delete_webhook(state: SandboxState, params: dict[str, Any], bot: dict[str, Any]) -> Any:
    state.telegram_webhook = None
    return True


def _get_webhook_info(state: SandboxState, params: dict[str, Any], bot: dict[str, Any]) -> Any:
    hook = state.telegram_webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": 0,
    }
    if hook and hook.allowed_updates:
        info["allowed_updates"] = list(hook.allowed_updates)
    return info


def _get_me(state: SandboxState, params: dict[str, Any], bot: dict[str, Any]) -> Any:
    return {
        **bot,
        "can_join_groups": False,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


_METHODS: dict[str, Method] = {
    "getme": _get_me,
    "sendmessage": _send_message,
    "editmessagetext": _edit_message_text,
    "editmessagereplymarkup": _edit_message_reply_markup,
    "answercallbackquery": _answer_callback_query,
    "setwebhook": _set_webhook,
    "deletewebhook": _delete_webhook,
    "getwebhookinfo": _get_webhook_info,
}
