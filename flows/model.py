"""What flows read and return: conversation state, events, facts, and actions.

Flows are pure functions of (state, event, facts) -> (state, actions): they never do I/O.
The pipeline loads the facts, calls the flow, and applies the actions atomically.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Any

from payments.instalments import InstalmentPolicy
from payments.money import Money
from payments.reward import GrantedReward, RewardOffer


class ConversationStatus(enum.StrEnum):
    BOT = "bot"  # the bot answers
    WAITING_AGENT = "waiting_agent"  # the customer asked for a human; the bot mostly listens
    AGENT = "agent"  # an agent holds the conversation; the bot is silent


class Step(enum.StrEnum):
    """Where the conversation is in a flow: what the bot is waiting for."""

    MENU = "menu"
    ASK_DATE = "ask_date"  # pay later: "when?"
    ASK_PARTS = "ask_parts"  # split: "in how many payments?"
    CONFIRM_SPLIT = "confirm_split"  # split: schedule shown, waiting for yes/no


class Choice(enum.StrEnum):
    """Actions a customer can pick (Telegram buttons, numbers on SMS); ≤ 64 bytes each."""

    PAY = "pay"
    LATER = "later"
    SPLIT = "split"
    HELP = "help"
    AGENT = "agent"
    YES = "yes"
    NO = "no"
    SPLIT_2 = "split:2"
    SPLIT_3 = "split:3"
    SPLIT_4 = "split:4"
    # "Which invoice?": the n-th invoice listed (ConversationState.candidates).
    INVOICE_1 = "invoice:1"
    INVOICE_2 = "invoice:2"
    INVOICE_3 = "invoice:3"
    INVOICE_4 = "invoice:4"

    @property
    def template(self) -> str:
        return self.value.replace(":", "_")


PART_CHOICES = frozenset({Choice.SPLIT_2, Choice.SPLIT_3, Choice.SPLIT_4})
INVOICE_CHOICES = (
    Choice.INVOICE_1,
    Choice.INVOICE_2,
    Choice.INVOICE_3,
    Choice.INVOICE_4,
)  # four lines fit 2 SMS; a later invoice can still be named by its number or amount


@dataclass(frozen=True, slots=True)
class ConversationState:
    merchant_id: str | None = None
    invoice_id: str | None = None
    locale: str | None = None
    choices: tuple[Choice, ...] = ()  # what the last message offered, in order (SMS "1", "2"...)
    unknown_streak: int = 0
    status: ConversationStatus = ConversationStatus.BOT
    step: Step = Step.MENU
    proposed_parts: int | None = None
    # A split the customer shaped ("50 maintenant et le reste vendredi", "30 aujourd'hui, 30
    # le 10 et le reste le 20"): what is paid now and each later payment's day (ISO 8601) and
    # amount, in minor units (None: a share of what the others leave).
    proposed_first: int | None = None
    proposed_later: tuple[tuple[str, int | None], ...] = ()
    # Who holds the conversation (status AGENT), and when a person last acted on it (or when
    # it started waiting): the idle release and the return to the bot count from there.
    agent_id: str | None = None
    agent_name: str | None = None
    agent_seen: str | None = None  # ISO 8601
    # "Which invoice?" asked: the invoices listed, in order, and the action waiting for the
    # answer (flows.several.pending_to_dict), applied to the one picked.
    candidates: tuple[str, ...] = ()
    pending: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "merchant_id": self.merchant_id,
            "invoice_id": self.invoice_id,
            "locale": self.locale,
            "choices": [c.value for c in self.choices],
            "unknown_streak": self.unknown_streak,
            "status": self.status.value,
            "step": self.step.value,
            "proposed_parts": self.proposed_parts,
            "proposed_first": self.proposed_first,
            "proposed_later": [list(payment) for payment in self.proposed_later],
            "agent_id": self.agent_id,
            "agent_name": self.agent_name,
            "agent_seen": self.agent_seen,
            "candidates": list(self.candidates),
            "pending": dict(self.pending) if self.pending is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConversationState:
        known = Choice._value2member_map_
        return cls(
            merchant_id=data.get("merchant_id"),
            invoice_id=data.get("invoice_id"),
            locale=data.get("locale"),
            choices=tuple(Choice(c) for c in data.get("choices", ()) if c in known),
            unknown_streak=int(data.get("unknown_streak", 0)),
            status=ConversationStatus(data.get("status", ConversationStatus.BOT.value)),
            step=Step(data.get("step", Step.MENU.value)),
            proposed_parts=data.get("proposed_parts"),
            proposed_first=data.get("proposed_first"),
            proposed_later=_proposed_later(data),
            agent_id=data.get("agent_id"),
            agent_name=data.get("agent_name"),
            agent_seen=data.get("agent_seen"),
            candidates=tuple(data.get("candidates") or ()),
            pending=data.get("pending"),
        )

    def evolve(self, **changes: Any) -> ConversationState:
        return replace(self, **changes)


def _proposed_later(data: Mapping[str, Any]) -> tuple[tuple[str, int | None], ...]:
    """The later payments of a proposed split; a state written before splits in three or
    more were shaped has the rest's day alone (``proposed_rest_on``)."""
    if "proposed_later" not in data:
        rest_on = data.get("proposed_rest_on")
        return ((rest_on, None),) if isinstance(rest_on, str) else ()
    try:
        return tuple((str(day), amount) for day, amount in data["proposed_later"] or ())
    except (TypeError, ValueError):  # a stored value of another shape: as if none was said
        return ()


