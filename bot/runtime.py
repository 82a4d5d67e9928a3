"""Process entry points: settings, logging, Redis (given or embedded), the server, the worker."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import gc
import importlib
import logging
import re
import secrets
import signal
from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from bot import eventloop
from bot.clock import SystemClock
from bot.embedded_redis import EmbeddedRedis
from bot.logs import configure_logging
from bot.services import Services, open_services, redis_client
from bot.settings import Settings, secret, secret_box
from bot.store.merchants import DEFAULT_MAX_INSTALMENTS
from channels.base import ChannelName

# What only one operator command uses is imported by that command: a worker restarting with
# a backlog must send its first reply within a second, interpreter start-up included, and
# these bring argon2, IBAN tables and the sender registration along (issue 12).
if TYPE_CHECKING:
    # aiohttp.web is the web process's: the worker sends through aiohttp's client only, and
    # importing the server side would delay its first reply (issue 12).
    from aiohttp import web

    from bot.engine.deadletters import DeadLetter
    from bot.store.merchants import Merchant
    from bot.store.senders import MerchantSender
    from bot.store.users import User
    from payments.invoice import Invoice

log = logging.getLogger(__name__)


# Young-generation collections every 50,000 allocations instead of 700, and fewer full ones:
# a request allocates a few thousand objects, so the default ran a collection per request or
# two and a full one (70 ms in a web process, issue 12) several times in ten seconds.
GC_THRESHOLDS = (50_000, 20, 20)


def settle_gc() -> None:
    """Once start-up is done (the app built, the worker's services open): what was allocated
    so far lives as long as the process, so it is frozen out of every later collection, and
    the thresholds above take over. Called by `serve` once it listens, and by `worker` once
    its first replies are out (`Worker(on_started=…)`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()  # `python -m bot` starts with it off (bot/__main__.py)


def load_settings() -> Settings:
    settings = Settings()
    secrets_to_hide = [
        secret(value)
        for value in (
            settings.twilio_auth_token,
            settings.telegram_bot_token,
            settings.telegram_webhook_secret,
            settings.stripe_api_key,
            settings.stripe_webhook_secret,
        )
        if value is not None
    ]
    if settings.stripe_webhook_secret is not None:  # each secret of a rotation on its own too
        secrets_to_hide.extend(settings.stripe_webhook_secrets)
    configure_logging(settings.log_level, secrets_to_hide)
    return settings


@contextlib.asynccontextmanager
async def redis_url_for(settings: Settings, data_dir: str | None = None) -> AsyncIterator[str]:
    """REDIS_URL when set; else the embedded Redis under the data dir, started if not running.

    A second process (the worker, a CLI command) finds the running one through the URL file
    it leaves, so they share one database instead of two servers writing one AOF.
    """
    if settings.redis_url:
        yield settings.redis_url
        return
    if data_dir is None and (demo := await running_demo_redis(settings)) is not None:
        # A command run while `./facto demo` runs acts on the demo's data, so that the key it
        # prints works against the demo's API (issue 13); it says so loudly.
        log.warning("using the running demo's Redis", extra={"fields": {"url": demo}})
        yield demo
        return
    directory = Path(data_dir or settings.data_dir) / "redis"
    url_file = directory / "redis.url"
    if url_file.is_file() and await _answers(url_file.read_text().strip()):
        yield url_file.read_text().strip()
        return
    directory.mkdir(parents=True, exist_ok=True)
    server = await asyncio.to_thread(EmbeddedRedis(str(directory)).start)
    url_file.write_text(server.url)
    log.info("embedded redis started", extra={"fields": {"dir": str(directory)}})
    try:
        yield server.url
    finally:
        url_file.unlink(missing_ok=True)
        await asyncio.to_thread(server.stop)


def demo_redis_file(settings: Settings) -> Path:
    """Where a running demo leaves its Redis URL (`redis_url_for` under DATA_DIR/demo)."""
    return Path(settings.data_dir) / "demo" / "redis" / "redis.url"


async def running_demo_redis(settings: Settings) -> str | None:
    """The running demo's Redis URL, if a demo is running (its Redis answers)."""
    url_file = demo_redis_file(settings)
    if not url_file.is_file():
        return None
    url = url_file.read_text().strip()
    return url if await _answers(url) else None


async def _answers(url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


Mounts = Callable[[Settings], Sequence[Callable[["web.Application"], None]]]
"""What a caller adds to the app, built from the settings: `python -m sandbox serve` passes
the provider emulators; `python -m bot serve` passes nothing, so production never imports
them."""


async def serve(mounts: Mounts | None = None) -> int:
    settings = load_settings()
    if settings.sandbox and mounts is None:
        # The SDKs are pointed at PUBLIC_BASE_URL/sandbox/..., which this process does not
        # serve: right for a second web process beside one that does, wrong on its own.
        log.warning("FACTO_SANDBOX=1 without the emulators: `python -m sandbox serve` serves them")
    _prepare_requests()
    async with redis_url_for(settings) as url:
        from bot.web.app import create_app

        # With the embedded Redis there is no second process to run the worker: run it here.
        app = create_app(
            settings,
            redis_url=url,
            clock=SystemClock(),
            run_worker=settings.redis_url is None,
            mounts=mounts(settings) if mounts is not None else (),
        )
        await run_site(app, settings.host, settings.port)
    return 0


# Imported where first used, which in the worker is after its first replies; the web process
# serves requests with them, so it loads them before it listens.
REQUEST_SDKS = ("stripe", "telegram")


def _prepare_requests() -> None:
    """What the web's first requests would otherwise pay for: the SDKs that check a Stripe
    signature and answer a Telegram button, and the hash an unknown email is checked against
    (so the first login is not slower than the next)."""
    from bot.store.users import unknown_email_hash

    for name in REQUEST_SDKS:
        importlib.import_module(name)
    unknown_email_hash()


async def run_site(app: web.Application, host: str, port: int) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        # Inside the try: a port already taken must still close what setup opened.
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            # One line that says what to do, instead of the socket error's wording.
            msg = f"port {port} is already in use on {host}: pick another with --port N or PORT=N"
            raise OSError(exc.errno, msg) from None
        loop_name = eventloop.running_loop_name()
        log.info("listening", extra={"fields": {"host": host, "port": port, "loop": loop_name}})
        settle_gc()
        await _until_signal()
    finally:
        await runner.cleanup()


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_worker() -> int:
    settings = load_settings()
    async with (
        redis_url_for(settings) as url,
        open_services(settings, url, SystemClock()) as services,
    ):
        from bot.engine.worker import Worker

        worker = Worker(
            services,
            archive_invoice=functools.partial(_archive_invoice, services),
            on_started=settle_gc,  # after the first replies, not before them
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, worker.stop)
        log.info("worker started", extra={"fields": {"loop": eventloop.running_loop_name()}})
        await worker.run()
    return 0


async def _archive_invoice(services: Services, invoice: Invoice) -> bytes:
    """The worker's archiver: the PDF renderer (fpdf2, Pillow, Factur-X's lxml) is imported
    by the first invoice to archive, not at start, where it would delay the first reply."""
    from bot.web.documents import invoice_pdf_of

    return await invoice_pdf_of(services, invoice)


async def create_merchant_command(
    *,
    name: str,
    legal_name: str,
    siren: str,
    vat_number: str | None,
    address: str,
    invoice_prefix: str | None,
    max_instalments: int = DEFAULT_MAX_INSTALMENTS,
    channel_fallback: bool = True,
    legal_form: str | None = None,
    share_capital: str | None = None,
    rcs_city: str | None = None,
    iban: str | None = None,
) -> tuple[Merchant, str]:
    from bot.store.merchants import create_merchant
    from payments.invoice import format_invoice_number
    from payments.merchant_ids import validate_fr_vat_number, validate_siren
    from payments.transfer import validate_iban

    settings = load_settings()
    iban = validate_iban(iban) if iban else None
    identity = legal_identity(legal_form, share_capital, rcs_city)
    siren = validate_siren(siren)
    vat = validate_fr_vat_number(vat_number, siren) if vat_number else None
    for label, value in (("name", name), ("legal name", legal_name), ("address", address)):
        if not value.strip():
            msg = f"{label} must not be empty"
            raise ValueError(msg)
    prefix = invoice_prefix or settings.invoice_number_prefix
    format_invoice_number(prefix, 2000, 1)  # refused now, not on the merchant's first invoice
    async with redis_url_for(settings) as url:
        client = redis_client(url, settings)
        try:
            return await create_merchant(
                client,
                name=name.strip(),
                legal_name=legal_name.strip(),
                siren=siren,
                vat_number=vat,
                address=address.strip(),
                now=SystemClock().now(),
                invoice_prefix=prefix,
                max_instalments=max_instalments,
                channel_fallback=channel_fallback,
                iban=iban,
                **identity,
            )
        finally:
            await client.aclose()


async def set_sender_command(
    merchant_id: str, channel: str, fields: dict[str, Any]
) -> MerchantSender:
    """`merchant set-sender`: register the merchant's own sender on `channel` (ValueError
    with the reason when it cannot be)."""
    from bot.engine import senders as engine_senders
    from bot.engine.senders import WebhookRefused
    from bot.store.merchants import get_merchant
    from bot.store.senders import SenderTaken

    settings = load_settings()
    try:
        name = ChannelName(channel)
    except ValueError as e:
        raise ValueError("channel must be one of sms, whatsapp, telegram") from e
    async with redis_url_for(settings) as url:
        client = redis_client(url, settings)
        try:
            if await get_merchant(client, merchant_id) is None:
                raise ValueError(f"no merchant {merchant_id}")
            return await engine_senders.register(
                client,
                settings,
                secret_box(settings),
                merchant_id=merchant_id,
                channel=name,
                fields={k: v for k, v in fields.items() if v is not None},
                now=SystemClock().now(),
            )
        except (SenderTaken, WebhookRefused) as e:
            raise ValueError(str(e)) from e
        finally:
            await client.aclose()


async def remove_sender_command(merchant_id: str, channel: str) -> bool:
    """`merchant remove-sender`: back to the platform's sender; False if there was none."""
    from bot.store import senders

    settings = load_settings()
    async with redis_url_for(settings) as url:
        client = redis_client(url, settings)
        try:
            return await senders.remove(client, merchant_id, ChannelName(channel)) is not None
        finally:
            await client.aclose()


async def set_iban_command(merchant_id: str, iban: str | None) -> Merchant | None:
    """`merchant set-iban`: the merchant with its new IBAN, None when it does not exist."""
    from bot.store.merchants import set_iban
    from payments.transfer import validate_iban

    settings = load_settings()
    value = validate_iban(iban) if iban else None  # refused before Redis is even opened
    async with redis_url_for(settings) as url:
        client = redis_client(url, settings)
        try:
            return await set_iban(client, merchant_id, value)
        finally:
            await client.aclose()


_CAPITAL = re.compile(r"\d{1,12}([.,]\d{1,2})?")


def legal_identity(
    legal_form: str | None, share_capital: str | None, rcs_city: str | None
) -> dict[str, Any]:
    """`merchant create`'s legal identity: "SAS", "10 000" € (kept in cents), "RCS Paris".

    A bare city becomes "RCS <city>"; "RM Lyon" (trades register) is kept as written.
    """
    capital = None
    if share_capital is not None:
        compact = re.sub(r"[\s\u00a0\u202f€]", "", share_capital)
        if not _CAPITAL.fullmatch(compact):
            msg = f"share capital must be in euros, e.g. 10000 or 1500.50: {share_capital!r}"
            raise ValueError(msg)
        capital = int(Decimal(compact.replace(",", ".")) * 100)
    registry = (rcs_city or "").strip() or None
    if registry and not registry.upper().startswith(("RCS ", "RM ", "RSAC ")):
        registry = f"RCS {registry}"
    form = (legal_form or "").strip() or None
    return {"legal_form": form, "share_capital": capital, "rcs_city": registry}


@contextlib.asynccontextmanager
async def command_redis() -> AsyncIterator[aioredis.Redis]:
    """Redis for a one-shot operator command, configured like the server's."""
    settings = load_settings()
    async with redis_url_for(settings) as url:
        client = redis_client(url, settings)
        try:
            yield client
        finally:
            await client.aclose()


async def dead_letters_command(action: str, dead_id: str | None = None) -> list[DeadLetter]:
    """List the dead letters, or replay / drop one; returns the letters acted on."""
    from bot.engine import deadletters

    async with command_redis() as client:
        if action == "list":
            return await deadletters.list_all(client)
        letter = await deadletters.find(client, dead_id or "")
        if letter is None:
            return []
        done = await (
            deadletters.replay(client, letter)
            if action == "replay"
            else deadletters.drop(client, letter)
        )
        return [letter] if done else []


async def set_telegram_webhook() -> str:
    """Point Telegram at our webhook, with the secret it must send back (going live)."""
    from channels.telegram import TelegramAdapter

    settings = load_settings()
    settings.require_credentials()
    adapter = TelegramAdapter(secret(settings.telegram_bot_token), settings.telegram_api_base)
    url = f"{settings.public_base_url}/webhooks/telegram"
    await adapter.start()
    try:
        await adapter.set_webhook(url, secret(settings.telegram_webhook_secret))
    finally:
        await adapter.close()
    return url


async def create_user_command(
    *, merchant_id: str, email: str, name: str, role: str
) -> tuple[User, str]:
    """A console user of an existing merchant, with a random first password."""
    from bot.store.merchants import get_merchant
    from bot.store.users import Role, create_user

    password = secrets.token_urlsafe(15)
    async with command_redis() as client:
        if await get_merchant(client, merchant_id) is None:
            msg = f"no merchant {merchant_id}"
            raise ValueError(msg)
        user = await create_user(
            client,
            merchant_id=merchant_id,
            email=email,
            name=name,
            role=Role(role),
            password=password,
            now=SystemClock().now(),
        )
    return user, password
