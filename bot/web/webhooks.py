"""Provider webhooks: verify on the raw body, parse, ingest durably, acknowledge.

Nothing else happens on the request path (STYLE guideline 3): the worker does the work.
An unverified request gets 403 and leaves nothing but a log line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web
from redis.exceptions import RedisError

from bot.engine import delivery, events, offer_payments, outbox
from bot.engine.pipeline import Event, ingest
from bot.engine.reconcile import route_stripe_event
from bot.logs import CARD_REDACTED_FLAG, log_fields, mask_card_numbers
from bot.services import Services, bounded
from bot.settings import SecretsKeyError, secret
from bot.store import senders, whatsapp_window
from bot.store.conversations import conversation_key
from bot.store.senders import MerchantSender
from bot.store.telegram_links import bind_chat, start_token
from bot.web.app_keys import BACKGROUND, SENDER_ROUTES, SERVICES, SPOOL, SPOOL_REPLAYER
from bot.web.bodies import decode_json
from channels.base import (
    ChannelName,
    InboundKind,
    InboundMessage,
    InvalidSignature,
    MalformedPayload,
)
from channels.telegram import parse_telegram_update, verify_telegram_secret
from channels.twilio_sms import parse_inbound_sms, parse_status_callback, verify_twilio_signature
from channels.twilio_whatsapp import parse_inbound_whatsapp, phone_of
from payments.webhook import WebhookRejected, verify_stripe_event

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# The usual acknowledgements, serialised once (as `web.json_response` would, headers included).
OK = json.dumps({"ok": True})
RECEIVED = json.dumps({"received": True})


def _json(text: str) -> web.Response:
    return web.Response(text=text, content_type="application/json")


def setup_webhooks(app: web.Application) -> None:
    app.router.add_post("/webhooks/telegram", telegram_webhook)
    # A merchant's own bot: its own path, verified with that bot's secret (bot.store.senders).
    app.router.add_post("/webhooks/telegram/{bot_id:[0-9]{1,20}}", telegram_webhook)
    app.router.add_post("/webhooks/twilio/sms", twilio_sms_webhook)
    app.router.add_post("/webhooks/twilio/whatsapp", twilio_whatsapp_webhook)
    app.router.add_post("/webhooks/twilio/status", twilio_status_webhook)
    # A sender in a merchant's own Twilio account: its own path, checked with its token.
    app.router.add_post(
        "/webhooks/twilio/status/{channel:sms|whatsapp}/{ref:[A-Za-z0-9]{1,40}}",
        twilio_status_webhook,
    )
    app.router.add_post("/webhooks/stripe", stripe_webhook)


def _unavailable() -> web.Response:
    # TESTCASES 11: without a durable write we must not acknowledge, so the provider retries.
    return web.json_response({"error": "temporarily unavailable"}, status=503)


def _without_card_numbers(message: InboundMessage) -> InboundMessage:
    """A card number typed in chat is redacted before anything is stored (TESTCASES 65)."""
    text = mask_card_numbers(message.text)
    if text == message.text:
        return message
    flagged = {**message.extra, CARD_REDACTED_FLAG: "1"}
    return dataclasses.replace(message, text=text, extra=flagged)


def _inbound_event(message: InboundMessage, sender: str | None = None) -> Event:
    """`sender`: the merchant's own sender the message was addressed to (None: ours)."""
    message = _without_card_numbers(message)
    event_id = f"{message.channel.value}:{message.provider_id}"
    return events.encode(
        event_id, conversation_key(message.channel, message.address, sender), message
    )


async def _ingest_inbound(
    services: Services, message: InboundMessage, sender: str | None = None
) -> None:
    await _ingest_event(services, _inbound_event(message, sender))


async def _addressed_to(
    request: web.Request, channel: ChannelName, *candidates: str | None, fresh: bool = False
) -> MerchantSender | None:
    """Which merchant sender an inbound Twilio message was sent to (None: the platform's);
    remembered per process (bot.store.sender_routes), read again when `fresh`; while Redis is
    unavailable, from the senders this process has seen (`SenderRoutes.seen_sender`)."""
    routes = request.app[SENDER_ROUTES]
    try:
        return await routes.inbound_sender(channel, *candidates, fresh=fresh)
    except RedisError:
        found = routes.seen_sender(channel, *candidates)
        ref = found.ref if found else None
        log.warning("redis unavailable, inbound routed from memory", extra=log_fields(ref=ref))
        return found


