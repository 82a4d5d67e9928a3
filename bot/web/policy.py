"""`GET/PUT /api/v1/policy`: the merchant's collection policy (the reminder ladder, its days,
hours, holidays and time zone). A change applies to invoices issued afterwards: each invoice's
ladder carries the policy of its issue (flows.dunning)."""

from __future__ import annotations

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from bot.services import Services
from bot.store import policy as collection_policy
from bot.store.merchants import Merchant
from flows.dunning import WEEKDAYS, policy_to_dict
from flows.model import DunningPolicy

MAX_STEPS = 10
DAYS_RANGE = (-60, 365)  # from 60 days before the due date to a year after
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_FIELDS = {
    "days",
    "send_at",
    "opens",
    "closes",
    "weekdays",
    "on_holidays",
    "timezone",
    "max_per_week",
}
MAX_PER_WEEK = (1, 7)  # TESTCASES 80: 2 by default; never more than one a day


class PolicyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def read_policy(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    policy = await collection_policy.load(services.redis, merchant.id)
    return web.json_response(document(policy))


async def put_policy(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    if request.content_type != "application/json":
        return _problem(415, "body", "send the policy as application/json")
    try:
        body = await request.json()
    except ValueError:
        return _problem(400, "body", "the body is not valid JSON")
    try:
        policy = parse(body)
    except PolicyError as problem:
        return _problem(422, problem.field, str(problem))
    await collection_policy.save(services.redis, merchant.id, policy)
    return web.json_response(document(policy))


def parse(body: object) -> DunningPolicy:
    """`{"reminders": {...}}`: fields left out keep their defaults."""
    if not isinstance(body, dict) or set(body) - {"reminders"}:
        raise PolicyError("body", 'expected an object with "reminders"')
    data = body.get("reminders", {})
    if not isinstance(data, dict):
        raise PolicyError("reminders", "expected an object")
    if unknown := set(data) - _FIELDS:
        raise PolicyError(f"reminders.{sorted(unknown)[0]}", "unknown field")
    default = DunningPolicy()
    policy = DunningPolicy(
        offsets=_days(data.get("days", list(default.offsets))),
        send_at=_time(data, "send_at", default.send_at),
        opens=_time(data, "opens", default.opens),
        closes=_time(data, "closes", default.closes),
        weekdays=_weekdays(data.get("weekdays", [WEEKDAYS[d] for d in sorted(default.weekdays)])),
        on_holidays=_bool(data.get("on_holidays", default.on_holidays)),
        timezone=_zone(data.get("timezone")),
        max_per_week=_per_week(data.get("max_per_week", default.max_per_week)),
    )
    if policy.opens >= policy.closes:
        raise PolicyError("reminders.closes", "must be later than opens")
    return policy


def _days(value: object) -> tuple[int, ...]:
    field = "reminders.days"
    if not isinstance(value, list) or len(value) > MAX_STEPS:
        raise PolicyError(field, f"expected a list of at most {MAX_STEPS} whole numbers of days")
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        raise PolicyError(field, "every step is a whole number of days from the due date")
    low, high = DAYS_RANGE
    if any(not low <= d <= high for d in value):
        raise PolicyError(field, f"every step is between {low} and {high} days")
    if value != sorted(set(value)):
        raise PolicyError(field, "steps must be in increasing order, without repeats")
    return tuple(value)


def _time(data: dict[str, Any], name: str, default: time) -> time:
    value = data.get(name, default.strftime("%H:%M"))
    if not isinstance(value, str) or not _HHMM.match(value):
        raise PolicyError(f"reminders.{name}", 'expected a local time "HH:MM"')
    return time.fromisoformat(value)


def _weekdays(value: object) -> frozenset[int]:
    field = "reminders.weekdays"
    if not isinstance(value, list) or not value or not all(d in WEEKDAYS for d in value):
        raise PolicyError(field, f"expected a non-empty list of {', '.join(WEEKDAYS)}")
    return frozenset(WEEKDAYS.index(d) for d in value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise PolicyError("reminders.on_holidays", "expected true or false")
    return value


def _per_week(value: object) -> int:
    low, high = MAX_PER_WEEK
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PolicyError(
            "reminders.max_per_week", f"expected a whole number from {low} to {high}"
        )
    return value


def _zone(value: object) -> str | None:
    if value is None:
        return None
    field = "reminders.timezone"
    if not isinstance(value, str) or "/" not in value:
        raise PolicyError(field, 'expected an IANA time zone such as "Europe/Paris"')
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PolicyError(field, f"unknown time zone {value!r}") from exc
    return value


def document(policy: DunningPolicy) -> dict[str, Any]:
    return {
        "reminders": policy_to_dict(policy),
        "applies_to": "invoices issued after the change",
    }


def _problem(status: int, field: str, message: str) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)
