"""The fast-payment reward (issue 10): a customer who pays an invoice in full within a few
hours of receiving it gets something on their *next* purchase (a percentage with the
merchant's code, a discount code, or loyalty points), and a run of invoices paid on time is
celebrated.

Why never a discount on *this* invoice: every invoice says "Pas d'escompte pour paiement
anticipé" (LEGAL_FR §1.1, escompte conditions). A price cut for paying early would be an
escompte and make that mention false (and change the invoice's VAT base). A reward on a future
purchase is not an escompte: the invoice's amount and mention stay true, and the invoice adds
one mention saying so (`legal_mentions`). The policy refuses `applies_to: "this_invoice"`.

Pure: the merchant's policy (`RewardPolicy`), the offer an invoice carries from its issue
(`RewardOffer`, so a later policy change applies to invoices issued afterwards), and what a
payment earns (`earned`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

RewardKind = Literal["percent", "code", "points"]
KINDS: tuple[RewardKind, ...] = ("percent", "code", "points")
HOURS = (1, 720)  # from one hour to 30 days after the invoice is sent
PERCENT = (1, 50)
POINTS = (1, 100_000)
STREAK = (0, 50)  # 0: no celebration
# What shops accept as a discount code; GSM-7 only, so it never makes an SMS cost double.
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,19}$")


@dataclass(frozen=True, slots=True)
class RewardPolicy:
    """The merchant's choice (`reward` in GET/PUT /api/v1/policy); off by default."""

    enabled: bool = False
    within_hours: int = 48
    kind: RewardKind = "percent"
    percent: int | None = None  # percent: off the next purchase, with `code`
    code: str | None = None  # percent, code: the code the merchant's shop accepts
    points: int | None = None  # points: loyalty points credited
    streak: int = 3  # celebrate from this many invoices in a row paid by their due date

    def offer(self, issued_at: datetime) -> RewardOffer | None:
        """What an invoice issued at `issued_at` promises (None when the reward is off)."""
        if not self.enabled:
            return None
        return RewardOffer(
            kind=self.kind,
            within_hours=self.within_hours,
            deadline=(issued_at + timedelta(hours=self.within_hours)).astimezone(UTC),
            percent=self.percent,
            code=self.code,
            points=self.points,
            streak=self.streak,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "within_hours": self.within_hours,
            "kind": self.kind,
            "percent": self.percent,
            "code": self.code,
            "points": self.points,
            "streak": self.streak,
            "applies_to": "next_purchase",
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RewardPolicy:
        kind = str(data.get("kind", "percent"))
        return cls(
            enabled=bool(data.get("enabled", False)),
            within_hours=int(data.get("within_hours", 48)),
            kind=_kind(kind),
            percent=data.get("percent"),
            code=data.get("code"),
            points=data.get("points"),
            streak=int(data.get("streak", 3)),
        )


@dataclass(frozen=True, slots=True)
class RewardOffer:
    """What one invoice promised when it was issued: paid in full by `deadline`, the
    customer gets the reward on their next purchase. Kept on the invoice, never changed."""

    kind: RewardKind
    within_hours: int
    deadline: datetime  # UTC
    percent: int | None = None
    code: str | None = None
    points: int | None = None
    streak: int = 3

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "within_hours": self.within_hours,
            "deadline": self.deadline.isoformat(),
            "streak": self.streak,
        }
        for name in ("percent", "code", "points"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RewardOffer:
        return cls(
            kind=_kind(str(data["kind"])),
            within_hours=int(data["within_hours"]),
            deadline=datetime.fromisoformat(str(data["deadline"])),
            percent=data.get("percent"),
            code=data.get("code"),
            points=data.get("points"),
            streak=int(data.get("streak", 3)),
        )

    def earned_by(self, paid_at: datetime) -> bool:
        """Paid in full at `paid_at`: within the window (its last instant included)."""
        return paid_at <= self.deadline


@dataclass(frozen=True, slots=True)
class GrantedReward:
    """The reward one invoice earned (stored once next to the invoice)."""

    kind: RewardKind
    paid_at: datetime
    percent: int | None = None
    code: str | None = None
    points: int | None = None

    @classmethod
    def of(cls, offer: RewardOffer, paid_at: datetime) -> GrantedReward:
        return cls(offer.kind, paid_at, offer.percent, offer.code, offer.points)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "paid_at": self.paid_at.isoformat()}
        for name in ("percent", "code", "points"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GrantedReward:
        return cls(
            kind=_kind(str(data["kind"])),
            paid_at=datetime.fromisoformat(str(data["paid_at"])),
            percent=data.get("percent"),
            code=data.get("code"),
            points=data.get("points"),
        )


def granted_from_record(raw: str | bytes | None) -> GrantedReward | None:
    """The reward in an invoice's paid record (bot.engine.rewards.record_paid), if any."""
    if not raw:
        return None
    reward = json.loads(raw).get("reward")
    return GrantedReward.from_dict(reward) if reward else None


def _kind(value: str) -> RewardKind:
    for kind in KINDS:
        if kind == value:
            return kind
    msg = f"unknown reward kind {value!r}"
    raise ValueError(msg)
