"""Sorting a handler's writes by hash slot (bot/engine/effects_log.py)."""

from __future__ import annotations

from typing import Any

import pytest
from redis.crc import key_slot

from bot.engine.effects_log import command_keys, hash_tag, marker_key, split
from bot.store import keys

CONV = "sms:+33600000009"


def stack(*commands: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    return [(command, {}) for command in commands]


def test_the_conversation_s_writes_stay_in_the_commit_and_the_others_go_by_slot() -> None:
    queued = stack(
        ("SET", keys.conv_state(CONV), "{}"),
        ("HSETNX", keys.outbox_message("e:0"), "state", "pending"),
        ("RPUSH", keys.outbox_conversation_queue(CONV), "e:0"),
        ("XADD", keys.OUTBOX_STREAM, "*", "key", "e:0"),
        ("HSETNX", keys.outbox_message("e:1"), "state", "pending"),
        ("XADD", keys.OUTBOX_STREAM, "*", "key", "e:1"),
        ("ZADD", keys.SCHEDULE, 1, "job"),
    )
    result = split(CONV, queued)
    assert [args[0] for args, _ in result.local] == ["SET", "RPUSH"]
    # Each wake-up group comes after every record it announces: ordered by last write.
    assert [[c[1] for c in group] for group in result.groups] == [
        [keys.outbox_message("e:0")],
        [keys.outbox_message("e:1")],
        [keys.OUTBOX_STREAM, keys.OUTBOX_STREAM],
        [keys.SCHEDULE],
    ]
    for group in result.groups:
        assert len({key_slot(k.encode()) for c in group for k in command_keys(c)}) == 1


def test_a_script_over_two_slots_is_refused() -> None:
    script = ("EVAL", "return 1", "2", keys.conv_state(CONV), keys.OUTBOX_STREAM)
    with pytest.raises(ValueError, match="2 slots"):
        split(CONV, stack(script))


@pytest.mark.parametrize(
    "key",
    [keys.outbox_message("sms:SM1:0"), keys.invoice("m_1", "inv_1"), keys.OUTBOX_STREAM],
)
def test_a_marker_lives_on_the_slot_of_its_group(key: str) -> None:
    marker = marker_key(key, "c0ffee", 2)
    assert key_slot(marker.encode()) == key_slot(key.encode())
    assert marker.endswith(":c0ffee:2")


def test_hash_tag_is_what_redis_cluster_hashes() -> None:
    assert hash_tag("merchant:{m_1}:invoice:x") == "m_1"
    assert hash_tag("outbox:stream") == "outbox:stream"
    assert hash_tag("odd:{}:key") == "odd:{}:key"  # an empty tag hashes the whole key


def test_a_key_no_marker_can_share_a_slot_with_is_refused_at_commit() -> None:
    with pytest.raises(ValueError, match="no marker"):
        split(CONV, stack(("SET", "odd:{}:key", "1")))
