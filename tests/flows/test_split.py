"""Split in N: the exact schedule, confirmed before anything is created; the policy's limits."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from flows.model import Choice, ConversationState, CreatePlan, Handoff, SetPromise, Step
from payments.money import Money
from tests.flows.helpers import (
    FOUR_INSTALMENTS,
    LOCALES,
    MENU,
    NOW,
    PARTS,
    PAY_URL,
    PLAN_MENU,
    SMALL_MENU,
    TODAY,
    Conversation,
    at,
    euros,
    invoice_facts,
    invoice_with_plan,
    money,
)

YES_NO = (Choice.YES, Choice.NO)


def test_the_production_policies_are_the_products_rules() -> None:
    """Split from 50 € in 2 or 3 payments within 90 days, no fees; pay later ≤ due + 30.

    4 payments only for a merchant who chose it (LEGAL_FR §4.3, issue 6 §3)."""
    split = invoice_facts().split_policy
    assert (split.minimum("EUR"), split.allowed_parts, split.max_span_days, split.fees) == (
        euros("50.00"),
        (2, 3),
        90,
        0,
    )
    assert invoice_facts().pay_later_policy.max_days_after_due == 30


def total(schedule: list[tuple[date, Money]]) -> int:
    return sum(amount.amount for _due, amount in schedule)


@pytest.mark.parametrize(
    ("locale", "split", "yes"),
    [("fr", "en 3 fois", "oui"), ("en", "in 3 payments", "yes"), ("en", "in 3 instalments", "ok")],
)
def test_split_in_three_shows_the_schedule_then_creates_the_plan(
    locale: str, split: str, yes: str
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(split)
    assert bot.message == "split_proposal"
    assert bot.params["parts"] == 3
    schedule = bot.params["schedule"]
    assert [due for due, _ in schedule] == [
        date(2026, 11, 18),
        date(2026, 12, 18),
        date(2027, 1, 18),
    ]
    assert [amount for _, amount in schedule] == [euros("40.00")] * 3
    assert total(schedule) == 12000
    assert schedule[-1][0] - schedule[0][0] <= timedelta(days=90)
    assert bot.choices == YES_NO
    assert chat.state.step is Step.CONFIRM_SPLIT
    assert chat.state.proposed_parts == 3
    assert bot.of(CreatePlan) == []  # nothing is created before the customer confirms
    assert money(euros("40.00"), locale) in bot.text
    assert money(euros("120.00"), locale) in bot.text

    bot = chat.says(yes)
    assert bot.message == "split_confirmed"
    (plan,) = bot.of(CreatePlan)
    dues = (date(2026, 11, 18), date(2026, 12, 18), date(2027, 1, 18))
    assert plan.schedule == tuple((due, 4000) for due in dues)
    assert plan.notify_at[0] == NOW  # the first link goes out now, in this message
    assert plan.notify_at[1:] == (at(dues[1], 9), at(dues[2], 9))
    assert plan.late_at == tuple(at(due + timedelta(days=3), 10) for due in dues)
    assert bot.params["first_url"] == f"{PAY_URL}/1"
    assert bot.params["first_url"].endswith("/1")
    assert f"{PAY_URL}/1" in bot.text
    assert bot.choices == ()
    assert bot.state.step is Step.MENU
    assert bot.state.proposed_parts is None
    assert chat.invoice is not None and len(chat.invoice.instalments) == 3


@pytest.mark.parametrize("locale", LOCALES)
def test_after_the_plan_pay_now_sends_the_first_instalments_link(locale: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.SPLIT_3)
    chat.taps(Choice.YES)

    bot = chat.taps(Choice.PAY)

    assert bot.message == "instalment_link"
    assert bot.params["instalment"].number == 1
    assert f"{PAY_URL}/1" in bot.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("amount", "parts", "amounts"),
    [
        ("100.00", 3, [3333, 3333, 3334]),
        ("50.00", 3, [1666, 1666, 1668]),
        ("50.00", 4, [1250, 1250, 1250, 1250]),
        ("1234.57", 4, [30864, 30864, 30864, 30865]),
        ("99.99", 2, [4999, 5000]),
    ],
)
def test_the_schedule_adds_up_to_the_amount_due_to_the_cent(
    locale: str, amount: str, parts: int, amounts: list[int]
) -> None:
    chat = Conversation(locale, invoice_facts(amount, split_policy=FOUR_INSTALMENTS))

    bot = chat.taps({2: Choice.SPLIT_2, 3: Choice.SPLIT_3, 4: Choice.SPLIT_4}[parts])

    assert bot.message == "split_proposal"
    assert [m.amount for _due, m in bot.params["schedule"]] == amounts
    assert total(bot.params["schedule"]) == euros(amount).amount
    (plan,) = chat.taps(Choice.YES).of(CreatePlan)
    assert sum(minor for _due, minor in plan.schedule) == euros(amount).amount


@pytest.mark.parametrize(("locale", "split"), [("fr", "en 4 fois"), ("en", "in 4 payments")])
def test_four_payments_end_within_90_days(locale: str, split: str) -> None:
    chat = Conversation(locale, invoice_facts(split_policy=FOUR_INSTALMENTS))

    bot = chat.says(split)

    assert bot.message == "split_proposal"
    dues = [due for due, _ in bot.params["schedule"]]
    assert dues[0] == TODAY
    assert dues == sorted(dues)
    assert (dues[-1] - dues[0]).days <= 90
    assert total(bot.params["schedule"]) == 12000


@pytest.mark.parametrize(("locale", "split"), [("fr", "en 4 fois"), ("en", "in 4 payments")])
def test_four_payments_are_refused_by_default(locale: str, split: str) -> None:
    """Issue 6 §3: 4 used to be offered to every customer; LEGAL_FR §4.3 says 3 at most."""
    chat = Conversation(locale)

    bot = chat.says(split)

    assert bot.message == "split_not_allowed"
    assert (bot.params["asked"], bot.params["maximum"]) == (4, 3)
    assert bot.choices == (Choice.SPLIT_2, Choice.SPLIT_3)
    assert bot.of(CreatePlan) == []


@pytest.mark.parametrize(
    ("locale", "split", "no"),
    [
        ("fr", "en 3 fois", "non"),
        ("en", "in 3 payments", "no"),
        ("fr", "en 3 fois", "non merci"),
        ("en", "in 3 payments", "no thanks"),
    ],
)
def test_no_to_the_proposal_creates_nothing(locale: str, split: str, no: str) -> None:
    chat = Conversation(locale)
    chat.says(split)

    bot = chat.says(no)

    assert bot.message == "split_declined"
    assert bot.of(CreatePlan) == []
    assert bot.choices == MENU
    assert chat.state.step is Step.MENU
    assert chat.state.proposed_parts is None


@pytest.mark.parametrize(("locale", "split"), [("fr", "en 10 fois"), ("en", "in 10 payments")])
def test_too_many_payments_explains_the_maximum_and_offers_the_allowed_ones(
    locale: str, split: str
) -> None:
    chat = Conversation(locale)

    bot = chat.says(split)

    assert bot.message == "split_not_allowed"
    assert bot.params["maximum"] == 3
    assert bot.params["asked"] == 10
    assert bot.choices == PARTS == (Choice.SPLIT_2, Choice.SPLIT_3)
    assert chat.state.step is Step.ASK_PARTS
    assert "3" in bot.text and "10" in bot.text

    bot = chat.taps(Choice.SPLIT_3)
    assert bot.message == "split_proposal"
    assert bot.params["parts"] == 3


@pytest.mark.parametrize(
    ("locale", "several", "number", "parts"),
    [
        ("fr", "en plusieurs fois", "3", 3),
        ("fr", "je voudrais payer en plusieurs fois", "2 fois", 2),
        ("en", "in several instalments", "3", 3),
        ("en", "in several payments", "2", 2),
        ("en", "can I pay in instalments?", "3", 3),
    ],
)
def test_split_without_a_number_asks_how_many(
    locale: str, several: str, number: str, parts: int
) -> None:
    chat = Conversation(locale)

    bot = chat.says(several)
    assert bot.message == "ask_parts", str(chat)
    assert bot.choices == PARTS
    assert chat.state.step is Step.ASK_PARTS
    assert bot.params["allowed"] == (2, 3)

    bot = chat.says(number)  # a bare number answers "how many?"
    assert bot.message == "split_proposal"
    assert bot.params["parts"] == parts
    assert len(bot.params["schedule"]) == parts
    assert bot.state.step is Step.CONFIRM_SPLIT


@pytest.mark.parametrize("locale", LOCALES)
def test_split_by_buttons(locale: str) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    assert chat.taps(Choice.SPLIT).message == "ask_parts"
    bot = chat.taps(Choice.SPLIT_2)
    assert bot.message == "split_proposal"
    assert [m for _d, m in bot.params["schedule"]] == [euros("60.00"), euros("60.00")]
    (plan,) = chat.taps(Choice.YES).of(CreatePlan)
    assert plan.schedule == ((date(2026, 11, 18), 6000), (date(2026, 12, 18), 6000))


@pytest.mark.parametrize(("locale", "no"), [("fr", "non"), ("en", "no")])
def test_no_when_asked_how_many_declines(locale: str, no: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.SPLIT)

    bot = chat.says(no)

    assert bot.message == "split_declined"
    assert chat.state.step is Step.MENU


@pytest.mark.parametrize(
    ("locale", "split", "other", "yes"),
    [
        ("fr", "en 3 fois", "finalement en 2 fois", "oui"),
        ("en", "in 3 payments", "actually in 2 payments", "yes"),
    ],
)
def test_another_number_while_confirming_makes_a_new_proposal(
    locale: str, split: str, other: str, yes: str
) -> None:
    chat = Conversation(locale)
    chat.says(split)

    bot = chat.says(other)
    assert bot.message == "split_proposal"
    assert bot.params["parts"] == 2
    assert len(bot.params["schedule"]) == 2
    assert chat.state.step is Step.CONFIRM_SPLIT
    assert chat.state.proposed_parts == 2
    assert bot.of(CreatePlan) == []

    (plan,) = chat.says(yes).of(CreatePlan)
    assert len(plan.schedule) == 2


@pytest.mark.parametrize(
    ("locale", "split", "pay_now", "yes"),
    [
        ("fr", "en 3 fois", "finalement je paie maintenant", "oui"),
        ("en", "in 3 payments", "actually I'll pay now", "yes"),
    ],
)
def test_pay_now_while_confirming_is_a_change_of_mind(
    locale: str, split: str, pay_now: str, yes: str
) -> None:
    chat = Conversation(locale)
    chat.says(split)

    bot = chat.says(pay_now)
    assert bot.message == "pay_link"
    assert bot.of(CreatePlan) == []
    assert chat.state.step is Step.MENU
    assert chat.state.proposed_parts is None

    bot = chat.says(yes)  # the proposal is gone: a late "yes" creates nothing
    assert bot.of(CreatePlan) == []


@pytest.mark.parametrize(
    ("locale", "split", "later"),
    [("fr", "en 3 fois", "finalement vendredi"), ("en", "in 3 payments", "actually Friday")],
)
def test_a_date_while_confirming_is_a_change_of_mind(locale: str, split: str, later: str) -> None:
    chat = Conversation(locale)
    chat.says(split)

    bot = chat.says(later)

    assert bot.message == "promise_recorded"
    assert bot.of(CreatePlan) == []
    assert len(bot.of(SetPromise)) == 1
    assert chat.state.proposed_parts is None


@pytest.mark.parametrize(
    ("locale", "words", "expected"),
    [
        ("fr", "oui mais je conteste cette facture", "dispute_received"),
        ("fr", "oui mais j'ai déjà payé", "already_paid_check"),
        ("en", "yes but I never ordered this", "dispute_received"),
        ("en", "yes but I already paid", "already_paid_check"),
    ],
)
def test_a_dispute_or_already_paid_is_never_a_yes(locale: str, words: str, expected: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.SPLIT_3)

    bot = chat.says(words)

    assert bot.message == expected
    assert bot.of(CreatePlan) == []
    assert len(bot.of(Handoff)) == 1


@pytest.mark.parametrize(("locale", "split"), [("fr", "en 3 fois"), ("en", "in 3 payments")])
def test_below_50_euros_split_is_unavailable(locale: str, split: str) -> None:
    chat = Conversation(locale, invoice_facts("49.99"))

    bot = chat.says(split)

    assert bot.message == "split_unavailable"
    assert bot.params["minimum"] == euros("50.00")
    assert money(euros("50.00"), locale) in bot.text
    assert bot.choices == SMALL_MENU
    assert chat.state.step is Step.MENU
    assert bot.of(CreatePlan) == []


@pytest.mark.parametrize(("locale", "split"), [("fr", "en 3 fois"), ("en", "in 3 payments")])
def test_a_currency_without_a_minimum_is_not_split(locale: str, split: str) -> None:
    """Issue 6 §3: ¥5,400 used to pass the 5,000 "minor units" minimum, shown as "50 €"."""
    yen = Money(5_400, "JPY")
    chat = Conversation(locale, invoice_facts(yen))

    assert chat.taps(Choice.HELP).choices == SMALL_MENU  # no split on offer
    bot = chat.says(split)

    assert bot.message == "split_unavailable"
    assert bot.params["minimum"] is None
    assert "50" not in bot.text and "€" not in bot.text
    assert bot.choices == SMALL_MENU
    assert bot.of(CreatePlan) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_split_becomes_unavailable_once_less_than_50_euros_are_left(locale: str) -> None:
    # 80,00 € of 120,00 € received: the ledger only counts a part of a whole invoice
    # through a plan (then "plan_exists" answers), so the conversation starts from an
    # invoice stored with 40,00 € left rather than from a payment of 80,00 €.
    left = invoice_facts(amount_due=euros("40.00"), status="partially_paid")
    chat = Conversation(locale, left)

    bot = chat.invoice_sent()

    assert bot.choices == SMALL_MENU
    assert chat.taps(Choice.SPLIT).message == "split_unavailable"


@pytest.mark.parametrize(("locale", "split"), [("fr", "en 3 fois"), ("en", "in 3 payments")])
def test_split_when_a_plan_exists_says_so(locale: str, split: str) -> None:
    chat = Conversation(locale, invoice_with_plan(paid=1))

    bot = chat.says(split)

    assert bot.message == "plan_exists"
    assert bot.params["next"].number == 2
    assert bot.choices == PLAN_MENU
    assert bot.of(CreatePlan) == []


@pytest.mark.parametrize("locale", LOCALES)
def test_confirming_twice_does_not_create_a_second_plan(locale: str) -> None:
    chat = Conversation(locale)
    chat.taps(Choice.SPLIT_3)
    assert chat.taps(Choice.YES).of(CreatePlan)

    bot = chat.taps(Choice.YES)  # a stale button tapped again

    assert bot.of(CreatePlan) == []


@pytest.mark.parametrize(
    ("locale", "said", "now_part", "rest_on"),
    [
        (
            "fr",
            "je peux payer 50 € maintenant et le reste vendredi ?",
            "50.00",
            date(2026, 11, 20),
        ),
        ("fr", "42,90 tout de suite et le solde le 15 décembre", "42.90", date(2026, 12, 15)),
        ("en", "half now and half at the end of the month please", "60.00", date(2026, 11, 30)),
        ("en", "can I pay £30 now and the rest on Monday?", "30.00", date(2026, 11, 23)),
    ],
)
def test_a_split_in_two_on_the_customers_terms(
    locale: str, said: str, now_part: str, rest_on: date
) -> None:
    """ "50 maintenant et le reste vendredi": that schedule is shown and confirmed, not the
    standard one (a month apart, in halves)."""
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(said)
    assert bot.message == "split_proposal"
    first = euros(now_part)
    rest = euros("120.00") - first
    assert bot.params["schedule"] == [(TODAY, first), (rest_on, rest)]
    assert money(first, locale) in bot.text and money(rest, locale) in bot.text
    assert chat.state.step is Step.CONFIRM_SPLIT
    assert bot.of(CreatePlan) == []

    bot = chat.says("oui" if locale == "fr" else "yes")
    (plan,) = bot.of(CreatePlan)
    assert plan.schedule == ((TODAY, first.amount), (rest_on, rest.amount))
    assert plan.notify_at == (NOW, at(rest_on, 9))
    assert bot.state.proposed_later == () and bot.state.proposed_first is None


def test_the_customers_terms_are_those_of_the_day_they_say_yes() -> None:
    chat = Conversation("fr")
    chat.invoice_sent()
    chat.says("30 maintenant et le reste le 10 décembre")
    chat.now = NOW + timedelta(days=1)

    (plan,) = chat.says("oui").of(CreatePlan)
    assert plan.schedule == ((TODAY + timedelta(days=1), 3000), (date(2026, 12, 10), 9000))


@pytest.mark.parametrize(
    ("locale", "said", "said_day", "note"),
    [
        ("fr", "50 maintenant et le reste le 28 février", "28 février 2027", "au plus tard le"),
        ("en", "£50 now and the rest on 28 February", "February 28, 2027", "the latest is"),
    ],
)
def test_a_rest_beyond_the_span_moves_to_its_last_day_and_the_proposal_says_why(
    locale: str, said: str, said_day: str, note: str
) -> None:
    """The customer's amount for now is kept, the rest goes as late as the policy allows (90
    days), and the reply names the day asked and the latest one, rather than quietly
    proposing other terms."""
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(said)
    assert bot.message == "split_proposal", str(chat)
    latest = TODAY + timedelta(days=90)
    assert bot.params["schedule"] == [(TODAY, euros("50.00")), (latest, euros("70.00"))]
    assert bot.params["rest_asked"] == date(2027, 2, 28)
    assert said_day in bot.text and note in bot.text
    assert bot.text.index(note) < bot.text.index(money(euros("70.00"), locale))

    (plan,) = chat.says("oui" if locale == "fr" else "yes").of(CreatePlan)
    assert plan.schedule == ((TODAY, 5000), (latest, 7000))


@pytest.mark.parametrize(("locale", "said"), [("fr", "200 maintenant et le reste vendredi")])
def test_an_amount_for_now_not_below_what_is_due_gives_equal_payments_and_says_so(
    locale: str, said: str
) -> None:
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(said)
    assert bot.message == "split_proposal"
    assert bot.params["schedule"] == [
        (TODAY, euros("60.00")),
        (date(2026, 11, 20), euros("60.00")),
    ]
    assert bot.params["amounts_said"] == euros("200.00")
    assert money(euros("200.00"), locale) in bot.text and "égaux" in bot.text


def test_terms_within_the_policy_are_proposed_without_a_note() -> None:
    chat = Conversation("fr")
    chat.invoice_sent()

    bot = chat.says("50 maintenant et le reste vendredi")
    assert bot.params["rest_asked"] is None and bot.params["amounts_said"] is None
    assert "au plus tard" not in bot.text and "égaux" not in bot.text


@pytest.mark.parametrize(
    ("locale", "said", "expected"),
    [
        (
            "fr",
            "je peux payer 30 aujourd'hui, 30 le 10 et 60 le 20 ?",
            [(TODAY, "30.00"), (date(2026, 12, 10), "30.00"), (date(2026, 12, 20), "60.00")],
        ),
        (
            "fr",
            "20 maintenant, 40 le 15 et le reste fin décembre",
            [(TODAY, "20.00"), (date(2026, 12, 15), "40.00"), (date(2026, 12, 31), "60.00")],
        ),
        (
            "en",
            "can I do 30 today, 30 next friday and 60 at the end of the month?",
            [(TODAY, "30.00"), (date(2026, 11, 20), "30.00"), (date(2026, 11, 30), "60.00")],
        ),
    ],
)
def test_a_split_in_three_on_the_customers_terms(
    locale: str, said: str, expected: list[tuple[date, str]]
) -> None:
    """Every payment with its day, the first today: that schedule is proposed and created,
    not three monthly thirds."""
    chat = Conversation(locale)
    chat.invoice_sent()

    bot = chat.says(said)
    assert bot.message == "split_proposal", str(chat)
    schedule = [(due, euros(amount)) for due, amount in expected]
    assert bot.params["schedule"] == schedule
    assert bot.params["rest_asked"] is None and bot.params["amounts_said"] is None

    (plan,) = chat.says("oui" if locale == "fr" else "yes").of(CreatePlan)
    assert plan.schedule == tuple((due, amount.amount) for due, amount in schedule)
    assert plan.notify_at == (NOW, *(at(due, 9) for due, _ in schedule[1:]))


def test_three_amounts_that_do_not_add_up_keep_their_days_in_equal_payments() -> None:
    chat = Conversation("fr")
    chat.invoice_sent()

    bot = chat.says("50 aujourd'hui, 50 le 10 et 50 le 20")  # 150 named, 120 due
    assert bot.message == "split_proposal"
    assert bot.params["schedule"] == [
        (TODAY, euros("40.00")),
        (date(2026, 12, 10), euros("40.00")),
        (date(2026, 12, 20), euros("40.00")),
    ]
    assert bot.params["amounts_said"] == euros("150.00")
    assert "150" in bot.text and "égaux" in bot.text


def test_a_count_the_merchant_does_not_allow_is_explained_not_forced() -> None:
    chat = Conversation("fr")  # the merchant allows 2 or 3 payments
    chat.invoice_sent()

    bot = chat.says("30 aujourd'hui, 30 le 5, 30 le 15 et 30 le 25")
    assert bot.message == "split_not_allowed"
    assert bot.params["asked"] == 4


def test_days_out_of_order_get_the_standard_schedule() -> None:
    chat = Conversation("fr")
    chat.invoice_sent()

    bot = chat.says("40 le 20 décembre, 40 aujourd'hui et 40 le 5 décembre")
    assert bot.message == "split_proposal"
    assert bot.params["parts"] == 3
    assert [due for due, _ in bot.params["schedule"]] == [
        TODAY,
        date(2026, 12, 18),
        date(2027, 1, 18),
    ]


def test_the_terms_survive_the_state_being_stored_and_read_back() -> None:
    chat = Conversation("fr")
    chat.invoice_sent()
    chat.says("30 aujourd'hui, 30 le 10 et le reste le 20")
    stored = json.loads(json.dumps(chat.state.to_dict()))
    assert ConversationState.from_dict(stored) == chat.state


def test_a_state_stored_before_splits_in_three_reads_its_rest_day() -> None:
    old = {"step": "confirm_split", "proposed_parts": 2, "proposed_rest_on": "2026-11-20"}
    old |= {"proposed_first": 5000}

    state = ConversationState.from_dict(old)

    assert state.proposed_later == (("2026-11-20", None),)
    assert state.proposed_first == 5000


@pytest.mark.parametrize(
    ("locale", "again"), [("fr", "oui, en 3 fois"), ("en", "ok 3 payments then")]
)
def test_the_count_proposed_said_again_confirms_the_plan(locale: str, again: str) -> None:
    """Repeating the count of the plan shown is agreeing to it: the plan is created rather
    than the same proposal shown again (the customer would loop)."""
    chat = Conversation(locale)
    chat.invoice_sent()
    assert chat.says("en 3 fois" if locale == "fr" else "in 3 payments").message == (
        "split_proposal"
    )

    bot = chat.says(again)

    assert bot.message == "split_confirmed", str(chat)
    (plan,) = bot.of(CreatePlan)
    assert len(plan.schedule) == 3


def test_another_count_while_confirming_is_still_a_new_proposal() -> None:
    chat = Conversation("fr")
    chat.invoice_sent()
    chat.says("en 3 fois")

    bot = chat.says("non en 2 fois")

    assert bot.message == "split_proposal" and bot.params["parts"] == 2
    assert bot.of(CreatePlan) == []