async def _signed_sender(
    request: web.Request, form: dict[str, str], channel: ChannelName, *candidates: str | None
) -> tuple[MerchantSender | None, web.Response | None]:
    """The sender the message was sent to, and the refusal of a request not signed by its
    account (None: signed). A refusal on a remembered sender is checked again on a fresh read:
    a sender registered a moment ago may be in its own account."""
    sender = await _addressed_to(request, channel, *candidates)
    if _twilio_refusal(request, form, sender, quiet=True) is None:
        return sender, None
    sender = await _addressed_to(request, channel, *candidates, fresh=True)
    return sender, _twilio_refusal(request, form, sender)


async def _ingest_event(services: Services, event: Event, *, within: float | None = None) -> None:
    """Raises RedisError, also when Redis has not answered within `REDIS_SOCKET_TIMEOUT` (or
    `within` seconds, if fewer)."""
    async with bounded(services.settings, within):
        added = await ingest(services.bounded_redis, event)
    if not added:
        log.info("duplicate delivery ignored", extra=log_fields(event=event.id))


# Twilio waits 15 s for our answer (PROVIDERS T6); give Redis well under that, then spool
# (REDIS_SOCKET_TIMEOUT if fewer: bot.services.bounded).
SPOOL_AFTER_SECONDS = 5.0


async def _ingest_or_spool(
    request: web.Request, message: InboundMessage, sender: str | None = None
) -> bool:
    """Store an inbound message that its provider will never send again; False: could not.

    In Redis when it answers; else in the local spool, replayed when Redis is back. While the
    spool holds events, new ones queue behind them, so a conversation keeps its order.
    """
    services, spool = request.app[SERVICES], request.app[SPOOL]
    event = _inbound_event(message, sender)
    if not spool.pending():
        try:
            await _ingest_event(services, event, within=SPOOL_AFTER_SECONDS)
        except RedisError:
            log.warning("redis unavailable, spooling an inbound message", exc_info=True)
        else:
            return True
    try:
        spool.append(event)
    except OSError:
        log.exception("could not spool an inbound message")
        return False
    request.app[SPOOL_REPLAYER].wake()
    return True


async def _telegram_secret(
    request: web.Request, bot_id: str | None, *, fresh: bool = False
) -> str | None:
    """The secret this bot's updates carry: the platform's, or the merchant bot's (None: no
    such bot), its record remembered per process unless `fresh` (bot.store.sender_routes).
    Raises RedisError when it cannot be read."""
    services = request.app[SERVICES]
    if bot_id is None:
        return secret(services.settings.telegram_webhook_secret)
    routes = request.app[SENDER_ROUTES]
    found = await routes.inbound_sender(ChannelName.TELEGRAM, bot_id, fresh=fresh)
    if found is None or not found.sealed_secret:
        return None
    return services.secret_box.open(found.sealed_secret)


async def _telegram_refusal(
    request: web.Request, bot_id: str | None, header: str | None
) -> web.Response | None:
    """None when the update carries its bot's secret. A merchant bot's secret is checked
    again on a fresh read before refusing: the bot may have been registered (or its secret
    changed) a moment ago in another process."""
    for fresh in (False, True) if bot_id is not None else (False,):
        try:
            expected = await _telegram_secret(request, bot_id, fresh=fresh)
        except (RedisError, SecretsKeyError):
            log.exception("could not read a merchant bot's webhook secret")
            return _unavailable()  # Telegram retries (PROVIDERS G2)
        try:
            if expected is None:
                raise InvalidSignature("no such bot")
            verify_telegram_secret(header, expected)
        except InvalidSignature:
            continue
        return None
    log.warning("telegram webhook with a bad secret token", extra=log_fields(bot=bot_id))
    return web.json_response({"error": "forbidden"}, status=403)


