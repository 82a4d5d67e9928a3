"""Throughput suite: every figure of issue 12, against a baseline measured in the same run.

    python bench/run.py [--rounds 2] [--seconds 4] [--quick] [--code PATH] [--json FILE]
    python bench/run.py --restart-only [--rounds N] [--backlog N] [--code PATH]

B_full, the baseline, is a plain aiohttp handler in its own process that parses a ~600-byte
Twilio form, checks its HMAC (one, like Twilio's) and does one Redis SET and GET, on asyncio's
event loop. Facto runs on uvloop (bot.eventloop), so the same handler is also measured on
uvloop, for reference: the Twilio row against it shows what is left once the loop is the same.
Load comes
from a separate process (aiohttp client, many connections; requests built and signed before the
clock starts), so the server under test has its core to itself as far as two cores allow.

Each round measures B_full and then every Facto figure that is a ratio, so a ratio compares two
numbers taken a few seconds apart on the same busy machine; the table shows min/median/max of
the ratios over the rounds. Facto runs as deployed: `python -m bot serve` and
`python -m bot worker` as child processes (sandbox emulators on, senders' pacing off: the
worker's own throughput is measured, not a provider's limit), each with a throwaway
redis-server. Round trips, memory and the in-process dispatch run in this process.

`--quick` is a smoke run of a few seconds (tiny counts; figures meaningless); `--code PATH`
runs the servers and the worker from another checkout (a before/after of the web figures).
No row is faked: the aiogram row is left out, with the reason, when no interpreter with
aiogram is found (`--aiogram-python`, `FACTO_BENCH_AIOGRAM_PYTHON`, or `.venv-aiogram/`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import compileall
import contextlib
import hashlib
import hmac
import json
import multiprocessing
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
#: What the image build compiles to bytecode (README, "Going live"); the sandbox serves the
#: emulators in these runs, so it is compiled as well.
PACKAGES = ("bot", "flows", "payments", "channels", "sandbox")
if str(ROOT) not in sys.path:  # `python bench/run.py` from anywhere
    sys.path.insert(0, str(ROOT))

from bot.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

TWILIO_TOKEN = "sandbox-twilio-token"  # the sandbox's defaults (bot/settings.py)
TELEGRAM_SECRET = "sandbox-telegram-secret"
STRIPE_SECRET = "whsec_sandbox"
SMS_FROM = "+33700000000"
THIS_FILE = Path(__file__).resolve()


# --- Configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    rounds: int = 2  # 2 rounds took 14.6 min on a 2-core machine shared at load average 11
    seconds: float = 4.0  # per HTTP measurement, after a warm-up
    warmup: float = 0.5
    concurrency: int = 64
    worker_conversations: int = 40  # per round, each with an invoice issued through the API
    worker_messages: int = 10  # customer messages per conversation per round
    inprocess_conversations: int = 60  # two messages each, per round
    # Creating an invoice renders and archives its PDF: far slower than a webhook, so fewer
    # connections, or the requests still in flight when the window closes take minutes.
    invoice_concurrency: int = 8
    backlog: int = 5000
    roundtrip_samples: int = 20
    scale_conversations: int = 40  # per run of bench/bench_scale.py (1+1, then 2+3, per round)
    scale_messages: int = 6
    quick: bool = False

    @classmethod
    def smoke(cls) -> Config:
        return cls(
            rounds=1,
            seconds=1.0,
            warmup=0.1,
            concurrency=8,
            invoice_concurrency=4,
            worker_conversations=4,
            worker_messages=2,
            inprocess_conversations=4,
            backlog=20,
            roundtrip_samples=2,
            scale_conversations=4,
            scale_messages=2,
            quick=True,
        )


# --- Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """One load run: completed requests per second over the window, and latencies."""

    ok: int
    errors: int
    seconds: float
    p99_ms: float
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    """One line of the table: a figure over the rounds, and whether its target holds."""

    key: str
    what: str
    target: str
    unit: str  # "x" for a ratio to the baseline
    check: Callable[[float], bool] | None
    values: list[float] = field(default_factory=list)
    note: str = ""
    # A count of defects passes only if every run passes; a figure is judged on its median.
    every_run: bool = False

    def add(self, value: float) -> None:
        self.values.append(value)

    def cells(self) -> tuple[str, str, str, str]:
        if not self.values:
            return self.what, self.target, f"not run: {self.note}" if self.note else "-", "-"
        low, mid, high = min(self.values), statistics.median(self.values), max(self.values)
        shown = f"{_fmt(low)} / {_fmt(mid)} / {_fmt(high)} {self.unit}".rstrip()
        judged = self.values if self.every_run else [mid]
        passed = self.check is None or all(self.check(value) for value in judged)
        verdict = "-" if self.check is None else ("pass" if passed else "FAIL")
        return self.what, self.target, shown, verdict

    def as_dict(self) -> dict[str, Any]:
        what, target, shown, verdict = self.cells()
        return {
            "key": self.key,
            "what": what,
            "target": target,
            "values": self.values,
            "shown": shown,
            "verdict": verdict,
            "note": self.note,
        }


def _fmt(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def below(limit: float) -> Callable[[float], bool]:
    return lambda value: value < limit


def make_rows() -> dict[str, Row]:
    rows = [
        Row("b_full", "B_full: form + HMAC + SET/GET (req/s)", "baseline", "req/s", None),
        Row("b_full_p99", "B_full p99", "baseline", "ms", None),
        # For reference: Facto runs on uvloop (bot.eventloop); B_full, as issue 12 defines it,
        # on asyncio's loop. The same handler on uvloop shows how much of a ratio the loop is.
        Row("b_full_uv", "  B_full's handler on uvloop, for reference", "-", "req/s", None),
        Row("twilio", "Twilio SMS webhook ack / B_full", ">= 0.9", "x", at_least(0.9)),
        Row("twilio_p99", "Twilio SMS p99 / B_full p99", "<= 1.5", "x", at_most(1.5)),
        Row("twilio_uv", "  Twilio SMS webhook ack / B_full's handler on uvloop", "-", "x", None),
        Row("telegram", "Telegram webhook ack / B_full", ">= 0.9", "x", at_least(0.9)),
        Row("telegram_p99", "Telegram p99 / B_full p99", "<= 1.5", "x", at_most(1.5)),
        Row("stripe", "Stripe webhook ingest / B_full", ">= 0.7", "x", at_least(0.7)),
        Row("invoice", "API invoice creation / B_full", ">= 0.5", "x", at_least(0.5)),
        Row("invoice_p99", "API invoice p99 (8 conns) / B_full p99 (64)", "<= 2", "x", at_most(2)),
        Row("worker_rate", "one worker, full processing (msg/s)", "-", "msg/s", None),
        Row("worker", "one worker, full processing / B_full", ">= 0.5", "x", at_least(0.5)),
        Row("inproc_rate", "in-process dispatch, two-step flow (msg/s)", "-", "msg/s", None),
        Row("aiogram_rate", "aiogram + RedisStorage, same flow (msg/s)", "-", "msg/s", None),
        Row("inproc", "in-process dispatch / aiogram + RedisStorage", ">= 3", "x", at_least(3)),
        Row("rt_ingest", "Redis round trips per message: ingest", "1", "", at_most(1)),
        Row(
            "rt_dispatch",
            "Redis round trips per message: dispatch, besides the batch's XREADGROUP",
            "<= 3",
            "",
            at_most(3),
        ),
        Row("rt_dispatch_batch", "... with its share of the XREADGROUP", "-", "", None),
        Row("rt_dispatch_alone", "... of a message woken alone", "-", "", None),
        Row(
            "rt_send",
            "Redis round trips per message: send, besides the batch's XREADGROUP",
            "<= 2",
            "",
            at_most(2),
        ),
        Row("rt_send_batch", "... with its share of the XREADGROUP", "-", "", None),
        Row("rt_send_alone", "... of a reply sent alone", "-", "", None),
        Row(
            "rt_connections",
            "Redis connections opened while counting, per message (handshakes not counted above)",
            "-",
            "",
            None,
        ),
        Row("mem_conv", "Redis memory per idle conversation", "<= 2 KB", "B", at_most(2048)),
        Row(
            "mem_sent", "Redis memory per sent message after a day", "<= 300 B", "B", at_most(300)
        ),
        Row("restart", "first reply after restart, backlog", "< 1 s", "s", below(1.0)),
        Row("imports", "  of which: interpreter + imports, no work", "-", "s", None),
        Row("scale", "2 web + 3 workers / 1 web + 1 worker, same cores", "-", "x", None),
        Row(
            "scale_check",
            "  messages not once or not in order (one run with a kill)",
            "0",
            "",
            at_most(0),
            every_run=True,
        ),
    ]
    return {row.key: row for row in rows}


# --- Baseline server (B_full) --------------------------------------------------------------------


def baseline_app(redis_url: str, public_url: str) -> web.Application:
    """B_full: parse the form, one HMAC over URL + sorted form (Twilio's scheme), SET + GET."""
    token = TWILIO_TOKEN.encode()
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)

    async def handler(request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        signed = public_url + request.path_qs + "".join(f"{k}{form[k]}" for k in sorted(form))
        digest = hmac.new(token, signed.encode(), hashlib.sha1).digest()
        given = request.headers.get("X-Twilio-Signature", "").encode()
        if not hmac.compare_digest(base64.b64encode(digest), given):
            return web.Response(status=403)
        key = f"baseline:{form['MessageSid']}"
        await redis.set(key, form["Body"], ex=60)
        await redis.get(key)
        return web.Response(text="<Response></Response>", content_type="text/xml")

    app = web.Application()
    app.router.add_post("/webhooks/twilio/sms", handler)
    return app


def serve_baseline(port: int, redis_url: str, loop: str = "asyncio") -> None:
    """B_full on asyncio's loop (issue 12's baseline), or on uvloop for the reference row."""
    import uvloop  # only here: the bench's other scripts import this module on any platform

    web.run_app(
        baseline_app(redis_url, f"http://127.0.0.1:{port}"),
        host="127.0.0.1",
        port=port,
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop() if loop == "uvloop" else None,
    )


# --- Requests ------------------------------------------------------------------------------------


def twilio_form(sid: str, sender: str, body: str) -> dict[str, str]:
    """An inbound SMS webhook as Twilio sends it (about 600 bytes url-encoded)."""
    return {
        "ToCountry": "FR",
        "ToState": "",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "FR",
        "To": SMS_FROM,
        "MessagingServiceSid": "MG" + "5" * 32,
        "ToZip": "",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def twilio_signature(url: str, form: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    signed = url + "".join(f"{k}{form[k]}" for k in sorted(form))
    return base64.b64encode(
        hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()


Request = tuple[str, dict[str, str], bytes]  # path, headers, body


def twilio_request(base: str, sid: str, sender: str, text: str) -> Request:
    path = "/webhooks/twilio/sms"
    form = twilio_form(sid, sender, text)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": twilio_signature(base + path, form),
    }
    return path, headers, urlencode(form).encode()


def telegram_request(update_id: int, chat: str, text: str) -> Request:
    update = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": int(chat), "type": "private", "first_name": "Camille"},
            "from": {
                "id": int(chat),
                "is_bot": False,
                "first_name": "Camille",
                "language_code": "fr",
            },
            "text": text,
        },
    }
    headers = {
        "Content-Type": "application/json",
        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
    }
    return "/webhooks/telegram", headers, json.dumps(update).encode()


def stripe_request(invoice: dict[str, str], n: int) -> Request:
    event = {
        "id": f"evt_bench{secrets.token_hex(8)}{n}",
        "object": "event",
        "type": "checkout.session.completed",
        "livemode": False,
        "created": int(time.time()),
        "api_version": "2024-06-20",
        "data": {
            "object": {
                "id": f"cs_test_bench{secrets.token_hex(8)}{n}",
                "object": "checkout.session",
                "payment_status": "paid",
                "status": "complete",
                "amount_total": 7200,
                "currency": "eur",
                "payment_intent": f"pi_bench{secrets.token_hex(8)}{n}",
                "metadata": {"invoice_id": invoice["id"], "merchant_id": invoice["merchant_id"]},
            }
        },
    }
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    mac = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": f"t={stamp},v1={mac.hexdigest()}",
    }
    return "/webhooks/stripe", headers, payload


