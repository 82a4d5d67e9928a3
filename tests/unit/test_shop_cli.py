"""`python -m bot shop …` against a real Redis: connect (the secret sealed, shown once when
Facto made it), list, disconnect, refuse bad input."""

from __future__ import annotations

import asyncio
import json

import pytest
from cryptography.fernet import Fernet

from bot.cli import main
from bot.embedded_redis import EmbeddedRedis
from bot.store import keys
from bot.store.merchants import create_merchant
from tests.scenario.harness import MERCHANT, START


@pytest.fixture(autouse=True)
def keep_pytest_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.runtime.configure_logging", lambda *_args, **_kw: None)


def test_shop_commands(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("FACTO_SECRETS_KEY", Fernet.generate_key().decode())

    async def merchant() -> str:
        from bot.runtime import command_redis

        async with command_redis() as redis:
            created, _ = await create_merchant(redis, now=START, **MERCHANT)  # type: ignore[arg-type]
            return created.id

    async def stored(connection_id: str) -> str:
        from bot.runtime import command_redis

        async with command_redis() as redis:
            return str(await redis.get(keys.shop_connection(connection_id)))

    merchant_id = asyncio.run(merchant())
    connect = ["shop", "connect", "--merchant", merchant_id, "--platform", "woocommerce"]
    assert main([*connect, "--shop", "https://miel.example.fr"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["webhook_url"].endswith(f"/webhooks/woocommerce/{shown['id']}")
    assert shown["shop"] == "miel.example.fr" and len(shown["secret"]) >= 32
    assert shown["secret"] not in asyncio.run(stored(shown["id"]))  # sealed at rest

    assert main(["shop", "list", "--merchant", merchant_id]) == 0
    assert [c["id"] for c in json.loads(capsys.readouterr().out)] == [shown["id"]]
    assert main(["shop", "disconnect", "--merchant", merchant_id, "--id", shown["id"]]) == 0
    capsys.readouterr()
    assert main(["shop", "disconnect", "--merchant", merchant_id, "--id", shown["id"]]) == 1

    bad = ["shop", "connect", "--merchant", merchant_id, "--platform", "shopify"]
    assert main([*bad, "--shop", "boutique.myshopify.com"]) == 2  # Shopify's secret is needed
    assert "secret is required" in capsys.readouterr().err
    assert main(["shop", "list", "--merchant", "m_nobody"]) == 2
