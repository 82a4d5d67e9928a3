"""Accounting export and Factur-X through the API and the CLI (issue 14)."""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis.asyncio as aioredis

from bot.embedded_redis import EmbeddedRedis
from payments.facturx import check
from tests.scenario.harness import Facto, invoice_body, start_facto

ROOT = Path(__file__).resolve().parents[2]
WEDNESDAY = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
TG = ("telegram", "424242")
LINES = [
    {"description": "Canapé", "quantity": 1, "unit_amount": 12000, "vat_rate": "20"},
    {"description": "Livre", "quantity": 2, "unit_amount": 1000, "vat_rate": "5.5"},
]


@pytest.fixture
async def shop(redis_server: EmbeddedRedis, redis: aioredis.Redis) -> AsyncIterator[Facto]:
    app = await start_facto(redis_server.url, redis, now=WEDNESDAY)
    await app.add_merchant(iban="FR7630006000011234567890189")
    yield app
    await app.client.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def paid_and_refunded(shop: Facto) -> dict[str, str]:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    checkout = await shop.client.post(urlparse(created["pay_url"]).path, allow_redirects=False)
    session = urlparse(checkout.headers["Location"]).path
    await shop.client.post(f"{session}/card")
    await shop.drain()
    await shop.client.post(f"{session}/refund", data={"amount": "4000"})
    await shop.drain()
    return created


async def export(shop: Facto, query: str, key: str | None = None) -> tuple[int, str]:
    response = await shop.client.get(
        f"/api/v1/exports/accounting?{query}", headers=auth(key or shop.api_key)
    )
    return response.status, await response.text()


async def test_the_accounting_csv_has_the_invoice_its_payment_and_its_credit_note(
    shop: Facto,
) -> None:
    created = await paid_and_refunded(shop)
    status, text = await export(shop, "from=2026-11-01&to=2026-11-30")
    assert status == 200, text
    table = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    number = created["number"]
    kinds = sorted((r["type"], r["vat_rate"], r["gross"]) for r in table)
    assert kinds == [
        ("credit_note", "20", "-34.89"),
        ("credit_note", "5.5", "-5.11"),
        ("invoice", "20", "144.00"),
        ("invoice", "5.5", "21.10"),
        ("payment", "", "165.10"),
    ]
    assert {r["invoice"] for r in table} == {number}
    assert {r["date"] for r in table} == {"2026-11-18"}
    assert next(r for r in table if r["type"] == "payment")["payment_reference"].startswith("pi_")

    status, text = await export(shop, "from=2026-12-01&to=2026-12-31")
    assert (status, text.count("\n")) == (200, 1)  # the header only

    _, other_key = await shop.add_merchant(name="Autre")
    status, text = await export(shop, "from=2026-11-01&to=2026-11-30", other_key)
    assert (status, text.count("\n")) == (200, 1)  # another merchant sees none of it


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("to=2026-11-30", "required"),
        ("from=2026-11-01", "required"),
        ("from=2026-11-31&to=2026-12-01", "YYYY-MM-DD"),
        ("from=yesterday&to=2026-12-01", "YYYY-MM-DD"),
        ("from=2026-12-01&to=2026-11-01", "before"),
        ("from=2025-01-01&to=2026-12-31", "366"),
        ("from=2026-11-01&to=2026-11-30&format=xlsx", "unknown query parameter: format"),
    ],
)
async def test_a_bad_period_is_a_precise_400(shop: Facto, query: str, says: str) -> None:
    status, text = await export(shop, query)
    assert status == 400
    assert says in text


async def test_exports_need_an_api_key(shop: Facto) -> None:
    response = await shop.client.get("/api/v1/exports/accounting?from=2026-11-01&to=2026-11-30")
    assert response.status == 401
    response = await shop.client.get("/api/v1/invoices/x/factur-x")
    assert response.status == 401


async def test_the_factur_x_xml_of_an_invoice_is_valid_and_scoped(shop: Facto) -> None:
    created = await shop.issue(invoice_body(*TG, lines=LINES))
    url = f"/api/v1/invoices/{created['id']}/factur-x"
    response = await shop.client.get(url, headers=auth(shop.api_key))
    assert response.status == 200
    assert response.content_type == "application/xml"
    xml = await response.read()
    check(xml)
    assert created["number"].encode() in xml and b"FR7630006000011234567890189" in xml
    _, other_key = await shop.add_merchant(name="Autre")
    assert (await shop.client.get(url, headers=auth(other_key))).status == 404
    missing = "/api/v1/invoices/inv_nope/factur-x"
    assert (await shop.client.get(missing, headers=auth(shop.api_key))).status == 404


async def run_cli(*argv: str) -> tuple[int, str]:
    """The CLI as a user runs it, in its own process: its asyncio.run stays out of this loop."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *argv,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    _, errors = await process.communicate()
    assert process.returncode is not None
    return process.returncode, errors.decode(errors="replace")


async def test_the_cli_writes_the_same_csv_and_xml(
    shop: Facto,
    redis_server: EmbeddedRedis,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    created = await paid_and_refunded(shop)
    assert shop.merchant is not None
    merchant = shop.merchant.id
    out = tmp_path / "nov.csv"
    period = ["--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)]
    code, errors = await run_cli("export", "accounting", "--merchant", merchant, *period)
    assert code == 0, errors
    _, text = await export(shop, "from=2026-11-01&to=2026-11-30")
    assert out.read_bytes() == text.encode()
    xml = tmp_path / "f.xml"
    argv = ["export", "factur-x", "--merchant", merchant, "--invoice", created["id"]]
    code, errors = await run_cli(*argv, "--out", str(xml))
    assert code == 0, errors
    check(xml.read_bytes())
    code, errors = await run_cli(
        "export", "accounting", "--merchant", merchant, "--from", "x", "--to", "y"
    )
    assert code == 2 and "error: " in errors
    nobody = ["export", "factur-x", "--merchant", "m_nobody", "--invoice", created["id"]]
    code, errors = await run_cli(*nobody)
    assert code == 2 and "error: no merchant m_nobody\n" in errors