def invoice_request(api_key: str, channel: str, address: str) -> Request:
    return (
        "/api/v1/invoices",
        {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {api_key}",
        },
        json.dumps(invoice_body(channel, address)).encode(),
    )


def invoice_body(channel: str, address: str) -> dict[str, Any]:
    field_name = "phone" if channel == "sms" else "telegram_chat_id"
    return {
        "customer": {"name": "Camille Martin", field_name: address, "locale": "fr"},
        "channel": channel,
        "currency": "EUR",
        "due_date": "2099-12-31",
        "lines": [{"description": "Lampe", "quantity": 1, "unit_amount": 6000, "vat_rate": "20"}],
    }


def customer_request(base: str, channel: str, address: str, text: str) -> Request:
    if channel == "sms":
        return twilio_request(base, "SM" + secrets.token_hex(16), address, text)
    return telegram_request(secrets.randbelow(2**31), address, text)


def build_requests(spec: dict[str, Any]) -> Iterator[Request]:
    """The requests of one load run; each one new (new ids), like a provider's."""
    base, kind, count = spec["base"], spec["kind"], spec["count"]
    tag = secrets.token_hex(3)
    for n in range(count):
        if kind == "twilio":
            yield twilio_request(base, f"SM{tag}{n:026d}", f"+3361{n % 10_000_000:07d}", "aide")
        elif kind == "telegram":
            yield telegram_request(n + 1, str(5_000_000 + n % 1_000_000), "aide")
        elif kind == "stripe":
            yield stripe_request(spec["invoices"][n % len(spec["invoices"])], n)
        elif kind == "invoice":
            yield invoice_request(spec["api_key"], "sms", f"+3362{secrets.randbelow(10**7):07d}")
        elif kind == "push":
            channel, address, text = spec["messages"][n]
            yield customer_request(base, channel, address, text)
        else:
            raise ValueError(kind)


