"""Stripe emulator, after the payment: PaymentIntents, refunds, disputes and the Events API.

- `GET /v1/payment_intents/{id}`, `GET /v1/checkout/sessions?payment_intent=&created=` (list)
- `POST /v1/refunds` (by payment_intent, full or partial), `GET /v1/refunds?payment_intent=`
- `GET /v1/disputes?payment_intent=`
- `GET /v1/events` (newest first; `starting_after`, `ending_before`, `limit`, `types[]`)
- `/sandbox/api/stripe/disputes` (open) and `/sandbox/api/stripe/disputes/{id}/close`: what a
  cardholder's bank does; the checkout page offers the same as buttons.

Refunds and disputes deliver their signed events (`charge.refunded`, `charge.dispute.created`,
`charge.dispute.closed`) before answering, like the checkout page: the bot's Stripe webhook
only stores the event, so nothing waits on a lock.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox.http import BadInput, random_id, read_json_object
from sandbox.runtime import runtime_of, settings_of, state_of
from sandbox.state import SandboxState, StripeEvent
from sandbox.stripe_api import api_endpoint, stripe_error
from sandbox.stripe_events import emit_object
from sandbox.stripe_model import Dispute, PaymentIntent, Refund

MAX_LIMIT = 100


def add_routes(app: web.Application) -> None:
    app.router.add_get("/stripe/v1/payment_intents/{id}", api_endpoint(_retrieve_intent))
    app.router.add_get("/stripe/v1/checkout/sessions", api_endpoint(_list_sessions))
    app.router.add_post("/stripe/v1/refunds", api_endpoint(_create_refund))
    app.router.add_get("/stripe/v1/refunds", api_endpoint(_list_refunds))
    app.router.add_get("/stripe/v1/disputes", api_endpoint(_list_disputes))
    app.router.add_get("/stripe/v1/events", api_endpoint(_list_events))
    app.router.add_post("/api/stripe/disputes", _open_dispute_api)
    app.router.add_post("/api/stripe/disputes/{id}/close", _close_dispute_api)


# --- Shared by the API, the sandbox API and the checkout page ------------------------------


class MoneyError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param = status, message, param


def refund(
    state: SandboxState, intent_id: str, amount: int | None
) -> tuple[Refund, dict[str, Any]]:
    """Refund `amount` (None: what is left) of a succeeded PaymentIntent."""
    intent = _intent(state, intent_id)
    if intent.status != "succeeded":
        raise MoneyError(400, f"PaymentIntent {intent.id} has no successful charge to refund.")
    left = intent.amount - intent.amount_refunded - (intent.amount if intent.disputed else 0)
    amount = left if amount is None else amount
    if not 0 < amount <= left:
        raise MoneyError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left}).",
            "amount",
        )
    intent.amount_refunded += amount
    created = int(state.clock.now().timestamp())
    made = Refund(
        random_id("re_", 12), amount, intent.currency, intent.id, intent.charge_id, created
    )
    state.refunds[made.id] = made
    return made, intent.charge_json()


def open_dispute(state: SandboxState, intent_id: str) -> Dispute:
    intent = _intent(state, intent_id)
    if intent.status != "succeeded" or intent.disputed:
        raise MoneyError(400, f"PaymentIntent {intent.id} cannot be disputed.")
    intent.disputed = True
    created = int(state.clock.now().timestamp())
    dispute = Dispute(
        random_id("du_", 12),
        intent.amount - intent.amount_refunded,
        intent.currency,
        intent.id,
        intent.charge_id,
        created,
    )
    state.disputes[dispute.id] = dispute
    return dispute


def close_dispute(state: SandboxState, dispute_id: str, outcome: str) -> Dispute:
    dispute = state.disputes.get(dispute_id)
    if dispute is None:
        raise MoneyError(404, f"No such dispute: '{dispute_id}'")
    if outcome not in ("won", "lost"):
        raise MoneyError(400, "outcome must be 'won' or 'lost'", "outcome")
    if dispute.status in ("won", "lost"):
        raise MoneyError(400, f"Dispute {dispute_id} is already closed ({dispute.status}).")
    dispute.status = outcome
    return dispute


def _intent(state: SandboxState, intent_id: str) -> PaymentIntent:
    intent = state.payment_intents.get(intent_id)
    if intent is None:
        raise MoneyError(404, f"No such payment_intent: '{intent_id}'", "payment_intent")
    return intent


async def emit_refund(request: web.Request, charge: dict[str, Any]) -> int | None:
    return await emit_object(
        runtime_of(request), settings_of(request), state_of(request), "charge.refunded", charge
    )


async def emit_dispute(request: web.Request, event_type: str, dispute: Dispute) -> int | None:
    return await emit_object(
        runtime_of(request), settings_of(request), state_of(request), event_type, dispute.to_json()
    )


def _error(e: MoneyError) -> tuple[int, dict[str, Any]]:
    extra = {"param": e.param} if e.param else {}
    code = "resource_missing" if e.status == 404 else "parameter_invalid"
    return stripe_error(e.status, e.message, code=code, **extra)


# --- /v1 --------------------------------------------------------------------------------


async def _retrieve_intent(
    request: web.Request, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    try:
        return 200, _intent(state_of(request), request.match_info["id"]).to_json()
    except MoneyError as e:
        return _error(e)


def _page(objects: list[dict[str, Any]], url: str, params: dict[str, Any]) -> dict[str, Any]:
    """One page of a list, newest first, with Stripe's cursors (object ids)."""
    limit = params.get("limit", "10")
    if not isinstance(limit, str) or not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        raise MoneyError(400, f"limit must be an integer from 1 to {MAX_LIMIT}.", "limit")
    newest_first = sorted(objects, key=lambda o: o["created"], reverse=True)
    ids = [o["id"] for o in newest_first]
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise MoneyError(400, "Pass starting_after or ending_before, not both.")
    size = int(limit)
    if after is not None:  # older than `after`
        start = _position(ids, after, "starting_after") + 1
        chosen = newest_first[start : start + size]
        more = start + size < len(newest_first)
    elif before is not None:  # newer than `before`: the `size` closest to it
        end = _position(ids, before, "ending_before")
        chosen = newest_first[max(0, end - size) : end]
        more = end - size > 0
    else:
        chosen = newest_first[:size]
        more = size < len(newest_first)
    return {"object": "list", "url": url, "has_more": more, "data": chosen}