@dataclass(frozen=True, slots=True)
class InstalmentFacts:
    number: int
    amount: Money
    due_date: date
    status: str  # "open" | "processing" | "paid"
    pay_url: str

    @property
    def is_paid(self) -> bool:
        return self.status == "paid"


@dataclass(frozen=True, slots=True)
class PayLaterPolicy:
    """How far a customer may push payment: by default 30 days after the due date."""

    max_days_after_due: int = 30


@dataclass(frozen=True, slots=True)
class InvoiceFacts:
    """What a flow may know about the conversation's invoice."""

    invoice_id: str
    merchant_name: str
    customer_name: str
    number: str
    gross: Money
    amount_due: Money
    due_date: date
    status: str  # payments.invoice.InvoiceStatus value
    pay_url: str
    invoice_url: str
    instalments: tuple[InstalmentFacts, ...] = ()
    promise_date: date | None = None
    reminders_paused: bool = False
    pay_later_policy: PayLaterPolicy = field(default_factory=PayLaterPolicy)
    split_policy: InstalmentPolicy = field(default_factory=InstalmentPolicy)
    # B2B: reminders after the due date state the late-payment penalties (LEGAL_FR §1.4).
    customer_is_business: bool = False
    late_penalty_rate: str | None = None  # contractual annual %; None: the legal rate
    # The fast-payment reward the invoice promised at issue (payments.reward), and whether its
    # full payment was counted already (with the reward it earned, if any).
    reward: RewardOffer | None = None
    counted: bool = False
    reward_granted: GrantedReward | None = None

    @property
    def is_paid(self) -> bool:
        """Nothing left to pay: paid, or settled by refunds and their credit notes."""
        return self.status == "paid" or (
            self.amount_due.amount == 0 and self.status != "processing"
        )

    @property
    def is_processing(self) -> bool:
        return self.status == "processing"

    @property
    def next_instalment(self) -> InstalmentFacts | None:
        return next((i for i in self.instalments if not i.is_paid), None)

    def instalment(self, number: int) -> InstalmentFacts | None:
        return next((i for i in self.instalments if i.number == number), None)

    @property
    def meets_split_minimum(self) -> bool:
        """The amount due may be split: its currency has a minimum and it is reached."""
        minimum = self.split_policy.minimum(self.amount_due.currency)
        return minimum is not None and self.amount_due >= minimum


