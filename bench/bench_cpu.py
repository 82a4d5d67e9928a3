"""CPU per message of one worker, full processing, for one or more checkouts in the same run.

    python bench/bench_cpu.py [--code A --code B ...] [--rounds 3] [--conversations 40]
                              [--messages 10] [--profile DIR]

Wall-clock rates swing 2-4x on a shared machine; the CPU a worker process spends per message
swings less. Each `--code` (a checkout, or a PYTHONPATH whose first entry is the checkout, to
compare an optional dependency) gets its own Redis, `python -m sandbox serve` (the emulators)
and `python -m bot worker`, kept for the whole run and warmed up past its start-up sweeps.
Each round measures every worker in turn (the order alternates between rounds): invoices to
new conversations, their own messages sent and their PDFs archived (untimed), then the
customers' messages pushed through the webhooks until every reply is sent. The figure is
the worker's user + system CPU (from /proc) over that window, divided by the messages.
`--profile DIR` attaches `py-spy record` to each worker for the measured window and writes
its collapsed stacks (`--format raw`) there, one file per run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import redis.asyncio as aioredis

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    Config,
    Facto,
    Loader,
    Processes,
    conversation,
    facto,
    issue_invoices,
    wait_archived,
    wait_settled,
)
from bot.engine.worker import START_GRACE_SECONDS  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
TEXTS = ("bonjour", "il reste combien ?", "merci", "aide")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (fields 14 and 15 of /proc/pid/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def start_profile(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy attached to the worker for the measured window only (not its start-up)."""
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    args = [py_spy, "record", "--pid", str(pid), "--rate", "250", "--nonblocking"]
    return subprocess.Popen([*args, "--format", "raw", "-o", str(out)], stdout=subprocess.DEVNULL)


def stop_profile(profiler: subprocess.Popen[bytes]) -> None:
    profiler.send_signal(signal.SIGINT)  # py-spy writes what it sampled on an interrupt
    profiler.wait(timeout=60)


