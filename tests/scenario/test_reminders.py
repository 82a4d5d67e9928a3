"""The reminder ladder end to end, on the injected clock: every step through the real path
(scheduler -> inbox -> dispatch -> flow -> outbox -> emulator), in French and English, with a
promise, a dispute's pause and hand-back, a public holiday and a daylight-saving change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from tests.scenario.console_client import Browser, add_user
from tests.scenario.harness import Facto, invoice_body, start_facto
from tests.scenario.test_console import REF
from tests.scenario.test_conversations import LINES, TG, pay, texts

# Due Friday 26 February 2027. The ladder, at 10:00 in Paris (09:00 UTC in winter):
# Tue 23 Feb (-3), Fri 26 Feb (0), Mon 1 Mar (+3), Mon 8 Mar (+10), and +30 falls on Sunday
# 28 March, the night clocks go forward, then Easter Monday (a public holiday): the final
# notice goes on Tuesday 30 March at 09:00 in Paris, which is now 07:00 UTC.
DUE = date(2027, 2, 26)
FINAL = datetime(2027, 3, 30, 7, 0, tzinfo=UTC)


def at(day: int, month: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    # People are slow here: nobody hands the conversation back behind the test's back.
    app = await start_facto(
        redis_server.url,
        redis,
        FACTO_AGENT_RETURN_HOURS=720,
        FACTO_AGENT_IDLE_RELEASE_MINUTES=24 * 60,
    )
    await app.add_merchant()
    yield app
    await app.client.close()


async def new_texts(shop: Facto, seen: int, *address: str) -> list[str]:
    return (await texts(shop, *(address or TG)))[seen:]


async def walk_to(shop: Facto, when: datetime, *address: str) -> list[str]:
    """Move the clock to `when`, let the worker run, and return what the customer got."""
    seen = len(await texts(shop, *(address or TG)))
    shop.clock.current = when
    await shop.drain()
    return await new_texts(shop, seen, *address)


# What the customer reads (and writes) at each point of the walk, in each language.
WALK = {
    "fr": {
        "before": "petit rappel",
        "due_date": "26 février 2027",
        "left": "Reste à payer : 120,00 €",
        "penalties": "Pénalités",
        "due": "arrive à échéance aujourd'hui",
        "promise": "je paierai le 2 mars",
        "promised_date": "2 mars",
        "promised": "comme convenu",
        "dispute": "je conteste, je n'ai jamais reçu la commande",
        "disputed": "transmis",
        "handback": "de nouveau l'assistant",
        "final": "dernier rappel",
    },
    "en": {
        "before": "friendly reminder",
        "due_date": "February 26, 2027",
        "left": "Left to pay: €120.00",
        "penalties": "penalties",
        "due": "is due today",
        "promise": "I will pay on March 2",
        "promised_date": "March 2",
        "promised": "as agreed",
        "dispute": "I dispute this, I never received the order",
        "disputed": "passed to a person",
        "handback": "I am the assistant again",
        "final": "final notice",
    },
}


@pytest.mark.parametrize("locale", sorted(WALK))
async def test_the_whole_ladder_with_a_promise_a_dispute_a_holiday_and_dst(
    shop: Facto, locale: str
) -> None:
    w = WALK[locale]
    created = await shop.issue(invoice_body(*TG, locale=locale, due=DUE, lines=LINES))
    assert await shop.redis.zrange(keys.SCHEDULE, 0, -1) == [f"ladder:{created['id']}"]

    assert await walk_to(shop, at(23, 2, 8, 59)) == []  # 09:59 in Paris: not yet
    [before] = await walk_to(shop, at(23, 2))
    assert w["before"] in before and w["due_date"] in before
    assert w["left"] in before and created["pay_url"] in before
    assert w["penalties"] not in before  # a consumer never reads B2B terms

    [due] = await walk_to(shop, at(26, 2))
    assert w["due"] in due and created["pay_url"] in due

    await shop.customer_says(*TG, w["promise"])
    assert w["promised_date"] in (await texts(shop))[-1]
    assert await walk_to(shop, at(1, 3)) == []  # +3 waits: the promise is ahead

    [promised] = await walk_to(shop, at(2, 3))
    assert w["promised"] in promised  # the promise's own reminder took over

    await shop.customer_says(*TG, w["dispute"])
    assert w["disputed"] in (await texts(shop))[-1]
    assert await walk_to(shop, at(8, 3)) == []  # +10 during the dispute: silent

    # A person settles it: one catch-up for what fell due meanwhile, not a burst.
    _, secret = await add_user(shop, "lea@atelier.fr", "Léa")
    agent = Browser.open(shop)
    try:
        await agent.log_in("lea@atelier.fr", secret)
        _, queue = await agent.get("/console")
        [ref] = REF.findall(queue)
        seen = len(await texts(shop))
        await agent.post(f"/console/c/{ref}/claim")
        await agent.post(f"/console/c/{ref}/resolve", {"settled": "1"})
        await shop.drain()
    finally:
        await agent.session.close()
    [handback] = await new_texts(shop, seen)
    assert w["handback"] in handback and created["pay_url"] in handback

    # Sunday 28 (the change to summer time) and Easter Monday 29: nothing.
    assert await walk_to(shop, at(29, 3, 16)) == []
    assert await walk_to(shop, at(30, 3, 6, 59)) == []  # 08:59 in Paris
    [final] = await walk_to(shop, FINAL)
    assert w["final"] in final and created["pay_url"] in final
    assert await shop.redis.zcard(keys.SCHEDULE) == 0  # the ladder is over

    assert await walk_to(shop, at(30, 6)) == []


async def test_the_ladder_in_english_for_a_business_states_penalties_after_the_due_date(
    shop: Facto,
) -> None:
    body: dict[str, Any] = invoice_body(*TG, locale="en", due=DUE, lines=LINES)
    body["customer"]["is_business"] = True
    created = await shop.issue(body)

    [before] = await walk_to(shop, at(23, 2))
    assert "friendly reminder" in before and "February 26, 2027" in before
    assert "Left to pay: €120.00" in before and "penalties" not in before
    [due] = await walk_to(shop, at(26, 2))
    assert "is due today" in due and "penalties" not in due
    # +3 falls on Monday 1 March, the third in 7 days: it waits until Tuesday 2 March at
    # 10:00, a week after the first (TESTCASES 80: at most 2 reminders a week).
    assert await walk_to(shop, at(1, 3)) == []
    [late] = await walk_to(shop, at(2, 3))
    assert "is still unpaid" in late and created["pay_url"] in late
    # LEGAL_FR §1.4: the legal rate (no contractual one) and the fixed 40 EUR indemnity.
    assert "ECB refinancing rate plus 10 percentage points" in late
    assert "Fixed indemnity for recovery costs in case of late payment: €40.00" in late
    [ten] = await walk_to(shop, at(8, 3))
    assert "is still unpaid" in ten and "€40.00" in ten
    [final] = await walk_to(shop, FINAL)
    assert "final notice" in final and "€40.00" in final


async def test_a_worker_down_for_weeks_sends_what_fell_due_once_then_paying_stops_it(
    shop: Facto,
) -> None:
    created = await shop.issue(invoice_body(*TG, due=DUE, lines=LINES))
    # Nothing ran from issue until Tuesday 9 March: -3, 0, +3 and +10 all fell due.
    [caught_up] = await walk_to(shop, at(9, 3, 13))
    assert "n'est pas encore réglée" in caught_up
    assert await walk_to(shop, at(9, 3, 13, 30)) == []  # and never twice
    await pay(shop, created["pay_url"])
    assert await shop.redis.zcard(keys.SCHEDULE) == 0
    assert await walk_to(shop, FINAL) == []


async def test_a_step_due_at_night_or_on_sunday_waits_for_the_next_opening(shop: Facto) -> None:
    await shop.issue(invoice_body(*TG, due=DUE, lines=LINES))
    # Down from Monday 22 to Saturday 27 February 20:30 in Paris: -3 and 0 fell due, it is
    # past 19:00, and Sunday is closed: the one catch-up goes on Monday 1 March at 09:00.
    assert await walk_to(shop, at(27, 2, 19, 30)) == []
    assert await walk_to(shop, at(28, 2, 12)) == []
    [monday] = await walk_to(shop, at(1, 3, 8))
    assert "n'est pas encore réglée" in monday  # +3 is due at 10:00 that day: the same one
    assert await walk_to(shop, at(1, 3, 9)) == []
