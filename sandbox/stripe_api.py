"""Stripe API emulator: Checkout Sessions create / retrieve / expire, with Stripe's
authentication, idempotency and error shapes."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.settings import secret
from sandbox.http import BadInput, parse_bracket_form, random_id, read_form_pairs
from sandbox.runtime import runtime_of, settings_of, state_of
from sandbox.state import StoredResponse
from sandbox.stripe_events import emit_later, expire_if_due
from sandbox.stripe_model import CheckoutSession, StripeParamError, validate_create_params

Handler = Callable[[web.Request, dict[str, Any]], Awaitable[tuple[int, dict[str, Any]]]]


def add_routes(app: web.Application) -> None:
    app.router.add_post("/stripe/v1/checkout/sessions", api_endpoint(_create))
    app.router.add_get("/stripe/v1/checkout/sessions/{id}", api_endpoint(_retrieve))
    app.router.add_post("/stripe/v1/checkout/sessions/{id}/expire", api_endpoint(_expire))


def stripe_error(
    status: int, message: str, *, type_: str = "invalid_request_error", **extra: str
) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": type_, "message": message, **extra}}


def api_endpoint(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Authentication, form decoding and idempotency around one endpoint."""

    async def wrapped(request: web.Request) -> web.Response:
        if not _authorised(request):
            status, body = stripe_error(401, "Invalid API Key provided.")
            return web.json_response(body, status=status)
        try:
            params = parse_bracket_form(await read_form_pairs(request))
            params.update(parse_bracket_form(request.query.items()))
        except BadInput as e:
            status, body = stripe_error(400, e.message)
            return web.json_response(body, status=status)
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            status, body = await handler(request, params)
            return web.json_response(body, status=status)
        return await _idempotent(request, key, params, handler)

    return wrapped


async def _idempotent(
    request: web.Request, key: str, params: dict[str, Any], handler: Handler
) -> web.Response:
    store = state_of(request).idempotency
    endpoint = f"{request.method} {request.path}"
    stored = store.get(key)
    if stored is not None:
        if stored.endpoint != endpoint or stored.params != params:
            status, body = stripe_error(
                400,
                "Keys for idempotent requests can only be used with the same parameters "
                f"they were first used with. Try using a key other than '{key}'.",
                type_="idempotency_error",
            )
            return web.json_response(body, status=status)
        return web.json_response(
            stored.body, status=stored.status, headers={"Idempotent-Replayed": "true"}
        )
    status, body = await handler(request, params)
    if status < 300:  # Stripe does not save requests that failed validation
        store[key] = StoredResponse(endpoint, params, status, body)
    return web.json_response(body, status=status)


def _authorised(request: web.Request) -> bool:
    expected = "Bearer " + secret(settings_of(request).stripe_api_key)
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), expected.encode())


async def _create(request: web.Request, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    state, settings = state_of(request), settings_of(request)
    now = int(state.clock.now().timestamp())
    try:
        fields = validate_create_params(params, now)
    except StripeParamError as e:
        return stripe_error(400, e.message, code=e.code, param=e.param)
    session_id = random_id("cs_test_", 24)
    session = CheckoutSession(
        id=session_id,
        url=f"{settings.public_base_url}/sandbox/stripe/pay/{session_id}",
        created=now,
        **fields,
    )
    state.sessions[session_id] = session
    return 200, session.to_json()


def _lookup(request: web.Request) -> CheckoutSession | None:
    session = state_of(request).sessions.get(request.match_info["id"])
    if session is not None:
        expire_if_due(runtime_of(request), settings_of(request), state_of(request), session)
    return session


def _missing(request: web.Request) -> tuple[int, dict[str, Any]]:
    return stripe_error(
        404,
        f"No such checkout.session: '{request.match_info['id']}'",
        code="resource_missing",
        param="session",
    )


async def _retrieve(request: web.Request, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    session = _lookup(request)
    if session is None:
        return _missing(request)
    return 200, session.to_json()


async def _expire(request: web.Request, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    session = _lookup(request)
    if session is None:
        return _missing(request)
    if session.status != "open":
        return stripe_error(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
            f'Session has a status of "{session.status}".',
        )
    session.status = "expired"
    emit_later(
        runtime_of(request),
        settings_of(request),
        state_of(request),
        "checkout.session.expired",
        session,
    )
    return 200, session.to_json()
