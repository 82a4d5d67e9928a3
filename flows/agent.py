"""A person takes the conversation over, and gives it back to the bot.

```mermaid
stateDiagram-v2
    Bot --> Waiting: dispute, "a person please", unverifiable "already paid" (care.mmd)
    Bot --> Waiting: a question about a flash sale (no invoice: payment actions refused)
    Waiting --> Agent: claim (exclusive: the claim script picked one agent)
    Agent --> Agent: agent reply / sent as written through the outbox
    Agent --> Agent: owner reassigns / another agent holds it
    Agent --> Agent: customer writes / nothing said by the bot (STOP/START still answered)
    Agent --> Waiting: release, logout, or agent idle past FACTO_AGENT_IDLE_RELEASE_MINUTES
    Agent --> Bot: hand back / "back with the assistant" + menu, one catch-up of what fell due
    Waiting --> Bot: hand back by an owner
    Waiting --> Bot: nobody acted for FACTO_AGENT_RETURN_HOURS / same hand-back message
    Waiting --> Bot: invoice paid / queue pruned (receipt as usual)
    Agent --> Agent: payment action (new link, due date, plan, offline payment, pause) / told
    Agent --> Agent: action on a void invoice, or one with nothing due / refused, nothing said
    Agent --> Agent: new invoice of the same merchant / sent, the hold stays
    Agent --> Agent: another merchant's invoice / sent, the conversation stays with the hold
```
(Also in `agent.mmd`.) Reminders that come due while a person holds the conversation are not
sent (notices.mmd); on hand-back only the latest one that fell due is sent, once. A dispute
pause stays unless the agent says the dispute is settled.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flows import pay_later, split
from flows.model import (
    AgentEvent,
    AgentKind,
    AgentSay,
    Audit,
    CancelReminders,
    ConversationState,
    ConversationStatus,
    Dequeue,
    Facts,
    FlowEvent,
    InvoiceFacts,
    Outcome,
    PauseReminders,
    PaymentOutcome,
    RecordOfflinePayment,
    Requeue,
    ResumeReminders,
    ScheduleAgentTimer,
    SetPromise,
    Step,
)
from flows.replies import menu, say, silent, split_allowed
from payments.money import Money

MAX_REPLY_CHARS = 1600  # ten SMS segments: an agent writes messages, not letters


def handle(state: ConversationState, event: AgentEvent, facts: Facts) -> Outcome:
    match event.kind:
        case AgentKind.CLAIM:
            return _claim(state, event, facts)
        case AgentKind.REPLY:
            return _reply(state, event, facts)
        case AgentKind.RELEASE:
            return _release(state, event, facts)
        case AgentKind.RESOLVE:
            return _resolve(state, event, facts)
        case AgentKind.TIMER:
            return _timer(state, facts)
        case AgentKind.PAYMENT:
            return _payment(state, event, facts)


def _holds(state: ConversationState, event: AgentEvent) -> bool:
    return state.status is ConversationStatus.AGENT and state.agent_id == event.agent_id


def _seen(state: ConversationState, facts: Facts) -> ConversationState:
    return state.evolve(agent_seen=facts.now.isoformat())


def _idle_check(facts: Facts) -> ScheduleAgentTimer:
    return ScheduleAgentTimer(
        facts.now + timedelta(seconds=facts.agent_policy.idle_release_seconds)
    )


def _return_check(facts: Facts) -> ScheduleAgentTimer:
    return ScheduleAgentTimer(
        facts.now + timedelta(seconds=facts.agent_policy.return_to_bot_seconds)
    )


def _claim(state: ConversationState, event: AgentEvent, facts: Facts) -> Outcome:
    if state.status is ConversationStatus.BOT:
        # Handed back (or paid) between the click and now: nothing to take.
        return silent(state, Audit("claim_refused", event.agent_id, "not waiting"))
    if state.status is ConversationStatus.AGENT and not event.forced and not _holds(state, event):
        return silent(state, Audit("claim_refused", event.agent_id, f"held by {state.agent_id}"))
    held = _seen(state, facts).evolve(
        status=ConversationStatus.AGENT, agent_id=event.agent_id, agent_name=event.agent_name
    )
    what = "reassigned" if event.forced else "claimed"
    return silent(held, Audit(what, event.agent_id), _idle_check(facts))


def _reply(state: ConversationState, event: AgentEvent, facts: Facts) -> Outcome:
    text = event.text.strip()[:MAX_REPLY_CHARS]
    if not _holds(state, event) or not text:
        return silent(state, Audit("reply_refused", event.agent_id, "not the holder"))
    return silent(
        _seen(state, facts),
        AgentSay(text, event.agent_name or "", str(event.params.get("team") or "")),
        Audit("replied", event.agent_id),
        _idle_check(facts),
    )


def _release(state: ConversationState, event: AgentEvent, facts: Facts) -> Outcome:
    if not (_holds(state, event) or (event.forced and state.status is ConversationStatus.AGENT)):
        return silent(state)
    waiting = _seen(state, facts).evolve(
        status=ConversationStatus.WAITING_AGENT, agent_id=None, agent_name=None
    )
    why = "idle" if event.forced else "released"
    return silent(
        waiting, Requeue(why, state.agent_id), Audit(why, event.agent_id), _return_check(facts)
    )


def _resolve(state: ConversationState, event: AgentEvent, facts: Facts) -> Outcome:
    if state.status is ConversationStatus.BOT:
        return silent(state)
    if state.status is ConversationStatus.AGENT and not _holds(state, event) and not event.forced:
        return silent(state, Audit("resolve_refused", event.agent_id, "not the holder"))
    detail = "dispute settled" if event.settled else ""
    return hand_back(state, facts, event.settled, Audit("resolved", event.agent_id, detail))


def hand_back(state: ConversationState, facts: Facts, settled: bool, *audit: Audit) -> Outcome:
    """The bot takes over: one message with the menu, and one catch-up of what fell due."""
    bot = state.evolve(
        status=ConversationStatus.BOT,
        agent_id=None,
        agent_name=None,
        agent_seen=None,
        step=Step.MENU,
        unknown_streak=0,
        proposed_parts=None,
    )
    actions: list[ResumeReminders | Dequeue | Audit] = [Dequeue("resolved"), *audit]
    if settled:
        actions.insert(0, ResumeReminders())
    invoice = facts.invoice
    paused = invoice is not None and invoice.reminders_paused and not settled
    if invoice is None or invoice.is_paid or invoice.is_processing or paused:
        return say(bot, "handback", invoice, choices=menu(invoice), actions=tuple(actions))
    today = facts.now.date()
    due = invoice.next_instalment
    if due is not None and due.due_date <= today:
        return say(
            bot,
            "handback_instalment",
            invoice,
            choices=(),
            extra={"instalment": due},
            actions=tuple(actions),
        )
    if due is None and invoice.promise_date is not None and invoice.promise_date <= today:
        return say(bot, "handback_promise", invoice, actions=tuple(actions))
    return say(bot, "handback", invoice, actions=tuple(actions))


def _timer(state: ConversationState, facts: Facts) -> Outcome:
    """A scheduled look: release an idle agent's hold, return a forgotten conversation."""
    if state.status is ConversationStatus.BOT or state.agent_seen is None:
        return silent(state)
    quiet = facts.now - datetime.fromisoformat(state.agent_seen)
    policy = facts.agent_policy
    if state.status is ConversationStatus.AGENT:
        if quiet < timedelta(seconds=policy.idle_release_seconds):
            return silent(state)  # the agent acted since: a later timer is already set
        return _release(state, AgentEvent(AgentKind.RELEASE, forced=True), facts)
    if quiet < timedelta(seconds=policy.return_to_bot_seconds):
        return silent(state)
    return hand_back(state, facts, False, Audit("returned_to_bot", None, "nobody acted"))


