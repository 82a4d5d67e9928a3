"""Twilio SMS: webhook signature and parsing, and an adapter wrapping the twilio SDK."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse, urlsplit, urlunsplit

import aiohttp
from multidict import MultiDict, MultiDictProxy
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    add_port,
    get_signature_algorithm,
    remove_port,
)
from twilio.rest import Client

from channels.base import (
    ChannelAdapter,
    ChannelError,
    ChannelName,
    DeliveryReport,
    DeliveryState,
    InboundKind,
    InboundMessage,
    InvalidSignature,
    MalformedPayload,
    NotSmsCapable,
    OptedOut,
    OutboundMessage,
    PermanentError,
    ProviderUnavailable,
    RateLimited,
    RecipientUnreachable,
    SenderResolver,
    SenderRoute,
    SendResult,
    resolve_route,
)
from channels.sms_text import is_gsm7, render_sms, segment_count

log = logging.getLogger(__name__)


def twilio_status_path(channel: ChannelName, ref: str) -> str:
    """Where Twilio reports on messages sent from a sender in a merchant's own Twilio
    account: its own path, so the callback is checked with that account's token only. A
    number's `+` is left out (`/webhooks/twilio/status/sms/33700000011`): plain ASCII."""
    return f"/webhooks/twilio/status/{channel.value}/{ref.removeprefix('+')}"


FormParams = Mapping[str, str] | MultiDict[str] | MultiDictProxy[str]

OPTED_OUT_CODES = frozenset({21610})
UNREACHABLE_CODES = frozenset({21211, 21612, 21614, 21635, 30006})
LANDLINE_CODES = frozenset({21635, 30006})  # the number cannot receive SMS at all


RATE_LIMIT_CODES = frozenset({20429})
REQUEST_TIMEOUT_SECONDS = 15
# Looking up a message whose sender died mid-call (`find_sent`): how far back the match may be
# created (clock skew between us and Twilio; dates are to the second), and how many to read.
FIND_SENT_SKEW = timedelta(seconds=2)
FIND_SENT_LIMIT = 100
FIND_SENT_RECENT = 20

_STATUS_MAP = {
    "accepted": DeliveryState.QUEUED,
    "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED,
    "sending": DeliveryState.SENDING,
    "sent": DeliveryState.SENT,
    "delivered": DeliveryState.DELIVERED,
    "undelivered": DeliveryState.UNDELIVERED,
    "failed": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
    "read": DeliveryState.READ,
}


def verify_twilio_signature(
    url: str,
    params: FormParams,
    signature: str | None,
    auth_token: str,
    settings_header: str | None = None,
) -> None:
    """Check `X-Twilio-Signature` over `url` (public base + path and query) and the form.

    `settings_header` is `X-Twilio-Webhooks-Signature-Settings`, which selects HMAC-SHA256.
    Accepts exactly what the SDK's `RequestValidator.validate` accepts (the URL with or
    without its port), but with one HMAC in the usual case: the URL as we were given it
    first, the other port variant only on a mismatch; the form is joined once for both.
    """
    if not signature:
        raise InvalidSignature("X-Twilio-Signature missing")
    digest = _HASHES.get(get_signature_algorithm(settings_header).upper())
    if digest is None:
        raise InvalidSignature("X-Twilio-Signature uses an algorithm we do not know")
    signed = _signed_form(params).encode()
    expected = signature.encode()
    key = auth_token.encode()
    for candidate in _signed_urls(url):
        mac = hmac.new(key, candidate.encode() + signed, digest)
        if hmac.compare_digest(base64.b64encode(mac.digest()), expected):
            return
    raise InvalidSignature("X-Twilio-Signature does not match")


_HASHES = {HMAC_SHA1: hashlib.sha1, HMAC_SHA256: hashlib.sha256}


@functools.lru_cache(maxsize=64)
def _signed_urls(url: str) -> tuple[str, ...]:
    """The URLs Twilio may have signed (without and with the port, as the SDK checks), the
    one equal to `url` first. Few distinct URLs per process (one per webhook path)."""
    parsed = urlparse(url)
    variants = (remove_port(parsed), add_port(parsed))
    if url in variants:
        return (url, *(v for v in variants if v != url))
    return variants


