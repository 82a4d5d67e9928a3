"""A Twilio call that never gets an answer gives up after the transport's timeout.

twilio's async client passes `timeout=None` on every request, which aiohttp reads as "no
timeout" for that request, overriding the session's: a provider (or emulator) that never
answers held the send, and with it the sender's whole batch, for good. Real twilio SDK."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from twilio.rest import Client

from channels.twilio_sms import FactoTwilioHttpClient


async def test_a_twilio_call_that_gets_no_answer_times_out(aiohttp_server: Any) -> None:
    never = asyncio.Event()

    async def no_answer(_request: web.Request) -> web.Response:
        await never.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", no_answer)
    server = await aiohttp_server(app)
    http = FactoTwilioHttpClient(str(server.make_url("/")), timeout_seconds=0.2)
    client = Client("AC" + "0" * 32, "token", http_client=http)
    send = asyncio.ensure_future(
        client.messages.create_async(to="+33611223344", from_="+33700000000", body="x")
    )
    try:
        # The outer bound only keeps a regression from hanging the suite; it is not the
        # timeout under test (asyncio.wait gives up without raising).
        done, _ = await asyncio.wait({send}, timeout=10)
        assert send in done, "the request was still waiting for its answer"
        with pytest.raises(TimeoutError):
            send.result()
    finally:
        send.cancel()
        never.set()
        await http.close()
