"""Each merchant's own senders: an SMS number, alphanumeric sender ID or Messaging Service, a
WhatsApp number, a Telegram bot. Without one on a channel, the merchant uses the platform's.

A sender is known by its *ref*, what receives the customer's replies: the number, the Messaging
Service SID, the Telegram bot id. The ref is the sender part of the conversation key
(`bot.store.conversations`), so two merchants texting one customer from their own numbers have
two conversations, and an inbound message is routed by (channel, ref it was sent to, customer).

An alphanumeric sender ID ("MABOUTIQUE") cannot receive replies: it is registered with the
number customers write to (`reply_number`), which is its ref, and texts that ask for a STOP
name that number.

An SMS or WhatsApp sender may live in the merchant's own Twilio account (`account_sid` and
its auth token): Facto then sends with that account's credentials and checks the webhooks of
that sender with that account's token only.

A bot token, its webhook secret and a Twilio auth token are stored encrypted (Fernet,
`FACTO_SECRETS_KEY`) and never returned by the API.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from bot.settings import SecretBox
from bot.store import keys
from channels.base import ChannelName
from channels.twilio_sms import twilio_status_path
from channels.whatsapp_templates import required_sid_keys

E164 = re.compile(r"\+[1-9]\d{6,14}")
# Twilio: 1-11 characters, letters, digits and spaces, at least one letter; no spaces here,
# so the ID stays one word in keys and logs.
ALPHANUMERIC = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9]{1,11}")
MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
TELEGRAM_TOKEN = re.compile(r"(\d{1,20}):[A-Za-z0-9_-]{16,100}")
TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")  # setWebhook's alphabet (PROVIDERS G1)
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
# Twilio's are 32 hex digits; other letters are accepted for API keys' secrets and the sandbox.
AUTH_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


class SenderError(ValueError):
    """A sender that cannot be registered (bad value, no key to seal its secrets): 400."""


class SenderTaken(Exception):
    """That number, service or bot is another merchant's sender: 409."""


@dataclass(frozen=True, slots=True)
class MerchantSender:
    """One merchant's sender on one channel (secrets still sealed)."""

    merchant_id: str
    channel: ChannelName
    ref: str
    created_at: str
    from_: str | None = None  # SMS: number or alphanumeric ID; WhatsApp: number
    messaging_service_sid: str | None = None
    reply_number: str | None = None  # with an alphanumeric ID: where replies and STOP go
    sealed_token: str | None = None
    sealed_secret: str | None = None
    # SMS and WhatsApp: the merchant's own Twilio account (None: the platform's).
    account_sid: str | None = None
    sealed_auth_token: str | None = None
    # WhatsApp in its own account: the ContentSids its approved templates got there
    # ("facto_invoice:fr" -> "HX..."), since a ContentSid is its account's.
    content_sids: dict[str, str] | None = None

    @property
    def alphanumeric(self) -> bool:
        return self.from_ is not None and not self.from_.startswith("+")

    def public(self) -> dict[str, Any]:
        """What the API shows: never a token or a secret."""
        shown: dict[str, Any] = {"channel": self.channel.value, "created_at": self.created_at}
        if self.channel is ChannelName.TELEGRAM:
            shown["bot_id"] = self.ref
            shown["webhook_path"] = telegram_webhook_path(self.ref)
        else:
            shown["from"] = self.from_
            shown["messaging_service_sid"] = self.messaging_service_sid
            shown["reply_number"] = self.reply_number
            shown["account_sid"] = self.account_sid  # None: the platform's account
            if self.account_sid is not None:
                shown["status_callback_path"] = twilio_status_path(self.channel, self.ref)
            if self.content_sids is not None:
                shown["content_sids"] = dict(self.content_sids)
        return shown

    def to_json(self) -> str:
        return json.dumps(
            {
                "merchant_id": self.merchant_id,
                "channel": self.channel.value,
                "ref": self.ref,
                "created_at": self.created_at,
                "from": self.from_,
                "messaging_service_sid": self.messaging_service_sid,
                "reply_number": self.reply_number,
                "token": self.sealed_token,
                "secret": self.sealed_secret,
                "account_sid": self.account_sid,
                "auth_token": self.sealed_auth_token,
                "content_sids": self.content_sids,
            }
        )

    @classmethod
    def from_json(cls, raw: str) -> MerchantSender:
        data = json.loads(raw)
        return cls(
            merchant_id=data["merchant_id"],
            channel=ChannelName(data["channel"]),
            ref=data["ref"],
            created_at=data["created_at"],
            from_=data.get("from"),
            messaging_service_sid=data.get("messaging_service_sid"),
            reply_number=data.get("reply_number"),
            sealed_token=data.get("token"),
            sealed_secret=data.get("secret"),
            account_sid=data.get("account_sid"),
            sealed_auth_token=data.get("auth_token"),
            content_sids=data.get("content_sids"),
        )


def telegram_webhook_path(bot_id: str) -> str:
    return f"/webhooks/telegram/{bot_id}"


