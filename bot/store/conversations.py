"""Conversation state and transcript in Redis."""

from __future__ import annotations

import json
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys
from channels.base import ChannelName
from flows.model import ConversationState

TRANSCRIPT_LIMIT = 500


# A conversation is (channel, our sender, customer address). On the platform's shared senders
# the key is "<channel>:<address>" (every key written before merchants had their own senders);
# on a merchant's own sender it is "<channel>@<sender>:<address>", the sender being the number,
# Messaging Service SID or Telegram bot id that receives the customer's replies
# (docs/decisions.md: no migration, old keys are the platform's conversations).
SENDER_MARK = "@"


def conversation_key(channel: ChannelName, address: str, sender: str | None = None) -> str:
    if sender:
        return f"{channel.value}{SENDER_MARK}{sender}:{address}"
    return f"{channel.value}:{address}"


def split_key(conversation: str) -> tuple[ChannelName, str]:
    head, _, address = conversation.partition(":")
    channel, _, _sender = head.partition(SENDER_MARK)
    return ChannelName(channel), address


def sender_of(conversation: str) -> str | None:
    """The merchant's own sender the conversation goes through; None: the platform's."""
    head, _, _address = conversation.partition(":")
    return head.partition(SENDER_MARK)[2] or None


def person_key(conversation: str) -> str:
    """ "<channel>:<address>" whatever the sender: consent and identity follow the person."""
    head, _, address = conversation.partition(":")
    return f"{head.partition(SENDER_MARK)[0]}:{address}"


async def load_state(redis: aioredis.Redis, conversation: str) -> ConversationState:
    raw = await redis.get(keys.conv_state(conversation))
    return ConversationState.from_dict(json.loads(raw)) if raw else ConversationState()


def save_state(
    pipe: aioredis.client.Pipeline, conversation: str, state: ConversationState
) -> None:
    pipe.set(keys.conv_state(conversation), json.dumps(state.to_dict()))


def append_transcript(
    pipe: aioredis.client.Pipeline,
    conversation: str,
    *,
    direction: str,
    text: str,
    at: datetime,
    ref: str,
    by: str | None = None,
    late: bool = False,
) -> None:
    """Keep what was said (card numbers already redacted by the caller) for support.

    `by`: the person who wrote an outbound message (none: the bot). `late`: a message that
    arrived after a later one was already answered, kept but not acted upon."""
    fields: dict[str, str | bool] = {
        "dir": direction,
        "text": text,
        "at": at.isoformat(),
        "ref": ref,
    }
    if by is not None:
        fields["by"] = by
    if late:
        fields["late"] = "1"  # transcripts are read as strings (`transcript`)
    entry = json.dumps(fields)
    pipe.rpush(keys.conv_log(conversation), entry)
    pipe.ltrim(keys.conv_log(conversation), -TRANSCRIPT_LIMIT, -1)


async def transcript(redis: aioredis.Redis, conversation: str) -> list[dict[str, str]]:
    return [json.loads(e) for e in await redis.lrange(keys.conv_log(conversation), 0, -1)]