def spawn_worker(f: Facto, code: Path, name: str) -> subprocess.Popen[bytes]:
    """`python -m bot worker` with `code` as its PYTHONPATH, run from the checkout it names."""
    checkout = Path(str(code).split(os.pathsep, 1)[0])
    with (f.processes.logs / f"{name}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            env={**f.env, "PYTHONPATH": str(code)},
            cwd=checkout,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@dataclass
class Subject:
    """One `--code`: its own Redis, emulators and worker, the worker kept for the whole run."""

    code: Path
    facto: Facto
    worker: subprocess.Popen[bytes]
    redis: aioredis.Redis
    results: list[float] = field(default_factory=list)
    # The rest of the machine's work per message: the web process (webhooks in, and the
    # emulators that receive the replies) and redis-server, in ms of CPU.
    others: dict[str, list[float]] = field(default_factory=dict)


async def prepare(subject: Subject, config: Config, loader: Loader) -> None:
    """Untimed: lazy imports and caches, then the start-up sweeps and housekeeping, which a
    worker runs once its start grace is over (bot.engine.worker.START_GRACE_SECONDS)."""
    await one_run(subject, 0, config, loader, profile=None)
    await asyncio.sleep(START_GRACE_SECONDS + 2)
    await wait_settled(subject.redis, 300)


async def other_pids(subject: Subject) -> dict[str, int]:
    """The web process (with the emulators mounted) and redis-server of `subject`."""
    web = next(c for c in subject.facto.processes.children if "serve" in cast(list[str], c.args))
    info = await subject.redis.info("server")
    return {"web + emulators": web.pid, "redis-server": int(info["process_id"])}


async def one_run(
    subject: Subject, tag: int, config: Config, loader: Loader, *, profile: Path | None
) -> tuple[float, int]:
    """The worker's CPU seconds for one load, and the number of messages; the other
    processes' CPU per message goes to `subject.others`."""
    f, pid, redis = subject.facto, subject.worker.pid, subject.redis
    others = await other_pids(subject)
    conversations = [conversation(n, tag) for n in range(config.worker_conversations)]
    # Untimed: the invoices, their own messages and their PDFs (per invoice, not per message).
    await issue_invoices(f, conversations)
    await wait_settled(redis, 300)
    await wait_archived(redis, 300)
    name = f"{subject.code.name}-{tag}"
    profiler = None if profile is None else start_profile(pid, profile / f"{name}.txt")
    before = cpu_seconds(pid)
    others_before = {name: cpu_seconds(other) for name, other in others.items()}
    messages = [
        (channel, address, TEXTS[m % len(TEXTS)])
        for m in range(config.worker_messages)
        for channel, address in conversations
    ]
    await push(f, loader, config, messages)
    await wait_settled(redis, 600)
    used = cpu_seconds(pid) - before
    for name, other in others.items():
        spent = (cpu_seconds(other) - others_before[name]) / len(messages) * 1000
        subject.others.setdefault(name, []).append(spent)
    if profiler is not None:
        stop_profile(profiler)
    return used, len(messages)


async def push(
    f: Facto, loader: Loader, config: Config, messages: list[tuple[str, str, str]]
) -> None:
    spec = {
        "base": f.base,
        "kind": "push",
        "messages": messages,
        "count": len(messages),
        "seconds": None,
        "warmup": 0.0,
        "concurrency": min(config.concurrency, len(messages)),
    }
    pushed = await loader.run(spec)
    if pushed.errors:
        raise RuntimeError(f"pushes refused: {pushed.statuses}")


@contextlib.asynccontextmanager
async def subject(processes: Processes, tmp: Path, code: Path, n: int) -> AsyncIterator[Subject]:
    async with facto(processes, tmp, f"cpu{n}") as f:
        worker = spawn_worker(f, code, f"worker{n}")
        redis = aioredis.Redis.from_url(f.redis_url, decode_responses=True)
        try:
            yield Subject(code, f, worker, redis)
        finally:
            await redis.aclose()
            Processes.stop(worker)


async def run(codes: list[Path], rounds: int, config: Config, profile: Path | None) -> None:
    loader = Loader()
    with tempfile.TemporaryDirectory(prefix="facto-cpu-") as tmp_name:
        tmp = Path(tmp_name)
        processes = Processes(tmp, ROOT)
        try:
            async with contextlib.AsyncExitStack() as stack:
                subjects = [
                    await stack.enter_async_context(subject(processes, tmp, code, n))
                    for n, code in enumerate(codes)
                ]
                for each in subjects:
                    await prepare(each, config, loader)
                await measure(subjects, rounds, config, loader, profile)
        finally:
            processes.stop_all()
            loader.close()
    print()
    first = statistics.median(subjects[0].results)
    for each in subjects:
        mid = statistics.median(each.results)
        shown = " ".join(f"{v:.2f}" for v in each.results)
        print(f"{each.code}: median {mid:.2f} ms CPU/msg ({shown}); {mid / first:.2f}x the first")
        print_others(each)


def print_others(subject: Subject) -> None:
    """What the rest of the machine spends per message (the prepare run left out), and the
    rate two cores would allow if the worker cost nothing: a ceiling on the worker row."""
    measured = {name: values[1:] or values for name, values in subject.others.items()}
    medians = {name: statistics.median(values) for name, values in measured.items()}
    for name, value in medians.items():
        print(f"  {name}: median {value:.2f} ms CPU/msg")
    ceiling = 2 * 1000 / sum(medians.values())
    print(f"  two cores, a worker costing nothing: at most {ceiling:,.0f} msg/s")


async def measure(
    subjects: list[Subject], rounds: int, config: Config, loader: Loader, profile: Path | None
) -> None:
    for n in range(rounds):
        for each in subjects if n % 2 == 0 else subjects[::-1]:
            cpu, count = await one_run(each, n + 1, config, loader, profile=profile)
            each.results.append(cpu / count * 1000)
            print(f"round {n + 1} {each.code}: {each.results[-1]:.2f} ms CPU/msg", flush=True)


async def run_steps(codes: list[Path], rounds: int, config: Config) -> None:
    """`--steps`: bench/cpu_steps.py in a child process per checkout, on one Facto."""
    results: dict[Path, list[float]] = {code: [] for code in codes}
    with tempfile.TemporaryDirectory(prefix="facto-cpu-") as tmp_name:
        tmp = Path(tmp_name)
        processes = Processes(tmp, ROOT)
        try:
            async with facto(processes, tmp, "steps") as f:
                tag = 0
                for n in range(rounds):
                    for code in codes if n % 2 == 0 else codes[::-1]:
                        tag += 1
                        ms = await steps_once(f, code, tag, config)
                        results[code].append(ms)
                        print(f"round {n + 1} {code}: {ms:.2f} ms CPU/msg (steps)", flush=True)
        finally:
            processes.stop_all()
    print()
    first = statistics.median(results[codes[0]])
    for code, values in results.items():
        mid = statistics.median(values)
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"{code}: median {mid:.2f} ms CPU/msg ({shown}); {mid / first:.2f}x the first")


async def steps_once(f: Facto, code: Path, tag: int, config: Config) -> float:
    conversations = [conversation(n, tag) for n in range(config.worker_conversations)]
    await issue_invoices(f, conversations)
    count = config.worker_conversations * config.worker_messages
    args = [sys.executable, str(ROOT / "bench" / "cpu_steps.py"), f.redis_url, str(count)]
    args += [f"{channel}:{address}" for channel, address in conversations]
    checkout = Path(str(code).split(os.pathsep, 1)[0])
    child = await asyncio.create_subprocess_exec(
        *args,
        env={**f.env, "PYTHONPATH": str(code)},
        cwd=checkout,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode:
        raise RuntimeError(f"cpu_steps.py failed for {code}")
    return float(out.decode().split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--code",
        type=Path,
        action="append",
        help="a checkout, optionally followed by more paths (a PYTHONPATH: checkout:extra)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--profile", type=lambda p: Path(p).resolve())
    parser.add_argument(
        "--steps", action="store_true", help="one message at a time (bench/cpu_steps.py)"
    )
    args = parser.parse_args(argv)
    config = Config(worker_conversations=args.conversations, worker_messages=args.messages)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        if args.steps:
            asyncio.run(run_steps(args.code or [ROOT], args.rounds, config))
        else:
            asyncio.run(run(args.code or [ROOT], args.rounds, config, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
