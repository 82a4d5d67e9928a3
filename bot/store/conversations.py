"""Conversation state and transcript in Redis."""

from __future__ import annotations

import json
from datetime import datetime

import redis.asyncio as aioredis

from bot.store import keys
from channels.base import ChannelName
from flows.model import ConversationState

TRANSCRIPT_LIMIT = 500


def conversation_key(channel: ChannelName, address: str) -> str:
    return f"{channel.value}:{address}"


def split_key(conversation: str) -> tuple[ChannelName, str]:
    channel, _, address = conversation.partition(":")
    return ChannelName(channel), address


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
) -> None:
    """Keep what was said (card numbers already redacted by the caller) for support.

    `by`: the person who wrote an outbound message (none: the bot)."""
    fields = {"dir": direction, "text": text, "at": at.isoformat(), "ref": ref}
    if by is not None:
        fields["by"] = by
    entry = json.dumps(fields)
    pipe.rpush(keys.conv_log(conversation), entry)
    pipe.ltrim(keys.conv_log(conversation), -TRANSCRIPT_LIMIT, -1)


async def transcript(redis: aioredis.Redis, conversation: str) -> list[dict[str, str]]:
    return [json.loads(e) for e in await redis.lrange(keys.conv_log(conversation), 0, -1)]
