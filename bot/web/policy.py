"""`GET/PUT /api/v1/policy`: the merchant's collection policy: the reminder ladder (its days,
hours, holidays, time zone and weekly cap), the pay-later window, the split rules, the
languages offered and the fast-payment reward. A ladder or reward change applies to invoices
issued afterwards: each invoice carries the ladder and the reward offer of its issue
(flows.dunning, payments.reward). Pay-later, split and language rules apply to what customers
ask from the change on."""

from __future__ import annotations

import json
import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from bot.engine.facts import split_policy_for
from bot.services import Services
from bot.store import policy as collection_policy
from bot.store.merchants import Merchant
from bot.store.policy import LANGUAGES, CollectionPolicy, split_to_dict
from flows.dunning import WEEKDAYS, policy_to_dict
from flows.model import DunningPolicy, PayLaterPolicy
from payments.instalments import MAX_SPAN_DAYS, InstalmentPolicy
from payments.reward import CODE, HOURS, KINDS, PERCENT, POINTS, STREAK, RewardPolicy

MAX_STEPS = 10
DAYS_RANGE = (-60, 365)  # from 60 days before the due date to a year after
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# The fields of each part of a policy, in the order the OpenAPI document lists them
# (bot.web.openapi_api's schemas are built from these, so the two cannot drift apart).
REMINDER_FIELDS = (
    "days",
    "send_at",
    "opens",
    "closes",
    "weekdays",
    "on_holidays",
    "timezone",
    "max_per_week",
)
MAX_PER_WEEK = (1, 7)  # TESTCASES 80: 2 by default; never more than one a day
PAY_LATER_DAYS = (0, 90)  # after the due date
PARTS = (2, 4)  # LEGAL_FR §4.3: 3 by default ("3 fois sans frais"); 4 after legal review
SECTIONS = ("reminders", "pay_later", "split", "languages", "reward")
REWARD_FIELDS = (
    "enabled",
    "within_hours",
    "kind",
    "percent",
    "code",
    "points",
    "streak",
    "applies_to",
)
# Which of the reward's amounts each kind uses: the others must be left out (or null).
_REWARD_NEEDS = {"percent": {"percent", "code"}, "code": {"code"}, "points": {"points"}}
ESCOMPTE = (
    "a discount on this invoice for paying early is an escompte, and every invoice states "
    '"Pas d\'escompte pour paiement anticipé": the reward applies to a future purchase '
    '(applies_to: "next_purchase")'
)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MINIMUM = 100_000_000  # minor units


class PolicyError(ValueError):
    """A field the policy refuses: a 422 naming it."""

    status = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotJson(PolicyError):
    """Not even JSON: a 400."""

    status = 400


async def read_policy(
    request: web.Request, services: Services, merchant: Merchant
) -> web.Response:
    policy = await collection_policy.load_all(services.redis, merchant.id)
    return web.json_response(document(policy, merchant))


async def put_policy(request: web.Request, services: Services, merchant: Merchant) -> web.Response:
    if request.content_type != "application/json":
        return _problem(415, "body", "send the policy as application/json")
    try:
        text = (await request.read()).decode()
    except UnicodeDecodeError:
        return _problem(400, "body", "the body is not UTF-8 text")
    try:
        policy = from_json(text)
    except PolicyError as problem:
        return _problem(problem.status, problem.field, str(problem))
    await collection_policy.save(services.redis, merchant.id, policy)
    return web.json_response(document(policy, merchant))


