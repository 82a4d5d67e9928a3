"""The whole app on a real loopback server, with the sandbox emulators, driven over HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner
from twilio.request_validator import RequestValidator

from bot.clock import FakeClock
from bot.embedded_redis import free_port
from bot.engine.worker import Worker
from bot.settings import Settings
from bot.store.merchants import Merchant, create_merchant
from bot.web.app import create_app
from bot.web.app_keys import SERVICES
from bot.web.documents import invoice_archiver
from channels.base import ChannelName
from sandbox.app import sandbox_mount
from sandbox.state import ChatEntry, SandboxState, WebhookPaths

# Every scenario starts at this instant on its injected clock, whatever day the suite runs:
# a Wednesday, so weekday phrases ("vendredi") and due dates read the same every time.
START = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
DUE = START.date() + timedelta(days=27)

MERCHANT = {
    "name": "Atelier Lumière",
    "legal_name": "Atelier Lumière SAS",
    "siren": "732829320",
    "vat_number": "FR44732829320",
    "address": "12 rue des Lilas, 75011 Paris",
    "legal_form": "SAS",
    "share_capital": 1_000_000,  # 10 000,00 €
    "rcs_city": "RCS Paris",
}


def sandbox_settings(port: int, redis_url: str, **overrides: Any) -> Settings:
    return Settings(
        FACTO_SANDBOX=True,
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        REDIS_URL=redis_url,
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option
        # The tests' webhook receivers listen on 127.0.0.1 (refused in production).
        **{"FACTO_WEBHOOKS_ALLOW_LOOPBACK": True, **overrides},
    )


@dataclass
class Facto:
    """One running Facto: HTTP client, worker, sandbox state, clock and a merchant."""

    client: TestClient[Any, Any]
    worker: Worker
    sandbox: SandboxState
    clock: FakeClock
    redis: aioredis.Redis
    settings: Settings
    merchant: Merchant | None = None
    api_key: str = ""
    created: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url

    async def add_merchant(self, **overrides: Any) -> tuple[Merchant, str]:
        merchant, key = await create_merchant(
            self.redis, now=self.clock.now(), **{**MERCHANT, **overrides}
        )
        if self.merchant is None:
            self.merchant, self.api_key = merchant, key
        return merchant, key

    async def post_invoice(self, body: Any, api_key: str | None = None) -> ClientResponse:
        return await self.client.post(
            "/api/v1/invoices",
            json=body,
            headers={"Authorization": f"Bearer {api_key or self.api_key}"},
        )

    async def issue(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.post_invoice(body)
        assert response.status == 201, await response.text()
        created: dict[str, Any] = await response.json()
        await self.drain()
        return created

    async def customer_says(
        self,
        channel: str,
        address: str,
        text: str | None = None,
        action: str | None = None,
        *,
        to: str | None = None,
    ) -> int:
        """The phone simulator: the customer writes (to `to`, one of our numbers or bots;
        None: the platform's), through the provider's signed webhook."""
        payload: dict[str, str | None] = {"text": text} if text is not None else {"action": action}
        if to is not None:
            payload["to"] = to
        response = await self.client.post(
            f"/sandbox/api/customer/{channel}/{address}", json=payload
        )
        await self.drain()
        return response.status

    async def messages(self, channel: str, to: str) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/sandbox/api/messages", params={"channel": channel, "to": to}
        )
        assert response.status == 200, await response.text()
        result: list[dict[str, Any]] = await response.json()
        return result

    async def sms(self, phone: str, sid: int, text: str) -> ClientResponse:
        """An inbound SMS as Twilio posts it: form-encoded, signed for our public URL."""
        form = {"MessageSid": f"SM{sid:032d}", "From": phone, "To": "+33700000000", "Body": text}
        signature = RequestValidator("sandbox-twilio-token").compute_signature(
            f"{self.base_url}/webhooks/twilio/sms", form
        )
        return await self.client.post(
            "/webhooks/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
        )

    async def whatsapp(
        self, phone: str, sid: int, text: str = "", *, payload: str | None = None
    ) -> ClientResponse:
        """An inbound WhatsApp message (or a button tap: `payload`) as Twilio posts it."""
        form = {
            "MessageSid": f"SM{sid:032d}",
            "From": f"whatsapp:{phone}",
            "To": f"whatsapp:{self.settings.twilio_whatsapp_from}",
            "Body": text,
            "NumMedia": "0",
            "ProfileName": "Client",
        }
        if payload is not None:
            form.update(ButtonPayload=payload, ButtonText=text or payload)
        # Twilio relays the message, so WhatsApp's side knows the window opened.
        self.sandbox.record(
            ChatEntry(
                channel=ChannelName.WHATSAPP,
                address=phone,
                sender="customer",
                text=text or str(payload),
                time=self.clock.now(),
                message_id=form["MessageSid"],
                extra={"to": form["To"]},  # the window is per (our number, customer)
            )
        )
        signature = RequestValidator("sandbox-twilio-token").compute_signature(
            f"{self.base_url}/webhooks/twilio/whatsapp", form
        )
        return await self.client.post(
            "/webhooks/twilio/whatsapp", data=form, headers={"X-Twilio-Signature": signature}
        )

    async def drain(self) -> int:
        return await self.worker.drain()


def invoice_body(
    channel: str = "telegram",
    address: str | int = 424242,
    *,
    locale: str | None = "fr",
    due: date | None = None,
    lines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    field_name = "telegram_chat_id" if channel == "telegram" else "phone"
    customer: dict[str, Any] = {"name": "Camille Martin", field_name: address}
    if locale is not None:  # None: let Facto choose the language per message
        customer["locale"] = locale
    return {
        "customer": customer,
        "channel": channel,
        "currency": "EUR",
        "due_date": (due or DUE).isoformat(),
        "lines": lines
        or [
            {
                "description": "Lampe de bureau",
                "quantity": 1,
                "unit_amount": 6000,
                "vat_rate": "20",
            },
            {"description": "Ampoules", "quantity": 2, "unit_amount": 575, "vat_rate": "20"},
        ],
    }


class ServerAsDeployed(TestServer):
    """aiohttp's test server cancels a handler whose client went away; `python -m bot serve`
    (and a real provider) does not: an emulator call whose caller died still completes."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        kwargs["handler_cancellation"] = False
        return await super()._make_runner(**kwargs)


async def start_facto(
    redis_url: str,
    redis: aioredis.Redis,
    *,
    now: datetime | None = None,
    prepare_worker: bool = True,
    stripe_webhook_path: str = "/webhooks/stripe",
    keep_handlers_of_lost_clients: bool = False,
    **overrides: Any,
) -> Facto:
    port = free_port()
    settings = sandbox_settings(port, redis_url, **overrides)
    clock = FakeClock(now or START)
    state = SandboxState(clock=clock, webhook_paths=WebhookPaths(stripe=stripe_webhook_path))
    app = create_app(
        settings, redis_url=redis_url, clock=clock, mounts=[sandbox_mount(settings, state)]
    )
    server_class = ServerAsDeployed if keep_handlers_of_lost_clients else TestServer
    server = server_class(app, host="127.0.0.1", port=port)
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    # As `python -m bot worker` runs it: archiving issued invoices' PDFs too.
    worker = Worker(app[SERVICES], archive_invoice=invoice_archiver(app[SERVICES]))
    if prepare_worker:
        await worker.prepare()
    return Facto(
        client=client, worker=worker, sandbox=state, clock=clock, redis=redis, settings=settings
    )


__all__ = [
    "DUE",
    "START",
    "ChannelName",
    "Facto",
    "invoice_body",
    "sandbox_settings",
    "start_facto",
]
