"""Conversation state and transcript kept compact, and everything written before still reads."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import redis.asyncio as aioredis

from bot.engine.retention import trim_transcripts
from bot.store import conversations, keys
from bot.store.conversations import (
    append_transcript,
    decode_entry,
    decode_state,
    encode_entry,
    encode_state,
    fold_transcript,
    load_state,
    save_state,
    transcript,
)
from flows.model import Choice, ConversationState, ConversationStatus, Step

CONV = "sms:+33612345678"
AT = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)

# As the previous version wrote them (json.dumps of the full state, entries as objects).
LEGACY_STATE = json.dumps(
    {
        "merchant_id": "m_1",
        "invoice_id": "inv_1",
        "locale": "fr",
        "choices": ["pay", "later"],
        "unknown_streak": 1,
        "status": "bot",
        "step": "menu",
        "proposed_parts": None,
        "agent_id": None,
        "agent_name": None,
        "agent_seen": None,
        "candidates": [],
        "pending": None,
    }
)
LEGACY_ENTRY = json.dumps(
    {"dir": "in", "text": "Bonjour, c'est réglé ?", "at": AT.isoformat(), "ref": "sms:SM1"}
)


def test_a_state_keeps_only_what_differs_from_a_new_conversation() -> None:
    state = ConversationState(merchant_id="m_1", invoice_id="inv_1", locale="fr")
    raw = encode_state(state)
    assert json.loads(raw) == {"merchant_id": "m_1", "invoice_id": "inv_1", "locale": "fr"}
    assert decode_state(raw) == state
    assert encode_state(ConversationState()) == "{}"
    assert decode_state("{}") == ConversationState()


def test_every_field_round_trips() -> None:
    state = ConversationState(
        merchant_id="m_1",
        invoice_id="inv_1",
        locale="en",
        choices=(Choice.PAY, Choice.LATER),
        unknown_streak=2,
        status=ConversationStatus.AGENT,
        step=Step.MENU,
        proposed_parts=3,
        agent_id="u_1",
        agent_name="Zoé",
        agent_seen=AT.isoformat(),
        candidates=("inv_1", "inv_2"),
        pending={"action": "pay"},
    )
    raw = encode_state(state)
    assert "Zoé" in raw  # UTF-8, not \\u escapes
    assert decode_state(raw) == state


def test_a_state_written_in_full_by_the_previous_version_reads() -> None:
    state = decode_state(LEGACY_STATE)
    assert (state.merchant_id, state.invoice_id, state.unknown_streak) == ("m_1", "inv_1", 1)
    assert state.choices == (Choice.PAY, Choice.LATER)


def test_entries_read_back_as_written() -> None:
    paris = timezone(timedelta(hours=1))
    for at in (AT, AT.replace(microsecond=123456), datetime(2026, 11, 18, 10, 0, tzinfo=paris)):
        raw = encode_entry(direction="out", text="Voilà", at=at, ref="k:0", by="Zoé", late=True)
        entry = decode_entry(raw)
        assert entry == {
            "dir": "out",
            "text": "Voilà",
            "at": at.isoformat(),
            "ref": "k:0",
            "by": "Zoé",
            "late": "1",
        }
    assert len(encode_entry(direction="in", text="merci", at=AT, ref="sms:SM1")) < 40
    assert decode_entry(LEGACY_ENTRY)["text"] == "Bonjour, c'est réglé ?"


def test_half_an_emoji_is_kept_escaped() -> None:
    """A provider can send a lone surrogate; UTF-8 cannot hold it, JSON escapes can."""
    raw = encode_entry(direction="in", text="\ud83d oups", at=AT, ref="telegram:1")
    raw.encode()
    assert decode_entry(raw)["text"] == "\ud83d oups"


async def _say(redis: aioredis.Redis, n: int, text: str = "bonjour") -> None:
    async with redis.pipeline(transaction=True) as pipe:
        append_transcript(
            pipe,
            CONV,
            direction="in",
            text=f"{text} {n}",
            at=AT + timedelta(minutes=n),
            ref=f"r{n}",
        )
        await pipe.execute()


async def _fold_prepared(redis: aioredis.Redis) -> conversations.Fold:
    """Housekeeping's first step: read the live turns and the archive, compute the fold."""
    fold = await conversations.prepare_fold(redis, CONV)
    assert fold is not None
    return fold