@dataclass(frozen=True, slots=True)
class DunningPolicy:
    """The reminder ladder of every issued invoice: days from the due date (the last one is
    the final notice), sent inside the merchant's hours for transactional messages."""

    offsets: tuple[int, ...] = (-3, 0, 3, 10, 30)
    send_at: time = time(10, 0)  # local time on a step's day
    opens: time = time(9, 0)
    closes: time = time(19, 0)
    weekdays: frozenset[int] = frozenset(range(6))  # Monday (0) to Saturday (5)
    on_holidays: bool = False  # French public holidays
    timezone: str | None = None  # the merchant's; None: the conversation's (Facts.timezone)
    # At most this many ladder reminders to one customer in any rolling 7 days, all of their
    # invoices with the merchant together (TESTCASES 80); more wait, merged, never lost.
    max_per_week: int = 2


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything a flow may read besides the state and the event."""

    invoice: InvoiceFacts | None
    now: datetime  # timezone-aware
    timezone: str  # the customer's IANA zone (theirs if known, else the default)
    opted_out: bool = False
    agent_policy: AgentPolicy = field(default_factory=lambda: AgentPolicy())  # noqa: PLW0108 - defined below
    dunning_policy: DunningPolicy = field(default_factory=DunningPolicy)
    # The number to text STOP to when our SMS sender cannot receive replies (an alphanumeric
    # sender ID, LEGAL_FR 2.2): texts then say "send STOP to <number>", not "reply STOP".
    stop_to: str | None = None
    # Every open invoice of this customer with the conversation's merchant, the conversation's
    # own included, soonest due first (loaded for customer messages only; empty otherwise).
    open_invoices: tuple[InvoiceFacts, ...] = ()
    # When this customer was sent ladder reminders by this merchant lately, any invoice
    # (loaded for ladder steps only): the weekly cap counts them.
    reminders_sent: tuple[datetime, ...] = ()
    # The zone the invoice gives for its customer: ahead of the merchant's policy's zone.
    customer_timezone: str | None = None
    # The languages the merchant offers (its policy): replies switch only between these.
    languages: tuple[str, ...] = ("fr", "en")
    # The customer's run of invoices paid by their due date with this merchant, and their
    # reward points (loaded for payment events only).
    payer_streak: int = 0
    payer_points: int = 0


@dataclass(frozen=True, slots=True)
class AgentPolicy:
    """How long a person may sit on a conversation: an agent who does nothing for
    `idle_release_seconds` gives it back to the queue; a conversation nobody acts on for
    `return_to_bot_seconds` goes back to the bot."""

    idle_release_seconds: int = 30 * 60
    return_to_bot_seconds: int = 24 * 3600


# Events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceSent:
    """A merchant issued an invoice to this customer."""


@dataclass(frozen=True, slots=True)
class CustomerText:
    """The customer wrote `text`, or picked `choice` from the last menu.

    `card_shared`: the message held a card number, already redacted from `text` (TESTCASES 65).
    """

    text: str
    choice: Choice | None = None
    card_shared: bool = False


@dataclass(frozen=True, slots=True)
class UnsupportedMessage:
    """A sticker, photo, voice note...: we can only read text."""


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """A verified payment event, already applied to the ledger."""

    # "paid" | "processing" | "failed" | "refunded" | "dispute_lost" | "disputed" | "voided"
    outcome: str
    amount: Money
    instalment: int | None = None
    credit_note_url: str | None = None  # refunded, dispute_lost: the credit note's page
    # When the money landed, as the payment provider says (None: when dispatch counts it).
    landed_at: datetime | None = None


class ReminderKind(enum.StrEnum):
    PROMISE = "promise"  # the date the customer chose to pay
    INSTALMENT_DUE = "instalment_due"  # an instalment's due date: send its link
    INSTALMENT_LATE = "instalment_late"  # an instalment still unpaid a few days after
    LADDER = "ladder"  # a step of the invoice's reminder ladder (flows.dunning)


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: ReminderKind
    instalment: int | None = None
    step: int | None = None  # LADDER: the step (index in the policy's offsets) that fell due
    # LADDER: the merchant's policy when the invoice was issued, carried from step to step so
    # that a later change of the policy applies to invoices issued afterwards only.
    policy: DunningPolicy | None = None


class AgentKind(enum.StrEnum):
    CLAIM = "claim"  # an agent took the conversation (the claim script decided who)
    REPLY = "reply"  # the agent's text, for the customer's channel
    RELEASE = "release"  # back to the queue: the agent let go, logged out or went idle
    RESOLVE = "resolve"  # hand back: the bot takes over again
    TIMER = "timer"  # a scheduled check: idle agent, or nobody acted for too long
    PAYMENT = "payment"  # a payment action (`op` in params), told to the customer


@dataclass(frozen=True, slots=True)
class AgentEvent:
    """Something a person (or the clock on their behalf) did to the conversation."""

    kind: AgentKind
    agent_id: str | None = None
    agent_name: str | None = None
    text: str = ""  # REPLY: what the agent wrote; PAYMENT: the operation (flows.agent.OPS)
    settled: bool = False  # RESOLVE: the dispute is settled, reminders may resume
    forced: bool = False  # CLAIM by an owner's reassignment; RELEASE by the system
    params: Mapping[str, Any] = field(default_factory=dict)  # PAYMENT's parameters (JSON)


FlowEvent = (
    InvoiceSent | CustomerText | UnsupportedMessage | PaymentOutcome | Reminder | AgentEvent
)


# Actions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """Say message `message` (a template id) with `params`, offering `choices`."""

    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class SetPromise:
    """Record that the customer will pay on `pay_on`, and remind them at `remind_at`."""

    pay_on: date
    remind_at: datetime


@dataclass(frozen=True, slots=True)
class CreatePlan:
    """Split the amount due into instalments: (due date, amount in minor units) each."""

    schedule: tuple[tuple[date, int], ...]
    notify_at: tuple[datetime, ...]  # when to send each instalment's link (first: now)
    late_at: tuple[datetime, ...]  # when to remind about each instalment if still unpaid


@dataclass(frozen=True, slots=True)
class ScheduleLadder:
    """Look at the invoice's reminder ladder again at `at`, for step `step`."""

    step: int
    at: datetime
    policy: DunningPolicy | None = None


