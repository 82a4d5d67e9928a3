"""Issue 12: the invoice PDF is rendered off the API's request path, once, and archived as is.

The API only queues a job; the worker renders and archives the PDF; a download that comes first
renders it itself. Whoever does it, under concurrency or after a crash, the PDF is rendered
once and every download is the archived bytes.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

import bot.web.documents as web_documents
from bot.engine.documents import Archiver
from bot.store import keys
from bot.web.app_keys import SERVICES
from tests.scenario.harness import Facto, invoice_body

Renders = list[str]


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[Renders]:
    """The invoice ids rendered, one entry per render (wherever it ran)."""
    rendered: Renders = []
    original = web_documents.render_invoice

    def counted(services: Any, invoice: Any, iban: str | None, logo: bytes | None) -> bytes:
        rendered.append(invoice.id)
        return original(services, invoice, iban, logo)

    monkeypatch.setattr(web_documents, "render_invoice", counted)
    yield rendered


async def create(facto: Facto) -> dict[str, Any]:
    """POST an invoice; nothing else runs (no worker step)."""
    response = await facto.post_invoice(invoice_body("telegram", 515151))
    assert response.status == 201, await response.text()
    created: dict[str, Any] = await response.json()
    return created


async def archived(facto: Facto, invoice_id: str) -> bytes | None:
    assert facto.merchant is not None
    raw = await facto.redis.get(keys.document_pdf(facto.merchant.id, "invoice", invoice_id))
    return base64.b64decode(raw) if raw is not None else None


async def download(facto: Facto, created: dict[str, Any]) -> bytes:
    response = await facto.client.get(urlparse(created["invoice_url"]).path + "/pdf")
    assert response.status == 200, await response.text()
    assert response.content_type == "application/pdf"
    return await response.read()


async def test_creating_an_invoice_renders_nothing_the_worker_archives_it(
    facto: Facto, renders: Renders
) -> None:
    created = await create(facto)
    assert renders == []  # not on the request path
    assert await archived(facto, created["id"]) is None

    await facto.drain()
    assert renders == [created["id"]]
    stored = await archived(facto, created["id"])
    assert stored is not None and stored.startswith(b"%PDF")
    assert await download(facto, created) == stored
    assert await download(facto, created) == stored
    await facto.drain()
    assert renders == [created["id"]]  # rendered once, ever
    pending = await facto.redis.xpending(keys.DOCUMENTS_STREAM, keys.DOCUMENTS_GROUP)
    assert pending["pending"] == 0
    assert await facto.redis.xlen(keys.DOCUMENTS_STREAM) == 0  # finished jobs are not kept


async def test_a_download_before_the_worker_renders_and_archives_it_once(
    facto: Facto, renders: Renders
) -> None:
    created = await create(facto)
    first = await download(facto, created)
    assert renders == [created["id"]]
    assert await archived(facto, created["id"]) == first

    await facto.drain()  # the worker's job finds it archived
    assert renders == [created["id"]]
    assert await download(facto, created) == first


async def test_downloads_racing_the_worker_render_it_once(facto: Facto, renders: Renders) -> None:
    created = await create(facto)
    archiver = facto.worker.archiver
    assert archiver is not None
    *downloads, _jobs = await asyncio.gather(
        *(download(facto, created) for _ in range(6)), archiver.run_once()
    )
    assert renders == [created["id"]]
    stored = await archived(facto, created["id"])
    assert stored is not None
    assert all(pdf == stored for pdf in downloads)


async def test_a_job_left_by_a_dead_worker_is_taken_over(facto: Facto, renders: Renders) -> None:
    created = await create(facto)
    services = facto.client.app[SERVICES]
    # Another worker reads the job and dies before archiving it (never acknowledged).
    doomed = await facto.redis.xreadgroup(
        keys.DOCUMENTS_GROUP, "dead-worker", {keys.DOCUMENTS_STREAM: ">"}, count=10
    )
    assert len(doomed[0][1]) == 1
    await facto.drain()
    assert renders == []  # the job is the dead worker's, not ours

    survivor = Archiver(services.redis, "survivor", web_documents.invoice_archiver(services))
    assert await survivor.reclaim(min_idle_ms=0) == 1
    assert renders == [created["id"]]
    assert await archived(facto, created["id"]) == await download(facto, created)
    pending = await facto.redis.xpending(keys.DOCUMENTS_STREAM, keys.DOCUMENTS_GROUP)
    assert pending["pending"] == 0
    assert await survivor.reclaim(min_idle_ms=0) == 0


async def test_a_renderer_that_died_holding_the_lock_delays_the_pdf_only_until_it_lapses(
    facto: Facto, renders: Renders
) -> None:
    created = await create(facto)
    assert facto.merchant is not None
    lock = keys.document_render_lock(facto.merchant.id, "invoice", created["id"])
    await facto.redis.set(lock, "a-renderer-that-died", px=150)
    pdf = await download(facto, created)
    assert renders == [created["id"]]
    assert await archived(facto, created["id"]) == pdf
    assert await facto.redis.exists(lock) == 0
