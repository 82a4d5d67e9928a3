"""A person takes the conversation over, and gives it back to the bot.

```mermaid
stateDiagram-v2
    Bot --> Waiting: dispute, "a person please", unverifiable "already paid" (care.mmd)
    Waiting --> Agent: claim (exclusive: the claim script picked one agent)
    Agent --> Agent: agent reply / sent as written through the outbox
    Agent --> Agent: owner reassigns / another agent holds it
    Agent --> Agent: customer writes / nothing said by the bot (STOP/START still answered)
    Agent --> Waiting: release, logout, or agent idle past FACTO_AGENT_IDLE_RELEASE_MINUTES
    Agent --> Bot: hand back / "back with the assistant" + menu, one catch-up of what fell due
    Waiting --> Bot: hand back by an owner
    Waiting --> Bot: nobody acted for FACTO_AGENT_RETURN_HOURS / same hand-back message
    Waiting --> Bot: invoice paid / queue pruned (receipt as usual)
```
(Also in `agent.mmd`.) Reminders that come due while a person holds the conversation are not
sent (notices.mmd); on hand-back only the latest one that fell due is sent, once. A dispute
pause stays unless the agent says the dispute is settled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.model import (
    AgentEvent,
    AgentKind,
    AgentSay,
    Audit,
    ConversationState,
    ConversationStatus,
    Dequeue,
    Facts,
    FlowEvent,
    Outcome,
    PauseReminders,
    PaymentOutcome,
    Requeue,
    ResumeReminders,
    ScheduleAgentTimer,
    Step,
)
from flows.replies import menu, say, silent

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
        case AgentKind.NOTICE:
            return _notice(state, event, facts)


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
        AgentSay(text, event.agent_name or ""),
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


def _notice(state: ConversationState, event: AgentEvent, facts: Facts) -> Outcome:
    """A payment action's message to the customer (new link, new due date, receipt...)."""
    if not _holds(state, event):
        return silent(state, Audit("notice_refused", event.agent_id, event.text))
    return say(
        _seen(state, facts),
        event.text,
        facts.invoice,
        choices=(),
        extra=dict(event.params),
        actions=(_idle_check(facts),),
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
