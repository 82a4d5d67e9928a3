"""Request-reading helpers shared by the emulators: every bad input becomes `BadInput`."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from channels.base import ChannelName

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_BRACKET_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")


class BadInput(Exception):
    """The request cannot be read; answered 400 by the sandbox middleware (or the emulator
    in its provider's error format)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def json_error(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


def random_id(prefix: str, nbytes: int = 12) -> str:
    return prefix + secrets.token_hex(nbytes)


async def read_json_object(request: web.Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.text())
    except (ValueError, RecursionError) as e:  # RecursionError: "[[[[..." nested too deep
        raise BadInput("body is not valid JSON") from e
    if not isinstance(data, dict):
        raise BadInput("body must be a JSON object")
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError as e:  # "\ud800": JSON allows it, no provider would
        raise BadInput("body contains an unpaired surrogate") from e
    return data


async def read_form_pairs(request: web.Request) -> list[tuple[str, str]]:
    """The url-encoded form as (key, value) pairs; file uploads are refused."""
    if not request.body_exists:
        return []
    if request.content_type not in ("", "application/x-www-form-urlencoded"):
        raise BadInput(f"unsupported content type {request.content_type}")
    try:
        form = await request.post()
    except ValueError as e:  # includes UnicodeDecodeError
        raise BadInput("malformed form body") from e
    pairs: list[tuple[str, str]] = []
    for key, value in form.items():
        if not isinstance(value, str):
            raise BadInput(f"field {key} must be text")
        pairs.append((key, value))
    return pairs


def parse_bracket_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's encoding: `line_items[0][price_data][currency]=eur` -> nested dicts/lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = [a or b for a, b in _BRACKET_KEY.findall(key)]
        if not parts or not key.startswith(parts[0]):
            raise BadInput(f"malformed parameter name {key!r}")
        _assign(root, parts, value)
    return root


def _assign(root: dict[str, Any], parts: list[str], value: str) -> None:
    cur: Any = root
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        child: Any = value if last else ([] if nxt == "" or (nxt or "").isdigit() else {})
        if isinstance(cur, list):
            if part and not part.isdigit():
                raise BadInput("mixed list and object parameter")
            idx = int(part) if part else len(cur)
            if idx > len(cur):
                raise BadInput("list parameter indices must be contiguous")
            if idx == len(cur):
                cur.append(child)
            elif last or not isinstance(cur[idx], type(child)):
                raise BadInput("conflicting parameter")
            cur = cur[idx]
        elif isinstance(cur, dict):
            if last:
                cur[part] = value
            elif not isinstance(cur.setdefault(part, child), type(child)):
                raise BadInput("conflicting parameter")
            cur = cur[part]
        else:
            raise BadInput("conflicting parameter")


def parse_channel(value: str | None) -> ChannelName:
    try:
        return ChannelName(value or "")
    except ValueError as e:
        raise BadInput(f"unknown channel {value!r}") from e


def check_address(channel: ChannelName, address: str) -> str:
    """A chat id for Telegram, an E.164 number for SMS."""
    if channel is ChannelName.SMS and not E164.match(address):
        raise BadInput("an SMS address must be an E.164 number such as +33612345678")
    if channel is ChannelName.WHATSAPP and not E164.match(address):
        raise BadInput("a WhatsApp address must be an E.164 number such as +33612345678")
    if channel is ChannelName.TELEGRAM and not re.fullmatch(r"[1-9]\d{0,14}", address):
        raise BadInput("a Telegram address must be a private chat id (a positive number)")
    return address


def decode_json_values(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Telegram form bodies carry complex fields (reply_markup...) as JSON strings."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if value[:1] in ("{", "["):
            try:
                out[key] = json.loads(value)
                continue
            except (ValueError, RecursionError):
                pass  # plain text that merely starts with a bracket, e.g. "[F-42] ..."
        out[key] = value
    return out
