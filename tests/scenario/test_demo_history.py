"""The demo's month of history (bot.demo_history): played through the real app on a throwaway
Redis, it gives the dashboard's own KPI functions non-trivial and consistent figures."""

from __future__ import annotations

from datetime import timedelta

from bot.demo_history import DAYS, Seeder, plan_history, seed_history
from bot.demo_history_flash import BUYERS, PEOPLE
from bot.store import kpis_more
from tests.scenario.harness import Facto


def test_the_plan_is_the_same_every_time_and_covers_every_behaviour() -> None:
    first, again = plan_history(), plan_history()
    assert first == again
    assert plan_history(seed=1) != first
    assert {p.behaviour for p in first} >= {"pays", "never", "plan", "dispute", "refund", "void"}
    assert {p.customer.channel for p in first} == {"sms", "telegram", "whatsapp"}
    assert all(0 <= p.day < DAYS for p in first)


async def test_a_month_of_history_gives_the_dashboard_figures(facto: Facto) -> None:
    assert facto.merchant is not None
    services = facto.worker.services

    async def refund(session_id: str, amount: int) -> None:
        intent = facto.sandbox.sessions[session_id].payment_intent
        assert intent is not None
        await services.stripe.refund(intent, amount, f"demo-refund-{intent}")

    started = facto.clock.now()
    seeder = Seeder(facto.client, "", facto.api_key, facto.clock, facto.drain, refund)
    counts = await seed_history(seeder)

    # Back where it was (the pacer's sleeps move a fake clock by a few seconds).
    assert abs(facto.clock.now() - started) < timedelta(minutes=5)
    plan = plan_history()
    assert counts["invoices"] == len(plan)
    today = started.date()
    report = await kpis_more.report(
        facto.redis, facto.merchant.id, today - timedelta(days=DAYS), today, today
    )
    figures = report["figures"]
    whole = figures["all"]
    # The flash sale's paid orders are issued as numbered invoices too.
    assert whole["invoices"] == len(plan) + len(BUYERS)
    assert set(figures) == {"all", "sms", "telegram", "whatsapp"}
    for name in ("invoices", "paid", "invoiced", "overdue_amount"):
        assert whole[name] == sum(figures[c][name] for c in ("sms", "telegram", "whatsapp"))
    assert 0 < whole["paid"] < whole["invoices"]
    assert 0 < whole["conversion"] < 1
    assert 0 < whole["unpaid_rate"] < 1
    assert whole["average_delay_days"] is not None and whole["average_delay_days"] >= 0
    assert whole["promises"] >= 2 and whole["plans"] >= 1
    assert 0 < whole["promise_kept_rate"] < 1  # kept and broken promises both happened
    assert whole["plan_completion_rate"] == 0  # a month in, only first instalments are paid
    conversations = report["conversations"]["all"]
    assert conversations["handed_over"] >= 1 and conversations["messages_per_paid_invoice"] > 0
    assert counts.get("disputes") and counts.get("refunds") and counts.get("voided")
    # The month's flash sale ran: sent to every opted-in customer, delivered, some paid.
    [sale] = report["campaigns"]
    assert sale["sent"] == PEOPLE and sale["paid"] == len(BUYERS) == counts["flash_paid"]
    assert sale["clicked"] >= len(BUYERS) and sale["revenue"] == len(BUYERS) * 4900
    assert 0 < sale["conversion"] < 1
    view = await facto.client.get(
        f"/api/v1/campaigns/{sale['campaign_id']}",
        headers={"Authorization": f"Bearer {facto.api_key}"},
    )
    assert (await view.json())["counts"].get("delivered", 0) > 0