def _signed_form(params: FormParams) -> str:
    """The form as Twilio signs it: names sorted, each name's distinct values sorted."""
    if type(params) is dict:  # the webhooks' case: one value per name, nothing to sort
        return "".join([name + params[name] for name in sorted(params)])
    parts: list[str] = []
    for name in sorted(set(params)):
        values = params.getall(name) if isinstance(params, MultiDict | MultiDictProxy) else None
        for value in sorted(set(values if values is not None else [params[name]])):
            parts.append(name)
            parts.append(value)
    return "".join(parts)


def parse_inbound_sms(form: Mapping[str, str]) -> InboundMessage:
    """An incoming SMS (or MMS) webhook as an `InboundMessage`."""
    sid, sender = form.get("MessageSid"), form.get("From")
    if not sid or not sender:
        raise MalformedPayload("twilio inbound SMS without MessageSid or From")
    body = form.get("Body") or ""
    try:
        media = int(form.get("NumMedia") or 0)
    except ValueError as e:
        raise MalformedPayload("twilio NumMedia is not a number") from e
    kind = InboundKind.UNSUPPORTED if media > 0 and not body.strip() else InboundKind.TEXT
    return InboundMessage(
        channel=ChannelName.SMS, address=sender, provider_id=sid, kind=kind, text=body
    )


def parse_status_callback(form: Mapping[str, str]) -> DeliveryReport:
    """A status callback for a message we sent."""
    sid = form.get("MessageSid")
    # Older callbacks name it SmsStatus; both are present on current ones.
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise MalformedPayload("twilio status callback without MessageSid or MessageStatus")
    state = _STATUS_MAP.get(status.lower())
    if state is None:
        raise MalformedPayload(f"unknown twilio message status {status!r}")
    return DeliveryReport(
        provider_message_id=sid, state=state, error_code=form.get("ErrorCode") or None
    )


def rewrite_twilio_url(url: str, api_base: str) -> str:
    """Send a `*.twilio.com` URL to `api_base`, keeping the base's path prefix."""
    parts, base = urlsplit(url), urlsplit(api_base)
    host = parts.hostname or ""
    if host != "twilio.com" and not host.endswith(".twilio.com"):
        return url
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


def map_twilio_error(error: TwilioException) -> ChannelError:
    """Translate a Twilio REST error into our retry semantics."""
    status = getattr(error, "status", None)
    code = getattr(error, "code", None)
    message = f"twilio {status} (code {code}): {getattr(error, 'msg', '') or error!r}"
    if code in OPTED_OUT_CODES:
        return OptedOut(message)
    if code in LANDLINE_CODES:
        return NotSmsCapable(message)
    if code in UNREACHABLE_CODES:
        return RecipientUnreachable(message)
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimited(message, retry_after=None)
    if isinstance(status, int) and status >= 500:
        return ProviderUnavailable(message)
    return PermanentError(message)


def _retry_after(headers: Any) -> float | None:
    try:
        value = float(headers.get("Retry-After"))
    except (AttributeError, TypeError, ValueError):
        return None
    return value if value >= 0 else None


class FactoTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's documented extension point for transport: redirect hosts, own the session.

    Moves basic auth into a header (aiohttp 3.14 deprecates `auth=`), sets a total timeout on
    the session, and raises `RateLimited` itself on 429 because Twilio's exception drops the
    `Retry-After` header. It also encodes JSON bodies (the Content API's): twilio's sync client
    does, its async client hands the dict to aiohttp, which would form-encode it.
    """

    def __init__(
        self, api_base: str | None, *, timeout_seconds: float = REQUEST_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(pool_connections=False)
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_seconds))
        self._api_base = api_base
        self._timeout_seconds = timeout_seconds

    async def request(  # noqa: PLR0917 - twilio's signature, called positionally by twilio
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - part of twilio's interface
        allow_redirects: bool = False,
    ) -> Any:
        headers = dict(headers or {})
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        if self._api_base:
            url = rewrite_twilio_url(url, self._api_base)
        body: object = data
        if headers.get("Content-Type") == "application/json" and data is not None:
            body = json.dumps(data)
        response = await super().request(
            method,
            url,
            params=params,
            data=body,
            headers=headers,
            auth=None,
            # twilio passes timeout=None, which aiohttp reads as "no timeout at all" for this
            # request, overriding the session's: a provider that never answers would hold the
            # send (and the sender's batch) forever.
            timeout=timeout if timeout is not None else self._timeout_seconds,
            allow_redirects=allow_redirects,
        )
        if response.status_code == 429:
            raise RateLimited("twilio 429", retry_after=_retry_after(response.headers))
        return response


async def check_account(
    account_sid: str,
    auth_token: str,
    api_base: str | None,
    *,
    number: str | None = None,
    sms_url: str | None = None,
) -> None:
    """Ask Twilio whether these credentials open this account (a merchant's own account,
    before it is stored), and with `number`, that the number is one of the account's: its
    "A message comes in" is then pointed at `sms_url`. A `ChannelError` says why not
    (PermanentError on 20003, or for a number the account does not have)."""
    http = FactoTwilioHttpClient(api_base)
    try:
        client = Client(account_sid, auth_token, http_client=http)
        await client.api.v2010.accounts(account_sid).fetch_async()
        if number is not None:
            found = await client.incoming_phone_numbers.list_async(phone_number=number, limit=1)
            if not found:
                raise PermanentError(f"{number} is not a number of the account {account_sid}")
            if sms_url is not None:
                await client.incoming_phone_numbers(found[0].sid).update_async(
                    sms_url=sms_url, sms_method="POST"
                )
    except TwilioException as e:
        raise map_twilio_error(e) from e
    except (aiohttp.ClientError, TimeoutError) as e:
        raise ProviderUnavailable(f"twilio unreachable: {e!r}") from e
    finally:
        await http.close()


class TwilioClients:
    """The Twilio connection both adapters share the shape of: one HTTP transport, opened in
    `start` (it needs the running loop) and closed in `close`, and one twilio `Client` per
    account over it: the platform's, and the merchants' own accounts met while sending (a
    client is only credentials). A rotated token gets a new client."""

    def __init__(self, account_sid: str, auth_token: str, api_base: str | None) -> None:
        self._credentials = (account_sid, auth_token)
        self._api_base = api_base
        self._http: FactoTwilioHttpClient | None = None
        self._platform: Any = None
        self._own: dict[tuple[str, str], Any] = {}

    async def start(self) -> None:
        if self._http is not None:
            return
        # AsyncTwilioHttpClient opens an aiohttp session: this needs the running loop.
        self._http = FactoTwilioHttpClient(self._api_base)
        self._platform = Client(*self._credentials, http_client=self._http)

    async def close(self) -> None:
        http, self._http, self._platform = self._http, None, None
        self._own.clear()
        if http is not None:
            await http.close()

    def for_route(self, route: SenderRoute | None) -> Any:
        """The client of the account `route` sends from (None: the platform's)."""
        if self._http is None:
            raise RuntimeError("the Twilio adapter's start() was not awaited")
        if route is None or route.account_sid is None or route.auth_token is None:
            return self._platform
        key = (route.account_sid, route.auth_token)
        client = self._own.get(key)
        if client is None:
            if len(self._own) >= OWN_ACCOUNTS_CACHED:
                self._own.clear()  # rare: many merchant accounts on one process
            client = self._own[key] = Client(*key, http_client=self._http)
        return client


OWN_ACCOUNTS_CACHED = 1024


def status_callback_for(
    base_url: str | None, route: SenderRoute | None, path: str | None
) -> str | None:
    """The status callback of a send: a merchant's own account reports on its own path."""
    if base_url is None:
        return None
    if route is not None and route.account_sid is not None and path is not None:
        return base_url.rsplit("/webhooks/", 1)[0] + path
    return base_url


class TwilioSmsAdapter(ChannelAdapter):
    """Sends SMS through the twilio SDK, pointed at `api_base` (the sandbox) when given."""

    name = ChannelName.SMS

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base: str | None,
        status_callback_url: str | None,
        *,
        resolve: SenderResolver | None = None,
    ) -> None:
        self._resolve = resolve  # merchants' own senders
        self._from = from_number
        self._status_callback_url = status_callback_url
        self._clients = TwilioClients(account_sid, auth_token, api_base)

    async def start(self) -> None:
        await self._clients.start()

    async def close(self) -> None:
        await self._clients.close()

    async def send(self, message: OutboundMessage) -> SendResult:
        body = render_sms(message.text, message.buttons)
        route = await resolve_route(self._resolve, ChannelName.SMS, message.sender)
        params: dict[str, str] = {
            "to": message.address,
            "body": body,
            **self._origin(route),
        }
        callback = status_callback_for(
            self._status_callback_url,
            route,
            twilio_status_path(ChannelName.SMS, message.sender or ""),
        )
        if callback:
            params["status_callback"] = callback
        try:
            created = await self._clients.for_route(route).messages.create_async(**params)
        except TwilioException as e:
            raise map_twilio_error(e) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ProviderUnavailable(f"twilio unreachable: {e!r}") from e
        return SendResult(provider_message_id=str(created.sid), details=sms_details(body, created))

    def _origin(self, route: SenderRoute | None) -> dict[str, str]:
        """`from_` or `messaging_service_sid`: the merchant's own sender, else ours."""
        if route is None:
            return {"from_": self._from}
        if route.messaging_service_sid:
            return {"messaging_service_sid": route.messaging_service_sid}
        return {"from_": route.from_ or self._from}

    async def find_sent(
        self,
        message: OutboundMessage,
        since: datetime,
        others: Callable[[Sequence[str]], Awaitable[Collection[str]]] | None = None,
    ) -> str | None:
        """The SID of `message` if Twilio accepted it at or after `since`, else None.

        For a send whose sender died during the call (bot.engine.outbox): Twilio takes no
        idempotency key, but its Messages list, filtered by To, From and DateSent (a GMT day),
        shows what went out; a message still queued has no DateSent yet, so the newest few
        to that number are read too. A match is the same body, created at or after `since`
        (less a little clock skew): an identical earlier answer to the same number is not it.
        `others`: of the matching SIDs, those already another message's (the same answer sent a
        second before, within the skew), which are not it either.
        """
        body = render_sms(message.text, message.buttons)
        after = since - FIND_SENT_SKEW
        route = await resolve_route(self._resolve, ChannelName.SMS, message.sender)
        client = self._clients.for_route(route)  # the account that sent it
        # A Messaging Service sends from any number of its pool: matched on To and body only.
        sender = self._origin(route).get("from_")
        by_sender = {"from_": sender} if sender else {}
        try:
            sent = await client.messages.list_async(
                to=message.address,
                date_sent_after=after.astimezone(UTC).strftime("%Y-%m-%d"),
                limit=FIND_SENT_LIMIT,
                **by_sender,
            )
            newest = await client.messages.list_async(
                to=message.address, limit=FIND_SENT_RECENT, **by_sender
            )
        except TwilioException as e:
            raise map_twilio_error(e) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ProviderUnavailable(f"twilio unreachable: {e!r}") from e
        matches = list(
            dict.fromkeys(
                str(found.sid)
                for found in (*sent, *newest)
                if found.body == body
                and found.date_created is not None
                and found.date_created >= after
            )
        )
        taken = set(await others(matches)) if others is not None and matches else set()
        return next((sid for sid in matches if sid not in taken), None)


def sms_details(body: str, created: Any) -> dict[str, str]:
    """Encoding and segments as we computed them (what the carrier bills), and the price when
    Twilio already knows it (usually later; the sandbox gives one at once)."""
    details = {
        "encoding": "GSM-7" if is_gsm7(body) else "UCS-2",
        "segments": str(segment_count(body)),
    }
    price, unit = getattr(created, "price", None), getattr(created, "price_unit", None)
    if price is not None:
        details["price"] = str(price)
        details["price_unit"] = str(unit or "")
    return details
