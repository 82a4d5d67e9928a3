"""parse_telegram_update and verify_telegram_secret on real-shaped and hostile updates."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.base import InboundKind, InvalidSignature, MalformedPayload
from channels.telegram import parse_telegram_update, verify_telegram_secret

USER = {"id": 4242, "is_bot": False, "first_name": "Zoé", "language_code": "fr"}
PRIVATE = {"id": 4242, "type": "private", "first_name": "Zoé"}


def message(**fields: Any) -> dict[str, Any]:
    return {"message_id": 5, "from": USER, "chat": PRIVATE, "date": 1_790_000_000, **fields}


def test_private_text() -> None:
    inbound = parse_telegram_update({"update_id": 10, "message": message(text="payer")})
    assert inbound is not None
    assert inbound.kind is InboundKind.TEXT
    assert (inbound.address, inbound.provider_id, inbound.text) == ("4242", "10", "payer")
    assert inbound.language_code == "fr"


def test_callback_query() -> None:
    update = {
        "update_id": 11,
        "callback_query": {
            "id": "987",
            "from": USER,
            "chat_instance": "1",
            "data": "pay:F-42",
            "message": message(text="Facture"),
        },
    }
    inbound = parse_telegram_update(update)
    assert inbound is not None
    assert inbound.kind is InboundKind.CHOICE
    assert (inbound.payload, inbound.text, inbound.address) == ("pay:F-42", "", "4242")
    assert inbound.extra == {"callback_query_id": "987"}


def test_callback_query_without_message_falls_back_to_sender() -> None:
    update = {"update_id": 12, "callback_query": {"id": "1", "from": USER, "data": "x"}}
    inbound = parse_telegram_update(update)
    assert inbound is not None
    assert inbound.address == "4242"


@pytest.mark.parametrize(
    "content",
    [
        {"sticker": {"file_id": "x"}},
        {"photo": [{"file_id": "x"}], "caption": "j'ai payé"},
        {"voice": {"file_id": "x"}},
        {"document": {"file_id": "x"}},
        {"location": {"latitude": 48.8, "longitude": 2.3}},
    ],
)
def test_private_non_text_is_unsupported(content: dict[str, Any]) -> None:
    inbound = parse_telegram_update({"update_id": 13, "message": message(**content)})
    assert inbound is not None
    assert inbound.kind is InboundKind.UNSUPPORTED
    assert inbound.address == "4242"


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 1, "edited_message": message(text="edit")},
        {"update_id": 1, "channel_post": message(chat={"id": -100, "type": "channel"})},
        {"update_id": 1, "message": message(text="hi", chat={"id": -5, "type": "group"})},
        {"update_id": 1, "message": message(text="hi", chat={"id": -5, "type": "supergroup"})},
        {"update_id": 1, "my_chat_member": {"chat": PRIVATE}},
        {"update_id": 1, "message": message(pinned_message={"message_id": 1})},
        {"update_id": 1},
    ],
)
def test_ignored_updates(update: dict[str, Any]) -> None:
    assert parse_telegram_update(update) is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "update",
        42,
        {},
        {"update_id": "10"},
        {"update_id": True},
        {"update_id": 1.5},
        {"update_id": 1, "message": "hi"},
        {"update_id": 1, "message": {"chat": {"id": "x", "type": "private"}}},
        {"update_id": 1, "callback_query": {"id": 5, "from": USER}},
        {"update_id": 1, "callback_query": {"id": "5", "from": None}},
    ],
)
def test_garbage_is_malformed(data: object) -> None:
    with pytest.raises(MalformedPayload):
        parse_telegram_update(data)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "update_id",
                    "message",
                    "chat",
                    "id",
                    "type",
                    "text",
                    "from",
                    "callback_query",
                    "data",
                    "private",
                    "sticker",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(JSON)
def test_hostile_json_never_raises_anything_but_malformed(data: object) -> None:
    with contextlib.suppress(MalformedPayload):
        parse_telegram_update(data)


def test_secret_token() -> None:
    verify_telegram_secret("s3cret", "s3cret")
    for header in (None, "", "wrong", "s3cret "):
        with pytest.raises(InvalidSignature):
            verify_telegram_secret(header, "s3cret")
