"""`python -m bot campaign …` against a real Redis: create, start, pause, show, watch."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.campaign_cli import draw
from bot.cli import main
from bot.embedded_redis import EmbeddedRedis


@pytest.fixture(autouse=True)
def keep_pytest_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.runtime.configure_logging", lambda *_args, **_kw: None)


def test_campaign_commands(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    body = {
        "offer": {
            "product": "Lampe",
            "amount": 2900,
            "stock": 5,
            "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
        "audience_id": "aud_1",
        "variants": [{"name": "A", "text": {"fr": "Bonjour", "en": "Hello"}}],
    }
    spec = tmp_path / "sale.json"
    spec.write_text(json.dumps(body))
    assert main(["campaign", "create", "--merchant", "m1", "--file", str(spec)]) == 0
    campaign_id = capsys.readouterr().out.strip()
    assert campaign_id.startswith("cmp_")
    assert main(["campaign", "start", campaign_id, "--merchant", "m1"]) == 0
    assert main(["campaign", "pause", campaign_id, "--merchant", "m1"]) == 0
    assert capsys.readouterr().out.split() == ["running", "paused"]
    assert main(["campaign", "pause", campaign_id, "--merchant", "m1"]) == 1  # already paused
    capsys.readouterr()
    assert main(["campaign", "show", campaign_id, "--merchant", "m1"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "paused" and shown["offer"]["stock"] == 5
    assert main(["campaign", "cancel", campaign_id, "--merchant", "m1"]) == 0
    capsys.readouterr()
    assert main(["campaign", "watch", campaign_id, "--merchant", "m1"]) == 0  # cancelled: ends
    assert "cancelled" in capsys.readouterr().out
    assert main(["campaign", "show", "cmp_nope", "--merchant", "m1"]) == 1
    spec.write_text("{}")
    assert main(["campaign", "create", "--merchant", "m1", "--file", str(spec)]) == 2


def test_the_progress_bar() -> None:
    out = io.StringIO()
    counts = {"sent": 30, "skipped_no_consent": 10, "dropped_cancelled": 0, "dropped_ended": 0}
    draw({"recipients": 80, "counts": counts, "state": "running"}, out)
    line = out.getvalue()
    assert line.startswith("\r[" + "#" * 20 + "-" * 20 + "]")
    assert "40/80" in line and "50.0%" in line and "sent 30" in line
