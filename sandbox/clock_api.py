"""`/sandbox/api/clock`: read the injected clock, and move it forward (never back).

Reminders, promised dates and instalment due dates are scheduled on the injected clock; moving
it forward makes the worker find them due on its next pass, as if the days had gone by.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.http import BadInput, read_json_object
from sandbox.runtime import state_of

MAX_ADVANCE_SECONDS = 90 * 24 * 3600  # the longest plan spans 90 days
_UNITS = {"days": 86400, "hours": 3600, "minutes": 60}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/clock", _read)
    app.router.add_post("/api/clock/advance", _advance)


def seconds_to_advance(body: dict[str, Any]) -> int:
    """`{"days": 1}`, `{"hours": 2}` or `{"minutes": 30}` (one of them), as seconds."""
    given = [(unit, body[unit]) for unit in _UNITS if unit in body]
    unknown = set(body) - set(_UNITS)
    if unknown or len(given) != 1:
        raise BadInput('send one of {"days": n}, {"hours": n} or {"minutes": n}')
    unit, value = given[0]
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise BadInput(f"{unit} must be a positive integer")
    seconds = value * _UNITS[unit]
    if seconds > MAX_ADVANCE_SECONDS:
        raise BadInput("the clock moves at most 90 days at a time")
    return seconds


def advance_clock(request: web.Request, seconds: int) -> None:
    clock = state_of(request).clock
    advance = getattr(clock, "advance", None)
    if advance is None:  # the wall clock of a real deployment never moves
        raise web.HTTPConflict(
            text='{"error": "this clock cannot be moved"}', content_type="application/json"
        )
    advance(seconds)


def _now(request: web.Request) -> dict[str, str]:
    return {"now": state_of(request).clock.now().isoformat()}


async def _read(request: web.Request) -> web.Response:
    return web.json_response(_now(request))


async def _advance(request: web.Request) -> web.Response:
    try:
        seconds = seconds_to_advance(await read_json_object(request))
    except BadInput as e:
        return web.json_response({"error": e.message}, status=400)
    advance_clock(request, seconds)
    return web.json_response(_now(request))