@dataclass(frozen=True, slots=True)
class CountReminder:
    """A ladder reminder goes out now: counted for the customer's weekly cap."""


@dataclass(frozen=True, slots=True)
class CountPaid:
    """The invoice is paid in full: counted once for the customer's run of invoices paid on
    time, with the fast-payment reward it earned (None: none)."""

    on_time: bool
    reward: GrantedReward | None = None


@dataclass(frozen=True, slots=True)
class CancelReminders:
    """The invoice is settled: no more promise or instalment reminders."""


@dataclass(frozen=True, slots=True)
class PauseReminders:
    """The invoice is disputed: reminders stop until a human resumes them."""


@dataclass(frozen=True, slots=True)
class RecordConsent:
    """The customer opted out (or back in): recorded per merchant, across channels."""

    opted_in: bool
    words: str


@dataclass(frozen=True, slots=True)
class Handoff:
    """Queue the conversation for a human, with why."""

    reason: str  # "asked" | "dispute" | "already_paid" | "unknown"


@dataclass(frozen=True, slots=True)
class AgentSay:
    """Send the agent's own words to the customer; on WhatsApp with the window closed they
    go inside the approved "message from the merchant's team" template (`team`: its name)."""

    text: str
    agent_name: str
    team: str = ""


@dataclass(frozen=True, slots=True)
class Dequeue:
    """The conversation leaves the agents' queue (handed back, returned, paid)."""

    why: str


@dataclass(frozen=True, slots=True)
class Requeue:
    """The conversation is waiting for a person again (released by its agent)."""

    why: str
    agent_id: str | None = None  # whose claim ends (a newer claim of another agent stays)


@dataclass(frozen=True, slots=True)
class ResumeReminders:
    """A person lifted the pause (the dispute is settled): reminders may go out again."""


@dataclass(frozen=True, slots=True)
class ScheduleAgentTimer:
    """Look at the conversation again at `at` (idle agent, nobody acting)."""

    at: datetime


@dataclass(frozen=True, slots=True)
class RecordOfflinePayment:
    """Money received outside Stripe (transfer, cheque, cash), recorded by a person."""

    amount: int  # minor units of the invoice's currency
    method: str  # "transfer" | "cheque" | "cash"
    reference: str


@dataclass(frozen=True, slots=True)
class Audit:
    """Record who did what to the conversation, and when (the console's audit trail)."""

    what: str
    agent_id: str | None
    detail: str = ""


Action = (
    Reply
    | SetPromise
    | CreatePlan
    | CancelReminders
    | CountPaid
    | ScheduleLadder
    | CountReminder
    | PauseReminders
    | RecordConsent
    | Handoff
    | AgentSay
    | Dequeue
    | Requeue
    | ResumeReminders
    | ScheduleAgentTimer
    | RecordOfflinePayment
    | Audit
)


@dataclass(frozen=True, slots=True)
class Outcome:
    state: ConversationState
    actions: tuple[Action, ...] = ()

    @property
    def replies(self) -> tuple[Reply, ...]:
        return tuple(a for a in self.actions if isinstance(a, Reply))
