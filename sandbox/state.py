"""In-memory state of the sandbox emulators (one per web process; lost on restart)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.clock import Clock, SystemClock
from channels.base import Button, ChannelName
from channels.whatsapp_templates import sandbox_content_sids
from sandbox.stripe_model import CheckoutSession, Dispute, PaymentIntent, Refund

Sender = Literal["bot", "customer"]


@dataclass(frozen=True, slots=True)
class WebhookPaths:
    """Where the emulators deliver, relative to PUBLIC_BASE_URL (Telegram uses setWebhook's
    URL instead once the bot has called it)."""

    sms: str = "/webhooks/twilio/sms"
    whatsapp: str = "/webhooks/twilio/whatsapp"
    telegram: str = "/webhooks/telegram"
    stripe: str = "/webhooks/stripe"


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    channel: ChannelName
    address: str
    language_code: str = "fr"


@dataclass(slots=True)
class ChatEntry:
    """One message on a simulated phone, from the bot or from the customer."""

    channel: ChannelName
    address: str
    sender: Sender
    text: str
    time: datetime
    message_id: str
    buttons: tuple[Button, ...] = ()
    status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def peer(self) -> str:
        """Our side of the chat as the customer's phone shows it: the number (or sender ID)
        an SMS or WhatsApp message came from or went to, or the Telegram bot's id."""
        if self.channel is ChannelName.TELEGRAM:
            return str(self.extra.get("bot") or "")
        side = self.extra.get("from") if self.sender == "bot" else self.extra.get("to")
        return str(side or "").removeprefix("whatsapp:")

    def to_api(self) -> dict[str, Any]:
        """The public shape of `GET /sandbox/api/messages`."""
        shape: dict[str, Any] = {
            "text": self.text,
            "buttons": [
                {"label": b.label, "action": b.action, "url": b.url} for b in self.buttons
            ],
            "time": self.time.isoformat(),
        }
        if self.channel is ChannelName.WHATSAPP and self.sender == "bot":
            shape["template"] = self.extra.get("template")  # None: free-form (in the window)
        shape["peer"] = self.peer
        return shape


@dataclass(slots=True)
class Fault:
    """How the next sends on a channel misbehave: an error status, a delay, or both.

    `status=None` with a `delay` is a slow provider that still accepts the message. A fault
    with `until` is a window on the sandbox clock (an outage): every send before that time
    gets it, whatever `remaining` says.
    """

    status: int | None
    remaining: int
    retry_after: float | None = None
    code: int | None = None  # Twilio error code override
    delay: float = 0.0  # seconds of real latency before answering
    until: datetime | None = None
    # Twilio: accepted (201), then the status callback says "undelivered" with this code.
    undelivered: int | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "code": self.code,
            "delay": self.delay,
            "until": self.until.isoformat() if self.until else None,
            "undelivered": self.undelivered,
        }


@dataclass(frozen=True, slots=True)
class Content:
    """A Content API resource: an approved template (by name) or a session content's types."""

    sid: str
    template: str | None = None  # channels.whatsapp_templates name, for approved templates
    locale: str | None = None
    types: dict[str, Any] = field(default_factory=dict)
    account: str | None = None  # the account that created a session content

    @property
    def approved(self) -> bool:
        return self.template is not None


def _approved_templates() -> dict[str, Content]:
    contents = {}
    for key, sid in sandbox_content_sids().items():
        name, _, locale = key.partition(":")
        contents[sid] = Content(sid=sid, template=name, locale=locale)
    return contents


@dataclass(slots=True)
class StoredResponse:
    """What a Stripe POST answered, replayed for the same Idempotency-Key."""

    endpoint: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass(slots=True)
class StripeEvent:
    id: str
    type: str
    session_id: str | None
    payload: str  # serialised once: redeliveries send exactly these bytes
    deliveries: list[int | None] = field(default_factory=list)
    created: int = 0

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "session_id": self.session_id,
            "deliveries": list(self.deliveries),
        }


@dataclass(slots=True)
class TelegramWebhook:
    url: str
    secret: str | None
    allowed_updates: tuple[str, ...] = ()


