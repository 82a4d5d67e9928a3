"""Chaos run: real processes, real faults, then count what was lost, doubled or reordered.

    python bench/chaos.py [--conversations 200] [--messages 10] [--kills 4] [--resets 4]

Starts its own redis-server on a free port, the web app with the sandbox emulators
(`python -m sandbox serve`: `python -m bot serve` with them mounted) and two
`python -m bot worker` processes, all on loopback. It issues one invoice per conversation,
then pushes the customers' messages as signed Twilio and Telegram webhooks (the sandbox's
customer side signs them) through the real app.
Meanwhile it SIGKILLs workers and restarts them, resets every Redis client connection
(`CLIENT KILL TYPE normal`) and slows the providers (sandbox latency and 503 faults). Then it
waits for the system to settle and compares, per conversation, what the bot committed (its
transcript) with what the emulators received: messages lost, duplicated and out of order must
all be 0. Bounded in messages and time; stops by itself; exit status 0 only if all three are 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from redis.exceptions import RedisError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/chaos.py` from anywhere
    sys.path.insert(0, str(ROOT))

from bot.embedded_redis import EmbeddedRedis, free_port  # noqa: E402

TEXTS = ("aide", "merci", "il reste combien ?", "bonjour", "payer")


@dataclass(frozen=True)
class Config:
    conversations: int = 200
    messages: int = 10  # customer messages per conversation
    kills: int = 4  # worker SIGKILLs (each restarted)
    resets: int = 4  # CLIENT KILL TYPE normal
    slowdowns: int = 2  # provider latency / 503 bursts
    fault_every: float = 2.0  # seconds between two faults
    settle_timeout: float = 180.0  # seconds to wait for everything to be delivered
    push_concurrency: int = 16


@dataclass
class Report:
    pushed: int = 0  # customer messages acknowledged by our webhooks
    refused: int = 0  # pushes answered 503 (retried with a new message, like the provider)
    lost: int = 0  # acknowledged customer messages never handled + replies never delivered
    duplicated: int = 0
    out_of_order: int = 0  # conversations whose replies arrived in another order
    dead_lettered: int = 0
    kills: int = 0
    resets: int = 0
    slowdowns: int = 0
    seconds_to_recover: float | None = None  # last fault -> everything delivered
    seconds_total: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return self.lost == self.duplicated == self.out_of_order == 0


class Processes:
    """The web app and the workers, as child processes sharing one environment."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._started = 0

    def spawn(self, module: str, command: str) -> subprocess.Popen[bytes]:
        self._started += 1
        with (self.logs / f"{command}-{self._started}.log").open("wb") as log:
            # The child keeps its own copy of the file descriptor.
            return subprocess.Popen(
                [sys.executable, "-m", module, command],
                env=self.env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def start_worker(self, index: int | None = None) -> None:
        process = self.spawn("bot", "worker")
        if index is None:
            self.workers.append(process)
        else:
            self.workers[index] = process

    def kill_worker(self, index: int) -> None:
        self.workers[index].send_signal(signal.SIGKILL)
        self.workers[index].wait()

    def stop(self) -> None:
        for process in [*self.workers, *([self.web] if self.web else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.workers, *([self.web] if self.web else [])]:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def run(config: Config) -> Report:
    report, started = Report(), time.monotonic()
    with tempfile.TemporaryDirectory(prefix="facto-chaos-") as tmp, EmbeddedRedis() as server:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "FACTO_SANDBOX": "1",
            "REDIS_URL": server.url,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "PUBLIC_BASE_URL": base,
            "FACTO_DATA_DIR": tmp,
            "LOG_LEVEL": "WARNING",
            # The senders' pacing stays on, at a Messaging Service's rate rather than one long
            # code's 1 segment/s: the run measures faults, not a single number's throughput.
            "FACTO_PACING_SMS_MPS": "100",
        }
        processes = Processes(env, Path(tmp))
        redis = aioredis.Redis.from_url(server.url, decode_responses=True)
        try:
            processes.web = processes.spawn("sandbox", "serve")
            processes.start_worker()
            processes.start_worker()
            async with aiohttp.ClientSession(base_url=base) as http:
                await _wait_healthy(http)
                api_key = _create_merchant(env)
                conversations = await _issue_invoices(http, api_key, config)
                last_fault = await _push_under_faults(
                    http,
                    redis=redis,
                    processes=processes,
                    redis_url=server.url,
                    conversations=conversations,
                    config=config,
                    report=report,
                )
                await _settle(
                    http,
                    redis=redis,
                    conversations=conversations,
                    config=config,
                    report=report,
                    last_fault=last_fault,
                )
        finally:
            processes.stop()
            await redis.aclose()
    report.seconds_total = round(time.monotonic() - started, 1)
    return report


async def _wait_healthy(http: aiohttp.ClientSession, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get("/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise RuntimeError("the web app did not start")


def _create_merchant(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "merchant", "create", "--json", "--name", "Chaos",
         "--legal-name", "Chaos SAS", "--siren", "732829320", "--vat-number", "FR44732829320",
         "--address", "1 rue du Test, 75001 Paris", "--legal-form", "SAS",
         "--share-capital", "10000", "--rcs-city", "Paris"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return str(json.loads(out.stdout)["api_key"])


def _conversation(index: int) -> tuple[str, str]:
    """Half SMS, half Telegram."""
    if index % 2:
        return "sms", f"+3361{index:07d}"
    return "telegram", str(7_000_000 + index)


async def _issue_invoices(
    http: aiohttp.ClientSession, api_key: str, config: Config
) -> list[tuple[str, str]]:
    conversations = [_conversation(i) for i in range(config.conversations)]
    for channel, address in conversations:
        field_name = "phone" if channel == "sms" else "telegram_chat_id"
        body = {
            "customer": {"name": "Camille Martin", field_name: address, "locale": "fr"},
            "channel": channel,
            "currency": "EUR",
            "due_date": "2099-12-31",
            "lines": [
                {"description": "Lampe", "quantity": 1, "unit_amount": 6000, "vat_rate": "20"}
            ],
        }
        headers = {"Authorization": f"Bearer {api_key}"}
        for _ in range(20):
            async with http.post("/api/v1/invoices", json=body, headers=headers) as response:
                if response.status == 201:
                    break
            await asyncio.sleep(0.2)
    return conversations


async def _push_under_faults(
    http: aiohttp.ClientSession,
    *,
    redis: aioredis.Redis,
    processes: Processes,
    redis_url: str,
    conversations: list[tuple[str, str]],
    config: Config,
    report: Report,
) -> float:
    """Push every customer message while the faults run; returns when the last fault ended."""
    pushing = asyncio.create_task(_push_all(http, conversations, config, report))
    last_fault = time.monotonic()
    faults = _fault_plan(config)
    while faults:
        await asyncio.sleep(config.fault_every)
        kind = faults.pop(0)
        if kind == "kill":
            index = report.kills % len(processes.workers)
            processes.kill_worker(index)
            report.kills += 1
            await asyncio.sleep(0.5)
            processes.start_worker(index)
        elif kind == "reset":
            await _reset_connections(redis_url)
            report.resets += 1
        else:
            await _slow_providers(http)
            report.slowdowns += 1
        last_fault = time.monotonic()
    await pushing
    return last_fault


def _fault_plan(config: Config) -> list[str]:
    plan: list[str] = []
    kinds = {"kill": config.kills, "reset": config.resets, "slow": config.slowdowns}
    while any(kinds.values()):
        for kind in ("kill", "reset", "slow"):
            if kinds[kind]:
                plan.append(kind)
                kinds[kind] -= 1
    return plan


async def _push_all(
    http: aiohttp.ClientSession,
    conversations: list[tuple[str, str]],
    config: Config,
    report: Report,
) -> None:
    slots = asyncio.Semaphore(config.push_concurrency)

    async def one_conversation(index: int, channel: str, address: str) -> None:
        async with slots:
            for n in range(config.messages):
                await _push(http, channel, address, TEXTS[(index + n) % len(TEXTS)], report)

    await asyncio.gather(*(one_conversation(i, c, a) for i, (c, a) in enumerate(conversations)))


async def _push(
    http: aiohttp.ClientSession, channel: str, address: str, text: str, report: Report
) -> None:
    """One customer message; a refusal (503) is retried as the provider would retry it."""
    for _ in range(50):
        try:
            async with http.post(
                f"/sandbox/api/customer/{channel}/{address}", json={"text": text}
            ) as response:
                if response.status == 200:
                    report.pushed += 1
                    return
                report.refused += 1
        except aiohttp.ClientError:
            report.refused += 1
        await asyncio.sleep(0.2)
    raise RuntimeError("a customer message was refused 50 times")


async def _reset_connections(redis_url: str) -> None:
    admin = aioredis.Redis.from_url(redis_url)
    with contextlib.suppress(RedisError):
        await admin.execute_command("CLIENT", "KILL", "TYPE", "normal")
    with contextlib.suppress(RedisError):
        await admin.aclose()


async def _slow_providers(http: aiohttp.ClientSession) -> None:
    faults = [
        {"channel": "telegram", "status": None, "delay": 1.5, "count": 20},
        {"channel": "sms", "status": 503, "for_seconds": 5},  # a short Twilio outage
        {"channel": "sms", "status": None, "delay": 1.5, "count": 20},
    ]
    for fault in faults:
        async with http.post("/sandbox/api/faults", json=fault) as response:
            response.raise_for_status()


async def _settle(
    http: aiohttp.ClientSession,
    *,
    redis: aioredis.Redis,
    conversations: list[tuple[str, str]],
    config: Config,
    report: Report,
    last_fault: float,
) -> None:
    """Wait until every conversation is consistent (or the timeout), then count."""
    deadline = time.monotonic() + config.settle_timeout
    while True:
        counts = await _compare(http, redis, conversations, report.pushed)
        if counts["settled"] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    if counts["settled"]:
        report.seconds_to_recover = round(time.monotonic() - last_fault, 1)
    report.lost = counts["lost"]
    report.duplicated = counts["duplicated"]
    report.out_of_order = counts["out_of_order"]
    report.dead_lettered = int(await redis.llen("pipeline:dead"))
    report.details = {
        "handled": counts["handled"],
        "replies": counts["replies"],
        "outbox_states": await _outbox_states(redis),
    }


async def _outbox_states(redis: aioredis.Redis) -> dict[str, int]:
    """How many outbox records are in each state (what is left when something is stuck)."""
    states: Counter[str] = Counter()
    async for key in redis.scan_iter(match="outbox:msg:*", count=500):
        states[str(await redis.hget(key, "state"))] += 1
    return dict(states)


async def _compare(
    http: aiohttp.ClientSession,
    redis: aioredis.Redis,
    conversations: list[tuple[str, str]],
    pushed: int,
) -> dict[str, Any]:
    lost = duplicated = out_of_order = handled = replies = 0
    for channel, address in conversations:
        log_key = f"conv:{{{channel}:{address}}}:log"
        said = [json.loads(e) for e in await redis.lrange(log_key, 0, -1)]
        committed = [opening(e["text"]) for e in said if e["dir"] == "out"]
        handled += sum(1 for e in said if e["dir"] == "in")
        async with http.get(
            "/sandbox/api/messages", params={"channel": channel, "to": address}
        ) as response:
            delivered = [opening(m["text"]) for m in await response.json()]
        replies += len(committed)
        want, got = Counter(committed), Counter(delivered)
        lost += sum((want - got).values())
        duplicated += sum((got - want).values())
        if want == got and committed != delivered:
            out_of_order += 1
    lost += max(0, pushed - handled)  # acknowledged but never dispatched
    settled = lost == 0
    return {
        "lost": lost,
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "handled": handled,
        "replies": replies,
        "settled": settled,
    }


def opening(text: str) -> str:
    """SMS rendering adds the numbered choices on lines of their own and plain spaces:
    compare the start of the first line."""
    return " ".join(text.strip().split("\n", 1)[0].split())[:40]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    defaults = Config()
    parser.add_argument("--conversations", type=int, default=defaults.conversations)
    parser.add_argument("--messages", type=int, default=defaults.messages)
    parser.add_argument("--kills", type=int, default=defaults.kills)
    parser.add_argument("--resets", type=int, default=defaults.resets)
    parser.add_argument("--slowdowns", type=int, default=defaults.slowdowns)
    args = parser.parse_args(argv)
    config = Config(
        conversations=min(args.conversations, 1000),
        messages=min(args.messages, 50),
        kills=min(args.kills, 20),
        resets=min(args.resets, 20),
        slowdowns=min(args.slowdowns, 20),
    )
    report = asyncio.run(run(config))
    summary = {k: v for k, v in asdict(report).items() if k != "details"}
    print(json.dumps({**summary, **report.details}, indent=2))
    print(
        f"lost={report.lost} duplicated={report.duplicated} "
        f"out_of_order={report.out_of_order} recovered_in={report.seconds_to_recover}s"
    )
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
