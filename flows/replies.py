"""Small helpers shared by the flows: the menu, and turning a state + reply into an outcome."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.model import (
    Action,
    Choice,
    ConversationState,
    InvoiceFacts,
    Outcome,
    Reply,
    Step,
)


def menu(invoice: InvoiceFacts | None) -> tuple[Choice, ...]:
    """What an unpaid invoice offers: pay now, later, in instalments (when allowed), help."""
    if invoice is None or invoice.is_paid:
        return ()
    if invoice.instalments:
        return (Choice.PAY, Choice.HELP)
    choices = [Choice.PAY, Choice.LATER]
    if split_allowed(invoice):
        choices.append(Choice.SPLIT)
    choices.append(Choice.HELP)
    return tuple(choices)


def split_allowed(invoice: InvoiceFacts) -> bool:
    return invoice.meets_split_minimum and not invoice.instalments


def params(invoice: InvoiceFacts | None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"invoice": invoice} if invoice is not None else {}
    return {**base, **extra}


def say(
    state: ConversationState,
    message: str,
    invoice: InvoiceFacts | None,
    *,
    choices: tuple[Choice, ...] | None = None,
    extra: Mapping[str, Any] | None = None,
    actions: tuple[Action, ...] = (),
    step: Step | None = None,
) -> Outcome:
    """One reply (offering the menu unless told otherwise), after `actions`."""
    offered = menu(invoice) if choices is None else choices
    reply = Reply(message, params(invoice, **(extra or {})), offered)
    new_state = state.evolve(choices=offered, step=step or state.step)
    return Outcome(new_state, (*actions, reply))


def silent(state: ConversationState, *actions: Action) -> Outcome:
    return Outcome(state, actions)
