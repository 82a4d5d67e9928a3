"""The campaign decision and marketing quiet hours (pure)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from flows.campaign import Decision, Verdict, decide, next_marketing_moment, pick_variant

PARIS = "Europe/Paris"


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_weekday_daytime_is_allowed() -> None:
    now = at(18, 9)  # Wednesday 10:00 in Paris
    assert next_marketing_moment(now, PARIS) == now


def test_evening_waits_for_next_morning() -> None:
    moment = next_marketing_moment(at(18, 19, 30), PARIS)  # 20:30 in Paris
    assert moment == datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


def test_saturday_evening_skips_sunday() -> None:
    moment = next_marketing_moment(at(21, 19, 0), PARIS)  # Saturday 20:00 exactly: closed
    assert moment == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def test_public_holidays_are_skipped() -> None:
    # 11 November 2026 (Armistice) is a Wednesday: nothing before Thursday 08:00.
    moment = next_marketing_moment(at(10, 20, 0), PARIS)
    assert moment == datetime(2026, 11, 12, 7, 0, tzinfo=UTC)
    # 14 July 2026 is a Tuesday, in summer time (UTC+2).
    moment = next_marketing_moment(datetime(2026, 7, 14, 10, 0, tzinfo=UTC), PARIS)
    assert moment == datetime(2026, 7, 15, 6, 0, tzinfo=UTC)


def test_the_recipients_zone_decides() -> None:
    now = at(18, 12)  # 13:00 in Paris, 07:00 in New York
    assert next_marketing_moment(now, PARIS) == now
    assert next_marketing_moment(now, "America/New_York") == at(18, 13)


def _decide(
    state: str, *, consented: bool = True, now: datetime | None = None, end: datetime | None = None
) -> Verdict:
    return decide(
        state=state,
        now=now or at(18, 9),
        window_start=None,
        window_end=end or at(20, 9),
        consented=consented,
        zone=PARIS,
    )


def test_decisions() -> None:
    assert _decide("running").decision is Decision.SEND
    assert _decide("running", consented=False).reason == "no_consent"
    paused = _decide("paused")
    assert paused.decision is Decision.WAIT and paused.at == at(18, 9) + timedelta(minutes=1)
    assert _decide("cancelled").reason == "cancelled"
    assert _decide("running", now=at(20, 9)).reason == "ended"
    # Quiet hours that run past the end of the sale: dropped, not sent after it.
    assert _decide("running", now=at(19, 21), end=at(20, 6)).reason == "ended"


def test_variants_follow_their_shares_and_are_stable() -> None:
    picks = Counter(pick_variant("cmp_1", f"c{i}", [70, 30]) for i in range(10_000))
    assert 6_700 < picks[0] < 7_300
    assert pick_variant("cmp_1", "c42", [70, 30]) == pick_variant("cmp_1", "c42", [70, 30])
