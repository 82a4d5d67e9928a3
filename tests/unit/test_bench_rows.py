"""bench/run.py's table: a figure is judged on its median over the rounds, a count of defects
on every run (one run with a message handled twice fails the row, whatever the others say)."""

from __future__ import annotations

import redis.asyncio as aioredis

from bench.run import RoundTrips, make_rows
from bot.embedded_redis import EmbeddedRedis


def test_a_figure_is_judged_on_its_median() -> None:
    twilio = make_rows()["twilio"]
    for ratio in (0.5, 0.95, 1.0):
        twilio.add(ratio)
    assert twilio.cells()[3] == "pass"


def test_one_run_with_a_defect_fails_the_defect_count() -> None:
    rows = make_rows()
    clean, one_bad = rows["scale_check"], make_rows()["scale_check"]
    for count in (0, 0, 0):
        clean.add(count)
    for count in (0, 1, 0):
        one_bad.add(count)
    assert (clean.cells()[3], one_bad.cells()[3]) == ("pass", "FAIL")


async def test_round_trips_leave_out_a_new_connections_handshake(
    redis_server: EmbeddedRedis,
) -> None:
    RoundTrips.install()  # once per process, as bench/run.py does (other tests may have)
    opened = RoundTrips.connections
    client = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        with RoundTrips.counting() as first:  # opens the connection: CLIENT SETINFO x2 too
            await client.set("k", "v")
        with RoundTrips.counting() as pipelined:
            async with client.pipeline(transaction=False) as pipe:
                pipe.get("k")
                pipe.get("k")
                await pipe.execute()
    finally:
        await client.aclose()
    assert (first[0], pipelined[0], RoundTrips.connections - opened) == (1, 1, 1)
