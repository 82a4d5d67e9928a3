"""The only place that calls Stripe's API: Checkout Sessions for an invoice or an instalment.

The SDK client is wrapped (composition) and used through its `*_async` methods only. Every
create carries a caller-chosen deterministic idempotency key: the SDK's own random key only
covers retries inside one call, not a re-queued job (PROVIDERS S11).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from payments.instalments import is_valid_purpose
from payments.money import currency_exponent, parse_minor

# The SDK (a few hundred modules) is imported by the first call to Stripe, not by every
# process that holds a gateway: a worker restarting with a backlog replies to customers long
# before it has a payment to look up (issue 12).
if TYPE_CHECKING:
    import stripe
    from stripe._v1_services import V1Services
    from stripe.checkout import Session, SessionService
    from stripe.params import EventListParams, RefundCreateParams
    from stripe.params.checkout import (
        SessionCreateParams,
        SessionCreateParamsLineItemPriceData,
        SessionListParams,
    )

__all__ = [
    "CheckoutSession",
    "PaymentObjects",
    "PaymentProviderError",
    "StripeGateway",
    "checkout_session_from",
]

_LOCALES = frozenset({"fr", "en", "auto"})


class PaymentProviderError(Exception):
    """Stripe refused or could not be reached. Retry only when `retryable` is true."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        code: str | None = None,
        http_status: int | None = None,
        key_reused: bool = False,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code
        self.http_status = http_status
        # The idempotency key was used before with other parameters (Stripe's
        # idempotency_error): unlike any other refusal, something WAS made under that key.
        self.key_reused = key_reused


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    url: str | None  # None once the session is complete or expired
    status: str  # "open" | "complete" | "expired"
    payment_status: str  # "paid" | "unpaid" | "no_payment_required"
    amount_total: int
    currency: str  # uppercase ISO 4217
    expires_at: datetime
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PaymentObjects:
    """One payment retrieved again, as plain dicts: the Checkout Session, its PaymentIntent
    (None while the session is open or once it expired), the PaymentIntent's refunds and
    disputes. `payments.ledger.facts_from_objects` reads them."""

    session: dict[str, Any]
    intent: dict[str, Any] | None = None
    refunds: tuple[dict[str, Any], ...] = ()
    disputes: tuple[dict[str, Any], ...] = ()


def checkout_session_from(data: Mapping[str, Any]) -> CheckoutSession:
    """Our value object from a Stripe session (as a plain dict); ValueError if malformed."""
    try:
        metadata = data.get("metadata") or {}
        return CheckoutSession(
            id=_typed(data["id"], str),
            url=data.get("url") if isinstance(data.get("url"), str) else None,
            status=_typed(data["status"], str),
            payment_status=_typed(data["payment_status"], str),
            amount_total=parse_minor(data["amount_total"]),
            currency=_typed(data["currency"], str).upper(),
            expires_at=datetime.fromtimestamp(parse_minor(data["expires_at"]), UTC),
            metadata={str(k): str(v) for k, v in dict(metadata).items()},
        )
    except (KeyError, TypeError, ValueError) as e:
        msg = f"malformed Checkout Session from Stripe: {e}"
        raise ValueError(msg) from e


def _typed(value: object, kind: type[str]) -> str:
    if not isinstance(value, kind):
        msg = f"expected {kind.__name__}, got {type(value).__name__}"
        raise TypeError(msg)
    return value


def _provider_error(e: stripe.StripeError) -> PaymentProviderError:
    import stripe

    status = e.http_status
    # Rate limits, network failures and Stripe-side 5xx may succeed later with the same
    # idempotency key; invalid requests, auth errors and idempotency conflicts never will.
    retryable = isinstance(
        e, (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError)
    ) or (status is not None and status >= 500)
    if isinstance(e, stripe.IdempotencyError):
        retryable = False
    message = f"stripe {type(e).__name__} (status {status}, code {e.code}): {e.user_message}"
    return PaymentProviderError(
        message,
        retryable=retryable,
        code=e.code,
        http_status=status,
        key_reused=isinstance(e, stripe.IdempotencyError),
    )


