"""The chaos run in small: real web and worker processes, one SIGKILL, one connection reset,
a slow provider; nothing lost, nothing sent twice, nothing out of order (bench/chaos.py)."""

from __future__ import annotations

import pytest

from bench.chaos import Config, run

pytestmark = pytest.mark.fault


async def test_chaos_hundred_messages_one_kill() -> None:
    report = await run(
        Config(conversations=20, messages=5, kills=1, resets=1, slowdowns=1, settle_timeout=90)
    )
    assert report.pushed == 100 and report.kills == 1 and report.resets == 1
    assert (report.lost, report.duplicated, report.out_of_order) == (0, 0, 0), report
    assert report.seconds_to_recover is not None