async def telegram_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    bot_id = request.match_info.get("bot_id")
    refused = await _telegram_refusal(
        request, bot_id, request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    )
    if refused is not None:
        return refused
    try:
        message = parse_telegram_update(decode_json(await request.read()))
    except (ValueError, MalformedPayload) as exc:
        return web.json_response({"error": f"malformed update: {exc}"}, status=400)
    if message is None:
        return web.json_response({"ok": True, "ignored": True})
    try:
        if (token := start_token(message.text)) is not None:
            # A merchant's deep link: this chat is the customer's (bot/store/telegram_links).
            await bind_chat(services.redis, token, message.address)
        await _ingest_inbound(services, message, bot_id)
    except RedisError:
        log.exception("could not store a telegram update")
        return _unavailable()
    if message.kind is InboundKind.CHOICE and "callback_query_id" in message.extra:
        _in_background(request.app, _answer_choice(services, bot_id, message))
    return _json(OK)


async def _answer_choice(services: Services, bot_id: str | None, message: InboundMessage) -> None:
    """Stop the spinner of the button, with the bot the customer tapped it in."""
    bot = await services.telegram.bot_for(bot_id)
    await bot.answer_choice(message.extra["callback_query_id"])


async def _twilio_form(request: web.Request) -> dict[str, str] | web.Response:
    """The form as posted; read only to verify it and to know which account signed it."""
    if request.content_type != "application/x-www-form-urlencoded":
        return web.json_response({"error": "expected a form body"}, status=415)
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _twilio_refusal(
    request: web.Request,
    form: dict[str, str],
    sender: MerchantSender | None,
    *,
    quiet: bool = False,
) -> web.Response | None:
    """None when the request is signed with the token of the account its sender lives in:
    the merchant's own account for a sender registered with one, else the platform's. A
    platform signature is refused for a merchant account's sender, and the other way round.
    `quiet`: a first check that is tried again, so its refusal is not logged.
    """
    services = request.app[SERVICES]
    expected_account = services.settings.twilio_account_sid
    token = secret(services.settings.twilio_auth_token)
    if sender is not None and sender.account_sid is not None and sender.sealed_auth_token:
        expected_account = sender.account_sid
        try:
            token = services.secret_box.open(sender.sealed_auth_token)
        except SecretsKeyError:
            log.exception("a merchant's Twilio auth token does not open")
            return _unavailable()
    url = services.settings.public_base_url + request.path_qs
    try:
        verify_twilio_signature(
            url,
            form,
            request.headers.get("X-Twilio-Signature"),
            token,
            request.headers.get("X-Twilio-Webhooks-Signature-Settings"),
        )
        # Signed, so AccountSid is Twilio's word: a message of another account is not ours.
        account = form.get("AccountSid")
        if account is not None and expected_account and account != expected_account:
            raise InvalidSignature("AccountSid is not the sender's account")
    except InvalidSignature:
        if not quiet:
            log.warning("twilio webhook with a bad signature", extra=log_fields(path=request.path))
        return web.json_response({"error": "forbidden"}, status=403)
    return None


async def twilio_sms_webhook(request: web.Request) -> web.Response:
    form = await _twilio_form(request)
    if isinstance(form, web.Response):
        return form
    # A merchant's Messaging Service or number: that merchant's conversation with the customer,
    # signed by the merchant's own Twilio account when the sender lives in one.
    sender, refused = await _signed_sender(
        request, form, ChannelName.SMS, form.get("MessagingServiceSid"), form.get("To")
    )
    if refused is not None:
        return refused
    try:
        message = parse_inbound_sms(form)
    except MalformedPayload as exc:
        return web.json_response({"error": f"malformed message: {exc}"}, status=400)
    # Twilio does not retry a failed messaging webhook (T6): a 503 would lose the SMS.
    if not await _ingest_or_spool(request, message, sender.ref if sender else None):
        return _unavailable()
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


