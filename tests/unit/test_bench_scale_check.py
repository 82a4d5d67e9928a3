"""bench/bench_scale.py's verdict: a message dispatched twice, dropped, reordered or set aside
as late, and a reply lost, doubled or reordered, are each counted (from the transcript and the
emulator's record, as the bench reads them)."""

from __future__ import annotations

import pytest

from bench.bench_scale import (
    Problems,
    check_conversation,
    customers_load,
    doubled_refs,
    judge_record,
)

SENT = ["sms:SM1", "sms:SM2", "sms:SM3"]


REPLIES = ("Bonjour", "Il reste 72 €", "Merci")


def said(*refs: str) -> list[dict[str, str]]:
    """A transcript: each customer message followed by the bot's answer to it."""
    entries: list[dict[str, str]] = [{"dir": "out", "text": "Votre facture F-1", "ref": "i"}]
    for n, ref in enumerate(refs):
        entries.append({"dir": "in", "text": "aide", "ref": ref})
        entries.append({"dir": "out", "text": REPLIES[n % len(REPLIES)], "ref": f"o{n}"})
    return entries


def delivered(transcript: list[dict[str, str]]) -> list[str]:
    # SMS rendering adds the numbered choices below the first line: the check compares openings.
    return [e["text"] + "\n1. Payer\n2. Plus tard" for e in transcript if e["dir"] == "out"]


def test_everything_once_and_in_order_is_clean() -> None:
    transcript = said(*SENT)
    assert check_conversation(SENT, transcript, delivered(transcript)) == Problems()


@pytest.mark.parametrize(
    ("refs", "expected"),
    [
        (("sms:SM1", "sms:SM2", "sms:SM2", "sms:SM3"), Problems(dispatched_twice=1)),
        (("sms:SM1", "sms:SM3"), Problems(missing=1)),
        (("sms:SM2", "sms:SM1", "sms:SM3"), Problems(out_of_order=1)),
        (("sms:SM1", "sms:SM2", "sms:SM3", "sms:SMx"), Problems(unexpected=1)),
    ],
)
def test_each_fault_of_the_dispatch_is_counted(refs: tuple[str, ...], expected: Problems) -> None:
    transcript = said(*refs)
    found = check_conversation(SENT, transcript, delivered(transcript))
    assert found == expected and found.total == 1


def test_a_message_set_aside_as_late_is_counted() -> None:
    transcript = said(*SENT)
    transcript[3]["late"] = "1"
    assert check_conversation(SENT, transcript, delivered(transcript)) == Problems(late=1)


def test_replies_lost_doubled_or_reordered_at_the_emulator_are_counted() -> None:
    transcript = said(*SENT)
    sent_out = delivered(transcript)
    lost = check_conversation(SENT, transcript, sent_out[:-1])
    doubled = check_conversation(SENT, transcript, [*sent_out, sent_out[1]])
    swapped = check_conversation(
        SENT, transcript, [sent_out[0], sent_out[2], sent_out[1], *sent_out[3:]]
    )
    assert (lost, doubled, swapped) == (
        Problems(missing=1),
        Problems(delivered_twice=1),
        Problems(out_of_order=1),
    )


def test_the_load_numbers_each_conversation_and_redelivers_its_first_message() -> None:
    """Message k of conversation i goes to web (i + k) mod 2; message 1 comes again, to the
    other web, after message 2; Telegram update ids grow in the order written."""
    webs = ["http://web-a", "http://web-b"]
    load = customers_load("http://public", webs, [("sms", "+33611"), ("telegram", "42")], 3)
    sms, telegram = load
    assert [url.split("/webhooks")[0] for url, _h, _b in sms.posts] == [
        "http://web-a", "http://web-b", "http://web-b", "http://web-a"
    ]  # fmt: skip
    assert sms.posts[2][2] == sms.posts[0][2] and len(set(sms.sent)) == 3
    updates = [int(ref.split(":")[1]) for ref in telegram.sent]
    assert updates == sorted(updates) and len(set(updates)) == 3


def test_a_reply_resent_after_the_killed_worker_was_sending_it_is_not_a_failure() -> None:
    """The record names the killed worker as interrupted during the send and the emulator got
    a copy before the kill and one after: the at-least-once window, counted apart."""
    transcript = said(*SENT)
    doubled = [*delivered(transcript), delivered(transcript)[1]]
    [ref] = doubled_refs(transcript, doubled)
    record = {"state": "sent", "interrupted_by": "host-4242:ab12", "interrupted_at": "100.0"}
    proven = judge_record(record, [100.5, 117.0], victim=(4242, 101.0))
    found = check_conversation(SENT, transcript, doubled, {ref: proven})
    assert proven.interrupted and found == Problems(resent_after_interrupt=1)
    assert found.total == 0 and "resent after an interrupted send" in found.details[0]


def test_a_first_copy_received_just_after_the_kill_is_still_the_interrupted_send() -> None:
    """The killed sender's request was on its way: the emulator records it after the kill,
    long before another sender could take the claim over (10 s idle)."""
    transcript = said(*SENT)
    doubled = [*delivered(transcript), delivered(transcript)[1]]
    [ref] = doubled_refs(transcript, doubled)
    record = {"state": "sent", "interrupted_by": "host-4242:ab12", "interrupted_at": "100.0"}
    proven = judge_record(record, [101.4, 112.0], victim=(4242, 100.3))
    found = check_conversation(SENT, transcript, doubled, {ref: proven})
    assert proven.interrupted and found.total == 0


@pytest.mark.parametrize(
    ("record", "copies"),
    [
        ({"state": "sent"}, [100.5, 117.0]),  # no sender was interrupted: a double send
        ({"state": "sent", "interrupted_by": "host-7:ab", "interrupted_at": "100"}, [100.5, 117]),
        ({"state": "sent", "interrupted_by": "host-4242:ab", "interrupted_at": "100"}, [117, 118]),
        # Both copies before anyone could have taken the claim over: one sender sent twice.
        (
            {"state": "sent", "interrupted_by": "host-4242:ab", "interrupted_at": "100"},
            [100.5, 101.5],
        ),
    ],
)
def test_a_reply_delivered_twice_without_that_proof_fails(
    record: dict[str, str], copies: list[float]
) -> None:
    transcript = said(*SENT)
    doubled = [*delivered(transcript), delivered(transcript)[1]]
    [ref] = doubled_refs(transcript, doubled)
    evidence = judge_record(record, copies, victim=(4242, 101.0))
    found = check_conversation(SENT, transcript, doubled, {ref: evidence})
    assert found == Problems(delivered_twice=1) and "delivered twice" in found.details[0]