OFFLINE_METHODS = ("transfer", "cheque", "cash")
MAX_EXTENSION = timedelta(days=90)  # after the original due date
#: Why a payment action does not apply to its invoice (the console words each one).
VOIDED, PAID, REFUNDED = "void", "paid", "refunded"


def refusal(op: str, status: str, amount_due: int) -> str | None:
    """Why `op` makes no sense on an invoice in this state, or None when it may go.

    One rule for the console (a 409 before anything is queued) and for this flow (the
    invoice may have changed between the click and the dispatch). A voided invoice takes
    no action at all; one with nothing left to pay takes only a credit note (money given
    back), unless everything was given back already.
    """
    if status == VOIDED:
        return VOIDED
    if status == REFUNDED:
        return REFUNDED
    if op == "credit_note":
        return None  # how much may be credited is checked against what was paid
    if amount_due <= 0 and status != "processing":
        return PAID
    return None


def _payment(state: ConversationState, event: AgentEvent, facts: Facts) -> Outcome:
    """A payment action of the agent holding the conversation, told to the customer."""
    invoice = facts.invoice
    op, params = event.text, event.params
    if not _holds(state, event) or invoice is None:
        return silent(state, Audit("action_refused", event.agent_id, op))
    if (why := refusal(op, invoice.status, invoice.amount_due.amount)) is not None:
        return silent(state, Audit("action_refused", event.agent_id, f"{op}: {why}"))
    held = _seen(state, facts)
    audit = Audit(op, event.agent_id, str(params.get("detail", "")))
    if op == "pause_reminders":
        return say(
            held,
            "agent_reminders_paused",
            invoice,
            choices=(),
            actions=(PauseReminders(), audit, _idle_check(facts)),
        )
    if op == "resume_reminders":
        return silent(held, ResumeReminders(), audit, _idle_check(facts))
    if op == "resend_link":
        return say(
            held, "agent_pay_link", invoice, choices=(), actions=(audit, _idle_check(facts))
        )
    if op == "extend_due":
        return _extend(held, invoice, facts, str(params.get("date", "")), audit)
    if op == "offer_plan":
        parts = int(params.get("parts", 0))
        if parts not in invoice.split_policy.allowed_parts or not split_allowed(invoice):
            return silent(state, Audit("action_refused", event.agent_id, f"{op}: {parts}"))
        offered = held.evolve(proposed_parts=parts, proposed_later=(), proposed_first=None)
        outcome = split.confirm(offered, invoice, facts)
        return Outcome(outcome.state, (audit, *outcome.actions, _idle_check(facts)))
    if op == "offline_payment":
        return _offline(held, invoice, event, facts, audit)
    if op == "credit_note":
        # Applied by the engine before the flow when it can be (bot.engine.handover.agent_refund,
        # told as a refund); here only when it could not: more than was paid.
        return silent(state, Audit("action_refused", event.agent_id, "credit_note: amount"))
    return silent(state, Audit("action_refused", event.agent_id, f"unknown {op}"))


