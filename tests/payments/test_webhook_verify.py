from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import stripe

from payments.webhook import WebhookRejected, verify_stripe_event

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())
SECRET = "whsec_current"
OLD_SECRET = "whsec_previous"
BODY = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_1"}},
    }
).encode()


def sign(body: bytes, secret: str = SECRET, t: int = T) -> str:
    header: str = stripe.WebhookSignature.generate_signature_header(body.decode(), secret, t)
    return header


def verify(body: bytes, header: str | None, secrets: list[str] | None = None) -> dict[str, object]:
    return verify_stripe_event(body, header, secrets or [SECRET], now=NOW)


def rejected(body: bytes, header: str | None, secrets: list[str] | None = None) -> str:
    with pytest.raises(WebhookRejected) as info:
        verify(body, header, secrets)
    return info.value.reason


def test_valid_event_is_parsed() -> None:  # TESTCASES 1
    event = verify(BODY, sign(BODY))
    assert event["id"] == "evt_1"
    assert event["type"] == "checkout.session.completed"


@pytest.mark.parametrize(
    "mutated",
    [
        BODY.replace(b"cs_1", b"cs_2"),
        BODY + b" ",
        json.dumps(json.loads(BODY), indent=1).encode(),
        json.dumps(dict(reversed(list(json.loads(BODY).items())))).encode(),
    ],
)
def test_any_body_change_is_rejected(mutated: bytes) -> None:  # TESTCASES 2
    assert rejected(mutated, sign(BODY)) == "bad_signature"


@pytest.mark.parametrize(
    ("offset", "ok"),
    [(-299, True), (-300, True), (-301, False), (300, True), (301, False), (600, False)],
)
def test_tolerance_boundaries(offset: int, ok: bool) -> None:  # TESTCASES 3
    header = sign(BODY, t=T + offset)
    if ok:
        assert verify(BODY, header)["id"] == "evt_1"
    else:
        assert rejected(BODY, header) == ("too_old" if offset < 0 else "in_future")


def test_a_tampered_timestamp_breaks_the_signature() -> None:
    header = sign(BODY).replace(f"t={T}", f"t={T + 1}")
    assert rejected(BODY, header) == "bad_signature"


def test_secret_rotation_with_two_v1_values() -> None:  # TESTCASES 4
    old = sign(BODY, OLD_SECRET).split(",")[1]
    header = sign(BODY) + "," + old
    assert verify(BODY, header, [SECRET, OLD_SECRET])["id"] == "evt_1"
    assert verify(BODY, header, [SECRET])["id"] == "evt_1"
    assert verify(BODY, header, [OLD_SECRET])["id"] == "evt_1"
    # Signed only by the old secret, after the overlap ended:
    assert rejected(BODY, sign(BODY, OLD_SECRET), [SECRET]) == "bad_signature"
    # During the overlap, either configured secret may match:
    assert verify(BODY, sign(BODY, OLD_SECRET), [SECRET, OLD_SECRET])["id"] == "evt_1"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing_header"),
        ("", "missing_header"),
        ("garbage", "malformed_header"),
        ("t=abc,v1=00", "malformed_header"),
        (f"t={T}", "malformed_header"),
        (f"t={T},v0=abc", "malformed_header"),
        (f"t={T},v1=", "malformed_header"),
        (f"t={T},t={T},v1=abc", "malformed_header"),
        (f"t=-{T},v1=abc", "malformed_header"),
        (f"t={T},v1=deadbeef", "bad_signature"),
    ],
)
def test_malformed_headers(header: str | None, reason: str) -> None:  # TESTCASES 5
    assert rejected(BODY, header) == reason


@pytest.mark.parametrize("secrets", [[], [""], ["  "], [SECRET, ""]])
def test_empty_secret_configuration_is_a_config_error(secrets: list[str]) -> None:
    with pytest.raises(ValueError, match="secret"):
        verify_stripe_event(BODY, sign(BODY), secrets, now=NOW)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not_json"),
        (b"[1, 2]", "not_an_event"),
        (b'"evt"', "not_an_event"),
        (b'{"id": "evt_1"}', "not_an_event"),
        (b'{"type": "x"}', "not_an_event"),
        (b'{"id": 1, "type": "x"}', "not_an_event"),
        ('{"id": "é"'.encode("latin-1"), "bad_signature"),
    ],
)
def test_body_must_be_a_json_event(body: bytes, reason: str) -> None:
    header = sign(body) if reason != "bad_signature" else f"t={T},v1=00"
    assert rejected(body, header) == reason


def test_non_utf8_body_is_rejected_not_crashing() -> None:
    body = b'{"id": "\xff"}'
    assert rejected(body, f"t={T},v1=00") == "bad_signature"


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        verify_stripe_event(BODY, sign(BODY), [SECRET], now=NOW.replace(tzinfo=None))


def test_rejection_messages_carry_no_body_or_header() -> None:
    header = sign(BODY).replace("v1=", "v1=0")
    with pytest.raises(WebhookRejected) as info:
        verify(BODY, header)
    assert str(info.value) == "bad_signature"
