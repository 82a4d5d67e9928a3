"""Decoding JSON request bodies: malformed or absurdly nested input is a 400, never a 500.

`json.loads` raises RecursionError on a body like `[[[[…]]]]` a few thousand levels deep (well
under the body size limit), and a merely deep one (hundreds of levels) would only burden what
reads it next. No request we accept nests anywhere near `MAX_JSON_DEPTH`.
"""

from __future__ import annotations

import json

MAX_JSON_DEPTH = 32


class BadJson(ValueError):
    """The body is not JSON we will read; the message is safe to return to the client."""


def decode_json(raw: bytes) -> object:
    try:
        value: object = json.loads(raw)
    except RecursionError:
        msg = f"JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        raise BadJson(msg) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"malformed JSON: {exc}"
        raise BadJson(msg) from None
    if _deeper_than(value, MAX_JSON_DEPTH):
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
