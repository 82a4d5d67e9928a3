"""Telegram: webhook verification and parsing, and an adapter wrapping python-telegram-bot.

Only private chats are a conversation with a customer; everything else Telegram may push
(edits, channel posts, groups, membership changes) is acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from channels.base import (
    Button,
    ChannelAdapter,
    ChannelError,
    ChannelName,
    InboundKind,
    InboundMessage,
    InvalidSignature,
    MalformedPayload,
    OutboundMessage,
    PermanentError,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
    SenderResolver,
    SendResult,
    resolve_route,
)

# python-telegram-bot (with httpx) is imported by the first send, not by every process that
# parses updates or holds an adapter: a worker restarting with a backlog sends its first
# replies before it would have finished importing it (issue 12).
if TYPE_CHECKING:
    from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
    from telegram.error import RetryAfter, TelegramError
    from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


CALLBACK_DATA_MAX_BYTES = 64
ALLOWED_UPDATES = ("message", "callback_query")
# Message fields that mean "the customer sent something that is not text".
_CONTENT_FIELDS = (
    "sticker",
    "photo",
    "voice",
    "audio",
    "document",
    "video",
    "video_note",
    "animation",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
    "game",
    "story",
    "paid_media",
    "checklist",
)


def verify_telegram_secret(header: str | None, secret: str) -> None:
    """Check `X-Telegram-Bot-Api-Secret-Token` in constant time."""
    if header is None or not hmac.compare_digest(header.encode(), secret.encode()):
        raise InvalidSignature("telegram secret token missing or wrong")


def parse_telegram_update(data: object) -> InboundMessage | None:
    """Turn a verified update into an `InboundMessage`, or None for updates we ignore."""
    if not isinstance(data, Mapping):
        raise MalformedPayload("telegram update is not an object")
    update_id = data.get("update_id")
    if not _is_int(update_id):
        raise MalformedPayload("telegram update has no integer update_id")
    if "message" in data:
        return _parse_message(str(update_id), data["message"])
    if "callback_query" in data:
        return _parse_callback(str(update_id), data["callback_query"])
    return None


def _parse_message(provider_id: str, message: object) -> InboundMessage | None:
    message = _mapping(message, "message")
    chat = _mapping(message.get("chat"), "message.chat")
    chat_id = chat.get("id")
    if not _is_int(chat_id):
        raise MalformedPayload("telegram message.chat.id is not an integer")
    if chat.get("type") != "private":
        return None
    sender = message.get("from")
    language = sender.get("language_code") if isinstance(sender, Mapping) else None
    common: dict[str, Any] = {
        "channel": ChannelName.TELEGRAM,
        "address": str(chat_id),
        "provider_id": provider_id,
        "language_code": language if isinstance(language, str) else None,
    }
    text = message.get("text")
    if isinstance(text, str):
        return InboundMessage(kind=InboundKind.TEXT, text=text, **common)
    content = next((field for field in _CONTENT_FIELDS if field in message), None)
    if content is None:
        return None  # a service message (pin, auto-delete timer...): nothing the customer said
    return InboundMessage(kind=InboundKind.UNSUPPORTED, extra={"content": content}, **common)


def _parse_callback(provider_id: str, query: object) -> InboundMessage | None:
    query = _mapping(query, "callback_query")
    query_id, sender = query.get("id"), _mapping(query.get("from"), "callback_query.from")
    if not isinstance(query_id, str) or not _is_int(sender.get("id")):
        raise MalformedPayload("telegram callback_query without id or from.id")
    data = query.get("data")
    if not isinstance(data, str):
        return None  # game callbacks carry no data: not one of our buttons
    address: object = sender["id"]
    message = query.get("message")
    if isinstance(message, Mapping) and isinstance(message.get("chat"), Mapping):
        chat = message["chat"]
        if chat.get("type", "private") != "private":
            return None
        if _is_int(chat.get("id")):
            address = chat["id"]
    language = sender.get("language_code")
    return InboundMessage(
        channel=ChannelName.TELEGRAM,
        address=str(address),
        provider_id=provider_id,
        kind=InboundKind.CHOICE,
        text="",
        payload=data,
        language_code=language if isinstance(language, str) else None,
        extra={"callback_query_id": query_id},
    )


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MalformedPayload(f"telegram {what} is not an object")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@functools.cache
def no_preview() -> LinkPreviewOptions:
    from telegram import LinkPreviewOptions

    return LinkPreviewOptions(is_disabled=True)


# Telegram's answers to an edit that mean "nothing to do" (lower case, as contained).
EDIT_HARMLESS = ("message is not modified", "message to edit not found")


class ButtonsNotRemoved(PermanentError):
    """An edit Telegram refused for good (bot blocked, chat gone): there is no message to
    send anywhere else, so no fallback either."""

    falls_back = False


def build_keyboard(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    """One button per row: a button with an action calls back, any other one opens its URL."""
    if not buttons:
        return None
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        if button.action is not None:
            size = len(button.action.encode())
            if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
                raise PermanentError(f"callback data must be 1-64 bytes, got {size}")
            rows.append([InlineKeyboardButton(button.label, callback_data=button.action)])
        elif button.url:
            rows.append([InlineKeyboardButton(button.label, url=button.url)])
        else:
            raise PermanentError(f"button {button.label!r} has neither action nor url")
    return InlineKeyboardMarkup(rows)


def map_telegram_error(error: TelegramError) -> ChannelError:
    """Translate a PTB exception into our retry semantics."""
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

    if isinstance(error, RetryAfter):
        return RateLimited(f"telegram: {error.message}", retry_after=_retry_seconds(error))
    if isinstance(error, Forbidden):
        return RecipientUnreachable(f"telegram: {error.message}")
    if isinstance(error, BadRequest):  # a NetworkError subclass in PTB, so test it first
        return PermanentError(f"telegram: {error.message}")
    if isinstance(error, NetworkError):  # includes TimedOut
        return ProviderUnavailable(f"telegram: {error.message}")
    return PermanentError(f"telegram: {error.message}")


def _retry_seconds(error: RetryAfter) -> float:
    # PTB 22 warns on every read of `retry_after` unless PTB_TIMEDELTA is set; the value is
    # either an int or a timedelta depending on that variable.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramAdapter(ChannelAdapter):
    """Sends through the Bot API with a `telegram.Bot` it owns from `start()` to `close()`."""

    name = ChannelName.TELEGRAM

    def __init__(self, token: str, base_url: str, resolve: SenderResolver | None = None) -> None:
        self._token = token
        self._base_url = base_url
        self._resolve = resolve  # merchants' own bots
        self._bot: Bot | None = None
        self._requests: tuple[HTTPXRequest, ...] = ()
        self._started = False
        self._opening = asyncio.Lock()  # two first sends at once open one bot
        # Merchants' bots, opened on their first send: bot id -> (token, adapter).
        self._own: dict[str, tuple[str, TelegramAdapter]] = {}

    async def start(self) -> None:
        """Allow sends; the bot is opened by the first one (`_ready_bot`)."""
        self._started = True

    async def _open(self) -> Bot:
        from telegram import Bot
        from telegram.request import HTTPXRequest

        # PTB 22 raises a deprecation warning while *building* RetryAfter (a 429) unless the
        # process opted into timedelta periods; under `-W error` that warning would replace
        # the 429. Opting in is PTB's documented switch, and `_retry_seconds` reads both forms.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        # We own the request objects: a Bot that never ran initialize() does not close them.
        request, updates_request = HTTPXRequest(), HTTPXRequest()
        self._requests = (request, updates_request)
        for owned in self._requests:
            await owned.initialize()
        self._bot = Bot(
            self._token,
            base_url=self._base_url,
            request=request,
            get_updates_request=updates_request,
        )
        return self._bot

    async def close(self) -> None:
        self._started = False
        requests, self._requests, self._bot = self._requests, (), None
        own, self._own = self._own, {}
        for _token, adapter in own.values():
            await adapter.close()
        for owned in requests:
            await owned.shutdown()

    async def bot_for(self, ref: str | None) -> TelegramAdapter:
        """The adapter of the merchant bot `ref` (None: this one, the platform's)."""
        route = await resolve_route(self._resolve, ChannelName.TELEGRAM, ref)
        if ref is None or route is None or not route.token:
            await self._ready_bot()
            return self
        known = self._own.get(ref)
        if known is not None and known[0] == route.token:
            return known[1]
        if known is not None:  # the merchant gave a new token for the same bot
            await known[1].close()
        adapter = TelegramAdapter(route.token, self._base_url)
        await adapter.start()
        self._own[ref] = (route.token, adapter)
        return adapter

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.sender is not None:
            own = await self.bot_for(message.sender)
            return await own.send(replace(message, sender=None))
        bot = await self._ready_bot()
        if message.remove_buttons_of is not None:
            return await self._remove_buttons(bot, message.address, message.remove_buttons_of)
        markup = build_keyboard(message.buttons)
        from telegram.error import TelegramError

        try:
            # No parse_mode: whatever a customer or merchant typed is shown, never interpreted.
            sent = await bot.send_message(
                chat_id=message.address,
                text=message.text,
                reply_markup=markup,
                parse_mode=None,
                # Our links are the customer's own pay and invoice pages: a preview adds a
                # grey card with a title and nothing else, and makes Telegram fetch them.
                link_preview_options=no_preview(),
            )
        except TelegramError as e:
            raise map_telegram_error(e) from e
        return SendResult(provider_message_id=str(sent.message_id))

    async def _remove_buttons(self, bot: Bot, chat_id: str, message_id: str) -> SendResult:
        """Take the inline keyboard off an earlier message (editMessageReplyMarkup without a
        markup). Already gone (a retry after a lost answer) or the message deleted by the
        customer: nothing left to do, not an error."""
        from telegram.error import BadRequest, TelegramError

        try:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=int(message_id), reply_markup=None
            )
        except BadRequest as e:
            reason = e.message.lower()
            if any(harmless in reason for harmless in EDIT_HARMLESS):
                log.info("telegram buttons already gone: %s", e.message)
                return SendResult(provider_message_id=message_id)
            raise ButtonsNotRemoved(f"telegram: {e.message}") from e
        except TelegramError as e:
            error = map_telegram_error(e)
            if error.retryable:
                raise error from e
            raise ButtonsNotRemoved(str(error)) from e
        return SendResult(provider_message_id=message_id)

    async def answer_choice(self, callback_query_id: str) -> None:
        """Stop the button's spinner. A query Telegram forgot about is not an error for us;
        any other failure is logged and raised as a `ChannelError`."""
        bot = await self._ready_bot()
        from telegram.error import BadRequest, TelegramError

        try:
            await bot.answer_callback_query(callback_query_id)
        except BadRequest as e:
            reason = e.message.lower()
            if "query is too old" in reason or "query id is invalid" in reason:
                log.debug("callback query %s expired before we answered", callback_query_id)
                return
            log.warning("answerCallbackQuery failed: %s", e.message)
            raise map_telegram_error(e) from e
        except TelegramError as e:
            log.warning("answerCallbackQuery failed: %s", e.message)
            raise map_telegram_error(e) from e

    async def set_webhook(self, url: str, secret: str) -> None:
        bot = await self._ready_bot()
        from telegram.error import TelegramError

        try:
            await bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        except TelegramError as e:
            raise map_telegram_error(e) from e

    async def _ready_bot(self) -> Bot:
        if self._bot is not None:
            return self._bot
        if not self._started:
            raise RuntimeError("TelegramAdapter.start() was not awaited")
        async with self._opening:
            return self._bot if self._bot is not None else await self._open()
