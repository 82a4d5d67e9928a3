"""Apply a flow's actions on the dispatch's commit: messages, promises, plans, consent, handoff."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from bot.engine import handover, merchant_webhooks, outbox, rewards, schedule
from bot.engine.events import ScheduledReminder, encode
from bot.engine.facts import customer_addresses
from bot.render import MessageRenderer
from bot.store import consent, keys, kpis_more
from bot.store.conversations import append_transcript
from bot.store.ledger import Instalment, Plan, pause, save_plan, save_promise
from channels.base import ChannelName
from flows.dunning import policy_to_dict
from flows.model import (
    Action,
    AgentSay,
    Audit,
    CancelReminders,
    CountPaid,
    CountReminder,
    CreatePlan,
    Dequeue,
    Facts,
    Handoff,
    PauseReminders,
    RecordConsent,
    RecordOfflinePayment,
    Reminder,
    ReminderKind,
    Reply,
    Requeue,
    ResumeReminders,
    ScheduleAgentTimer,
    ScheduleLadder,
    SetPromise,
)
from payments.invoice import Invoice

REMINDERS_KEPT = timedelta(days=28)


def promise_job(invoice_id: str) -> str:
    return f"promise:{invoice_id}"


def ladder_job(invoice_id: str) -> str:
    """One job per invoice carries its reminder ladder's next step (flows.dunning)."""
    return f"ladder:{invoice_id}"


def instalment_job(invoice_id: str, number: int, kind: ReminderKind) -> str:
    return f"{kind.value}:{invoice_id}:{number}"


