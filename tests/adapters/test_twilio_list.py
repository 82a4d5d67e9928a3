"""The emulator's Messages list filters like Twilio's, and `find_sent` reads it (real SDK)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from channels.base import ChannelName
from channels.twilio_sms import TwilioSmsAdapter
from tests.adapters.conftest import Sandbox
from tests.adapters.test_twilio_adapter import PHONE, STATUS_PATH, make_adapter, outbound

OTHER = "+33698765432"


@pytest.fixture
async def adapter(sandbox: Sandbox) -> AsyncIterator[TwilioSmsAdapter]:
    sms = make_adapter(sandbox)
    await sms.start()
    yield sms
    await sms.close()


async def listing(sandbox: Sandbox, **query: str) -> tuple[int, dict[str, Any]]:
    settings = sandbox.settings
    url = f"{settings.twilio_api_base}/2010-04-01/Accounts/{settings.twilio_account_sid}"
    auth = aiohttp.BasicAuth(settings.twilio_account_sid or "", sandbox.twilio_token)
    headers = {"Authorization": auth.encode()}
    async with sandbox.http.get(f"{url}/Messages.json", params=query, headers=headers) as r:
        return r.status, await r.json()


def day(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


async def test_list_filters_by_to_from_and_date_sent(
    sandbox: Sandbox, adapter: TwilioSmsAdapter
) -> None:
    first = await adapter.send(outbound("un", address=PHONE))
    await adapter.send(outbound("deux", address=OTHER))
    second = await adapter.send(outbound("trois", address=PHONE))
    await sandbox.hooks.wait_for(STATUS_PATH, count=6)  # sent, delivered: each has a DateSent
    today, ours = datetime.now(UTC), sandbox.settings.twilio_sms_from or ""

    status, page = await listing(sandbox, To=PHONE, From=ours)
    assert status == 200
    assert [m["sid"] for m in page["messages"]] == [
        second.provider_message_id,
        first.provider_message_id,
    ]  # newest first
    assert {m["to"] for m in page["messages"]} == {PHONE}
    assert all(m["date_sent"] for m in page["messages"])

    assert len((await listing(sandbox, To=PHONE, DateSent=day(today)))[1]["messages"]) == 2
    tomorrow, yesterday = day(today + timedelta(days=1)), day(today - timedelta(days=1))
    assert (await listing(sandbox, To=PHONE, **{"DateSent>": tomorrow}))[1]["messages"] == []
    assert len((await listing(sandbox, To=PHONE, **{"DateSent>": yesterday}))[1]["messages"]) == 2
    assert (await listing(sandbox, To=PHONE, **{"DateSent<": yesterday}))[1]["messages"] == []
    assert (await listing(sandbox, From=OTHER))[1]["messages"] == []  # nothing came from them

    status, paged = await listing(sandbox, PageSize="1")
    assert status == 200 and len(paged["messages"]) == 1 and paged["next_page_uri"]
    assert (await listing(sandbox, DateSent="soon"))[0] == 400


async def test_a_queued_message_has_no_date_sent_and_matches_no_date_filter(
    sandbox: Sandbox,
) -> None:
    sms = make_adapter(sandbox, status_callback_url=None)  # the emulator's carrier stays quiet
    await sms.start()
    try:
        sent = await sms.send(outbound("en file"))
        today = day(datetime.now(UTC))
        page = (await listing(sandbox, To=PHONE))[1]
        assert [(m["sid"], m["status"], m["date_sent"]) for m in page["messages"]] == [
            (sent.provider_message_id, "queued", None)
        ]
        assert (await listing(sandbox, To=PHONE, **{"DateSent>": today}))[1]["messages"] == []
        # find_sent reads the newest messages too, so a queued one is still found.
        message = outbound("en file")
        since = datetime.now(UTC) - timedelta(seconds=1)
        assert await sms.find_sent(message, since) == sent.provider_message_id
    finally:
        await sms.close()


async def test_find_sent_matches_body_address_and_time(
    sandbox: Sandbox, adapter: TwilioSmsAdapter
) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    sent = await adapter.send(outbound("Votre facture", address=PHONE))
    assert await adapter.find_sent(outbound("Votre facture", address=PHONE), before) == (
        sent.provider_message_id
    )
    assert await adapter.find_sent(outbound("Autre chose", address=PHONE), before) is None
    assert await adapter.find_sent(outbound("Votre facture", address=OTHER), before) is None
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await adapter.find_sent(outbound("Votre facture", address=PHONE), later) is None
    assert sandbox.state.send_requests[ChannelName.SMS] == 1  # lookups send nothing


async def test_find_sent_passes_over_a_match_that_is_another_messages(
    sandbox: Sandbox, adapter: TwilioSmsAdapter
) -> None:
    """The same answer sent just before (within the skew) is another message: not it."""
    before = datetime.now(UTC) - timedelta(seconds=1)
    first = await adapter.send(outbound("Bonjour", address=PHONE))
    second = await adapter.send(outbound("Bonjour", address=PHONE))
    asked: list[list[str]] = []

    async def first_is_taken(sids: Sequence[str]) -> set[str]:
        asked.append(list(sids))
        return {first.provider_message_id}

    found = await adapter.find_sent(outbound("Bonjour", address=PHONE), before, first_is_taken)
    assert found == second.provider_message_id
    assert sorted(asked[0]) == sorted([first.provider_message_id, second.provider_message_id])

    async def both_taken(sids: Sequence[str]) -> set[str]:
        return set(sids)

    assert await adapter.find_sent(outbound("Bonjour", address=PHONE), before, both_taken) is None
