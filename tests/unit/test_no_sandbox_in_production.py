"""A production process never loads the emulators: `sandbox/` is mounted by the demo, the
tests and `FACTO_SANDBOX=1 python -m bot serve`, never imported by the server or the worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# What `python -m bot serve` and `python -m bot worker` import before serving.
PRODUCTION_MODULES = ("bot.cli", "bot.runtime", "bot.web.app", "bot.engine.worker")


def _loaded_after(modules: tuple[str, ...], code: str = "") -> list[str]:
    """The modules a fresh interpreter holds after importing `modules` (and running `code`)."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {list(modules)!r}:\n"
        "    importlib.import_module(name)\n"
        f"{code}\n"
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
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def _sandbox(modules: list[str]) -> list[str]:
    return [name for name in modules if name == "sandbox" or name.startswith("sandbox.")]


def test_server_and_worker_import_no_sandbox_module() -> None:
    assert _sandbox(_loaded_after(PRODUCTION_MODULES)) == []


def test_a_production_app_built_without_the_sandbox_loads_none_of_it() -> None:
    """Building the app as `serve` does with FACTO_SANDBOX off: still nothing of sandbox/."""
    build = (
        "from bot.clock import SystemClock\n"
        "from bot.runtime import sandbox_mounts\n"
        "from bot.settings import Settings\n"
        "from bot.web.app import create_app\n"
        "settings = Settings(_env_file=None, FACTO_SANDBOX=False)\n"
        "create_app(settings, redis_url='redis://127.0.0.1:1/0', clock=SystemClock(),\n"
        "           mounts=sandbox_mounts(settings))\n"
    )
    assert _sandbox(_loaded_after(PRODUCTION_MODULES, build)) == []


def test_the_check_sees_the_sandbox_when_it_is_mounted() -> None:
    """The same check, with the sandbox on, does find it: the test above can fail."""
    build = (
        "from bot.runtime import sandbox_mounts\n"
        "from bot.settings import Settings\n"
        "sandbox_mounts(Settings(_env_file=None, FACTO_SANDBOX=True))\n"
    )
    assert "sandbox.app" in _sandbox(_loaded_after(PRODUCTION_MODULES, build))