def ref_from_path(value: str) -> str:
    """The sender ref named by `twilio_status_path`'s last part."""
    return f"+{value}" if value.isdigit() else value


def build_sender(
    merchant_id: str,
    channel: ChannelName,
    fields: dict[str, Any],
    *,
    box: SecretBox,
    now: datetime,
) -> MerchantSender:
    """Validate what the merchant gave for `channel`; SenderError says what is wrong."""
    account = {"account_sid", "auth_token"}
    allowed = {
        ChannelName.SMS: {"from", "messaging_service_sid", "reply_number", *account},
        ChannelName.WHATSAPP: {"from", "content_sids", *account},
        ChannelName.TELEGRAM: {"token", "webhook_secret"},
    }[channel]
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise SenderError(f"unknown field(s) for {channel.value}: {', '.join(unknown)}")
    for name, value in fields.items():
        if name != "content_sids" and value is not None and not isinstance(value, str):
            raise SenderError(f"{name} must be a string")
    base: dict[str, Any] = {
        "merchant_id": merchant_id,
        "channel": channel,
        "created_at": now.isoformat(),
    }
    if channel is ChannelName.TELEGRAM:
        return _telegram_sender(base, fields, box)
    base.update(_twilio_account(fields, box))
    if channel is ChannelName.WHATSAPP:
        number = fields.get("from")
        if not number or not E164.fullmatch(number):
            raise SenderError("from must be the WhatsApp number in E.164 (+33...)")
        sids = _content_sids(fields.get("content_sids"), own_account="account_sid" in base)
        return MerchantSender(**base, ref=number, from_=number, content_sids=sids)
    return _sms_sender(base, fields)


def _content_sids(value: object, *, own_account: bool) -> dict[str, str] | None:
    """A WhatsApp sender in its own Twilio account sends the templates approved *there*:
    every template of `channels.whatsapp_templates`, each with its ContentSid."""
    if not own_account:
        if value is not None:
            raise SenderError("content_sids go with the merchant's own account_sid only")
        return None
    if not isinstance(value, dict):
        raise SenderError(
            "content_sids is required with an own Twilio account: an object of "
            '"<template>:<locale>": "HX..." for every template (README, WhatsApp)'
        )
    required = set(required_sid_keys())
    missing, unknown = sorted(required - set(value)), sorted(set(value) - required)
    if missing or unknown:
        raise SenderError(
            "content_sids must name every template once: "
            + "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"unknown {', '.join(unknown)}" if unknown else "",
                )
                if part
            )
        )
    if not all(isinstance(v, str) and CONTENT_SID.fullmatch(v) for v in value.values()):
        raise SenderError("each content_sids value must look like HX followed by 32 hex digits")
    return {str(k): str(v) for k, v in value.items()}


def _twilio_account(fields: dict[str, Any], box: SecretBox) -> dict[str, str]:
    """The merchant's own Twilio account, when given (both the SID and its auth token)."""
    sid, token = fields.get("account_sid"), fields.get("auth_token")
    if sid is None and token is None:
        return {}
    if not sid or not token:
        raise SenderError("give both account_sid and auth_token (the merchant's Twilio account)")
    if not ACCOUNT_SID.fullmatch(sid):
        raise SenderError("account_sid must look like AC followed by 32 hex digits")
    if not AUTH_TOKEN.fullmatch(token):
        raise SenderError("auth_token must be 16-128 characters of A-Z a-z 0-9 _ -")
    return {"account_sid": sid, "sealed_auth_token": box.seal(token)}


def _sms_sender(base: dict[str, Any], fields: dict[str, Any]) -> MerchantSender:
    sender, service, reply = (
        fields.get("from"),
        fields.get("messaging_service_sid"),
        fields.get("reply_number"),
    )
    if bool(sender) == bool(service):
        raise SenderError("give either from (a number or sender ID) or messaging_service_sid")
    if reply is not None and not E164.fullmatch(reply):
        raise SenderError("reply_number must be a number in E.164 (+33...)")
    if service:
        if not MESSAGING_SERVICE_SID.fullmatch(service):
            raise SenderError("messaging_service_sid must look like MG followed by 32 hex digits")
        if reply is not None:
            raise SenderError("reply_number goes with an alphanumeric sender ID only")
        return MerchantSender(**base, ref=service, messaging_service_sid=service)
    assert sender is not None
    if E164.fullmatch(sender):
        if reply is not None:
            raise SenderError("reply_number goes with an alphanumeric sender ID only")
        return MerchantSender(**base, ref=sender, from_=sender)
    if not ALPHANUMERIC.fullmatch(sender):
        raise SenderError(
            "from must be a number in E.164 or a sender ID of 1-11 letters and digits"
        )
    if reply is None:
        # Nobody can answer a sender ID: without a number, STOP and "payer" would go nowhere.
        raise SenderError("an alphanumeric sender ID needs a reply_number customers can text")
    return MerchantSender(**base, ref=reply, from_=sender, reply_number=reply)


