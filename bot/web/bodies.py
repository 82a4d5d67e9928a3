"""Reading JSON request bodies: not JSON is a 415, malformed or absurdly nested input a 400,
never a 500. `json_body` / `json_object` are the one way the API's handlers read a body.

`json.loads` raises RecursionError on a body like `[[[[…]]]]` a few thousand levels deep (well
under the body size limit), and a merely deep one (hundreds of levels) would only burden what
reads it next. No request we accept nests anywhere near `MAX_JSON_DEPTH`.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

MAX_JSON_DEPTH = 32


class BadJson(ValueError):
    """The body is not JSON we will read; the message is safe to return to the client."""


async def json_body(request: web.Request) -> object | web.Response:
    """The request's JSON value, or the answer to give instead (415, 400)."""
    if request.content_type != "application/json":
        return _refused(415, "send the body as application/json")
    try:
        return decode_json(await request.read())
    except BadJson as exc:
        return _refused(400, str(exc))


async def json_object(request: web.Request) -> dict[str, Any] | web.Response:
    """`json_body`, which must be a JSON object (400 otherwise)."""
    body = await json_body(request)
    if isinstance(body, web.Response | dict):
        return body
    return _refused(400, "the body must be a JSON object")


def _refused(status: int, message: str) -> web.Response:
    # The API's error shape (bot.web.api.error), which imports this module.
    return web.json_response({"error": message}, status=status)


def decode_json(raw: bytes) -> object:
    try:
        value: object = json.loads(raw)
    except RecursionError:
        msg = f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        raise BadJson(msg) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"malformed JSON: {exc}"
        raise BadJson(msg) from None
    # Each level opens with a bracket: with no more brackets than levels allowed, no need to
    # walk the value (a webhook's body, every time).
    if raw.count(b"{") + raw.count(b"[") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        msg = f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        raise BadJson(msg)
    return value


def _deeper_than(value: object, limit: int) -> bool:
    """Iterative, so that checking the depth cannot itself overflow the stack."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
