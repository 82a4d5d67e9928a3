"""The customer's side: what Twilio or Telegram would POST to our webhooks when a customer
texts or taps a button, signed the way the provider signs it."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from bot.settings import Settings, secret
from channels.base import ChannelName
from channels.sms_text import segment_count
from sandbox.http import BadInput, check_address, random_id
from sandbox.runtime import Runtime
from sandbox.state import ChatEntry, SandboxState
from sandbox.telegram_api import CALLBACK_DATA_MAX_BYTES, MAX_TEXT, bot_user, message_json
from sandbox.twilio_api import ALPHANUMERIC_SENDER, account_token, number_account

MAX_SMS_CHARS = 1600


@dataclass(frozen=True, slots=True)
class CustomerInput:
    text: str | None = None
    action: str | None = None
    attachment: bool = False
    # Which of our senders the customer writes to: a number (SMS, WhatsApp) or a bot id
    # (Telegram); None: the platform's.
    to: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any], channel: ChannelName) -> CustomerInput:
        text, action, attachment = data.get("text"), data.get("action"), data.get("attachment")
        to = data.get("to") or None
        if to is not None and not isinstance(to, str):
            raise BadInput("to must be a string: one of our numbers, or a bot id")
        if text is not None and not isinstance(text, str):
            raise BadInput("text must be a string")
        if action is not None and (channel is ChannelName.SMS or text is not None):
            raise BadInput("action is for Telegram and WhatsApp only, and without text")
        if action is not None and (
            not isinstance(action, str) or not 1 <= len(action.encode()) <= CALLBACK_DATA_MAX_BYTES
        ):
            raise BadInput("action must be 1-64 bytes of callback data")
        if not isinstance(attachment, bool | None):
            raise BadInput("attachment must be a boolean")
        if text is None and action is None and not attachment:
            raise BadInput('send {"text": ...} or {"action": ...}')
        limit = MAX_TEXT if channel is ChannelName.TELEGRAM else MAX_SMS_CHARS
        if text is not None and len(text) > limit:
            raise BadInput(f"text longer than {limit} characters")
        return cls(text=text, action=action, attachment=bool(attachment), to=to)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to the customer's message: our webhook's status (None: unreachable)."""

    status: int | None
    provider_id: str
    delivered: bool = True


async def send_as_customer(
    runtime: Runtime,
    settings: Settings,
    state: SandboxState,
    *,
    channel: ChannelName,
    address: str,
    said: CustomerInput,
) -> Delivery:
    check_address(channel, address)
    if channel is ChannelName.SMS:
        return await _send_sms(runtime, settings, state, address, said)
    if channel is ChannelName.WHATSAPP:
        return await _send_whatsapp(runtime, settings, state, address, said)
    return await _send_telegram(runtime, settings, state, address, said)


def _our_number(
    settings: Settings, state: SandboxState, channel: ChannelName, said: CustomerInput
) -> tuple[str, str, str]:
    """(number the customer writes to, its account's SID, that account's auth token)."""
    platform = settings.twilio_sms_from if channel is ChannelName.SMS else None
    if channel is ChannelName.WHATSAPP:
        platform = settings.twilio_whatsapp_from
    number = said.to or platform or ""
    if number != platform and number not in state.twilio_numbers:
        if ALPHANUMERIC_SENDER.fullmatch(number):
            raise BadInput("a sender ID cannot receive messages: text its reply number", 409)
        raise BadInput(f"{number} is not one of the sandbox's Twilio numbers", 404)
    account = number_account(settings, state, number)
    return number, account, account_token(settings, state, account) or ""


def _service_of(state: SandboxState, number: str) -> str | None:
    """The Messaging Service whose pool holds `number` (Twilio names it on the webhook)."""
    return next((sid for sid, pool in state.twilio_services.items() if pool == number), None)


