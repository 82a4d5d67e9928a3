"""bench/bench_scale.py in small: 2 web and 3 worker processes on one Redis, one worker
SIGKILLed midway; every customer message dispatched once and in order, every reply delivered
once and in order (against 1 web + 1 worker in the same run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.bench_scale import Plan, measure
from bench.run import ROOT, Processes

# Seven real processes on the wall clock: about a minute on a busy 2-core machine, so it runs
# when asked (FACTO_CHAOS=1 ./facto test -m fault), like the small chaos run.
pytestmark = [
    pytest.mark.fault,
    pytest.mark.skipif(os.environ.get("FACTO_CHAOS") != "1", reason="set FACTO_CHAOS=1 to run"),
]


async def test_two_web_three_workers_one_killed_every_message_once_in_order(
    tmp_path: Path,
) -> None:
    processes = Processes(tmp_path, ROOT)
    try:
        result = await measure(
            Plan(rounds=1, conversations=6, messages=3, concurrency=6), processes, tmp_path
        )
    finally:
        processes.stop_all()
    assert [(r.webs, r.workers, r.killed) for r in result.runs] == [
        (1, 1, False),
        (2, 3, False),
        (2, 3, True),
    ]
    assert all(r.messages == 18 for r in result.runs)
    assert [r.problems.total for r in result.runs] == [0, 0, 0], result.table()
