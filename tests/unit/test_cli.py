"""The command line: every command has help; the Telegram webhook is registered with its secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.cli import build_parser, main
from bot.embedded_redis import EmbeddedRedis, free_port
from bot.runtime import set_telegram_webhook
from bot.store import keys


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["worker"],
        ["demo"],
        ["merchant", "create"],
        ["merchant", "set-iban"],
        ["export", "accounting"],
        ["export", "factur-x"],
        ["intents"],
        ["telegram", "set-webhook"],
        ["dead-letters", "list"],
        ["dead-letters", "replay"],
        ["dead-letters", "drop"],
        ["campaign", "watch"],
    ],
)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([*command, "--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_merchant_create_refuses_a_bad_siren(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "merchant",
            "create",
            "--name",
            "A",
            "--legal-name",
            "A SAS",
            "--siren",
            "123456789",
            "--address",
            "1 rue X",
        ]
    )
    assert code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("prefix", ["F%", "f", "TOO-LONG-PREFIX", "F_X"])
def test_merchant_create_refuses_a_bad_invoice_prefix(
    prefix: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: the merchant was stored, and every invoice it then issued failed."""
    code = main(
        [
            "merchant",
            "create",
            "--name",
            "A",
            "--legal-name",
            "A SAS",
            "--siren",
            "732829320",
            "--address",
            "1 rue X",
            "--invoice-prefix",
            prefix,
        ]
    )
    assert code == 2
    assert "invoice prefix" in capsys.readouterr().err


@pytest.fixture(autouse=True)
def keep_pytest_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI installs its JSON log handler on the root logger; keep pytest's instead."""
    monkeypatch.setattr("bot.runtime.configure_logging", lambda *_args, **_kw: None)


async def test_set_webhook_sends_url_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, str]] = []

    async def api(request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        calls.append({"method": request.match_info["method"], **form})
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api)
    port = free_port()
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    try:
        monkeypatch.setenv("PUBLIC_BASE_URL", "https://pay.example.fr")
        monkeypatch.setenv("FACTO_SANDBOX", "1")
        # The sandbox points the SDK at PUBLIC_BASE_URL/sandbox/telegram: reroute it here.
        monkeypatch.setattr(
            "bot.settings.Settings.telegram_api_base",
            property(lambda _self: f"http://127.0.0.1:{port}/bot"),
        )
        url = await set_telegram_webhook()
    finally:
        await server.close()
    assert url == "https://pay.example.fr/webhooks/telegram"
    [call] = calls
    assert call["method"] == "setWebhook"
    assert call["url"] == url and call["secret_token"] == "sandbox-telegram-secret"