async def _fold_written(redis: aioredis.Redis, fold: conversations.Fold) -> bool:
    return await conversations.write_fold(redis, CONV, fold)


async def test_housekeeping_folds_the_turns_into_the_archive(redis: aioredis.Redis) -> None:
    await redis.set(keys.conv_state(CONV), LEGACY_STATE)
    await redis.rpush(keys.conv_log(CONV), LEGACY_ENTRY)
    for n in range(1, 6):
        await _say(redis, n)
    before = await transcript(redis, CONV)
    assert (await load_state(redis, CONV)).invoice_id == "inv_1"  # the old full state read
    assert await fold_transcript(redis, CONV)
    assert await redis.llen(keys.conv_log(CONV)) == 0
    assert await redis.get(keys.conv_log_archive(CONV))
    assert await transcript(redis, CONV) == before
    async with redis.pipeline(transaction=True) as pipe:
        save_state(pipe, CONV, ConversationState(merchant_id="m_1"))
        await pipe.execute()
    assert await redis.get(keys.conv_state(CONV)) == '{"merchant_id":"m_1"}'
    await _say(redis, 99)  # the next turns go live, after the archive
    assert await fold_transcript(redis, CONV)
    said = await transcript(redis, CONV)
    assert [e["text"] for e in said][-2:] == ["bonjour 5", "bonjour 99"]
    assert len(said) == 1 + 5 + 1
    assert not await fold_transcript(redis, CONV)  # nothing live: nothing to fold


async def test_a_turn_appended_meanwhile_stays(redis: aioredis.Redis) -> None:
    """A message written while housekeeping folded goes after the folded turns."""
    for n in range(2):
        await _say(redis, n)
    fold = await _fold_prepared(redis)
    await _say(redis, 50, "agent")
    assert await _fold_written(redis, fold)  # the turns read are still the head: folded
    assert await redis.llen(keys.conv_log(CONV)) == 1
    texts = [e["text"] for e in await transcript(redis, CONV)]
    assert texts == ["bonjour 0", "bonjour 1", "agent 50"]
    assert await fold_transcript(redis, CONV)
    assert [e["text"] for e in await transcript(redis, CONV)] == texts


async def test_a_fold_gives_way_to_a_trim_or_an_erasure_meanwhile(redis: aioredis.Redis) -> None:
    for n in range(3):
        await _say(redis, n)
    fold = await _fold_prepared(redis)
    await redis.lpop(keys.conv_log(CONV))  # retention took the oldest meanwhile
    await _fold_written(redis, fold)
    assert not await redis.exists(keys.conv_log_archive(CONV))
    assert (await transcript(redis, CONV))[0]["text"] == "bonjour 1"
    fold = await _fold_prepared(redis)
    await redis.delete(keys.conv_log(CONV))  # erased meanwhile
    await _fold_written(redis, fold)
    assert await transcript(redis, CONV) == []


async def test_the_archive_keeps_the_transcript_limit(redis: aioredis.Redis) -> None:
    limit = conversations.TRANSCRIPT_LIMIT
    entries = [
        encode_entry(direction="in", text=f"m{n}", at=AT, ref=f"r{n}") for n in range(limit)
    ]
    await redis.set(keys.conv_log_archive(CONV), conversations.archive_value(entries))
    await _say(redis, 1)
    assert await fold_transcript(redis, CONV)
    said = await transcript(redis, CONV)
    assert len(said) == limit
    assert (said[0]["text"], said[-1]["text"]) == ("m1", "bonjour 1")


