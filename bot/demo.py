"""`python -m bot demo`: everything in one process, the sandbox on, demo data seeded.

The demo invoices are created through the merchant API over HTTP, so they take the same path
as a real merchant's: API -> numbering -> pipeline -> flow -> outbox -> channel emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pyotp
import redis.asyncio as aioredis
from aiohttp import web

from bot.clock import ShiftedClock, SystemClock
from bot.demo_flash import seed_flash_sale
from bot.demo_history import Seeder, seed_history
from bot.demo_senders import seed_own_senders
from bot.engine.worker import Worker
from bot.runtime import load_settings, redis_url_for, run_site, running_demo_redis
from bot.services import Services
from bot.store.merchants import create_merchant
from bot.store.users import Role, create_user
from bot.web.app import create_app
from bot.web.app_keys import SERVICES
from channels.base import ChannelName
from sandbox.app import sandbox_mount
from sandbox.state import SandboxState

log = logging.getLogger(__name__)

DEMO_MERCHANT: dict[str, Any] = {
    "name": "Atelier Lumière",
    "legal_name": "Atelier Lumière SAS",
    "siren": "732829320",
    "vat_number": "FR44732829320",
    "address": "12 rue des Lilas, 75011 Paris",
    "legal_form": "SAS",
    "share_capital": 1_000_000,  # 10 000,00 €
    "rcs_city": "RCS Paris",
    "iban": "FR7630006000011234567890189",  # a documented example IBAN: the transfer QR shows
}
DEMO_CUSTOMERS = (
    {
        "name": "Camille Martin",
        "channel": ChannelName.TELEGRAM,
        "address": "424242",
        "locale": "fr",
    },
    {"name": "Alex Morgan", "channel": ChannelName.SMS, "address": "+33612345678", "locale": "en"},
    # WhatsApp: the invoice arrives as an approved template (no message from her yet); once she
    # answers, the 24 h window opens and replies come free-form with buttons.
    {
        "name": "Inès Haddad",
        "channel": ChannelName.WHATSAPP,
        "address": "+33698765432",
        "locale": "fr",
    },
)


async def run_demo(port: int | None = None) -> int:
    os.environ["FACTO_SANDBOX"] = "1"
    os.environ.setdefault("FACTO_WEBHOOKS_ALLOW_LOOPBACK", "1")  # webhooks to a local receiver
    if port is not None:
        os.environ["PORT"] = str(port)
    os.environ.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8080')}")
    settings = load_settings()
    data_dir = Path(settings.data_dir) / "demo"
    if (running := await running_demo_redis(settings)) is not None:
        # Its data would be deleted under it: say so instead (issue 13).
        print(  # noqa: T201 - the demo talks to a person
            f"A demo is already running with its data in {data_dir} (Redis {running}). "
            "Stop it first, or run this one with another FACTO_DATA_DIR and --port.",
            file=sys.stderr,
        )
        return 1
    # The emulators keep their chats in memory: start from a clean slate so both sides agree.
    shutil.rmtree(data_dir, ignore_errors=True)
    async with redis_url_for(
        settings.model_copy(update={"redis_url": None}), str(data_dir)
    ) as url:
        # One clock for the bot and the emulators, which the simulator's clock control moves.
        clock = ShiftedClock()
        state = SandboxState(clock=clock)
        app = create_app(
            settings,
            redis_url=url,
            clock=clock,
            # The worker starts once the month of history is played (`_seed`), so that the
            # history's own worker alone moves through it, step by step.
            run_worker=False,
            mounts=[sandbox_mount(settings, state)],
        )
        worker: dict[str, Any] = {}
        base_url = settings.public_base_url
        seeding = functools.partial(
            _seed, app, url, base_url=base_url, state=state, clock=clock, worker=worker
        )
        app.on_startup.append(_seed_after_start(seeding, worker))
        app.on_shutdown.append(_stop_worker(worker))  # before the services close
        await run_site(app, settings.host, settings.port)
    return 0


def _seed_after_start(
    seeding: Callable[[], Coroutine[Any, Any, None]], worker: dict[str, Any]
) -> Any:
    async def seed(_app: web.Application) -> None:
        # The API is served only once startup finishes: seed right after, in the background.
        asyncio.get_running_loop().call_later(
            0.2,
            lambda: worker.setdefault("seeding", asyncio.ensure_future(seeding())),
        )

    return seed


def _stop_worker(worker: dict[str, Any]) -> Any:
    async def stop(_app: web.Application) -> None:
        seeding = worker.get("seeding")
        if seeding is not None and not seeding.done():
            seeding.cancel()
        running: Worker | None = worker.get("worker")
        task = worker.get("task")
        if running is not None and task is not None:
            running.stop()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=5)

    return stop


async def _seed(
    app: web.Application,
    redis_url: str,
    *,
    base_url: str,
    state: SandboxState,
    clock: ShiftedClock,
    worker: dict[str, Any],
) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        merchant, api_key = await create_merchant(client, now=clock.now(), **DEMO_MERCHANT)
    finally:
        await client.aclose()
    created: list[dict[str, Any]] = []
    team = await _seed_team(redis_url, merchant.id)
    services = app[SERVICES]
    running = Worker(services)
    await running.prepare()
    async with aiohttp.ClientSession() as http:
        try:
            await _seed_month(
                http,
                base_url,
                api_key,
                clock=clock,
                worker=running,
                services=services,
                state=state,
            )
        finally:  # whatever happened to the history, the demo's worker runs
            worker["worker"] = running
            worker["task"] = asyncio.ensure_future(running.run())
        today = clock.now().date()
        for index, customer in enumerate(DEMO_CUSTOMERS):
            state.add_contact(
                str(customer["name"]), ChannelName(customer["channel"]), str(customer["address"])
            )
            body = _demo_invoice(customer, today + timedelta(days=14 + 7 * index), index)
            async with http.post(
                f"{base_url}/api/v1/invoices",
                json=body,
                headers={"Authorization": f"Bearer {api_key}"},
            ) as response:
                created.append({**(await response.json()), "http_status": response.status})
        # Alex asks for a person: a conversation waiting in the console from the start.
        await http.post(
            f"{base_url}/sandbox/api/customer/sms/{DEMO_CUSTOMERS[1]['address']}",
            json={"text": "I'd like to talk to a person please"},
        )
        flash = await seed_flash_sale(http, base_url, api_key, state, clock.now())
        flash += await seed_own_senders(
            http, base_url, redis_url, state, phone=str(DEMO_CUSTOMERS[1]["address"]), today=today
        )
    _print_welcome(base_url, merchant.id, api_key, created, flash)
    _print_team(base_url, team)


async def _seed_month(
    http: aiohttp.ClientSession,
    base_url: str,
    api_key: str,
    *,
    clock: ShiftedClock,
    worker: Worker,
    services: Services,
    state: SandboxState,
) -> None:
    """A month of history (bot.demo_history) so that the dashboard has figures from the start."""

    async def refund(session_id: str, amount: int) -> None:
        intent = state.sessions[session_id].payment_intent
        if intent is not None:
            await services.stripe.refund(intent, amount, f"demo-history-refund-{intent}")

    say = "Seeding a month of history for the dashboard..."
    print(say, file=sys.stderr, flush=True)  # noqa: T201 - the demo talks to a person
    seeder = Seeder(http, base_url, api_key, clock, worker.drain, refund)
    try:
        counts = await seed_history(seeder)
    except Exception:  # the live demo still starts; the log says what went wrong
        log.exception("the demo's month of history could not be seeded")
        return
    done = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
    print(f"  History: {done}.", file=sys.stderr, flush=True)  # noqa: T201


DEMO_TEAM = (
    ("owner@atelier-lumiere.example", "Léa (owner)", Role.OWNER),
    ("agent@atelier-lumiere.example", "Hugo (agent)", Role.AGENT),
)


async def _seed_team(redis_url: str, merchant_id: str) -> list[tuple[str, str, str]]:
    """An owner and an agent with TOTP already enrolled, so the demo logs in at once.

    Demo only: their passwords and TOTP secrets are printed; a real user is created with
    `python -m bot user create` and enrols its own authenticator at first login."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    team = []
    try:
        for email, name, role in DEMO_TEAM:
            password, secret = secrets.token_urlsafe(12), pyotp.random_base32()
            await create_user(
                client,
                merchant_id=merchant_id,
                email=email,
                name=name,
                role=role,
                password=password,
                now=SystemClock().now(),
                totp_secret=secret,
            )
            team.append((email, password, secret))
    finally:
        await client.aclose()
    return team


