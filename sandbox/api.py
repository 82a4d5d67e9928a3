"""`/sandbox/api/...`: what tests and the phone page use to drive and inspect the emulators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from channels.base import ChannelName
from sandbox.customer import CustomerInput, send_as_customer
from sandbox.http import BadInput, check_address, parse_channel, read_json_object
from sandbox.runtime import runtime_of, settings_of, state_of, status_response
from sandbox.state import Fault
from sandbox.stripe_events import deliver_event

FAULT_STATUSES = frozenset({400, 403, 429, 500, 502, 503})
MAX_FAULT_COUNT = 1000
MAX_RETRY_AFTER = 3600
MAX_DELAY = 60
MAX_WINDOW = 7 * 24 * 3600
CONVERSATION_ROUTE = "sandbox_api_conversation"
CUSTOMER_ROUTE = "sandbox_api_customer"


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/messages", _messages)
    app.router.add_get("/api/conversation", _conversation, name=CONVERSATION_ROUTE)
    app.router.add_post("/api/customer/{channel}/{address}", _customer, name=CUSTOMER_ROUTE)
    app.router.add_get("/api/faults", _list_faults)
    app.router.add_post("/api/faults", _add_fault)
    app.router.add_delete("/api/faults", _clear_faults)
    app.router.add_get("/api/send-requests", _send_requests)
    app.router.add_get("/api/stripe/events", _events)
    app.router.add_post("/api/stripe/redeliver/{event_id}", _redeliver)


def _chat(request: web.Request) -> tuple[ChannelName, str]:
    channel = parse_channel(request.query.get("channel"))
    address = request.query.get("to")
    if not address:
        raise BadInput("query parameter 'to' is required")
    return channel, address


async def _messages(request: web.Request) -> web.Response:
    """What the emulators received from the bot for one recipient, oldest first."""
    channel, address = _chat(request)
    entries = state_of(request).bot_messages(channel, address)
    return web.json_response([entry.to_api() for entry in entries])


async def _conversation(request: web.Request) -> web.Response:
    """Both sides of one chat, for the phone page; with `peer`, only the thread with that
    sender of ours (a number, a sender ID, a bot id)."""
    channel, address = _chat(request)
    peer = request.query.get("peer")
    state = state_of(request)
    if peer:
        entries = state.thread(channel, address, peer)
    else:
        entries = state.conversation(channel, address)
    return web.json_response(
        [
            {**entry.to_api(), "from": entry.sender, "status": entry.status or None}
            for entry in entries
        ]
    )


async def _customer(request: web.Request) -> web.Response:
    channel = parse_channel(request.match_info["channel"])
    address = check_address(channel, request.match_info["address"])
    said = CustomerInput.from_json(await read_json_object(request), channel)
    delivery = await send_as_customer(
        runtime_of(request),
        settings_of(request),
        state_of(request),
        channel=channel,
        address=address,
        said=said,
    )
    body = {"provider_id": delivery.provider_id, "delivered": delivery.delivered}
    if not delivery.delivered:
        return web.json_response({**body, "reason": "filtered by allowed_updates"}, status=202)
    return status_response(delivery.status, body)


def _faults_json(request: web.Request) -> dict[str, Any]:
    faults = state_of(request).faults
    return {c.value: [f.to_api() for f in faults.get(c, [])] for c in ChannelName}


async def _list_faults(request: web.Request) -> web.Response:
    return web.json_response(_faults_json(request))


async def _add_fault(request: web.Request) -> web.Response:
    """Make sends on a channel fail or slow down, like the provider would.

    `status` (or null for a slow success), `count` sends or `for_seconds` of sandbox-clock
    time (an outage window), `retry_after`, `code` (Twilio error code), `delay` (seconds of
    latency before answering) and `undelivered` (Twilio: accepted, then a status callback
    "undelivered" with that error code).
    """
    data = await read_json_object(request)
    channel = parse_channel(data.get("channel"))
    status, count = data.get("status"), data.get("count", 1)
    retry_after, code = data.get("retry_after"), data.get("code")
    delay, window = data.get("delay", 0), data.get("for_seconds")
    undelivered = data.get("undelivered")
    if undelivered is not None and (not _is_int(undelivered) or status is not None):
        raise BadInput("undelivered is a Twilio error code, for an accepted send (no status)")
    if status is None and not delay and undelivered is None:
        raise BadInput("status is required unless a delay or undelivered is given")
    if status is not None and (not _is_int(status) or status not in FAULT_STATUSES):
        raise BadInput(f"status must be one of {sorted(FAULT_STATUSES)}")
    if not _is_int(count) or not 1 <= count <= MAX_FAULT_COUNT:
        raise BadInput(f"count must be an integer from 1 to {MAX_FAULT_COUNT}")
    if retry_after is not None and not _is_seconds(retry_after, MAX_RETRY_AFTER):
        raise BadInput(f"retry_after must be null or 0..{MAX_RETRY_AFTER} seconds")
    if code is not None and not _is_int(code):
        raise BadInput("code must be an integer (a Twilio error code)")
    if not _is_seconds(delay, MAX_DELAY):
        raise BadInput(f"delay must be 0..{MAX_DELAY} seconds")
    if window is not None and not (_is_seconds(window, MAX_WINDOW) and window > 0):
        raise BadInput(f"for_seconds must be null or 1..{MAX_WINDOW} seconds")
    state = state_of(request)
    until = state.clock.now() + timedelta(seconds=window) if window is not None else None
    fault = Fault(status, count, retry_after, code, float(delay), until, undelivered)
    state.add_fault(channel, fault)
    return web.json_response(_faults_json(request), status=201)


async def _clear_faults(request: web.Request) -> web.Response:
    state_of(request).clear_faults()
    return web.json_response(_faults_json(request))


async def _send_requests(request: web.Request) -> web.Response:
    """How many send calls each emulator received, refused ones included."""
    counts = state_of(request).send_requests
    return web.json_response({c.value: counts[c] for c in ChannelName})


def _is_seconds(value: object, maximum: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= maximum


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


async def _events(request: web.Request) -> web.Response:
    """Stripe events the sandbox sent, oldest first, with each delivery's status."""
    return web.json_response([event.to_api() for event in state_of(request).events.values()])


async def _redeliver(request: web.Request) -> web.Response:
    """Send a stored Stripe event again, byte for byte (a duplicate delivery)."""
    event = state_of(request).events.get(request.match_info["event_id"])
    if event is None:
        raise BadInput("unknown event id", status=404)
    status = await deliver_event(
        runtime_of(request), settings_of(request), state_of(request), event
    )
    return status_response(status, {"event_id": event.id})
