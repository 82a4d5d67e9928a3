"""Invoice PDFs rendered off the request path: once, archived, then served as archived.

Issuing an invoice queues a render job (`queue_render`, on the issue's follow-up pipeline, so
an API process that dies before it is finished by the worker's announcement backstop). The
worker's `Archiver` reads the job, renders the PDF and archives it; a download that comes
before it renders the PDF itself. Either way `render_once` does it under a lock on the
merchant's slot: one process renders while the others wait for its archive, and a renderer
that dies lets its lock lapse, so the next one renders. The archive is written once (SET NX),
so whatever the races, one version is kept and every download is that version, byte for byte.

A job is acknowledged once the archive exists (or the invoice is gone): a job left by a dead
worker is reclaimed, and a job run twice finds the archive and renders nothing.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from bot.engine.lease import RELEASE_IF_OURS
from bot.engine.lua import Lua
from bot.logs import log_fields
from bot.store import documents, keys
from bot.store.documents import Kind
from bot.store.invoices import get_invoice
from payments.invoice import Invoice

log = logging.getLogger(__name__)

# Far longer than a render takes, even on a loaded machine; a dead renderer's lock lapses then.
RENDER_LOCK_MS = 30_000
POLL_SECONDS = 0.05  # a waiting download looks for the renderer's archive this often
RECLAIM_IDLE_MS = 60_000  # a job read by a worker that died is taken over after this
BATCH = 10
STREAM_MAXLEN = 100_000  # a job trimmed away is rendered on its first download instead

# The archive if there is one; otherwise take the render lock. KEYS: archive, lock.
# ARGV: token, ttl ms. Returns {archive or false, 1 if the lock is now ours}.
_ARCHIVED_OR_LOCK = Lua(
    """
local pdf = redis.call('GET', KEYS[1])
if pdf then return {pdf, 0} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {false, 1} end
return {false, 0}
"""
)
_RELEASE = Lua(RELEASE_IF_OURS)

Render = Callable[[], bytes]
ArchiveInvoice = Callable[[Invoice], Awaitable[bytes]]


def queue_render(pipe: aioredis.client.Pipeline, merchant_id: str, invoice_id: str) -> None:
    """Ask a worker to archive the invoice's PDF (on the caller's pipeline, not a MULTI)."""
    pipe.xadd(
        keys.DOCUMENTS_STREAM,
        {"merchant": merchant_id, "invoice": invoice_id},
        maxlen=STREAM_MAXLEN,
        approximate=True,
    )


async def render_once(
    redis: aioredis.Redis, merchant_id: str, kind: Kind, doc_id: str, render: Render
) -> bytes:
    """The archived PDF, rendered and archived first if it is not yet, by one process only.

    `render` runs in a thread: a PDF takes tens of milliseconds of CPU, which the event loop
    (sends, dispatch, other requests) does not wait for.
    """
    archive = keys.document_pdf(merchant_id, kind, doc_id)
    lock = keys.document_render_lock(merchant_id, kind, doc_id)
    token = secrets.token_hex(8)
    while True:
        answer = await _ARCHIVED_OR_LOCK(redis, [archive, lock], [token, RENDER_LOCK_MS])
        assert isinstance(answer, list)
        stored, ours = answer
        if stored is not None:
            return documents.decode(stored)
        if ours:
            try:
                pdf = await asyncio.to_thread(render)
                return await documents.archive(redis, merchant_id, kind, doc_id, pdf)
            finally:
                await _RELEASE(redis, [lock], [token])
        # Another process is rendering it: its archive comes, or its lock lapses (it died).
        await asyncio.sleep(POLL_SECONDS)


class Archiver:
    """The worker's side: archives the PDF of each invoice issued, off the request path."""

    def __init__(self, redis: aioredis.Redis, consumer: str, archive: ArchiveInvoice) -> None:
        self._redis = redis
        self._consumer = consumer
        self._archive = archive  # renders and archives once (the web's `invoice_pdf_of`)

    async def ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(
                keys.DOCUMENTS_STREAM, keys.DOCUMENTS_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def run_once(self, block_ms: int | None = None, *, pending: bool = False) -> int:
        """Archive the jobs waiting; with `pending`, those this consumer left unacknowledged."""
        entries = await self._redis.xreadgroup(
            keys.DOCUMENTS_GROUP,
            self._consumer,
            {keys.DOCUMENTS_STREAM: "0" if pending else ">"},
            count=BATCH,
            block=block_ms,
        )
        return await self._handle([e for _stream, batch in entries or [] for e in batch])

    async def reclaim(self, min_idle_ms: int = RECLAIM_IDLE_MS) -> int:
        """Take over the jobs a dead worker read and never finished."""
        _cursor, claimed, *_ = await self._redis.xautoclaim(
            keys.DOCUMENTS_STREAM,
            keys.DOCUMENTS_GROUP,
            self._consumer,
            min_idle_ms,
            "0-0",
            count=BATCH,
        )
        return await self._handle(claimed)

    async def _handle(self, entries: Sequence[tuple[str, dict[str, str] | None]]) -> int:
        for entry_id, fields in entries:
            if fields:  # None: trimmed from the stream, nothing to do
                await self._one(fields.get("merchant", ""), fields.get("invoice", ""))
            # Done: nothing keeps a finished job (the archive is the record).
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.xack(keys.DOCUMENTS_STREAM, keys.DOCUMENTS_GROUP, entry_id)
                pipe.xdel(keys.DOCUMENTS_STREAM, entry_id)
                await pipe.execute()
        return len(entries)

    async def _one(self, merchant_id: str, invoice_id: str) -> None:
        invoice = await get_invoice(self._redis, merchant_id, invoice_id)
        if invoice is None:
            return
        try:
            await self._archive(invoice)
        except RedisError:
            raise  # left unacknowledged: the job comes back with the reclaim
        except Exception:
            # A rendering bug must not block the jobs behind it; the first download tries again.
            log.exception(
                "invoice PDF could not be rendered", extra=log_fields(invoice=invoice_id)
            )
