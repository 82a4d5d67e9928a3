"""Signed Stripe webhook events: built once, stored, delivered and redelivered as-is."""

from __future__ import annotations

import json
from typing import Any

import stripe

from bot.settings import Settings
from sandbox.http import random_id
from sandbox.runtime import Runtime
from sandbox.state import SandboxState, StripeEvent
from sandbox.stripe_model import CheckoutSession

API_VERSION = "2026-10-28.endive"


def record_event(state: SandboxState, event_type: str, session: CheckoutSession) -> StripeEvent:
    """Snapshot `session` into a new event (serialised once, like Stripe)."""
    return record_object_event(state, event_type, session.to_json(), session.id)


def record_object_event(
    state: SandboxState, event_type: str, obj: dict[str, Any], session_id: str | None = None
) -> StripeEvent:
    """Snapshot any API object (session, charge, dispute) into a new event."""
    event_id = random_id("evt_")
    created = int(state.clock.now().timestamp())
    body = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": created,
        "livemode": False,
        "api_version": API_VERSION,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    }
    event = StripeEvent(
        id=event_id,
        type=event_type,
        session_id=session_id,
        payload=json.dumps(body),
        created=created,
    )
    state.events[event_id] = event
    return event


async def deliver_event(
    runtime: Runtime, settings: Settings, state: SandboxState, event: StripeEvent
) -> int | None:
    """POST the stored payload with a fresh signature (Stripe re-signs every attempt).

    While secrets roll, Stripe signs with each endpoint secret: one `v1` per secret."""
    timestamp = int(state.clock.now().timestamp())
    headers = [
        stripe.WebhookSignature.generate_signature_header(event.payload, whsec, timestamp)
        for whsec in settings.stripe_webhook_secrets
    ]
    header = headers[0] + "".join(h[h.index(",") :] for h in headers[1:])
    status = await runtime.post(
        settings.public_base_url + state.webhook_paths.stripe,
        event.payload.encode(),
        {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": header,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
    )
    event.deliveries.append(status)
    return status


async def emit(
    runtime: Runtime,
    settings: Settings,
    state: SandboxState,
    event_type: str,
    session: CheckoutSession,
) -> int | None:
    return await deliver_event(runtime, settings, state, record_event(state, event_type, session))


def emit_later(
    runtime: Runtime,
    settings: Settings,
    state: SandboxState,
    event_type: str,
    session: CheckoutSession,
) -> None:
    """Deliver in the background: the API call that caused it must not wait on our webhook
    (the bot may hold a lock that its own webhook handler needs)."""
    event = record_event(state, event_type, session)

    async def _deliver() -> None:
        await deliver_event(runtime, settings, state, event)

    runtime.spawn(_deliver())


def expire_if_due(
    runtime: Runtime, settings: Settings, state: SandboxState, session: CheckoutSession
) -> None:
    """Stripe expires an open session by itself at `expires_at`; we do it when we look."""
    if session.status == "open" and state.clock.now().timestamp() >= session.expires_at:
        session.status = "expired"
        emit_later(runtime, settings, state, "checkout.session.expired", session)


async def emit_object(
    runtime: Runtime,
    settings: Settings,
    state: SandboxState,
    event_type: str,
    obj: dict[str, Any],
) -> int | None:
    event = record_object_event(state, event_type, obj)
    return await deliver_event(runtime, settings, state, event)
