"""The neutral message model that crosses the channel boundary, and typed delivery errors.

Adapters translate provider payloads into `InboundMessage` and render `OutboundMessage`
into what their channel can show; nothing outside `channels/` sees a provider type.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


class ChannelName(enum.StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"


class InboundKind(enum.StrEnum):
    TEXT = "text"  # the customer typed something
    CHOICE = "choice"  # the customer tapped a button (payload carries its action)
    UNSUPPORTED = "unsupported"  # sticker, photo, edit...: we can only read text


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One thing a customer did on a channel, already verified and parsed. It is also the
    payload of its pipeline event, whose wire `type` is `TYPE` (bot.engine.events)."""

    TYPE: ClassVar[str] = "inbound"

    channel: ChannelName
    address: str  # E.164 phone for SMS and WhatsApp, chat id for Telegram
    provider_id: str  # MessageSid / update_id: the dedupe key
    kind: InboundKind
    text: str = ""
    payload: str | None = None  # button action for CHOICE
    language_code: str | None = None  # Telegram's hint, when it gives one
    extra: dict[str, str] = field(default_factory=dict)  # e.g. callback_query_id


@dataclass(frozen=True, slots=True)
class Button:
    """A choice offered to the customer: an action sent back to us, or a link to open."""

    label: str
    action: str | None = None  # <= 64 bytes (Telegram callback_data)
    url: str | None = None


@dataclass(frozen=True, slots=True)
class TemplateUse:
    """The approved template that says the same as a message's text, with its variables.

    Filled in when the message has one (invoice, reminders, links, receipts): a channel that
    may only send approved templates at times (WhatsApp outside its 24 h window) sends this.
    """

    name: str
    locale: str
    variables: tuple[tuple[str, str], ...]  # ("1", "Camille"), ... in template order

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "locale": self.locale, "variables": dict(self.variables)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemplateUse:
        variables = data.get("variables") or {}
        return cls(
            name=str(data["name"]),
            locale=str(data["locale"]),
            variables=tuple((str(k), str(v)) for k, v in variables.items()),
        )


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A rendered message ready for one channel; `idempotency_key` makes it send-once."""

    channel: ChannelName
    address: str
    text: str
    idempotency_key: str
    buttons: tuple[Button, ...] = ()
    template: TemplateUse | None = None
    # The merchant's own sender that carries it (number, Messaging Service SID, bot id), from
    # its conversation; None: the platform's. Set when the outbox sends, never stored.
    sender: str | None = None
    # Not a new message: take the buttons off the message the provider knows by this id (a
    # Telegram message of a settled invoice). Only the Telegram adapter accepts it.
    remove_buttons_of: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "channel": self.channel.value,
            "address": self.address,
            "text": self.text,
            "idempotency_key": self.idempotency_key,
            "buttons": [
                {"label": b.label, "action": b.action, "url": b.url} for b in self.buttons
            ],
        }
        if self.template is not None:
            data["template"] = self.template.to_dict()
        if self.remove_buttons_of is not None:
            data["remove_buttons_of"] = self.remove_buttons_of
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutboundMessage:
        return cls(
            channel=ChannelName(data["channel"]),
            address=str(data["address"]),
            text=str(data["text"]),
            idempotency_key=str(data["idempotency_key"]),
            buttons=tuple(
                Button(label=b["label"], action=b.get("action"), url=b.get("url"))
                for b in data.get("buttons") or ()
            ),
            template=TemplateUse.from_dict(data["template"]) if data.get("template") else None,
            remove_buttons_of=data.get("remove_buttons_of"),
        )


@dataclass(frozen=True, slots=True)
class SenderRoute:
    """How to send from a merchant's own sender: its number or alphanumeric ID, or its
    Messaging Service, or its Telegram bot token (opened only for the send)."""

    from_: str | None = None
    messaging_service_sid: str | None = None
    token: str | None = None
    # SMS and WhatsApp in the merchant's own Twilio account (None: the platform's).
    account_sid: str | None = None
    auth_token: str | None = None
    # WhatsApp in its own account: its templates' ContentSids there (None: the platform's).
    content_sids: Mapping[str, str] | None = None


class SenderResolver(Protocol):
    """The route of a merchant sender by its ref (`OutboundMessage.sender`); None: unknown."""

    async def __call__(self, channel: ChannelName, ref: str) -> SenderRoute | None: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    provider_message_id: str
    # What the send cost and how it was encoded (SMS: encoding, segments, price), kept on the
    # outbound record.
    details: Mapping[str, str] = field(default_factory=dict)


class ChannelError(Exception):
    """A send failed; subclasses say whether and when to try again, and whether the message
    may be re-sent on the customer's other channel once we give up on it."""

    retryable = False
    falls_back = True


