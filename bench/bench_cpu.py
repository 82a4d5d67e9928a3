"""CPU per message of one worker, full processing, for one or more checkouts in the same run.

    python bench/bench_cpu.py [--code A --code B ...] [--rounds 3] [--conversations 40]
                              [--messages 10] [--profile DIR]

Wall-clock rates swing 2-4x on a shared machine; the CPU a worker process spends per message
does not. One `python -m sandbox serve` (the emulators) and one Redis serve every run; each
round starts a `python -m bot worker` from each `--code` in turn (a checkout, or a PYTHONPATH
whose first entry is the checkout, to compare an optional dependency; the order alternates
between rounds), issues invoices to new conversations, lets their own messages go out and
their PDFs be archived, then pushes the customers' messages through the webhooks and waits
until every reply is sent. The figure is
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
from pathlib import Path

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
    wait_settled,
)

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


async def one_run(
    f: Facto, code: Path, tag: int, config: Config, loader: Loader, *, profile: Path | None
) -> tuple[float, int]:
    """The worker's CPU seconds for one load, and the number of messages."""
    name = f"{code.name}-{tag}"
    child = spawn_worker(f, code, name)
    redis = aioredis.Redis.from_url(f.redis_url, decode_responses=True)
    pid = child.pid
    try:
        conversations = [conversation(n, tag) for n in range(config.worker_conversations)]
        # Untimed warm-up: lazy imports and caches, and the invoices' own messages.
        await issue_invoices(f, conversations)
        await push(f, loader, config, [(c, a, "bonjour") for c, a in conversations[:4]])
        await wait_settled(redis, 300)
        await wait_archived(redis, 300)  # the invoices' PDFs: per invoice, not per message
        profiler = None if profile is None else start_profile(pid, profile / f"{name}.txt")
        before = cpu_seconds(pid)
        messages = [
            (channel, address, TEXTS[m % len(TEXTS)])
            for m in range(config.worker_messages)
            for channel, address in conversations
        ]
        await push(f, loader, config, messages)
        await wait_settled(redis, 600)
        used = cpu_seconds(pid) - before
        if profiler is not None:
            stop_profile(profiler)
        return used, len(messages)
    finally:
        await redis.aclose()
        Processes.stop(child)


async def wait_archived(redis: aioredis.Redis, limit: float) -> None:
    """Until the worker's archiver has rendered every issued invoice's PDF."""
    deadline = asyncio.get_running_loop().time() + limit
    while asyncio.get_running_loop().time() < deadline:
        groups = await redis.xinfo_groups("documents:render")
        if all(not g["pending"] and not g.get("lag") for g in groups):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the invoices' PDFs were not archived in time")


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


async def run(codes: list[Path], rounds: int, config: Config, profile: Path | None) -> None:
    results: dict[Path, list[float]] = {code: [] for code in codes}
    loader = Loader()
    with tempfile.TemporaryDirectory(prefix="facto-cpu-") as tmp_name:
        tmp = Path(tmp_name)
        processes = Processes(tmp, ROOT)
        try:
            async with facto(processes, tmp, "cpu") as f:
                # Untimed: the first worker on a new Redis finds more to do than the next ones.
                await one_run(f, codes[0], 0, config, loader, profile=None)
                tag = 0
                for n in range(rounds):
                    order = codes if n % 2 == 0 else codes[::-1]
                    for code in order:
                        tag += 1
                        cpu, count = await one_run(f, code, tag, config, loader, profile=profile)
                        per_message = cpu / count * 1000
                        results[code].append(per_message)
                        print(f"round {n + 1} {code}: {per_message:.2f} ms CPU/msg", flush=True)
        finally:
            processes.stop_all()
            loader.close()
    print()
    first = statistics.median(results[codes[0]])
    for code, values in results.items():
        mid = statistics.median(values)
        shown = " ".join(f"{v:.2f}" for v in values)
        print(f"{code}: median {mid:.2f} ms CPU/message ({shown}); {mid / first:.2f}x the first")


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
    args = parser.parse_args(argv)
    config = Config(worker_conversations=args.conversations, worker_messages=args.messages)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args.code or [ROOT], args.rounds, config, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