# --- Load generator (runs in its own process) ----------------------------------------------------


def load_entry(spec: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_load(spec))


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    requests = list(build_requests(spec))  # built and signed before the clock starts
    seconds, warmup = spec.get("seconds"), spec.get("warmup", 0.0)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    index = 0
    connector = aiohttp.TCPConnector(limit=spec["concurrency"], force_close=False)
    async with aiohttp.ClientSession(base_url=spec["base"], connector=connector) as http:
        started = time.perf_counter()
        window_start = started + warmup
        deadline = window_start + seconds if seconds else None

        async def lane() -> None:
            nonlocal index, errors
            while index < len(requests):
                now = time.perf_counter()
                if deadline is not None and now >= deadline:
                    return
                path, headers, body = requests[index]
                index += 1
                try:
                    async with http.post(path, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                except aiohttp.ClientError:
                    errors += 1
                    continue
                done = time.perf_counter()
                if now >= window_start:
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if status < 300:
                        latencies.append(done - now)
                    else:
                        errors += 1

        await asyncio.gather(*(lane() for _ in range(spec["concurrency"])))
        ended = time.perf_counter()
    # Requests started in the window are waited for: the window ends with the last of them.
    window = ended - window_start
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    return {
        "ok": len(latencies),
        "errors": errors,
        "seconds": max(window, 1e-9),
        "p99_ms": p99 * 1000,
        "statuses": statuses,
    }


class Loader:
    """Runs load in a separate process, reused across runs."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    async def run(self, spec: dict[str, Any]) -> Load:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self._pool, load_entry, spec)
        return Load(**result)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


# --- Processes -----------------------------------------------------------------------------------


class Processes:
    """Child processes, logged under a temporary directory, all stopped on exit."""

    def __init__(self, logs: Path, code: Path) -> None:
        self.logs, self.code = logs, code
        self.children: list[subprocess.Popen[bytes]] = []
        compile_bytecode(code)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}-{len(self.children)}.log").open("wb") as log:
            child = subprocess.Popen(
                args, env=env, cwd=self.code, stdout=log, stderr=subprocess.STDOUT
            )
        self.children.append(child)
        return child

    @staticmethod
    def stop(child: subprocess.Popen[bytes]) -> None:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    def stop_all(self) -> None:
        for child in self.children:
            self.stop(child)


def compile_bytecode(code: Path) -> None:
    """What a deployment's image build does (README, "Going live", step 4): without it, under
    PYTHONDONTWRITEBYTECODE=1 every first-party module is compiled from source at each start,
    which the restart figure would count as the worker's."""
    for package in PACKAGES:
        if (code / package).is_dir():
            compileall.compile_dir(code / package, quiet=1)


def facto_env(redis_url: str, port: int, data_dir: str, code: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(code),
        "FACTO_SANDBOX": "1",
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "FACTO_DATA_DIR": data_dir,
        "LOG_LEVEL": "WARNING",
        "FACTO_PACING": "0",  # the worker's throughput, not a provider's limit
    }


async def wait_healthy(base: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base} did not start")


async def create_merchant(redis_url: str) -> tuple[str, str]:
    """A merchant written straight to Redis (no CLI process to start): its id and API key."""
    from bot.clock import SystemClock
    from bot.store.merchants import create_merchant as store_merchant

    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        merchant, api_key = await store_merchant(
            redis,
            name="Bench",
            legal_name="Bench SAS",
            siren="732829320",
            vat_number="FR44732829320",
            address="1 rue du Test, 75001 Paris",
            now=SystemClock().now(),
            legal_form="SAS",
            share_capital=1_000_000,
            rcs_city="RCS Paris",
        )
    finally:
        await redis.aclose()
    return merchant.id, api_key


@dataclass
class Facto:
    """One `python -m bot serve` with its own Redis, a merchant, and optionally a worker."""

    base: str
    env: dict[str, str]
    redis_url: str
    api_key: str
    merchant_id: str
    processes: Processes
    worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        self.worker = self.processes.spawn(
            "worker", [sys.executable, "-m", "bot", "worker"], self.env
        )

    def stop_worker(self) -> None:
        if self.worker is not None:
            Processes.stop(self.worker)
            self.worker = None


def sandbox_serve(code: Path) -> list[str]:
    """`python -m bot serve` with the emulators mounted: `python -m sandbox serve`, or, for a
    checkout from before that command (`--code`), `python -m bot serve`, which mounted them
    itself under FACTO_SANDBOX=1."""
    if (code / "sandbox" / "__main__.py").is_file():
        return [sys.executable, "-m", "sandbox", "serve"]
    return [sys.executable, "-m", "bot", "serve"]


@contextlib.asynccontextmanager
async def facto(processes: Processes, tmp: Path, name: str) -> AsyncIterator[Facto]:
    with EmbeddedRedis(str(tmp / f"{name}-redis")) as server:
        port = free_port()
        env = facto_env(server.url, port, str(tmp / name), processes.code)
        web_process = processes.spawn(name, sandbox_serve(processes.code), env)
        try:
            base = f"http://127.0.0.1:{port}"
            mid, api_key = await create_merchant(server.url)
            await wait_healthy(base)
            yield Facto(base, env, server.url, api_key, mid, processes)
        finally:
            Processes.stop(web_process)


@contextlib.asynccontextmanager
async def baseline(processes: Processes, tmp: Path, loop: str = "asyncio") -> AsyncIterator[str]:
    with EmbeddedRedis(str(tmp / f"baseline-{loop}-redis")) as server:
        port = free_port()
        args = [
            sys.executable,
            str(THIS_FILE),
            "--serve-baseline",
            str(port),
            server.url,
            loop,
        ]
        child = processes.spawn(f"baseline-{loop}", args, {**os.environ})
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_healthy_post(base)
            yield base
        finally:
            Processes.stop(child)


async def wait_healthy_post(base: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(base + "/webhooks/twilio/sms") as response:
                    if response.status == 405:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("the baseline did not start")


# --- Facto set-up helpers ------------------------------------------------------------------------


def conversation(n: int, tag: int) -> tuple[str, str]:
    """Half SMS, half Telegram; `tag` keeps rounds apart."""
    if n % 2:
        return "sms", f"+3361{tag % 100:02d}{n:05d}"
    return "telegram", str(8_000_000_000 + tag * 100_000 + n)


async def issue_invoices(
    f: Facto, conversations: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    issued: list[dict[str, str]] = []
    headers = {"Authorization": f"Bearer {f.api_key}"}
    async with aiohttp.ClientSession(base_url=f.base) as http:
        slots = asyncio.Semaphore(8)

        async def one(channel: str, address: str) -> None:
            async with (
                slots,
                http.post(
                    "/api/v1/invoices", json=invoice_body(channel, address), headers=headers
                ) as response,
            ):
                body = await response.json()
                if response.status != 201:
                    raise RuntimeError(f"invoice not issued: {response.status} {body}")
                issued.append({"id": body["id"], "merchant_id": body.get("merchant_id", "")})

        await asyncio.gather(*(one(c, a) for c, a in conversations))
    return issued


async def settled(redis: aioredis.Redis) -> bool:
    """Nothing left to dispatch or send: pending set empty, both groups caught up."""
    if await redis.scard("pipeline:pending"):
        return False
    if await redis.zcard("outbox:retry"):
        return False
    streams = [("pipeline:wake", "dispatchers"), ("outbox:stream", "senders")]  # old layout
    streams += [(f"{{outbox:stream}}:{c}", "senders") for c in ("sms", "whatsapp", "telegram")]
    for stream, group in streams:
        if not await redis.exists(stream):
            continue
        for info in await redis.xinfo_groups(stream):
            if info["name"] != group:
                continue
            if info["pending"]:
                return False
            lag = info.get("lag")
            if lag is None:
                last = (await redis.xinfo_stream(stream))["last-generated-id"]
                if info["last-delivered-id"] != last:
                    return False
            elif lag:
                return False
    return True


async def wait_settled(redis: aioredis.Redis, limit: float, poll: float = 0.05) -> float:
    """Seconds until settled (two checks in a row), or raise after `limit`."""
    started = time.perf_counter()
    in_a_row = 0
    while time.perf_counter() - started < limit:
        in_a_row = in_a_row + 1 if await settled(redis) else 0
        if in_a_row == 2:
            return time.perf_counter() - started
        await asyncio.sleep(poll)
    raise RuntimeError("the worker did not settle in time")


async def _archived(redis: aioredis.Redis) -> bool:
    """The render stream is empty (the archiver deletes each job it finished; a checkout
    without the archiver has no stream), or, for an archiver that kept its jobs, every group
    has read the last one and holds none pending (Redis 6.2 reports no group lag)."""
    stream = "documents:render"
    if not await redis.xlen(stream):
        return True
    last = (await redis.xinfo_stream(stream))["last-generated-id"]
    groups = await redis.xinfo_groups(stream)
    return bool(groups) and all(
        not g["pending"] and g["last-delivered-id"] == last for g in groups
    )


async def wait_archived(redis: aioredis.Redis, limit: float, poll: float = 0.1) -> None:
    """Until the worker's archiver has rendered the PDF of every invoice issued, two checks in
    a row (nothing pending is also true between two of its batches)."""
    deadline = time.perf_counter() + limit
    in_a_row = 0
    while time.perf_counter() < deadline:
        in_a_row = in_a_row + 1 if await _archived(redis) else 0
        if in_a_row == 2:
            return
        await asyncio.sleep(poll)
    raise RuntimeError("the invoices' PDFs were not archived in time")


async def send_requests(base: str) -> int:
    async with aiohttp.ClientSession() as http, http.get(base + "/sandbox/api/send-requests") as r:
        counts = await r.json()
    return sum(int(v) for v in counts.values()) if isinstance(counts, dict) else int(counts)


# --- The measurements ----------------------------------------------------------------------------


@dataclass
class Bench:
    config: Config
    loader: Loader
    rows: dict[str, Row]
    baseline_url: str = ""
    log: Callable[[str], None] = print
    uvloop_url: str = ""  # B_full's handler on uvloop: the reference row
    seen: list[tuple[str, str]] = field(default_factory=list)  # conversations with invoices

    def spec(self, base: str, kind: str, **extra: Any) -> dict[str, Any]:
        return {
            "base": base,
            "kind": kind,
            "seconds": self.config.seconds,
            "warmup": self.config.warmup,
            "concurrency": self.config.concurrency,
            # Enough new requests for far more than the machine serves in the window.
            "count": extra.pop("count", int(4000 * (self.config.seconds + self.config.warmup))),
            **extra,
        }

    async def warm_up(self, f: Facto, invoices: list[dict[str, str]]) -> None:
        """A short untimed run of each kind first: lazy imports and caches are not measured."""
        references: list[tuple[str, str, dict[str, Any]]] = (
            [(self.uvloop_url, "twilio", {})] if self.uvloop_url else []
        )
        for base, kind, extra in (
            (self.baseline_url, "twilio", {}),
            *references,
            (f.base, "twilio", {}),
            (f.base, "telegram", {}),
            (f.base, "stripe", {"invoices": invoices}),
            (f.base, "invoice", {"api_key": f.api_key}),
        ):
            spec = self.spec(base, kind, count=20, seconds=None, warmup=0.0, **extra)
            spec["concurrency"] = 4
            await self.loader.run(spec)

    async def measure_baseline(self) -> Load:
        load = await self.loader.run(self.spec(self.baseline_url, "twilio"))
        self.rows["b_full"].add(load.rate)
        self.rows["b_full_p99"].add(load.p99_ms)
        self.log(f"  B_full {load.rate:,.0f} req/s p99 {load.p99_ms:.1f} ms {load.statuses}")
        return load

    async def measure_uvloop_baseline(self) -> Load | None:
        """B_full's handler on uvloop (the reference row), when that server was started."""
        if not self.uvloop_url:
            self.rows["b_full_uv"].note = "not started"
            self.rows["twilio_uv"].note = "not started"
            return None
        load = await self.loader.run(self.spec(self.uvloop_url, "twilio"))
        self.rows["b_full_uv"].add(load.rate)
        self.log(f"  B_full on uvloop {load.rate:,.0f} req/s p99 {load.p99_ms:.1f} ms")
        return load

    async def web_round(self, f: Facto, invoices: list[dict[str, str]]) -> None:
        base = await self.measure_baseline()
        twilio_rate = 0.0
        for key, kind, extra in (
            ("twilio", "twilio", {}),
            ("telegram", "telegram", {}),
            ("stripe", "stripe", {"invoices": invoices}),
            (
                "invoice",
                "invoice",
                {"api_key": f.api_key, "count": int(3000 * (self.config.seconds + 1))},
            ),
        ):
            spec = self.spec(f.base, kind, **extra)
            if kind == "invoice":
                spec["concurrency"] = min(spec["concurrency"], self.config.invoice_concurrency)
            load = await self.loader.run(spec)
            self.log(f"  {kind} {load.rate:,.0f} req/s p99 {load.p99_ms:.1f} ms {load.statuses}")
            self.rows[key].add(load.rate / base.rate)
            if key == "twilio":
                twilio_rate = load.rate
            if f"{key}_p99" not in self.rows:
                continue
            if base.p99_ms and load.ok:
                self.rows[f"{key}_p99"].add(load.p99_ms / base.p99_ms)
            else:
                self.rows[f"{key}_p99"].note = "no request completed in the window"
        # The reference comes after Facto's rows, so each ratio to B_full stays two numbers
        # taken seconds apart.
        reference = await self.measure_uvloop_baseline()
        if reference is not None and reference.rate:
            self.rows["twilio_uv"].add(twilio_rate / reference.rate)
        elif reference is not None:
            self.rows["twilio_uv"].note = "no request completed in the window"

    async def worker_round(self, f: Facto, tag: int) -> list[tuple[str, str]]:
        """Full processing by one worker: customers' webhooks in, replies at the emulator."""
        base = await self.measure_baseline()
        config = self.config
        conversations = [conversation(n, tag) for n in range(config.worker_conversations)]
        await issue_invoices(f, conversations)
        redis = aioredis.Redis.from_url(f.redis_url, decode_responses=True)
        try:
            # The invoices' own messages are sent and their PDFs archived first: a PDF is
            # a tenth of a second of CPU in the worker's archive thread, work of issuing
            # the invoices, not of the customers' messages measured here.
            await wait_settled(redis, 300)
            await wait_archived(redis, 300)
            texts = ("bonjour", "il reste combien ?", "merci", "aide")
            messages = [
                (channel, address, texts[m % len(texts)])
                for m in range(config.worker_messages)
                for channel, address in conversations
            ]
            started = time.perf_counter()
            spec = self.spec(
                f.base, "push", messages=messages, count=len(messages), seconds=None, warmup=0.0
            )
            spec["concurrency"] = min(config.concurrency, len(conversations))
            pushed = await self.loader.run(spec)
            if pushed.errors:
                raise RuntimeError(f"pushes refused: {pushed.statuses}")
            await wait_settled(redis, 600)
            seconds = time.perf_counter() - started
        finally:
            await redis.aclose()
        rate = len(messages) / seconds
        self.rows["worker_rate"].add(rate)
        self.rows["worker"].add(rate / base.rate)
        self.log(f"  worker {rate:,.0f} msg/s ({len(messages)} in {seconds:.1f} s)")
        return conversations

    async def restart_backlog(
        self, f: Facto, conversations: Sequence[tuple[str, str]], *, drain: bool = False
    ) -> None:
        """No worker running, a backlog pushed through the webhooks, then a worker started:
        the time to its first reply at the emulator."""
        messages = [
            (*conversations[n % len(conversations)], "il reste combien ?")
            for n in range(self.config.backlog)
        ]
        spec = self.spec(
            f.base, "push", messages=messages, count=len(messages), seconds=None, warmup=0.0
        )
        spec["concurrency"] = min(self.config.concurrency, len(conversations))
        await self.loader.run(spec)
        imports = await asyncio.to_thread(import_seconds, f)
        self.rows["imports"].add(imports)
        before = await send_requests(f.base)
        started = time.perf_counter()
        f.start_worker()
        while await send_requests(f.base) == before:
            if time.perf_counter() - started > 120:
                raise RuntimeError("no reply within 120 s of the restart")
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - started
        self.rows["restart"].add(seconds)
        self.rows["restart"].target = f"< 1 s ({self.config.backlog} msgs)"
        self.log(f"  first reply {seconds:.2f} s after the worker's start")
        if drain:  # another restart follows: it starts from this backlog's size, not twice it
            redis = aioredis.Redis.from_url(f.redis_url, decode_responses=True)
            try:
                await wait_settled(redis, 600)
            finally:
                await redis.aclose()
        f.stop_worker()  # without drain, the backlog is left to the throwaway Redis


def import_seconds(f: Facto) -> float:
    """How long a worker process takes to start before doing anything: the part of the
    restart figure that is the interpreter's and the imports', not the backlog's."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import bot.cli, bot.runtime, bot.engine.worker"],
        env=f.env,
        cwd=f.processes.code,
        check=True,
        timeout=300,
    )
    return time.perf_counter() - started


# --- In-process figures (this process, the code of this checkout) --------------------------------


class RoundTrips:
    """Counts what redis-py sends: one `send_packed_command` is one round trip (a pipeline or
    a MULTI/EXEC block is one). Installed on the connection class for this process only.

    A new pooled connection's handshake (CLIENT SETINFO) is not counted: it is paid once per
    connection, not per message, and a batch that sends more replies at once than any before
    opens connections. They are counted apart (`connections`, the rows `rt_connections`), so
    a change that reconnected for every message would still show. Health-check PINGs are
    counted: they are sent before a command, outside the handshake."""

    count = 0
    connections = 0
    installed = False

    @classmethod
    def install(cls) -> None:
        if cls.installed:
            return
        from redis.asyncio.connection import AbstractConnection

        original_send = AbstractConnection.send_packed_command
        original_connect = AbstractConnection.on_connect
        connecting: set[int] = set()

        async def counted(self: Any, command: Any, check_health: bool = True) -> None:
            if id(self) not in connecting:
                cls.count += 1
            await original_send(self, command, check_health)

        async def handshake(self: Any) -> None:
            cls.connections += 1
            connecting.add(id(self))
            try:
                await original_connect(self)
            finally:
                connecting.discard(id(self))

        AbstractConnection.send_packed_command = counted
        AbstractConnection.on_connect = handshake
        cls.installed = True

    @classmethod
    @contextlib.contextmanager
    def counting(cls) -> Iterator[list[int]]:
        box = [0]
        start = cls.count
        try:
            yield box
        finally:
            box[0] = cls.count - start


def inbound_event(channel: str, address: str, text: str) -> Any:
    from bot.engine import events
    from channels.base import ChannelName, InboundKind, InboundMessage

    message = InboundMessage(
        channel=ChannelName(channel),
        address=address,
        provider_id=("SM" if channel == "sms" else "") + secrets.token_hex(8),
        kind=InboundKind.TEXT,
        text=text,
    )
    return events.encode(f"{channel}:{message.provider_id}", f"{channel}:{address}", message)


@contextlib.asynccontextmanager
async def inprocess_worker(f: Facto) -> AsyncIterator[Any]:
    """A Worker in this process on `f`'s Redis, sending to `f`'s emulators."""
    from bot.clock import SystemClock
    from bot.engine.worker import Worker
    from bot.services import open_services
    from bot.settings import Settings

    saved = dict(os.environ)
    os.environ.update(f.env)
    try:
        settings = Settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    async with open_services(settings, f.redis_url, SystemClock()) as services:
        worker = Worker(services)
        await worker.prepare()
        yield worker
        # What a stopping worker does (Worker.run): acknowledge its last wake-ups and drop the
        # effects entries it applied, which otherwise wait for its next XREADGROUP.
        await worker.dispatcher.flush()


async def inprocess_round(bench: Bench, f: Facto, tag: int, aiogram_python: str | None) -> None:
    """The two-step conversation dispatched in this process, then in aiogram."""
    from bot.engine.pipeline import ingest

    n = bench.config.inprocess_conversations
    conversations = [conversation(i, tag) for i in range(n)]
    warm_up = conversation(n, tag)  # its messages load what a first dispatch loads, untimed
    await issue_invoices(f, [*conversations, warm_up])
    async with inprocess_worker(f) as worker:
        await worker.announce_issued()
        await worker.dispatcher.sweep()  # the invoices' own events, before the clock starts
        redis = worker.services.redis
        dispatcher = worker.dispatcher
        for text in ("bonjour", "merci"):  # the steady state is measured, not the first load
            event = inbound_event(*warm_up, text)
            await ingest(redis, event)
            await dispatcher.drain(event.conversation)
        started = time.perf_counter()
        for channel, address in conversations:
            for text in ("bonjour", "merci"):
                event = inbound_event(channel, address, text)
                await ingest(redis, event)
                await dispatcher.drain(event.conversation)
        seconds = time.perf_counter() - started
        await redis.delete("pipeline:pending")  # drained above; their wake-ups stay unread
    ours = 2 * n / seconds
    bench.rows["inproc_rate"].add(ours)
    bench.log(f"  in-process dispatch {ours:,.0f} msg/s")
    if aiogram_python is None:
        return
    aiogram_db = f.redis_url.rsplit("/", 1)[0] + "/1"  # same server, its own database
    out = await asyncio.to_thread(
        subprocess.run,
        [aiogram_python, str(ROOT / "bench" / "aiogram_flow.py"), aiogram_db, str(n)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    theirs = json.loads(out.stdout)
    rate = theirs["messages"] / theirs["seconds"]
    bench.rows["aiogram_rate"].add(rate)
    bench.rows["inproc"].add(ours / rate)
    bench.log(f"  aiogram {rate:,.0f} msg/s")


async def round_trips(bench: Bench, f: Facto, conversations: Sequence[tuple[str, str]]) -> None:
    """Round trips for one inbound message: ingest, dispatch (wake-up read to ack), send.

    Dispatch is also counted over a batch of the sampled conversations woken together (one
    message each), as a worker reads them under load: one XREADGROUP for the batch, which
    also acknowledges the batch before; a first batch opens the dispatcher's connections."""
    from bot.engine.pipeline import ingest

    RoundTrips.install()
    async with inprocess_worker(f) as worker:
        redis = worker.services.redis
        # The in-process rounds drained their conversations directly: their wake-ups are moot.
        await redis.xgroup_setid("pipeline:wake", "dispatchers", "$")
        while await worker.sender.run_once():  # and their replies are sent before counting
            pass
        opened_before = RoundTrips.connections
        for channel, address in conversations[: bench.config.roundtrip_samples]:
            event = inbound_event(channel, address, "il reste combien ?")
            with RoundTrips.counting() as ingested:
                await ingest(redis, event)
            with RoundTrips.counting() as dispatched:
                done = await worker.dispatcher.run_once()
            before = await send_requests(f.base)
            with RoundTrips.counting() as sent:
                await worker.sender.run_once()
            replies = await send_requests(f.base) - before
            bench.rows["rt_ingest"].add(ingested[0])
            bench.rows["rt_dispatch_alone"].add(dispatched[0] / max(done, 1))
            bench.rows["rt_send_alone"].add(sent[0] / max(replies, 1))
        sampled = conversations[: bench.config.roundtrip_samples]
        for counted in (False, True):
            for channel, address in sampled:
                await ingest(redis, inbound_event(channel, address, "il reste combien ?"))
            with RoundTrips.counting() as dispatched:
                done = await worker.dispatcher.run_once()
            if counted:
                bench.rows["rt_dispatch"].add((dispatched[0] - 1) / max(done, 1))
                bench.rows["rt_dispatch_batch"].add(dispatched[0] / max(done, 1))
            # The batch's replies, one per conversation, read by one XREADGROUP as well; a
            # second after the previous ones, so no chat's 1 msg/s makes its reply wait.
            await asyncio.sleep(1.05)
            before = await send_requests(f.base)
            with RoundTrips.counting() as sent:
                await worker.sender.run_once()
            replies = await send_requests(f.base) - before
            if counted and replies:
                bench.rows["rt_send"].add((sent[0] - 1) / replies)
                bench.rows["rt_send_batch"].add(sent[0] / replies)
            while await worker.sender.run_once():
                pass
        messages = 3 * len(sampled)  # alone, then two batches
        opened = RoundTrips.connections - opened_before
        bench.rows["rt_connections"].add(opened / max(messages, 1))


async def memory(bench: Bench, f: Facto, conversations: Sequence[tuple[str, str]]) -> None:
    """MEMORY USAGE over an idle conversation's keys (after the housekeeping a day later);
    outbox bytes left per sent message a day later (retention run with the clock a day ahead,
    keys whose TTL ends within the day counted as gone)."""
    from bot.engine import retention

    redis = aioredis.Redis.from_url(f.redis_url, decode_responses=True)
    try:
        async with inprocess_worker(f) as worker:
            clock = worker.services.clock
            settings = worker.services.settings
            policy = retention.RetentionPolicy(
                outbox=timedelta(days=settings.outbox_retention_days),
                transcripts=timedelta(days=settings.transcript_retention_days),
                checkout_stale=timedelta(days=settings.checkout_stale_days),
            )
            await retention.housekeep(redis, clock.now() + timedelta(days=1), policy)
        # Idle: after the worker's hourly housekeeping folded the live turns into the archive.
        for channel, address in conversations[:20]:
            total = 0
            async for key in redis.scan_iter(match=f"*{{{channel}:{address}}}*", count=1000):
                total += int(await redis.memory_usage(key, samples=0) or 0)
            bench.rows["mem_conv"].add(total)
        sent = await send_requests(f.base)
        left = 0
        async for key in redis.scan_iter(match="outbox:*", count=1000):
            ttl = await redis.ttl(key)
            if ttl == -1 or ttl > 86_400:
                left += int(await redis.memory_usage(key, samples=0) or 0)
        bench.rows["mem_sent"].add(left / max(sent, 1))
    finally:
        await redis.aclose()


# --- Table ---------------------------------------------------------------------------------------


def table(rows: dict[str, Row]) -> str:
    lines = [("what", "target", "min / median / max", "result")]
    for row in rows.values():
        what, target, shown, verdict = row.cells()
        lines.append((what, target, shown, verdict))
    widths = [max(len(line[i]) for line in lines) for i in range(4)]
    out = []
    for n, line in enumerate(lines):
        out.append(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
        if n == 0:
            out.append("-+-".join("-" * w for w in widths))
    return "\n".join(out)


def find_aiogram(given: str | None) -> tuple[str | None, str]:
    candidates = [
        given,
        os.environ.get("FACTO_BENCH_AIOGRAM_PYTHON"),
        str(ROOT / ".venv-aiogram" / "bin" / "python"),
    ]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run(
            [candidate, "-c", "import aiogram"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return candidate, ""
    reason = "no interpreter with aiogram (it pins pydantic<2.14; see README)"
    return None, reason


async def run(
    config: Config, *, code: Path, aiogram_python: str | None, log: Callable[[str], None] = print
) -> dict[str, Row]:
    rows = make_rows()
    python, reason = (None, "skipped in --quick") if config.quick else find_aiogram(aiogram_python)
    if python is None:
        for key in ("aiogram_rate", "inproc"):
            rows[key].note = reason
    inprocess = code == ROOT
    if not inprocess:
        for key in (
            "inproc_rate",
            "aiogram_rate",
            "inproc",
            "rt_ingest",
            "rt_dispatch",
            "rt_send",
        ):
            rows[key].note = "in-process rows measure this checkout only"
        for key in ("scale", "scale_check"):
            rows[key].note = "bench/bench_scale.py runs this checkout only"
    loader = Loader()
    with tempfile.TemporaryDirectory(prefix="facto-bench-") as tmp_name:
        tmp = Path(tmp_name)
        processes = Processes(tmp, code)
        try:
            async with contextlib.AsyncExitStack() as stack:
                # Started side by side: on a busy machine each start-up takes seconds.
                baseline_url, uv_url, web_facto, work_facto = await asyncio.gather(
                    stack.enter_async_context(baseline(processes, tmp)),
                    stack.enter_async_context(baseline(processes, tmp, "uvloop")),
                    stack.enter_async_context(facto(processes, tmp, "web")),
                    stack.enter_async_context(facto(processes, tmp, "work")),
                )
                bench = Bench(config, loader, rows, baseline_url, log, uvloop_url=uv_url)
                await _web_rounds(bench, web_facto)
                await _worker_rounds(bench, work_facto)
                if inprocess:
                    for n in range(config.rounds):
                        log(f"in-process round {n + 1}/{config.rounds}")
                        await inprocess_round(bench, work_facto, 50 + n, python)
                    log("round trips")
                    await round_trips(bench, work_facto, bench.seen)
                log("memory")
                await memory(bench, work_facto, bench.seen)
                log("restart with a backlog")
                await bench.restart_backlog(work_facto, bench.seen)
            if inprocess:
                log("2 web + 3 workers (bench/bench_scale.py)")
                await scale_rounds(config, rows, processes, tmp, log)
        finally:
            processes.stop_all()
            loader.close()
    return rows


async def _web_rounds(bench: Bench, f: Facto) -> None:
    invoices = await issue_invoices(f, [conversation(n, 99) for n in range(8)])
    invoices = [{"id": i["id"], "merchant_id": f.merchant_id} for i in invoices]
    await bench.warm_up(f, invoices)
    for n in range(bench.config.rounds):
        bench.log(f"web round {n + 1}/{bench.config.rounds}")
        await bench.web_round(f, invoices)


async def _worker_rounds(bench: Bench, f: Facto) -> None:
    f.start_worker()
    for n in range(bench.config.rounds):
        bench.log(f"worker round {n + 1}/{bench.config.rounds}")
        bench.seen.extend(await bench.worker_round(f, tag=n))
    f.stop_worker()  # the in-process figures below run alone on this Redis


async def restart_rounds(
    config: Config, *, code: Path, log: Callable[[str], None] = print
) -> dict[str, Row]:
    """Only the restart figure (`--restart-only`), once per round on one Facto: invoices
    issued to the conversations first, then per round a backlog, a worker started, its first
    reply timed, and the backlog drained before the next round."""
    rows = make_rows()
    loader = Loader()
    with tempfile.TemporaryDirectory(prefix="facto-bench-") as tmp_name:
        tmp = Path(tmp_name)
        processes = Processes(tmp, code)
        try:
            async with facto(processes, tmp, "work") as work_facto:
                bench = Bench(config, loader, rows, "", log)
                conversations = [conversation(n, 0) for n in range(config.worker_conversations)]
                work_facto.start_worker()
                await issue_invoices(work_facto, conversations)
                redis = aioredis.Redis.from_url(work_facto.redis_url, decode_responses=True)
                try:
                    await wait_settled(redis, 300)
                finally:
                    await redis.aclose()
                work_facto.stop_worker()
                for n in range(config.rounds):
                    log(f"restart with a backlog {n + 1}/{config.rounds}")
                    last = n + 1 == config.rounds
                    await bench.restart_backlog(work_facto, conversations, drain=not last)
        finally:
            processes.stop_all()
            loader.close()
    return {key: rows[key] for key in ("restart", "imports")}


async def scale_rounds(
    config: Config,
    rows: dict[str, Row],
    processes: Processes,
    tmp: Path,
    log: Callable[[str], None],
) -> None:
    """bench/bench_scale.py's paired rounds (1 web + 1 worker, then 2 web + 3 workers, on the
    same cores) and its run with a worker SIGKILLed midway: the ratio of each round, and how
    many messages were not dispatched once and in order or not delivered once and in order."""
    from bench.bench_scale import Plan, measure

    plan = Plan(
        rounds=config.rounds,
        conversations=config.scale_conversations,
        messages=config.scale_messages,
        concurrency=min(32, config.scale_conversations),
    )
    result = await measure(plan, processes, tmp, log)
    for ratio in result.ratios:
        rows["scale"].add(ratio)
    for run_ in result.runs:
        rows["scale_check"].add(run_.problems.total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run of a few seconds")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--backlog", type=int, help="messages waiting at the restart")
    parser.add_argument(
        "--restart-only", action="store_true", help="only the first reply after a restart"
    )
    parser.add_argument(
        "--code",
        type=lambda p: Path(p).resolve(),
        default=ROOT,
        help="checkout the servers run from",
    )
    parser.add_argument("--aiogram-python", help="an interpreter with aiogram installed")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument(
        "--serve-baseline", nargs=3, metavar=("PORT", "REDIS_URL", "LOOP"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline(int(args.serve_baseline[0]), args.serve_baseline[1], args.serve_baseline[2])
        return 0
    config = Config.smoke() if args.quick else Config()
    if args.rounds:
        config = Config(**{**config.__dict__, "rounds": min(args.rounds, 10)})
    if args.backlog:
        config = Config(**{**config.__dict__, "backlog": min(args.backlog, 20_000)})
    if args.seconds:
        config = Config(**{**config.__dict__, "seconds": min(args.seconds, 60.0)})
    started = time.perf_counter()
    if args.restart_only:
        rows = asyncio.run(restart_rounds(config, code=args.code))
    else:
        rows = asyncio.run(run(config, code=args.code, aiogram_python=args.aiogram_python))
    print()
    print(table(rows))
    print(f"\n{config.rounds} paired round(s), {time.perf_counter() - started:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps([row.as_dict() for row in rows.values()], indent=2))
    # A target missed is a figure; a message handled twice or out of order is a defect.
    return 1 if "scale_check" in rows and any(rows["scale_check"].values) else 0


if __name__ == "__main__":
    sys.exit(main())