def _telegram_sender(
    base: dict[str, Any], fields: dict[str, Any], box: SecretBox
) -> MerchantSender:
    token = fields.get("token")
    match = TELEGRAM_TOKEN.fullmatch(token or "")
    if match is None:
        raise SenderError("token must be a Telegram bot token (<bot id>:<secret>)")
    secret = fields.get("webhook_secret") or secrets.token_urlsafe(32)
    if not TELEGRAM_SECRET.fullmatch(secret):
        raise SenderError("webhook_secret must be 16-256 characters of A-Z a-z 0-9 _ -")
    assert token is not None
    return MerchantSender(
        **base,
        ref=match.group(1),
        sealed_token=box.seal(token),
        sealed_secret=box.seal(secret),
    )


# Take the sender's ref for this merchant, unless another merchant holds it. KEYS[1]: the
# sender record. ARGV: merchant id, record JSON. Returns 1 (stored) or 0 (another's).
_CLAIM = """
local current = redis.call('GET', KEYS[1])
if current and cjson.decode(current)['merchant_id'] ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


async def register(
    redis: aioredis.Redis, sender: MerchantSender, platform_refs: set[str]
) -> MerchantSender | None:
    """Make `sender` the merchant's sender on its channel; returns the one it replaces.

    The platform's own numbers and bot cannot be registered: their conversations are shared.
    The record first, then the merchant's index (two slots): a crash between them leaves a
    sender nobody sends from, never an index naming nothing.
    """
    if sender.ref in platform_refs:
        raise SenderTaken(f"{sender.ref} is the platform's sender")
    stored = await redis.eval(
        _CLAIM,
        1,
        keys.channel_sender(sender.channel.value, sender.ref),
        sender.merchant_id,
        sender.to_json(),
    )
    if not stored:
        raise SenderTaken("that sender belongs to another merchant")
    try:
        previous = await merchant_sender(redis, sender.merchant_id, sender.channel)
        await redis.hset(
            keys.merchant_senders(sender.merchant_id), sender.channel.value, sender.ref
        )
        if previous is not None and previous.ref != sender.ref:
            await redis.delete(keys.channel_sender(previous.channel.value, previous.ref))
    finally:
        # Inbound routing reads the record, live from its SET on: the other processes drop
        # what they remember of the number even when a later step failed.
        await _announce_change(redis, sender.channel, sender.ref)
    return previous if previous is not None and previous.ref != sender.ref else None


async def remove(
    redis: aioredis.Redis, merchant_id: str, channel: ChannelName
) -> MerchantSender | None:
    """Back to the platform's sender on `channel`; the removed sender, if there was one.

    Conversations on it keep their keys and transcripts; replies to it reach nobody's
    conversation any more (they land on the platform's) once the provider stops sending them.
    """
    previous = await merchant_sender(redis, merchant_id, channel)
    if previous is None:
        return None
    await redis.hdel(keys.merchant_senders(merchant_id), channel.value)
    await redis.delete(keys.channel_sender(channel.value, previous.ref))
    await _announce_change(redis, channel, previous.ref)
    return previous


async def _announce_change(redis: aioredis.Redis, channel: ChannelName, ref: str) -> None:
    """Tell every web process that inbound routing changed (bot.store.sender_routes): after
    the write, so what they read next is the new record."""
    await redis.publish(keys.SENDERS_CHANGED, f"{channel.value}:{ref}")


async def by_ref(redis: aioredis.Redis, channel: ChannelName, ref: str) -> MerchantSender | None:
    raw = await redis.get(keys.channel_sender(channel.value, ref))
    return MerchantSender.from_json(raw) if raw else None


async def merchant_sender(
    redis: aioredis.Redis, merchant_id: str, channel: ChannelName
) -> MerchantSender | None:
    ref = await redis.hget(keys.merchant_senders(merchant_id), channel.value)
    if ref is None:
        return None
    found = await by_ref(redis, channel, ref)
    return found if found is not None and found.merchant_id == merchant_id else None


async def merchant_refs(redis: aioredis.Redis, merchant_id: str) -> dict[str, str]:
    """channel -> ref of every own sender of the merchant (what invoices snapshot)."""
    found = await redis.hgetall(keys.merchant_senders(merchant_id))
    return {str(k): str(v) for k, v in found.items()}


async def all_of(redis: aioredis.Redis, merchant_id: str) -> list[MerchantSender]:
    found = []
    for channel in ChannelName:
        sender = await merchant_sender(redis, merchant_id, channel)
        if sender is not None:
            found.append(sender)
    return found


async def inbound_sender(
    redis: aioredis.Redis, channel: ChannelName, *candidates: str | None
) -> MerchantSender | None:
    """The merchant sender an inbound message was addressed to (the Messaging Service first,
    then the number), or None: the platform's sender received it."""
    for candidate in candidates:
        if candidate:
            found = await by_ref(redis, channel, candidate)
            if found is not None:
                return found
    return None
