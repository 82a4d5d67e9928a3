"""`python -m bot intents --now ISO [--tz ZONE]`: run the intent recognizer over JSON lines.

Input, one JSON object per line: ``{"text": "...", "locale": "fr_FR"}`` ("locale" may be left
out: French). Output, one JSON object per input line and in the same order:
``{"intent": "pay_later", "parts": null, "date": "2026-11-20"}``. A line that cannot be read
gives ``{"intent": "unknown", "parts": null, "date": null, "error": "<reason>"}`` and the run
goes on, so output line N always answers input line N. The exit code is 0 once the input is
consumed, whatever the lines contained; 2 for bad arguments (argparse convention).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from flows.intents import understand

DEFAULT_TZ = "Europe/Paris"
DEFAULT_LOCALE = "fr"


def run_intents(stdin: TextIO, stdout: TextIO, *, now: dt.datetime, tz: str) -> int:
    """Answer every line of *stdin* on *stdout* (see the module docstring)."""
    for line in stdin:
        stdout.write(json.dumps(_answer(line, now=now, tz=tz), ensure_ascii=False) + "\n")
    stdout.flush()
    return 0


def add_intents_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``intents`` subcommand on *subparsers*."""
    parser = subparsers.add_parser(
        "intents",
        help="read JSON lines {text, locale} on stdin, write {intent, parts, date} lines",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--now",
        required=True,
        type=parse_now,
        help="reference time, ISO 8601 (e.g. 2026-11-18T10:00:00+01:00); naive means UTC",
    )
    parser.add_argument(
        "--tz",
        default=DEFAULT_TZ,
        type=parse_zone,
        help=f"customer time zone, IANA name (default {DEFAULT_TZ})",
    )
    parser.set_defaults(func=_run_from_args)


def parse_now(value: str) -> dt.datetime:
    """An ISO 8601 datetime; a naive one is taken as UTC."""
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 datetime: {value!r}") from None
    return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=dt.UTC)


def parse_zone(value: str) -> str:
    """An IANA time zone name that this system knows."""
    try:
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        raise argparse.ArgumentTypeError(f"unknown time zone: {value!r}") from None
    return value


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m bot.intents_cli intents --now ...``."""
    parser = argparse.ArgumentParser(prog="python -m bot.intents_cli")
    add_intents_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


def _run_from_args(args: argparse.Namespace) -> int:
    return run_intents(sys.stdin, sys.stdout, now=args.now, tz=args.tz)


def _answer(line: str, *, now: dt.datetime, tz: str) -> dict[str, Any]:
    try:
        text, locale = _read_request(line)
    except ValueError as exc:
        return _error(str(exc))
    try:
        result = understand(text, locale=locale, now=now, tz=tz)
    except Exception as exc:  # one bad line must not stop the run
        return _error(f"{type(exc).__name__}: {exc}")
    return {
        "intent": result.intent.value,
        "parts": result.parts,
        "date": result.date.isoformat() if result.date is not None else None,
    }


def _read_request(line: str) -> tuple[str, str]:
    if not line.strip():
        raise ValueError("empty line")
    try:
        request = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg}") from None
    if not isinstance(request, dict):
        raise ValueError("expected a JSON object")
    text = request.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    locale = request.get("locale", DEFAULT_LOCALE)
    if locale is None:
        locale = DEFAULT_LOCALE
    if not isinstance(locale, str):
        raise ValueError('"locale" must be a string')
    return text, locale


def _error(reason: str) -> dict[str, Any]:
    return {"intent": "unknown", "parts": None, "date": None, "error": reason}


if __name__ == "__main__":
    sys.exit(main())
