"""A production process never loads the emulators: `sandbox/` is mounted by the demo, the
tests and `python -m sandbox serve`, never imported by `python -m bot serve` or the worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.embedded_redis import EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parents[2]

# What `python -m bot serve` and `python -m bot worker` import before serving.
PRODUCTION_MODULES = ("bot.cli", "bot.runtime", "bot.web.app", "bot.engine.worker")

# Every credential a production process requires, none of them the sandbox's defaults.
PRODUCTION_ENV = {
    "FACTO_SANDBOX": "0",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "production-like-token",
    "TWILIO_SMS_FROM": "+33700000001",
    "TELEGRAM_BOT_TOKEN": "654321:production-like",
    "TELEGRAM_WEBHOOK_SECRET": "production-like-secret",
    "STRIPE_API_KEY": "sk_live_production_like",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_like",
    "PUBLIC_BASE_URL": "https://facto.example",
    "HOST": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
}

# Run in a fresh interpreter: the command starts for real (app built, its start-up hooks run,
# the port bound; the worker's services open), and at the moment it would wait for a signal
# or start its loops, it prints every module it holds and stops.
STARTED = """
import json, sys
import bot.runtime
from bot.engine.worker import Worker

async def started(*_args: object) -> None:
    print("MODULES " + json.dumps(sorted(sys.modules)), flush=True)

bot.runtime._until_signal = started
Worker.run = started
"""

COMMANDS = {
    "python -m bot serve": "from bot.cli import main\nsys.exit(main(['serve']))",
    "python -m bot worker": "from bot.cli import main\nsys.exit(main(['worker']))",
    "python -m sandbox serve": "from sandbox.__main__ import main\nsys.exit(main(['serve']))",
}


def _modules_once_started(
    command: str, redis_url: str, tmp_path: Path, extra_env: dict[str, str]
) -> list[str]:
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        **extra_env,
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": redis_url,
        "PORT": str(free_port()),
        "FACTO_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", STARTED + COMMANDS[command]],
        cwd=tmp_path,  # no stray .env
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("MODULES ")]
    assert out.returncode == 0 and lines, out.stderr[-2000:]
    return list(json.loads(lines[-1].removeprefix("MODULES ")))


def _sandbox(modules: list[str]) -> list[str]:
    return [name for name in modules if name == "sandbox" or name.startswith("sandbox.")]


def test_server_and_worker_import_no_sandbox_module() -> None:
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(PRODUCTION_MODULES)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert _sandbox(json.loads(out.stdout.strip().splitlines()[-1])) == []


@pytest.mark.parametrize("command", ["python -m bot serve", "python -m bot worker"])
def test_a_started_production_process_holds_no_sandbox_module(
    command: str, redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    modules = _modules_once_started(command, redis_server.url, tmp_path, {})
    assert _sandbox(modules) == []


def test_bot_serve_in_sandbox_mode_still_holds_no_sandbox_module(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    """A second web process of a sandbox deployment (FACTO_SANDBOX=1, the emulators served by
    another process) does not load them either."""
    modules = _modules_once_started(
        "python -m bot serve", redis_server.url, tmp_path, {"FACTO_SANDBOX": "1"}
    )
    assert _sandbox(modules) == []


def test_the_check_sees_the_emulators_when_sandbox_serve_mounts_them(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    """The same check on `python -m sandbox serve` finds them: the tests above can fail."""
    modules = _modules_once_started(
        "python -m sandbox serve", redis_server.url, tmp_path, {"FACTO_SANDBOX": "1"}
    )
    assert {"sandbox.app", "sandbox.twilio_api"} <= set(_sandbox(modules))