@pytest.mark.parametrize(("flag", "stored"), [([], 3), (["--max-instalments", "4"], 4)])
def test_merchant_create_stores_its_maximum_number_of_instalments(
    flag: list[str],
    stored: int,
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 6 §3: 2 or 3 instalments by default (LEGAL_FR §4.3); 4 only when chosen."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    args = ["merchant", "create", "--name", "A", "--legal-name", "A SAS", "--siren", "732829320"]
    assert main([*args, "--address", "1 rue X", "--json", *flag]) == 0
    merchant_id = json.loads(capsys.readouterr().out)["merchant_id"]
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        record = json.loads(client.get(keys.merchant(merchant_id)))
    finally:
        client.close()
    assert record["max_instalments"] == stored
    assert record["channel_fallback"] is True


def test_merchant_create_may_turn_the_channel_fallback_off(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    args = ["merchant", "create", "--name", "A", "--legal-name", "A SAS", "--siren", "732829320"]
    assert main([*args, "--address", "1 rue X", "--json", "--no-channel-fallback"]) == 0
    merchant_id = json.loads(capsys.readouterr().out)["merchant_id"]
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        record = json.loads(client.get(keys.merchant(merchant_id)))
    finally:
        client.close()
    assert record["channel_fallback"] is False


def test_merchant_create_refuses_more_than_4_instalments(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["merchant", "create", "--max-instalments", "5"])
    assert exit_info.value.code == 2
    assert "--max-instalments" in capsys.readouterr().err


def test_merchant_create_stores_the_legal_identity(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 13: an SAS's invoices need "SAS au capital de … € — RCS Paris …"."""
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    args = ["merchant", "create", "--name", "A", "--legal-name", "A SAS", "--siren", "732829320"]
    identity = ["--legal-form", "SAS", "--share-capital", "10 000", "--rcs-city", "Paris"]
    assert main([*args, "--address", "1 rue X", "--json", *identity]) == 0
    merchant_id = json.loads(capsys.readouterr().out)["merchant_id"]
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        record = json.loads(client.get(keys.merchant(merchant_id)))
    finally:
        client.close()
    assert record["legal_form"] == "SAS"
    assert record["share_capital"] == "1000000"  # cents
    assert record["rcs_city"] == "RCS Paris"


def test_merchant_create_refuses_a_share_capital_that_is_not_an_amount(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    args = ["merchant", "create", "--name", "A", "--legal-name", "A SAS", "--siren", "732829320"]
    assert main([*args, "--address", "1 rue X", "--share-capital", "dix mille"]) == 2
    assert "share capital" in capsys.readouterr().err


def test_merchant_create_while_the_demo_runs_uses_the_demos_redis(
    tmp_path: Path,
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 13: the key it printed got 401 from the demo's API (another Redis)."""
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("FACTO_DATA_DIR", str(tmp_path))
    url_file = tmp_path / "demo" / "redis" / "redis.url"
    url_file.parent.mkdir(parents=True)
    url_file.write_text(redis_server.url)
    args = ["merchant", "create", "--name", "A", "--legal-name", "A SAS", "--siren", "732829320"]
    assert main([*args, "--address", "1 rue X", "--json"]) == 0
    out = capsys.readouterr()
    merchant_id = json.loads(out.out)["merchant_id"]
    assert "running demo's Redis" in out.err
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        assert client.get(keys.merchant(merchant_id))
    finally:
        client.close()
    assert not (tmp_path / "redis").exists()  # no second embedded Redis was started


async def test_a_busy_port_is_one_clear_line() -> None:
    import socket

    from bot.runtime import run_site

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=rf"port {port} is already in use.*--port N"):
            await run_site(web.Application(), "127.0.0.1", port)


def test_merchant_iban_is_checked_then_stored_and_can_be_changed(
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    args = ["merchant", "create", "--name", "A", "--legal-name", "A SAS", "--siren", "732829320"]
    args += ["--address", "1 rue X", "--json"]
    assert main([*args, "--iban", "FR7630006000011234567890188"]) == 2
    assert "invalid IBAN" in capsys.readouterr().err
    assert main([*args, "--iban", "fr76 3000 6000 0112 3456 7890 189"]) == 0
    merchant_id = json.loads(capsys.readouterr().out)["merchant_id"]
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        assert json.loads(client.get(keys.merchant(merchant_id)))["iban"] == (
            "FR7630006000011234567890189"
        )
        assert main(["merchant", "set-iban", "--merchant", merchant_id]) == 0
        assert json.loads(client.get(keys.merchant(merchant_id)))["iban"] is None
        assert (
            main(
                [
                    "merchant",
                    "set-iban",
                    "--merchant",
                    "m_nobody",
                    "--iban",
                    "DE89370400440532013000",
                ]
            )
            == 2
        )
    finally:
        client.close()


def test_sender_options_take_an_own_twilio_account_with_the_token_from_stdin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`--sms-auth-token -` keeps the token out of the shell history; the WhatsApp sender's
    template ContentSids come from a JSON file."""
    import io

    from bot.cli import _sender_fields

    sids = tmp_path / "sids.json"
    sids.write_text(json.dumps({"facto_invoice:fr": "HX" + "1" * 32}), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO("the-token-from-stdin\n"))
    args = build_parser().parse_args(
        [
            "merchant",
            "set-sender",
            "--merchant",
            "m_1",
            "--sms-from",
            "+33700000011",
            "--sms-account-sid",
            "AC" + "b" * 32,
            "--sms-auth-token",
            "-",
            "--whatsapp-from",
            "+33700000011",
            "--whatsapp-account-sid",
            "AC" + "b" * 32,
            "--whatsapp-auth-token",
            "given-on-the-line",
            "--whatsapp-content-sids",
            str(sids),
        ]
    )
    fields = _sender_fields(args)
    assert fields["sms"]["account_sid"] == "AC" + "b" * 32
    assert fields["sms"]["auth_token"] == "the-token-from-stdin"
    assert fields["whatsapp"]["auth_token"] == "given-on-the-line"
    assert fields["whatsapp"]["content_sids"] == {"facto_invoice:fr": "HX" + "1" * 32}