async def twilio_whatsapp_webhook(request: web.Request) -> web.Response:
    """A WhatsApp message: stored like an SMS, and it (re)opens the 24 h window."""
    services = request.app[SERVICES]
    form = await _twilio_form(request)
    if isinstance(form, web.Response):
        return form
    to = form.get("To")
    own, refused = await _signed_sender(
        request, form, ChannelName.WHATSAPP, phone_of(to) if to else None
    )
    if refused is not None:
        return refused
    if not services.settings.whatsapp_enabled:
        return web.json_response({"error": "whatsapp is not enabled"}, status=404)
    try:
        message = parse_inbound_whatsapp(form)
    except MalformedPayload as exc:
        return web.json_response({"error": f"malformed message: {exc}"}, status=400)
    sender = own.ref if own else None
    # Noted first: the customer did write, and the reply must find the window open.
    try:
        await whatsapp_window.note_inbound(
            services.redis, message.address, services.clock.now(), sender
        )
    except RedisError:
        # The window then looks closed: we send templates, which is always allowed.
        log.warning("could not note the whatsapp window", exc_info=True)
    if not await _ingest_or_spool(request, message, sender):
        return _unavailable()
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


async def twilio_status_webhook(request: web.Request) -> web.Response:
    """A delivery status. On `/webhooks/twilio/status` the platform's account signs it; on
    `/webhooks/twilio/status/<channel>/<sender>` the merchant's own account of that sender."""
    services = request.app[SERVICES]
    form = await _twilio_form(request)
    if isinstance(form, web.Response):
        return form
    own: MerchantSender | None = None
    if "ref" in request.match_info:
        channel = ChannelName(request.match_info["channel"])
        try:
            own = await senders.by_ref(
                services.redis, channel, senders.ref_from_path(request.match_info["ref"])
            )
        except RedisError:
            log.exception("could not read a merchant sender")
            return _unavailable()
        if own is None or own.account_sid is None:
            log.warning(
                "twilio status for no own-account sender", extra=log_fields(path=request.path)
            )
            return web.json_response({"error": "forbidden"}, status=403)
    refused = _twilio_refusal(request, form, own)
    if refused is not None:
        return refused
    try:
        report = parse_status_callback(form)
    except MalformedPayload as exc:
        return web.json_response({"error": f"malformed status: {exc}"}, status=400)
    try:
        if own is not None and not await outbox.sent_from(
            services.redis, report.provider_message_id, own.ref
        ):
            # Signed by that merchant's account, about a message another sender sent.
            log.warning("twilio status about another sender's message")
            return web.json_response({"error": "forbidden"}, status=403)
        if await outbox.record_delivery(services.redis, report):
            await delivery.announce(services.redis, report)
        await delivery.after_report(services.redis, report, services.clock.now())
    except RedisError:
        log.exception("could not store a delivery status")
        return _unavailable()
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


async def stripe_webhook(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    raw = await request.read()
    try:
        event = verify_stripe_event(
            raw,
            request.headers.get("Stripe-Signature"),
            services.settings.stripe_webhook_secrets,
            now=services.clock.now(),
        )
    except WebhookRejected as exc:
        log.warning("stripe webhook rejected", extra=log_fields(reason=str(exc)))
        return web.json_response({"error": "invalid signature or payload"}, status=400)
    try:
        return await _route_stripe_event(services, event)
    except RedisError:
        log.exception("could not store a stripe event")
        return _unavailable()


async def _route_stripe_event(services: Services, event: dict[str, object]) -> web.Response:
    if await offer_payments.route(services.redis, event):  # a flash sale's hold
        return _json(RECEIVED)
    routed = await route_stripe_event(
        services.redis,
        event,
        livemode=services.stripe.livemode,
        locations=services.invoice_locations,
    )
    if routed in ("ignored", "wrong_mode"):
        return web.json_response({"received": True, "ignored": True})
    if routed == "unmatched":
        return web.json_response({"received": True, "matched": False})
    return _json(RECEIVED)


def _in_background(app: web.Application, work: Coroutine[Any, Any, object]) -> None:
    task: asyncio.Future[object] = asyncio.ensure_future(work)
    tasks = app[BACKGROUND]
    tasks.add(task)
    task.add_done_callback(tasks.discard)