class RateLimited(ChannelError):
    retryable = True

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailable(ChannelError):
    """5xx or a connection failure: try again later with backoff."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RecipientUnreachable(ChannelError):
    """Blocked the bot, landline, unknown number: never retry this message."""


class NotSmsCapable(RecipientUnreachable):
    """The number cannot receive SMS (a landline or unreachable carrier, Twilio 30006/21635):
    never retried; the message goes to the customer's next channel, if there is one."""


class OptedOut(ChannelError):
    """The provider refuses because the recipient opted out (Twilio 21610): recorded in the
    consent registry; the customer said STOP, so no other channel is tried either."""

    falls_back = False


class MarketingOptedOut(ChannelError):
    """WhatsApp refused a marketing message: the user stopped this business's marketing
    messages inside WhatsApp (Meta 131050). Recorded for WhatsApp only; transactional
    messages still go, and marketing is not re-sent elsewhere."""

    falls_back = False


class Blocked(ChannelError):
    """The customer blocked our WhatsApp sender (63014): respected, nothing is re-sent."""

    falls_back = False


class OutsideWindow(ChannelError):
    """WhatsApp refuses free text outside the 24 h window (63016, 131047) and the message has
    no approved template: only another channel can carry it."""


class PermanentError(ChannelError):
    """Any other 4xx: a bug or bad data; do not retry, alert."""


async def resolve_route(
    resolver: SenderResolver | None, channel: ChannelName, ref: str | None
) -> SenderRoute | None:
    """The route of `ref` (None: the platform's sender); PermanentError when nobody has it
    any more (the merchant removed it): that message cannot go out from it."""
    if ref is None:
        return None
    route = await resolver(channel, ref) if resolver is not None else None
    if route is None:
        raise PermanentError(f"{channel.value} sender {ref} is not registered")
    return route


class InvalidSignature(Exception):
    """A webhook whose signature does not verify: 403, nothing stored."""


class MalformedPayload(Exception):
    """A verified webhook whose body we cannot read: 400."""


class DeliveryState(enum.StrEnum):
    """Outbound delivery states, ranked so a late or duplicate callback never moves back."""

    PENDING = "pending"
    SENDING = "sending"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    READ = "read"

    @property
    def rank(self) -> int:
        return _DELIVERY_RANK[self]


_DELIVERY_RANK = {
    DeliveryState.PENDING: 0,
    DeliveryState.SENDING: 1,
    DeliveryState.QUEUED: 2,
    DeliveryState.SENT: 3,
    DeliveryState.UNDELIVERED: 4,
    DeliveryState.FAILED: 4,
    DeliveryState.DELIVERED: 5,
    DeliveryState.READ: 6,
}


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A provider's word on a message we sent (Twilio status callback)."""

    provider_message_id: str
    state: DeliveryState
    error_code: str | None = None


class ChannelAdapter(Protocol):
    """What the outbox needs from a channel: a lifecycle and a send."""

    name: ChannelName

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message or raise a `ChannelError` subclass."""
        ...
