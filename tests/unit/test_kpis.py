"""Every dashboard figure computed on a known data set (bot.store.kpis.compute)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.store.kpis import Facts, compute
from bot.store.kpis_more import Conversation, Said, campaign_figures, conversation_figures
from bot.store.ledger import InvoiceExtras
from payments.invoice import InvoiceStatus
from payments.plan import Instalment, Plan
from tests.payments.factories import customer, invoice, line

TODAY = date(2026, 12, 31)
NONE = InvoiceExtras(plan=None, promise=None, paused=False)


def fact(
    n: int,
    channel: str,
    issued: date,
    *,
    gross_ht: int = 10_000,
    paid_on: date | None = None,
    due: date = date(2026, 12, 20),
    promise: date | None = None,
    plan: tuple[str, ...] | None = None,
) -> Facts:
    total = gross_ht * 12 // 10
    inv = invoice(
        id=f"inv_{n}",
        number=f"F-2026-{n:06d}",
        channel=channel,
        customer=customer(telegram_chat_id=42),
        lines=(line(gross_ht),),
        issue_date=issued,
        due_date=due,
        status=InvoiceStatus.PAID if paid_on else InvoiceStatus.OPEN,
        amount_paid=total if paid_on else 0,
    )
    made = (
        Plan(
            tuple(Instalment(i + 1, 100, due, s) for i, s in enumerate(plan)),
            "2026-12-01T00:00:00",
        )
        if plan
        else None
    )
    return Facts(inv, paid_on, InvoiceExtras(plan=made, promise=promise, paused=False))


DATA = [
    # sms: 3 invoices, 2 paid after 2 and 6 days; the third overdue (120.00 of 360.00).
    fact(1, "sms", date(2026, 12, 1), paid_on=date(2026, 12, 3)),
    fact(2, "sms", date(2026, 12, 2), paid_on=date(2026, 12, 8), promise=date(2026, 12, 7)),
    fact(3, "sms", date(2026, 12, 3), promise=date(2026, 12, 10), plan=("paid", "open")),
    # telegram: 2 invoices, one paid after 10 days with a kept promise and a completed plan,
    # the other not yet due (not overdue).
    fact(
        4,
        "telegram",
        date(2026, 12, 4),
        gross_ht=20_000,
        paid_on=date(2026, 12, 14),
        promise=date(2026, 12, 15),
        plan=("paid", "paid"),
    ),
    fact(5, "telegram", date(2026, 12, 5), due=date(2027, 1, 31)),
    # outside the period: counted nowhere
    fact(6, "sms", date(2026, 11, 1), paid_on=date(2026, 11, 2)),
]


def test_every_figure_over_the_period_and_per_channel() -> None:
    result = compute(DATA, date(2026, 12, 1), date(2026, 12, 31), TODAY)
    assert list(result) == ["all", "sms", "telegram"]
    everything, sms, telegram = result["all"], result["sms"], result["telegram"]

    assert (everything.invoices, everything.paid, everything.conversion) == (5, 3, 0.6)
    assert (sms.invoices, sms.paid, sms.conversion) == (3, 2, 0.6667)
    assert (telegram.invoices, telegram.paid, telegram.conversion) == (2, 1, 0.5)

    # invoiced: 4 × 120.00 + 240.00 = 720.00; overdue: invoice 3 only (120.00)
    assert (everything.invoiced, everything.overdue_amount) == (72_000, 12_000)
    assert everything.unpaid_rate == round(12_000 / 72_000, 4)
    assert sms.unpaid_rate == round(12_000 / 36_000, 4)
    assert telegram.unpaid_rate == 0.0

    # delays 2, 6, 10 days
    assert (everything.average_delay_days, everything.median_delay_days) == (6.0, 6.0)
    assert (sms.average_delay_days, sms.median_delay_days) == (4.0, 4.0)

    # promises: #2 broken (paid the 8th for the 7th), #3 unpaid, #4 kept
    assert (everything.promises, everything.promise_kept_rate) == (3, 0.3333)
    # plans: #3 half paid, #4 complete
    assert (everything.plans, everything.plan_completion_rate) == (2, 0.5)


def test_an_empty_period_has_no_rates() -> None:
    [(name, empty)] = compute(DATA, date(2025, 1, 1), date(2025, 1, 31), TODAY).items()
    assert name == "all"
    assert (empty.invoices, empty.conversion, empty.unpaid_rate) == (0, None, None)
    assert (empty.average_delay_days, empty.promise_kept_rate, empty.plan_completion_rate) == (
        None,
        None,
        None,
    )


# Conversations and campaigns ------------------------------------------------------------------


def said(minute: int, *, out: bool = True, agent: bool = False, text: str = "ok") -> Said:
    return Said(datetime(2026, 12, 1, 10, minute, tzinfo=UTC), out, agent, text)


def test_conversation_figures_on_a_known_data_set() -> None:
    sms_paid = fact(1, "sms", date(2026, 12, 1), paid_on=date(2026, 12, 3)).invoice
    tg_paid = fact(4, "telegram", date(2026, 12, 4), paid_on=date(2026, 12, 14)).invoice
    open_one = fact(3, "sms", date(2026, 12, 3)).invoice
    long_sms = "x" * 161  # two GSM-7 segments
    rows = [
        # SMS, paid: 2 messages out (1 + 2 segments), 1 reply in; handed over at :05,
        # an agent answers at :09 (4 minutes).
        Conversation(
            sms_paid,
            [said(0), said(1, out=False), said(9, agent=True, text=long_sms)],
            datetime(2026, 12, 1, 10, 5, tzinfo=UTC),
        ),
        # Telegram, paid: 3 messages, no hand-over.
        Conversation(tg_paid, [said(0), said(2), said(3)], None),
        # SMS, open: handed over at :00, an agent answers at :10 (10 minutes).
        Conversation(open_one, [said(10, agent=True)], datetime(2026, 12, 1, 10, 0, tzinfo=UTC)),
    ]
    figures = conversation_figures(rows)
    assert (figures.invoices, figures.handed_over, figures.handover_rate) == (3, 2, 0.6667)
    assert figures.first_response_seconds_median == 420.0  # median of 240 and 600
    assert figures.paid == 2
    assert figures.messages_per_paid_invoice == 2.5  # (2 + 3) / 2
    assert figures.sms_segments_per_paid_invoice == 1.5  # (1 + 2) / 2 paid invoices
    empty = conversation_figures([])
    assert (empty.handover_rate, empty.messages_per_paid_invoice) == (None, None)


def test_an_invoice_never_sent_stays_out_of_the_conversion() -> None:
    """Conversion is paid / sent: of the invoices whose message went out, the share paid."""
    from dataclasses import replace

    rows = [*DATA[:5], replace(fact(7, "sms", date(2026, 12, 6)), sent=False)]
    rows.append(replace(fact(8, "sms", date(2026, 12, 6), paid_on=date(2026, 12, 7)), sent=False))
    result = compute(rows, date(2026, 12, 1), date(2026, 12, 31), TODAY)
    everything, sms = result["all"], result["sms"]
    # 7 issued, 5 sent of which 3 paid; #8 is paid but was never sent: not a conversion
    assert (everything.invoices, everything.sent, everything.paid) == (7, 5, 4)
    assert everything.conversion == 0.6
    assert (sms.invoices, sms.sent, sms.conversion) == (5, 3, 0.6667)


def test_campaign_figures() -> None:
    counts = {"sent": 200, "delivered": 160, "clicked": 40, "paid": 10}
    c = campaign_figures("c_1", "Soldes", "running", counts)
    assert (c.sent, c.delivered, c.clicked, c.paid, c.revenue) == (200, 160, 40, 10, 0)
    assert c.conversion == 0.0625  # paid / delivered, not paid / sent (0.05)
    assert campaign_figures("c_3", "Rien", "done", {"sent": 5}).conversion is None
    assert campaign_figures("c_2", "Vide", "draft", {}).conversion is None


def test_the_fast_payment_reward_is_counted() -> None:
    """Issue 10: invoices that offered the reward, those that earned it, and the share."""
    from dataclasses import replace
    from datetime import timedelta

    from payments.reward import GrantedReward, RewardPolicy

    offer = RewardPolicy(True, 48, "points", points=10).offer(datetime(2026, 12, 1, tzinfo=UTC))
    earned = GrantedReward.of(offer, datetime(2026, 12, 1, tzinfo=UTC) + timedelta(hours=3))  # type: ignore[arg-type]
    plain = fact(1, "sms", date(2026, 12, 1), paid_on=date(2026, 12, 1))
    fast = fact(2, "sms", date(2026, 12, 1), paid_on=date(2026, 12, 1))
    slow = fact(3, "telegram", date(2026, 12, 1), paid_on=date(2026, 12, 9))
    rows = [
        plain,
        replace(
            fast,
            invoice=replace(fast.invoice, reward=offer),
            extras=replace(fast.extras, counted=True, reward=earned),
        ),
        replace(
            slow,
            invoice=replace(slow.invoice, reward=offer),
            extras=replace(slow.extras, counted=True),
        ),
    ]
    figures = compute(rows, date(2026, 12, 1), date(2026, 12, 31), TODAY)
    assert (figures["all"].rewards_offered, figures["all"].rewards_granted) == (2, 1)
    assert figures["all"].fast_payment_rate == 0.5
    assert figures["telegram"].fast_payment_rate == 0.0
    assert figures["sms"].rewards_offered == 1
