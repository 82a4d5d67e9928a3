"""`python -m bot policy …` against a real Redis: show the defaults, set, refuse bad input."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.embedded_redis import EmbeddedRedis
from bot.store.merchants import create_merchant
from tests.scenario.harness import MERCHANT, START


@pytest.fixture(autouse=True)
def keep_pytest_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.runtime.configure_logging", lambda *_args, **_kw: None)


def test_policy_commands(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)

    async def merchant() -> str:
        from bot.runtime import command_redis

        async with command_redis() as redis:
            created, _ = await create_merchant(redis, now=START, **MERCHANT)  # type: ignore[arg-type]
            return created.id

    merchant_id = asyncio.run(merchant())
    assert main(["policy", "show", "--merchant", merchant_id]) == 0
    assert json.loads(capsys.readouterr().out)["reminders"]["days"] == [-3, 0, 3, 10, 30]

    good = tmp_path / "policy.json"
    good.write_text(json.dumps({"reminders": {"days": [0, 7, 21], "on_holidays": True}}))
    assert main(["policy", "set", "--merchant", merchant_id, "--file", str(good)]) == 0
    shown = json.loads(capsys.readouterr().out)["reminders"]
    assert shown["days"] == [0, 7, 21] and shown["on_holidays"] is True

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"reminders": {"days": [7, 0]}}))
    assert main(["policy", "set", "--merchant", merchant_id, "--file", str(bad)]) == 2
    assert "reminders.days" in capsys.readouterr().err
    assert main(["policy", "show", "--merchant", "nobody"]) == 2


def test_the_reward_through_the_cli(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """Issue 10: the fast-payment reward is set like the rest of the policy, same checks."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)

    async def merchant() -> str:
        from bot.runtime import command_redis

        async with command_redis() as redis:
            created, _ = await create_merchant(redis, now=START, **MERCHANT)  # type: ignore[arg-type]
            return created.id

    merchant_id = asyncio.run(merchant())
    assert main(["policy", "show", "--merchant", merchant_id]) == 0
    assert json.loads(capsys.readouterr().out)["reward"]["enabled"] is False

    good = tmp_path / "reward.json"
    reward = {"enabled": True, "within_hours": 24, "kind": "points", "points": 50}
    good.write_text(json.dumps({"reward": reward}))
    assert main(["policy", "set", "--merchant", merchant_id, "--file", str(good)]) == 0
    shown = json.loads(capsys.readouterr().out)["reward"]
    assert shown == {
        **reward,
        "percent": None,
        "code": None,
        "streak": 3,
        "applies_to": "next_purchase",
    }

    bad = tmp_path / "escompte.json"
    bad.write_text(json.dumps({"reward": {**reward, "applies_to": "this_invoice"}}))
    assert main(["policy", "set", "--merchant", merchant_id, "--file", str(bad)]) == 2
    assert "reward.applies_to" in capsys.readouterr().err
