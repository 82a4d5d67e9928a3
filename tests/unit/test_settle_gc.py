"""Start-up objects are frozen out of the collector, with larger thresholds, in the server
(and the worker, through the same function): fewer and shorter collection pauses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import web

from bot import runtime
from bot.embedded_redis import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_settle_gc_freezes_what_start_up_allocated_and_sets_the_thresholds() -> None:
    script = (
        "import gc\n"
        "from bot.runtime import GC_THRESHOLDS, settle_gc\n"
        "before = gc.get_freeze_count()\n"
        "settle_gc()\n"
        "print(before, gc.get_freeze_count(), gc.get_threshold() == GC_THRESHOLDS)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, after, thresholds = out.stdout.split()
    assert int(before) == 0 and int(after) > 10_000  # the imported modules' objects at least
    assert thresholds == "True"


async def test_the_server_settles_gc_once_it_listens(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def no_signal() -> None:
        calls.append("serving")

    monkeypatch.setattr(runtime, "settle_gc", lambda: calls.append("settled"))
    monkeypatch.setattr(runtime, "_until_signal", no_signal)
    await runtime.run_site(web.Application(), "127.0.0.1", free_port())
    assert calls == ["settled", "serving"]


def test_python_m_bot_collects_again_after_start_up_in_every_command() -> None:
    """`python -m bot` imports with the collector off (bot/__main__.py); a command that is
    not `serve` or `worker` (they settle it once started) turns it back on before running."""
    script = (
        "import gc, runpy, sys\n"
        "import bot.cli\n"
        "bot.cli._merchant_create = lambda args: print('enabled', gc.isenabled()) or 0\n"
        "sys.argv = ['bot', 'merchant', 'create', '--name', 'n', '--legal-name', 'l',\n"
        "            '--siren', '1', '--address', 'a']\n"
        "runpy.run_module('bot', run_name='__main__')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert "enabled True" in out.stdout, out.stderr[-2000:]


def test_settle_gc_turns_the_collector_back_on() -> None:
    script = (
        "import gc\n"
        "from bot.runtime import settle_gc\n"
        "gc.disable()\n"
        "settle_gc()\n"
        "print(gc.isenabled())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"