def _created_within(created: int, bounds: object) -> bool:
    """Stripe's `created` filter: an exact time, or any of gt/gte/lt/lte."""
    if bounds is None:
        return True
    if isinstance(bounds, str):
        bounds = {"eq": bounds}
    if not isinstance(bounds, dict) or not bounds:
        raise MoneyError(400, "Invalid created filter.", "created")
    checks = {
        "eq": created.__eq__,
        "gt": created.__gt__,
        "gte": created.__ge__,
        "lt": created.__lt__,
        "lte": created.__le__,
    }
    for op, raw in bounds.items():
        if op not in checks or not isinstance(raw, str) or not raw.lstrip("-").isdigit():
            raise MoneyError(400, f"Invalid created[{op}]: {raw!r}", "created")
        if not checks[op](int(raw)):
            return False
    return True


def _position(ids: list[str], cursor: object, param: str) -> int:
    if not isinstance(cursor, str) or cursor not in ids:
        raise MoneyError(404, f"No such object: '{cursor}'", param)
    return ids.index(cursor)


async def _list_sessions(
    request: web.Request, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    sessions = [s.to_json() for s in state_of(request).sessions.values()]
    intent = params.get("payment_intent")
    if intent is not None:
        sessions = [s for s in sessions if s["payment_intent"] == intent]
    try:
        sessions = [s for s in sessions if _created_within(s["created"], params.get("created"))]
        return 200, _page(sessions, "/v1/checkout/sessions", params)
    except MoneyError as e:
        return _error(e)


async def _create_refund(
    request: web.Request, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    intent_id, amount = params.get("payment_intent"), params.get("amount")
    if not isinstance(intent_id, str):
        return stripe_error(400, "Missing required param: payment_intent.", param="payment_intent")
    if amount is not None and (not isinstance(amount, str) or not amount.isdigit()):
        return stripe_error(400, f"Invalid integer: {amount!r}", param="amount")
    try:
        made, charge = refund(
            state_of(request), intent_id, int(amount) if amount is not None else None
        )
    except MoneyError as e:
        return _error(e)
    await emit_refund(request, charge)
    return 200, made.to_json()


def _by_intent(objects: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
    intent = params.get("payment_intent")
    return [o for o in objects if intent is None or o["payment_intent"] == intent]


async def _list_refunds(
    request: web.Request, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    refunds = _by_intent([r.to_json() for r in state_of(request).refunds.values()], params)
    try:
        return 200, _page(refunds, "/v1/refunds", params)
    except MoneyError as e:
        return _error(e)


async def _list_disputes(
    request: web.Request, params: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    disputes = _by_intent([d.to_json() for d in state_of(request).disputes.values()], params)
    try:
        return 200, _page(disputes, "/v1/disputes", params)
    except MoneyError as e:
        return _error(e)


async def _list_events(request: web.Request, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Every event, delivered or not (Stripe keeps 30 days), newest first."""
    types = params.get("types")
    if types is not None and (not isinstance(types, list) or len(types) > 20):
        return stripe_error(400, "types must be an array of at most 20 event types.")
    events = [_event_json(e) for e in state_of(request).events.values()]
    # Events created in the same second keep their creation order (ids are random).
    for position, event in enumerate(events):
        event["created"] = (event["created"], position)
    if types is not None:
        events = [e for e in events if e["type"] in types]
    try:
        page = _page(events, "/v1/events", params)
    except MoneyError as e:
        return _error(e)
    for event in page["data"]:
        event["created"] = event["created"][0]
    return 200, page


def _event_json(event: StripeEvent) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(event.payload)
    return body


# --- Sandbox API: what a cardholder's bank does -------------------------------------------


async def _open_dispute_api(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    intent_id = data.get("payment_intent")
    if not isinstance(intent_id, str):
        raise BadInput("payment_intent is required")
    try:
        dispute = open_dispute(state_of(request), intent_id)
    except MoneyError as e:
        raise BadInput(e.message, status=e.status) from e
    status = await emit_dispute(request, "charge.dispute.created", dispute)
    return _made(status, dispute)


async def _close_dispute_api(request: web.Request) -> web.Response:
    data = await read_json_object(request)
    try:
        dispute = close_dispute(
            state_of(request), request.match_info["id"], str(data.get("outcome"))
        )
    except MoneyError as e:
        raise BadInput(e.message, status=e.status) from e
    status = await emit_dispute(request, "charge.dispute.closed", dispute)
    return _made(status, dispute)


def _made(webhook_status: int | None, dispute: Dispute) -> web.Response:
    """The dispute changed whatever the webhook answered (it may be down on purpose)."""
    return web.json_response({**dispute.to_json(), "webhook_status": webhook_status})