async def test_retention_drops_old_turns_from_the_archive_too(redis: aioredis.Redis) -> None:
    for n in range(3):
        await _say(redis, n * 24 * 60)  # one a day
    assert await fold_transcript(redis, CONV)
    await _say(redis, 3 * 24 * 60)
    removed = await trim_transcripts(redis, AT + timedelta(days=1, minutes=1))
    assert removed == 2
    assert [e["text"] for e in await transcript(redis, CONV)] == ["bonjour 2880", "bonjour 4320"]
    assert not await redis.exists(keys.conv_log(CONV))  # the rest folded: the conversation is idle
    assert await trim_transcripts(redis, AT + timedelta(days=5)) == 2
    assert not await redis.exists(keys.conv_log_archive(CONV))


async def test_an_unreadable_archive_or_entry_never_stops_the_state(redis: aioredis.Redis) -> None:
    """An entry without a readable time is archived as written; an archive it cannot read is
    left as it is, and neither stops the state from being read or written."""
    await redis.rpush(keys.conv_log(CONV), json.dumps({"text": "no time"}), LEGACY_ENTRY)
    await redis.set(keys.conv_state(CONV), LEGACY_STATE)
    assert await fold_transcript(redis, CONV)
    assert (await load_state(redis, CONV)).invoice_id == "inv_1"
    said = await transcript(redis, CONV)
    assert [e["text"] for e in said] == ["no time", "Bonjour, c'est réglé ?"]
    await redis.rpush(keys.conv_log(CONV), LEGACY_ENTRY, LEGACY_ENTRY)
    await redis.set(keys.conv_log_archive(CONV), "1:not base85 at all")
    async with redis.pipeline(transaction=True) as pipe:
        save_state(pipe, CONV, ConversationState(locale="fr"))
        await pipe.execute()
    assert (await load_state(redis, CONV)).locale == "fr"
    assert await redis.llen(keys.conv_log(CONV)) == 2
    assert not await fold_transcript(redis, CONV)


# Written by the first version of archives: every later version must read it.
ARCHIVE_V1 = (
    "1:c=-qxT~v!!0yf2zbPUZcO)M>qObiTklpv#4R+)Ka@rG6gN;*og;Q}{ZBLgEdT>}s>gpU|lnCe&<C_HLfgBUPSisg"
    "z{%FIJD*3cBJOGl|Vx7aG!*AQqbsJ_fp(y3Mg1-X)ylA%&<EC4ryC>Q"
)


def test_an_archive_written_with_the_first_dictionary_reads() -> None:
    """The preset dictionary is frozen: changing `transcript_words.txt` would make every
    archive written with it unreadable. A new dictionary gets a new name instead."""
    words = Path(conversations.__file__).parent / "transcript_words.txt"
    digest = hashlib.sha256(words.read_bytes()).hexdigest()
    assert digest == "4a9638a559843c228b92887503dcdfaa745d22f64d3608eac80f04404f2baaee"
    entries = [decode_entry(e) for e in conversations.archived(ARCHIVE_V1)]
    assert entries == [
        {
            "dir": "out",
            "text": "Facture F-2026-000001 : reste 85,80 € à payer.",
            "at": "2026-11-18T09:00:00+00:00",
            "ref": "issued:inv_1:0",
        },
        {
            "dir": "in",
            "text": "merci",
            "at": "2026-11-18T09:00:01.500000+00:00",
            "ref": "sms:SM1",
            "late": "1",
        },
    ]


async def test_a_damaged_archive_or_entry_leaves_the_rest_of_the_transcript_readable(
    redis: aioredis.Redis,
) -> None:
    """The console, the export and the erasure read the transcript: a damaged value costs that
    value, never the page (a 500)."""
    await redis.set(keys.conv_log_archive(CONV), "1:not base85 at all")
    await redis.rpush(keys.conv_log(CONV), LEGACY_ENTRY, "{not json", "[1, 2]", "42")
    await _say(redis, 1)
    assert [e["text"] for e in await transcript(redis, CONV)] == [
        "Bonjour, c'est réglé ?",
        "bonjour 1",
    ]
    await redis.set(keys.conv_log_archive(CONV), "9:" + conversations.archive_value([])[2:])
    assert len(await transcript(redis, CONV)) == 2  # a dictionary it does not know