@dataclass
class Effects:
    """The context needed to apply one event's actions."""

    pipe: aioredis.client.Pipeline
    renderer: MessageRenderer
    conversation: str
    channel: ChannelName
    address: str
    event_id: str
    locale: str
    now: datetime
    invoice: Invoice | None
    facts: Facts
    # The merchant the conversation is handed to when it has no invoice of theirs (a campaign
    # question) or an agent of that merchant acts: hand-over actions are written under it.
    merchant_id: str | None = None

    def apply(self, actions: tuple[Action, ...]) -> None:
        replies = 0
        for action in actions:
            match action:
                case Reply():
                    self._reply(action, replies)
                    replies += 1
                case SetPromise():
                    self._promise(action)
                case CreatePlan():
                    self._plan(action)
                case CancelReminders():
                    self._cancel_reminders()
                case ScheduleLadder():
                    reminder = Reminder(
                        ReminderKind.LADDER, step=action.step, policy=action.policy
                    )
                    job = ladder_job(self._invoice().id)
                    self._reminder(job, action.at, reminder)
                case CountReminder() | CountPaid():
                    self._count(action)
                case PauseReminders():
                    if self.invoice is not None:
                        pause(self.pipe, self.invoice.merchant_id, self.invoice.id, self.now)
                case RecordConsent():
                    self._consent(action)
                case Handoff():
                    self._handoff(action)
                case (
                    AgentSay()
                    | Dequeue()
                    | Requeue()
                    | ResumeReminders()
                    | ScheduleAgentTimer()
                    | RecordOfflinePayment()
                    | Audit()
                ):
                    handover.apply(self, action)

    def _reply(self, reply: Reply, index: int) -> None:
        message = self.renderer.outbound(
            reply,
            locale=self.locale,
            channel=self.channel,
            address=self.address,
            idempotency_key=f"{self.event_id}:{index}",
            stop_to=self.facts.stop_to,
        )
        outbox.queue(
            self.pipe,
            message,
            self.conversation,
            merchant_id=self.invoice.merchant_id if self.invoice else None,
            invoice_id=self.invoice.id if self.invoice else None,
        )
        append_transcript(
            self.pipe,
            self.conversation,
            direction="out",
            text=message.text,
            at=self.now,
            ref=message.idempotency_key,
        )

    def _invoice(self) -> Invoice:
        if self.invoice is None:
            msg = "this action needs the conversation's invoice"
            raise RuntimeError(msg)
        return self.invoice

    def _reminder(self, job_id: str, at: datetime, reminder: Reminder) -> None:
        invoice = self._invoice()
        payload = ScheduledReminder(
            invoice_id=invoice.id,
            kind=reminder.kind,
            instalment=reminder.instalment,
            step=reminder.step,
            policy=policy_to_dict(reminder.policy) if reminder.policy else None,
        )
        event = encode(job_id, self.conversation, payload)
        schedule.schedule(self.pipe, job_id, at, event)

    def _count(self, action: CountReminder | CountPaid) -> None:
        if isinstance(action, CountReminder):
            self._count_reminder()
            return
        # Paid in full: once per invoice whatever replays (the script is guarded by its key).
        rewards.record_paid(
            self.pipe, self._invoice(), on_time=action.on_time, granted=action.reward, at=self.now
        )

    def _count_reminder(self) -> None:
        invoice = self._invoice()
        key = keys.conv_reminders_sent(self.conversation, invoice.merchant_id)
        self.pipe.zadd(key, {f"{invoice.id}@{self.now.isoformat()}": self.now.timestamp()})
        # A few weeks are enough to count a rolling week, whatever the clock did.
        self.pipe.zremrangebyscore(key, "-inf", (self.now - REMINDERS_KEPT).timestamp())

    def _promise(self, action: SetPromise) -> None:
        invoice = self._invoice()
        save_promise(self.pipe, invoice.merchant_id, invoice.id, action.pay_on, self.now)
        merchant_webhooks.promise_made(self.pipe, invoice, action.pay_on, self.now)
        self._reminder(promise_job(invoice.id), action.remind_at, Reminder(ReminderKind.PROMISE))

    def _plan(self, action: CreatePlan) -> None:
        invoice = self._invoice()
        plan = Plan(
            instalments=tuple(
                Instalment(n, amount, due)
                for n, (due, amount) in enumerate(action.schedule, start=1)
            ),
            created_at=self.now.isoformat(),
        )
        save_plan(self.pipe, invoice.merchant_id, invoice.id, plan)
        # A promise made before splitting is replaced by the plan's own dates.
        schedule.cancel(self.pipe, promise_job(invoice.id))
        for n, (notify, late) in enumerate(
            zip(action.notify_at, action.late_at, strict=True), start=1
        ):
            if n > 1:  # the first link goes out now, in the confirmation
                kind = ReminderKind.INSTALMENT_DUE
                self._reminder(instalment_job(invoice.id, n, kind), notify, Reminder(kind, n))
            kind = ReminderKind.INSTALMENT_LATE
            self._reminder(instalment_job(invoice.id, n, kind), late, Reminder(kind, n))

    def _cancel_reminders(self) -> None:
        invoice = self._invoice()
        schedule.cancel(self.pipe, promise_job(invoice.id))
        schedule.cancel(self.pipe, ladder_job(invoice.id))
        for item in self.facts.invoice.instalments if self.facts.invoice else ():
            for kind in (ReminderKind.INSTALMENT_DUE, ReminderKind.INSTALMENT_LATE):
                schedule.cancel(self.pipe, instalment_job(invoice.id, item.number, kind))

    def _consent(self, action: RecordConsent) -> None:
        merchant_id = self.invoice.merchant_id if self.invoice else keys.NO_MERCHANT
        addresses = (
            customer_addresses(self.invoice, self.conversation)
            if self.invoice
            else [self.conversation]
        )
        consent.record(
            self.pipe,
            merchant_id,
            addresses,
            opted_in=action.opted_in,
            words=action.words,
            channel=self.channel.value,
            at=self.now,
        )

    def _handoff(self, action: Handoff) -> None:
        if self.invoice is None:
            return
        merchant_id = self.invoice.merchant_id
        # Nobody acts on it for FACTO_AGENT_RETURN_HOURS: the bot takes it back (flows.agent).
        back = timedelta(seconds=self.facts.agent_policy.return_to_bot_seconds)
        handover.apply(self, ScheduleAgentTimer(self.now + back))
        merchant_webhooks.handoff_requested(self.pipe, self.invoice, str(action.reason), self.now)
        kpis_more.record_handoff(self.pipe, self.invoice, self.now)
        self.pipe.zadd(
            keys.waiting_conversations(merchant_id),
            {self.conversation: self.now.timestamp()},
            nx=True,
        )
        self.pipe.set(
            keys.handoff(merchant_id, self.conversation),
            json.dumps(
                {
                    "reason": action.reason,
                    "since": self.now.isoformat(),
                    "invoice_id": self.invoice.id,
                    "invoice_number": self.invoice.number,
                    "customer_name": self.invoice.customer.name,
                    "channel": self.channel.value,
                }
            ),
        )
