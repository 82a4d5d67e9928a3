"""The conversation: one entry point that reads the customer and routes to the flows.

```mermaid
stateDiagram-v2
    [*] --> Menu: InvoiceSent / invoice (+ reward offer) + pay, later, in N times, help; ladder set
    Menu --> Menu: Reminder(ladder) / see dunning.mmd (before, due, late, final notice)
    Menu --> Menu: pay now / link (next instalment's when split)
    Menu --> AskDate: pay later / see pay_later.mmd
    Menu --> AskParts: split / see split.mmd
    AskDate --> Menu
    AskParts --> ConfirmSplit
    ConfirmSplit --> Menu
    Menu --> WaitingAgent: dispute, human, unverifiable "already paid" / see care.mmd
    WaitingAgent --> WaitingAgent: only STOP/START, pay now and status are answered
    Menu --> Menu: unsure reading / "did you mean..." + the choices it could be
    Menu --> Menu: several open invoices, free-text action or "combien" / see several.mmd
    Menu --> WaitingAgent: STOP + dispute, "paid" or human / opted out, then as if alone
    note right of Menu
        a sentence that might be an opt-out: the rest is answered,
        then one line "Reply STOP to confirm"
        written in another supported language than the profile: replies in that language
    end note
    WaitingAgent --> Agent: claimed / see agent.mmd
    Agent --> Agent: only STOP/START are answered
    Agent --> Menu: handed back / see agent.mmd
```
(Also in `conversation.mmd`.) Precedence: STOP/START first (never missed, whatever the step),
then a human's presence, then the step's own question, then the intent. A customer can change
their mind at any step ("finalement en 3 fois"): a clear intent leaves the step.

Understanding v2 (`flows.intents`): a reading below `CLARIFY_BELOW` confidence is not acted
on at the menu: the bot asks which of its alternatives the customer meant, as choices (buttons,
numbers on SMS). A sentence that might be an opt-out (``maybe_opt_out``) gets its answer and
then one line asking to reply STOP to confirm (never when already opted out); nothing is
recorded until the customer sends STOP. After an opt-out, a dispute or a request for a person
in the same message is still acted on (``then``). A message clearly written in another language
the bot speaks than the profile's is answered in that language.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from flows import agent, care, dunning, notices, pay_later, several, split
from flows.intent_text import normalize
from flows.intents import Intent, Understanding, detect_language, understand
from flows.model import (
    INVOICE_CHOICES,
    AgentEvent,
    Choice,
    ConversationState,
    ConversationStatus,
    CustomerText,
    Facts,
    FlowEvent,
    InvoiceFacts,
    InvoiceSent,
    Outcome,
    PaymentOutcome,
    Reminder,
    ReminderKind,
    Reply,
    Step,
    UnsupportedMessage,
)
from flows.replies import menu, params, say, silent

_CHOICE_MEANS = {
    Choice.PAY: Understanding(Intent.PAY_NOW),
    Choice.LATER: Understanding(Intent.PAY_LATER),
    Choice.SPLIT: Understanding(Intent.SPLIT),
    Choice.HELP: Understanding(Intent.HELP),
    Choice.AGENT: Understanding(Intent.ASK_AGENT),
    Choice.YES: Understanding(Intent.YES),
    Choice.NO: Understanding(Intent.NO),
    Choice.SPLIT_2: Understanding(Intent.SPLIT, parts=2),
    Choice.SPLIT_3: Understanding(Intent.SPLIT, parts=3),
    Choice.SPLIT_4: Understanding(Intent.SPLIT, parts=4),
}
# While a human holds the conversation the bot answers only these (a dispute is still
# acknowledged, because it pauses reminders).
_WHILE_WAITING = frozenset({Intent.PAY_NOW, Intent.STATUS, Intent.ASK_AGENT, Intent.DISPUTE})
# A payment is already under way (SEPA): paying again, later or in parts makes no sense.
_PAYING = frozenset({Intent.PAY_NOW, Intent.PAY_LATER, Intent.SPLIT})
#: Languages the bot can answer in: the catalogs in locales/ (a test checks they agree).
REPLY_LANGUAGES = frozenset({"fr", "en"})
#: Fewer words than this never switch the reply language ("ok merci", "yes").
_WORDS_TO_SWITCH_LANGUAGE = 3
#: What an unsure reading can be asked about, as the choice that means it.
_CLARIFY_AS = {
    Intent.PAY_NOW: Choice.PAY,
    Intent.PAY_LATER: Choice.LATER,
    Intent.SPLIT: Choice.SPLIT,
    Intent.ASK_AGENT: Choice.AGENT,
    Intent.HELP: Choice.HELP,
    # A dispute or an "already paid" is a person's to check: "did you mean to pay, or that
    # something is wrong?" offers one (the trained model's doubts about a "yes" or "I pay").
    Intent.DISPUTE: Choice.AGENT,
    Intent.ALREADY_PAID: Choice.AGENT,
}
#: Acted on after an opt-out in the same message ("STOP et je conteste"), the first found.
_AFTER_OPT_OUT = (Intent.DISPUTE, Intent.ALREADY_PAID, Intent.ASK_AGENT)
_AFTER_OPT_OUT_HANDLERS = {
    Intent.DISPUTE: care.dispute,
    Intent.ALREADY_PAID: care.already_paid,
    Intent.ASK_AGENT: care.ask_agent,
}
# A message that only greets ("bonjour", "Salut !", "hello there"), told apart from "merci".
_GREETING = re.compile(
    r"(?!.*\b(?:merci|thanks?)\b)\s*"
    r"(?:bonjour|bonsoir|salut|coucou|hello|hi|hey|good (?:morning|afternoon|evening))"
    r"\b[\s\w]{0,20}[\s!.,]*$",
    re.IGNORECASE,
)
_YESTERDAY = re.compile(r"\b(?:hier|yesterday)\b", re.IGNORECASE)
_BARE_NUMBER = re.compile(r"\s*(\d{1,2})\s*(?:x|fois|times)?\s*[.!]?\s*", re.IGNORECASE)


def handle(state: ConversationState, event: FlowEvent, facts: Facts) -> Outcome:
    return agent.after(state, event, _handle(state, event, facts), facts)


def _handle(state: ConversationState, event: FlowEvent, facts: Facts) -> Outcome:
    invoice = facts.invoice
    match event:
        case InvoiceSent():
            if invoice is None:
                return silent(state)
            fresh = ConversationState(
                merchant_id=state.merchant_id,
                locale=state.locale,
                invoice_id=invoice.invoice_id,
                status=state.status,
            )
            ladder = dunning.first_step(invoice, facts)
            actions = (ladder,) if ladder else ()
            announced = notices.reward_deadline(invoice, facts)  # the fast-payment reward
            if state.status is not ConversationStatus.BOT:
                # A person holds it (or it waits for one): the hold and its timers stay, so
                # the holder can still answer and hand back. The invoice is a document the
                # customer is owed, like a receipt: it is sent (decisions.md, issue 8).
                held = fresh.evolve(
                    step=state.step,
                    agent_id=state.agent_id,
                    agent_name=state.agent_name,
                    agent_seen=state.agent_seen,
                )
                return say(held, "invoice", invoice, actions=actions, extra=announced)
            return say(fresh, "invoice", invoice, step=Step.MENU, actions=actions, extra=announced)
        case PaymentOutcome():
            return notices.payment(state, event, invoice, facts) if invoice else silent(state)
        case Reminder(kind=ReminderKind.LADDER):
            return dunning.reminder(state, event, invoice, facts) if invoice else silent(state)
        case Reminder():
            return notices.reminder(state, event, invoice) if invoice else silent(state)
        case UnsupportedMessage():
            if state.status is not ConversationStatus.BOT:
                return silent(state)
            return say(state, "text_only", invoice, choices=())
        case CustomerText():
            return _customer_text(state, event, facts)
        case AgentEvent():
            return agent.handle(state, event, facts)


def read(state: ConversationState, event: CustomerText, facts: Facts) -> Understanding:
    """What the customer meant: the button they tapped, else their words."""
    if event.choice in INVOICE_CHOICES:  # "which invoice?" answered: the action it waited for
        return several.pending_from_dict(state.pending) or Understanding(Intent.STATUS)
    if event.choice is not None:
        return _CHOICE_MEANS[event.choice]
    meaning = understand(event.text, locale=state.locale or "fr", now=facts.now, tz=facts.timezone)
    undated = meaning.date is None and meaning.intent in (Intent.UNKNOWN, Intent.PAY_LATER)
    if undated and _YESTERDAY.search(event.text):  # a day gone: said so, not "when?" again
        today = facts.now.astimezone(ZoneInfo(facts.timezone)).date()
        return Understanding(Intent.PAY_LATER, date=today - timedelta(days=1), date_text="hier")
    number = _BARE_NUMBER.fullmatch(event.text)
    if state.step is Step.ASK_PARTS and meaning.intent is Intent.UNKNOWN and number:
        return Understanding(Intent.SPLIT, parts=int(number.group(1)))
    return meaning


def _customer_text(state: ConversationState, event: CustomerText, facts: Facts) -> Outcome:
    meaning = read(state, event, facts)
    # A "which invoice?" is answered by this message or dropped: it never waits longer.
    state = _in_their_language(state.evolve(candidates=(), pending=None), event, facts)
    outcome = _answer(state, event, facts, meaning)
    if meaning.maybe_opt_out and not facts.opted_out:
        # Answer what they asked, then one line: STOP is theirs to send, not ours to guess.
        confirm = Reply("confirm_opt_out", params(facts.invoice), ())
        outcome = Outcome(outcome.state, (*outcome.actions, confirm))
    return outcome


def _in_their_language(
    state: ConversationState, event: CustomerText, facts: Facts
) -> ConversationState:
    """Replies follow the language the customer writes in when it is clear, we speak it and
    the merchant offers it."""
    if event.choice is not None or len(event.text.split()) < _WORDS_TO_SWITCH_LANGUAGE:
        return state
    language = detect_language(normalize(event.text).text)
    current = (state.locale or "")[:2].lower()
    if language is None or language == current or language not in REPLY_LANGUAGES:
        return state
    if language not in facts.languages:
        return state
    return state.evolve(locale=language)


def _answer(
    state: ConversationState, event: CustomerText, facts: Facts, meaning: Understanding
) -> Outcome:
    invoice = facts.invoice
    if meaning.intent is Intent.OPT_OUT:
        return _opt_out(state, event, facts, meaning)
    if meaning.intent is Intent.OPT_IN:
        return care.opt_in(state, invoice, facts, event.text)
    if state.status is ConversationStatus.AGENT:
        return agent.while_held(state, meaning.intent is Intent.DISPUTE)
    if event.card_shared:
        # Whoever holds the conversation, the customer learns at once never to do it again.
        payable = invoice if invoice is not None and not invoice.is_paid else None
        return say(state, "card_warning", payable, choices=menu(payable))
    if state.status is not ConversationStatus.BOT and meaning.intent not in _WHILE_WAITING:
        return silent(state)  # a human will answer; the bot does not talk over them
    greets = meaning.intent is Intent.SMALLTALK and _GREETING.match(event.text)
    if greets or event.text.startswith("/start"):  # /start: a Telegram chat opening
        return care.greeting(state, invoice)
    if invoice is None:
        return _without_invoice(state, meaning)
    if several.wants_statement(event, meaning, facts):
        return several.statement(state, facts)
    if several.needs_asking(event, meaning, facts) and not _answers_step(state, meaning):
        return several.ask(state, meaning, facts)
    if invoice.is_paid:
        return _paid_invoice(state, meaning, invoice)
    return _route(state, meaning, invoice, facts)


def _answers_step(state: ConversationState, meaning: Understanding) -> bool:
    """The message answers the question the bot just asked about the conversation's invoice
    ("when?" with a date, "in how many?" with a number): it is about that invoice."""
    if state.step is Step.ASK_DATE:
        return meaning.intent is Intent.PAY_LATER and meaning.date is not None
    if state.step in (Step.ASK_PARTS, Step.CONFIRM_SPLIT):
        return meaning.intent is Intent.SPLIT and meaning.parts is not None
    return False


def _opt_out(
    state: ConversationState, event: CustomerText, facts: Facts, meaning: Understanding
) -> Outcome:
    """Opt out first; then a dispute or a request for a person in the same message."""
    outcome = care.opt_out(state, facts.invoice, facts, event.text)
    invoice = facts.invoice
    if invoice is None or state.status is not ConversationStatus.BOT:
        return outcome
    for intent in _AFTER_OPT_OUT:
        if intent in meaning.then:
            more = _AFTER_OPT_OUT_HANDLERS[intent](outcome.state, invoice)
            return Outcome(more.state, (*outcome.actions, *more.actions))
    return outcome


def _clarify(
    state: ConversationState, meaning: Understanding, invoice: InvoiceFacts
) -> Outcome | None:
    """ "Did you mean...?" with the choices an unsure reading could be; None to act on it."""
    offered = menu(invoice)
    allowed = (*offered, Choice.AGENT)
    asked = [_CLARIFY_AS[i] for i in meaning.alternatives if i in _CLARIFY_AS]
    choices = tuple(dict.fromkeys(c for c in (*asked, *offered) if c in allowed))
    if not any(c in asked for c in choices):
        return None  # nothing it could be that we can offer: act on the reading
    return say(state, "clarify", invoice, choices=choices)


def _without_invoice(state: ConversationState, meaning: Understanding) -> Outcome:
    if meaning.intent is Intent.SMALLTALK:
        return care.smalltalk(state, None)
    return say(state, "no_invoice", None, choices=())


def _paid_invoice(
    state: ConversationState, meaning: Understanding, invoice: InvoiceFacts
) -> Outcome:
    if meaning.intent is Intent.ASK_AGENT:
        return care.ask_agent(state, invoice)
    if meaning.intent is Intent.DISPUTE:
        return care.dispute(state, invoice)
    if meaning.intent is Intent.SMALLTALK:
        return care.smalltalk(state, invoice)
    return say(state, "already_paid", invoice, choices=(), step=Step.MENU)


def _route(
    state: ConversationState, meaning: Understanding, invoice: InvoiceFacts, facts: Facts
) -> Outcome:
    if invoice.is_processing and meaning.intent in _PAYING:
        return say(state.evolve(step=Step.MENU), "payment_processing_status", invoice, choices=())
    step_outcome = _answer_to_step(state, meaning, invoice, facts)
    if step_outcome is not None:
        return step_outcome
    if meaning.is_unsure and meaning.intent is not Intent.UNKNOWN:
        asked = _clarify(state.evolve(step=Step.MENU, proposed_parts=None), meaning, invoice)
        if asked is not None:
            return asked
    leaving = state.evolve(step=Step.MENU, proposed_parts=None)
    if meaning.intent is not Intent.UNKNOWN:
        leaving = leaving.evolve(unknown_streak=0)
    if meaning.intent is Intent.YES:  # "ok", "👍" to no question: read, not misunderstood
        return care.acknowledged(leaving, invoice)
    return _by_intent(leaving, meaning, invoice, facts)


def _answer_to_step(
    state: ConversationState, meaning: Understanding, invoice: InvoiceFacts, facts: Facts
) -> Outcome | None:
    """The reply to the question the bot asked, or None when the customer moved on."""
    intent = meaning.intent
    if state.step is Step.ASK_DATE:
        if meaning.date is not None and intent in (Intent.PAY_LATER, Intent.UNKNOWN):
            return pay_later.promise(state, invoice, facts, meaning.date, meaning.date_text)
        if intent is Intent.NO:
            return say(state.evolve(step=Step.MENU), "no_problem", invoice)
        if intent in (Intent.UNKNOWN, Intent.PAY_LATER, Intent.YES):
            return say(
                state,
                "ask_date_again",
                invoice,
                choices=(),
                extra={"latest": pay_later.latest_date(invoice)},
            )
    if state.step is Step.CONFIRM_SPLIT:
        if intent is Intent.YES and not meaning.is_unsure:  # a doubted "yes" is asked about
            return split.confirm(state, invoice, facts)
        if _same_split_again(state, meaning):
            # "oui en 3 fois" to a plan in 3: agreement, not a request for the same proposal.
            return split.confirm(state, invoice, facts)
        if intent is Intent.NO:
            return split.decline(state, invoice)
    if state.step is Step.ASK_PARTS and intent is Intent.NO:
        return split.decline(state, invoice)
    return None


def _same_split_again(state: ConversationState, meaning: Understanding) -> bool:
    return (
        meaning.intent is Intent.SPLIT
        and not meaning.is_unsure
        and meaning.parts is not None
        and meaning.parts == state.proposed_parts
        and meaning.date is None
        and not meaning.later
        and not state.proposed_later
    )


def _by_intent(
    state: ConversationState, meaning: Understanding, invoice: InvoiceFacts, facts: Facts
) -> Outcome:
    match meaning.intent:
        case Intent.PAY_NOW:
            return _pay_now(state, invoice)
        case Intent.PAY_LATER:
            if meaning.date is None:
                return pay_later.ask_date(state, invoice, facts)
            return pay_later.promise(state, invoice, facts, meaning.date, meaning.date_text)
        case Intent.SPLIT:
            shape = split.Shape(meaning.date, meaning.first, meaning.later)
            return split.start(state, invoice, facts, meaning.parts, shape)
        case Intent.STATUS:
            return care.status(state, invoice)
        case Intent.ALREADY_PAID:
            return care.already_paid(state, invoice)
        case Intent.DISPUTE:
            return care.dispute(state, invoice)
        case Intent.ASK_AGENT:
            return care.ask_agent(state, invoice)
        case Intent.HELP:
            return care.help_(state, invoice)
        case Intent.SMALLTALK:
            return care.smalltalk(state, invoice)
        case Intent.NO:
            return say(state, "no_problem", invoice)
        case _:  # UNKNOWN
            return care.unknown(state, invoice)


def _pay_now(state: ConversationState, invoice: InvoiceFacts) -> Outcome:
    if invoice.is_processing:
        return say(state, "payment_processing_status", invoice, choices=())
    instalment = invoice.next_instalment
    if instalment is not None:
        return say(state, "instalment_link", invoice, choices=(), extra={"instalment": instalment})
    # The link is the answer: the menu again would double the SMS for nothing (issue 13).
    return say(state, "pay_link", invoice, choices=())