@dataclass
class SandboxState:
    """Everything the emulators remember. Create one per web process and pass it to
    `create_sandbox_app`; pass the bot's clock so session expiry follows the same time."""

    clock: Clock = field(default_factory=SystemClock)
    webhook_paths: WebhookPaths = field(default_factory=WebhookPaths)
    contacts: dict[tuple[ChannelName, str], Contact] = field(default_factory=dict)
    entries: list[ChatEntry] = field(default_factory=list)
    faults: dict[ChannelName, list[Fault]] = field(default_factory=dict)
    sessions: dict[str, CheckoutSession] = field(default_factory=dict)
    events: dict[str, StripeEvent] = field(default_factory=dict)  # oldest first
    payment_intents: dict[str, PaymentIntent] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)
    idempotency: dict[str, StoredResponse] = field(default_factory=dict)
    telegram_webhook: TelegramWebhook | None = None
    # Merchants' own senders the emulated providers know (issue 7): numbers bought beside the
    # platform's, Messaging Services (SID -> the pool number that sends), and bot tokens
    # BotFather gave (token -> its webhook, once set). A number or service lives in the
    # platform's Twilio account unless `number_accounts` / `service_accounts` names another
    # account of `twilio_accounts` (SID -> its auth token): a merchant's own Twilio account.
    twilio_numbers: set[str] = field(default_factory=set)
    twilio_services: dict[str, str] = field(default_factory=dict)
    twilio_accounts: dict[str, str] = field(default_factory=dict)
    number_accounts: dict[str, str] = field(default_factory=dict)
    service_accounts: dict[str, str] = field(default_factory=dict)
    number_sms_urls: dict[str, str] = field(default_factory=dict)  # "A message comes in"
    telegram_bots: dict[str, TelegramWebhook | None] = field(default_factory=dict)
    callback_queries: dict[str, bool] = field(default_factory=dict)  # id -> answered
    edits: list[tuple[str, str]] = field(default_factory=list)  # Telegram keyboards edited
    send_requests: Counter[ChannelName] = field(default_factory=Counter)  # every send call
    contents: dict[str, Content] = field(default_factory=_approved_templates)  # Content API
    _faults_cleared: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _update_ids: dict[str, itertools.count[int]] = field(
        default_factory=dict, init=False, repr=False
    )
    _message_ids: dict[str, itertools.count[int]] = field(
        default_factory=dict, init=False, repr=False
    )

    def add_contact(
        self, name: str, channel: ChannelName, address: str, language_code: str = "fr"
    ) -> None:
        """Register a demo customer so the phone simulator lists them."""
        channel = ChannelName(channel)
        self.contacts[(channel, address)] = Contact(name, channel, address, language_code)

    def contact(self, channel: ChannelName, address: str) -> Contact | None:
        return self.contacts.get((channel, address))

    def add_twilio_account(self, account_sid: str, auth_token: str) -> None:
        """A Twilio account of a merchant's own (its API calls and webhooks use its token)."""
        self.twilio_accounts[account_sid] = auth_token

    def approve_templates(self, account_sid: str) -> dict[str, str]:
        """Every template of `channels.whatsapp_templates`, approved in a merchant's own
        account under ContentSids of that account: what the merchant registers."""
        sids = {}
        for key in sandbox_content_sids():
            name, _, locale = key.partition(":")
            digest = hashlib.sha256(f"{account_sid}:{key}".encode()).hexdigest()[:32]
            sid = sids[key] = "HX" + digest
            self.contents[sid] = Content(
                sid=sid, template=name, locale=locale, account=account_sid
            )
        return sids

    def add_twilio_number(self, number: str, account_sid: str | None = None) -> None:
        """A number bought in `account_sid` (None: the platform's account)."""
        self.twilio_numbers.add(number)
        if account_sid is not None:
            self.number_accounts[number] = account_sid

    def add_twilio_service(
        self, service_sid: str, number: str, account_sid: str | None = None
    ) -> None:
        """A Messaging Service sending from `number`, in `account_sid` (None: the platform's)."""
        self.twilio_services[service_sid] = number
        if account_sid is not None:
            self.service_accounts[service_sid] = account_sid

    def record(self, entry: ChatEntry) -> ChatEntry:
        self.entries.append(entry)
        return entry

    def conversation(self, channel: ChannelName, address: str) -> list[ChatEntry]:
        """Both sides of one chat, oldest first."""
        return [e for e in self.entries if e.channel == channel and e.address == address]

    def thread(self, channel: ChannelName, address: str, peer: str) -> list[ChatEntry]:
        """One thread of the customer's phone: the chat with one of our senders (`peer`: a
        number, a sender ID or a bot id, as `ChatEntry.peer` gives it), oldest first."""
        return [e for e in self.conversation(channel, address) if e.peer == peer]

    def peers(self, channel: ChannelName, address: str) -> list[str]:
        """The senders this customer has a thread with, first seen first."""
        return list(dict.fromkeys(e.peer for e in self.conversation(channel, address) if e.peer))

    def last_customer_message(
        self, channel: ChannelName, address: str, peer: str
    ) -> datetime | None:
        """When the customer last wrote to `peer` (one of our senders). WhatsApp's window is
        per pair: writing to merchant A's number opens nothing for merchant B's."""
        times = [e.time for e in self.thread(channel, address, peer) if e.sender == "customer"]
        return max(times) if times else None

    def bot_messages(self, channel: ChannelName, address: str) -> list[ChatEntry]:
        return [e for e in self.conversation(channel, address) if e.sender == "bot"]

    def find_bot_message(
        self, channel: ChannelName, message_id: str, address: str | None = None
    ) -> ChatEntry | None:
        """A message the bot sent; Telegram ids are only unique within one chat (`address`)."""
        for entry in reversed(self.entries):
            same_chat = address is None or entry.address == address
            if same_chat and (entry.channel, entry.sender, entry.message_id) == (
                channel,
                "bot",
                message_id,
            ):
                return entry
        return None

    def add_fault(self, channel: ChannelName, fault: Fault) -> None:
        self.faults.setdefault(channel, []).append(fault)

    def take_fault(self, channel: ChannelName) -> Fault | None:
        """Count one send on `channel` and consume the fault scheduled for it, if any."""
        self.send_requests[channel] += 1
        queue = self.faults.get(channel) or []
        now = self.clock.now()
        while queue and queue[0].until is not None and queue[0].until <= now:
            queue.pop(0)  # an outage window that has ended
        if not queue:
            return None
        fault = queue[0]
        if fault.until is not None:
            return fault
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    def clear_faults(self) -> None:
        """End every fault, including the delays of requests being held right now."""
        self.faults.clear()
        self._faults_cleared.set()
        self._faults_cleared = asyncio.Event()

    async def hold(self, fault: Fault) -> None:
        """The fault's latency: real seconds, cut short when the faults are cleared."""
        if fault.delay <= 0:
            return
        cleared = self._faults_cleared
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(cleared.wait(), timeout=fault.delay)

    def next_update_id(self, bot_id: str = "") -> int:
        """Telegram numbers updates per bot (PROVIDERS G3)."""
        return next(self._update_ids.setdefault(bot_id, itertools.count(1)))

    def next_message_id(self, chat_id: str) -> int:
        """Telegram numbers messages per chat, shared by both sides of it."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))