def _print_team(base: str, team: list[tuple[str, str, str]]) -> None:
    lines = [f"  Support console: {base}/console (demo users, TOTP secrets shown for the demo)"]
    for email, password, secret in team:
        lines.append(f"    {email}  password {password}  TOTP secret {secret}")
    lines += [
        "    Add the secret to an authenticator app, or print its current code with:",
        "      ./facto user totp-code SECRET",
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)  # noqa: T201 - the demo's welcome


def _demo_invoice(customer: dict[str, Any], due: Any, index: int) -> dict[str, Any]:
    address_field = "telegram_chat_id" if customer["channel"] is ChannelName.TELEGRAM else "phone"
    lines = [
        [
            {
                "description": "Lampe de bureau en laiton",
                "quantity": 1,
                "unit_amount": 8900,
                "vat_rate": "20",
            },
            {
                "description": "Ampoules LED (lot de 3)",
                "quantity": 2,
                "unit_amount": 1250,
                "vat_rate": "20",
            },
        ],
        [
            {
                "description": "Restauration d'un lustre",
                "quantity": 1,
                "unit_amount": 24000,
                "vat_rate": "20",
            },
            {
                "description": "Livre « L'art de la lumière »",
                "quantity": 1,
                "unit_amount": 2800,
                "vat_rate": "5.5",
            },
        ],
    ][index % 2]
    return {
        "customer": {
            "name": customer["name"],
            address_field: customer["address"],
            "locale": customer["locale"],
        },
        "channel": customer["channel"].value,
        "currency": "EUR",
        "due_date": due.isoformat(),
        "lines": lines,
    }


def _print_welcome(
    base: str,
    merchant_id: str,
    api_key: str,
    created: list[dict[str, Any]],
    flash: list[str] | None = None,
) -> None:
    lines = [
        "",
        "Facto demo is running (sandbox: no real SMS, Telegram or payment leaves this machine).",
        f"  Phone simulator (play the customers): {base}/sandbox/phone",
        f"  Demo merchant: {merchant_id}",
        f"  Merchant API key: {api_key}",
    ]
    for invoice in created:
        if invoice.get("http_status") == 201:
            lines.append(f"  Invoice {invoice['number']}: {invoice['invoice_url']}")
        else:
            lines.append(f"  Could not create a demo invoice: {json.dumps(invoice)}")
    lines += flash or []
    lines += [
        "  Try it: open the simulator, answer 'payer' (or 'pay'), open the link and pay.",
        "  On WhatsApp (Inès), tap 'En plusieurs fois': the page shows the 24 h window.",
        "  Create your own invoice:",
        f"    curl -X POST {base}/api/v1/invoices -H 'Authorization: Bearer {api_key}' \\",
        "      -H 'Content-Type: application/json' -d @examples/invoice.json",
        "  Stop with Ctrl-C.",
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)  # noqa: T201 - the demo's welcome