class StripeGateway:
    """Checkout Sessions through one long-lived `stripe.StripeClient` per process."""

    def __init__(
        self,
        api_key: str,
        api_base: str,
        *,
        max_network_retries: int = 2,
        timeout_seconds: float = 20.0,
    ) -> None:
        if not api_key:
            msg = "a Stripe API key is required"
            raise ValueError(msg)
        self._api_key = api_key
        self._api_base = api_base.rstrip("/")
        self._retries = max_network_retries
        self._timeout = timeout_seconds
        self._http: stripe.AIOHTTPClient | None = None
        self._client: stripe.StripeClient | None = None
        self._started = False

    @property
    def livemode(self) -> bool:
        """The mode of the key: events of the other mode are not ours (TESTCASES 6)."""
        return not self._api_key.startswith(("sk_test_", "rk_test_"))

    async def start(self) -> None:
        """Allow calls; the client is made by the first one (`_v1`), inside the running loop
        (its aiohttp session binds to it)."""
        self._started = True

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close_async()  # type: ignore[no-untyped-call]  # untyped in stripe
        self._http = None
        self._client = None
        self._started = False

    def _v1(self) -> V1Services:
        if not self._started:
            msg = "StripeGateway.start() was not awaited"
            raise RuntimeError(msg)
        if self._client is None:
            import stripe

            self._http = stripe.AIOHTTPClient(timeout=self._timeout)
            self._client = stripe.StripeClient(
                self._api_key,
                base_addresses={"api": self._api_base},
                http_client=self._http,
                max_network_retries=self._retries,
            )
        return self._client.v1

    def _sessions(self) -> SessionService:
        return self._v1().checkout.sessions

    async def create_checkout_session(
        self,
        *,
        amount: int,
        currency: str,
        description: str,
        invoice_id: str,
        merchant_id: str,
        purpose: str,
        idempotency_key: str,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        locale: str,
    ) -> CheckoutSession:
        """One-line Checkout Session for `amount` minor units; same key → same session."""
        _check_create(
            amount=amount,
            currency=currency,
            purpose=purpose,
            idempotency_key=idempotency_key,
            expires_at=expires_at,
            locale=locale,
        )
        metadata = {"invoice_id": invoice_id, "merchant_id": merchant_id, "purpose": purpose}
        price_data: SessionCreateParamsLineItemPriceData = {
            "currency": currency.lower(),
            "unit_amount": amount,
            "product_data": {"name": description},
        }
        params: SessionCreateParams = {
            "mode": "payment",
            "client_reference_id": invoice_id,
            "metadata": metadata,
            # Also on the PaymentIntent, where the reconciliation sweep looks (TESTCASES 13).
            "payment_intent_data": {"metadata": metadata},
            "line_items": [{"quantity": 1, "price_data": price_data}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
            "locale": cast("Any", locale),  # validated against _LOCALES above
        }
        with _mapped_errors():
            session = await self._sessions().create_async(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _from_sdk(session)

    async def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        with _mapped_errors():
            session = await self._sessions().retrieve_async(session_id)
        return _from_sdk(session)

    async def expire_checkout_session(self, session_id: str) -> CheckoutSession:
        """Expire an open session; Stripe refuses other states (a non-retryable error)."""
        with _mapped_errors():
            session = await self._sessions().expire_async(session_id)
        return _from_sdk(session)

    async def find_checkout_session(
        self, client_reference_id: str, *, created_from: datetime, created_to: datetime
    ) -> CheckoutSession | None:
        """The session created between the two times with this `client_reference_id` (a
        caller that lost a create's answer finds its session; Stripe lists sessions by time,
        not by reference, so every page of that interval is read)."""
        params: SessionListParams = {
            "created": {"gte": int(created_from.timestamp()), "lte": int(created_to.timestamp())},
            "limit": 100,
        }
        with _mapped_errors():
            page = await self._sessions().list_async(params)
            async for session in page.auto_paging_iter():
                if session.client_reference_id == client_reference_id:
                    return _from_sdk(session)
        return None

    async def retrieve_payment(self, session_id: str) -> PaymentObjects:
        """Everything Stripe knows now about the payment of one session (design rule 2)."""
        with _mapped_errors():
            session = (await self._sessions().retrieve_async(session_id)).to_dict()
            intent_id = session.get("payment_intent")
            if not isinstance(intent_id, str) or not intent_id:
                return PaymentObjects(session)
            v1 = self._v1()
            intent = await v1.payment_intents.retrieve_async(intent_id)
            refunds = await v1.refunds.list_async({"payment_intent": intent_id, "limit": 100})
            disputes = await v1.disputes.list_async({"payment_intent": intent_id, "limit": 100})
            return PaymentObjects(
                session,
                intent.to_dict(),
                tuple([r.to_dict() async for r in refunds.auto_paging_iter()]),
                tuple([d.to_dict() async for d in disputes.auto_paging_iter()]),
            )

    async def session_for_payment_intent(self, payment_intent: str) -> str | None:
        """The Checkout Session that created a PaymentIntent (refund and dispute events
        name only the PaymentIntent)."""
        with _mapped_errors():
            page = await self._sessions().list_async(
                {"payment_intent": payment_intent, "limit": 1}
            )
        return page.data[0].id if page.data else None

    async def events_since(
        self, types: Sequence[str], checkpoint: str | None, *, page_size: int = 100
    ) -> list[dict[str, Any]]:
        """Events of `types` newer than `checkpoint` (all Stripe still has when None),
        oldest first, every page (TESTCASES 12)."""
        params: EventListParams = {"types": list(types), "limit": page_size}
        if checkpoint is not None:
            params["ending_before"] = checkpoint
        with _mapped_errors():
            page = await self._v1().events.list_async(params)
            events = [event.to_dict() async for event in page.auto_paging_iter()]
        # Without a cursor Stripe lists newest first; with ending_before the SDK walks towards
        # the newest, oldest first.
        return events if checkpoint is not None else events[::-1]

    async def refund(
        self, payment_intent: str, amount: int | None, idempotency_key: str
    ) -> dict[str, Any]:
        """Refund all (amount None) or part of a payment; same key → the same refund."""
        params: RefundCreateParams = {"payment_intent": payment_intent}
        if amount is not None:
            params["amount"] = amount
        with _mapped_errors():
            refund = await self._v1().refunds.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        return refund.to_dict()


@contextmanager
def _mapped_errors() -> Iterator[None]:
    import stripe

    try:
        yield
    except stripe.StripeError as e:
        raise _provider_error(e) from e


def _from_sdk(session: Session) -> CheckoutSession:
    try:
        return checkout_session_from(session.to_dict())
    except ValueError as e:
        raise PaymentProviderError(str(e), retryable=False) from e


def _check_create(
    *,
    amount: int,
    currency: str,
    purpose: str,
    idempotency_key: str,
    expires_at: datetime,
    locale: str,
) -> None:
    if not is_valid_purpose(purpose):
        msg = "purpose must be 'invoice' or 'instalment:<n>'"
        raise ValueError(msg)
    if parse_minor(amount) <= 0:
        msg = "amount must be > 0 minor units"
        raise ValueError(msg)
    currency_exponent(currency)
    if not 1 <= len(idempotency_key) <= 255:
        msg = "idempotency key must be 1-255 characters (Stripe's limit)"
        raise ValueError(msg)
    if expires_at.tzinfo is None:
        msg = "expires_at must be timezone-aware"
        raise ValueError(msg)
    if locale not in _LOCALES:
        msg = f"unsupported Checkout locale {locale!r}"
        raise ValueError(msg)