async def _send_sms(
    runtime: Runtime, settings: Settings, state: SandboxState, address: str, said: CustomerInput
) -> Delivery:
    sid = random_id("SM", 16)
    body = said.text or ""
    number, account, token = _our_number(settings, state, ChannelName.SMS, said)
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account,
        "From": address,
        "To": number,
        "Body": body,
        "NumMedia": "1" if said.attachment else "0",
        "NumSegments": str(segment_count(body)),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    service = _service_of(state, number)
    if service is not None:
        params["MessagingServiceSid"] = service
    if said.attachment:
        params["MediaContentType0"] = "image/jpeg"
        params["MediaUrl0"] = f"https://api.twilio.com/2010-04-01/Media/{random_id('ME', 16)}"
    shown = body or "(photo)"
    _record(
        state,
        channel=ChannelName.SMS,
        address=address,
        text=shown,
        message_id=sid,
        extra={"to": number, "account": account},
    )
    # The number's "A message comes in" URL when it was set through the API, else ours.
    url = state.number_sms_urls.get(number) or settings.public_base_url + state.webhook_paths.sms
    return Delivery(await runtime.post_twilio_form(url, params, token), sid)


async def _send_whatsapp(
    runtime: Runtime, settings: Settings, state: SandboxState, address: str, said: CustomerInput
) -> Delivery:
    """A WhatsApp message or a tap on a quick-reply button (its id comes as ButtonPayload)."""
    sid = random_id("SM", 16)
    contact = state.contact(ChannelName.WHATSAPP, address)
    number, account, token = _our_number(settings, state, ChannelName.WHATSAPP, said)
    params = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": account,
        "From": f"whatsapp:{address}",
        "To": f"whatsapp:{number}",
        "Body": said.text or "",
        "NumMedia": "1" if said.attachment else "0",
        "ProfileName": contact.name if contact else "Client",
        "WaId": address.lstrip("+"),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    shown = said.text or ("(photo)" if said.attachment else "")
    if said.action is not None:
        label = _whatsapp_button_label(state, address, number, said.action)
        params.update(Body=label, ButtonText=label, ButtonPayload=said.action)
        params["MessageType"] = "button"
        shown = label
    if said.attachment:
        params["MediaContentType0"] = "image/jpeg"
        params["MediaUrl0"] = f"https://api.twilio.com/2010-04-01/Media/{random_id('ME', 16)}"
    _record(
        state,
        channel=ChannelName.WHATSAPP,
        address=address,
        text=shown,
        message_id=sid,
        action=said.action,
        extra={"to": f"whatsapp:{number}", "account": account},
    )
    url = settings.public_base_url + state.webhook_paths.whatsapp
    return Delivery(await runtime.post_twilio_form(url, params, token), sid)


def _whatsapp_button_label(state: SandboxState, address: str, number: str, action: str) -> str:
    thread = state.thread(ChannelName.WHATSAPP, address, number)
    for message in reversed([m for m in thread if m.sender == "bot"]):
        for button in message.buttons:
            if button.action == action:
                return button.label
    raise BadInput("no WhatsApp message in this chat offers that button", status=409)


def _bot(settings: Settings, state: SandboxState, said: CustomerInput) -> tuple[str, bool]:
    """(token of the bot the customer writes to, whether it is a merchant's own bot)."""
    platform = secret(settings.telegram_bot_token)
    if said.to is None or said.to == platform.split(":", 1)[0]:
        return platform, False
    for token in state.telegram_bots:
        if token.split(":", 1)[0] == said.to:
            return token, True
    raise BadInput(f"no sandbox bot has the id {said.to}", 404)


