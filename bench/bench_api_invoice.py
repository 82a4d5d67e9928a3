"""B_full and the API invoice creation row of bench/run.py only, with the servers' CPU per request.

    python bench/bench_api_invoice.py [--rounds 3] [--seconds 4] [--code PATH]

The same baseline, load generator and requests as bench/run.py (its functions), in paired
rounds, for the one figure of issue 12 that is the merchant API's: a before/after of a change to
invoice creation takes a minute instead of the suite's minutes. Besides the ratio, each round
prints the CPU time the web process and the baseline spent per request (from /proc, Linux
only): on a machine shared with other work the rates move a lot, the CPU per request much less.
`--code PATH` serves from another checkout (run it on both, alternating, and compare).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402


def cpu_seconds(child: subprocess.Popen[bytes]) -> float:
    with open(f"/proc/{child.pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_running(processes: run.Processes, argument: str) -> subprocess.Popen[bytes]:
    """The child process started with `argument` among its arguments."""
    return next(c for c in processes.children if argument in cast(list[str], c.args))


async def measure(code: Path, rounds: int, seconds: float) -> None:
    config = run.Config(rounds=rounds, seconds=seconds)
    loader = run.Loader()
    with tempfile.TemporaryDirectory(prefix="facto-bench-invoice-") as tmp_name:
        tmp = Path(tmp_name)
        processes = run.Processes(tmp, code)
        try:
            async with contextlib.AsyncExitStack() as stack:
                baseline_url, facto = await asyncio.gather(
                    stack.enter_async_context(run.baseline(processes, tmp)),
                    stack.enter_async_context(run.facto(processes, tmp, "web")),
                )
                bench = run.Bench(config, loader, run.make_rows(), baseline_url)
                web = child_running(processes, "serve")
                base = child_running(processes, "--serve-baseline")
                for url, kind in ((facto.base, "invoice"), (baseline_url, "twilio")):
                    warm = bench.spec(url, kind, count=40, seconds=None, api_key=facto.api_key)
                    await loader.run({**warm, "warmup": 0.0, "concurrency": 4})
                for _ in range(rounds):
                    before = cpu_seconds(base)
                    b_full = await bench.measure_baseline()
                    print(f"    B_full CPU {_per(cpu_seconds(base) - before, b_full.ok)} ms/req")
                    spec = bench.spec(
                        facto.base, "invoice", api_key=facto.api_key, count=int(3000 * seconds)
                    )
                    spec["concurrency"] = config.invoice_concurrency
                    before = cpu_seconds(web)
                    load = await loader.run(spec)
                    cpu = _per(cpu_seconds(web) - before, load.ok)
                    print(
                        f"  invoice {load.rate:,.0f} req/s p99 {load.p99_ms:.1f} ms "
                        f"{load.statuses}, CPU {cpu} ms/req: "
                        f"{load.rate / b_full.rate:.3f} x B_full, "
                        f"p99 {load.p99_ms / b_full.p99_ms:.2f} x"
                    )
        finally:
            processes.stop_all()
            loader.close()


def _per(seconds: float, requests: int) -> str:
    # Warm-up and the requests still in flight at the window's end are counted too: a bound.
    return f"{seconds / max(1, requests) * 1000:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--code", type=lambda p: Path(p).resolve(), default=ROOT)
    args = parser.parse_args()
    asyncio.run(measure(args.code, min(args.rounds, 10), min(args.seconds, 60.0)))


if __name__ == "__main__":
    main()
