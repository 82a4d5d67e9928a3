"""serve and worker run on uvloop unless told otherwise (bot.eventloop, FACTO_EVENT_LOOP)."""

from __future__ import annotations

import asyncio
import sys

import pytest
from pydantic import ValidationError

from bot import eventloop
from bot.settings import Settings

uvloop = pytest.importorskip("uvloop")  # no wheel on Windows, where asyncio's loop is used


async def _loop_type() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


async def _loop_name() -> str:
    return eventloop.running_loop_name()


def test_the_chosen_loop_is_uvloop() -> None:
    assert issubclass(eventloop.run(_loop_type(), "uvloop"), uvloop.Loop)
    assert eventloop.run(_loop_name(), "uvloop") == "uvloop"


def test_asyncio_s_own_loop_is_kept_on_request() -> None:
    loop_type = eventloop.run(_loop_type(), "asyncio")
    assert not issubclass(loop_type, uvloop.Loop)
    assert eventloop.run(_loop_name(), "asyncio") == "asyncio"


def test_without_uvloop_the_standard_loop_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError
    assert eventloop.run(_loop_name(), "uvloop") == "asyncio"


def test_the_setting_defaults_to_uvloop_and_refuses_another_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FACTO_EVENT_LOOP", raising=False)
    assert Settings(_env_file=None).event_loop == "uvloop"  # type: ignore[call-arg]
    monkeypatch.setenv("FACTO_EVENT_LOOP", "asyncio")
    assert Settings(_env_file=None).event_loop == "asyncio"  # type: ignore[call-arg]
    monkeypatch.setenv("FACTO_EVENT_LOOP", "tokio")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]
