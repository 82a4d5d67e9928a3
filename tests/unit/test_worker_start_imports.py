"""A worker restarting with a backlog sends its first reply within a second, interpreter
start-up included (issue 12): it does not import at start what no reply needs. The PDF stack,
the web app and aiohttp's server side, the console's logins, IBAN and QR tables, the Stripe
and Telegram SDKs and the holiday tables are imported by the first job that uses them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import runtime
from bot.embedded_redis import EmbeddedRedis
from tests.unit.test_no_sandbox_in_production import _modules_once_started

# Package -> what pulls it in; a started worker holds none of them.
NOT_AT_START = {
    "fpdf": "the invoice PDF (archived by the first job, bot.runtime._archive_invoice)",
    "PIL": "merchants' logos on the PDF",
    "facturx": "the Factur-X XML of the PDF",
    "lxml": "the Factur-X XML of the PDF",
    "bot.web": "the web app",
    "aiohttp.web": "aiohttp's server side (bot.runtime.run_site; the worker only sends)",
    "bot.store.users": "console logins",
    "argon2": "console passwords",
    "pyotp": "console second factor",
    "schwifty": "IBAN checks (operator commands, invoice pages)",
    "segno": "transfer QR codes (pages)",
    "stripe": "the Stripe SDK (the first payment looked up)",
    "holidays": "marketing quiet days (the first campaign message)",
    "telegram": "python-telegram-bot (the first Telegram send)",
    "httpx": "python-telegram-bot's HTTP client",
    "numpy": "the intent model (flows.intent_model: the first reading the rules are unsure of)",
}


def _held(modules: list[str], package: str) -> bool:
    return any(name == package or name.startswith(package + ".") for name in modules)


def test_a_started_worker_has_not_imported_what_no_reply_needs(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    modules = _modules_once_started("python -m bot worker", redis_server.url, tmp_path, {})
    held = {package: why for package, why in NOT_AT_START.items() if _held(modules, package)}
    assert held == {}
    assert "bot.engine.worker" in modules  # the check ran on a worker that got this far


def test_the_check_sees_them_in_the_web_process(
    redis_server: EmbeddedRedis, tmp_path: Path
) -> None:
    """The same check on `python -m bot serve`, which renders pages and PDFs on request,
    finds most of them: the test above can fail. The web loads the SDKs its requests use
    before it listens (bot.runtime.REQUEST_SDKS), so no request pays for their import."""
    modules = _modules_once_started("python -m bot serve", redis_server.url, tmp_path, {})
    assert {"fpdf", "bot.web", "bot.store.users", "argon2", "stripe", "telegram"} <= {
        package for package in NOT_AT_START if _held(modules, package)
    }


async def test_the_worker_archiver_renders_through_the_web_renderer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.web import documents

    calls: list[tuple[object, object]] = []

    async def rendered(services: object, invoice: object) -> bytes:
        calls.append((services, invoice))
        return b"%PDF"

    monkeypatch.setattr(documents, "invoice_pdf_of", rendered)
    services, invoice = object(), object()
    assert await runtime._archive_invoice(services, invoice) == b"%PDF"  # type: ignore[arg-type]
    assert calls == [(services, invoice)]


def test_the_lexicon_compiles_a_category_when_it_is_first_read() -> None:
    """The recognizer's first message reads about a third of the categories: the others are
    not compiled for it (a quarter of a second of CPU for all of them)."""
    from flows.intent_words import CompiledOnUse

    patterns = CompiledOnUse({"yes": ["oui", "yes"], "no": ["non", "no"]})
    assert list(patterns) == ["yes", "no"] and len(patterns) == 2
    assert patterns["yes"].search("bah oui") is not None
    assert patterns["yes"] is patterns["yes"]  # compiled once
    assert patterns.get("nope") is None
