"""Logs never print Facto's own API keys; a failed start is one JSON line saying why."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.embedded_redis import free_port
from bot.logs import redact
from tests.unit.test_logs import render


def test_facto_api_keys_are_redacted() -> None:
    key = "fk_" + secrets.token_urlsafe(32)
    line = render(f"request with Bearer {key} refused", header=f"Authorization: Bearer {key}")
    assert key not in line and key[3:20] not in line
    assert "[secret]" in line


@given(st.binary(min_size=32, max_size=32))
def test_any_api_key_is_redacted(raw: bytes) -> None:
    import base64

    key = "fk_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert key[3:] not in redact(f"key={key}")


def test_words_starting_with_fk_are_left_alone() -> None:
    assert redact("fk_ prefix and fk_short") == "fk_ prefix and fk_short"


def run_facto(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "TELEGRAM_", "STRIPE_", "FACTO_", "REDIS_", "PORT"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env from the repository
        env={**clean, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def json_lines(stderr: str) -> list[dict[str, object]]:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing was logged"
    assert "Traceback" not in stderr
    return [json.loads(line) for line in lines]  # every line is JSON


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "missing configuration: TWILIO_ACCOUNT_SID"),
        ({"PORT": "eighty"}, "PORT"),
        ({"FACTO_SANDBOX": "1", "PORT": "0"}, "PORT"),
        # Read before the event loop is made: refused, it leaves no coroutine unawaited behind.
        ({"FACTO_SANDBOX": "1", "FACTO_EVENT_LOOP": "tokio"}, "FACTO_EVENT_LOOP"),
    ],
)
def test_a_failed_start_is_one_clear_json_line(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    result = run_facto(tmp_path, "serve", **env)
    assert result.returncode == 1
    errors = [e for e in json_lines(result.stderr) if e["level"] == "error"]
    assert len(errors) == 1, result.stderr
    [error] = errors
    assert str(error["event"]).startswith("cannot start: ") and says in str(error["event"])
    assert "error" not in error  # the reason, not a traceback


def test_a_port_already_taken_is_one_clear_json_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_facto(tmp_path, "serve", FACTO_SANDBOX="1", PORT=str(port))
    assert result.returncode == 1
    [error] = [e for e in json_lines(result.stderr) if e["level"] == "error"]
    assert str(port) in str(error["event"]) and "cannot start" in str(error["event"])