def from_json(text: str) -> CollectionPolicy:
    """The one check of a policy sent as JSON text, for the API and the dashboard's form alike:
    NotJson (400) or PolicyError (422, naming the field)."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise NotJson("body", "the body is not valid JSON") from exc
    return parse(body)


def parse(body: object) -> CollectionPolicy:
    """`{"reminders": {...}, "pay_later": {...}, "split": {...}, "languages": [...]}`: what
    is left out keeps its default."""
    if not isinstance(body, dict):
        raise PolicyError("body", f"expected an object with {', '.join(sorted(SECTIONS))}")
    if unknown := set(body) - set(SECTIONS):
        raise PolicyError(sorted(unknown)[0], "unknown field")
    return CollectionPolicy(
        reminders=_reminders(body.get("reminders", {})),
        pay_later=_pay_later(body.get("pay_later", {})),
        split=_split(body["split"]) if "split" in body else None,
        languages=_languages(body.get("languages", list(LANGUAGES))),
        reward=_reward(body.get("reward", {})),
    )


def _reward(data: object) -> RewardPolicy:
    """The fast-payment reward (payments.reward): off unless `enabled`; always on a future
    purchase, never off this invoice (that would be an escompte, see ESCOMPTE)."""
    if not isinstance(data, dict):
        raise PolicyError("reward", "expected an object")
    if unknown := set(data) - set(REWARD_FIELDS):
        raise PolicyError(f"reward.{sorted(unknown)[0]}", "unknown field")
    applies_to = data.get("applies_to", "next_purchase")
    if applies_to == "this_invoice":
        raise PolicyError("reward.applies_to", ESCOMPTE)
    if applies_to != "next_purchase":
        raise PolicyError("reward.applies_to", 'expected "next_purchase"')
    default = RewardPolicy()
    enabled = data.get("enabled", default.enabled)
    if not isinstance(enabled, bool):
        raise PolicyError("reward.enabled", "expected true or false")
    kind = data.get("kind", default.kind)
    if kind not in KINDS:
        raise PolicyError("reward.kind", f"expected one of {', '.join(KINDS)}")
    needs = _REWARD_NEEDS[kind]
    for name in ("percent", "code", "points"):
        if data.get(name) is not None and name not in needs:
            raise PolicyError(f"reward.{name}", f"not used by a {kind} reward: leave it out")
        if enabled and data.get(name) is None and name in needs:
            raise PolicyError(f"reward.{name}", f"required by a {kind} reward")
    code = data.get("code")
    if code is not None and (not isinstance(code, str) or not CODE.match(code)):
        raise PolicyError(
            "reward.code", "expected 3 to 20 capital letters, digits, - or _, such as MERCI10"
        )
    return RewardPolicy(
        enabled=enabled,
        within_hours=_or(_whole(data, "within_hours", HOURS, "hours"), default.within_hours),
        kind=kind,
        percent=_whole(data, "percent", PERCENT, "percent"),
        code=code,
        points=_whole(data, "points", POINTS, "points"),
        streak=_or(_whole(data, "streak", STREAK, "invoices (0: never)"), default.streak),
    )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _whole(data: dict[str, Any], name: str, bounds: tuple[int, int], unit: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PolicyError(
            f"reward.{name}", f"expected a whole number of {unit} from {low} to {high}"
        )
    return int(value)


def _pay_later(data: object) -> PayLaterPolicy:
    if not isinstance(data, dict):
        raise PolicyError("pay_later", "expected an object")
    if unknown := set(data) - {"max_days_after_due"}:
        raise PolicyError(f"pay_later.{sorted(unknown)[0]}", "unknown field")
    value = data.get("max_days_after_due", PayLaterPolicy().max_days_after_due)
    low, high = PAY_LATER_DAYS
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PolicyError(
            "pay_later.max_days_after_due", f"expected a whole number of days from {low} to {high}"
        )
    return PayLaterPolicy(max_days_after_due=value)


def _split(data: object) -> InstalmentPolicy:
    if not isinstance(data, dict):
        raise PolicyError("split", "expected an object")
    if unknown := set(data) - {"allowed_parts", "minimum", "max_span_days"}:
        raise PolicyError(f"split.{sorted(unknown)[0]}", "unknown field")
    default = InstalmentPolicy()
    parts = data.get("allowed_parts", list(default.allowed_parts))
    low, high = PARTS
    if (
        not isinstance(parts, list)
        or not parts
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in parts)
        or not all(low <= p <= high for p in parts)
        or parts != sorted(set(parts))
    ):
        raise PolicyError(
            "split.allowed_parts", f"expected increasing whole numbers from {low} to {high}"
        )
    span = data.get("max_span_days", default.max_span_days)
    if isinstance(span, bool) or not isinstance(span, int) or not 1 <= span <= MAX_SPAN_DAYS:
        raise PolicyError(
            "split.max_span_days", f"expected a number of days from 1 to {MAX_SPAN_DAYS}"
        )
    minimum = data.get("minimum", dict(default.min_totals))
    if not isinstance(minimum, dict) or not all(
        isinstance(c, str)
        and _CURRENCY.match(c)
        and isinstance(a, int)
        and not isinstance(a, bool)
        and 0 <= a <= MAX_MINIMUM
        for c, a in minimum.items()
    ):
        raise PolicyError(
            "split.minimum", 'expected {"EUR": 5000}: currency codes to amounts in cents'
        )
    try:
        return InstalmentPolicy(
            min_totals=tuple(sorted(minimum.items())),
            allowed_parts=tuple(parts),
            max_span_days=span,
        )
    except ValueError as exc:  # e.g. more parts than the span has days
        raise PolicyError("split.allowed_parts", str(exc)) from exc


def _languages(value: object) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(v in LANGUAGES for v in value)
        or len(set(value)) != len(value)
    ):
        raise PolicyError("languages", f"expected a non-empty list of {', '.join(LANGUAGES)}")
    return tuple(value)


def _reminders(data: object) -> DunningPolicy:
    """The ladder: fields left out keep their defaults."""
    if not isinstance(data, dict):
        raise PolicyError("reminders", "expected an object")
    if unknown := set(data) - set(REMINDER_FIELDS):
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


def document(policy: CollectionPolicy, merchant: Merchant | None) -> dict[str, Any]:
    split = policy.split or split_policy_for(merchant)
    return {
        "reminders": policy_to_dict(policy.reminders),
        "pay_later": {"max_days_after_due": policy.pay_later.max_days_after_due},
        "split": split_to_dict(split),
        "languages": list(policy.languages),
        "reward": policy.reward.to_dict(),
        "applies_to": (
            "reminders and reward: invoices issued after the change; the rest: from the change on"
        ),
    }


def _problem(status: int, field: str, message: str) -> web.Response:
    return web.json_response({"error": message, "field": field}, status=status)