def _extend(
    state: ConversationState, invoice: InvoiceFacts, facts: Facts, day: str, audit: Audit
) -> Outcome:
    try:
        new_due = date.fromisoformat(day)
    except ValueError:
        return silent(state, Audit("action_refused", audit.agent_id, f"extend_due: {day}"))
    if not facts.now.date() < new_due <= invoice.due_date + MAX_EXTENSION:
        return silent(state, Audit("action_refused", audit.agent_id, f"extend_due: {day}"))
    remind = datetime.combine(new_due, pay_later.REMIND_AT, ZoneInfo(facts.timezone))
    return say(
        state,
        "agent_due_date",
        invoice,
        choices=(),
        extra={"new_due": new_due},
        actions=(SetPromise(new_due, remind), audit, _idle_check(facts)),
    )


def _offline(
    state: ConversationState,
    invoice: InvoiceFacts,
    event: AgentEvent,
    facts: Facts,
    audit: Audit,
) -> Outcome:
    params = event.params
    amount, method = int(params.get("amount", 0)), str(params.get("method", ""))
    reference = str(params.get("reference", "")).strip()[:100]
    if not 0 < amount <= invoice.amount_due.amount or method not in OFFLINE_METHODS:
        return silent(state, Audit("action_refused", event.agent_id, f"offline {amount}"))
    paid = Money(amount, invoice.amount_due.currency)
    left = Money(invoice.amount_due.amount - amount, invoice.amount_due.currency)
    settled: tuple[CancelReminders, ...] = (CancelReminders(),) if left.amount == 0 else ()
    return say(
        state,
        "agent_offline_payment",
        invoice,
        choices=(),
        extra={"paid_amount": paid, "left": left},
        actions=(
            RecordOfflinePayment(amount, method, reference),
            *settled,
            Audit("offline_payment", event.agent_id, f"{method} {amount} {reference}"),
            _idle_check(facts),
        ),
    )


def while_held(state: ConversationState, disputed: bool) -> Outcome:
    """The customer wrote while a person holds the conversation: the bot stays quiet (a
    dispute still pauses the reminders, silently)."""
    return silent(state, PauseReminders()) if disputed else silent(state)


def after(before: ConversationState, event: FlowEvent, outcome: Outcome, facts: Facts) -> Outcome:
    """What every event adds to the hand-over: the start of waiting, and pruning on payment."""
    state = outcome.state
    if (
        before.status is ConversationStatus.BOT
        and state.status is ConversationStatus.WAITING_AGENT
    ):
        # The return check is scheduled with the Handoff itself (bot.engine.effects).
        return Outcome(_seen(state, facts), outcome.actions)
    invoice = facts.invoice
    if (
        isinstance(event, PaymentOutcome)
        and invoice is not None
        and invoice.is_paid
        and state.status is ConversationStatus.WAITING_AGENT
    ):
        # Nobody took it yet and there is nothing left to pay: no person is needed any more.
        back = state.evolve(status=ConversationStatus.BOT, agent_seen=None)
        return Outcome(back, (*outcome.actions, Dequeue("paid"), Audit("pruned", None, "paid")))
    return outcome