async def _send_telegram(
    runtime: Runtime, settings: Settings, state: SandboxState, address: str, said: CustomerInput
) -> Delivery:
    token, own = _bot(settings, state, said)
    bot_id = token.split(":", 1)[0]
    update_id = state.next_update_id(bot_id)
    if said.action is not None:
        kind = "callback_query"
        query = _callback_query(state, address, said.action, token)
        update = {"update_id": update_id, kind: query}
    else:
        kind = "message"
        update = {"update_id": update_id, kind: _message(state, address, said, bot_id)}
    hook = state.telegram_bots.get(token) if own else state.telegram_webhook
    if own and hook is None:
        raise BadInput("that bot has no webhook yet (setWebhook was never called)", 409)
    if hook is not None and hook.allowed_updates and kind not in hook.allowed_updates:
        return Delivery(None, str(update_id), delivered=False)  # Telegram would not send it
    url = hook.url if hook else settings.public_base_url + state.webhook_paths.telegram
    hook_secret = hook.secret if hook else secret(settings.telegram_webhook_secret)
    headers = {"Content-Type": "application/json"}
    if hook_secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook_secret
    status = await runtime.post(url, json.dumps(update).encode(), headers)
    return Delivery(status, str(update_id))


def _user(state: SandboxState, address: str) -> dict[str, Any]:
    contact = state.contact(ChannelName.TELEGRAM, address)
    return {
        "id": int(address),
        "is_bot": False,
        "first_name": contact.name if contact else "Client",
        "language_code": contact.language_code if contact else "fr",
    }


def _message(
    state: SandboxState, address: str, said: CustomerInput, bot_id: str
) -> dict[str, Any]:
    user = _user(state, address)
    message_id = state.next_message_id(address)
    now = state.clock.now()
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": user,
        "chat": {"id": user["id"], "type": "private", "first_name": user["first_name"]},
        "date": int(now.timestamp()),
    }
    if said.attachment:
        file_id = secrets.token_urlsafe(16)
        message["photo"] = [
            {"file_id": file_id, "file_unique_id": file_id[:8], "width": 90, "height": 90}
        ]
        if said.text:
            message["caption"] = said.text
    else:
        message["text"] = said.text or ""
    shown = said.text or ""
    _record(
        state,
        channel=ChannelName.TELEGRAM,
        address=address,
        text=shown or "(photo)",
        message_id=str(message_id),
        extra={"bot": bot_id},
    )
    return message


def _callback_query(state: SandboxState, address: str, action: str, token: str) -> dict[str, Any]:
    """A tap on the newest message of this bot offering `action` (else on its newest)."""
    bot_id = token.split(":", 1)[0]
    thread = state.thread(ChannelName.TELEGRAM, address, bot_id)
    bot_messages = [m for m in thread if m.sender == "bot"]
    if not bot_messages:
        raise BadInput("no bot message in this chat to tap a button on", status=409)
    target = next(
        (m for m in reversed(bot_messages) if any(b.action == action for b in m.buttons)),
        bot_messages[-1],
    )
    label = next((b.label for b in target.buttons if b.action == action), action)
    query_id = str(secrets.randbelow(2**62))
    state.callback_queries[query_id] = False
    _record(
        state,
        channel=ChannelName.TELEGRAM,
        address=address,
        text=label,
        message_id=query_id,
        action=action,
        extra={"bot": bot_id},
    )
    return {
        "id": query_id,
        "from": _user(state, address),
        "message": message_json(state, target, bot_user(token)),
        "chat_instance": str(int(address) * 7919 % 2**31),
        "data": action,
    }


def _record(
    state: SandboxState,
    *,
    channel: ChannelName,
    address: str,
    text: str,
    message_id: str,
    action: str | None = None,
    extra: dict[str, str] | None = None,
) -> None:
    # Recorded before delivery so that a reply sent while our webhook runs comes after it.
    # `extra` names our side: "to" (a number) or "bot" (a bot id), and the Twilio account.
    state.record(
        ChatEntry(
            channel=channel,
            address=address,
            sender="customer",
            text=text,
            time=state.clock.now(),
            message_id=message_id,
            extra={**(extra or {}), **({"action": action} if action else {})},
        )
    )
